"""The smooth activations added with the catalogue (silu ... squareplus): what
the registry-wide tests do not cover: parameter errors, gelu's `approximate`
variants (accuracy, errors, PyTorch), aliases, tails and edge values."""
import math

import mpmath as mp
import numpy as np
import pytest

import fastact as fa
from reference import VARIANT_REF, sample, ulp_errors

ULP_BUDGET = 4
DTYPES = [np.float32, np.float64]


def test_parameter_errors():
    x = np.ones(3)
    with pytest.raises(ValueError, match="celu: alpha must not be 0"):
        fa.celu(x, alpha=0.0)
    with pytest.raises(ValueError, match="celu_backward: alpha must not be 0"):
        fa.celu_backward(x, x, alpha=0)
    with pytest.raises(ValueError, match="squareplus: b must be a finite number >= 0"):
        fa.squareplus(x, b=-1.0)
    with pytest.raises(ValueError, match="softplus: beta must not be 0"):
        fa.softplus(x, beta=0.0)
    with pytest.raises(ValueError, match="softplus: threshold must be finite"):
        fa.softplus(x, threshold=math.inf)
    with pytest.raises(ValueError, match="gelu: approximate must be one of 'none', 'tanh', got 'erf'"):
        fa.gelu(x, approximate="erf")
    with pytest.raises(ValueError, match="gelu_backward: approximate must be one of"):
        fa.gelu_backward(x, x, approximate=None)
    # what is allowed
    assert np.all(np.isfinite(fa.celu(-x, alpha=-2.0)))
    np.testing.assert_array_equal(fa.squareplus(np.array([-3.0, 0.0, 2.0]), b=0.0), [0.0, 0.0, 2.0])
    assert np.all(fa.softplus(x, beta=-1.0) < 0)


def test_backward_needs_x():
    x = np.ones(2)
    for name in ("silu", "mish", "softsign", "logsigmoid", "tanhshrink", "gelu", "selu", "celu",
                 "softplus", "squareplus"):
        with pytest.raises(TypeError, match=rf"{name}_backward\(\) got an unexpected keyword argument 'y'"):
            getattr(fa, name + "_backward")(x, y=x)


def test_alias():
    assert fa.swish is fa.silu and fa.swish_backward is fa.silu_backward


def test_gelu_signature_and_doc():
    import inspect
    assert inspect.signature(fa.gelu).parameters["approximate"].default == "none"
    assert "approximate : str, default 'none'" in fa.gelu.__doc__
    assert "JAX" in fa.gelu.__doc__


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("key", sorted(VARIANT_REF))
def test_variant_ulp(build, key, dtype):
    name, value = key
    x = sample(dtype)
    ref = VARIANT_REF[key]
    f = getattr(fa, name)(x, approximate=value)
    d = getattr(fa, name + "_backward")(np.ones_like(x), x, approximate=value)
    for got, what in ((f, "f"), (d, "d")):
        err = ulp_errors(got, [ref[what](mp.mpf(float(v)), {}) for v in x], dtype)
        worst = int(np.argmax(err))
        assert err[worst] <= ULP_BUDGET, f"{what}: {err[worst]:.2f} ULP at x = {x[worst]!r}"


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
def test_gelu_tanh_special_values(build, dtype):
    x = np.array([-np.inf, np.inf, np.nan, -0.0, 0.0, -1e30, 1e30, -3e38], dtype=dtype)
    f = fa.gelu(x, approximate="tanh")
    d = fa.gelu_backward(np.ones_like(x), x, approximate="tanh")
    np.testing.assert_array_equal(f, np.array([-0.0, np.inf, np.nan, -0.0, 0.0, -0.0, 1e30, -0.0], dtype))
    assert np.signbit(f[[0, 3, 5, 7]]).all()
    np.testing.assert_array_equal(d, np.array([0, 1, np.nan, 0.5, 0.5, 0, 1, 0], dtype))


def test_tails_keep_relative_accuracy():
    # where the naive formulas give 0 or lose every digit
    x32 = np.array([-20.0, -95.0, -100.0], np.float32)
    for name, exact in (("silu", lambda v: v / (1 + mp.exp(-v))),
                        ("mish", lambda v: v * mp.tanh(mp.log1p(mp.exp(v))))):
        got = getattr(fa, name)(x32)
        assert (got < 0).all()
        assert ulp_errors(got, [exact(mp.mpf(float(v))) for v in x32], np.float32).max() <= 4
    g = fa.gelu(np.array([-9.0, -12.0, -14.0], np.float32))
    assert (g < 0).all()
    assert fa.gelu(np.float64(-38.0)) < 0
    sp = fa.softplus(np.array([-30.0, -90.0], np.float32))
    assert (sp > 0).all()
    assert fa.logsigmoid(np.float64(40.0)) == -math.exp(-40.0)
    t = fa.tanhshrink(np.array([1e-3, 1e-10], np.float64))
    np.testing.assert_allclose(t, [1e-9 / 3 - 2e-15 / 15 + 17e-21 / 315, 1e-30 / 3], rtol=1e-15)


def test_softplus_threshold_rule():
    x = np.array([19.9, 20.0, 20.5, 10.1], np.float64)
    y = fa.softplus(x)
    assert y[2] == 20.5 and y[1] != 20.0      # beta x > threshold, strictly
    assert fa.softplus(np.array([10.1]), beta=2.0)[0] == 10.1
    np.testing.assert_array_equal(fa.softplus_backward(np.ones(4), x), [fa.sigmoid(19.9), fa.sigmoid(20.0), 1, fa.sigmoid(10.1)])


def test_gelu_tanh_against_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    for dtype in DTYPES:
        # PyTorch's 1 + tanh(u) cancels for x < -1: compare above it
        x = np.concatenate([rng.uniform(-1, 20, 4000), [0.0, -0.0, 1e-30, -1e-30]]).astype(dtype)
        t = torch.from_numpy(x.copy()).requires_grad_(True)
        ty = torch.nn.functional.gelu(t, approximate="tanh")
        ty.backward(torch.ones_like(ty))
        y = fa.gelu(x, approximate="tanh")
        tyn = ty.detach().numpy()
        sp = np.spacing(np.abs(tyn).astype(dtype))
        assert (np.abs(y.astype(float) - tyn) <= 4 * np.maximum(sp, np.finfo(dtype).smallest_subnormal)).all()
        np.testing.assert_array_equal(np.signbit(y[-4:]), np.signbit(tyn[-4:]))
        gx = fa.gelu_backward(np.ones_like(x), x, approximate="tanh")
        # its 1 - tanh(u)^2 cancels: absolute error growing like |x| eps
        tol = 4 * np.finfo(dtype).eps * (1 + np.abs(x))
        assert (np.abs(gx - t.grad.numpy()) <= tol).all()


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("alpha", [-1.5, -0.1, 0.7])
def test_celu_large_quotients(build, dtype, alpha):
    """celu with x / alpha large (alpha < 0, x < 0: e^(x/alpha) grows and
    amplifies the rounding of the quotient t times, 37 ULP in float32 before
    the quotient's remainder was carried): forward and backward within budget
    against mpmath, up to where the result overflows."""
    mp.mp.dps = 40
    lim = 88.0 if dtype == np.float32 else 709.0
    t = np.linspace(-lim, lim, 601)
    x = (t * alpha).astype(dtype)
    x = x[(x < 0) & (x != 0)]
    a = mp.mpf(float(dtype(alpha)))
    exact_y = [a * mp.expm1(mp.mpf(float(v)) / a) for v in x]
    exact_d = [mp.exp(mp.mpf(float(v)) / a) for v in x]
    assert ulp_errors(fa.celu(x, alpha=alpha), exact_y, dtype).max() <= ULP_BUDGET
    assert ulp_errors(fa.celu_backward(np.ones_like(x), x, alpha=alpha), exact_d, dtype).max() <= ULP_BUDGET
    # -0 stays -0; a quotient that overflows does not make a nan
    assert np.signbit(fa.celu(np.array([-0.0], dtype), alpha=alpha))[0]
    big = np.array([-np.finfo(dtype).max], dtype)
    assert not np.isnan(fa.celu(big, alpha=np.finfo(dtype).tiny if alpha > 0 else -1e-30)).any()


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("alpha", [7.0, 100.0, -3.0, 1e-30])
def test_celu_tiny_quotients(build, dtype, alpha):
    """x / alpha tiny or subnormal (x near the underflow threshold, |alpha| > 1;
    and a subnormal-sized alpha): alpha expm1(x / alpha) is x to within an
    ULP, against mpmath; alpha times expm1 of a subnormal quotient was 7 ULP
    off at alpha = 7, 100 at alpha = 100."""
    mp.mp.dps = 60
    tiny = float(np.finfo(dtype).tiny)
    x = np.concatenate([-np.geomspace(tiny / 64, tiny * 64, 200), np.geomspace(tiny / 64, tiny * 64, 50),
                        -np.geomspace(1e-10, 1e-3, 50)]).astype(dtype)
    a = mp.mpf(float(dtype(alpha)))
    exact_y = [mp.mpf(float(v)) if v > 0 else a * mp.expm1(mp.mpf(float(v)) / a) for v in x]
    exact_d = [mp.mpf(1) if v > 0 else mp.exp(mp.mpf(float(v)) / a) for v in x]
    assert ulp_errors(fa.celu(x, alpha=alpha), exact_y, dtype).max() <= ULP_BUDGET
    assert ulp_errors(fa.celu_backward(np.ones_like(x), x, alpha=alpha), exact_d, dtype).max() <= ULP_BUDGET
