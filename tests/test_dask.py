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
