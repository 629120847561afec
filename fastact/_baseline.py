"""The NumPy expressions a user would write instead of fastact.

Shared by ``python -m fastact bench``, benchmarks/ and the tests (as a
second, independent reference), keyed by the bench's row label (the registry
name, or ``name[variant]`` such as ``gelu[tanh]`` and ``rrelu[train]``) and
direction: "forward", "x" (backward from the input) and "y" (backward from
the output).  Each takes (x_or_y, grad, params) and returns a new array (a
tuple for prelu's backward: grad_x, grad_weight).  params holds the keyword
arguments of the fastact call, arrays included (prelu's weight, rrelu's
noise from the training forward).
"""
from __future__ import annotations

import math

import numpy as np


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


_SELU_A = 1.6732632423543772848170429916717
_SELU_S = 1.0507009873554804934193349852946


def _erf(x):
    # NumPy has no erf: what a NumPy user would reach for is scipy.special.erf,
    # or math.erf elementwise
    try:
        from scipy.special import erf
    except ImportError:
        return np.vectorize(math.erf, otypes=[x.dtype])(x)
    return erf(x)


def _mish_grad(x):
    sp = np.logaddexp(0, x)
    t = np.tanh(sp)
    return t + x * _sigmoid(x) * (1 - t * t)


_GELU_C = math.sqrt(2 / math.pi)


def _gelu_tanh_grad(x):
    t = np.tanh(_GELU_C * (x + 0.044715 * x**3))
    return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * _GELU_C * (1 + 3 * 0.044715 * x**2)


def _glu_grad(x, g, axis):
    a, b = np.split(x, 2, axis=axis)
    s = _sigmoid(b)
    return np.concatenate([g * s, g * a * s * (1 - s)], axis=axis)


def _groups(x, pieces, axis):
    """x with its axis split into (k // pieces, pieces), the pieces last."""
    axis = axis % x.ndim
    xm = np.moveaxis(x, axis, -1)
    return xm.reshape(xm.shape[:-1] + (xm.shape[-1] // pieces, pieces)), axis


def _maxout(x, pieces, axis):
    xg, axis = _groups(x, pieces, axis)
    return np.moveaxis(xg.max(axis=-1), -1, axis)


def _maxout_grad(x, g, pieces, axis):
    xg, axis = _groups(x, pieces, axis)
    idx = xg.argmax(axis=-1)[..., None]                # the first maximum of each group
    out = np.zeros_like(xg)
    np.put_along_axis(out, idx, np.moveaxis(g, axis, -1)[..., None], axis=-1)
    return np.moveaxis(out.reshape(out.shape[:-2] + (-1,)), -1, axis)


def _channel(w, x):
    """prelu's weight shaped to broadcast along x's axis 1, as torch does."""
    return w.reshape((-1,) + (1,) * (x.ndim - 2)) if x.ndim >= 2 else w


def _prelu_grad(x, g, w):
    wc = _channel(w, x)
    gx = np.where(x > 0, g, wc * g)
    axes = tuple(i for i in range(x.ndim) if i != 1) if x.ndim >= 2 else None
    gw = np.where(x > 0, 0, x * g).sum(axis=axes)
    return gx, np.reshape(gw, w.shape).astype(x.dtype)


def _rrelu_train(x, p):
    a = np.random.default_rng(p["rng"]).uniform(p["lower"], p["upper"], x.shape).astype(x.dtype)
    return np.where(x > 0, x, x * a)


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
    # --- cat1 ---
    "silu": {
        "forward": lambda x, g, p: x / (1 + np.exp(-x)),
        "x": lambda x, g, p: g * _sigmoid(x) * (1 + x * (1 - _sigmoid(x))),
    },
    "mish": {
        "forward": lambda x, g, p: x * np.tanh(np.logaddexp(0, x)),
        "x": lambda x, g, p: g * _mish_grad(x),
    },
    "softsign": {
        "forward": lambda x, g, p: x / (1 + np.abs(x)),
        "x": lambda x, g, p: g / (1 + np.abs(x)) ** 2,
    },
    "logsigmoid": {
        "forward": lambda x, g, p: -np.logaddexp(0, -x),
        "x": lambda x, g, p: g * _sigmoid(-x),
    },
    "tanhshrink": {
        "forward": lambda x, g, p: x - np.tanh(x),
        "x": lambda x, g, p: g * np.tanh(x) ** 2,
    },
    "gelu": {
        "forward": lambda x, g, p: 0.5 * x * (1 + _erf(x / np.sqrt(2))),
        "x": lambda x, g, p: g * (0.5 * (1 + _erf(x / np.sqrt(2)))
                                  + x * np.exp(-0.5 * x * x) / np.sqrt(2 * np.pi)),
    },
    "gelu[tanh]": {
        "forward": lambda x, g, p: 0.5 * x * (1 + np.tanh(_GELU_C * (x + 0.044715 * x**3))),
        "x": lambda x, g, p: g * _gelu_tanh_grad(x),
    },
    "selu": {
        "forward": lambda x, g, p: _SELU_S * np.where(x > 0, x, _SELU_A * np.expm1(x)),
        "x": lambda x, g, p: g * _SELU_S * np.where(x > 0, 1, _SELU_A * np.exp(x)),
    },
    "celu": {
        "forward": lambda x, g, p: np.where(x > 0, x, p["alpha"] * np.expm1(x / p["alpha"])),
        "x": lambda x, g, p: np.where(x > 0, g, g * np.exp(x / p["alpha"])),
    },
    "softplus": {
        "forward": lambda x, g, p: np.where(x * p["beta"] > p["threshold"], x,
                                            np.logaddexp(0, x * p["beta"]) / p["beta"]),
        "x": lambda x, g, p: np.where(x * p["beta"] > p["threshold"], g, g * _sigmoid(x * p["beta"])),
    },
    "squareplus": {
        "forward": lambda x, g, p: 0.5 * (x + np.sqrt(x * x + p["b"])),
        "x": lambda x, g, p: g * 0.5 * (1 + x / np.sqrt(x * x + p["b"])),
    },
    # --- end cat1 ---
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
    # ---- along an axis, changing its length; with weights; random ----
    "glu": {
        "forward": lambda x, g, p: (lambda a, b: a * _sigmoid(b))(*np.split(x, 2, axis=p.get("axis", -1))),
        "x": lambda x, g, p: _glu_grad(x, g, p.get("axis", -1)),
    },
    "maxout": {
        "forward": lambda x, g, p: _maxout(x, p["pieces"], p.get("axis", -1)),
        "x": lambda x, g, p: _maxout_grad(x, g, p["pieces"], p.get("axis", -1)),
    },
    "prelu": {
        "forward": lambda x, g, p: np.where(x > 0, x, _channel(p["weight"], x) * x),
        "x": lambda x, g, p: _prelu_grad(x, g, p["weight"]),
    },
    # eval mode: the slope (lower + upper) / 2
    "rrelu": {
        "forward": lambda x, g, p: np.where(x > 0, x, x * ((p["lower"] + p["upper"]) / 2)),
        "x": lambda x, g, p: np.where(x > 0, g, g * ((p["lower"] + p["upper"]) / 2)),
    },
    # training: slopes drawn from rng= (the forward); the backward gets them as
    # noise (1 where x > 0), what rrelu(..., return_noise=True) returns
    "rrelu[train]": {
        "forward": lambda x, g, p: _rrelu_train(x, p),
        "x": lambda x, g, p: g * p["noise"],
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
