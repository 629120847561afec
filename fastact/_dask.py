"""Dask arrays: lazy, chunk-by-chunk fastact.

Elementwise functions need nothing here: they go through fastact.ufuncs,
whose ``__array_ufunc__`` dispatch dask turns into a lazy blockwise map (so
``fa.relu(dask_x)`` is lazy, computed chunk by chunk by fastact's kernels, on
a ``dask.distributed`` cluster by the workers).  ``fastact._api`` calls the
functions below for the functions along an axis, which a ufunc cannot carry
chunk by chunk.  Nothing here is specific to one activation.

* Along an axis (softmax): the array is rechunked so that the axis is one
  chunk (each block holds whole rows), then ``map_blocks``; in the backward
  grad gets the very chunks of y.
* Along an axis, changing its length (glu, maxout): the same, the output's
  chunks along the axis being the shortened length; in the backward grad
  gets x's chunks but along the axis.
* prelu and rrelu(training=True) have no lazy path: their arguments are
  computed into NumPy arrays (np.asarray) and the result is a NumPy array.

``out=`` cannot be a lazy result's destination: it is a TypeError.  The
result is element for element what fastact gives on the whole NumPy array.
"""
from __future__ import annotations

import numpy as np


def _da():
    try:
        import dask.array as da
    except ImportError as exc:                       # pragma: no cover - dask optional
        raise ImportError("fastact: dask arrays need dask; pip install 'fastact[dask]'") from exc
    return da


def no_out(fname, out):
    if out is not None:
        raise TypeError(f"{fname}: out= is not supported with dask arrays (the result is lazy); "
                        f"assign the returned dask array instead, or compute it and pass NumPy arrays")


# Module-level block functions (picklable by reference for distributed workers).

def _fwd_block(block, name, kw):
    import fastact
    return getattr(fastact, name)(block, **kw)


def _bwd_block(g, a, name, src, kw):
    import fastact
    fn = getattr(fastact, name + "_backward")
    return fn(g, a, **kw) if src == "x" else fn(g, y=a, **kw)


def _as_dask(da, value, like):
    if type(value).__module__.startswith("dask."):
        return value
    value = np.asarray(value)
    if value.shape == like.shape:
        return da.from_array(value, chunks=like.chunks)
    return da.from_array(value)


def _check_shapes(fname, g, a, aname):
    if g.shape != a.shape:
        raise ValueError(f"{fname}: grad has shape {g.shape} but {aname} has shape {a.shape}; "
                         f"they must be equal")


def along_axis(rec, direction, arrays, out, axis):
    """fastact NAME / NAME_backward along `axis` over dask arrays.

    Each block is rechunked to hold whole rows along the axis, so every row is
    computed by one kernel call exactly as on the whole array.
    """
    from fastact import _api
    da = _da()
    fname = rec.name if direction == "forward" else rec.name + "_backward"
    no_out(fname, out)
    first = arrays[0] if type(arrays[0]).__module__.startswith("dask.") else arrays[-1]
    ax = _api._axis(fname, axis, first.ndim)
    if direction == "forward":
        (x,) = arrays
        if x.ndim:
            x = x.rechunk({ax: -1})
        dtype = _fwd_block(np.zeros((1,) * max(x.ndim, 1), dtype=x.dtype), rec.name,
                           {"axis": ax}).dtype
        return da.map_blocks(_fwd_block, x, rec.name, {"axis": ax}, dtype=dtype,
                             meta=np.empty((0,) * x.ndim, dtype=dtype))
    g, a = arrays
    like = g if type(g).__module__.startswith("dask.") else a
    g, a = _as_dask(da, g, like), _as_dask(da, a, like)
    _check_shapes(fname, g, a, direction)
    if a.ndim:
        a = a.rechunk({ax: -1})
        g = g.rechunk(a.chunks)
    one = (1,) * max(a.ndim, 1)
    dtype = _bwd_block(np.zeros(one, dtype=g.dtype), np.zeros(one, dtype=a.dtype),
                       rec.name, direction, {"axis": ax}).dtype
    return da.map_blocks(_bwd_block, g, a, rec.name, direction, {"axis": ax}, dtype=dtype,
                         meta=np.empty((0,) * g.ndim, dtype=dtype))


def along_axis_x(rec, direction, arrays, out, axis, params):
    """glu / maxout (and their backward, direction "x") along `axis` over dask
    arrays: x rechunked to hold whole rows along the axis, as along_axis."""
    from fastact import _api
    da = _da()
    fname = rec.name if direction == "forward" else rec.name + "_backward"
    no_out(fname, out)
    x = arrays[-1]
    if not type(x).__module__.startswith("dask."):
        x = da.from_array(np.asarray(x))
    if x.ndim == 0:
        raise ValueError(f"{fname}: x must have at least one dimension")
    ax, _, k, _, _, out_shape = _api._shaped_setup(rec, fname, x.shape, axis, params)
    kw = dict(params, axis=ax)
    x = x.rechunk({ax: -1})
    short = tuple((out_shape[ax],) if i == ax else c for i, c in enumerate(x.chunks))
    one = tuple(k if i == ax else 1 for i in range(x.ndim))
    if direction == "forward":
        dtype = _fwd_block(np.zeros(one, dtype=x.dtype), rec.name, kw).dtype
        return da.map_blocks(_fwd_block, x, rec.name, kw, dtype=dtype, chunks=short,
                             meta=np.empty((0,) * x.ndim, dtype=dtype))
    g = arrays[0]
    if not type(g).__module__.startswith("dask."):
        g = da.from_array(np.asarray(g))
    if g.shape != tuple(out_shape):
        raise ValueError(f"{fname}: grad has shape {g.shape}; expected {tuple(out_shape)}, the "
                         f"shape of {rec.name}(x) for x of shape {x.shape}")
    g = g.rechunk(short)
    gone = tuple(out_shape[ax] if i == ax else 1 for i in range(x.ndim))
    dtype = _bwd_block(np.zeros(gone, dtype=g.dtype), np.zeros(one, dtype=x.dtype),
                       rec.name, "x", kw).dtype
    return da.map_blocks(_bwd_block, g, x, rec.name, "x", kw, dtype=dtype, chunks=x.chunks,
                         meta=np.empty((0,) * x.ndim, dtype=dtype))
