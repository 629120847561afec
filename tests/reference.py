"""Independent references for the tests: mpmath at 60 digits.

REF[name] gives, for each elementwise activation, the exact forward ``f``,
the exact derivative ``d`` and the backward-from-output formula ``dy``
(evaluated exactly on the given y), as functions of an mpf and the
parameters.  SPECIAL[name] lists the values at ±0, ±inf and nan that
semantics.md prescribes, as (x, forward, derivative) rows.
"""
import math

import mpmath as mp
import numpy as np

mp.mp.dps = 60
NAN, INF = math.nan, math.inf


def _sig(x):
    return 1 / (1 + mp.exp(-x))


REF = {
    "sigmoid": dict(f=lambda x, p: _sig(x), d=lambda x, p: _sig(x) * _sig(-x),
                    dy=lambda y, p: y * (1 - y)),
    "tanh": dict(f=lambda x, p: mp.tanh(x), d=lambda x, p: 1 / mp.cosh(x) ** 2,
                 dy=lambda y, p: 1 - y * y),
    "relu": dict(f=lambda x, p: x if x > 0 else mp.mpf(0), d=lambda x, p: mp.mpf(x > 0),
                 dy=lambda y, p: mp.mpf(y > 0)),
    "leaky_relu": dict(f=lambda x, p: x if x > 0 else p["negative_slope"] * x,
                       d=lambda x, p: mp.mpf(1) if x > 0 else p["negative_slope"]),
    "elu": dict(f=lambda x, p: x if x > 0 else p["alpha"] * mp.expm1(x),
                d=lambda x, p: mp.mpf(1) if x > 0 else p["alpha"] * mp.exp(x),
                dy=lambda y, p: mp.mpf(1) if y > 0 else y + p["alpha"]),
    # ---- piecewise-linear catalogue ----
    "relu6": dict(f=lambda x, p: min(max(x, mp.mpf(0)), mp.mpf(6)), d=lambda x, p: mp.mpf(0 < x < 6)),
    "hardsigmoid": dict(f=lambda x, p: min(max(x + 3, mp.mpf(0)), mp.mpf(6)) / 6,
                        d=lambda x, p: mp.mpf(1) / 6 if -3 < x < 3 else mp.mpf(0)),
    "hardswish": dict(f=lambda x, p: x * min(max(x + 3, mp.mpf(0)), mp.mpf(6)) / 6,
                      d=lambda x, p: mp.mpf(0) if x <= -3 else ((2 * x + 3) / 6 if x < 3 else mp.mpf(1))),
    "hardtanh": dict(f=lambda x, p: min(max(x, p["min_val"]), p["max_val"]),
                     d=lambda x, p: mp.mpf(p["min_val"] < x < p["max_val"])),
    "softshrink": dict(f=lambda x, p: x - p["lambd"] if x > p["lambd"] else
                       (x + p["lambd"] if x < -p["lambd"] else mp.mpf(0)),
                       d=lambda x, p: mp.mpf(abs(x) > p["lambd"])),
    "hardshrink": dict(f=lambda x, p: x if abs(x) > p["lambd"] else mp.mpf(0),
                       d=lambda x, p: mp.mpf(abs(x) > p["lambd"])),
    "threshold": dict(f=lambda x, p: x if x > p["threshold"] else p["value"],
                      d=lambda x, p: mp.mpf(x > p["threshold"])),
}

# (x, forward, derivative); -0.0 in a forward column means the sign is checked.
SPECIAL = {
    "sigmoid": [(-INF, 0.0, 0.0), (INF, 1.0, 0.0), (NAN, NAN, NAN), (-0.0, 0.5, 0.25), (0.0, 0.5, 0.25)],
    "tanh": [(-INF, -1.0, 0.0), (INF, 1.0, 0.0), (NAN, NAN, NAN), (-0.0, -0.0, 1.0), (0.0, 0.0, 1.0)],
    "relu": [(-INF, 0.0, 0.0), (INF, INF, 1.0), (NAN, NAN, NAN), (-0.0, -0.0, 0.0), (0.0, 0.0, 0.0)],
    "leaky_relu": [(-INF, -INF, 0.01), (INF, INF, 1.0), (NAN, NAN, NAN), (-0.0, -0.0, 0.01),
                   (0.0, 0.0, 0.01)],
    "elu": [(-INF, -1.0, 0.0), (INF, INF, 1.0), (NAN, NAN, NAN), (-0.0, -0.0, 1.0), (0.0, 0.0, 1.0)],
    # ---- piecewise-linear catalogue (kinks: the gradient PyTorch gives there) ----
    "relu6": [(-INF, 0.0, 0.0), (INF, 6.0, 0.0), (NAN, NAN, NAN), (-0.0, -0.0, 0.0), (0.0, 0.0, 0.0),
              (6.0, 6.0, 0.0), (3.0, 3.0, 1.0)],
    "hardsigmoid": [(-INF, 0.0, 0.0), (INF, 1.0, 0.0), (NAN, NAN, NAN), (-0.0, 0.5, 1 / 6), (0.0, 0.5, 1 / 6),
                    (-3.0, 0.0, 0.0), (3.0, 1.0, 0.0)],
    "hardswish": [(-INF, -0.0, 0.0), (INF, INF, 1.0), (NAN, NAN, NAN), (-0.0, -0.0, 0.5), (0.0, 0.0, 0.5),
                  (-3.0, -0.0, 0.0), (3.0, 3.0, 1.0), (-1.5, -0.375, 0.0), (-3e38, -0.0, 0.0),
                  (3e38, 3e38, 1.0)],
    "hardtanh": [(-INF, -1.0, 0.0), (INF, 1.0, 0.0), (NAN, NAN, NAN), (-0.0, -0.0, 1.0), (0.0, 0.0, 1.0),
                 (-1.0, -1.0, 0.0), (1.0, 1.0, 0.0)],
    "softshrink": [(-INF, -INF, 1.0), (INF, INF, 1.0), (NAN, NAN, NAN), (-0.0, 0.0, 0.0), (0.0, 0.0, 0.0),
                   (-0.5, 0.0, 0.0), (0.5, 0.0, 0.0), (-0.25, 0.0, 0.0), (-1.0, -0.5, 1.0)],
    "hardshrink": [(-INF, -INF, 1.0), (INF, INF, 1.0), (NAN, NAN, NAN), (-0.0, 0.0, 0.0), (0.0, 0.0, 0.0),
                   (-0.5, 0.0, 0.0), (0.5, 0.0, 0.0), (-0.25, 0.0, 0.0), (-1.0, -1.0, 1.0)],
    "threshold": [(-INF, 0.0, 0.0), (INF, INF, 1.0), (NAN, NAN, NAN), (-0.0, 0.0, 0.0), (1.0, 0.0, 0.0),
                  (1.5, 1.5, 1.0)],
}


# --- cat1: silu ... squareplus ------------------------------------------------
_SELU_A = mp.mpf("1.6732632423543772848170429916717")
_SELU_S = mp.mpf("1.0507009873554804934193349852946")
_GT_K = mp.sqrt(2 / mp.pi)          # gelu, approximate="tanh"
_GT_C = mp.mpf("0.044715")


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


REF.update({
    "silu": dict(f=lambda x, p: x * _sig(x), d=lambda x, p: _sig(x) * (1 + x * _sig(-x))),
    "mish": dict(f=lambda x, p: x * mp.tanh(mp.log1p(mp.exp(x))), d=lambda x, p: _mish_d(x)),
    "softsign": dict(f=lambda x, p: x / (1 + abs(x)), d=lambda x, p: 1 / (1 + abs(x)) ** 2),
    "logsigmoid": dict(f=lambda x, p: -mp.log1p(mp.exp(-x)), d=lambda x, p: _sig(-x)),
    "tanhshrink": dict(f=lambda x, p: _tanhshrink(x), d=lambda x, p: mp.tanh(x) ** 2),
    "gelu": dict(f=lambda x, p: _gelu(x), d=lambda x, p: _gelu_d(x)),
    "selu": dict(f=lambda x, p: _SELU_S * (x if x > 0 else _SELU_A * mp.expm1(x)),
                 d=lambda x, p: _SELU_S * (1 if x > 0 else _SELU_A * mp.exp(x))),
    "celu": dict(f=lambda x, p: x if x > 0 else p["alpha"] * mp.expm1(x / p["alpha"]),
                 d=lambda x, p: mp.mpf(1) if x > 0 else mp.exp(x / p["alpha"])),
    # PyTorch's rule: x itself where beta * x > threshold
    "softplus": dict(f=lambda x, p: x if x * p["beta"] > p["threshold"]
                     else mp.log1p(mp.exp(p["beta"] * x)) / p["beta"],
                     d=lambda x, p: mp.mpf(1) if x * p["beta"] > p["threshold"] else _sig(p["beta"] * x)),
    # b / (2 (r - x)) for x < 0: the same value, without cancellation at 60 digits
    "squareplus": dict(f=lambda x, p: (x + _sqp_r(x, p["b"])) / 2 if x >= 0
                       else p["b"] / (2 * (_sqp_r(x, p["b"]) - x)),
                       d=lambda x, p: (1 + x / _sqp_r(x, p["b"])) / 2 if x >= 0
                       else p["b"] / (2 * _sqp_r(x, p["b"]) * (_sqp_r(x, p["b"]) - x))),
})

# Kernels selected by a string parameter: (name, value) -> reference.
VARIANT_REF = {
    ("gelu", "tanh"): dict(
        f=lambda x, p: x / (1 + mp.exp(-_gelu_tanh_w(x))),      # 0.5 x (1 + tanh u) = x sigma(2u)
        d=lambda x, p: _sig(_gelu_tanh_w(x)) * (1 + x * 2 * _GT_K * (1 + 3 * _GT_C * x * x)
                                               * _sig(-_gelu_tanh_w(x)))),
}

_LN2 = math.log(2)
_SA = float(_SELU_A * _SELU_S)
SPECIAL.update({
    "silu": [(-INF, -0.0, 0.0), (INF, INF, 1.0), (NAN, NAN, NAN), (-0.0, -0.0, 0.5), (0.0, 0.0, 0.5)],
    "mish": [(-INF, -0.0, 0.0), (INF, INF, 1.0), (NAN, NAN, NAN), (-0.0, -0.0, 0.6), (0.0, 0.0, 0.6)],
    "softsign": [(-INF, -1.0, 0.0), (INF, 1.0, 0.0), (NAN, NAN, NAN), (-0.0, -0.0, 1.0), (0.0, 0.0, 1.0)],
    "logsigmoid": [(-INF, -INF, 1.0), (INF, 0.0, 0.0), (NAN, NAN, NAN), (-0.0, -_LN2, 0.5),
                   (0.0, -_LN2, 0.5)],
    "tanhshrink": [(-INF, -INF, 1.0), (INF, INF, 1.0), (NAN, NAN, NAN), (-0.0, 0.0, 0.0), (0.0, 0.0, 0.0)],
    "gelu": [(-INF, -0.0, 0.0), (INF, INF, 1.0), (NAN, NAN, NAN), (-0.0, -0.0, 0.5), (0.0, 0.0, 0.5)],
    "selu": [(-INF, -_SA, 0.0), (INF, INF, float(_SELU_S)), (NAN, NAN, NAN), (-0.0, -0.0, _SA),
             (0.0, 0.0, _SA)],
    "celu": [(-INF, -1.0, 0.0), (INF, INF, 1.0), (NAN, NAN, NAN), (-0.0, -0.0, 1.0), (0.0, 0.0, 1.0)],
    "softplus": [(-INF, 0.0, 0.0), (INF, INF, 1.0), (NAN, NAN, NAN), (-0.0, _LN2, 0.5), (0.0, _LN2, 0.5)],
    "squareplus": [(-INF, 0.0, 0.0), (INF, INF, 1.0), (NAN, NAN, NAN), (-0.0, 1.0, 0.5), (0.0, 1.0, 0.5)],
})
# --- end cat1 -------------------------------------------------------------------


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
