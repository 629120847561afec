"""logsumexp and logsumexp_backward: mpmath values (any spread), torch's
semantics at nan/inf, shapes, axes, errors, threads."""
import mpmath as mp
import numpy as np
import pytest

import fastact as fa
from conftest import small_parallel_threshold, threads_exactly
from reference import ulp_errors

torch = pytest.importorskip("torch")

DTYPES = [np.float32, np.float64]
IDS = ["float32", "float64"]


def _mp_lse(row):
    m = max(mp.mpf(float(v)) for v in row)
    return m + mp.log(mp.fsum(mp.exp(mp.mpf(float(v)) - m) for v in row))


def _rows(x, axis):
    return np.moveaxis(x, axis, -1).reshape(-1, x.shape[axis])


@pytest.mark.parametrize("dtype", DTYPES, ids=IDS)
@pytest.mark.parametrize("shape,axis", [((7,), -1), ((5, 33), -1), ((5, 33), 0), ((4, 3, 70), 1),
                                        ((3, 1100), -1), ((2, 1), -1)])
def test_forward_against_mpmath(build, nthreads, dtype, shape, axis):
    x = (np.random.default_rng(3).standard_normal(shape) * 6).astype(dtype)
    got = fa.logsumexp(x, axis=axis)
    exact = [_mp_lse(r) for r in _rows(x, axis)]
    assert np.shape(got) == tuple(np.delete(shape, axis % len(shape)))
    assert np.asarray(got).dtype == dtype
    # lse = m + log(sum): exact to rounding relative to max(|m|, |lse|)
    # (a cancelling m + log(sum) has the condition number |m| / |lse|)
    m = _rows(x, axis).max(axis=1).astype(np.float64)
    err = ulp_errors(np.ravel(got), exact, dtype)
    scale = np.maximum(1.0, np.abs(m) / np.maximum(np.abs(np.array(exact, dtype=float)), 1e-300))
    assert (err / scale).max() <= 4, err


@pytest.mark.filterwarnings("ignore:overflow encountered in spacing")
@pytest.mark.parametrize("dtype", DTYPES, ids=IDS)
def test_any_spread(dtype):
    big = float(np.finfo(dtype).max)
    rows = [[1e30, 0.0], [0.0, -1e30], [big, 0.0], [big, big], [-big, big], [1e30, 1e30 - 1e23],
            [3.0, 3.0, 3.0], [-1e30, -1e30], [1e-30, 0.0]]
    for row in rows:
        x = np.array(row, dtype=dtype)
        got = fa.logsumexp(x)
        assert ulp_errors([got], [_mp_lse(x)], dtype)[0] <= 2, (row, got)


@pytest.mark.parametrize("dtype", DTYPES, ids=IDS)
def test_special_rows_as_torch(dtype):
    inf, nan = np.inf, np.nan
    x = np.array([[-inf, -inf], [inf, 1.0], [inf, -inf], [nan, 1.0], [nan, inf], [-inf, 0.0],
                  [inf, inf], [1.0, -nan]], dtype=dtype)
    want = torch.logsumexp(torch.from_numpy(x.astype(np.float64)), -1).numpy()
    np.testing.assert_array_equal(fa.logsumexp(x), want.astype(dtype))
    g = np.array([1.0, 2.0, 1.0, 1.0, 1.0, 3.0, 1.0, 1.0], dtype=dtype)
    t = torch.from_numpy(x.astype(np.float64)).requires_grad_()
    torch.logsumexp(t, -1).backward(torch.from_numpy(g.astype(np.float64)))
    np.testing.assert_array_equal(fa.logsumexp_backward(g, x), t.grad.numpy().astype(dtype))


@pytest.mark.parametrize("dtype", DTYPES, ids=IDS)
@pytest.mark.parametrize("shape,axis,keepdims", [((6, 40), -1, False), ((6, 40), 0, True),
                                                 ((3, 5, 7), 1, False), ((9,), 0, True)])
def test_backward_against_torch(build, nthreads, dtype, shape, axis, keepdims):
    rng = np.random.default_rng(5)
    x = (rng.standard_normal(shape) * 5).astype(dtype)
    rshape = np.shape(fa.logsumexp(x, axis, keepdims=keepdims))
    g = rng.standard_normal(rshape).astype(dtype)
    t = torch.from_numpy(x.astype(np.float64)).requires_grad_()
    torch.logsumexp(t, axis, keepdim=keepdims).backward(torch.from_numpy(g.astype(np.float64)))
    got = fa.logsumexp_backward(g, x, axis, keepdims=keepdims)
    assert got.shape == x.shape and got.dtype == dtype
    eps = np.finfo(dtype).eps
    # torch's float64 exp(x - lse) carries |x - lse| ULP of its own: the
    # float32 results against it, the float64 ones against mpmath
    if dtype == np.float32:
        np.testing.assert_allclose(got, t.grad.numpy(), rtol=4 * eps, atol=0)
    else:
        gb = np.broadcast_to(g.reshape(rshape if keepdims else np.expand_dims(g, axis).shape), x.shape)
        rows, grows = _rows(x, axis), _rows(np.ascontiguousarray(gb), axis)
        exact = []
        for r, gr in zip(rows, grows):
            lse = _mp_lse(r)
            exact += [mp.mpf(float(gv)) * mp.exp(mp.mpf(float(v)) - lse) for v, gv in zip(r, gr)]
        assert ulp_errors(_rows(got, axis).ravel(), exact, dtype).max() <= 4


def test_backward_is_grad_times_softmax_and_large_spread():
    x = np.array([[1e30, 0.0, -1e30], [0.0, 0.0, 0.0]], dtype=np.float32)
    g = np.array([2.0, 3.0], dtype=np.float32)
    got = fa.logsumexp_backward(g, x)
    np.testing.assert_array_equal(got[0], [2.0, 0.0, 0.0])
    np.testing.assert_allclose(got[1], [1.0, 1.0, 1.0], rtol=2e-7)


def test_shapes_keepdims_scalars_empty_out():
    x = np.arange(12.0).reshape(3, 4)
    assert fa.logsumexp(x, keepdims=True).shape == (3, 1)
    assert fa.logsumexp(x, axis=0).shape == (4,)
    r = fa.logsumexp(np.array([1.0, 2.0]))
    assert isinstance(r, np.float64)
    assert fa.logsumexp(np.float32(2.5)) == np.float32(2.5)          # 0-d, as torch
    np.testing.assert_array_equal(fa.logsumexp(np.empty((3, 0))), [-np.inf] * 3)
    assert fa.logsumexp(np.empty((0, 5))).shape == (0,)
    assert fa.logsumexp_backward(np.empty(0), np.empty((0, 5))).shape == (0, 5)
    out = np.empty(3)
    assert fa.logsumexp(x, out=out) is out
    np.testing.assert_allclose(out, np.log(np.exp(x).sum(axis=1)), rtol=1e-15)
    gout = np.empty_like(x)
    assert fa.logsumexp_backward(np.ones(3), x, out=gout) is gout
    assert fa.logsumexp([1, 2, 3]).dtype == np.float64              # integers: float64
    h = fa.logsumexp(np.array([1.0, 2.0], dtype=np.float16))
    assert h.dtype == np.float16
    xr = x.copy()
    xr.flags.writeable = False
    fa.logsumexp_backward(np.ones(3), xr)                            # read-only inputs are fine
    np.testing.assert_array_equal(xr, np.arange(12.0).reshape(3, 4))


def test_errors():
    x = np.ones((3, 4))
    with pytest.raises(ValueError, match="logsumexp: axis 2"):
        fa.logsumexp(x, axis=2)
    with pytest.raises(TypeError, match="logsumexp: axis must be an int"):
        fa.logsumexp(x, axis=1.0)
    with pytest.raises(TypeError, match="logsumexp: keepdims must be a bool"):
        fa.logsumexp(x, keepdims=1)
    with pytest.raises(TypeError, match="logsumexp: x has dtype complex"):
        fa.logsumexp(x.astype(complex))
    with pytest.raises(ValueError, match="logsumexp_backward: grad has shape"):
        fa.logsumexp_backward(np.ones(4), x)
    with pytest.raises(ValueError, match="logsumexp: out has shape"):
        fa.logsumexp(x, out=np.empty(4))
    with pytest.raises(TypeError, match="logsumexp_backward: out has dtype"):
        fa.logsumexp_backward(np.ones(3), x, out=np.empty((3, 4), np.float32))


@pytest.mark.parametrize("dtype", DTYPES, ids=IDS)
def test_threads_give_the_same_numbers(dtype):
    rng = np.random.default_rng(9)
    x = (rng.standard_normal((300, 257)) * 10).astype(dtype)
    g = rng.standard_normal(300).astype(dtype)
    with threads_exactly(1):
        f1, b1 = fa.logsumexp(x), fa.logsumexp_backward(g, x)
    with threads_exactly(4), small_parallel_threshold():
        f4, b4 = fa.logsumexp(x), fa.logsumexp_backward(g, x)
    np.testing.assert_array_equal(f1, f4)
    np.testing.assert_array_equal(b1, b4)
    # a row's value does not depend on its neighbours: the big array's rows as small calls
    np.testing.assert_array_equal(f1[:3], fa.logsumexp(x[:3]))
