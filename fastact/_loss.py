"""The Python side of the fused reductions along an axis: cross_entropy and
logsumexp, forward and backward (the public functions in fastact/_public.py,
generated from the records of fastact/_registry/loss.py, call these).

Arguments are checked and converted here (errors name the function and the
argument), the axis is moved last and the array made C-contiguous (no copy
when it already is), and the kernel (_kernels/_loss.pxi) runs row by row.
A row's value depends on that row only; reductions over rows are summed here
in float64 (pairwise, math.fsum for float64 data): the numbers are the same
whatever the thread count.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from fastact import _api

_REDUCTIONS = ("none", "mean", "sum")
_OPS = {"logsumexp": 20, "logsumexp_backward": 21, "cross_entropy": 22,
        "cross_entropy_backward": 23}


def _rows(fname, x, axis, cdt):
    """x with `axis` moved last, C-contiguous in cdt: (array, axis, batch shape, k)."""
    shape = x.shape if x.ndim else (1,)
    ax = _api._axis(fname, axis, x.ndim)
    k = shape[ax]
    batch = shape[:ax] + shape[ax + 1:]
    if ax == len(shape) - 1 and x.dtype == cdt and x.flags.c_contiguous:
        return x.reshape(shape), ax, batch, k          # the common case: no copy, no view
    moved = np.moveaxis(x.reshape(shape), ax, -1)
    return np.ascontiguousarray(moved, dtype=cdt), ax, batch, k


def _result(out, shape, ax, ndim, cdt):
    """Where an (..., k) result is computed: out itself when it can be (C-contiguous,
    the compute dtype, the class axis last), else a new array."""
    if (out is not None and out.dtype == cdt and out.flags.c_contiguous
            and (ndim <= 1 or ax == ndim - 1)):
        return out.reshape(shape)
    return np.empty(shape, dtype=cdt)


def _data(a):
    return a.__array_interface__["data"][0]


def _back(res, ax, out, rdtype, ndim):
    """An (..., k) result with its last axis moved back to ax, written into out
    if given, in the result dtype."""
    if out is not None and _data(res) == _data(out):     # computed in out (_result)
        return out
    if ndim <= 1:
        r = res.reshape(res.shape[-1:] if ndim else ())
    else:
        r = res if ax == ndim - 1 else np.moveaxis(res, -1, ax)
    if out is not None:
        np.copyto(out, r, casting="unsafe" if rdtype == _api._F16 else "same_kind")
        return out
    return np.ascontiguousarray(r, dtype=rdtype) if r.dtype != rdtype or ax != ndim - 1 else r


def _finish_reduced(res, batch, keep_shape, rdtype, out):
    r = res.reshape(keep_shape)
    if out is not None:
        np.copyto(out, r, casting="unsafe" if rdtype == _api._F16 else "same_kind")
        return out
    r = r.astype(rdtype, copy=False)
    return r[()] if r.ndim == 0 else r


# ------------------------------------------------------------- logsumexp --

def _lse_shapes(fname, a, axis, keepdims):
    ax = _api._axis(fname, axis, a.ndim)
    shape = a.shape if a.ndim else (1,)
    reduced = shape[:ax] + shape[ax + 1:]
    if keepdims:
        reduced = shape[:ax] + (1,) + shape[ax + 1:]
    return reduced if a.ndim else ()


def _keepdims(fname, keepdims):
    if not isinstance(keepdims, (bool, np.bool_)):
        raise TypeError(f"{fname}: keepdims must be a bool, got {type(keepdims).__name__}")
    return bool(keepdims)


def logsumexp(rec, x, axis, keepdims, out):
    """log(sum(exp(x))) along axis: m + log(sum e^(x - m)), m the maximum."""
    fname = rec.name
    keepdims = _keepdims(fname, keepdims)
    a, rdtype = _api._as_array(fname, "x", x)
    rshape = _lse_shapes(fname, a, axis, keepdims)
    if out is not None:
        _api._check_out(fname, out, rshape, rdtype)
    cdt = _api._compute_dtype(rdtype)
    xc, ax, batch, k = _rows(fname, a, axis, cdt)
    n = math.prod(batch)
    res = np.empty(n, dtype=cdt)
    if k == 0:
        res.fill(-np.inf)               # the log of an empty sum, as torch
    elif n:
        _api._K.loss_apply(20, xc, n, k, out=res)
    return _finish_reduced(res, batch, rshape, rdtype, out)


def logsumexp_backward(rec, grad, x, axis, keepdims, out):
    """grad * softmax(x) along axis; grad has logsumexp(x)'s shape."""
    fname = rec.name + "_backward"
    keepdims = _keepdims(fname, keepdims)
    a, rdtype = _api._as_array(fname, "x", x)
    g, _ = _api._as_array(fname, "grad", grad)
    rshape = _lse_shapes(fname, a, axis, keepdims)
    if g.shape != rshape:
        raise ValueError(f"{fname}: grad has shape {g.shape}; expected {rshape}, the shape of "
                         f"logsumexp(x, axis={axis}, keepdims={keepdims}) for x of shape {a.shape}")
    if out is not None:
        _api._check_out(fname, out, a.shape, rdtype)
    cdt = _api._compute_dtype(rdtype)
    xc, ax, batch, k = _rows(fname, a, axis, cdt)
    n = math.prod(batch)
    res = _result(out, xc.shape, ax, a.ndim, cdt)
    if n * k:
        gs = np.ascontiguousarray(g.astype(cdt).reshape(n), dtype=np.float64)
        _api._K.loss_apply(21, xc, n, k, out=res, gs=gs)
    return _back(res, ax, out, rdtype, a.ndim)


# --------------------------------------------------------- cross_entropy --

def _options(fname, reduction, label_smoothing, ignore_index):
    if (reduction in _REDUCTIONS and reduction.__class__ is str and ignore_index.__class__ is int
            and label_smoothing.__class__ is float and 0.0 <= label_smoothing <= 1.0
            and -2**63 <= ignore_index < 2**63):
        return reduction, label_smoothing, ignore_index
    if not isinstance(reduction, str) or reduction not in _REDUCTIONS:
        raise ValueError(f"{fname}: reduction must be one of {', '.join(map(repr, _REDUCTIONS))}, "
                         f"got {reduction!r}")
    if isinstance(label_smoothing, bool) or not isinstance(label_smoothing, numbers.Real):
        raise TypeError(f"{fname}: label_smoothing must be a number in [0, 1], "
                        f"got {type(label_smoothing).__name__}")
    eps = float(label_smoothing)
    if not 0.0 <= eps <= 1.0:
        raise ValueError(f"{fname}: label_smoothing must be a number in [0, 1], got {eps!r}")
    if isinstance(ignore_index, bool) or not isinstance(ignore_index, numbers.Integral):
        raise TypeError(f"{fname}: ignore_index must be an int, got {type(ignore_index).__name__}")
    if not -2**63 <= int(ignore_index) < 2**63:
        raise ValueError(f"{fname}: ignore_index {ignore_index} does not fit in int64")
    return reduction, eps, int(ignore_index)


def _setup(fname, logits, target, axis, weight, ignore_index):
    """The logits as rows, the target (int64 indices per row, or probability
    rows), the weights in float64, and the shapes."""
    a, rdtype = _api._as_array(fname, "logits", logits)
    if a.ndim == 0:
        raise ValueError(f"{fname}: logits must have at least one dimension (the classes)")
    cdt = _api._compute_dtype(rdtype)
    xc, ax, batch, k = _rows(fname, a, axis, cdt)
    if k == 0:
        raise ValueError(f"{fname}: logits has no classes (axis {axis} has length 0)")
    t = np.asarray(target)
    ti = tp = None
    if t.dtype.kind in "iu":
        if t.shape != batch:
            raise ValueError(f"{fname}: target of class indices has shape {t.shape}; expected "
                             f"{batch}, the shape of logits {a.shape} without axis {axis}")
        ti = np.ascontiguousarray(t, dtype=np.int64).reshape(-1)    # checked by the kernel
    elif t.dtype.kind == "f":
        if t.shape != a.shape:
            raise ValueError(f"{fname}: target of class probabilities has shape {t.shape}; "
                             f"expected {a.shape}, the shape of logits")
        tp = np.ascontiguousarray(np.moveaxis(t.reshape(a.shape), ax, -1), dtype=cdt)
    else:
        raise TypeError(f"{fname}: target has dtype {t.dtype}; expected integer class indices "
                        f"(the shape of logits without the class axis) or floating-point "
                        f"probabilities (the shape of logits)")
    w = None
    if weight is not None:
        wa = np.asarray(weight)
        if wa.dtype.kind not in "iuf":
            raise TypeError(f"{fname}: weight has dtype {wa.dtype}; expected a real array")
        if wa.shape != (k,):
            raise ValueError(f"{fname}: weight has shape {wa.shape}; expected ({k},), one weight "
                             f"per class")
        w = np.ascontiguousarray(wa, dtype=np.float64)
    return a, rdtype, cdt, xc, ax, batch, k, ti, tp, w


def _bad_index(fname, ti, k, ignore_index):
    """The error for a class index out of range (the kernel found one)."""
    bad = (ti != ignore_index) & ((ti < 0) | (ti >= k))
    return ValueError(f"{fname}: target has class index {ti[bad][0]}, out of range for {k} "
                      f"classes (expected 0 <= index < {k}, or ignore_index={ignore_index})")


def _denominator(ti, w, ignore_index, n):
    """What reduction="mean" divides by: the weight of the targets that are
    not ignored (their count without weights), or the number of rows for
    probability targets (as torch)."""
    if ti is None:
        return float(n)
    keep = ti != ignore_index
    if w is None:
        return float(np.count_nonzero(keep))
    return float(np.sum(np.take(w, ti[keep], mode="clip")))    # a bad index: the kernel says


def cross_entropy(rec, logits, target, axis, weight, ignore_index, reduction, label_smoothing):
    """Softmax cross-entropy from logits, as torch.nn.functional.cross_entropy."""
    fname = rec.name
    reduction, eps, ignore = _options(fname, reduction, label_smoothing, ignore_index)
    a, rdtype, cdt, xc, ax, batch, k, ti, tp, w = _setup(fname, logits, target, axis, weight,
                                                         ignore)
    n = math.prod(batch)
    rows = np.empty(n)
    if n and not _api._K.loss_apply(22, xc, n, k, rows=rows, ti=ti, tp=tp, w=w, eps=eps,
                                    wsum=float(k) if w is None else float(np.sum(w)),
                                    ignore=ignore):
        raise _bad_index(fname, ti, k, ignore)
    if reduction == "none":
        with np.errstate(over="ignore"):         # a float32 loss beyond its range: inf
            r = rows.reshape(batch).astype(rdtype)
        return r[()] if r.ndim == 0 else r
    total = math.fsum(rows.tolist()) if cdt == _api._F64 else float(np.sum(rows))
    if reduction == "mean":
        total = _divide(total, _denominator(ti, w, ignore, n))
    if cdt == _api._F32 and not abs(total) <= _F32_MAX:
        with np.errstate(over="ignore"):
            return rdtype.type(total)
    return rdtype.type(total)


_F32_MAX = float(np.finfo(np.float32).max)


def _divide(a, b):
    """a / b with IEEE rules (0/0 is nan, as torch's mean of nothing)."""
    if b != 0:
        return a / b
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.float64(a) / np.float64(b))


def cross_entropy_backward(rec, grad, logits, target, axis, weight, ignore_index, reduction,
                           label_smoothing, out):
    """dL/dlogits of cross_entropy, grad (dL/dloss) given: a scalar for
    "mean" and "sum", the batch shape for "none"."""
    fname = rec.name + "_backward"
    reduction, eps, ignore = _options(fname, reduction, label_smoothing, ignore_index)
    a, rdtype, cdt, xc, ax, batch, k, ti, tp, w = _setup(fname, logits, target, axis, weight,
                                                         ignore)
    g, _ = _api._as_array(fname, "grad", grad)
    n = math.prod(batch)
    want = batch if reduction == "none" else ()
    if g.shape != want:
        raise ValueError(f"{fname}: grad has shape {g.shape}; expected {want}, the shape of "
                         f"cross_entropy(..., reduction={reduction!r}) for logits of shape "
                         f"{a.shape}")
    if out is not None:
        _api._check_out(fname, out, a.shape, rdtype)
    gs, scale = None, 0.0
    if reduction == "none":
        gs = np.ascontiguousarray(g.astype(cdt).reshape(n), dtype=np.float64)
    else:
        scale = float(cdt.type(g[()]))
        if reduction == "mean":
            scale = _divide(scale, _denominator(ti, w, ignore, n))
    res = _result(out, xc.shape, ax, a.ndim, cdt)
    if n and not _api._K.loss_apply(23, xc, n, k, out=res, gs=gs, ti=ti, tp=tp, w=w, eps=eps,
                                    wsum=float(k) if w is None else float(np.sum(w)),
                                    ignore=ignore, gscalar=scale):
        raise _bad_index(fname, ti, k, ignore)
    return _back(res, ax, out, rdtype, a.ndim)


def cross_entropy_and_derivative(rec, logits, target, axis, weight, ignore_index, reduction,
                                 label_smoothing):
    """(loss, dL/dlogits): fastact.cross_entropy_and_derivative."""
    loss, d, _ = cross_entropy_both(rec, logits, target, axis, weight, ignore_index, reduction,
                                    label_smoothing, fname=rec.name + "_and_derivative")
    return loss, d


def cross_entropy_both(rec, logits, target, axis, weight, ignore_index, reduction,
                       label_smoothing, fname=None):
    """(cross_entropy(...), cross_entropy_backward(1, ...), the class axis)
    from one pass of exponentials per row (op 24): for
    cross_entropy_and_derivative and fastact.nn.CrossEntropyLoss, whose
    backward then only scales the gradient.  For reduction="none" the
    gradient is that of each row's loss for an upstream gradient of 1.
    fname names the caller in errors (default: the layer)."""
    fname = fname or rec.class_name
    reduction, eps, ignore = _options(fname, reduction, label_smoothing, ignore_index)
    a, rdtype, cdt, xc, ax, batch, k, ti, tp, w = _setup(fname, logits, target, axis, weight,
                                                         ignore)
    n = math.prod(batch)
    scale = _divide(1.0, _denominator(ti, w, ignore, n)) if reduction == "mean" else 1.0
    rows = np.empty(n)
    res = np.empty(xc.shape, dtype=cdt)
    if n and not _api._K.loss_apply(24, xc, n, k, out=res, rows=rows, ti=ti, tp=tp, w=w, eps=eps,
                                    wsum=float(k) if w is None else float(np.sum(w)),
                                    ignore=ignore, gscalar=scale):
        raise _bad_index(fname, ti, k, ignore)
    if reduction == "none":
        with np.errstate(over="ignore"):
            loss = rows.reshape(batch).astype(rdtype)
        loss = loss[()] if loss.ndim == 0 else loss
    else:
        total = math.fsum(rows.tolist()) if cdt == _api._F64 else float(np.sum(rows))
        if reduction == "mean":
            total = _divide(total, _denominator(ti, w, ignore, n))
        with np.errstate(over="ignore"):
            loss = rdtype.type(total)
    return loss, _back(res, ax, None, rdtype, a.ndim), ax
