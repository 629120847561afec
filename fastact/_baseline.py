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
}
