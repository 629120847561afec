"""log_softmax and softmin along any axis: mpmath values, backward against
finite differences, layouts, out= and in place, special rows, errors."""
import mpmath as mp
import numpy as np
import pytest

import fastact as fa
from reference import ulp_errors

SHAPES = [((7,), -1), ((5, 33), -1), ((5, 33), 0), ((4, 3, 70), 1), ((2, 3, 4), 0), ((3, 200), 1),
          ((130, 3), 0), ((2, 90, 3), 2)]


def _mp_log_softmax_rows(x2d):
    out = []
    for row in x2d:
        v = [mp.mpf(float(t)) for t in row]
        lse = mp.log(mp.fsum(mp.exp(t) for t in v))
        out.append([t - lse for t in v])
    return out


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("shape,axis", SHAPES)
def test_log_softmax_against_mpmath(build, nthreads, dtype, shape, axis):
    x = (np.random.default_rng(3).standard_normal(shape) * 6).astype(dtype)
    y = fa.log_softmax(x, axis=axis)
    k = shape[axis]
    exact = _mp_log_softmax_rows(np.moveaxis(x, axis, -1).reshape(-1, k))
    got = np.moveaxis(y, axis, -1).reshape(-1, k)
    err = ulp_errors(got.ravel(), [v for row in exact for v in row], dtype)
    assert err.max() <= 4


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_log_softmax_dominant_row_keeps_tail(dtype):
    """A row dominated by one entry: log_softmax of the maximum is -tiny, not 0."""
    x = np.array([[0.0, -50.0, -60.0], [0.0, -100.0, -1000.0], [3.0, 3.0, -80.0]], dtype=dtype)
    y = fa.log_softmax(x)
    exact = [v for row in _mp_log_softmax_rows(x) for v in row]
    assert ulp_errors(y.ravel(), exact, dtype).max() <= 4
    assert y[0, 0] < 0


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("shape,axis", SHAPES[:5])
def test_softmin_is_softmax_of_negated(build, dtype, shape, axis):
    x = (np.random.default_rng(4).standard_normal(shape) * 6).astype(dtype)
    np.testing.assert_array_equal(fa.softmin(x, axis=axis), fa.softmax(-x, axis=axis))


def test_special_rows():
    x = np.array([[1000.0, 1000.0], [-np.inf, -np.inf], [np.inf, 1.0], [np.nan, 1.0], [-np.inf, 0.0]])
    y = fa.log_softmax(x)
    np.testing.assert_array_equal(y[0], [-np.log(2.0)] * 2)
    assert np.isnan(y[1]).all() and np.isnan(y[2]).all() and np.isnan(y[3]).all()
    np.testing.assert_array_equal(y[4], [-np.inf, 0.0])
    s = fa.softmin(-x)
    np.testing.assert_array_equal(s[0], [0.5, 0.5])
    np.testing.assert_array_equal(s[4], [0.0, 1.0])


def _fd(f, x, g, h=1e-6):
    fd = np.empty_like(x)
    for i in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[i] += h
        xm[i] -= h
        fd[i] = (np.sum(g * f(xp)) - np.sum(g * f(xm))) / (2 * h)
    return fd


@pytest.mark.parametrize("name", ["log_softmax", "softmin"])
@pytest.mark.parametrize("axis", [0, 1, 2, -1])
def test_backward_finite_differences(build, name, axis):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((3, 4, 5))
    g = rng.standard_normal(x.shape)
    fwd, bwd = getattr(fa, name), getattr(fa, name + "_backward")
    y = fwd(x, axis=axis)
    gx = bwd(g, y=y, axis=axis)
    np.testing.assert_allclose(gx, _fd(lambda v: fwd(v, axis=axis), x, g), rtol=1e-6, atol=1e-8)
    # the column-block path (inner > 1) against the row path on the moved array
    moved = bwd(np.moveaxis(g, axis, -1).copy(), y=np.moveaxis(y, axis, -1).copy(), axis=-1)
    np.testing.assert_allclose(np.moveaxis(moved, -1, axis), gx, rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("name", ["log_softmax", "softmin"])
@pytest.mark.parametrize("layout", ["C", "F", "strided"])
def test_layouts_out_inplace(name, layout):
    fwd, bwd = getattr(fa, name), getattr(fa, name + "_backward")
    base = np.random.default_rng(6).standard_normal((6, 8)).astype(np.float32)
    x = {"C": base.copy(), "F": np.asfortranarray(base), "strided": np.repeat(base, 2, axis=1)[:, ::2]}[layout]
    for axis in (0, 1):
        ref = fwd(base, axis=axis)
        np.testing.assert_array_equal(fwd(x, axis=axis), ref)
        out = np.empty_like(x)
        assert fwd(x, axis=axis, out=out) is out
        np.testing.assert_array_equal(out, ref)
        xi = x.copy()
        assert fwd(xi, axis=axis, out=xi) is xi
        np.testing.assert_array_equal(xi, ref)
        g = np.random.default_rng(7).standard_normal(x.shape).astype(np.float32)
        gb = bwd(g, y=ref, axis=axis)
        gi = g.copy()
        assert bwd(gi, y=ref, axis=axis, out=gi) is gi
        np.testing.assert_array_equal(gi, gb)
        yi = ref.copy()
        bwd(g, y=yi, axis=axis, out=yi)
        np.testing.assert_array_equal(yi, gb)


@pytest.mark.parametrize("name", ["log_softmax", "softmin"])
def test_errors_and_dtypes(name):
    fwd, bwd = getattr(fa, name), getattr(fa, name + "_backward")
    x = np.ones((2, 3))
    with pytest.raises(ValueError, match=f"{name}: axis 2 is out of range"):
        fwd(x, axis=2)
    with pytest.raises(TypeError, match=f"{name}: axis must be an int"):
        fwd(x, axis=1.0)
    with pytest.raises(TypeError, match=f"{name}_backward: the gradient cannot be computed from x; pass y="):
        bwd(x, x)
    assert fwd(np.ones(3, np.float16)).dtype == np.float16
    assert fwd([1, 2, 3]).dtype == np.float64
    assert fwd(np.empty((0, 4))).shape == (0, 4)
    assert fwd(np.float64(3.0)) == (0.0 if name == "log_softmax" else 1.0)


def test_derivative_diagonals():
    x = np.array([[0.5, -1.0, 2.0]])
    s = fa.softmax(x)
    np.testing.assert_allclose(fa.derivative("log_softmax", x), 1 - s, rtol=1e-15)
    sm = fa.softmin(x)
    np.testing.assert_allclose(fa.derivative("softmin", x), -sm * (1 - sm), rtol=1e-15)
