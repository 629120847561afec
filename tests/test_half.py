"""Half-width storage: float16 and bfloat16 (ml_dtypes) in and out of the kernels.

Every elementwise kernel and direction over all 65536 bit patterns of each
half type, held to 1 ULP of the half type against a float64 reference: the
float64 kernels, themselves held to 4 ULP of float64 against mpmath
(test_accuracy.py), and directly against mpmath (tests/reference.py) on a
sample.  The conversions are compared bit for bit with NumPy's float16 casts
and ml_dtypes' bfloat16 casts, in every CPU build this machine runs.
"""
import math

import mpmath as mp
import numpy as np
import pytest

import fastact as fa
from fastact import _api, _dispatch, ufuncs
from fastact._registry import ACTIVATIONS, KERNELS
from reference import REF, VARIANT_REF
from conftest import fn

try:
    import ml_dtypes
    BF16 = np.dtype(ml_dtypes.bfloat16)
    _api._bfloat16()
except ImportError:                      # the bfloat16 extra is not installed
    ml_dtypes = BF16 = None

F16 = np.dtype(np.float16)
HALVES = [F16, pytest.param(BF16, marks=pytest.mark.skipif(BF16 is None, reason="no ml_dtypes"))]
MANT = {"float16": 10, "bfloat16": 7}                       # stored mantissa bits
EMIN = {"float16": -14, "bfloat16": -126}                   # smallest normal exponent
GRADS = (1.0, -0.3, 3.5)


def every_pattern(dt):
    return np.arange(1 << 16, dtype=np.uint32).astype(np.uint16).view(dt)


def ulp_error(h, ref, dt):
    """|h - ref| in ULPs of the half type at ref (inf where h is not finite
    and ref is; 0 where both are the same inf or both nan)."""
    name = np.dtype(dt).name
    h64 = h.astype(np.float32).astype(np.float64)
    r = ref.astype(np.float32).astype(np.float64) if ref.dtype.itemsize == 2 else ref.astype(np.float64)
    _, e = np.frexp(np.abs(r))
    ulp = np.ldexp(1.0, np.maximum(e - 1, EMIN[name]) - MANT[name])
    top = float(np.finfo(np.float32).max) if name == "bfloat16" else 65504.0
    with np.errstate(invalid="ignore", over="ignore"):
        err = np.abs(h64 - r) / ulp
        # beyond the largest finite half: inf is the correctly rounded result
        over = np.isfinite(r) & (np.abs(r) > top) & (np.isinf(h64)) & (np.sign(h64) == np.sign(r))
        same = (np.isnan(h64) & np.isnan(r)) | ((h64 == r) & ~np.isnan(r)) | over
    return np.where(same, 0.0, np.where(np.isnan(err), np.inf, err))


def check_half(h, ref, dt, what, signed=True):
    assert h.dtype == dt, f"{what}: dtype {h.dtype}"
    err = ulp_error(h, ref, dt)
    bad = err > 1.0
    if bad.any():
        i = np.flatnonzero(bad)[:5]
        pytest.fail(f"{what}: {bad.sum()} values beyond 1 ULP, e.g. ref {ref[i]} got "
                    f"{h[i].astype(np.float64)} ({err[i]} ULP)")
    if not signed:                       # an underflowed derivative: either zero
        return
    # signed zero kept where the reference has one
    zero = (ref == 0) & (h.astype(np.float32).astype(np.float64) == 0)
    assert (np.signbit(ref[zero]) == np.signbit(h.astype(np.float32).astype(np.float64)[zero])).all(), what


def assert_same_bits(got, want, err_msg=""):
    """got and want (half arrays) hold the same bit patterns, except that a
    nan matches a nan of either sign or payload (a nan's bits are not part
    of the result: they vary with the order of operands in the code)."""
    g, w = np.asarray(got), np.asarray(want)
    assert g.dtype == w.dtype and g.shape == w.shape, err_msg
    gn, wn = np.isnan(g.astype(np.float32)), np.isnan(w.astype(np.float32))
    np.testing.assert_array_equal(gn, wn, err_msg=err_msg)
    np.testing.assert_array_equal(np.where(gn, 0, g.view(np.uint16)),
                                  np.where(wn, 0, w.view(np.uint16)), err_msg=err_msg)


def kernel_cases():
    for kid, (kernel, rec) in enumerate(KERNELS):
        directions = [0, 1] + ([2] if "y" in rec.backward_from and rec.y_allowed() else [])
        if "x" not in rec.backward_from:
            directions.remove(1)
        for d in directions:
            yield pytest.param(kid, d, id=f"{kernel}-{'fxy'[d]}")


# ------------------------------------------------------------ conversions --

@pytest.mark.parametrize("dt", HALVES, ids=str)
def test_conversions_bit_exact(build, dt):
    mod = _dispatch.active_module()
    h = every_pattern(dt)
    f = np.empty(h.size, np.float32)
    mod.half_convert(h, f)
    want = h.astype(np.float32)
    nan = np.isnan(want)
    assert (f.view(np.uint32)[~nan] == want.view(np.uint32)[~nan]).all()
    assert np.isnan(f[nan]).all() and (np.signbit(f[nan]) == np.signbit(want[nan])).all()
    # down: every float32 near a half value or a tie between two, random
    # bit patterns, the overflow threshold, specials
    rng = np.random.default_rng(1)
    fin = want[np.isfinite(want)].astype(np.float32).view(np.int32)
    near = np.concatenate([fin + k for k in (-1, 0, 1)]).view(np.float32)
    mids = ((want[np.isfinite(want)][:-1].astype(np.float64) + want[np.isfinite(want)][1:]) / 2)
    rand = rng.integers(0, 1 << 32, 1 << 18, dtype=np.uint64).astype(np.uint32).view(np.float32)
    specials = np.array([np.inf, -np.inf, np.nan, -np.nan, 0.0, -0.0, 65504, 65519.996, 65520,
                         3.4e38, -3.4e38, 1e-45, -1e-45, 2.0 ** -25, 2.0 ** -24 * 1.5],
                        np.float32)
    src = np.concatenate([near, mids.astype(np.float32), rand, specials])
    with np.errstate(over="ignore", invalid="ignore"):
        want = src.astype(dt)
    got = np.empty(src.size, dt)
    mod.half_convert(src, got)
    nan = np.isnan(src)
    gb, wb = got.view(np.uint16), want.view(np.uint16)
    assert (gb[~nan] == wb[~nan]).all(), src[~nan][gb[~nan] != wb[~nan]][:5]
    assert np.isnan(got[nan].astype(np.float32)).all()


# ------------------------------------------- every kernel, every pattern --

@pytest.mark.parametrize("dt", HALVES, ids=str)
@pytest.mark.parametrize("kid,d", list(kernel_cases()))
def test_every_pattern_within_1ulp(build, kid, d, dt):
    kernel, rec = KERNELS[kid]
    uf = ufuncs.BY_KERNEL[kid, d]
    params = [rec.examples[p.name] for p in rec.params]
    a = every_pattern(dt)
    if d == 2:                           # y: every value the forward gives
        a = np.unique(ufuncs.BY_KERNEL[kid, 0](a, *params))
    with np.errstate(invalid="ignore"):  # ml_dtypes warns casting its nan
        a64 = a.astype(np.float32).astype(np.float64)
    if d == 0:
        check_half(uf(a, *params), uf(a64, *params), dt, kernel)
        # the keyword API (default variant) gives the same bits and keeps the dtype
        if kernel == rec.name:
            y = fn(rec.name)(a, **{p.name: v for p, v in zip(rec.params, params) if not p.required})
            assert y.dtype == dt
            np.testing.assert_array_equal(y.view(np.uint16), uf(a, *params).view(np.uint16))
        return
    for gv in GRADS:
        g = np.full(a.size, gv, dt)
        check_half(uf(g, a, *params), uf(g.astype(np.float64), a64, *params), dt,
                   f"{kernel} backward from {'xy'[d - 1]}, grad {gv}", signed=False)


@pytest.mark.parametrize("dt", HALVES, ids=str)
def test_sample_against_mpmath(dt):
    """The half results directly against the exact values (mpmath)."""
    rng = np.random.default_rng(7)
    x = (rng.standard_normal(40) * 4).astype(dt)
    for kid, (kernel, rec) in enumerate(KERNELS):
        r = REF.get(kernel) if kernel == rec.name else VARIANT_REF.get(
            next(((rec.name, v) for v, k in rec.variants[1] if k == kernel), None))
        if r is None:
            continue
        params = [rec.examples[p.name] for p in rec.params]
        pm = {p.name: mp.mpf(v) for p, v in zip(rec.params, params)}
        y = ufuncs.BY_KERNEL[kid, 0](x, *params)
        exact = np.array([float(r["f"](mp.mpf(float(v)), pm)) for v in x.astype(np.float64)])
        check_half(y, exact, dt, kernel, signed=False)   # mpmath has no signed zero
        if "x" in rec.backward_from:
            dy = ufuncs.BY_KERNEL[kid, 1](np.ones_like(x), x, *params)
            exact = np.array([float(r["d"](mp.mpf(float(v)), pm)) for v in x.astype(np.float64)])
            check_half(dy, exact, dt, kernel + " derivative", signed=False)


# ---------------------------------------------- API: dtypes, out, layouts --

@pytest.mark.parametrize("dt", HALVES, ids=str)
def test_mixed_precision(dt):
    x = (np.random.default_rng(3).standard_normal(3000) * 3).astype(dt)
    x32 = x.astype(np.float32)
    g32 = np.random.default_rng(4).standard_normal(3000).astype(np.float32)
    # half x or y with a float32 grad: float32 result, as computed from float32 x
    r = fa.gelu_backward(g32, x)
    assert r.dtype == np.float32
    np.testing.assert_array_equal(r, fa.gelu_backward(g32, x32))
    y = fa.sigmoid(x)
    np.testing.assert_array_equal(fa.sigmoid_backward(g32, y=y), fa.sigmoid_backward(g32, y=y.astype(np.float32)))
    # half grad with float32 x
    np.testing.assert_array_equal(fa.tanh_backward(g32.astype(dt), x32),
                                  fa.tanh_backward(g32.astype(dt).astype(np.float32), x32))
    # a float32 result from half input: out= and dtype=
    out = np.empty(x.shape, np.float32)
    assert fa.silu(x, out=out) is out
    np.testing.assert_array_equal(out, fa.silu(x32))
    np.testing.assert_array_equal(fa.silu(x, dtype=np.float32), fa.silu(x32))
    out = np.empty(x.shape, np.float32)
    fa.elu_backward(x, x, out=out)
    np.testing.assert_array_equal(out, fa.elu_backward(x32, x32))


@pytest.mark.parametrize("dt", HALVES, ids=str)
def test_layouts_inplace_threads(dt, nthreads):
    rng = np.random.default_rng(5)
    x = (rng.standard_normal((300, 64)) * 3).astype(dt)
    want = fa.mish(x.astype(np.float32)).astype(dt)
    np.testing.assert_array_equal(fa.mish(x).view(np.uint16), want.view(np.uint16))
    np.testing.assert_array_equal(fa.mish(np.asfortranarray(x)).view(np.uint16), want.view(np.uint16))
    np.testing.assert_array_equal(fa.mish(x[:, ::2]).view(np.uint16), want[:, ::2].view(np.uint16))
    xc = x.copy()
    assert fa.mish(xc, out=xc) is xc
    assert_same_bits(xc, want)
    assert fa.mish(x[0, 0]).dtype == dt                     # 0-d: a scalar of the type
    g = rng.standard_normal(x.shape).astype(dt)
    gb = fa.softplus_backward(g, x)
    np.testing.assert_array_equal(gb.view(np.uint16),
                                  fa.softplus_backward(g.astype(np.float32), x.astype(np.float32))
                                  .astype(dt).view(np.uint16))
    gc = g.copy()
    fa.softplus_backward(gc, x, out=gc)
    assert_same_bits(gc, gb)
    # the ufunc loop, strided
    u = ufuncs.mish(x[:, ::3])
    assert u.dtype == dt
    np.testing.assert_array_equal(u.view(np.uint16), want[:, ::3].view(np.uint16))


@pytest.mark.parametrize("dt", HALVES, ids=str)
def test_inputs_not_modified_and_bad_out(dt):
    x = np.linspace(-5, 5, 100).astype(dt)
    keep = x.copy()
    fa.relu6(x)
    fa.relu6_backward(x, x)
    assert_same_bits(x, keep)
    with pytest.raises(TypeError, match="relu6: out has dtype float64"):
        fa.relu6(x, out=np.empty(100))
    with pytest.raises(ValueError, match="relu6: out has shape"):
        fa.relu6(x, out=np.empty(99, dt))


@pytest.mark.parametrize("dt", HALVES, ids=str)
def test_axis_prelu_rrelu_in_half(dt):
    rng = np.random.default_rng(6)
    x = (rng.standard_normal((20, 12)) * 3).astype(dt)
    x64 = x.astype(np.float64)
    for rec in ACTIVATIONS:
        if rec.kind == "softmax":
            f, b = fn(rec.name), fn(rec.name + "_backward")
            y, y64 = f(x, axis=0), f(x64, axis=0)
            check_half(y, y64, dt, rec.name)
            g = rng.standard_normal(x.shape).astype(dt)
            check_half(b(g, y=y, axis=0), b(g.astype(np.float64), y=y.astype(np.float64), axis=0),
                       dt, rec.name + "_backward")
        elif rec.kind == "axis_x":
            f, b = fn(rec.name), fn(rec.name + "_backward")
            y, y64 = f(x), f(x64)
            check_half(y, y64, dt, rec.name)
            g = rng.standard_normal(y.shape).astype(dt)
            check_half(b(g, x), b(g.astype(np.float64), x64), dt, rec.name + "_backward")
    w = np.array([0.25, -0.5] * 6, dt)
    check_half(fa.prelu(x, w), fa.prelu(x64, w.astype(np.float64)), dt, "prelu")
    gx, gw = fa.prelu_backward(x, x, w)
    gx64, _ = fa.prelu_backward(x64, x64, w.astype(np.float64))
    check_half(gx, gx64, dt, "prelu_backward")
    assert gw.dtype == dt
    check_half(fa.rrelu(x), fa.rrelu(x64), dt, "rrelu")
    y, noise = fa.rrelu(x, training=True, rng=0, return_noise=True)
    assert y.dtype == dt
    check_half(fa.rrelu_backward(x, x, noise=noise, training=True),
               fa.rrelu_backward(x64, x64, noise=noise.astype(np.float64), training=True), dt,
               "rrelu_backward")


def test_bfloat16_detected_and_refused_types():
    if BF16 is not None:
        assert BF16 in _api._HALF
        assert fa.sigmoid(np.zeros(3, BF16)).dtype == BF16
        assert "->" in ufuncs.sigmoid.types[-1]
        assert ufuncs.sigmoid(np.zeros(3, BF16)).dtype == BF16
    with pytest.raises(TypeError, match="sigmoid: x has dtype (float128|longdouble)"):
        fa.sigmoid(np.zeros(3, np.longdouble))
    assert math.isnan(float(fa.sigmoid(np.float16("nan"))))


@pytest.mark.parametrize("dt", HALVES, ids=str)
@pytest.mark.parametrize("shape", [(7, 13), (3, 4, 1000), (2, 1), (5, 0), (256, 1024)])
def test_softmax_family_last_axis_is_float32_rounded(build, dt, shape):
    """The half-width row path (forwards: float32 row kernels on converted rows;
    backwards: the half rows read directly; threaded for the largest shape)
    gives the float32 result rounded once, bit for bit, into new arrays and in
    place, in every CPU build."""
    rng = np.random.default_rng(11)
    x = (rng.standard_normal(shape) * 4).astype(dt)
    g = rng.standard_normal(shape).astype(dt)
    if x.size and shape[-1] > 3:
        # the backwards' dot of half rows: products that underflow float32 (bfloat16)
        x[..., 0], g[..., :3] = 60.0, 1e-30
        x[(0,) * (len(shape) - 1)] = [np.nan, np.inf, -np.inf] + [0.0] * (shape[-1] - 3)
    bits = np.uint16
    for name in ("softmax", "log_softmax", "softmin"):
        f, b = fn(name), fn(name + "_backward")
        y = f(x)
        want = f(x.astype(np.float32)).astype(dt)
        assert y.dtype == dt
        assert_same_bits(y, want)
        gx = b(g, y=y)
        want = b(g.astype(np.float32), y=y.astype(np.float32)).astype(dt)
        assert gx.dtype == dt
        assert_same_bits(gx, want)
        inplace = x.copy()
        assert f(inplace, out=inplace) is inplace
        np.testing.assert_array_equal(inplace.view(bits), f(x).view(bits))


@pytest.mark.parametrize("dt", HALVES, ids=str)
@pytest.mark.parametrize("shape,nw", [((4, 8, 100), 8), ((4, 8, 100), 1), ((2, 3, 64), 3),
                                      ((3, 5, 7), 5), ((16, 64, 1024), 64), ((300, 256), 256),
                                      ((9, 70), 1), ((130,), 1), ((5, 3, 2, 2), 3)])
def test_prelu_half_is_float32_rounded(build, dt, shape, nw):
    """prelu on half-width x (channel slices through leaky_relu's half loop
    where a slice has 64 elements or more, rows with a slope per element
    otherwise, as (N, C) after a dense layer) is the float32 result rounded
    once, bit for bit, also in place."""
    rng = np.random.default_rng(12)
    x = (rng.standard_normal(shape) * 3).astype(dt)
    x.flat[:5] = [np.nan, np.inf, -np.inf, 0.0, -0.0]
    w = rng.standard_normal(nw).astype(dt)
    want = fa.prelu(x.astype(np.float32), w.astype(np.float32)).astype(dt)
    y = fa.prelu(x, w)
    assert y.dtype == dt
    assert_same_bits(y, want)
    inplace = x.copy()
    assert fa.prelu(inplace, w, out=inplace) is inplace
    assert_same_bits(inplace, want)


@pytest.mark.parametrize("dt", HALVES, ids=str)
@pytest.mark.parametrize("shape,axis", [((10,), 0), ((7, 10), -1), ((3, 6, 5), 1), ((2, 130), 1),
                                        ((64, 4096), -1)])
def test_glu_and_gated_half_are_float32_rounded(build, dt, shape, axis):
    """glu and the gated units on half-width storage (float32 blocks, no
    float32 copies of the arrays; threaded for the largest shape) give the
    float32 result rounded once, bit for bit: forward, backward, in place
    and into out; specials and glu's exact tails included."""
    rng = np.random.default_rng(13)
    x32 = (rng.standard_normal(shape) * 3).astype(np.float32)
    flat = np.moveaxis(x32, axis, -1).reshape(-1, shape[axis])
    half = shape[axis] // 2
    flat[0, :5] = [np.nan, np.inf, -np.inf, 0.0, -0.0]
    flat[-1, 0], flat[-1, half] = (3e38 if dt == BF16 else 6e4), -100.0   # glu: sigma(b) tiny
    x32 = np.moveaxis(flat.reshape(np.moveaxis(x32, axis, -1).shape), -1, axis)
    x = x32.astype(dt)
    x32 = x.astype(np.float32)
    bits = np.uint16
    for name, kw in (("glu", {}), ("swiglu", {}), ("geglu", {}), ("geglu", {"approximate": "tanh"}),
                     ("reglu", {})):
        f, b = fn(name), fn(name + "_backward")
        y = f(x, axis=axis, **kw)
        with np.errstate(over="ignore"):
            want = f(x32, axis=axis, **kw).astype(dt)
        assert y.dtype == dt, name
        assert_same_bits(y, want, err_msg=name)
        out = np.empty_like(y)
        assert f(x, axis=axis, **kw, out=out) is out
        assert_same_bits(out, want, err_msg=name)
        g = rng.standard_normal(y.shape).astype(dt)
        with np.errstate(over="ignore"):
            want = b(g.astype(np.float32), x32, axis=axis, **kw).astype(dt)
        gx = b(g, x, axis=axis, **kw)
        assert gx.dtype == dt and gx.shape == x.shape, name
        assert_same_bits(gx, want, err_msg=name)
        inplace = x.copy()
        assert b(g, inplace, axis=axis, **kw, out=inplace) is inplace
        assert_same_bits(inplace, want, err_msg=name)
        # a float32 grad: the float32 result (mixed precision, the general path)
        np.testing.assert_array_equal(b(g.astype(np.float32), x, axis=axis, **kw),
                                      b(g.astype(np.float32), x32, axis=axis, **kw))


@pytest.mark.parametrize("dt", HALVES, ids=str)
@pytest.mark.parametrize("shape", [(7,), (33, 65), (512, 1024)])
def test_rrelu_training_backward_half_is_float32_rounded(build, dt, shape):
    """rrelu's training backward on half-width grad and noise (one pass, no
    float32 copies; threaded for the largest shape): grad * noise in float32
    rounded once, bit for bit, also into out = grad; nan where x is nan."""
    rng = np.random.default_rng(14)
    x = (rng.standard_normal(shape) * 3).astype(dt)
    x.flat[:3] = [np.nan, -np.inf, np.inf]
    y, noise = fa.rrelu(x, training=True, rng=1, return_noise=True)
    g = rng.standard_normal(shape).astype(dt)
    for n in (noise, noise.astype(dt)):               # the forward's float32 slopes, or halves
        want = (g.astype(np.float32) * n.astype(np.float32)).astype(dt)
        got = fa.rrelu_backward(g, x, noise=n, training=True)
        assert got.dtype == dt
        assert_same_bits(got, want)
        assert np.isnan(got.flat[0])
        gg = g.copy()
        assert fa.rrelu_backward(gg, x, noise=n, training=True, out=gg) is gg
        assert_same_bits(gg, want)
        o32 = np.empty(shape, np.float32)
        assert fa.rrelu_backward(g, x, noise=n, training=True, out=o32) is o32
        np.testing.assert_array_equal(o32, g.astype(np.float32) * n.astype(np.float32))


@pytest.mark.parametrize("dt", HALVES, ids=str)
@pytest.mark.parametrize("shape,nw", [((4, 8, 700), 8), ((4, 8, 100), 1), ((3, 5, 7), 5),
                                      ((300, 256), 256), ((9, 70), 1), ((130,), 1),
                                      ((16, 64, 1024), 64)])
def test_prelu_backward_half_is_float32_rounded(build, dt, shape, nw):
    """prelu_backward on half-width grad and x (blocks converted in the kernel;
    threaded for the largest shape): grad_x bit for bit the float32 result
    rounded once, grad_weight the float32 path's on the converted arrays;
    into out = grad too."""
    rng = np.random.default_rng(15)
    x = (rng.standard_normal(shape) * 3).astype(dt)
    x.flat[:5] = [np.nan, np.inf, -np.inf, 0.0, -0.0]
    g = rng.standard_normal(shape).astype(dt)
    w = rng.standard_normal(nw).astype(dt)
    want_x, want_w = fa.prelu_backward(g.astype(np.float32), x.astype(np.float32), w.astype(np.float32))
    got_x, got_w = fa.prelu_backward(g, x, w)
    assert got_x.dtype == got_w.dtype == dt and got_w.shape == w.shape
    assert_same_bits(got_x, want_x.astype(dt))
    assert_same_bits(got_w, want_w.astype(dt))
    gg = g.copy()
    r, _ = fa.prelu_backward(gg, x, w, out=gg)
    assert r is gg
    assert_same_bits(gg, want_x.astype(dt))


@pytest.mark.parametrize("dt", HALVES, ids=str)
@pytest.mark.parametrize("shape", [(7,), (33, 65), (512, 1024)])
def test_rrelu_training_forward_half(build, dt, shape):
    """rrelu's training forward on half-width x (one pass, threaded for the
    largest shape): float32 slopes in [lower, upper] where x <= 0 and 1 where
    x > 0, nan where x is nan, and y = x * noise in float32 rounded once;
    the same slopes as for the float32 copy of x from the same seed."""
    rng = np.random.default_rng(16)
    x = (rng.standard_normal(shape) * 3).astype(dt)
    x.flat[:4] = [np.nan, -np.inf, np.inf, -0.0]
    y, noise = fa.rrelu(x, 0.1, 0.3, training=True, rng=5, return_noise=True)
    assert y.dtype == dt and noise.dtype == np.float32 and y.shape == noise.shape == shape
    x32 = x.astype(np.float32)
    y32, n32 = fa.rrelu(x32, 0.1, 0.3, training=True, rng=5, return_noise=True)
    np.testing.assert_array_equal(noise, n32)
    assert_same_bits(y, (x32 * noise).astype(dt))
    assert np.isnan(noise.flat[0]) and np.isnan(y.flat[0])
    neg = x32 <= 0
    assert (noise[x32 > 0] == 1).all()
    assert ((noise[neg] >= np.float32(0.1)) & (noise[neg] <= np.float32(0.3))).all()
    assert np.signbit(y.flat[3])
    out = np.empty_like(x)
    assert fa.rrelu(x, 0.1, 0.3, training=True, rng=5, out=out) is out
    assert_same_bits(out, y)
