"""Reference values for the tests, one entry per function: the one place a new
activation's test data goes (with its record and its kernel: CONTRIBUTING.md).

``ref(name, f, d, dy=None, special=(), ...)`` registers, for an elementwise
activation:

- ``f``, ``d``: the exact forward and derivative as functions of an mpf and
  the parameters (mpmath at 60 digits); ``dy``: the backward-from-output
  formula, evaluated exactly on the given y (for records that accept y=);
  gathered in ``REF[name]``;
- ``special``: the values at +-0, +-inf, nan and the kinks that
  docs/semantics.md prescribes, as (x, forward, derivative) rows
  (``SPECIAL[name]``; -0.0 in a forward column means the sign is checked);
- for tests/test_torch.py: ``torch_kinks``, points of this function compared
  with PyTorch bit for bit (``OWN_KINKS``); ``torch_differs``, (x, dtype) ->
  mask of the documented differences from PyTorch, skipped in the comparison
  (``TORCH_DIFFERS``); ``torch_known``, the same for the forward only, where
  the gradient still agrees (``KNOWN``); ``torch``, a PyTorch expression
  (t, p) for a function PyTorch does not have (``TORCH_STANDIN``; otherwise
  the record's ``torch`` field is used); ``piecewise_linear`` (equal to
  PyTorch everywhere) and ``grad_atol_grows`` (PyTorch's gradient cancels: an
  absolute tolerance growing with |x|).

``VARIANT_REF[(name, value)]`` holds f and d of a kernel chosen by a string
parameter (gelu's approximate="tanh").
"""
import math

import mpmath as mp
import numpy as np

mp.mp.dps = 60
NAN, INF = math.nan, math.inf

REF, SPECIAL, VARIANT_REF = {}, {}, {}
OWN_KINKS, KNOWN, TORCH_DIFFERS, TORCH_STANDIN = {}, {}, {}, {}
PIECEWISE_LINEAR, GRAD_ATOL_GROWS = set(), set()


def ref(name, f, d, dy=None, special=(), *, torch_kinks=(), torch_differs=None, torch_known=None,
        torch=None, piecewise_linear=False, grad_atol_grows=False):
    """Register the reference data of one activation (see the module docstring)."""
    assert name not in REF, f"{name}: registered twice"
    REF[name] = dict(f=f, d=d, **({"dy": dy} if dy is not None else {}))
    SPECIAL[name] = list(special)
    if torch_kinks:
        OWN_KINKS[name] = list(torch_kinks)
    if torch_differs is not None:
        TORCH_DIFFERS[name] = torch_differs
    if torch_known is not None:
        KNOWN[(name, "forward")] = torch_known
    if torch is not None:
        TORCH_STANDIN[name] = torch
    if piecewise_linear:
        PIECEWISE_LINEAR.add(name)
    if grad_atol_grows:
        GRAD_ATOL_GROWS.add(name)


def torch_only(name, torch):
    """A function outside REF (not elementwise) that PyTorch lacks: its stand-in."""
    TORCH_STANDIN[name] = torch


def _sig(x):
    return 1 / (1 + mp.exp(-x))


_one, _zero = mp.mpf(1), mp.mpf(0)
_LN2 = math.log(2)
_SELU_A = mp.mpf("1.6732632423543772848170429916717")
_SELU_S = mp.mpf("1.0507009873554804934193349852946")
_SA = float(_SELU_A * _SELU_S)
_GT_K = mp.sqrt(2 / mp.pi)          # gelu, approximate="tanh"
_GT_C = mp.mpf("0.044715")
_INF_KINKS = lambda x, dt: np.isinf(x)                              # noqa: E731


def _mish_d(x):
    sp = mp.log1p(mp.exp(x))
    t = mp.tanh(sp)
    return t + x * _sig(x) * (1 - t * t)


def _tanhshrink(x):
    if x == 0:
        return mp.mpf(0)
    with mp.workdps(60 + int(3 * max(0, -mp.log10(abs(x))))):
        return +(x - mp.tanh(x))


def _phi(x):
    return mp.exp(-x * x / 2) / mp.sqrt(2 * mp.pi)


def _gelu(x):
    # mpmath's ncdf fails for huge |x|; beyond 1000 the value is x or rounds to -0
    if abs(x) > 1000:
        return x if x > 0 else mp.mpf(0)
    return x * mp.ncdf(x)


def _gelu_d(x):
    if abs(x) > 1000:
        return mp.mpf(x > 0)
    return mp.ncdf(x) + x * _phi(x)


def _gelu_tanh_w(x):
    return 2 * _GT_K * (x + _GT_C * x ** 3)


def _sqp_r(x, b):
    return mp.sqrt(x * x + b)


# ---- Sigmoid-shaped --------------------------------------------------------------
ref("sigmoid", lambda x, p: _sig(x), lambda x, p: _sig(x) * _sig(-x), lambda y, p: y * (1 - y),
    [(-INF, 0.0, 0.0), (INF, 1.0, 0.0), (NAN, NAN, NAN), (-0.0, 0.5, 0.25), (0.0, 0.5, 0.25)])
ref("tanh", lambda x, p: mp.tanh(x), lambda x, p: 1 / mp.cosh(x) ** 2, lambda y, p: 1 - y * y,
    [(-INF, -1.0, 0.0), (INF, 1.0, 0.0), (NAN, NAN, NAN), (-0.0, -0.0, 1.0), (0.0, 0.0, 1.0)])
ref("logsigmoid", lambda x, p: -mp.log1p(mp.exp(-x)), lambda x, p: _sig(-x), None,
    [(-INF, -INF, 1.0), (INF, 0.0, 0.0), (NAN, NAN, NAN), (-0.0, -_LN2, 0.5), (0.0, -_LN2, 0.5)])
# PyTorch: nan at -inf (-inf * 0) and nan gradients at +-inf; fastact the limits
ref("softsign", lambda x, p: x / (1 + abs(x)), lambda x, p: 1 / (1 + abs(x)) ** 2, None,
    [(-INF, -1.0, 0.0), (INF, 1.0, 0.0), (NAN, NAN, NAN), (-0.0, -0.0, 1.0), (0.0, 0.0, 1.0)],
    torch_differs=_INF_KINKS)

# ---- Exponential linear units ----------------------------------------------------
ref("elu", lambda x, p: x if x > 0 else p["alpha"] * mp.expm1(x),
    lambda x, p: _one if x > 0 else p["alpha"] * mp.exp(x),
    lambda y, p: _one if y > 0 else y + p["alpha"],
    [(-INF, -1.0, 0.0), (INF, INF, 1.0), (NAN, NAN, NAN), (-0.0, -0.0, 1.0), (0.0, 0.0, 1.0)])
# float64: fastact rounds alpha * scale from the full-precision constants
# (1.7580993408473768), PyTorch multiplies the rounded ones (...766): 1 ULP
# at x <= 0, visible at the kinks
ref("selu", lambda x, p: _SELU_S * (x if x > 0 else _SELU_A * mp.expm1(x)),
    lambda x, p: _SELU_S * (1 if x > 0 else _SELU_A * mp.exp(x)), None,
    [(-INF, -_SA, 0.0), (INF, INF, float(_SELU_S)), (NAN, NAN, NAN), (-0.0, -0.0, _SA), (0.0, 0.0, _SA)],
    torch_differs=lambda x, dt: (x <= 0) & (dt == np.float64))
ref("celu", lambda x, p: x if x > 0 else p["alpha"] * mp.expm1(x / p["alpha"]),
    lambda x, p: _one if x > 0 else mp.exp(x / p["alpha"]), None,
    [(-INF, -1.0, 0.0), (INF, INF, 1.0), (NAN, NAN, NAN), (-0.0, -0.0, 1.0), (0.0, 0.0, 1.0)])

# ---- Smooth rectifiers and self-gated units --------------------------------------
# PyTorch's rule: x itself where beta * x > threshold
ref("softplus", lambda x, p: x if x * p["beta"] > p["threshold"] else mp.log1p(mp.exp(p["beta"] * x)) / p["beta"],
    lambda x, p: _one if x * p["beta"] > p["threshold"] else _sig(p["beta"] * x), None,
    [(-INF, 0.0, 0.0), (INF, INF, 1.0), (NAN, NAN, NAN), (-0.0, _LN2, 0.5), (0.0, _LN2, 0.5)])
# b / (2 (r - x)) for x < 0: the same value, without cancellation at 60 digits.
# PyTorch has none: JAX's formula in torch, in its stable form (nan gradients at +-inf)
ref("squareplus", lambda x, p: (x + _sqp_r(x, p["b"])) / 2 if x >= 0 else p["b"] / (2 * (_sqp_r(x, p["b"]) - x)),
    lambda x, p: ((1 + x / _sqp_r(x, p["b"])) / 2 if x >= 0
                  else p["b"] / (2 * _sqp_r(x, p["b"]) * (_sqp_r(x, p["b"]) - x))), None,
    [(-INF, 0.0, 0.0), (INF, INF, 1.0), (NAN, NAN, NAN), (-0.0, 1.0, 0.5), (0.0, 1.0, 0.5)],
    torch_differs=_INF_KINKS,
    torch=lambda t, p: __import__("torch").where(
        t >= 0, 0.5 * (t + (t * t + p["b"]).sqrt()), p["b"] / (2 * ((t * t + p["b"]).sqrt() - t))))
# PyTorch's gradient of silu and mish uses 1 - sigmoid(x), which cancels: its
# absolute error grows like |x| eps
ref("silu", lambda x, p: x * _sig(x), lambda x, p: _sig(x) * (1 + x * _sig(-x)), None,
    [(-INF, -0.0, 0.0), (INF, INF, 1.0), (NAN, NAN, NAN), (-0.0, -0.0, 0.5), (0.0, 0.0, 0.5)],
    torch_differs=_INF_KINKS, grad_atol_grows=True)
ref("mish", lambda x, p: x * mp.tanh(mp.log1p(mp.exp(x))), lambda x, p: _mish_d(x), None,
    [(-INF, -0.0, 0.0), (INF, INF, 1.0), (NAN, NAN, NAN), (-0.0, -0.0, 0.6), (0.0, 0.0, 0.6)],
    torch_differs=_INF_KINKS, grad_atol_grows=True)
# 1 + erf(x/sqrt 2) cancels in PyTorch's gelu for x < 0 (by a factor 1/Phi(x):
# 6 at -1, 3e6 at -5; float32 gives 0 below -8.6); fastact keeps the relative
# accuracy there
# PyTorch 2.13's vectorized float32 gelu gives +0 at -0 (its float64 and its
# scalar path -0, as fastact both).
ref("gelu", lambda x, p: _gelu(x), lambda x, p: _gelu_d(x), None,
    [(-INF, -0.0, 0.0), (INF, INF, 1.0), (NAN, NAN, NAN), (-0.0, -0.0, 0.5), (0.0, 0.0, 0.5)],
    torch_differs=lambda x, dt: np.isinf(x) | (x < -1),
    torch_known=lambda x, dt: (dt == np.float32) & (x == 0) & np.signbit(x))
VARIANT_REF[("gelu", "tanh")] = dict(
    f=lambda x, p: x / (1 + mp.exp(-_gelu_tanh_w(x))),      # 0.5 x (1 + tanh u) = x sigma(2u)
    d=lambda x, p: _sig(_gelu_tanh_w(x)) * (1 + x * 2 * _GT_K * (1 + 3 * _GT_C * x * x)
                                           * _sig(-_gelu_tanh_w(x))))

# ---- Rectifiers (kinks: the gradient PyTorch gives there) ------------------------
ref("relu", lambda x, p: x if x > 0 else _zero, lambda x, p: mp.mpf(x > 0), lambda y, p: mp.mpf(y > 0),
    [(-INF, 0.0, 0.0), (INF, INF, 1.0), (NAN, NAN, NAN), (-0.0, -0.0, 0.0), (0.0, 0.0, 0.0)],
    piecewise_linear=True)
ref("relu6", lambda x, p: min(max(x, _zero), mp.mpf(6)), lambda x, p: mp.mpf(0 < x < 6), None,
    [(-INF, 0.0, 0.0), (INF, 6.0, 0.0), (NAN, NAN, NAN), (-0.0, -0.0, 0.0), (0.0, 0.0, 0.0),
     (6.0, 6.0, 0.0), (3.0, 3.0, 1.0)],
    torch_kinks=[6.0, 3.0], piecewise_linear=True)
ref("leaky_relu", lambda x, p: x if x > 0 else p["negative_slope"] * x,
    lambda x, p: _one if x > 0 else p["negative_slope"], None,
    [(-INF, -INF, 0.01), (INF, INF, 1.0), (NAN, NAN, NAN), (-0.0, -0.0, 0.01), (0.0, 0.0, 0.01)],
    piecewise_linear=True)
ref("hardtanh", lambda x, p: min(max(x, p["min_val"]), p["max_val"]),
    lambda x, p: mp.mpf(p["min_val"] < x < p["max_val"]), None,
    [(-INF, -1.0, 0.0), (INF, 1.0, 0.0), (NAN, NAN, NAN), (-0.0, -0.0, 1.0), (0.0, 0.0, 1.0),
     (-1.0, -1.0, 0.0), (1.0, 1.0, 0.0)],
    torch_kinks=[-1.0, 1.0], piecewise_linear=True)
ref("threshold", lambda x, p: x if x > p["threshold"] else p["value"], lambda x, p: mp.mpf(x > p["threshold"]),
    None,
    [(-INF, 0.0, 0.0), (INF, INF, 1.0), (NAN, NAN, NAN), (-0.0, 0.0, 0.0), (1.0, 0.0, 0.0), (1.5, 1.5, 1.0)],
    torch_kinks=[1.0, 0.5, -1.0], piecewise_linear=True)
# PyTorch's float64 hardsigmoid backward uses the float32-rounded 1/6 (test_torch
# compares with 1/6 instead)
ref("hardsigmoid", lambda x, p: min(max(x + 3, _zero), mp.mpf(6)) / 6,
    lambda x, p: _one / 6 if -3 < x < 3 else _zero, None,
    [(-INF, 0.0, 0.0), (INF, 1.0, 0.0), (NAN, NAN, NAN), (-0.0, 0.5, 1 / 6), (0.0, 0.5, 1 / 6),
     (-3.0, 0.0, 0.0), (3.0, 1.0, 0.0)],
    torch_kinks=[-3.0, 3.0, -1.5], piecewise_linear=True)
# PyTorch's hardswish(-inf) is nan (fastact: -0)
ref("hardswish", lambda x, p: x * min(max(x + 3, _zero), mp.mpf(6)) / 6,
    lambda x, p: _zero if x <= -3 else ((2 * x + 3) / 6 if x < 3 else _one), None,
    [(-INF, -0.0, 0.0), (INF, INF, 1.0), (NAN, NAN, NAN), (-0.0, -0.0, 0.5), (0.0, 0.0, 0.5),
     (-3.0, -0.0, 0.0), (3.0, 3.0, 1.0), (-1.5, -0.375, 0.0), (-3e38, -0.0, 0.0), (3e38, 3e38, 1.0)],
    torch_kinks=[-3.0, 3.0, -1.5, 1.5], torch_known=lambda x, dt: x == -np.inf)

# ---- Shrinkage -------------------------------------------------------------------
# PyTorch's float32 softshrink gives -0 in the dead zone for x < 0 (fastact: +0, as its float64)
ref("softshrink", lambda x, p: x - p["lambd"] if x > p["lambd"] else (x + p["lambd"] if x < -p["lambd"] else _zero),
    lambda x, p: mp.mpf(abs(x) > p["lambd"]), None,
    [(-INF, -INF, 1.0), (INF, INF, 1.0), (NAN, NAN, NAN), (-0.0, 0.0, 0.0), (0.0, 0.0, 0.0),
     (-0.5, 0.0, 0.0), (0.5, 0.0, 0.0), (-0.25, 0.0, 0.0), (-1.0, -0.5, 1.0)],
    torch_kinks=[-0.5, 0.5, 0.25, 1.0, -1.0], piecewise_linear=True,
    torch_known=lambda x, dt: (dt == np.float32) & np.signbit(x) & (np.abs(x) <= 0.5))
ref("hardshrink", lambda x, p: x if abs(x) > p["lambd"] else _zero, lambda x, p: mp.mpf(abs(x) > p["lambd"]), None,
    [(-INF, -INF, 1.0), (INF, INF, 1.0), (NAN, NAN, NAN), (-0.0, 0.0, 0.0), (0.0, 0.0, 0.0),
     (-0.5, 0.0, 0.0), (0.5, 0.0, 0.0), (-0.25, 0.0, 0.0), (-1.0, -1.0, 1.0)],
    torch_kinks=[-0.5, 0.5, -0.25, 1.0, -1.0], piecewise_linear=True)
# PyTorch computes x - tanh(x), which cancels for |x| < 1 (and its gradient
# 1 - (1 - tanh^2) too); fastact uses a series there
ref("tanhshrink", lambda x, p: _tanhshrink(x), lambda x, p: mp.tanh(x) ** 2, None,
    [(-INF, -INF, 1.0), (INF, INF, 1.0), (NAN, NAN, NAN), (-0.0, 0.0, 0.0), (0.0, 0.0, 0.0)],
    torch_differs=lambda x, dt: (np.abs(x) < 1) & (x != 0))

# ---- Not elementwise, and PyTorch has no such function -------------------------------
torch_only("maxout", lambda t, p: t.unflatten(-1, (-1, p["pieces"])).max(-1).values)


def softmax_row(kind, row):
    """softmax, log_softmax or softmin ("kind") of one row of floats, on mpf
    (tests/test_softmax.py, tools/peer_accuracy.py).  The maximum m is taken
    out; log_softmax is x - m - log1p(the sum of the other terms): the log of
    the whole sum loses that rest at 60 digits for rows like [700, 0, ...]."""
    v = [mp.mpf(float(t)) for t in row]
    if kind == "softmin":
        v = [-t for t in v]
    m = max(v)
    e = [mp.exp(t - m) for t in v]
    if kind == "log_softmax":
        i = v.index(m)
        lse = mp.log1p(mp.fsum(e[:i] + e[i + 1:]))       # log(1 + rest), the rest kept
        return [t - m - lse for t in v]
    s = mp.fsum(e)
    return [t / s for t in e]


def ulp_errors(got, exact, dtype):
    """|got - exact| in units of the last place of exact rounded to dtype.

    Values beyond the dtype's range count as matching an inf of the right sign.
    """
    dtype = np.dtype(dtype)
    tiny = np.array(np.finfo(dtype).smallest_subnormal, dtype)
    out = np.empty(len(got))
    for i, (g, e) in enumerate(zip(np.asarray(got, dtype=dtype).ravel(), exact)):
        rounded = np.array(float(e), dtype=np.float64).astype(dtype)
        if np.isinf(rounded) or np.isinf(g):
            out[i] = 0.0 if g == rounded else math.inf
            continue
        spacing = np.spacing(np.abs(rounded)) if rounded != 0 else tiny
        out[i] = float(abs(mp.mpf(float(g)) - e) / mp.mpf(float(spacing)))
    return out


def sample(dtype, n=700, seed=1234):
    """Points over the whole finite range of dtype, subnormals included, plus
    a dense band where the functions bend and the thresholds of exp."""
    dtype = np.dtype(dtype)
    fi = np.finfo(dtype)
    rng = np.random.default_rng(seed)
    lo = math.log10(float(fi.smallest_subnormal))
    hi = math.log10(float(fi.max))
    mags = 10.0 ** rng.uniform(lo, hi, n // 2)
    band = 120.0 if dtype == np.float32 else 760.0
    dense = rng.uniform(-band, band, n // 4)
    near = rng.standard_normal(n - n // 2 - n // 4) * 4
    edges = [0.5, 1, 3, 6, 8.6, 9, 10, 17, 18, 20, 30, 44, 80, 87.3, 88.37, 88.72, 88.73, 89,
             103.2, 103.98, 104, 105, 700, 708.39, 709.78, 709.79, 710, 744.4, 745.13, 746, 1e4,
             float(fi.tiny), float(fi.smallest_subnormal), float(fi.eps), 1e-8, 1e-20]
    x = np.concatenate([mags * rng.choice([-1, 1], mags.size), dense, near, edges, [-e for e in edges]])
    with np.errstate(over="ignore"):
        x = x.astype(dtype)
    return x[np.isfinite(x)]
