"""Float-precision fits for the float32 gelu kernels (fastact/_kernels/_activations.pxd),
all relative minimax over the whole clamped range, float coefficients:

  R:  Phi(-y) e^(y^2/2) = t R(t),            t = 1/(1 + 0.3 y),  y in [0, 14.5], degree 9
  W:  Phi(-y) e^(y^2/2) - y/sqrt(2 pi) = -(y - y0) ... = (y - y0) W(t),
                                             the same t,         y in [0, 14.5], degree 8
      (y0 = 0.75179..., the zero of gelu'(-y); its top coefficient is then nudged so that
      gelu'(0) comes out as 0.5 exactly)
  K:  k(t) = dlog T / dlog t, a straight line (t's rounding error moves T by k delta);
      k_W(t) = dlog W / dlog t likewise
  E:  e^(-w/2) - 1 on |w| <= ln 2, degree 6 (the doubled reduced argument w = -2 r)
  Q:  gelu(approximate="tanh")' around its zero r = -0.75246...: t Q(t), |t| <= 1/2, degree 9

Coefficients are rounded to float one at a time, from the constant term up (the large
low-order ones first), the others refitted by linear programming each time: that keeps
the fits within ~1.3x of their unrounded error (top-down rounding doubles or triples it).

The chains print in Horner form; the kernels evaluate the same coefficients with the
two lowest terms by Horner and the rest by Estrin (_math.pxd's poly4_f).

    python tools/fit_gelu_f32.py          (needs mpmath, numpy, scipy; ~1 minute)
"""
import mpmath as mp
import numpy as np
from scipy.optimize import linprog

mp.mp.dps = 40
F32 = np.float32
C0 = 1 / mp.sqrt(2 * mp.pi)


def T(y):
    return mp.ncdf(-y) * mp.exp(y * y / 2)


Y0 = mp.findroot(lambda y: T(y) - C0 * y, 0.75)


def nodes(lo, hi, n=1500):
    k = np.arange(n)
    return (lo + hi) / 2 + (hi - lo) / 2 * np.cos(np.pi * (k + 0.5) / n)


def _lp(A, b):
    m, n = A.shape
    cost = np.zeros(n + 1)
    cost[-1] = 1
    ones = np.ones((m, 1))
    res = linprog(cost, A_ub=np.vstack([np.hstack([A, -ones]), np.hstack([-A, -ones])]),
                  b_ub=np.concatenate([b, -b]), bounds=[(None, None)] * n + [(0, None)], method="highs")
    return res.x[:n]


def minimax(A, b):
    """min_c max |A c - b|: least squares, then LP on the scaled correction (HiGHS's
    tolerances are absolute, so the residual is brought to order 1 first)."""
    c, *_ = np.linalg.lstsq(A, b, rcond=None)
    for _ in range(3):
        r = b - A @ c
        s = 1.0 / max(np.abs(r).max(), 1e-300)
        c = c + _lp(A, r * s) / s
    return c


def fit(x, f, powers):
    """f ~ sum c_j x^j over `powers`, relative minimax, float coefficients rounded from the
    lowest power up; returns ({power: coefficient}, max relative error)."""
    V = {j: x ** j for j in powers}
    fixed, resid = {}, f.copy()
    for j in sorted(powers):
        free = [k for k in sorted(powers) if k not in fixed]
        c = minimax(np.vstack([V[k] for k in free]).T / f[:, None], resid / f)
        fixed[j] = float(F32(c[0]))
        resid = resid - fixed[j] * V[j]
    err = np.abs(sum(fixed[j] * V[j] for j in powers) / f - 1).max()
    return fixed, err


def in_t(fun, p, deg, ymax=14.5):
    t = nodes(1 / (1 + p * ymax), 1.0)
    f = np.array([float(fun((1 / mp.mpf(v) - 1) / p)) for v in t])
    return fit(t, f, range(deg + 1))


def chain(c, var="t", name="p"):
    hi = max(c)
    out = [f"    cdef float {name} = <float>{c[hi]!r}"]
    out += [f"    {name} = fmaf_({name}, {var}, <float>{c[j]!r})" for j in range(hi - 1, -1, -1)]
    return "\n".join(out)


def nudge_top_for_half(c, d0):
    """Move the top coefficient by the fewest float steps so that the Horner chain at
    t = 1 (plain float sums) times d0 rounds to 0.5 exactly."""
    hi = max(c)
    for k in range(400):
        for sgn in (1, -1):
            cand = F32(c[hi])
            for _ in range(k):
                cand = np.nextafter(cand, F32(np.inf * sgn))
            p = cand
            for j in range(hi - 1, -1, -1):
                p = F32(np.float64(p) + np.float64(F32(c[j])))
            if F32(d0 * p) == F32(0.5):
                c[hi] = float(cand)
                return c
    raise RuntimeError("no nudge found")


if __name__ == "__main__":
    p = float(F32(0.3))
    c, e = in_t(lambda y: T(y) * (1 + p * y), p, 9)
    print(f"# R: t = 1/(1 + {p!r} y), degree 9, relative error {e:.2e}\n{chain(c)}\n")
    t = nodes(1 / (1 + p * 14.5), 1.0, 400)
    ys = (1 / t - 1) / p
    k = np.array([float(mp.diff(lambda v: mp.log(T(v)), mp.mpf(y))) for y in ys]) / (-p * t)
    kc = np.polyfit(t, k, 1)
    print(f"# K: k(t) = {kc[1]:.8g} + {kc[0]:.8g} t, max deviation "
          f"{np.abs(np.polyval(kc, t) - k).max():.3f}\n")
    W = lambda y: (T(y) - C0 * y) / (y - Y0)
    c, e = in_t(W, p, 8)
    y0h = F32(float(Y0))
    y0l = F32(float(Y0 - mp.mpf(float(y0h))))
    c = nudge_top_for_half(c, F32(F32(F32(0) - y0h) - y0l))
    print(f"# W: t = 1/(1 + {p!r} y), degree 8, relative error {e:.2e} (before the nudge); "
          f"y0 = {float(y0h)!r} + {float(y0l)!r}\n{chain(c)}\n")
    kw = np.array([float(mp.diff(lambda v: mp.log(-W((1 / v - 1) / p)), mp.mpf(tt)) * tt) for tt in t])
    kwc = np.polyfit(t, kw, 1)
    print(f"# K_W: k_W(t) = {kwc[1]:.8g} + {kwc[0]:.8g} t, max deviation "
          f"{np.abs(np.polyval(kwc, t) - kw).max():.3f}\n")
    w = nodes(-float(mp.log(2)) * 1.0005, float(mp.log(2)) * 1.0005, 3000)
    f = np.array([float(mp.expm1(-mp.mpf(v) / 2)) for v in w])
    ex = np.array([float(mp.exp(-mp.mpf(v) / 2)) for v in w])
    V = {j: w ** j for j in range(1, 7)}
    fixed, resid = {}, f.copy()
    for j in range(1, 7):
        free = [k for k in range(1, 7) if k not in fixed]
        cc = minimax(np.vstack([V[k] for k in free]).T / ex[:, None], resid / ex)
        fixed[j] = float(F32(cc[0]))
        resid = resid - fixed[j] * V[j]
    err = np.abs(sum(fixed[j] * V[j] for j in fixed) - f) / ex
    print(f"# E: e^(-w/2) - 1 = w q(w), degree 6, error {err.max():.2e} relative to e^(-w/2)\n"
          f"{chain({j - 1: v for j, v in fixed.items()}, 'w', 'q')}\n    return q * w\n")
    K = 2 * mp.sqrt(2 / mp.pi)
    C = mp.mpf("0.044715")
    sig = lambda v: 1 / (1 + mp.exp(-v))
    D = lambda x: (lambda w: sig(w) * (1 + x * K * (1 + 3 * C * x * x) * sig(-w)))(K * (x + C * x ** 3))
    r = mp.findroot(D, -0.75)
    rh = F32(float(r))
    rl = F32(float(r - mp.mpf(float(rh))))
    ts = nodes(-0.5, 0.5)
    f = np.array([float(mp.diff(D, r) if v == 0 else D(r + mp.mpf(v)) / mp.mpf(v)) for v in ts])
    c, e = fit(ts, f, range(10))
    print(f"# Q: gelu tanh' = t Q(t), t = (x - {float(rh)!r}) - {float(rl)!r}, |t| <= 1/2, "
          f"degree 9, relative error {e:.2e}\n{chain(c, 't', 'q')}")
