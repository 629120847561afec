"""The gated units (swiglu, geglu, reglu): against PyTorch's composite
gate(a) * b and its autograd in float64, finite differences, the unfused
fastact composite (bit for bit: the same per-element kernels), layouts,
out=, threads, bad input and the layers."""
import numpy as np
import pytest

import fastact as fa
from fastact import nn
from conftest import threads_exactly, small_parallel_threshold

torch = pytest.importorskip("torch")
F = torch.nn.functional

GATED = [a for a in fa.activations().values() if "gate" in a.extra]
# (name, keyword arguments) for every record and variant
CASES = [(a.name, {}) for a in GATED] + [
    (a.name, {a.variants[0]: v}) for a in GATED if a.variants for v, _ in a.variants[1][1:]]
IDS = [n + "".join(f"-{v}" for v in kw.values()) for n, kw in CASES]
DTYPES = [np.float32, np.float64]


def test_records():
    assert {a.name for a in GATED} == {"swiglu", "geglu", "reglu"}


def _torch_gate(name, kw):
    gate = fa.activations()[name].extra["gate"]
    if gate == "gelu":
        return lambda t: F.gelu(t, approximate=kw.get("approximate", "none"))
    return getattr(F, gate)


def _torch_ref(name, kw, x, g, axis):
    """(forward, dL/dx) of torch's composite, in float64."""
    xt = torch.tensor(np.asarray(x, dtype=np.float64), requires_grad=True)
    a, b = xt.chunk(2, dim=axis)
    y = _torch_gate(name, kw)(a) * b
    y.backward(torch.tensor(np.asarray(g, dtype=np.float64)))
    return y.detach().numpy(), xt.grad.numpy()


def _mp_gate(gate, kw):
    """(gate, gate') of an exact reference (mpmath, 40 digits)."""
    import mpmath as mp
    mp.mp.dps = 40
    if gate == "silu":
        def f(x):
            return x / (1 + mp.exp(-x))

        def d(x):
            s = 1 / (1 + mp.exp(-x))
            return s * (1 + x * (1 - s))
    elif gate == "relu":
        def f(x):
            return x if x > 0 else mp.mpf(0)

        def d(x):
            return mp.mpf(1) if x > 0 else mp.mpf(0)
    elif kw.get("approximate", "none") == "none":
        def f(x):
            return x * mp.ncdf(x)

        def d(x):
            return mp.ncdf(x) + x * mp.npdf(x)
    else:
        c = mp.sqrt(2 / mp.pi)

        def f(x):
            return x / (1 + mp.exp(-2 * c * (x + mp.mpf("0.044715") * x ** 3)))

        def d(x):
            w = 2 * c * (x + mp.mpf("0.044715") * x ** 3)
            s = 1 / (1 + mp.exp(-w))
            return s + x * s * (1 - s) * 2 * c * (1 + 3 * mp.mpf("0.044715") * x ** 2)
    return f, d


def _mp_ref(name, kw, x, g, axis):
    """(forward, dL/dx) exactly (mpmath), rounded to float64 at the end; the
    backward's g * b is rounded to x's dtype first, as torch's autograd does."""
    import mpmath as mp
    f, d = _mp_gate(fa.activations()[name].extra["gate"], kw)
    a, b = np.split(x, 2, axis=axis)
    gb = (g * b).astype(x.dtype)
    fa_ = np.vectorize(lambda v: f(mp.mpf(float(v))), otypes=[object])(a)
    da = np.vectorize(lambda v: d(mp.mpf(float(v))), otypes=[object])(a)
    y = np.vectorize(lambda u, v: float(u * mp.mpf(float(v))))(fa_, b)
    ga = np.vectorize(lambda u, v: float(u * mp.mpf(float(v))))(da, gb)
    gbh = np.vectorize(lambda u, v: float(u * mp.mpf(float(v))))(fa_, g)
    return y, np.concatenate([ga, gbh], axis=axis)


def _ulps(got, ref, dtype):
    """|got - ref| in units of the dtype's spacing at ref (0 where equal)."""
    got = np.asarray(got, dtype=np.float64)
    sp = np.spacing(np.abs(ref).astype(dtype)).astype(np.float64)
    sp = np.maximum(sp, np.finfo(dtype).smallest_subnormal)
    return np.where(got == ref, 0.0, np.abs(got - ref) / sp)


def _fwd_bwd(name, kw):
    return getattr(fa, name), getattr(fa, name + "_backward")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,kw", CASES, ids=IDS)
@pytest.mark.parametrize("shape,axis", [((6, 10), -1), ((4, 6, 3), 1), ((8,), 0), ((2, 5, 4), 0)])
def test_against_torch(name, kw, dtype, shape, axis):
    rng = np.random.default_rng(1)
    x = (rng.standard_normal(shape) * 3).astype(dtype)
    fwd, bwd = _fwd_bwd(name, kw)
    y = fwd(x, axis=axis, **kw)
    g = rng.standard_normal(y.shape).astype(dtype)
    gx = bwd(g, x, axis=axis, **kw)
    ry, rgx = _torch_ref(name, kw, x, g, axis)
    assert y.dtype == gx.dtype == dtype and y.shape == ry.shape and gx.shape == x.shape
    # torch's composite in float64: equal to rounding (on the scale of the
    # values: torch's float64 gelu loses relative accuracy for a << 0, where
    # 1 + erf(a / sqrt 2) cancels; fastact's does not)
    eps = np.finfo(dtype).eps
    np.testing.assert_allclose(y, ry, rtol=4 * eps, atol=4 * eps * np.abs(ry).max())
    np.testing.assert_allclose(gx, rgx, rtol=4 * eps, atol=4 * eps * np.abs(rgx).max())
    # the exact values: within 4 ULP (the gate's rounding and the product's; in
    # the backward also g * b's, as in torch)
    ey, egx = _mp_ref(name, kw, x, g, axis)
    assert _ulps(y, ey, dtype).max() <= 4
    assert _ulps(gx, egx, dtype).max() <= 4


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,kw", CASES, ids=IDS)
def test_equals_unfused_composite(name, kw, dtype):
    """Bit for bit the composite a fastact user writes (the same kernels),
    specials included: nan, +-inf, +-0, huge and tiny values."""
    gate = fa.activations()[name].extra["gate"]
    gf, gb = getattr(fa, gate), getattr(fa, gate + "_backward")
    gkw = kw if gate == "gelu" else {}
    special = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e30, -1e30, 1e-40, -3.5, 2.0, -1.28,
                        0.7], dtype=dtype)
    rng = np.random.default_rng(2)
    a = np.concatenate([special, rng.standard_normal(200).astype(dtype) * 4])
    b = np.concatenate([special[::-1], rng.standard_normal(200).astype(dtype) * 4])
    x = np.stack([np.concatenate([a, b]), np.concatenate([b, a])])
    g = np.concatenate([np.tile(special, (2, 1)), rng.standard_normal((2, 200)).astype(dtype)],
                       axis=1)
    ha, hb = np.split(x, 2, axis=-1)
    fwd, bwd = _fwd_bwd(name, kw)
    with np.errstate(all="ignore"):
        expect_y = gf(ha, **gkw) * hb
        expect_gx = np.concatenate([gb(g * hb, ha, **gkw), g * gf(ha, **gkw)], axis=-1)
    np.testing.assert_array_equal(fwd(x, **kw), expect_y)
    np.testing.assert_array_equal(bwd(g, x, **kw), expect_gx)


@pytest.mark.parametrize("name,kw", CASES, ids=IDS)
def test_edges_as_torch(name, kw):
    """nan propagates and inf * 0 is nan, as in torch's composite (where the
    gate itself agrees with torch's: finite a)."""
    x = np.array([[1.0, np.nan, 0.0, 2.0, 3.0, np.inf, np.inf, -1.0]])
    g = np.array([[1.0, 1.0, 1.0, 0.0]])
    fwd, bwd = _fwd_bwd(name, kw)
    ry, rgx = _torch_ref(name, kw, x, g, -1)
    np.testing.assert_array_equal(np.isnan(fwd(x, **kw)), np.isnan(ry))
    got = bwd(g, x, **kw)
    # at a = nan fastact's gates' derivatives are nan (relu's too: torch's
    # relu backward gives 0 there, docs/semantics.md)
    assert np.isnan(got[0, 1])
    keep = np.arange(8) != 1
    np.testing.assert_array_equal(np.isnan(got[0, keep]), np.isnan(rgx[0, keep]))


@pytest.mark.parametrize("name,kw", CASES, ids=IDS)
def test_finite_differences(name, kw):
    x = np.random.default_rng(3).standard_normal((3, 8)) * 2
    r = fa.gradcheck(name, x, axis=-1, **kw)
    assert r, r


@pytest.mark.parametrize("name,kw", CASES, ids=IDS)
def test_layouts_out_empty(name, kw):
    fwd, bwd = _fwd_bwd(name, kw)
    rng = np.random.default_rng(4)
    base = rng.standard_normal((10, 12))
    for x in (base[:, ::-1], base.T, np.asfortranarray(base), base[::2]):
        y = fwd(x, **kw)
        np.testing.assert_array_equal(y, fwd(np.ascontiguousarray(x), **kw))
        g = rng.standard_normal(y.shape)
        np.testing.assert_array_equal(bwd(g, x, **kw), bwd(g, np.ascontiguousarray(x), **kw))
    x = base.copy()
    out = np.empty((10, 6))
    assert fwd(x, out=out, **kw) is out
    np.testing.assert_array_equal(out, fwd(base, **kw))
    g = rng.standard_normal((10, 6))
    expect = bwd(g, base, **kw)
    assert bwd(g, x, out=x, **kw) is x              # in place over x
    np.testing.assert_array_equal(x, expect)
    e = np.empty((0, 4))
    assert fwd(e, **kw).shape == (0, 2) and bwd(np.empty((0, 2)), e, **kw).shape == (0, 4)
    assert fwd(np.float32([1, 2]), **kw).dtype == np.float32
    assert fwd(np.float16([1, 2]), **kw).dtype == np.float16
    assert fwd([1, 2], **kw).dtype == np.float64


@pytest.mark.parametrize("name,kw", CASES, ids=IDS)
@pytest.mark.parametrize("shape,axis", [((2 ** 17,), 0), ((64, 2048), -1), ((64, 32, 64), 1)])
def test_threads(name, kw, shape, axis):
    fwd, bwd = _fwd_bwd(name, kw)
    rng = np.random.default_rng(5)
    x = rng.standard_normal(shape).astype(np.float32)
    with threads_exactly(1):
        y1 = fwd(x, axis=axis, **kw)
        g = rng.standard_normal(y1.shape).astype(np.float32)
        gx1 = bwd(g, x, axis=axis, **kw)
    with threads_exactly(4), small_parallel_threshold():
        np.testing.assert_array_equal(fwd(x, axis=axis, **kw), y1)
        np.testing.assert_array_equal(bwd(g, x, axis=axis, **kw), gx1)


@pytest.mark.parametrize("name,kw", CASES, ids=IDS)
def test_bad_input(name, kw):
    fwd, bwd = _fwd_bwd(name, kw)
    with pytest.raises(ValueError, match=f"{name}: axis -1 .length 5.: must have an even length"):
        fwd(np.ones((2, 5)), **kw)
    with pytest.raises(ValueError, match=f"{name}_backward: grad has shape"):
        bwd(np.ones((2, 3)), np.ones((2, 4)), **kw)
    with pytest.raises(TypeError, match=f"{name}: x has dtype complex128"):
        fwd(np.ones(4, complex), **kw)
    with pytest.raises(ValueError, match=f"{name}: x must have at least one dimension"):
        fwd(1.0, **kw)
    x = np.ones((2, 4))
    x.flags.writeable = False
    fwd(x, **kw)                                       # read-only input is fine, never written
    if kw:
        with pytest.raises(ValueError, match=f"{name}: approximate must be one of"):
            fwd(x, approximate="erf")


@pytest.mark.parametrize("name", [a.name for a in GATED])
def test_layer_against_torch(name):
    layer = getattr(nn, fa.activations()[name].class_name)(axis=-1)
    rng = np.random.default_rng(6)
    x, g = rng.standard_normal((5, 8)), rng.standard_normal((5, 4))
    ry, rgx = _torch_ref(name, {}, x, g, -1)
    eps = np.finfo(np.float64).eps      # torch's float64 gelu is the less accurate one here
    np.testing.assert_allclose(layer(x), ry, rtol=4 * eps, atol=4 * eps * np.abs(ry).max())
    np.testing.assert_allclose(layer.backward(g), rgx, rtol=4 * eps,
                               atol=4 * eps * np.abs(rgx).max())
