"""Float-precision fits for gelu's float32 kernels (targets ~1e-9 relative):
Phi(x) - 1/2 = x P(x^2) for |x| <= 0.6745, T(y) = Phi(-y) e^(y^2/2) in
t = y - 3.165 on [0.6745, 5.66], S(u) = y T(y) sqrt(2 pi) in u = 1/y^2 on
[1/14.5^2, 1/32], and the derivative near its zero, t Q(t) for |t| <= 1/2.

    python tools/fit_gelu_f32.py
"""
import mpmath as mp
import numpy as np

mp.mp.dps = 40


def T(y):
    return mp.ncdf(-y) * mp.exp(y * y / 2)


def fit(f, lo, hi, target, start=2):
    for n in range(start, 40):
        c, err = mp.chebyfit(f, [lo, hi], n, error=True)
        if err < target:
            return c, err
    raise RuntimeError


def show(name, c, err):
    print(f"# {name}: {len(c) - 1} degree, fit error {mp.nstr(err, 3)}")
    print(f"{name} =", [repr(float(np.float32(float(x)))) for x in c])


if __name__ == "__main__":
    z0 = mp.mpf("0.6745") ** 2
    P = lambda z: (mp.ncdf(mp.sqrt(z)) - mp.mpf(1) / 2) / mp.sqrt(z) if z > 0 else 1 / mp.sqrt(2 * mp.pi)
    show("CENTER", *fit(P, 0, z0, 1e-9 * P(z0)))
    mid = mp.mpf(float(np.float32(3.165)))
    show("MID", *fit(lambda t: T(mid + t), mp.mpf("0.6745") - mid, mp.mpf("5.66") - mid, 1e-9 * T(5.66)))
    S = lambda u: (1 / mp.sqrt(u)) * T(1 / mp.sqrt(u)) * mp.sqrt(2 * mp.pi)
    show("FAR", *fit(S, 1 / mp.mpf("14.5") ** 2, mp.mpf(1) / 32, 1e-9))
    d = lambda x: mp.ncdf(x) + x * mp.exp(-x * x / 2) / mp.sqrt(2 * mp.pi)
    r = mp.findroot(d, -0.75)
    q = lambda t: mp.diff(d, r) if t == 0 else d(r + t) / t
    c, err = fit(q, -0.5, 0.5, 1e-9 * abs(q(0)))
    rh = np.float32(float(r))
    print(f"ROOT = ({float(rh)!r}, {float(np.float32(float(r - mp.mpf(float(rh)))))!r})")
    show("ROOTQ", c, err)
