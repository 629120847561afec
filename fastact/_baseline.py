"""The NumPy expressions a user would write instead of fastact.

The expressions are the registry records' ``numpy`` fields (and those of
their ``variant_exprs``), text over ``x`` (or ``y``), ``g`` and ``p``; this
module compiles each into a function with NumPy and the helpers below in
scope.  Shared by ``python -m fastact bench``, benchmarks/ and the tests (as
a second, independent reference): ``NUMPY`` is keyed by the bench's row
label (the registry name, or ``name[variant]`` such as ``gelu[tanh]`` and
``rrelu[train]``) and direction: "forward", "x" (backward from the input)
and "y" (backward from the output).  Each takes (x_or_y, grad, params) and
returns a new array (a tuple for prelu's backward: grad_x, grad_weight).
params holds the keyword arguments of the fastact call, arrays included
(prelu's weight, rrelu's noise from the training forward).
"""
from __future__ import annotations

import math

import numpy as np


SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946
GELU_C = math.sqrt(2 / math.pi)


def erf(x):
    # NumPy has no erf: what a NumPy user would reach for is scipy.special.erf,
    # or math.erf elementwise
    try:
        from scipy.special import erf
    except ImportError:
        return np.vectorize(math.erf, otypes=[x.dtype])(x)
    return erf(x)


def elementwise_helpers(xp, erf_fn, wrap=lambda f: f) -> dict:
    """The helpers the elementwise expressions call, written over an array
    namespace xp (NumPy here; jax.numpy and numba for the benchmark's other
    columns), each passed through wrap (numba.njit) as it is made."""
    def sigmoid(x):
        return 1 / (1 + xp.exp(-x))
    sigmoid = wrap(sigmoid)

    def mish_grad(x):
        sp = xp.logaddexp(0, x)
        t = xp.tanh(sp)
        return t + x * sigmoid(x) * (1 - t * t)

    def gelu_tanh_grad(x):
        t = xp.tanh(GELU_C * (x + 0.044715 * x**3))
        return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * GELU_C * (1 + 3 * 0.044715 * x**2)

    out = {"np": xp, "math": math, "sigmoid": sigmoid, "mish_grad": wrap(mish_grad),
           "gelu_tanh_grad": wrap(gelu_tanh_grad), "GELU_C": GELU_C,
           "SELU_ALPHA": SELU_ALPHA, "SELU_SCALE": SELU_SCALE}
    if erf_fn is not None:
        out["erf"] = erf_fn
    return out


_ELEMENTWISE = elementwise_helpers(np, erf)
sigmoid = _ELEMENTWISE["sigmoid"]


def glu(x, axis):
    a, b = np.split(x, 2, axis=axis)
    return a * sigmoid(b)


def glu_grad(x, g, axis):
    a, b = np.split(x, 2, axis=axis)
    s = sigmoid(b)
    return np.concatenate([g * s, g * a * s * (1 - s)], axis=axis)


def _gate(name, p):
    """The NumPy expressions (forward, backward from x) of a gated unit's gate."""
    from fastact._registry import BY_NAME
    gate = BY_NAME[name].extra["gate"]
    return NUMPY[f"{gate}[tanh]" if p.get("approximate", "none") == "tanh" else gate]


def gated(x, name, p):
    """swiglu, geglu, reglu: gate(a) * b on the halves a, b of x."""
    a, b = np.split(x, 2, axis=p.get("axis", -1))
    return _gate(name, p)["forward"](a, None, {}) * b


def gated_grad(x, g, name, p):
    axis = p.get("axis", -1)
    a, b = np.split(x, 2, axis=axis)
    f = _gate(name, p)
    return np.concatenate([f["x"](a, g * b, {}), g * f["forward"](a, None, {})], axis=axis)


def _groups(x, pieces, axis):
    """x with its axis split into (k // pieces, pieces), the pieces last."""
    axis = axis % x.ndim
    xm = np.moveaxis(x, axis, -1)
    return xm.reshape(xm.shape[:-1] + (xm.shape[-1] // pieces, pieces)), axis


def maxout(x, pieces, axis):
    xg, axis = _groups(x, pieces, axis)
    return np.moveaxis(xg.max(axis=-1), -1, axis)


def maxout_grad(x, g, pieces, axis):
    xg, axis = _groups(x, pieces, axis)
    idx = xg.argmax(axis=-1)[..., None]                # the first maximum of each group
    out = np.zeros_like(xg)
    np.put_along_axis(out, idx, np.moveaxis(g, axis, -1)[..., None], axis=-1)
    return np.moveaxis(out.reshape(out.shape[:-2] + (-1,)), -1, axis)


def channel(w, x):
    """prelu's weight shaped to broadcast along x's axis 1, as torch does."""
    return w.reshape((-1,) + (1,) * (x.ndim - 2)) if x.ndim >= 2 else w


def prelu_grad(x, g, w):
    wc = channel(w, x)
    gx = np.where(x > 0, g, wc * g)
    axes = tuple(i for i in range(x.ndim) if i != 1) if x.ndim >= 2 else None
    gw = np.where(x > 0, 0, x * g).sum(axis=axes)
    return gx, np.reshape(gw, w.shape).astype(x.dtype)


def rrelu_train(x, p):
    rng = np.random.default_rng(p["rng"])
    if x.dtype != np.float64:           # float32 draws, as fastact makes them
        lo, hi = np.float32(p["lower"]), np.float32(p["upper"])
        a = np.minimum(rng.random(x.shape, dtype=np.float32) * (hi - lo) + lo, hi).astype(x.dtype)
    else:
        a = rng.uniform(p["lower"], p["upper"], x.shape).astype(x.dtype)
    return np.where(x > 0, x, x * a)


def softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


# The names an expression sees: NumPy and the helpers above.
NAMESPACE = {**_ELEMENTWISE, "softmax": softmax, "glu": glu, "glu_grad": glu_grad,
             "gated": gated, "gated_grad": gated_grad,
             "maxout": maxout, "maxout_grad": maxout_grad, "channel": channel,
             "prelu_grad": prelu_grad, "rrelu_train": rrelu_train}


def compile_exprs(table: dict, namespace: dict, where: str) -> dict:
    """{direction: expression text} -> {direction: function (a, g, p)}; the
    name of the first argument is x, or y for the backward from y."""
    out = {}
    for direction, text in table.items():
        arg = "y" if direction == "y" else "x"
        src = f"lambda {arg}, g, p: {text}"
        out[direction] = eval(compile(src, f"<{where} {direction}>", "eval"), namespace)
    return out


def labelled(kind: str, namespace: dict, records=None) -> dict:
    """{row label: {direction: function}} of the records' `kind` expressions
    ("numpy" or "torch"): the record's own under its name, each of its
    variant_exprs under name[variant]."""
    from fastact._registry import ACTIVATIONS
    out = {}
    for rec in (ACTIVATIONS if records is None else records):
        for variant in ("",) + tuple(rec.variant_exprs):
            table = rec.exprs(variant)[kind]
            if table:
                label = f"{rec.name}[{variant}]" if variant else rec.name
                out[label] = compile_exprs(table, namespace, f"{kind} {label}")
    return out


NUMPY = labelled("numpy", NAMESPACE)
