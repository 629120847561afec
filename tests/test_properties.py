"""Property tests (hypothesis) over every registered function.

For random shapes (0-d to 5-d, empty included), dtypes (float16/32/64,
integers, bool), layouts (steps, negative steps, transposes), values (+-0,
subnormals, +-inf, nan, huge) and out= modes (none, a new array in any
layout, in place), on a random CPU build and thread count:

* the result equals the same function on contiguous copies, bit for bit
  (nan payloads aside);
* it is close to the NumPy baseline (fastact._baseline) where that is finite
  and the inputs are moderate (a loose check: it catches wrong layouts, signs
  and functions, not ULPs, which test_accuracy covers);
* inputs that are not out are unchanged, byte for byte.

Kinds "elementwise", "softmax" and "axis_x" (glu, maxout: the axis length
is drawn among those the record allows, grad has the output's shape; the
baseline check is the forward only, against a NumPy expression here) are
covered; "prelu" and "rrelu" (a weight argument; an rng and noise) are
skipped with that reason (test_prelu_rrelu covers them).  Parameters: the
default or the registry's example for required ones, or a random valid value
(integers for integer parameters), and the record's cross-parameter
constraints hold.
Example counts: FASTACT_HYPOTHESIS_EXAMPLES (default 60 per test).
"""
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fastact as fa
from fastact import _dispatch
from fastact._baseline import NUMPY

from conftest import BUILDS, small_parallel_threshold, threads_exactly

KINDS = ("elementwise", "softmax", "axis_x")
RECORDS = [a for a in fa.activations().values()]
EXAMPLES = int(os.environ.get("FASTACT_HYPOTHESIS_EXAMPLES", "60"))
# Derandomized, so that CI sees the same examples every run; set
# FASTACT_HYPOTHESIS_RANDOM=1 to explore new ones (as a bug hunt, not in CI).
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, database=None,
                    derandomize=os.environ.get("FASTACT_HYPOTHESIS_RANDOM", "") != "1",
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

DTYPES = [np.float32, np.float64, np.float16, np.int8, np.int32, np.int64, np.uint16, np.bool_]


def _cases():
    """(record, direction) for every function; direction 'forward', 'x' or 'y'."""
    out = []
    for rec in RECORDS:
        for d in ("forward",) + tuple(rec.backward_from):
            out.append(pytest.param(rec, d, id=f"{rec.name}-{d}"))
    return out


def _result_dtype(*dtypes):
    ds = [np.dtype(np.float64) if np.dtype(d).kind in "biu" else np.dtype(d) for d in dtypes]
    return np.result_type(*ds)


def _values(rng, n, dtype):
    """n values of dtype: specials, subnormals, huge and ordinary numbers."""
    dt = np.dtype(dtype)
    if dt.kind == "b":
        return rng.integers(0, 2, n).astype(bool)
    if dt.kind in "iu":
        info = np.iinfo(dt)
        pick = rng.integers(0, 3, n)
        small = rng.integers(max(info.min, -40), min(info.max, 40) + 1, n)
        big = rng.integers(info.min, info.max, n, endpoint=True)
        return np.where(pick == 0, big, small).astype(dt)
    fi = np.finfo(dt)
    specials = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, fi.max, -fi.max, fi.tiny, -fi.tiny,
                         fi.smallest_subnormal, -fi.smallest_subnormal, fi.tiny / 3, 1.0, -1.0,
                         fi.eps, 0.5, -0.5], dtype=dt)
    mag = np.exp(rng.uniform(np.log(float(fi.smallest_subnormal)), np.log(float(fi.max)), n))
    ordinary = rng.standard_normal(n) * 5
    kind = rng.integers(0, 8, n)
    with np.errstate(over="ignore"):
        v = np.where(kind < 4, ordinary, np.where(kind < 6, mag * rng.choice([-1, 1], n),
                                                   rng.choice(specials.astype(np.float64), n)))
        return v.astype(dt)


@st.composite
def arrays(draw, shape, dtype):
    """An array of `shape`, in a random layout over a random buffer."""
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    nd = len(shape)
    if nd == 0:
        return _values(rng, 1, dtype).reshape(())
    perm = draw(st.permutations(range(nd))) if nd > 1 else list(range(nd))
    steps = [draw(st.sampled_from([1, 1, 2, -1, -2, 3])) for _ in range(nd)]
    # the buffer has the permuted shape, stretched by the steps
    pshape = [shape[p] for p in perm]
    bshape = [max(n * abs(s), 1) for n, s in zip(pshape, steps)]
    base = _values(rng, int(np.prod(bshape)), dtype).reshape(bshape)
    view = base[tuple(slice(None, None, s) if n else slice(0, 0) for s, n in zip(steps, pshape))]
    view = view[tuple(slice(0, n) for n in pshape)]
    view = view.transpose(np.argsort(perm))
    assert view.shape == tuple(shape), (view.shape, shape)
    return view


shapes = st.lists(st.integers(0, 4), min_size=0, max_size=5).filter(lambda s: np.prod(s) <= 600)


def _params(draw, rec, direction):
    """Keyword parameters: defaults (examples for required ones) or random
    valid values; the axis is drawn by the caller."""
    if rec.kind == "softmax":
        return {}
    params = {}
    for p in rec.params:
        if draw(st.booleans()):
            params[p.name] = rec.examples[p.name]
        elif p.integer:
            lo = int(np.ceil(p.low)) if p.low != -np.inf else -10
            hi = int(p.high) if p.high != np.inf else 10
            v = draw(st.integers(lo + (1 if p.low_open and lo == p.low else 0), hi))
            params[p.name] = v if not (p.nonzero and v == 0) else rec.examples[p.name]
        else:
            lo = p.low if p.low != -np.inf else -10.0
            hi = p.high if p.high != np.inf else 10.0
            v = draw(st.floats(lo, hi, allow_nan=False, exclude_min=p.low_open))
            if p.nonzero and v == 0:
                v = rec.examples[p.name]
            params[p.name] = v
        assert p.check(params[p.name]) is None, (p.name, params[p.name])
    for cond, pname, _ in rec.constraints:
        if not eval(cond, {}, params):
            # an ordering (min_val <= max_val): swap the two drawn values
            other = next(q.name for q in rec.params if q.name != pname and q.name in cond)
            params[pname], params[other] = params[other], params[pname]
    if not all(eval(cond, {}, params) for cond, _, _ in rec.constraints):
        params = dict(rec.examples)
    if direction == "y" and rec.y_requires and not eval(rec.y_requires, {}, dict(params or rec.examples)):
        params = dict(rec.examples)
    return params


def _axis_x_reference(rec, x, kw):
    """(forward of x in float64, group(m, reduce)) for glu / maxout: group
    reduces an array of x's shape over each output element's inputs."""
    ax = kw["axis"] % x.ndim
    if rec.name == "glu":
        def group(m, red):
            a, b = np.split(m, 2, axis=ax)
            return red(np.stack([a, b]), axis=0)
        a, b = np.split(x, 2, axis=ax)
        return a / (1 + np.exp(-b)), group
    if rec.name == "maxout":
        pc = kw["pieces"]
        s = x.shape[:ax] + (x.shape[ax] // pc, pc) + x.shape[ax + 1:]

        def group(m, red):
            return red(m.reshape(s), axis=ax + 1)
        return x.reshape(s).max(axis=ax + 1), group
    return None, None


def _axis_x_baseline_check(rec, direction, inputs, kw, result, rdt):
    if direction != "forward" or result.size == 0:
        return
    x = np.asarray(inputs[0], dtype=np.float64)
    with np.errstate(all="ignore"):
        expect, group = _axis_x_reference(rec, x, kw)
        if expect is None:
            return
        ok = group(np.isfinite(x) & (np.abs(x) <= 1e4), np.all) & np.isfinite(expect)
        scale = group(np.abs(x), np.max)
        tol = {np.dtype(np.float16): 4e-3, np.dtype(np.float32): 1e-5}.get(rdt, 1e-11)
        got = np.asarray(result, dtype=np.float64)
        bad = ok & ~(np.abs(got - expect) <= tol * 4 * (1 + scale))
    assert not bad.any(), (f"{rec.name} forward: differs from the NumPy expression: got "
                           f"{got[bad][:3]}, expected {expect[bad][:3]}")


def _new_out(draw, shape, dtype):
    kind = draw(st.sampled_from(["C", "F", "strided", "reversed"]))
    if kind == "C" or not shape:
        return np.full(shape, 7, dtype)
    if kind == "F":
        return np.asfortranarray(np.full(shape, 7, dtype))
    big = np.full(tuple(n * 2 for n in shape), 7, dtype)
    if kind == "strided":
        return big[tuple(slice(None, None, 2) for _ in shape)]
    return big[tuple(slice(None, None, -2) for _ in shape)]


def _call(rec, direction, inputs, kw, out):
    extra = {} if out is None else {"out": out}
    if direction == "forward":
        return getattr(fa, rec.name)(inputs[0], **kw, **extra)
    bwd = getattr(fa, rec.name + "_backward")
    g, a = inputs
    if direction == "x":
        return bwd(g, a, **kw, **extra)
    return bwd(g, y=a, **kw, **extra)


def _bits(r):
    """The bytes of r, with every nan made the default quiet nan: which nan
    comes out of an operation on two nans (sign, payload) is not specified
    by IEEE 754 and differs between the vector loop and its scalar tail."""
    a = np.array(r, copy=True, order="C")
    a[np.isnan(a)] = np.nan
    return a.dtype, a.shape, a.tobytes()


def _baseline_check(rec, direction, inputs, kw, result, rdt):
    base_fn = NUMPY.get(rec.name, {}).get(direction)
    if base_fn is None or result.size == 0:
        return
    f64 = [np.asarray(v, dtype=np.float64) for v in inputs]
    bound = 1e4
    ok = np.ones(result.shape, bool)
    for v in f64:
        ok &= np.isfinite(v) & (np.abs(v) <= bound)
    p = dict(kw)
    if rec.kind == "softmax":
        ax = kw.get("axis", -1)
        if result.ndim == 0:
            f64 = [v.reshape(1) for v in f64]
            ok = ok.reshape(1)
            ax = 0
        ok = np.broadcast_to(ok.all(axis=ax, keepdims=True), ok.shape)
        p = {"axis": ax}
    else:
        p = {**rec.examples, **kw}
    with np.errstate(all="ignore"):
        if direction == "forward":
            expect = base_fn(f64[0], None, p)
        else:
            expect = base_fn(f64[1], f64[0], p)
        expect = np.asarray(expect, dtype=np.float64).reshape(np.shape(ok))
        ok = ok & np.isfinite(expect) & (np.abs(expect) <= float(np.finfo(rdt).max) / 2)
        tol = {np.dtype(np.float16): 4e-3, np.dtype(np.float32): 1e-5}.get(rdt, 1e-11)
        g = np.abs(f64[0]) if direction != "forward" else 0.0
        a = np.abs(f64[-1])
        if rec.kind == "softmax" and direction != "forward":
            # y * (g - sum(g*y)): the scale of a row is max|g| over it
            g = np.broadcast_to(np.max(np.abs(f64[0]), axis=p["axis"], keepdims=True), ok.shape)
        atol = tol * (1 + g) * (1 + a) * 4
        got = np.asarray(result, dtype=np.float64).reshape(np.shape(ok))
        bad = ok & ~(np.abs(got - expect) <= atol + tol * np.abs(expect))
    assert not bad.any(), (f"{rec.name} {direction}: differs from the NumPy baseline at "
                           f"{[v[bad][:3] for v in f64]}: got {got[bad][:3]}, expected {expect[bad][:3]}")


@pytest.mark.parametrize("rec, direction", _cases())
@SETTINGS
@given(data=st.data())
def test_property(rec, direction, data):
    if rec.kind not in KINDS:
        pytest.skip(f"kind {rec.kind!r} (a weight / rng argument) not covered by the generic "
                    "property tests; see test_prelu_rrelu")
    draw = data.draw
    shape = tuple(draw(shapes))
    dtype = draw(st.sampled_from(DTYPES))
    kw = _params(draw, rec, direction)
    if rec.kind == "axis_x" and not shape:
        shape = (draw(st.integers(0, 4)),)          # at least one dimension
    if rec.kind in ("softmax", "axis_x"):
        n = max(len(shape), 1)
        kw["axis"] = draw(st.integers(-n, n - 1))
    out_shape = shape                                # the forward's shape
    if rec.kind == "axis_x":
        # an axis length the record allows (glu: even; maxout: a multiple of pieces)
        cond = rec.extra["k_requires"][0]
        env = {k: v for k, v in kw.items() if k != "axis"}
        ks = [k for k in range(0, 13) if eval(cond, {}, {"k": k, **env})]
        k = draw(st.sampled_from(ks))
        ax = kw["axis"] % len(shape)
        shape = shape[:ax] + (k,) + shape[ax + 1:]
        out_shape = shape[:ax] + (eval(rec.extra["out_len"], {}, {"k": k, **env}),) + shape[ax + 1:]
    if direction == "forward":
        inputs = [draw(arrays(shape, dtype))]
    else:
        gdtype = draw(st.sampled_from([dtype, dtype, np.float32, np.float64]))
        a = draw(arrays(shape, dtype))
        if direction == "y" and np.dtype(dtype).kind == "f" and draw(st.booleans()):
            # a realistic y: the forward output, in the drawn layout
            with np.errstate(all="ignore"):
                fy = np.asarray(getattr(fa, rec.name)(np.ascontiguousarray(a).reshape(a.shape),
                                                      **{k: v for k, v in kw.items()}))
            if a.flags.writeable and a.ndim:
                a[...] = fy
        inputs = [draw(arrays(out_shape, gdtype)), a]
    # the result has the forward's shape, or x's for a backward
    rshape = out_shape if direction == "forward" else shape
    rdt = _result_dtype(*[v.dtype for v in inputs])
    out_mode = draw(st.sampled_from(["none", "new", "inplace"]))
    # in place: out is an input of the result's shape (axis_x's backward: x)
    target = next((v for v in inputs if v.shape == rshape), inputs[0])
    if out_mode == "inplace" and not (target.dtype == rdt and target.flags.writeable and target.ndim
                                      and target.shape == rshape):
        out_mode = "new"
    build = draw(st.sampled_from(BUILDS))
    nthreads = draw(st.sampled_from([1, 2]))

    snapshot = [(v, v.copy()) for v in inputs]
    with _dispatch.use(build), threads_exactly(nthreads), small_parallel_threshold(), \
            np.errstate(all="ignore"):
        ref = _call(rec, direction, [np.ascontiguousarray(v).reshape(v.shape) for v in inputs], kw, None)
        if out_mode == "none":
            r = _call(rec, direction, inputs, kw, None)
        elif out_mode == "new":
            out = _new_out(draw, rshape, rdt)
            r = _call(rec, direction, inputs, kw, out)
            assert r is out
        else:
            out = target
            r = _call(rec, direction, inputs, kw, out)
            assert r is out
    if shape == () and out_mode == "none":
        assert isinstance(r, np.generic), type(r)
    assert np.asarray(r).dtype == rdt
    assert _bits(r) == _bits(ref), f"{rec.name} {direction}: differs from the contiguous-copy result"
    for v, before in snapshot:
        if out_mode == "inplace" and v is target:
            continue
        assert v.tobytes() == before.tobytes(), "an input that is not out changed"
    assert np.shape(r) == rshape
    if rec.kind == "axis_x":
        _axis_x_baseline_check(rec, direction, [b for _, b in snapshot], kw, np.asarray(r), rdt)
    else:
        _baseline_check(rec, direction, [b for _, b in snapshot], kw, np.asarray(r), rdt)
