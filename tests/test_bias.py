"""bias= (act(x + bias) in one pass, and its backward (grad_x, grad_bias)) and
NAME_and_derivative, for every elementwise kernel: against the unfused
fastact sequence (bit for bit where it is the same arithmetic), PyTorch in
float64, exact sums (math.fsum), layouts, out=, threads and bad input."""
import math

import numpy as np
import pytest

import fastact as fa
from conftest import ELEMENTWISE, threads_exactly, small_parallel_threshold

DTYPES = [np.float32, np.float64]


def _variants(rec):
    """Keyword sets choosing each kernel of a record, parameters at their examples."""
    base = dict(rec.examples)
    if not rec.variants:
        return [base]
    return [dict(base, **{rec.variants[0]: v}) for v, _ in rec.variants[1]]


CASES = [(rec, kw) for rec in ELEMENTWISE for kw in _variants(rec)]
IDS = [rec.name + "".join(f"-{v}" for v in kw.values() if isinstance(v, str)) for rec, kw in CASES]


def _data(dtype, shape=(9, 13), seed=0):
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(shape) * 3).astype(dtype)
    x.flat[:6] = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-3]
    b = (rng.standard_normal(shape[-1]) * 2).astype(dtype)
    g = rng.standard_normal(shape).astype(dtype)
    return x, b, g


def _fsum_rows(m):
    """Exact column sums of a 2-d float64 array (rounded once)."""
    return np.array([math.fsum(col) for col in m.T])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("rec,kw", CASES, ids=IDS)
def test_forward_backward(rec, kw, dtype):
    x, b, g = _data(dtype)
    fwd, bwd = getattr(fa, rec.name), getattr(fa, rec.name + "_backward")
    s = x + b                                   # rounded to x's dtype, as torch's act(x + b)
    with np.errstate(all="ignore"):
        np.testing.assert_array_equal(fwd(x, bias=b, **kw), fwd(s, **kw))
        gx, gb = bwd(g, x, bias=b, **kw)
        np.testing.assert_array_equal(gx, bwd(g, s, **kw))
    assert gb.shape == b.shape and gb.dtype == dtype
    finite = np.isfinite(gx).all(axis=0)
    exact = _fsum_rows(gx.astype(np.float64)).astype(dtype)
    # float32: summed in double, rounded once: the exact sum rounded
    tol = 0 if dtype == np.float32 else 1e-13 * np.abs(gx).sum(axis=0)[finite]
    assert np.all(np.abs(gb[finite] - exact[finite]) <= tol)
    np.testing.assert_array_equal(np.isnan(gb), np.isnan(exact) | ~finite & np.isnan(gb))
    if rec.y_allowed(kw):
        y = fwd(x, bias=b, **kw)
        gy, gby = bwd(g, y=y, bias=b, **kw)
        with np.errstate(all="ignore"):
            np.testing.assert_array_equal(gy, bwd(g, y=y, **kw))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("rec,kw", CASES, ids=IDS)
def test_and_derivative(rec, kw, dtype):
    x, b, _ = _data(dtype)
    fd = getattr(fa, rec.name + "_and_derivative")
    fwd, bwd = getattr(fa, rec.name), getattr(fa, rec.name + "_backward")
    one = np.ones_like(x)
    with np.errstate(all="ignore"):
        for bias, s in ((None, x), (b, x + b)):
            y, d = fd(x, bias=bias, **kw)
            np.testing.assert_array_equal(y, fwd(s, **kw))
            want = bwd(one, s, **kw)
            kernel = rec.kernels[[v for v, _ in rec.variants[1]].index(kw[rec.variants[0]])] \
                if rec.variants else rec.name
            if kernel in rec.extra.get("fwd_d", ()) and dtype == np.float32:
                # a joint kernel (gelu's shares e^(-x^2/2)): within an ULP
                np.testing.assert_array_equal(np.isnan(d), np.isnan(want))
                ok = ~np.isnan(want)
                assert np.all(np.abs(d[ok] - want[ok]) <= np.spacing(np.abs(want[ok])))
            else:
                np.testing.assert_array_equal(d, want)
            assert y.dtype == d.dtype == dtype


TORCH_FNS = {"gelu": lambda F, t, kw: F.gelu(t, approximate=kw.get("approximate", "none")),
             "silu": lambda F, t, kw: F.silu(t), "relu": lambda F, t, kw: F.relu(t),
             "tanh": lambda F, t, kw: t.tanh(), "mish": lambda F, t, kw: F.mish(t)}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(TORCH_FNS))
def test_against_torch(name, dtype):
    """act(x + b) and its gradients (x and bias) as torch's autograd in float64,
    with the sum x + b rounded to the dtype as torch's act(x + b) does."""
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    rng = np.random.default_rng(7)
    x = (rng.standard_normal((40, 24)) * 3).astype(dtype)
    b = rng.standard_normal(24).astype(dtype)
    g = rng.standard_normal((40, 24)).astype(dtype)
    for kw in ([{}, {"approximate": "tanh"}] if name == "gelu" else [{}]):
        s = torch.tensor((x + b).astype(np.float64), requires_grad=True)
        y = TORCH_FNS[name](F, s, kw)
        y.backward(torch.tensor(g.astype(np.float64)))
        ry, rgx = y.detach().numpy(), s.grad.numpy()
        rgb = rgx.sum(axis=0)
        got_y = getattr(fa, name)(x, bias=b, **kw)
        got_gx, got_gb = getattr(fa, name + "_backward")(g, x, bias=b, **kw)
        eps = np.finfo(dtype).eps
        # to rounding on the values' scale: torch's float64 gelu loses relative
        # accuracy for x << 0 (1 + erf cancels; fastact's does not)
        np.testing.assert_allclose(got_y, ry, rtol=4 * eps, atol=4 * eps * np.abs(ry).max())
        np.testing.assert_allclose(got_gx, rgx, rtol=8 * eps, atol=8 * eps * np.abs(rgx).max())
        np.testing.assert_allclose(got_gb, rgb, rtol=0, atol=64 * eps * np.abs(rgx).sum(0).max())


@pytest.mark.parametrize("dtype", DTYPES)
def test_bias_shapes(dtype):
    x, b, g = _data(dtype, (4, 3, 5))
    x[np.isnan(x) | np.isinf(x)] = 0.5
    for bias in (np.float64(0.25), 0.25, np.array(0.25), np.array([0.25])):
        y = fa.silu(x, bias=bias)
        np.testing.assert_array_equal(y, fa.silu(x + dtype(0.25)))
        gx, gb = fa.silu_backward(g, x, bias=bias)
        assert np.shape(gb) == np.shape(np.asarray(bias))
        np.testing.assert_allclose(gb, math.fsum(gx.astype(np.float64).ravel()), rtol=0,
                                   atol=4 * np.finfo(dtype).eps * np.abs(gx).sum())
    y = fa.gelu(x, bias=b)                            # (5,) along the last axis of (4, 3, 5)
    np.testing.assert_array_equal(y, fa.gelu(x + b))
    gx, gb = fa.gelu_backward(g, x, bias=b)
    np.testing.assert_allclose(gb, gx.reshape(-1, 5).astype(np.float64).sum(0).astype(dtype),
                               rtol=np.finfo(dtype).eps)
    # a float64 bias on float32 data is converted to float32 (as prelu's weight)
    assert fa.relu(x, bias=b.astype(np.float64)).dtype == dtype
    # a 0-d x with a scalar bias gives a scalar
    assert fa.elu(np.float64(0.5), bias=0.5) == fa.elu(1.0)


def test_bad_bias():
    x = np.ones((3, 4))
    with pytest.raises(ValueError, match=r"gelu: bias has shape \(3,\); expected a scalar or a 1-D "
                                         r"array of the length of x's last axis \(x's last axis has "
                                         r"length 4\)"):
        fa.gelu(x, bias=np.ones(3))
    with pytest.raises(ValueError, match=r"silu_backward: bias has shape \(3, 4\)"):
        fa.silu_backward(x, x, bias=np.ones((3, 4)))
    with pytest.raises(TypeError, match="relu: bias has dtype complex128"):
        fa.relu(x, bias=np.ones(4, complex))
    with pytest.raises(ValueError, match=r"elu: bias has shape \(2,\).*x is 0-d"):
        fa.elu(1.0, bias=[1.0, 2.0])
    with pytest.raises(ValueError, match="gelu_and_derivative: bias has shape"):
        fa.gelu_and_derivative(x, bias=np.ones(5))
    with pytest.raises(ValueError, match="leaky_relu_and_derivative: negative_slope"):
        fa.leaky_relu_and_derivative(x, negative_slope=math.inf)


def test_inputs_not_modified_and_out():
    x, b, g = _data(np.float32)
    x0, b0, g0 = x.copy(), b.copy(), g.copy()
    fa.gelu(x, bias=b)
    fa.gelu_backward(g, x, bias=b)
    fa.gelu_and_derivative(x, bias=b)
    for a, a0 in ((x, x0), (b, b0), (g, g0)):
        np.testing.assert_array_equal(a, a0)
    expect = fa.gelu(x, bias=b)
    out = np.empty_like(x)
    assert fa.gelu(x, bias=b, out=out) is out
    np.testing.assert_array_equal(out, expect)
    xi = x.copy()
    assert fa.gelu(xi, bias=b, out=xi) is xi                 # in place
    np.testing.assert_array_equal(xi, expect)
    egx, egb = fa.gelu_backward(g, x, bias=b)
    gi = g.copy()
    gx, gb = fa.gelu_backward(gi, x, bias=b, out=gi)
    assert gx is gi
    np.testing.assert_array_equal(gi, egx)
    np.testing.assert_array_equal(gb, egb)
    xo = x.copy()
    gx, _ = fa.gelu_backward(g, xo, bias=b, out=xo)          # out is x itself
    np.testing.assert_array_equal(gx, egx)
    out64 = np.empty(x.shape)                                # out of another dtype: TypeError
    with pytest.raises(TypeError, match="gelu: out has dtype float64; expected float32"):
        fa.gelu(x, bias=b, out=out64)


def test_layouts_dtypes_parameters():
    x, b, g = _data(np.float64, (8, 6))
    for v in (x.T.copy().T, np.asfortranarray(x), x[:, ::-1], x[::2]):
        bb = b[:v.shape[-1]]
        np.testing.assert_array_equal(fa.silu(v, bias=bb), fa.silu(v + bb))
        gx, gb = fa.silu_backward(g[:v.shape[0]], v, bias=bb)
        np.testing.assert_array_equal(gx, fa.silu_backward(g[:v.shape[0]], v + bb))
    xh = x.astype(np.float16)
    assert fa.tanh(xh, bias=b.astype(np.float16)).dtype == np.float16
    assert fa.relu([[1, -2]], bias=[1, 1]).dtype == np.float64
    # parameters, scalar and arrays (the latter through x + bias, then the ufunc)
    np.testing.assert_array_equal(fa.leaky_relu(x, 0.2, bias=b), fa.leaky_relu(x + b, 0.2))
    slopes = np.full(6, 0.2)
    np.testing.assert_array_equal(fa.leaky_relu(x, slopes, bias=b), fa.leaky_relu(x + b, 0.2))
    gx, gb = fa.leaky_relu_backward(g, x, negative_slope=slopes, bias=b)
    np.testing.assert_array_equal(gx, fa.leaky_relu_backward(g, x + b, negative_slope=0.2))
    np.testing.assert_allclose(gb, gx.sum(0), rtol=1e-15)
    e = np.empty((0, 6))
    assert fa.gelu(e, bias=b).shape == (0, 6)
    gx, gb = fa.gelu_backward(e, e, bias=b)
    assert gx.shape == (0, 6) and np.array_equal(gb, np.zeros(6))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(512, 1024), (2 ** 18,), (3000, 7)])
def test_threads(dtype, shape):
    rng = np.random.default_rng(8)
    x = rng.standard_normal(shape).astype(dtype)
    g = rng.standard_normal(shape).astype(dtype)
    b = rng.standard_normal(shape[-1]).astype(dtype) if len(shape) > 1 else dtype(0.5)
    with threads_exactly(1):
        y1 = fa.gelu(x, bias=b)
        gx1, gb1 = fa.gelu_backward(g, x, bias=b)
        yd1 = fa.silu_and_derivative(x, bias=b)
    with threads_exactly(4), small_parallel_threshold():
        np.testing.assert_array_equal(fa.gelu(x, bias=b), y1)
        gx, gb = fa.gelu_backward(g, x, bias=b)
        np.testing.assert_array_equal(gx, gx1)
        for got, want in zip(fa.silu_and_derivative(x, bias=b), yd1):
            np.testing.assert_array_equal(got, want)
    exact = (_fsum_rows(gx1.reshape(-1, np.size(b)).astype(np.float64)))
    for v in (gb, gb1):
        v = np.reshape(v, -1).astype(np.float64)
        if dtype == np.float32:
            np.testing.assert_array_equal(v, exact.astype(np.float32))
        else:
            np.testing.assert_allclose(v, exact, rtol=0,
                                       atol=1e-14 * np.abs(gx1).reshape(-1, np.size(b)).sum(0).max())


def test_dask():
    da = pytest.importorskip("dask.array")
    x, b, g = _data(np.float64, (8, 6))
    dx = da.from_array(x, chunks=(4, 6))
    y = fa.gelu(dx, bias=b)
    assert type(y).__module__.startswith("dask")
    np.testing.assert_array_equal(y.compute(), fa.gelu(x, bias=b))
    gx, gb = fa.gelu_backward(da.from_array(g, chunks=(4, 6)), dx, bias=b)
    ex, eb = fa.gelu_backward(g, x, bias=b)
    np.testing.assert_array_equal(np.asarray(gx), ex)
    np.testing.assert_allclose(np.asarray(gb), eb, rtol=1e-14)


def test_layer_with_bias():
    from fastact import nn
    x, b, g = _data(np.float64)
    x[~np.isfinite(x)] = 0.5
    for make in (nn.GELU, nn.Tanh, lambda: nn.LeakyReLU(0.1)):
        plain, fused = make(), make()
        np.testing.assert_array_equal(fused.forward(x, bias=b), plain.forward(x + b))
        gx, gb = fused.backward(g)
        np.testing.assert_array_equal(gx, plain.backward(g))
        np.testing.assert_allclose(gb, gx.sum(axis=0), rtol=1e-14)


@pytest.mark.parametrize("dtype", DTYPES)
def test_and_derivative_accuracy_gelu(dtype):
    """gelu's joint kernel against the exact derivative (mpmath), dense over
    the range where it is not 0 or 1."""
    mp = pytest.importorskip("mpmath")
    mp.mp.dps = 40
    x = np.linspace(-15, 15, 4001).astype(dtype)
    _, d = fa.gelu_and_derivative(x)
    exact = np.array([float(mp.ncdf(mp.mpf(float(v))) + mp.mpf(float(v)) * mp.npdf(mp.mpf(float(v))))
                      for v in x])
    sp = np.maximum(np.spacing(np.abs(exact).astype(dtype)).astype(np.float64),
                    np.finfo(dtype).smallest_subnormal)
    assert np.max(np.abs(d - exact) / sp) <= 4


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,bshape", [((50, 7), (7,)), ((3, 4, 5), ()), ((2 ** 16, 4), (4,))])
def test_apply_derivative(dtype, shape, bshape):
    rng = np.random.default_rng(9)
    g, d = rng.standard_normal(shape).astype(dtype), rng.standard_normal(shape).astype(dtype)
    b = np.zeros(bshape, dtype)
    np.testing.assert_array_equal(fa.apply_derivative(g, d), g * d)
    with threads_exactly(4), small_parallel_threshold():
        gx, gb = fa.apply_derivative(g, d, bias=b)
    np.testing.assert_array_equal(gx, g * d)
    assert gb.shape == b.shape and gb.dtype == dtype
    m = (g * d).astype(np.float64).reshape(-1, max(b.size, 1))
    exact = _fsum_rows(m)
    tol = 0 if dtype == np.float32 else 1e-14 * np.abs(m).sum(0)
    assert np.all(np.abs(np.reshape(gb, -1) - exact.astype(dtype)) <= tol)
    gi = g.copy()
    gx, _ = fa.apply_derivative(gi, d, bias=b, out=gi)
    assert gx is gi
    with pytest.raises(ValueError, match=r"apply_derivative: bias has shape \(9,\)"):
        fa.apply_derivative(g, d, bias=np.ones(9))
    with pytest.raises(ValueError, match="apply_derivative: grad has shape"):
        fa.apply_derivative(g[:1], d, bias=b)
