"""dask arrays: lazy, chunk by chunk, bit for bit equal to fastact on NumPy."""
import numpy as np
import pytest

da = pytest.importorskip("dask.array")
import dask                                                   # noqa: E402

import fastact as fa                                          # noqa: E402
from conftest import ELEMENTWISE, default_params              # noqa: E402

AXIS = [r for r in fa.activations().values() if r.kind == "softmax"]


def _data(dtype=np.float64, shape=(60, 45)):
    rng = np.random.default_rng(11)
    return (rng.uniform(-6, 6, shape).astype(dtype), rng.standard_normal(shape).astype(dtype))


def _check_elementwise(rec, dtype):
    x, g = _data(dtype)
    fwd, bwd = getattr(fa, rec.name), getattr(fa, rec.name + "_backward")
    kw = default_params(rec)
    dx = da.from_array(x, chunks=(16, 20))
    dg = da.from_array(g, chunks=(25, 9))           # other chunks than x: aligned
    y = fwd(dx, **kw)
    assert isinstance(y, da.Array) and y.dtype == dtype
    np.testing.assert_array_equal(y.compute(), fwd(x, **kw))
    for src in rec.backward_from:
        if src == "y" and rec.y_requires and not eval(rec.y_requires, {}, kw):
            continue
        a = fwd(x, **kw) if src == "y" else x
        da_a = da.from_array(a, chunks=(16, 20))
        call = (lambda G, A: bwd(G, A, **kw)) if src == "x" else (lambda G, A: bwd(G, y=A, **kw))
        want = call(g, a)
        for G, A in ((dg, da_a), (g, da_a), (dg, a)):       # dask/NumPy mixes
            r = call(G, A)
            assert isinstance(r, da.Array) and r.dtype == want.dtype
            np.testing.assert_array_equal(r.compute(), want)


def _check_axis(rec, dtype):
    x, g = _data(dtype)
    fwd, bwd = getattr(fa, rec.name), getattr(fa, rec.name + "_backward")
    dx = da.from_array(x, chunks=(16, 20))
    dg = da.from_array(g, chunks=(25, 9))
    for axis in (0, 1, -1):
        y = fwd(dx, axis=axis)
        assert y.dtype == dtype
        ynp = fwd(x, axis=axis)
        np.testing.assert_array_equal(y.compute(), ynp)
        np.testing.assert_array_equal(bwd(dg, y=y, axis=axis).compute(),
                                      bwd(g, y=ynp, axis=axis))
        np.testing.assert_array_equal(bwd(g, y=y, axis=axis).compute(), bwd(g, y=ynp, axis=axis))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("rec", ELEMENTWISE, ids=lambda r: r.name)
def test_elementwise_threaded(rec, dtype):
    with dask.config.set(scheduler="threads"):
        _check_elementwise(rec, dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("rec", AXIS, ids=lambda r: r.name)
def test_axis_threaded(rec, dtype):
    with dask.config.set(scheduler="threads"):
        _check_axis(rec, dtype)


def test_lazy_and_dtypes():
    x = da.from_array(np.arange(-5, 5, dtype=np.int64), chunks=3)
    y = fa.relu(x)
    assert isinstance(y, da.Array) and y.dtype == np.float64     # as fastact on NumPy
    np.testing.assert_array_equal(y.compute(), fa.relu(np.arange(-5, 5)))
    h = da.from_array(np.linspace(-2, 2, 9).astype(np.float16), chunks=4)
    assert fa.sigmoid(h).dtype == np.float16
    np.testing.assert_array_equal(fa.sigmoid(h).compute(), fa.sigmoid(h.compute()))


def test_errors():
    x = da.ones((4, 4), chunks=2)
    with pytest.raises(TypeError, match="out= is not supported with dask"):
        fa.relu(x, out=np.empty((4, 4)))
    with pytest.raises(TypeError, match="out= is not supported with dask"):
        fa.relu_backward(x, x, out=np.empty((4, 4)))
    with pytest.raises(TypeError, match="out= is not supported with dask"):
        fa.softmax(x, out=np.empty((4, 4)))
    with pytest.raises(ValueError, match="must be equal"):
        fa.relu_backward(da.ones((4, 3), chunks=2), x)
    with pytest.raises(ValueError, match="out of range"):
        fa.softmax(x, axis=2)


@pytest.fixture(scope="module")
def client():
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                       dashboard_address=None)
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


def test_distributed(client):
    x, g = _data(np.float32)
    dx, dg = da.from_array(x, chunks=(16, 20)), da.from_array(g, chunks=(25, 9))
    lazy, want = [], []
    for rec in ELEMENTWISE:                      # all in one compute: one round trip
        fwd, bwd = getattr(fa, rec.name), getattr(fa, rec.name + "_backward")
        kw = default_params(rec)
        lazy.append(fwd(dx, **kw))
        want.append(fwd(x, **kw))
        if "x" in rec.backward_from:
            lazy.append(bwd(dg, dx, **kw))
            want.append(bwd(g, x, **kw))
    for rec in AXIS:
        fwd, bwd = getattr(fa, rec.name), getattr(fa, rec.name + "_backward")
        for axis in (0, 1):
            lazy += [fwd(dx, axis=axis), bwd(dg, y=fwd(dx, axis=axis), axis=axis)]
            want += [fwd(x, axis=axis), bwd(g, y=fwd(x, axis=axis), axis=axis)]
    for got, w in zip(dask.compute(*lazy), want):
        np.testing.assert_array_equal(got, w)
    fut = client.compute(fa.tanh(da.from_array(x, chunks=(20, 15))))
    np.testing.assert_array_equal(fut.result(), fa.tanh(x))


# ---- issue 14: every record, every variant, other parameter values ----

def _other_values(rec):
    """Parameter sets to run: the defaults (examples for required ones) and,
    for each parameter, one other valid value (the constraints respected)."""
    from fastact._registry import evaluate
    base = default_params(rec)
    sets = [base]
    for p in rec.params:
        cands = [3, 6] if p.integer else [base[p.name] + 0.75, base[p.name] * 2 + 0.3, 0.5, 1.5, -0.5, 2.5]
        for v in cands:
            if v == base[p.name] or p.check(v):
                continue
            kw = dict(base, **{p.name: v})
            if all(evaluate(cond, kw) for cond, _, _ in rec.constraints):
                sets.append(kw)
                break
        else:
            raise AssertionError(f"no other value found for {rec.name}'s {p.name}")
    variants = [{}] if not rec.variants else [{rec.variants[0]: v} for v, _ in rec.variants[1]]
    return [dict(s, **v) for s in sets for v in variants]


def _equal(got, want):
    if isinstance(want, tuple):
        assert isinstance(got, tuple) and len(got) == len(want)
        for a, b in zip(got, want):
            _equal(a, b)
        return
    if hasattr(got, "compute"):
        got = got.compute()
    assert np.asarray(got).dtype == np.asarray(want).dtype
    np.testing.assert_array_equal(got, want)



@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("rec", list(fa.activations().values()), ids=lambda r: r.name)
def test_every_record_variant_and_parameter(rec, dtype):
    """The dask path gives, bit for bit, what the NumPy path gives: every
    record, every variant (gelu's approximate='tanh' was lost: the erf form
    was computed), defaults and other parameter values, forward and backward
    from x and from y where allowed, elementwise and along an axis."""
    rng = np.random.default_rng(31)
    x = (rng.standard_normal((12, 6)) * 4).astype(dtype)
    x[0, :3] = [0.0, -0.0, 3.0]
    dx = da.from_array(x, chunks=(5, 4))
    fwd, bwd = getattr(fa, rec.name), getattr(fa, rec.name + "_backward")
    with dask.config.set(scheduler="threads"):
        for kw in _other_values(rec):
            if rec.kind == "elementwise":
                calls = [({}, {})]
            elif rec.kind in ("softmax", "axis_x"):
                calls = [({"axis": a}, {"axis": a}) for a in (0, 1, -1)]
            elif rec.kind == "prelu":
                calls = [({"weight": w}, {"weight": w}) for w in (np.float64(0.2), np.linspace(-1, 1, 6))]
            else:                                         # rrelu: eval mode and training
                calls = [({}, {}), ({"training": True, "rng": 5, "return_noise": True},
                                    {"training": True})]
            for fkw, bkw in calls:
                want = fwd(x, **kw, **fkw)
                got = fwd(dx, **kw, **fkw)
                if rec.kind in ("elementwise", "softmax", "axis_x"):     # lazy (prelu: computed)
                    assert isinstance(got, da.Array)
                _equal(got, want)
                y = want[0] if isinstance(want, tuple) else want
                if isinstance(want, tuple):                    # rrelu's noise
                    bkw = dict(bkw, noise=want[1])
                g = (rng.standard_normal(np.shape(y))).astype(dtype)
                dg = da.from_array(g, chunks=(4, 3)[:g.ndim])
                for src in rec.backward_from:
                    if src == "y" and rec.y_requires and not eval(rec.y_requires, {}, kw):
                        continue
                    a = x if src == "x" else y
                    aa = dx if src == "x" else da.from_array(y, chunks=(5, 4)[:y.ndim])
                    call = (lambda G, A: bwd(G, A, **kw, **bkw)) if src == "x" else \
                        (lambda G, A: bwd(G, y=A, **kw, **bkw))
                    want_b = call(g, a)
                    for G, A in ((dg, aa), (g, aa), (dg, a)):
                        _equal(call(G, A), want_b)
