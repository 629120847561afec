"""The same points through PyTorch, where it is installed: equal at the kinks
(bit for bit, signed zeros included) and within the ULP budget elsewhere.

Known, documented differences are excluded: at x = nan fastact's backward is
nan (PyTorch returns g, 0 or slope*g), and the backward of sigmoid/tanh is
compared from y, which is what PyTorch's autograd uses.
"""
import mpmath as mp
import numpy as np
import pytest

import fastact as fa
from conftest import default_params
from reference import REF, ulp_errors

torch = pytest.importorskip("torch")
F = torch.nn.functional

from fastact._bench.torch_table import torch_table  # noqa: E402
from reference import (GRAD_ATOL_GROWS, KNOWN, OWN_KINKS, PIECEWISE_LINEAR,  # noqa: E402,F401
                       TORCH_DIFFERS, TORCH_STANDIN)

# Each function's forward through PyTorch: the registry's torch expression
# (what the benchmark times), or the stand-in of tests/reference.py for a
# function PyTorch does not have.  Each function's own kinks (OWN_KINKS) and
# its documented differences from PyTorch (KNOWN, TORCH_DIFFERS: x values
# where the comparison is skipped) are in tests/reference.py too.
TORCH = {label: (lambda t, p, f=fns["forward"]: f(t, None, p))
         for label, fns in torch_table(torch).items() if "[" not in label and "forward" in fns}
TORCH.update(TORCH_STANDIN)
KINKS = np.array([-0.0, 0.0, -np.inf, np.inf, 1e-30, -1e-30])
ULP = 4


def _ulps(a, b, dtype):
    a, b = np.asarray(a, dtype), np.asarray(b, dtype)
    same = (a == b) | (np.isnan(a) & np.isnan(b))
    sp = np.spacing(np.maximum(np.abs(a), np.abs(b)).astype(dtype))
    with np.errstate(invalid="ignore"):
        d = np.abs(a.astype(np.float64) - b.astype(np.float64)) / np.maximum(sp, np.finfo(dtype).smallest_subnormal)
    return np.where(same, 0.0, d)


def _grad(name, x, p, wrt_y):
    t = torch.from_numpy(x.copy()).requires_grad_(True)
    y = TORCH[name](t, p)
    g = torch.ones_like(y)
    y.backward(g)
    return y.detach().numpy(), t.grad.numpy()


def test_every_function_is_compared():
    assert sorted(TORCH) == sorted(fa.activations())


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("name", [n for n in TORCH if fa.activations()[n].kind == "elementwise"])
def test_against_torch(name, dtype):
    rec = fa.activations()[name]
    p = default_params(rec)
    rng = np.random.default_rng(11)
    kinks = np.concatenate([KINKS, OWN_KINKS.get(name, [])])
    x = np.concatenate([kinks, rng.uniform(-20, 20, 4000), rng.standard_normal(2000)]).astype(dtype)
    ty, tg = _grad(name, x, p, False)
    y = getattr(fa, name)(x, **p)
    known = KNOWN.get((name, "forward"), lambda x, dt: np.zeros(x.shape, bool))(x, dtype)
    ty = np.where(known, y, ty)
    if name == "hardsigmoid" and dtype == np.float64:
        tg = np.where(tg != 0, np.float64(1 / 6), tg)
    k = len(kinks)
    if name in TORCH_DIFFERS:
        keep = ~TORCH_DIFFERS[name](x, dtype)
        x, y, ty, tg = x[keep], y[keep], ty[keep], tg[keep]
        k = int(keep[:len(kinks)].sum())
    # Within the budget of PyTorch; where PyTorch's own kernel is further off
    # (its AVX2 erf in gelu float32 is up to ~7 ULP on [-1, 0]), fastact must be
    # within the budget of the exact value instead.
    far = _ulps(y, ty, dtype) > ULP
    if far.any():
        exact = [REF[name]["f"](mp.mpf(float(v)), p) for v in x[far]]
        assert ulp_errors(y[far], exact, dtype).max() <= ULP, (x[far][:5], y[far][:5], ty[far][:5])
    np.testing.assert_array_equal(y[:k], ty[:k])
    np.testing.assert_array_equal(np.signbit(y[:k]), np.signbit(ty[:k]))
    # gradient: PyTorch's autograd uses the output where it can
    if "y" in rec.backward_from:
        gx = getattr(fa, name + "_backward")(np.ones_like(x), y=y, **p)
    else:
        gx = getattr(fa, name + "_backward")(np.ones_like(x), x, **p)
    np.testing.assert_array_equal(gx[:k], tg[:k])
    if name in PIECEWISE_LINEAR:
        np.testing.assert_array_equal(y, ty)
        np.testing.assert_array_equal(gx, tg)
    # PyTorch's 1 - y*y and y*(1-y) cancel near saturation (absolute error ~eps,
    # unbounded in ULP): compare with an absolute tolerance on the unit gradient
    if name in GRAD_ATOL_GROWS:
        bad = np.abs(gx - tg) > 4 * np.finfo(dtype).eps * (1 + np.abs(x))
        assert not bad.any(), (x[bad][:5], gx[bad][:5], tg[bad][:5])
        return
    np.testing.assert_allclose(gx, tg, rtol=0, atol=4 * np.finfo(dtype).eps)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_softmax_against_torch(dtype):
    x = (np.random.default_rng(12).standard_normal((64, 100)) * 5).astype(dtype)
    t = torch.from_numpy(x.copy()).requires_grad_(True)
    ty = torch.softmax(t, -1)
    g = np.random.default_rng(13).standard_normal(x.shape).astype(dtype)
    ty.backward(torch.from_numpy(g))
    y = fa.softmax(x)
    # PyTorch's own exp(x - max) is up to ~15 ULP off for float32: compare loosely in ULP of y
    assert _ulps(y, ty.detach().numpy(), dtype).max() <= 32
    np.testing.assert_allclose(fa.softmax_backward(g, y=y), t.grad.numpy(),
                               rtol=1e-5 if dtype == np.float32 else 1e-12,
                               atol=1e-6 if dtype == np.float32 else 1e-15)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("name", ["log_softmax", "softmin"])
@pytest.mark.parametrize("axis", [0, 1, -1])
def test_log_softmax_softmin_against_torch(name, axis, dtype):
    x = (np.random.default_rng(14).standard_normal((6, 7, 30)) * 5).astype(dtype)
    t = torch.from_numpy(x.copy()).requires_grad_(True)
    ty = {"log_softmax": torch.log_softmax, "softmin": F.softmin}[name](t, axis)
    g = np.random.default_rng(15).standard_normal(ty.shape).astype(dtype)
    ty.backward(torch.from_numpy(g))
    y = getattr(fa, name)(x, axis=axis)
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(y, ty.detach().numpy(), **tol)
    np.testing.assert_allclose(getattr(fa, name + "_backward")(g, y=y, axis=axis), t.grad.numpy(), **tol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("axis", [0, 1, -1])
def test_glu_maxout_against_torch(axis, dtype):
    x = (np.random.default_rng(16).standard_normal((6, 4, 12)) * 4).astype(dtype)
    x[0, 0, :4] = 1.5                                   # ties: the first one wins in both
    # PyTorch's glu backward forms sigma(b)(1 - sigma(b)), absolute error ~eps*|g a|
    tol = dict(rtol=2e-6, atol=4e-6) if dtype == np.float32 else dict(rtol=1e-14, atol=1e-14)
    for name in ("glu", "maxout"):
        t = torch.from_numpy(x.copy()).requires_grad_(True)
        if name == "glu":
            ty, kw = F.glu(t, axis), {}
        else:
            ty, kw = torch.movedim(torch.movedim(t, axis, -1).unflatten(-1, (-1, 2)).max(-1).values, -1, axis), \
                {"pieces": 2}
        g = np.random.default_rng(17).standard_normal(ty.shape).astype(dtype)
        ty.backward(torch.from_numpy(g))
        y = getattr(fa, name)(x, axis=axis, **kw)
        np.testing.assert_allclose(y, ty.detach().numpy(), **tol)
        gx = getattr(fa, name + "_backward")(g, x, axis=axis, **kw)
        if name == "maxout":
            np.testing.assert_array_equal(y, ty.detach().numpy())
            np.testing.assert_array_equal(gx, t.grad.numpy())
        np.testing.assert_allclose(gx, t.grad.numpy(), **tol)


# ---- issue 14: what each function does at nan, and celu's backward limit ----


# the functions defined piece by piece (a select on x)
_PIECEWISE = {"relu", "leaky_relu", "elu", "selu", "celu", "relu6", "hardsigmoid", "hardswish",
              "hardtanh", "softshrink", "hardshrink", "threshold", "softplus", "prelu", "rrelu"}


@pytest.mark.parametrize("name", sorted(n for n, r in fa.activations().items()
                                        if r.kind in ("elementwise", "prelu", "rrelu")))
def test_nan_behaviour_documented(name):
    """fastact returns nan both ways at x = nan; every record's notes say so,
    and where PyTorch's backward gives something else (g, 0, slope g: the
    piecewise functions, elu, selu, celu) the notes say that too."""
    rec = fa.activations()[name]
    p = default_params(rec)
    x = np.array([np.nan])
    g = np.array([3.0])
    if name == "prelu":
        y, gx = fa.prelu(x, 0.25), fa.prelu_backward(g, x, 0.25)[0]
    else:
        y, gx = getattr(fa, name)(x, **p), getattr(fa, name + "_backward")(g, x, **p)
    assert np.isnan(y).all() and np.isnan(gx).all()
    t = torch.tensor([np.nan], dtype=torch.float64, requires_grad=True)
    if name == "prelu":
        p = {"weight": torch.tensor([0.25], dtype=torch.float64)}
    ty = TORCH[name](t, p)
    ty.backward(torch.tensor([3.0], dtype=torch.float64))
    notes = rec.notes
    if name in _PIECEWISE or not np.isnan(t.grad.item()):
        assert "At x = nan both directions return nan" in notes, name
    if not np.isnan(t.grad.item()):
        sentence = notes[notes.index("At x = nan both directions return nan"):].split(").")[0]
        assert "(PyTorch" in sentence, (name, t.grad.item(), notes)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_celu_backward_limits_negative_alpha(build, dtype):
    """alpha < 0: d/dx celu = e^(x/alpha) -> inf as x -> -inf, and beyond the
    range for finite x/alpha > 88.7 (709.8): g times that limit, 0 for g = 0
    (was nan, 0 * inf; PyTorch gives nan too)."""
    big = -1e4 if dtype == np.float32 else -1e5           # x/alpha beyond exp's range
    x = np.array([-np.inf, -np.inf, -np.inf, -np.inf, big, big, big, np.nan, np.nan, -1.0, 2.0], dtype)
    g = np.array([0.0, -0.0, 1.0, -2.0, 0.0, 1.0, -1.0, 0.0, 1.0, 0.0, 0.0], dtype)
    got = fa.celu_backward(g, x, alpha=-1.5)
    want = np.array([0.0, -0.0, np.inf, -np.inf, 0.0, np.inf, -np.inf, np.nan, np.nan, 0.0, 0.0], dtype)
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(np.signbit(got[:2]), [False, True])
    # where PyTorch's autograd is not nan, the same values
    t = torch.from_numpy(x.copy()).requires_grad_(True)
    F.celu(t, -1.5).backward(torch.from_numpy(g.copy()))
    tg = t.grad.numpy()
    keep = ~np.isnan(tg) & ~np.isnan(x)          # at x = nan PyTorch returns g (documented)
    np.testing.assert_array_equal(got[keep], tg[keep])
    # alpha > 0: the derivative tends to 0 at -inf, whatever g
    np.testing.assert_array_equal(fa.celu_backward(g[:4], x[:4], alpha=2.0), [0.0, -0.0, 0.0, -0.0])


def test_bfloat16_tensor_error_names_the_dtype_not_the_device():
    """A CPU torch.bfloat16 tensor cannot be viewed by NumPy (no bfloat16 in
    NumPy): the TypeError says to convert the dtype, not to move the tensor."""
    t = torch.zeros(3, dtype=torch.bfloat16)
    with pytest.raises(TypeError, match=r"sigmoid: a torch\.Tensor that NumPy cannot view") as err:
        fa.sigmoid(t)
    assert "float32" in str(err.value) and "cpu()" not in str(err.value)


def test_bias_and_derivative_take_tensors():
    """The bias paths and NAME_and_derivative on torch tensors: computed on
    zero-copy views, returned as tensors, equal to the NumPy results."""
    rng = np.random.default_rng(2)
    x = rng.standard_normal((4, 6)).astype(np.float32)
    b = rng.standard_normal(6).astype(np.float32)
    g = rng.standard_normal((4, 6)).astype(np.float32)
    xt, bt, gt = (torch.from_numpy(v) for v in (x, b, g))
    y = fa.gelu(xt, bias=bt)
    assert isinstance(y, torch.Tensor)
    np.testing.assert_array_equal(y.numpy(), fa.gelu(x, bias=b))
    gx, gb = fa.gelu_backward(gt, xt, bias=bt)
    assert isinstance(gx, torch.Tensor) and isinstance(gb, torch.Tensor)
    want_gx, want_gb = fa.gelu_backward(g, x, bias=b)
    np.testing.assert_array_equal(gx.numpy(), want_gx)
    np.testing.assert_array_equal(gb.numpy(), want_gb)
    xr, br = xt.clone().requires_grad_(), bt.clone().requires_grad_()
    tgx, tgb = torch.autograd.grad(torch.nn.functional.gelu(xr + br), (xr, br), gt)
    np.testing.assert_allclose(gx.numpy(), tgx.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(gb.numpy(), tgb.numpy(), rtol=1e-5, atol=1e-6)
    for bias, bn in ((None, None), (bt, b)):
        yy, dd = fa.gelu_and_derivative(xt, bias=bias)
        assert isinstance(yy, torch.Tensor) and isinstance(dd, torch.Tensor)
        wy, wd = fa.gelu_and_derivative(x, bias=bn)
        np.testing.assert_array_equal(yy.numpy(), wy)
        np.testing.assert_array_equal(dd.numpy(), wd)


def test_rrelu_takes_tensors():
    """rrelu's own path (training, noise) returns tensors for tensors, as the rest."""
    x = torch.tensor([[np.nan, -1.0, 2.0, -3.0]])
    y, noise = fa.rrelu(x, training=True, rng=0, return_noise=True)
    assert isinstance(y, torch.Tensor) and isinstance(noise, torch.Tensor)
    y2, noise2 = fa.rrelu(x.numpy(), training=True, rng=0, return_noise=True)
    np.testing.assert_array_equal(y.numpy(), y2)
    np.testing.assert_array_equal(noise.numpy(), noise2)
    g = fa.rrelu_backward(torch.ones(1, 4), x, noise=noise, training=True)
    assert isinstance(g, torch.Tensor)
    np.testing.assert_array_equal(g.numpy(), noise2)
    out = torch.empty(1, 4)
    r, n3 = fa.rrelu(x, training=True, rng=0, return_noise=True, out=out)
    assert r is out and isinstance(n3, torch.Tensor)
    np.testing.assert_array_equal(out.numpy(), y2)
    ye, ne = fa.rrelu(x, return_noise=True)                   # eval: the mean slope
    assert isinstance(ye, torch.Tensor) and isinstance(ne, torch.Tensor)


def test_bias_backward_out_keeps_grad_bias_for_tensors():
    """out= takes grad_x; grad_bias still comes back beside it, as for NumPy."""
    x, b = torch.linspace(-2, 2, 6).reshape(2, 3), torch.tensor([0.5, -1.0, 2.0])
    out = torch.empty(2, 3)
    gx, gb = fa.gelu_backward(torch.ones(2, 3), x, bias=b, out=out)
    assert gx is out and isinstance(gb, torch.Tensor)
    want_gx, want_gb = fa.gelu_backward(np.ones((2, 3), np.float32), x.numpy(), bias=b.numpy())
    np.testing.assert_array_equal(out.numpy(), want_gx)
    np.testing.assert_array_equal(gb.numpy(), want_gb)
