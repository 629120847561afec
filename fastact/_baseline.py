"""The NumPy expressions a user would write instead of fastact.

Shared by ``python -m fastact bench``, benchmarks/ and the tests (as a
second, independent reference), keyed by registry name and direction:
"forward", "x" (backward from the input) and "y" (backward from the output).
Each takes (x_or_y, grad, params) and returns a new array.
"""
from __future__ import annotations

import numpy as np


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


NUMPY = {
    "sigmoid": {
        "forward": lambda x, g, p: 1 / (1 + np.exp(-x)),
        "x": lambda x, g, p: g * _sigmoid(x) * (1 - _sigmoid(x)),
        "y": lambda y, g, p: g * y * (1 - y),
    },
    "tanh": {
        "forward": lambda x, g, p: np.tanh(x),
        "x": lambda x, g, p: g * (1 - np.tanh(x) ** 2),
        "y": lambda y, g, p: g * (1 - y * y),
    },
    "relu": {
        "forward": lambda x, g, p: np.maximum(x, 0),
        "x": lambda x, g, p: g * (x > 0),
        "y": lambda y, g, p: g * (y > 0),
    },
    "leaky_relu": {
        "forward": lambda x, g, p: np.where(x > 0, x, x * p["negative_slope"]),
        "x": lambda x, g, p: np.where(x > 0, g, g * p["negative_slope"]),
    },
    "elu": {
        "forward": lambda x, g, p: np.where(x > 0, x, p["alpha"] * np.expm1(x)),
        "x": lambda x, g, p: np.where(x > 0, g, g * p["alpha"] * np.exp(x)),
        "y": lambda y, g, p: np.where(y > 0, g, g * (y + p["alpha"])),
    },
    "softmax": {
        "forward": lambda x, g, p: _softmax(x, p.get("axis", -1)),
        "y": lambda y, g, p: y * (g - (g * y).sum(axis=p.get("axis", -1), keepdims=True)),
    },
    "log_softmax": {
        "forward": lambda x, g, p: np.log(_softmax(x, p.get("axis", -1))),
        "y": lambda y, g, p: g - np.exp(y) * g.sum(axis=p.get("axis", -1), keepdims=True),
    },
    "softmin": {
        "forward": lambda x, g, p: _softmax(-x, p.get("axis", -1)),
        "y": lambda y, g, p: -y * (g - (g * y).sum(axis=p.get("axis", -1), keepdims=True)),
    },
    # ---- piecewise-linear catalogue ----
    "relu6": {
        "forward": lambda x, g, p: np.clip(x, 0, 6),
        "x": lambda x, g, p: g * ((x > 0) & (x < 6)),
    },
    "hardsigmoid": {
        "forward": lambda x, g, p: np.clip(x + 3, 0, 6) / 6,
        "x": lambda x, g, p: g * ((x > -3) & (x < 3)) / 6,
    },
    "hardswish": {
        "forward": lambda x, g, p: x * np.clip(x + 3, 0, 6) / 6,
        "x": lambda x, g, p: np.where(x <= -3, 0, np.where(x < 3, g * (2 * x + 3) / 6, g)),
    },
    "hardtanh": {
        "forward": lambda x, g, p: np.clip(x, p["min_val"], p["max_val"]),
        "x": lambda x, g, p: g * ((x > p["min_val"]) & (x < p["max_val"])),
    },
    "softshrink": {
        "forward": lambda x, g, p: np.where(np.abs(x) > p["lambd"], x - np.sign(x) * p["lambd"], 0),
        "x": lambda x, g, p: g * (np.abs(x) > p["lambd"]),
    },
    "hardshrink": {
        "forward": lambda x, g, p: np.where(np.abs(x) > p["lambd"], x, 0),
        "x": lambda x, g, p: g * (np.abs(x) > p["lambd"]),
    },
    "threshold": {
        "forward": lambda x, g, p: np.where(x > p["threshold"], x, p["value"]),
        "x": lambda x, g, p: g * (x > p["threshold"]),
    },
}
