"""softmax along any axis: mpmath values, backward against finite differences."""
import mpmath as mp
import numpy as np
import pytest

import fastact as fa
from reference import ulp_errors


def _mp_softmax_rows(x2d):
    out = []
    for row in x2d:
        m = max(mp.mpf(float(v)) for v in row)
        e = [mp.exp(mp.mpf(float(v)) - m) for v in row]
        s = mp.fsum(e)
        out.append([v / s for v in e])
    return out


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("shape,axis", [((7,), -1), ((5, 33), -1), ((5, 33), 0), ((4, 3, 70), 1),
                                        ((2, 3, 4), 0), ((3, 200), 1), ((130, 3), 0),
                                        ((2, 1100), -1)])      # two blocks of 512 + a tail
def test_softmax_against_mpmath(build, nthreads, dtype, shape, axis):
    x = (np.random.default_rng(3).standard_normal(shape) * 6).astype(dtype)
    y = fa.softmax(x, axis=axis)
    moved = np.moveaxis(x, axis, -1).reshape(-1, shape[axis])
    exact = _mp_softmax_rows(moved)
    got = np.moveaxis(y, axis, -1).reshape(-1, shape[axis])
    err = ulp_errors(got.ravel(), [v for row in exact for v in row], dtype)
    assert err.max() <= 4


def test_softmax_large_values_and_special_rows():
    x = np.array([[1000.0, 1000.0], [-np.inf, -np.inf], [np.inf, 1.0], [np.nan, 1.0], [-np.inf, 0.0]])
    y = fa.softmax(x)
    np.testing.assert_array_equal(y[0], [0.5, 0.5])
    assert np.isnan(y[1]).all() and np.isnan(y[2]).all() and np.isnan(y[3]).all()
    np.testing.assert_array_equal(y[4], [0.0, 1.0])


@pytest.mark.parametrize("axis", [0, 1, 2, -1])
def test_softmax_backward_finite_differences(build, axis):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((3, 4, 5))
    g = rng.standard_normal(x.shape)
    y = fa.softmax(x, axis=axis)
    gx = fa.softmax_backward(g, y=y, axis=axis)
    h = 1e-6
    fd = np.empty_like(x)
    for i in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[i] += h
        xm[i] -= h
        fd[i] = (np.sum(g * fa.softmax(xp, axis=axis)) - np.sum(g * fa.softmax(xm, axis=axis))) / (2 * h)
    np.testing.assert_allclose(gx, fd, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("layout", ["C", "F", "strided"])
def test_softmax_layouts_out_inplace(layout):
    base = np.random.default_rng(5).standard_normal((6, 8)).astype(np.float32)
    x = {"C": base.copy(), "F": np.asfortranarray(base), "strided": np.repeat(base, 2, axis=1)[:, ::2]}[layout]
    ref = fa.softmax(base, axis=0)
    np.testing.assert_array_equal(fa.softmax(x, axis=0), ref)
    out = np.empty_like(x)
    assert fa.softmax(x, axis=0, out=out) is out
    np.testing.assert_array_equal(out, ref)
    xi = x.copy()
    fa.softmax(xi, axis=0, out=xi)
    np.testing.assert_array_equal(xi, ref)
    g = np.ones_like(x)
    gb = fa.softmax_backward(g, y=ref, axis=0)
    fa.softmax_backward(g, y=ref, axis=0, out=g)
    np.testing.assert_array_equal(g, gb)


def test_softmax_0d_empty_and_dtypes():
    assert fa.softmax(np.float64(3.0)) == 1.0
    assert fa.softmax(np.empty((0, 4))).shape == (0, 4)
    assert fa.softmax(np.empty((4, 0))).shape == (4, 0)
    assert fa.softmax(np.ones(3, np.float16)).dtype == np.float16
    assert fa.softmax([1, 2, 3]).dtype == np.float64
    np.testing.assert_allclose(fa.softmax([1, 2, 3]), np.exp([1, 2, 3]) / np.exp([1, 2, 3]).sum(), rtol=1e-15)
