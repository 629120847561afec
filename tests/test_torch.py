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

TORCH = {
    "sigmoid": lambda t, p: torch.sigmoid(t),
    "tanh": lambda t, p: torch.tanh(t),
    "relu": lambda t, p: torch.relu(t),
    "leaky_relu": lambda t, p: F.leaky_relu(t, p["negative_slope"]),
    "elu": lambda t, p: F.elu(t, p["alpha"]),
    "softmax": lambda t, p: torch.softmax(t, -1),
    "log_softmax": lambda t, p: torch.log_softmax(t, -1),
    "softmin": lambda t, p: F.softmin(t, -1),
    "glu": lambda t, p: F.glu(t, -1),
    "prelu": lambda t, p: F.prelu(t, torch.tensor([0.25], dtype=t.dtype)),
    "rrelu": lambda t, p: F.rrelu(t, p["lower"], p["upper"], training=False),
    "maxout": lambda t, p: t.unflatten(-1, (-1, p["pieces"])).max(-1).values,   # no torch maxout
    # ---- piecewise-linear catalogue ----
    "relu6": lambda t, p: F.relu6(t),
    "hardsigmoid": lambda t, p: F.hardsigmoid(t),
    "hardswish": lambda t, p: F.hardswish(t),
    "hardtanh": lambda t, p: F.hardtanh(t, p["min_val"], p["max_val"]),
    "softshrink": lambda t, p: F.softshrink(t, p["lambd"]),
    "hardshrink": lambda t, p: F.hardshrink(t, p["lambd"]),
    "threshold": lambda t, p: F.threshold(t, p["threshold"], p["value"]),
    # --- cat1 ---
    "silu": lambda t, p: F.silu(t),
    "mish": lambda t, p: F.mish(t),
    "softsign": lambda t, p: F.softsign(t),
    "logsigmoid": lambda t, p: F.logsigmoid(t),
    "tanhshrink": lambda t, p: F.tanhshrink(t),
    "gelu": lambda t, p: F.gelu(t),
    "selu": lambda t, p: F.selu(t),
    "celu": lambda t, p: F.celu(t, p["alpha"]),
    "softplus": lambda t, p: F.softplus(t, p["beta"], p["threshold"]),
    # PyTorch has no squareplus: JAX's formula in torch, in its stable form
    "squareplus": lambda t, p: torch.where(t >= 0, 0.5 * (t + torch.sqrt(t * t + p["b"])),
                                           p["b"] / (2 * (torch.sqrt(t * t + p["b"]) - t))),
}
# Each function's own kinks, compared bit for bit (with the KINKS above).
OWN_KINKS = {"relu6": [6.0, 3.0], "hardsigmoid": [-3.0, 3.0, -1.5], "hardswish": [-3.0, 3.0, -1.5, 1.5],
             "hardtanh": [-1.0, 1.0], "softshrink": [-0.5, 0.5, 0.25, 1.0, -1.0],
             "hardshrink": [-0.5, 0.5, -0.25, 1.0, -1.0], "threshold": [1.0, 0.5, -1.0]}
# Documented differences: PyTorch's hardswish(-inf) is nan (fastact: -0); its
# float32 softshrink gives -0 in the dead zone for x < 0 (fastact: +0, as its
# float64); its float64 hardsigmoid backward uses the float32-rounded 1/6.
KNOWN = {("hardswish", "forward"): lambda x, dt: x == -np.inf,
         ("softshrink", "forward"): lambda x, dt: (dt == np.float32) & np.signbit(x) & (np.abs(x) <= 0.5),
         # PyTorch 2.13's float32 gelu(-0) is +0 (its float64 gives -0, as fastact both)
         ("gelu", "forward"): lambda x, dt: (dt == np.float32) & (x == 0) & np.signbit(x)}

# Known, documented differences (see the docstrings): x values where the
# comparison is skipped, as a function of (x, dtype) -> bool mask.
_INF_KINKS = lambda x, dt: np.isinf(x)                              # noqa: E731
TORCH_DIFFERS = {
    # PyTorch: nan at -inf (-inf * 0) and nan gradients at +-inf; fastact the limits
    "silu": _INF_KINKS, "mish": _INF_KINKS, "softsign": _INF_KINKS,
    # ... and 1 + erf(x/sqrt 2) cancels in PyTorch's gelu for x < 0 (by a factor
    # 1/Phi(x): 6 at -1, 3e6 at -5; float32 gives 0 below -8.6); fastact keeps the
    # relative accuracy there
    "gelu": lambda x, dt: np.isinf(x) | (x < -1),
    # PyTorch computes x - tanh(x), which cancels for |x| < 1 (and its gradient
    # 1 - (1 - tanh^2) too); fastact uses a series there
    "tanhshrink": lambda x, dt: (np.abs(x) < 1) & (x != 0),
    # the torch expression gives nan gradients at +-inf
    "squareplus": _INF_KINKS,
    # float64: fastact rounds alpha * scale from the full-precision constants
    # (1.7580993408473768), PyTorch multiplies the rounded ones (...766): 1 ULP
    # at x <= 0, visible at the kinks
    "selu": lambda x, dt: (x <= 0) & (dt == np.float64),
}
# PyTorch's gradient of silu and mish uses 1 - sigmoid(x), which cancels: its
# absolute error grows like |x| eps; compare with that tolerance.
GRAD_ATOL_GROWS = {"silu", "mish"}
# --- end cat1 ---
KINKS = np.array([-0.0, 0.0, -np.inf, np.inf, 1e-30, -1e-30])
PIECEWISE_LINEAR = {"relu", "leaky_relu", "relu6", "hardtanh", "softshrink", "hardshrink", "threshold",
                    "hardsigmoid"}
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
