"""prelu (a weight per channel) and rrelu (random slopes): against PyTorch,
reproducibility, the backward using the forward's noise, errors; and the
parameter errors of the piecewise catalogue."""
import numpy as np
import pytest

import fastact as fa

torch = pytest.importorskip("torch")
F = torch.nn.functional

SHAPES = [((7,), 1), ((4, 3), 3), ((4, 3), 1), ((2, 3, 5), 3), ((2, 3, 4, 5), 3), ((2, 1, 4), 1),
          ((3, 16, 2, 2), 16), ((0, 3), 3),
          ((64, 40), 40), ((2, 3, 1100), 3)]   # a vectorized (N, C) loop; two blocks of 512 + a tail


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("shape,nw", SHAPES)
def test_prelu_against_torch(build, dtype, shape, nw):
    rng = np.random.default_rng(20)
    x = rng.standard_normal(shape).astype(dtype)
    if x.size:
        x.flat[0], x.flat[-1] = -0.0, 0.0
    w = rng.uniform(-0.5, 1.0, nw).astype(dtype)
    g = rng.standard_normal(shape).astype(dtype)
    t, tw = torch.from_numpy(x.copy()).requires_grad_(True), torch.from_numpy(w.copy()).requires_grad_(True)
    ty = F.prelu(t, tw)
    ty.backward(torch.from_numpy(g))
    y = fa.prelu(x, w)
    np.testing.assert_array_equal(y, ty.detach().numpy())
    np.testing.assert_array_equal(np.signbit(y), np.signbit(ty.detach().numpy()))
    gx, gw = fa.prelu_backward(g, x, w)
    np.testing.assert_array_equal(gx, t.grad.numpy())
    assert gw.shape == w.shape and gw.dtype == dtype
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(gw, tw.grad.numpy(), rtol=tol, atol=tol)


def test_prelu_layouts_out_inplace_nan():
    rng = np.random.default_rng(21)
    base = rng.standard_normal((4, 6, 5))
    w = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
    ref = fa.prelu(base, w)
    g = rng.standard_normal(base.shape)
    gref, gwref = fa.prelu_backward(g, base, w)
    for x in (np.asfortranarray(base), base[:, :, ::-1][:, :, ::-1], base.astype(np.float32)):
        np.testing.assert_allclose(fa.prelu(x, w), ref, rtol=1e-6)
    out = np.empty_like(base)
    assert fa.prelu(base, w, out=out) is out
    np.testing.assert_array_equal(out, ref)
    xi = base.copy()
    assert fa.prelu(xi, w, out=xi) is xi
    np.testing.assert_array_equal(xi, ref)
    xi = base.copy()
    gx, gw = fa.prelu_backward(g, xi, w, out=xi)             # out over x itself
    assert gx is xi
    np.testing.assert_array_equal(gx, gref)
    np.testing.assert_array_equal(gw, gwref)
    # nan: nan both ways (PyTorch's backward gives w*g there)
    x = np.array([[np.nan, -1.0]])
    assert np.isnan(fa.prelu(x, 0.25)[0, 0])
    assert np.isnan(fa.prelu_backward(np.ones_like(x), x, 0.25)[0][0, 0])
    assert np.isnan(fa.prelu(np.float64(np.nan), [0.25]))
    assert fa.prelu(np.float64(-2.0), 0.25) == -0.5


def test_prelu_errors():
    x = np.ones((2, 3, 4))
    with pytest.raises(ValueError, match=r"prelu: weight has 2 entries; expected 1 or 3"):
        fa.prelu(x, np.ones(2))
    with pytest.raises(ValueError, match=r"prelu: weight has 3 entries; expected 1 \(x has 1 dimensions"):
        fa.prelu(np.ones(3), np.ones(3))
    with pytest.raises(TypeError, match="missing 1 required positional argument: 'weight'"):
        fa.prelu(x)
    with pytest.raises(TypeError, match=r"prelu_backward\(\) missing 1 required positional argument: 'weight'"):
        fa.prelu_backward(x, x)
    with pytest.raises(TypeError, match="prelu_backward: weight is required"):
        fa.prelu_backward(x, x, None)
    with pytest.raises(ValueError, match=r"prelu_backward: grad has shape \(2, 3\) but x has shape"):
        fa.prelu_backward(np.ones((2, 3)), x, 0.25)
    with pytest.raises(TypeError, match="prelu: x has dtype complex128"):
        fa.prelu(np.ones(3, complex), 0.25)
    # PyTorch: "Expected `weight` to be a scalar or 1D tensor"
    for w in (np.ones((1, 3)), np.ones((3, 1)), np.full((1, 1), 0.25)):
        for call in (lambda: fa.prelu(x, w), lambda: fa.prelu_backward(x, x, w)):
            with pytest.raises(ValueError, match=r"prelu(_backward)?: weight must be a scalar or a "
                                                 r"1-D array \(as PyTorch\), got 2 dimensions"):
                call()
        with pytest.raises(RuntimeError, match="scalar or 1D"):
            F.prelu(torch.from_numpy(x), torch.from_numpy(w))


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("shape,nw", [((1, 0, 3), 1), ((1, 0, 3), 0), ((1, 0, 5), 1), ((6, 0, 0, 0), 1),
                                      ((6, 0, 0, 0), 0), ((0, 3, 4), 3), ((0, 3, 4), 1), ((2, 3, 0), 3),
                                      ((2, 3, 0), 1), ((0,), 1), ((0, 0), 1)])
def test_prelu_empty_against_torch(build, dtype, shape, nw):
    """An empty channel axis (or any empty x): grad_x of x's shape, grad_weight
    zeros of weight's shape, as PyTorch (the backward raised a reshape error)."""
    x = np.zeros(shape, dtype)
    g = np.ones(shape, dtype)
    w = np.full(nw, 0.25, dtype)
    t, tw = torch.from_numpy(x.copy()).requires_grad_(True), torch.from_numpy(w.copy()).requires_grad_(True)
    ty = F.prelu(t, tw)
    ty.backward(torch.from_numpy(g))
    y = fa.prelu(x, w)
    assert y.shape == tuple(ty.shape) and y.dtype == dtype
    gx, gw = fa.prelu_backward(g, x, w)
    assert gx.shape == tuple(t.grad.shape) and gx.dtype == dtype
    assert gw.shape == tuple(tw.grad.shape) and gw.dtype == dtype
    np.testing.assert_array_equal(gw, tw.grad.numpy())
    gx0, gw0 = fa.prelu_backward(g, x, np.float64(0.25))         # a 0-d weight: a 0-d gradient
    assert gx0.shape == shape and gw0.shape == () and gw0 == 0


def test_prelu_derivative_and_plot_curve():
    x = np.linspace(-2, 2, 9)
    np.testing.assert_array_equal(fa.derivative("prelu", x), np.where(x > 0, 1.0, 0.25))
    np.testing.assert_array_equal(fa.derivative("prelu", x, weight=0.5), np.where(x > 0, 1.0, 0.5))


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_rrelu_eval_matches_torch_exactly(dtype):
    x = np.concatenate([[-0.0, 0.0, -np.inf, np.inf],
                        np.random.default_rng(22).uniform(-20, 20, 3000)]).astype(dtype)
    for lower, upper in ((1 / 8, 1 / 3), (0.1, 0.1), (0.0, 0.9)):
        t = torch.from_numpy(x.copy()).requires_grad_(True)
        ty = F.rrelu(t, lower, upper, training=False)
        ty.backward(torch.ones_like(ty))
        y = fa.rrelu(x, lower, upper)
        np.testing.assert_array_equal(y, ty.detach().numpy())
        np.testing.assert_array_equal(np.signbit(y), np.signbit(ty.detach().numpy()))
        np.testing.assert_array_equal(fa.rrelu_backward(np.ones_like(x), x, lower=lower, upper=upper),
                                      t.grad.numpy())
        y2, noise = fa.rrelu(x, lower, upper, return_noise=True)
        np.testing.assert_array_equal(y2, y)
        np.testing.assert_array_equal(fa.rrelu_backward(np.ones_like(x), x, noise=noise), t.grad.numpy())


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_rrelu_training(dtype):
    x = np.random.default_rng(23).standard_normal((50, 40)).astype(dtype)
    y1, n1 = fa.rrelu(x, training=True, rng=7, return_noise=True)
    y2, n2 = fa.rrelu(x, training=True, rng=np.random.default_rng(7), return_noise=True)
    np.testing.assert_array_equal(y1, y2)                     # a seed and a Generator agree
    np.testing.assert_array_equal(n1, n2)
    assert y1.dtype == n1.dtype == dtype
    neg = x <= 0
    assert (n1[~neg] == 1).all()
    lo, hi = np.array(1 / 8, dtype), np.array(1 / 3, dtype)
    assert (n1[neg] >= lo).all() and (n1[neg] <= hi).all()
    assert len(np.unique(n1[neg])) > neg.sum() // 2          # really drawn per element
    np.testing.assert_array_equal(y1, x * n1)
    np.testing.assert_array_equal(y1[~neg], x[~neg])
    y3 = fa.rrelu(x, training=True, rng=8)
    assert not np.array_equal(y3, y1)
    g = np.random.default_rng(24).standard_normal(x.shape).astype(dtype)
    gx = fa.rrelu_backward(g, x, noise=n1, training=True)
    np.testing.assert_array_equal(gx, g * n1)
    # the backward of a training forward, against torch given the same slopes
    t = torch.from_numpy(x.copy()).requires_grad_(True)
    (t * torch.from_numpy(n1)).backward(torch.from_numpy(g))
    np.testing.assert_array_equal(gx, t.grad.numpy())
    # finite differences with the noise held fixed
    x64, n64 = x.astype(np.float64), n1.astype(np.float64)
    h = 1e-6
    fd = g * ((x64 + h) * np.where(x64 + h > 0, 1, n64) - (x64 - h) * np.where(x64 - h > 0, 1, n64)) / (2 * h)
    np.testing.assert_allclose(fa.rrelu_backward(g.astype(np.float64), x64, noise=n64), fd, rtol=1e-6, atol=1e-9)
    out = np.empty_like(x)
    assert fa.rrelu(x, training=True, rng=7, out=out) is out
    np.testing.assert_array_equal(out, y1)


def test_rrelu_errors():
    x = np.ones(3)
    with pytest.raises(ValueError, match="rrelu: training=True needs rng="):
        fa.rrelu(x, training=True)
    with pytest.raises(TypeError, match="rrelu: rng must be a numpy.random.Generator or an int seed"):
        fa.rrelu(x, training=True, rng=np.random.RandomState(0))
    with pytest.raises(ValueError, match="rrelu_backward: training=True needs noise="):
        fa.rrelu_backward(x, x, training=True)
    with pytest.raises(ValueError, match="rrelu: lower must be <= upper, got lower=0.5, upper=0.2"):
        fa.rrelu(x, 0.5, 0.2)
    with pytest.raises(ValueError, match="rrelu: upper must be finite"):
        fa.rrelu(x, upper=float("inf"))
    with pytest.raises(ValueError, match=r"rrelu_backward: grad, x and noise have shapes"):
        fa.rrelu_backward(x, x, noise=np.ones(2))
    # given noise, the backward is grad * noise, as torch's rrelu_with_noise_backward
    xn = np.array([np.nan, -1.0, np.inf, -np.inf, 2.0])
    np.testing.assert_array_equal(fa.rrelu_backward(np.ones(5), xn, noise=[1.0, 0.2, 1.0, 0.3, 1.0]),
                                  [1.0, 0.2, 1.0, 0.3, 1.0])
    # the forward's noise is nan where x is nan (only there), so the gradient is nan there
    y, noise = fa.rrelu(xn, training=True, rng=3, return_noise=True)
    assert np.isnan(noise[0]) and not np.isnan(noise[1:]).any()
    assert noise[2] == 1.0 and noise[4] == 1.0 and 0.125 <= noise[3] <= 1 / 3
    np.testing.assert_array_equal(np.isnan(fa.rrelu_backward(np.full(5, 2.0), xn, noise=noise)),
                                  [True, False, False, False, False])


def test_piecewise_parameter_errors():
    x = np.ones(3)
    with pytest.raises(ValueError, match="hardtanh: min_val must be <= max_val, got min_val=2.0, max_val=1.0"):
        fa.hardtanh(x, 2.0, 1.0)
    with pytest.raises(ValueError, match="hardtanh_backward: min_val must be <= max_val"):
        fa.hardtanh_backward(x, x, min_val=0.0, max_val=-1.0)
    np.testing.assert_array_equal(fa.hardtanh(np.array([-1.0, 0.5, 3.0]), 0.5, 0.5), [0.5, 0.5, 0.5])
    with pytest.raises(ValueError, match="hardtanh: max_val must be finite"):
        fa.hardtanh(x, max_val=float("nan"))
    for name in ("softshrink", "hardshrink"):
        with pytest.raises(ValueError, match=f"{name}: lambd must be a finite number >= 0, got -0.1"):
            getattr(fa, name)(x, -0.1)
        with pytest.raises(ValueError, match=f"{name}_backward: lambd must be a finite number >= 0"):
            getattr(fa, name + "_backward")(x, x, lambd=-1)
        np.testing.assert_array_equal(getattr(fa, name)(np.array([-0.0, 0.0, 1.0]), 0.0), [0.0, 0.0, 1.0])
    with pytest.raises(TypeError, match="missing 2 required positional arguments: 'threshold' and 'value'"):
        fa.threshold(x)
    with pytest.raises(TypeError, match="missing 1 required keyword-only argument: 'value'"):
        fa.threshold_backward(x, x, threshold=0.5)
    with pytest.raises(ValueError, match="threshold: value must be finite"):
        fa.threshold(x, 0.5, float("inf"))
    with pytest.raises(TypeError, match="threshold: threshold must be a real number, got str"):
        fa.threshold(x, "a", 1.0)
    np.testing.assert_array_equal(fa.threshold(np.array([-1.0, 0.5, 2.0]), 0.5, 7), [7.0, 7.0, 2.0])
    assert fa.threshold(np.array([1.0], np.float32), 0, 0).dtype == np.float32


def test_rrelu_training_backward_is_torchs():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    x = rng.standard_normal(64).astype(np.float32)
    x[[3, 9, 20]] = [np.nan, np.inf, -np.inf]
    g = rng.standard_normal(64).astype(np.float32)
    _, noise = fa.rrelu(x, 0.1, 0.3, training=True, rng=1, return_noise=True)
    torch_noise = np.where(np.isnan(noise), np.float32(1), noise)     # torch's slope at nan x
    want = torch.ops.aten.rrelu_with_noise_backward(torch.from_numpy(g), torch.from_numpy(x),
                                                    torch.from_numpy(torch_noise), 0.1, 0.3, True,
                                                    False).numpy()
    np.testing.assert_array_equal(fa.rrelu_backward(g, x, noise=torch_noise, lower=0.1, upper=0.3,
                                                     training=True), want)
