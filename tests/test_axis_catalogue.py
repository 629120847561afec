"""log_softmax and softmin along any axis: mpmath values, backward against
finite differences, layouts, out= and in place, special rows, errors."""
import mpmath as mp
import numpy as np
import pytest

import fastact as fa
from conftest import small_parallel_threshold, threads_exactly
from reference import ulp_errors

SHAPES = [((7,), -1), ((5, 33), -1), ((5, 33), 0), ((4, 3, 70), 1), ((2, 3, 4), 0), ((3, 200), 1),
          ((130, 3), 0), ((2, 90, 3), 2), ((2, 1100), -1)]     # 1100: two blocks of 512 + a tail


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
def test_log_softmax_dominant_row_keeps_tail(build, dtype):
    """A row dominated by one entry: log_softmax of the maximum is -tiny, not 0
    (short rows, and rows of 600 that run through the lanes and two blocks,
    the maximum once or twice)."""
    x = np.array([[0.0, -50.0, -60.0], [0.0, -100.0, -1000.0], [3.0, 3.0, -80.0]], dtype=dtype)
    y = fa.log_softmax(x)
    exact = [v for row in _mp_log_softmax_rows(x) for v in row]
    assert ulp_errors(y.ravel(), exact, dtype).max() <= 4
    assert y[0, 0] < 0
    long = np.full((3, 600), -60.0, dtype=dtype)
    long[:, 1] = -50.0
    long[0, 0] = long[1, 599] = 0.0
    long[2, 17] = long[2, 530] = 2.0
    y = fa.log_softmax(long)
    exact = [v for row in _mp_log_softmax_rows(long) for v in row]
    assert ulp_errors(y.ravel(), exact, dtype).max() <= 4
    assert y[0, 0] < 0 and y[1, 599] < 0


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("shape,axis", SHAPES[:5] + SHAPES[-1:])
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


# ---- glu and maxout: the output's axis is shorter; the backward needs x ----

def _glu_ref(x, axis):
    a, b = np.split(x, 2, axis=axis)
    return a / (1 + np.exp(-b))


def _maxout_ref(x, pieces, axis):
    m = np.moveaxis(x, axis, -1)
    return np.moveaxis(m.reshape(m.shape[:-1] + (-1, pieces)).max(-1), -1, axis)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("axis", [0, 1, 2, -1])
def test_glu_values_and_finite_differences(build, dtype, axis):
    rng = np.random.default_rng(8)
    x = rng.standard_normal((4, 6, 2)).astype(dtype) * 3
    y = fa.glu(x, axis=axis)
    want_shape = list(x.shape)
    want_shape[axis] //= 2
    assert y.shape == tuple(want_shape) and y.dtype == dtype
    np.testing.assert_allclose(y, _glu_ref(x.astype(np.float64), axis), rtol=4 * np.finfo(dtype).eps, atol=0)
    g = rng.standard_normal(y.shape)
    x64 = x.astype(np.float64)
    gx = fa.glu_backward(g, x64, axis=axis)
    assert gx.shape == x.shape
    np.testing.assert_allclose(gx, _fd(lambda v: fa.glu(v, axis=axis), x64, g), rtol=1e-6, atol=1e-8)


def test_glu_gradient_uses_sigmoid_of_minus_b():
    """d/db = a sigma(b) sigma(-b) keeps full relative accuracy for b >> 0."""
    x = np.array([1.0, 40.0])
    gb = fa.glu_backward(np.array([1.0]), x)[1]
    exact = mp.mpf(1) / (1 + mp.exp(-40)) / (1 + mp.exp(40))
    assert ulp_errors([gb], [exact], np.float64).max() <= 2
    x32 = np.array([1.0, 20.0], np.float32)
    assert fa.glu_backward(np.ones(1, np.float32), x32)[1] > 0


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("axis", [0, 1, 2, -1])
def test_maxout_values_and_finite_differences(build, dtype, axis):
    rng = np.random.default_rng(9)
    x = rng.standard_normal((6, 3, 6)).astype(dtype)
    for pieces in [p for p in (1, 2, 3) if x.shape[axis] % p == 0]:
        y = fa.maxout(x, pieces, axis=axis)
        np.testing.assert_array_equal(y, _maxout_ref(x, pieces, axis))
        g = rng.standard_normal(y.shape).astype(dtype)
        gx = fa.maxout_backward(g, x, pieces=pieces, axis=axis)
        assert gx.shape == x.shape and gx.dtype == dtype
        x64, g64 = x.astype(np.float64), g.astype(np.float64)
        np.testing.assert_allclose(gx, _fd(lambda v: fa.maxout(v, pieces, axis=axis), x64, g64),
                                   rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("axis", [0, 1, 2])
def test_glu_maxout_threads_agree(build, axis):
    x = np.random.default_rng(12).standard_normal((40, 30, 24))
    with fa.threads(1):
        one = [fa.glu(x, axis=axis), fa.maxout(x, 2, axis=axis), fa.glu_backward(fa.glu(x, axis=axis), x, axis=axis)]
    with threads_exactly(max(2, fa._threads.available_cpus())), small_parallel_threshold():
        many = [fa.glu(x, axis=axis), fa.maxout(x, 2, axis=axis),
                fa.glu_backward(fa.glu(x, axis=axis), x, axis=axis)]
    for a, b in zip(one, many):
        np.testing.assert_array_equal(a, b)


def test_maxout_ties_and_nan():
    x = np.array([[1.0, 1.0, 0.0, 2.0, 2.0, 2.0], [np.nan, 5.0, 1.0, 7.0, np.nan, np.nan]])
    np.testing.assert_array_equal(fa.maxout(x, 3), [[1.0, 2.0], [np.nan, np.nan]])
    np.testing.assert_array_equal(fa.maxout_backward(np.array([[10.0, 20.0], [30.0, 40.0]]), x, pieces=3),
                                  [[10.0, 0, 0, 20.0, 0, 0], [30.0, 0, 0, 0, 40.0, 0]])


@pytest.mark.parametrize("name", ["glu", "maxout"])
def test_glu_maxout_layouts_out_inplace(name):
    kw = {"pieces": 2} if name == "maxout" else {}
    fwd, bwd = getattr(fa, name), getattr(fa, name + "_backward")
    base = np.random.default_rng(10).standard_normal((6, 8))
    for x in (base.copy(), np.asfortranarray(base), np.repeat(base, 2, axis=1)[:, ::2],
              base.astype(np.float32), base[::-1]):
        for axis in (0, 1):
            ref = fwd(np.ascontiguousarray(x), axis=axis, **kw)
            np.testing.assert_array_equal(fwd(x, axis=axis, **kw), ref)
            out = np.empty(ref.shape, x.dtype)
            assert fwd(x, axis=axis, out=out, **kw) is out
            np.testing.assert_array_equal(out, ref)
            out_f = np.asfortranarray(np.empty(ref.shape, x.dtype))
            np.testing.assert_array_equal(fwd(x, axis=axis, out=out_f, **kw), ref)
            g = np.random.default_rng(11).standard_normal(ref.shape).astype(x.dtype)
            gref = bwd(g, np.ascontiguousarray(x), axis=axis, **kw)
            np.testing.assert_array_equal(bwd(g, x, axis=axis, **kw), gref)
            xi = np.ascontiguousarray(x).copy()
            assert bwd(g, xi, axis=axis, out=xi, **kw) is xi           # in place over x
            np.testing.assert_array_equal(xi, gref)


def test_glu_maxout_errors():
    x = np.ones((3, 4))
    with pytest.raises(ValueError, match=r"glu: axis 0 \(length 3\): must have an even length"):
        fa.glu(x, axis=0)
    with pytest.raises(ValueError, match="glu_backward: axis -1 .length 5.: must have an even length"):
        fa.glu_backward(np.ones((3, 2)), np.ones((3, 5)))
    with pytest.raises(ValueError, match="maxout: pieces must divide the axis length, got pieces=3"):
        fa.maxout(x, 3)
    with pytest.raises(ValueError, match="maxout: pieces must be a finite number >= 1, got 0"):
        fa.maxout(x, 0)
    with pytest.raises(TypeError, match="maxout: pieces must be an int, got float"):
        fa.maxout(x, 2.0)
    with pytest.raises(TypeError, match="missing 1 required positional argument: 'pieces'"):
        fa.maxout(x)
    with pytest.raises(ValueError, match=r"maxout_backward: grad has shape \(3, 4\); expected \(3, 2\)"):
        fa.maxout_backward(x, x, pieces=2)
    with pytest.raises(ValueError, match=r"glu: out has shape \(3, 4\); expected \(3, 2\)"):
        fa.glu(x, out=np.empty((3, 4)))
    with pytest.raises(TypeError, match="glu_backward: the gradient cannot be computed from y; pass x="):
        fa.glu_backward(np.ones((3, 2)), y=x)
    with pytest.raises(ValueError, match="glu: axis 2 is out of range"):
        fa.glu(x, axis=2)
    with pytest.raises(ValueError, match="glu: x must have at least one dimension"):
        fa.glu(np.float64(1.0))
    assert fa.glu(np.empty((0, 4))).shape == (0, 2)
    assert fa.maxout(np.ones(4, np.float16), 2).dtype == np.float16
    assert fa.glu([1, 2]).dtype == np.float64


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_log_softmax_backward_any_y(build, dtype):
    """The formula g - e^y sum(g) holds for any y, not only log-probabilities
    (rows with a y > 0 take the two-sided exp; rows of y <= 0 the one-sided)."""
    rng = np.random.default_rng(9)
    y = rng.uniform(-30, 0, (4, 300)).astype(dtype)
    y[1, 5] = 2.5
    y[2, 299] = 0.0
    y[3, 0] = np.nan
    g = rng.standard_normal(y.shape).astype(dtype)
    got = fa.log_softmax_backward(g, y=y)
    y64, g64 = y.astype(np.float64), g.astype(np.float64)
    want = g64 - np.exp(y64) * g64.sum(axis=-1, keepdims=True)
    tol = 1e-5 if dtype == np.float32 else 1e-13
    np.testing.assert_allclose(got[:3], want[:3], rtol=tol, atol=tol * np.abs(want[:3]).max())
    assert np.isnan(got[3, 0]) and np.isfinite(got[3, 1:]).all()
