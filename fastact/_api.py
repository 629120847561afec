"""The one generic path from the public functions to the kernels.

The public functions are generated from the registry by ``make_functions``:
each checks its parameters, then tries the kernel module's fast path (an
exact float32/float64 ndarray, contiguous, with a fitting ``out``).  When
that declines, ``forward`` / ``backward`` / ``axis_forward`` /
``axis_backward`` here convert the arrays (dtype rules, layouts, 0-d,
scalars, lists, overlap with ``out``) and call the kernel again.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from fastact import _dispatch
from fastact._registry import ACTIVATIONS, Activation

_K = None   # the active kernel module (fastact._dispatch.activate sets it)


def _set_kernels(module):
    global _K
    _K = module
    missing = [a.name for a in ACTIVATIONS if a.kind == "elementwise" and a.name not in module.KERNEL_IDS]
    if missing:
        raise ImportError(f"fastact: the compiled kernels lack {missing}; rebuild fastact")


_dispatch._listeners.append(_set_kernels)

_F16, _F32, _F64 = np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64)


# ---------------------------------------------------------------- arrays ----

def _as_array(fname, argname, value):
    """value as an ndarray, and the dtype of the result it gives.

    float32/float64 are kept; float16 is computed in float32 and returned as
    float16; bool and integers become float64 (as np.exp does); everything
    else is a TypeError naming the dtype.
    """
    if isinstance(value, np.ma.MaskedArray):
        raise TypeError(f"{fname}: {argname} is a masked array, which fastact does not support; "
                        f"pass {argname}.filled(...) or np.asarray({argname}) explicitly")
    try:
        a = np.asarray(value)
    except Exception as exc:
        raise TypeError(f"{fname}: {argname} could not be converted to an array ({exc})") from None
    dt = a.dtype
    if dt == _F32 or dt == _F64 or dt == _F16:
        return a, dt
    if dt.kind in "biu":
        return a, _F64
    if dt.kind == "f":
        raise TypeError(f"{fname}: {argname} has dtype {dt}, which fastact does not compute; "
                        f"convert it to float64 or float32")
    raise TypeError(f"{fname}: {argname} has dtype {dt}; expected a real floating-point "
                    f"(float16/32/64), integer or bool array")


def _compute_dtype(result_dtype):
    return _F32 if result_dtype == _F16 else result_dtype


def _check_out(fname, out, shape, dtype):
    if not isinstance(out, np.ndarray):
        raise TypeError(f"{fname}: out must be a numpy.ndarray, got {type(out).__name__}")
    if out.dtype != dtype:
        raise TypeError(f"{fname}: out has dtype {out.dtype}; expected {dtype}, the dtype of the result")
    if out.shape != shape:
        raise ValueError(f"{fname}: out has shape {out.shape}; expected {shape}, the shape of the result")
    if not out.flags.writeable:
        raise ValueError(f"{fname}: out is read-only")


def _same_buffer(a, b):
    """Whether two arrays are the very same elements in the same layout."""
    return (a.shape == b.shape and a.strides == b.strides
            and a.__array_interface__["data"][0] == b.__array_interface__["data"][0])


def _prepare(a, dtype, out, order="K"):
    """a as a contiguous array of `dtype` that out does not partially overlap."""
    c = a
    if c.dtype != dtype or not (c.flags.c_contiguous or (order == "K" and c.flags.f_contiguous)):
        c = np.array(a, dtype=dtype, order="C" if order == "C" else "K", copy=True)
        if not (c.flags.c_contiguous or (order == "K" and c.flags.f_contiguous)):
            c = np.ascontiguousarray(c)
    elif out is not None and np.may_share_memory(out, c) and not _same_buffer(out, c):
        c = c.copy(order="K" if order == "K" else "C")
    return c


def _finish(result, rdtype, out, scalar):
    """Write into out if given, cast float16 back, unwrap 0-d to a scalar."""
    if out is not None:
        if result is not out:
            np.copyto(out, result, casting="unsafe" if rdtype == _F16 else "same_kind")
        return out
    if result.dtype != rdtype:
        result = result.astype(rdtype)
    return result[()] if scalar else result


def _params_tuple(values):
    return tuple(values) + (0.0,) * (3 - len(values))


def _is_dask(value):
    return type(value).__module__.startswith("dask.")


def forward(rec: Activation, kid: int, x, out, params):
    """General path of an elementwise forward."""
    fname = rec.name
    if _is_dask(x):
        from fastact import _dask
        return _dask.elementwise(rec, "forward", (x,), out, params)
    a, rdtype = _as_array(fname, "x", x)
    if out is not None:
        _check_out(fname, out, a.shape, rdtype)
    c = _prepare(a, _compute_dtype(rdtype), out)
    scalar = c.ndim == 0 and out is None
    p = _params_tuple(params)
    target = out if out is not None and out.dtype == c.dtype else None
    r = _K.unary(kid, c.reshape(1) if c.ndim == 0 else c,
                 None if target is None else (target.reshape(1) if c.ndim == 0 else target), *p)
    if r is None:                       # out is strided or in another layout
        r = _K.unary(kid, c.reshape(1) if c.ndim == 0 else c, None, *p)
    if c.ndim == 0:
        r = r.reshape(())
        if target is not None:
            r = target
    return _finish(r, rdtype, out, scalar)


def backward(rec: Activation, kid: int, form: int, g, a, out, params):
    """General path of an elementwise backward (form 0: a is x; 1: a is y)."""
    fname = rec.name + "_backward"
    aname = "xy"[form]
    if _is_dask(g) or _is_dask(a):
        from fastact import _dask
        return _dask.elementwise(rec, "xy"[form], (g, a), out, params)
    ga, gdt = _as_array(fname, "grad", g)
    aa, adt = _as_array(fname, aname, a)
    if ga.shape != aa.shape:
        raise ValueError(f"{fname}: grad has shape {ga.shape} but {aname} has shape {aa.shape}; "
                         f"they must be equal")
    rdtype = np.result_type(gdt, adt)
    if out is not None:
        _check_out(fname, out, ga.shape, rdtype)
    cdt = _compute_dtype(rdtype)
    order = "K" if (ga.flags.f_contiguous == aa.flags.f_contiguous) else "C"
    gc = _prepare(ga, cdt, out, order)
    ac = _prepare(aa, cdt, out, order)
    if out is not None and ac.__array_interface__["data"][0] == out.__array_interface__["data"][0]:
        ac = ac.copy()                  # out is x (or y) itself: the kernel writes over grad only
    if gc.flags.c_contiguous != ac.flags.c_contiguous and gc.ndim > 1 and gc.size > 1:
        gc, ac = np.ascontiguousarray(gc), np.ascontiguousarray(ac)
    scalar = gc.ndim == 0 and out is None
    p = _params_tuple(params)
    shape1 = (lambda v: v.reshape(1)) if gc.ndim == 0 else (lambda v: v)
    target = out if out is not None and out.dtype == cdt else None
    r = _K.binary(kid, form, shape1(gc), shape1(ac), None if target is None else shape1(target), *p)
    if r is None:
        r = _K.binary(kid, form, shape1(gc), shape1(ac), None, *p)
    if gc.ndim == 0:
        r = target if target is not None else r.reshape(())
    return _finish(r, rdtype, out, scalar)


# ------------------------------------------------------------ along an axis --

def _axis(fname, axis, ndim):
    if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
        raise TypeError(f"{fname}: axis must be an int, got {type(axis).__name__}")
    n = max(ndim, 1)
    if not -n <= axis < n:
        raise ValueError(f"{fname}: axis {axis} is out of range for an array of {ndim} dimensions")
    return int(axis) % n


def _axis_run(fname, op, arrays, out, axis, rdtype):
    cdt = _compute_dtype(rdtype)
    shape = arrays[0].shape
    ax = _axis(fname, axis, len(shape))
    cs = [_prepare(v, cdt, out, order="C") for v in arrays]
    scalar = len(shape) == 0 and out is None
    shp = shape if shape else (1,)
    outer, k, inner = math.prod(shp[:ax]), shp[ax], math.prod(shp[ax + 1:])
    direct = (out is not None and out.dtype == cdt and out.flags.c_contiguous)
    res = out if direct else np.empty(shape, dtype=cdt)
    if res.size:
        _K.axis_apply(op, cs[0], cs[1] if len(cs) > 1 else None, res, outer, k, inner)
    return _finish(res, rdtype, out, scalar)


def axis_forward(rec: Activation, op: int, x, axis, out):
    fname = rec.name
    if _is_dask(x):
        from fastact import _dask
        return _dask.along_axis(rec, "forward", (x,), out, axis)
    a, rdtype = _as_array(fname, "x", x)
    if out is not None:
        _check_out(fname, out, a.shape, rdtype)
    return _axis_run(fname, op, [a], out, axis, rdtype)


def axis_backward(rec: Activation, op: int, g, y, axis, out):
    fname = rec.name + "_backward"
    if _is_dask(g) or _is_dask(y):
        from fastact import _dask
        return _dask.along_axis(rec, "y", (g, y), out, axis)
    ga, gdt = _as_array(fname, "grad", g)
    ya, ydt = _as_array(fname, "y", y)
    if ga.shape != ya.shape:
        raise ValueError(f"{fname}: grad has shape {ga.shape} but y has shape {ya.shape}; "
                         f"they must be equal")
    rdtype = np.result_type(gdt, ydt)
    if out is not None:
        _check_out(fname, out, ga.shape, rdtype)
    return _axis_run(fname, op, [ga, ya], out, axis, rdtype)


# -------------------------------------------------------------- parameters --

def check_param(fname, param, value):
    """value as a float, or a TypeError/ValueError naming the parameter."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{fname}: {param.name} must be a real number, got {type(value).__name__}")
    v = float(value)
    why = param.check(v)
    if why:
        raise ValueError(f"{fname}: {param.name} {why}, got {value!r}")
    return v


def which_error(fname, rec: Activation, x, y, params):
    """The TypeError for a backward given neither or both of x and y, or the wrong one."""
    allowed = rec.backward_from
    need = " or ".join(f"{v}=" for v in allowed)
    if x is None and y is None:
        return TypeError(f"{fname}: pass the forward {'input x' if 'x' in allowed else 'output y='}"
                         f"{' or output y=' if allowed == ('x', 'y') else ''}; got neither")
    if x is not None and y is not None:
        return TypeError(f"{fname}: pass x or y=, not both")
    given = "x" if x is not None else "y"
    if given not in allowed:
        return TypeError(f"{fname}: the gradient cannot be computed from {given}; pass {need}")
    return TypeError(f"{fname}: the gradient from y= holds only for {rec.y_requires} "
                     f"(got {', '.join(f'{k}={v!r}' for k, v in params.items())}); pass x instead")


def variant_error(fname, pname, value, choices):
    """The ValueError for a string parameter that names no kernel (gelu's approximate)."""
    allowed = ", ".join(repr(c) for c in choices)
    return ValueError(f"{fname}: {pname} must be one of {allowed}, got {value!r}")
