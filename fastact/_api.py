"""The one generic path from the public functions to the kernels.

The public functions (fastact/_public.py, generated from the registry at
build time by _codegen.py):
each checks its parameters, then tries the kernel module's fast path (an
exact float32/float64 ndarray, contiguous, with a fitting ``out``).  When
that declines, ``forward`` / ``backward`` / ``axis_forward`` /
``axis_backward`` here convert the arrays (dtype rules, layouts, 0-d,
scalars, lists, overlap with ``out``) and call the kernel again.
"""
from __future__ import annotations

import math
import numbers
import sys

import numpy as np

from fastact import _dispatch
from fastact._checks import (all_true, check_param, constraint_error,  # noqa: F401
                             variant_error, which_error)
from fastact._registry import ACTIVATIONS, Activation, evaluate

_K = None   # the active kernel module (fastact._dispatch.activate sets it)


def _set_kernels(module):
    global _K
    _K = module
    missing = [a.name for a in ACTIVATIONS if a.kind == "elementwise" and a.name not in module.KERNEL_IDS]
    if missing:
        raise ImportError(f"fastact: the compiled kernels lack {missing}; rebuild fastact")
    if _BF16:
        module.set_bfloat16(_BF16[0].num)


_dispatch._listeners.append(_set_kernels)

_F16, _F32, _F64 = np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64)
_HALF = {_F16}          # float16, and ml_dtypes.bfloat16 once seen (_bfloat16)
_BF16 = []              # [ml_dtypes.bfloat16's dtype] once found


def _bfloat16():
    """ml_dtypes.bfloat16's dtype if ml_dtypes is imported (an array of it
    cannot exist before), else None.  Found, it is given to every kernel
    build and to fastact.ufuncs (their bfloat16 loops)."""
    if not _BF16:
        mod = sys.modules.get("ml_dtypes")
        if mod is None:
            return None
        dt = np.dtype(mod.bfloat16)
        _BF16.append(dt)
        _HALF.add(dt)
        if _K is not None:
            _K.set_bfloat16(dt.num)
        if "fastact.ufuncs" in sys.modules:
            sys.modules["fastact.ufuncs"].register_bfloat16()
    return _BF16[0]


# ---------------------------------------------------------------- arrays ----

def _as_array(fname, argname, value):
    """value as an ndarray, and the dtype of the result it gives.

    float32/float64 are kept; float16 and bfloat16 (ml_dtypes) are computed
    in float32 and returned as themselves; bool and integers become float64
    (as np.exp does); everything else is a TypeError naming the dtype.
    """
    if isinstance(value, np.ma.MaskedArray):
        raise TypeError(f"{fname}: {argname} is a masked array, which fastact does not support; "
                        f"pass {argname}.filled(...) or np.asarray({argname}) explicitly")
    try:
        a = np.asarray(value)
    except Exception as exc:
        raise TypeError(f"{fname}: {argname} could not be converted to an array ({exc})") from None
    dt = a.dtype
    if dt == _F32 or dt == _F64 or dt in _HALF or (dt.name == "bfloat16" and dt == _bfloat16()):
        return a, dt
    if dt.kind in "biu":
        return a, _F64
    if dt.kind == "f":
        raise TypeError(f"{fname}: {argname} has dtype {dt}, which fastact does not compute; "
                        f"convert it to float64 or float32")
    raise TypeError(f"{fname}: {argname} has dtype {dt}; expected a real floating-point "
                    f"(float16/32/64, bfloat16), integer or bool array")


def _compute_dtype(result_dtype):
    return _F32 if result_dtype in _HALF else result_dtype


def _storage_dtype(result_dtype, out):
    """What the elementwise kernels read and write: half-width types as
    they are (the kernels convert block-wise), float32 for a float32 out."""
    if result_dtype in _HALF and (out is None or out.dtype == result_dtype):
        return result_dtype
    return _compute_dtype(result_dtype)


def _check_out(fname, out, shape, dtype):
    if isinstance(out, np.ma.MaskedArray):
        raise TypeError(f"{fname}: out is a masked array, which fastact does not support")
    if not isinstance(out, np.ndarray):
        raise TypeError(f"{fname}: out must be a numpy.ndarray, got {type(out).__name__}")
    if out.dtype != dtype and not (dtype in _HALF and out.dtype == _F32):
        raise TypeError(f"{fname}: out has dtype {out.dtype}; expected {dtype}, the dtype of the result")
    if out.shape != shape:
        raise ValueError(f"{fname}: out has shape {out.shape}; expected {shape}, the shape of the result")
    if not out.flags.writeable:
        raise ValueError(f"{fname}: out is read-only")


def _same_buffer(a, b):
    """Whether two arrays are the very same elements in the same layout."""
    return (a.shape == b.shape and a.strides == b.strides
            and a.__array_interface__["data"][0] == b.__array_interface__["data"][0])


def _half_pair(src, dst):
    """Whether src -> dst is float16/bfloat16 <-> float32."""
    return (src in _HALF and dst == _F32) or (src == _F32 and dst in _HALF)


def _cast(a, dtype):
    """a.astype(dtype), a new array; float16/bfloat16 <-> float32 by the
    kernels' vectorized conversions (NumPy's float16 casts take 3-5
    ns/element, ~50 times theirs)."""
    if not (_K is not None and a.size and _half_pair(a.dtype, np.dtype(dtype))):
        return a.astype(dtype)
    r = np.empty(a.shape, dtype)
    _K.half_convert(np.ascontiguousarray(a).reshape(-1), r.reshape(-1))
    return r


def _prepare(a, dtype, out, order="K"):
    """a as a contiguous array of `dtype` that out does not partially overlap."""
    c = a
    if _half_pair(c.dtype, np.dtype(dtype)):
        c = _cast(a, dtype)
    elif c.dtype != dtype or not (c.flags.c_contiguous or (order == "K" and c.flags.f_contiguous)):
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
            half = _half_pair(result.dtype, out.dtype)
            np.copyto(out, _cast(result, out.dtype) if half else result,
                      casting="unsafe" if rdtype in _HALF else "same_kind")
        return out
    if result.dtype != rdtype:
        result = _cast(result, rdtype)
    return result[()] if scalar else result


def _params_tuple(values):
    return tuple(values) + (0.0,) * (3 - len(values))


_F32_MAX = float(np.finfo(np.float32).max)


def _check_params_fit(fname, rec, cdt, params):
    """A float32 kernel gets its parameters in float32: one beyond float32's
    range would become inf there (and 0 * inf = nan), so it is refused, as
    PyTorch does ("value cannot be converted to type float without overflow")."""
    if cdt != _F32:
        return
    for p, v in zip(rec.params, params):
        if abs(v) > _F32_MAX:
            raise ValueError(f"{fname}: {p.name}={v!r} overflows float32, the precision this "
                             f"array is computed in; pass float64 data or a smaller {p.name}")


def _input(fname, x, out):
    """x as an array and the result dtype, with out (if given) checked against it."""
    a, rdtype = _as_array(fname, "x", x)
    if out is not None:
        _check_out(fname, out, a.shape, rdtype)
    return a, rdtype


def _grad_pair(fname, g, aname, a, out):
    """grad and x (or y) as arrays of one shape, the result dtype, out checked."""
    ga, gdt = _as_array(fname, "grad", g)
    aa, adt = _as_array(fname, aname, a)
    if ga.shape != aa.shape:
        raise ValueError(f"{fname}: grad has shape {ga.shape} but {aname} has shape {aa.shape}; "
                         f"they must be equal")
    rdtype = np.result_type(gdt, adt)
    if out is not None:
        _check_out(fname, out, ga.shape, rdtype)
    return ga, aa, rdtype


def _is_dask(value):
    return type(value).__module__.startswith("dask.")


def _route(value):
    """How the general path takes an argument: "array" (NumPy converts it),
    "ufunc" (an object that overrides NumPy's ufuncs: pandas, xarray, dask,
    masked arrays, ...: the call goes through fastact.ufuncs so that it keeps
    its type), or "foreign" (an array of another library that speaks DLPack,
    such as a torch tensor: computed on a zero-copy view, returned as its type)."""
    cls = type(value)
    if cls is np.ndarray or cls in (float, int, bool, list, tuple) or isinstance(value, np.generic):
        return "array"
    override = getattr(cls, "__array_ufunc__", None)
    if override is not None and override is not np.ndarray.__array_ufunc__:
        return "ufunc"
    if isinstance(value, np.ndarray):
        return "ufunc"                  # a subclass: NumPy's dispatch keeps it
    if hasattr(value, "__dlpack__") and hasattr(value, "__dlpack_device__"):
        return "foreign"
    return "array"


def _has_arrays(params):
    return any(not isinstance(v, float) for v in params)


def _via_ufunc(fname, rec, kid, direction, arrays, out, params, where, dtype):
    """The call through fastact.ufuncs: NumPy's broadcasting, where=, dtype=
    and __array_ufunc__ dispatch.  Parameter arrays take the arrays' precision
    (as scalar parameters do), so float32 data stays float32."""
    from fastact import ufuncs
    fn = ufuncs.BY_KERNEL[kid, direction]
    if out is not None and any(_is_dask(v) for v in arrays):
        from fastact import _dask
        _dask.no_out(fname, out)
    dts = [getattr(v, "dtype", None) for v in arrays]
    single = all(d is not None and (np.dtype(d) == _F32 or np.dtype(d) in _HALF) for d in dts)
    kinds = {np.dtype(d) for d in dts if d is not None}
    half = (dtype is None and out is None and None not in dts and len(kinds) == 1
            and kinds <= _HALF)
    pdt = _F32 if single else _F64
    ps = [np.asarray(v, dtype=pdt) if not isinstance(v, float) else v for v in params]
    kw = {} if where is True else {"where": where}
    if dtype is not None:
        kw["dtype"] = dtype
    elif out is None and all(d is not None and np.dtype(d).kind in "biu" for d in dts):
        kw["dtype"] = _F64              # bool and integers give float64, as without where=
    if out is not None:
        kw["out"] = out
    try:
        r = fn(*arrays, *ps, **kw)
    except TypeError as exc:
        if "ufunc" in str(exc) and ("not supported" in str(exc) or "cast" in str(exc)):
            raise TypeError(f"{fname}: {exc}") from None
        raise
    # float16 and bfloat16 are computed in float32 and kept, as for NumPy arrays
    return r.astype(dts[0], copy=False) if half and hasattr(r, "astype") else r


def _dlpack_view(fname, v):
    try:
        return np.from_dlpack(v)
    except (BufferError, RuntimeError, TypeError, ValueError) as exc:
        what = f"{fname}: a {type(v).__module__}.{type(v).__name__} that NumPy cannot view ({exc})"
        if "dtype" in str(exc).lower():     # on the CPU, but a dtype NumPy lacks (torch.bfloat16)
            raise TypeError(f"{what}; convert it to float32 first, or pass a NumPy view of "
                            f"its bits (bfloat16: ml_dtypes.bfloat16)") from None
        raise TypeError(f"{what}; fastact computes on the CPU: move it there first "
                        f"(e.g. tensor.cpu())") from None


def _foreign(fname, arrays, out, compute):
    """Arrays of another library (a torch CPU tensor, a JAX array, ...):
    computed on zero-copy NumPy views through DLPack by compute(views, out),
    returned as that library's array (through DLPack again), or in `out`.
    A tuple result (grad_x and grad_bias, y and rrelu's noise) keeps its other
    items, converted, beside `out`."""
    views = [_dlpack_view(fname, v) if v is not None and _route(v) == "foreign" else v
             for v in arrays]
    like = next((v for v in arrays if v is not None and _route(v) == "foreign"), out)
    if out is None:
        return _back_to(like, compute(views, None))
    res = compute(views, _dlpack_view(fname, out) if _route(out) == "foreign" else out)
    return (out,) + _back_to(like, res[1:]) if isinstance(res, tuple) else out


def _back_to(like, result):
    """result (an ndarray, or a tuple of them) as `like`'s array type."""
    if isinstance(result, tuple):
        return tuple(_back_to(like, r) for r in result)
    if not isinstance(result, np.ndarray):
        return result                   # a NumPy scalar from a 0-d input
    ns = getattr(like, "__array_namespace__", None)
    if ns is not None:
        return ns().from_dlpack(result)
    import importlib
    lib = importlib.import_module(type(like).__module__.split(".")[0])    # torch.from_dlpack, ...
    if hasattr(lib, "from_dlpack"):
        return lib.from_dlpack(result)
    return result


def forward(rec: Activation, kid: int, x, out, params, where=True, dtype=None):
    """General path of an elementwise forward."""
    fname = rec.name
    route = _route(x) if out is None or _route(out) == "array" else _route(out)
    if route == "foreign":
        return _foreign(fname, (x,), out,
                        lambda v, o: forward(rec, kid, v[0], o, params, where, dtype))
    if route == "ufunc" or where is not True or dtype is not None or _has_arrays(params):
        return _via_ufunc(fname, rec, kid, 0, (x,), out, params, where, dtype)
    a, rdtype = _input(fname, x, out)
    _check_params_fit(fname, rec, _compute_dtype(rdtype), params)
    c = _prepare(a, _storage_dtype(rdtype, out), out)
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


def backward(rec: Activation, kid: int, form: int, g, a, out, params, where=True, dtype=None):
    """General path of an elementwise backward (form 0: a is x; 1: a is y)."""
    fname = rec.name + "_backward"
    aname = "xy"[form]
    routes = {_route(g), _route(a), "array" if out is None else _route(out)}
    if "foreign" in routes:
        return _foreign(fname, (g, a), out,
                        lambda v, o: backward(rec, kid, form, v[0], v[1], o, params, where, dtype))
    if "ufunc" in routes or where is not True or dtype is not None or _has_arrays(params):
        gs, as_ = np.shape(g), np.shape(a)
        if gs != as_:
            raise ValueError(f"{fname}: grad has shape {gs} but {aname} has shape {as_}; "
                             f"they must be equal")
        return _via_ufunc(fname, rec, kid, 1 + form, (g, a), out, params, where, dtype)
    ga, aa, rdtype = _grad_pair(fname, g, aname, a, out)
    _check_params_fit(fname, rec, _compute_dtype(rdtype), params)
    cdt = _storage_dtype(rdtype, out)
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


def _labelled(value):
    return type(value).__module__.split(".")[0] in ("pandas", "xarray")


def _relabel(like, result, ax, keep):
    """result as a pandas or xarray object with like's labels; along axis ax,
    those of the positions keep(length) (glu: its first half; maxout: each
    group's first entry)."""
    sel = keep(like.shape[ax]) if keep is not None else slice(None)
    if type(like).__module__.startswith("xarray"):
        return like.isel({like.dims[ax]: sel}).copy(data=result)
    import pandas as pd
    sub = like.iloc[(slice(None),) * ax + (sel,)]
    if sub.ndim == 1:
        return pd.Series(result, index=sub.index, name=sub.name)
    return pd.DataFrame(result, index=sub.index, columns=sub.columns)


def _axis_other(fname, arrays, out, ax_of, again, gufunc, like=0, keep=None):
    """An axis function whose arguments are not all plain arrays (dask aside):
    arrays of another library through DLPack; pandas and xarray objects
    computed on their values and returned with their labels (their own
    ufunc dispatch would apply a generalized ufunc per column block); any
    other type that overrides NumPy's ufuncs (masked arrays, subclasses,
    ...) through the generalized ufunc, gufunc(ax), which keeps its type.
    again(values, out) is the plain-array call; ax_of(ndim) checks the axis.
    None when every argument is a plain array."""
    routes = {_route(v) for v in arrays} | ({_route(out)} if out is not None else set())
    if "foreign" in routes:
        return _foreign(fname, arrays, out, again)
    if "ufunc" not in routes:
        return None
    if any(_labelled(v) for v in arrays):
        if out is not None and type(out) is not np.ndarray:
            raise TypeError(f"{fname}: out must be a numpy.ndarray, got {type(out).__name__}")
        result = again([np.asarray(v) if _labelled(v) else v for v in arrays], out)
        src = arrays[like]
        if out is not None or not _labelled(src):
            return result
        return _relabel(src, result, ax_of(src.ndim), keep)
    ndim = np.ndim(arrays[like])
    ax = ax_of(ndim)
    dts = [getattr(v, "dtype", None) for v in arrays]
    result = gufunc(ax) if out is None else gufunc(ax, out=out)
    if out is None and all(d is not None and np.dtype(d) == _F16 for d in dts):
        result = result.astype(_F16)        # computed in float32, kept, as for ndarrays
    return result


def axis_forward(rec: Activation, op: int, x, axis, out):
    fname = rec.name
    if _is_dask(x):
        from fastact import _dask
        return _dask.along_axis(rec, "forward", (x,), out, axis)
    if type(x) is not np.ndarray:
        r = _axis_other(fname, (x,), out, lambda nd: _axis(fname, axis, nd),
                        lambda v, o: axis_forward(rec, op, v[0], axis, o),
                        lambda ax, **kw: _gufunc(fname)(x, axis=ax, **kw))
        if r is not None:
            return r
    a, rdtype = _input(fname, x, out)
    return _axis_run(fname, op, [a], out, axis, rdtype)


def axis_backward(rec: Activation, op: int, g, y, axis, out):
    fname = rec.name + "_backward"
    if _is_dask(g) or _is_dask(y):
        from fastact import _dask
        return _dask.along_axis(rec, "y", (g, y), out, axis)
    if type(g) is not np.ndarray or type(y) is not np.ndarray:
        def via_gufunc(ax, **kw):
            if np.shape(g) != np.shape(y):
                raise ValueError(f"{fname}: grad has shape {np.shape(g)} but y has shape "
                                 f"{np.shape(y)}; they must be equal")
            return _gufunc(fname)(g, y, axis=ax, **kw)
        r = _axis_other(fname, (g, y), out, lambda nd: _axis(fname, axis, nd),
                        lambda v, o: axis_backward(rec, op, v[0], v[1], axis, o),
                        via_gufunc, like=1 if _labelled(y) else 0)
        if r is not None:
            return r
    ga, ya, rdtype = _grad_pair(fname, g, "y", y, out)
    return _axis_run(fname, op, [ga, ya], out, axis, rdtype)


# ------------------------------- along an axis, changing its length (glu) --

def _shaped_setup(rec, fname, shape, axis, params):
    """(axis, outer, k, inner, p, output shape) for glu/maxout on x of `shape`."""
    ax = _axis(fname, axis, len(shape))
    shp = shape if shape else (1,)
    k = shp[ax]
    env = {"k": k, **params}
    cond, pname, why = rec.extra["k_requires"]
    if not evaluate(cond, env):
        what = f"axis {axis} (length {k})" if pname == "axis" else f"{pname}={params[pname]!r}"
        raise ValueError(f"{fname}: {what}: {why}" if pname == "axis" else
                         f"{fname}: {pname} {why}, got {what} for an axis of length {k}")
    out_k = evaluate(rec.extra["out_len"], env)
    p = k // out_k if out_k else max(1, int(params.get("pieces", 2)))
    out_shape = shp[:ax] + (out_k,) + shp[ax + 1:]
    return ax, math.prod(shp[:ax]), k, math.prod(shp[ax + 1:]), p, out_shape


def _gufunc(fname):
    from fastact import ufuncs
    return getattr(ufuncs, fname)


def _grouped(rec, fname, x, axis, params):
    """(axis, x as the gufunc takes it, the axes= of its core dimensions):
    glu's axis as it is, maxout's split into (groups, pieces)."""
    shape = np.shape(x)
    if len(shape) == 0:
        raise ValueError(f"{fname}: x must have at least one dimension")
    ax, _, k, _, p, _ = _shaped_setup(rec, fname, shape, axis, params)
    if rec.name == "glu":
        return ax, x, (ax,)
    if isinstance(x, np.matrix):            # never more than 2-d
        x = np.asarray(x)
    return ax, x.reshape(shape[:ax] + (k // p, p) + shape[ax + 1:]), (ax, ax + 1)


def _no_masks(fname, named):
    for name, v in named:
        if isinstance(v, np.ma.MaskedArray):
            raise TypeError(f"{fname}: {name} is a masked array, which {fname} does not support "
                            f"(a mask cannot follow an axis that changes length); pass "
                            f"{name}.filled(...) or np.asarray({name})")


def _kept(rec, params):
    """Which positions along the axis glu / maxout's output keeps the labels of."""
    if rec.name == "glu":
        return lambda n: slice(0, n // 2)
    return lambda n: slice(0, None, int(params["pieces"]))


def axis_x_forward(rec: Activation, op: int, x, axis, out, params):
    fname = rec.name
    if _is_dask(x):
        from fastact import _dask
        return _dask.along_axis_x(rec, "forward", (x,), out, axis, params)
    if type(x) is not np.ndarray:
        def via_gufunc(ax, **kw):
            _no_masks(fname, (("x", x), ("out", kw.get("out"))))
            _, xg, core = _grouped(rec, fname, x, axis, params)
            return _gufunc(fname)(xg, axes=[core, (ax,)], **kw)
        r = _axis_other(fname, (x,), out, lambda nd: _axis(fname, axis, nd),
                        lambda v, o: axis_x_forward(rec, op, v[0], axis, o, params),
                        via_gufunc, keep=_kept(rec, params))
        if r is not None:
            return r
    a, rdtype = _as_array(fname, "x", x)
    if a.ndim == 0:
        raise ValueError(f"{fname}: x must have at least one dimension")
    ax, outer, k, inner, p, out_shape = _shaped_setup(rec, fname, a.shape, axis, params)
    if out is not None:
        _check_out(fname, out, out_shape, rdtype)
    if _half_pair_op(op, rdtype, out, (a,)):
        res = out if out is not None else np.empty(out_shape, dtype=rdtype)
        return _K.half_pair(op, None, np.ascontiguousarray(a), res, outer, k, inner)
    cdt = _compute_dtype(rdtype)
    c = _prepare(a, cdt, out, order="C")
    direct = out is not None and out.dtype == cdt and out.flags.c_contiguous
    res = out if direct else np.empty(out_shape, dtype=cdt)
    if res.size:
        _K.axis_apply(op, c, None, res, outer, k, inner, p)
    return _finish(res, rdtype, out, False)


def _half_direct(rdtype, out, arrays):
    """Whether a half-storage kernel reads arrays and writes out directly:
    rdtype float16/bfloat16, every array of it, and out None or a C-contiguous
    array of it that is each array itself or shares no memory with it."""
    return (rdtype in _HALF and all(a.dtype == rdtype for a in arrays)
            and (out is None or (out.dtype == rdtype and out.flags.c_contiguous
                                 and all(_same_buffer(out, a) or not np.may_share_memory(out, a)
                                         for a in arrays))))


def _half_pair_op(op, rdtype, out, arrays):
    """Whether glu or a gated unit (op) runs on half storage (_K.half_pair)."""
    return (op in (6, 7) or 12 <= op < 20) and _half_direct(rdtype, out, arrays)


def axis_x_backward(rec: Activation, op: int, g, x, axis, out, params):
    fname = rec.name + "_backward"
    if _is_dask(g) or _is_dask(x):
        from fastact import _dask
        return _dask.along_axis_x(rec, "x", (g, x), out, axis, params)
    if type(g) is not np.ndarray or type(x) is not np.ndarray:
        def via_gufunc(ax, **kw):
            _no_masks(fname, (("grad", g), ("x", x), ("out", kw.get("out"))))
            _, xg, core = _grouped(rec, fname, x, axis, params)
            if "out" in kw:
                kw["out"] = kw["out"].reshape(np.shape(xg))
            r = _gufunc(fname)(g, xg, axes=[(ax,), core, core], **kw)
            return r.reshape(np.shape(x))
        r = _axis_other(fname, (g, x), out, lambda nd: _axis(fname, axis, nd),
                        lambda v, o: axis_x_backward(rec, op, v[0], v[1], axis, o, params),
                        via_gufunc, like=1)
        if r is not None:
            return r
    ga, gdt = _as_array(fname, "grad", g)
    xa, xdt = _as_array(fname, "x", x)
    if xa.ndim == 0:
        raise ValueError(f"{fname}: x must have at least one dimension")
    ax, outer, k, inner, p, out_shape = _shaped_setup(rec, fname, xa.shape, axis, params)
    if ga.shape != out_shape:
        raise ValueError(f"{fname}: grad has shape {ga.shape}; expected {out_shape}, the shape of "
                         f"{rec.name}(x) for x of shape {xa.shape}")
    rdtype = np.result_type(gdt, xdt)
    if out is not None:
        _check_out(fname, out, xa.shape, rdtype)
    if _half_pair_op(op, rdtype, out, (ga, xa)):
        res = out if out is not None else np.empty(xa.shape, dtype=rdtype)
        return _K.half_pair(op, np.ascontiguousarray(ga), np.ascontiguousarray(xa), res, outer, k,
                            inner)
    cdt = _compute_dtype(rdtype)
    gc = _prepare(ga, cdt, out, order="C")
    xc = _prepare(xa, cdt, out, order="C")
    direct = out is not None and out.dtype == cdt and out.flags.c_contiguous
    res = out if direct else np.empty(xa.shape, dtype=cdt)
    if res.size:
        _K.axis_apply(op, gc, xc, res, outer, k, inner, p)
    return _finish(res, rdtype, out, False)


# ------------------------------------------------------- prelu and rrelu --

def _prelu_setup(fname, x, weight, out, g=None, prepare=True):
    if g is None:
        xa, rdtype = _as_array(fname, "x", x)
    else:
        ga, xa, rdtype = _grad_pair(fname, g, "x", x, None)   # out is checked below
    if weight is None:
        raise TypeError(f"{fname}: weight is required")
    wa, _ = _as_array(fname, "weight", weight)
    if wa.ndim > 1:
        raise ValueError(f"{fname}: weight must be a scalar or a 1-D array (as PyTorch), got "
                         f"{wa.ndim} dimensions (shape {wa.shape})")
    channels = xa.shape[1] if xa.ndim >= 2 else 1
    if wa.size != 1 and wa.size != channels:
        raise ValueError(f"{fname}: weight has {wa.size} entries; expected 1 or {channels}, the "
                         f"number of channels (axis 1 of x with shape {xa.shape})"
                         if xa.ndim >= 2 else
                         f"{fname}: weight has {wa.size} entries; expected 1 (x has {xa.ndim} "
                         f"dimensions, so no channel axis)")
    if out is not None:
        _check_out(fname, out, xa.shape, rdtype)
    cdt = _compute_dtype(rdtype)
    w = wa.reshape(-1).astype(cdt, copy=False)
    w = np.full(channels, w[0], dtype=cdt) if w.size != channels else np.ascontiguousarray(w)
    shp = xa.shape if xa.ndim else (1,)
    outer, inner = (shp[0], math.prod(shp[2:])) if xa.ndim >= 2 else (1, shp[0])
    if xa.ndim < 2:
        outer, channels, inner = 1, 1, math.prod(shp)
    arrays = [_prepare(xa, cdt, out, order="C") if prepare else xa]
    if g is not None:
        arrays.insert(0, _prepare(ga, cdt, out, order="C") if prepare else ga)
    return arrays, w, wa, rdtype, cdt, (outer, channels, inner), xa.ndim == 0 and out is None


def prelu_forward(rec: Activation, x, weight, out):
    fname = rec.name
    (xa,), w, _, rdtype, cdt, (outer, k, inner), scalar = _prelu_setup(fname, x, weight, out,
                                                                       prepare=False)
    if xa.ndim > 0 and xa.flags.c_contiguous and _half_direct(rdtype, out, (xa,)):
        # half-width storage, no float32 copies: channel slices through
        # leaky_relu's half loop, or rows with a slope per element
        res = out if out is not None else np.empty(xa.shape, dtype=rdtype)
        if inner >= 64:
            return _K.half_prelu(xa, w, res, outer, k, inner)
        wrow = np.repeat(w.astype(_F32), inner)
        return _K.half_prelu_rows(xa, wrow, res, outer, wrow.size)
    xc = _prepare(xa, cdt, out, order="C")
    direct = out is not None and out.dtype == cdt and out.flags.c_contiguous
    res = out if direct else np.empty(xc.shape, dtype=cdt)
    if res.size:
        _K.axis_apply(10, xc.reshape(-1), None, res.reshape(-1) if res.flags.c_contiguous else res,
                      outer, k, inner, 1, w)
    return _finish(res, rdtype, out, scalar)


def prelu_backward(rec: Activation, g, x, weight, out):
    """(grad_x, grad_weight); grad_weight has weight's shape and x's dtype."""
    fname = rec.name + "_backward"
    (ga, xa), w, wa, rdtype, cdt, (outer, k, inner), scalar = _prelu_setup(fname, x, weight, out,
                                                                           g, prepare=False)
    parts = np.zeros((outer, k))        # per outer slice and channel, in double
    if (xa.ndim > 0 and ga.flags.c_contiguous and xa.flags.c_contiguous
            and _half_direct(rdtype, out, (ga, xa))):
        # half-width storage: blocks converted in the kernel, no float32 copies
        res = out if out is not None else np.empty(xa.shape, dtype=rdtype)
        _K.half_prelu_backward(ga, xa, w.astype(_F32), res, parts, outer, k, inner)
    else:
        gc, xc = _prepare(ga, cdt, out, order="C"), _prepare(xa, cdt, out, order="C")
        direct = out is not None and out.dtype == cdt and out.flags.c_contiguous
        res = out if direct else np.empty(xc.shape, dtype=cdt)
        if res.size:
            _K.axis_apply(11, gc.reshape(-1), xc.reshape(-1), res.reshape(-1), outer, k, inner, 1,
                          w, parts)
    gw = parts.sum(axis=0)
    # one weight for every channel: the sum over them (k = 0, an empty channel
    # axis, gives its 0, as PyTorch)
    gw = gw.sum(keepdims=True) if wa.size == 1 and k != 1 else gw
    gw = gw.reshape(wa.shape).astype(rdtype)
    return _finish(res, rdtype, out, scalar), gw


def _generator(fname, rng):
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, numbers.Integral) and not isinstance(rng, bool):
        return np.random.default_rng(int(rng))
    if rng is None:
        raise ValueError(f"{fname}: training=True needs rng= (a numpy.random.Generator or an int "
                         f"seed); fastact never draws from a global random state")
    raise TypeError(f"{fname}: rng must be a numpy.random.Generator or an int seed, "
                    f"got {type(rng).__name__}")


def rrelu_forward(rec: Activation, x, params, training, rng, return_noise, out):
    import fastact
    fname = rec.name
    if _any_foreign(x, out):
        return _foreign(fname, (x,), out, lambda v, o: rrelu_forward(rec, v[0], params, training,
                                                                     rng, return_noise, o))
    lower, upper = params
    if not training:
        y = fastact.leaky_relu(x, (lower + upper) / 2, out=out)
        if not return_noise:
            return y
        a, _ = _as_array(fname, "x", x)
        cdt = _compute_dtype(np.asarray(y).dtype)
        slope = np.array((lower + upper) / 2, dtype=cdt)
        return y, np.where(a > 0, np.ones((), cdt), slope).astype(cdt)
    gen = _generator(fname, rng)
    a, rdtype = _input(fname, x, out)
    cdt = _compute_dtype(rdtype)
    # the slopes are drawn in the compute dtype (float32 for float32 and the
    # half types), then one pass makes noise and y (_kernels/_rrelu.pxi)
    u = gen.random(a.shape, dtype=cdt)
    noise = np.empty(a.shape, cdt)
    if rdtype in _HALF and a.dtype == rdtype and a.flags.c_contiguous and a.ndim:
        xs = a                          # half storage, read by the kernel
    else:
        xs = a if a.dtype == cdt and a.flags.c_contiguous else np.ascontiguousarray(_cast(a, cdt))
    direct = (out is not None and out.dtype == xs.dtype and out.flags.c_contiguous
              and (_same_buffer(out, xs) or not np.may_share_memory(out, xs)))
    y = out if direct else np.empty(a.shape, xs.dtype)
    _K.rrelu_train(xs.reshape(-1), u.reshape(-1), noise.reshape(-1), y.reshape(-1), lower, upper)
    res = y if direct else _finish(y, rdtype, out, a.ndim == 0 and out is None)
    return (res, noise) if return_noise else res


def rrelu_backward(rec: Activation, g, x, noise, params, training, out):
    import fastact
    fname = rec.name + "_backward"
    lower, upper = params
    if _any_foreign(g, x, noise, out):
        return _foreign(fname, (g, x, noise), out,
                        lambda v, o: rrelu_backward(rec, v[0], v[1], v[2], params, training, o))
    if noise is None:
        if training:
            raise ValueError(f"{fname}: training=True needs noise= (the slopes the forward used: "
                             f"rrelu(..., return_noise=True) returns them)")
        return fastact.leaky_relu_backward(g, x, negative_slope=(lower + upper) / 2, out=out)
    ga, gdt = _as_array(fname, "grad", g)
    xa, xdt = _as_array(fname, "x", x)
    na, ndt = _as_array(fname, "noise", noise)
    if not ga.shape == xa.shape == na.shape:
        raise ValueError(f"{fname}: grad, x and noise have shapes {ga.shape}, {xa.shape}, "
                         f"{na.shape}; they must be equal")
    rdtype = np.result_type(gdt, xdt)
    if out is not None:
        _check_out(fname, out, xa.shape, rdtype)
    if rdtype in _HALF and ga.ndim and (out is None or out.dtype in (rdtype, _F32)):
        # half-width storage, float32 arithmetic, one rounding: no float32 copies
        r = np.empty(ga.shape, rdtype) if out is None else out
        if _K.half_mul(ga, na, r) is not None:
            return r
    cdt = _compute_dtype(rdtype)
    gc, nc = (v if v.dtype == cdt else _cast(v, cdt) for v in (ga, na))
    direct = out is not None and out.dtype == cdt
    r = np.multiply(gc, nc, out=out if direct else None)
    return _finish(r, rdtype, out, ga.ndim == 0 and out is None)


# ------------------------------------------- bias + activation (elementwise) --

def _bias_array(fname, bias, xshape, cdt):
    """bias as a C-contiguous array of x's compute dtype and its length k (1:
    one bias for every element), checked against x's shape."""
    ba, _ = _as_array(fname, "bias", bias)
    if ba.ndim > 1 or (ba.ndim == 1 and ba.size != 1
                       and (not xshape or ba.shape[0] != xshape[-1])):
        last = f"x's last axis has length {xshape[-1]}" if xshape else "x is 0-d"
        raise ValueError(f"{fname}: bias has shape {ba.shape}; expected a scalar or a 1-D array "
                         f"of the length of x's last axis ({last})")
    return np.ascontiguousarray(ba.reshape(-1), dtype=cdt), ba


def _any_foreign(*values):
    return any(_route(v) == "foreign" for v in values if v is not None)


def _plain(*values):
    """Whether the bias path's kernels take these directly (NumPy arrays and
    Python values; not pandas, dask, torch tensors, ...)."""
    return all(_route(v) == "array" for v in values if v is not None)


def bias_forward(rec: Activation, kid: int, x, bias, out, params, where=True, dtype=None):
    """act(x + bias) in one pass (the sum rounded to x's dtype first)."""
    fname = rec.name
    if _any_foreign(x, bias, out):
        return _foreign(fname, (x, bias), out,
                        lambda v, o: bias_forward(rec, kid, v[0], v[1], o, params, where, dtype))
    if not _plain(x, bias, out) or where is not True or dtype is not None or _has_arrays(params):
        # other array types, where=, dtype=, parameter arrays: x + bias, then act
        import fastact
        return getattr(fastact, rec.name)(_biased(fname, x, bias), *params[:len(rec.params)],
                                          **_variant_kw(rec, kid), out=out, where=where,
                                          dtype=dtype)
    a, rdtype = _input(fname, x, out)
    cdt = _compute_dtype(rdtype)
    _check_params_fit(fname, rec, cdt, params)
    b, _ = _bias_array(fname, bias, a.shape, cdt)
    c = _prepare(a, cdt, out, order="C")
    direct = out is not None and out.dtype == cdt and out.flags.c_contiguous
    res = out if direct else np.empty(a.shape, dtype=cdt)
    _K.bias_forward(kid, c, b, res, None, *_params_tuple(params))
    return _finish(res, rdtype, out, a.ndim == 0 and out is None)


def bias_backward(rec: Activation, kid: int, form: int, g, a, bias, out, params, where=True,
                  dtype=None):
    """(grad_x, grad_bias) of act(x + bias); from y (form 1) a is the forward's
    output act(x + bias) and the bias is used only for grad_bias's shape."""
    fname = rec.name + "_backward"
    aname = "xy"[form]
    if _any_foreign(g, a, bias, out):
        return _foreign(fname, (g, a, bias), out,
                        lambda v, o: bias_backward(rec, kid, form, v[0], v[1], v[2], o, params,
                                                   where, dtype))
    if not _plain(g, a, bias, out) or where is not True or dtype is not None or _has_arrays(params):
        import fastact
        bwd = getattr(fastact, fname)
        kw = dict(zip([p.name for p in rec.params], params), **_variant_kw(rec, kid))
        s = _biased(fname, a, bias) if form == 0 else a
        gx = bwd(g, s, **kw, out=out, where=where, dtype=dtype) if form == 0 else \
            bwd(g, y=s, **kw, out=out, where=where, dtype=dtype)
        return gx, _sum_to_bias(fname, gx, bias)
    ga, aa, rdtype = _grad_pair(fname, g, aname, a, out)
    cdt = _compute_dtype(rdtype)
    _check_params_fit(fname, rec, cdt, params)
    b, ba = _bias_array(fname, bias, aa.shape, cdt)
    gc = _prepare(ga, cdt, out, order="C")
    ac = _prepare(aa, cdt, out, order="C")
    if out is not None and ac.__array_interface__["data"][0] == out.__array_interface__["data"][0]:
        ac = ac.copy()                  # out is x (or y) itself: the kernel writes over grad only
    direct = out is not None and out.dtype == cdt and out.flags.c_contiguous
    res = out if direct else np.empty(aa.shape, dtype=cdt)
    parts = _K.bias_backward(kid, form, gc, ac, b, res, *_params_tuple(params))
    gb = parts.sum(axis=0)              # NumPy's pairwise sum over the items' partial sums
    return (_finish(res, rdtype, out, aa.ndim == 0 and out is None),
            gb.reshape(ba.shape).astype(rdtype))


def and_derivative(rec: Activation, kid: int, x, bias, params):
    """(act(x + bias), act'(x + bias)) in one pass; bias may be None."""
    fname = rec.name + "_and_derivative"
    if _is_dask(x) or _has_arrays(params):
        raise TypeError(f"{fname}: x must be an array (not a dask array) and the parameters "
                        f"floats; use {rec.name}() and {rec.name}_backward() for those")
    if _any_foreign(x, bias):
        return _foreign(fname, (x, bias), None,
                        lambda v, o: and_derivative(rec, kid, v[0], v[1], params))
    a, rdtype = _as_array(fname, "x", np.asarray(x) if _route(x) == "ufunc" else x)
    cdt = _compute_dtype(rdtype)
    _check_params_fit(fname, rec, cdt, params)
    b = None if bias is None else _bias_array(fname, bias, a.shape, cdt)[0]
    c = np.ascontiguousarray(a, dtype=cdt)
    y, d = np.empty(a.shape, dtype=cdt), np.empty(a.shape, dtype=cdt)
    _K.bias_forward(kid, c, b, y, d, *_params_tuple(params))
    scalar = a.ndim == 0
    return _finish(y, rdtype, None, scalar), _finish(d, rdtype, None, scalar)


def _biased(fname, x, bias):
    """x + bias for the general path, the sum in x's dtype (bias cast to it)."""
    dt = getattr(x, "dtype", None)
    if dt is None:
        dt = _as_array(fname, "x", x)[1]
    ba, _ = _as_array(fname, "bias", bias)
    shape = np.shape(x)
    _bias_array(fname, ba, shape, _compute_dtype(np.dtype(dt)) if np.dtype(dt).kind == "f"
                else _F64)
    return x + ba.astype(dt if np.dtype(dt).kind == "f" else _F64)


def _sum_to_bias(fname, gx, bias):
    """grad_x summed over every axis but the last, in bias's shape."""
    ba, _ = _as_array(fname, "bias", bias)
    axes = tuple(range(np.ndim(gx) - 1)) if ba.size != 1 else None
    s = gx.sum(axis=axes, dtype=np.float64)
    return np.reshape(s, ba.shape).astype(getattr(gx, "dtype", _F64))


def _variant_kw(rec, kid):
    """{variant name: value} choosing kernel kid (gelu's approximate), or {}."""
    if not rec.variants:
        return {}
    from fastact._registry import KERNELS
    kernel = KERNELS[kid][0]
    vname, choices = rec.variants
    return {vname: next(v for v, k in choices if k == kernel)}


def apply_derivative(grad, d, *, bias=None, out=None):
    """grad * d, the backward after NAME_and_derivative; with bias= (the
    forward's bias: its shape) also grad_bias, the sum over every axis but the
    last, from the same pass: (grad * d, grad_bias).

    grad and d: arrays of one shape (d from NAME_and_derivative); the result
    has their common dtype.  grad_bias is accumulated as NAME_backward's with
    bias= (in double, blocked, per thread).  out: where to write grad * d (it
    may be grad itself).
    """
    fname = "apply_derivative"
    if bias is None:
        return np.multiply(grad, d, out=out)
    ga, da, rdtype = _grad_pair(fname, grad, "d", d, out)
    cdt = _compute_dtype(rdtype)
    b, ba = _bias_array(fname, bias, da.shape, cdt)
    gc = _prepare(ga, cdt, out, order="C")
    dc = _prepare(da, cdt, out, order="C")
    direct = out is not None and out.dtype == cdt and out.flags.c_contiguous
    res = out if direct else np.empty(da.shape, dtype=cdt)
    parts = _K.bias_backward(-1, 0, gc, dc, b, res)
    gb = parts.sum(axis=0)
    return (_finish(res, rdtype, out, da.ndim == 0 and out is None),
            gb.reshape(ba.shape).astype(rdtype))
