"""Dask arrays: lazy, chunk-by-chunk fastact.

``fastact._api`` calls these when an argument of a public function is a dask
array, so ``fa.relu(dask_x)`` returns a lazy dask array whose every chunk is
computed by fastact's kernels (on a ``dask.distributed`` cluster, by the
workers).  Nothing here is specific to one activation: the record says what
to call and with which parameters.

* Elementwise forward: ``map_blocks`` over the same chunks.
* Elementwise backward: x (or y) is rechunked to the chunks of grad (a NumPy
  operand is wrapped with the chunks of the dask one), then ``map_blocks``.
* Along an axis (softmax): the array is rechunked so that the axis is one
  chunk (each block holds whole rows), then ``map_blocks``; in the backward
  grad gets the very chunks of y.

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


def _param_dict(rec, params):
    return {p.name: v for p, v in zip(rec.params, params)}


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


def elementwise(rec, direction, arrays, out, params):
    """fastact NAME / NAME_backward over dask arrays, chunk by chunk.

    direction: "forward" (arrays = (x,)), "x" or "y" (arrays = (grad, x or y)).
    """
    da = _da()
    kw = _param_dict(rec, params)
    if direction == "forward":
        no_out(rec.name, out)
        (x,) = arrays
        dtype = _fwd_block(np.zeros(1, dtype=x.dtype), rec.name, kw).dtype
        return da.map_blocks(_fwd_block, x, rec.name, kw, dtype=dtype,
                             meta=np.empty((0,) * x.ndim, dtype=dtype))
    fname = rec.name + "_backward"
    no_out(fname, out)
    g, a = arrays
    like = g if type(g).__module__.startswith("dask.") else a
    g, a = _as_dask(da, g, like), _as_dask(da, a, like)
    _check_shapes(fname, g, a, direction)
    if a.chunks != g.chunks:
        a = a.rechunk(g.chunks)
    dtype = _bwd_block(np.zeros(1, dtype=g.dtype), np.zeros(1, dtype=a.dtype),
                       rec.name, direction, kw).dtype
    return da.map_blocks(_bwd_block, g, a, rec.name, direction, kw, dtype=dtype,
                         meta=np.empty((0,) * g.ndim, dtype=dtype))


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
