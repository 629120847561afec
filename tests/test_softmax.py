"""softmax along any axis: mpmath values, backward against finite differences."""
import numpy as np
import pytest

import fastact as fa
from reference import softmax_row, ulp_errors


def _mp_rows(x2d, kind):
    return [softmax_row(kind, row) for row in x2d]


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("shape,axis", [((7,), -1), ((5, 33), -1), ((5, 33), 0), ((4, 3, 70), 1),
                                        ((2, 3, 4), 0), ((3, 200), 1), ((130, 3), 0),
                                        ((2, 1100), -1)])      # two blocks of 512 + a tail
def test_softmax_against_mpmath(build, nthreads, dtype, shape, axis):
    x = (np.random.default_rng(3).standard_normal(shape) * 6).astype(dtype)
    y = fa.softmax(x, axis=axis)
    moved = np.moveaxis(x, axis, -1).reshape(-1, shape[axis])
    exact = _mp_rows(moved, "softmax")
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


# ---- issue 14: rows whose spread is large (up to the whole finite range) ----

def _spread_rows(dtype):
    """Rows that the old clamp (x raised to m - 110 / m - 760 before the
    TwoSum, which rounds back to m for |m| >= 2^31 / 2^62) made uniform:
    large spreads, the maximum magnitudes, one huge and one tiny entry,
    entries near a huge maximum, random magnitudes over the whole range."""
    fi = np.finfo(dtype)
    M = float(fi.max)
    tiny = float(fi.smallest_subnormal)
    rows = [[1e10, 0, -1e10, 5, -3, 1e-30],
            [M, M / 2, -M, 0, 1, 2],
            [-M, -M, -M / 2, -1e30, -M, 0],
            [M, M, 3, -M, tiny, 0],
            [1e30, -1e30, tiny, -tiny, 0, 1],
            [1e20, 0, -1e20, 1, 2, 3],
            [1e38, 1e38 - 2.0 ** 103, 1e38 - 2.0 ** 104, -1e38, 0, 1e-38],
            [-1e30, -1e30 - 2.0 ** 77, -1e30 - 2.0 ** 78, -3e30, -M, -1e-30]]
    if dtype == np.float64:
        rows += [[1e300, 1e300 - 2.0 ** 945, -1e300, 1e-300, 0, 1],
                 [1e200, -1e200, 1e20, 1e-200, tiny, -1]]
    rng = np.random.default_rng(21)
    hi = np.log10(M)
    for _ in range(40):
        r = 10.0 ** rng.uniform(-3, hi, 6) * rng.choice([-1, 1], 6)
        r[rng.integers(6)] = r.max() - rng.uniform(0, 40 if dtype == np.float32 else 700)
        rows.append(r)
    with np.errstate(over="ignore"):
        x = np.array(rows).astype(dtype)
    x[~np.isfinite(x)] = 0.0
    return x


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("kind", ["softmax", "log_softmax", "softmin"])
@pytest.mark.parametrize("layout", ["rows", "cols", "cols3d"])
def test_large_spread_rows_against_mpmath(build, dtype, kind, layout):
    """Every finite row within 4 ULP, the last axis (row code) and another axis
    (column blocks).  log_softmax's x - max below -finfo.max is -inf, as
    PyTorch (the exact value is not finite either)."""
    x = _spread_rows(dtype)
    exact = [v for row in _mp_rows(x, kind) for v in row]
    f = getattr(fa, kind)
    with np.errstate(over="ignore"):
        if layout == "rows":
            got = f(x, axis=-1)
        elif layout == "cols":
            got = f(np.ascontiguousarray(x.T), axis=0).T
        else:                                            # inner = 3 > 1, rows of the middle axis
            x3 = np.ascontiguousarray(np.repeat(x.T[None, :, :, None], 3, axis=3))
            got3 = f(x3, axis=1)
            for c in range(3):
                np.testing.assert_array_equal(got3[..., c], got3[..., 0])
            got = got3[0, :, :, 0].T
    with np.errstate(over="ignore"):
        err = ulp_errors(got.ravel(), exact, dtype)
    assert err.max() <= 4


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_max_magnitude_rows_exact_values(build, dtype):
    M = np.finfo(dtype).max
    x = np.array([[M, M / 2, -M, 0, 1, 2]], dtype)
    for xx, axis in ((x, -1), (np.ascontiguousarray(x.T), 0)):
        sm = fa.softmax(xx, axis=axis).reshape(-1)
        np.testing.assert_array_equal(sm, [1, 0, 0, 0, 0, 0])
        np.testing.assert_array_equal(fa.softmin(-xx, axis=axis).reshape(-1), [1, 0, 0, 0, 0, 0])
        with np.errstate(over="ignore"):
            ls = fa.log_softmax(xx, axis=axis).reshape(-1)
        np.testing.assert_array_equal(ls, [0, -M / 2, -np.inf, -M, -M + 1, -M + 2])
    big = 1e10 if dtype == np.float32 else 1e20
    np.testing.assert_array_equal(fa.softmax(np.array([[big, 0, -big]], dtype)), [[1, 0, 0]])
    np.testing.assert_array_equal(fa.log_softmax(np.array([[big, 0, -big]], dtype)), [[0, -big, -2 * big]])


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("kind", ["softmax", "log_softmax", "softmin"])
def test_large_spread_rows_against_torch(build, dtype, kind):
    """Forward and backward (from y) on the large-spread rows, both layouts,
    against PyTorch's autograd (which gets these rows right)."""
    torch = pytest.importorskip("torch")
    x = _spread_rows(dtype)
    g = np.random.default_rng(22).standard_normal(x.shape).astype(dtype)
    tf = {"softmax": torch.softmax, "log_softmax": torch.log_softmax,
          "softmin": torch.nn.functional.softmin}[kind]
    t = torch.from_numpy(x.copy()).requires_grad_(True)
    ty = tf(t, -1)
    ty.backward(torch.from_numpy(g))
    f, b = getattr(fa, kind), getattr(fa, kind + "_backward")
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-14)
    with np.errstate(over="ignore"):
        for axis, tr in ((-1, lambda a: a), (0, lambda a: np.ascontiguousarray(a.T))):
            y = f(tr(x), axis=axis)
            np.testing.assert_allclose(tr(y), ty.detach().numpy(), **tol)
            gx = b(tr(g), y=y, axis=axis)
            np.testing.assert_allclose(tr(gx), t.grad.numpy(), **tol)
