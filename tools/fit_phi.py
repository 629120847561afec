"""Polynomial fits of T(y) = Phi(-y) e^(y^2/2) (the scaled normal tail) for
gelu's kernels: on [0.67, 5.66] in s = (y - MID) / HALF, and beyond, in
u = 1/y^2, S(u) = y T(y) sqrt(2 pi).  Prints the coefficients (highest
first) and the error of the double-precision Horner evaluation.

    python tools/fit_phi.py
"""
import mpmath as mp
import numpy as np

mp.mp.dps = 50
LO, HI = mp.mpf("0.67"), mp.mpf("5.66")
MID, HALF = (LO + HI) / 2, (HI - LO) / 2


def T(y):
    return mp.ncdf(-y) * mp.exp(y * y / 2)


def S(u):
    if u == 0:
        return mp.mpf(1)
    y = 1 / mp.sqrt(u)
    return y * T(y) * mp.sqrt(2 * mp.pi)


def horner(c, t):
    r = c[0]
    for ci in c[1:]:
        r = r * t + ci
    return r


def main():
    global MID
    MID = mp.mpf(float(MID))
    mid, err = mp.chebyfit(lambda s: T(MID + HALF * s), [-1, 1], 28, error=True)
    far, err2 = mp.chebyfit(S, [0, mp.mpf(1) / 32], 14, error=True)
    # in t = y - mid (mid rounded to double; the fit is re-centred on it)
    n = len(mid)
    mid = [float(c / HALF ** (n - 1 - k)) for k, c in enumerate(mid)]
    mid_d = float(MID)
    far = [float(c) for c in far]
    worst = 0
    for y in np.linspace(0.67, 5.66, 3001):
        t = y - mid_d
        bb = t - y
        tlo = (y - (t - bb)) + (-mid_d - bb)
        p = horner(mid, t)
        p = p + (y * p - 0.3989422804014327) * tlo
        e = T(mp.mpf(y))
        worst = max(worst, abs(p - e) / np.spacing(float(e)))
    worst2 = 0
    for y in np.linspace(5.66, 40, 3001):
        u = 1 / (y * y)
        e = S(mp.mpf(u))
        worst2 = max(worst2, abs(horner(far, u) - e) / np.spacing(float(e)))
    print("# mid fit error", mp.nstr(err, 3), "evaluated max ulp", worst)
    print("# far fit error", mp.nstr(err2, 3), "evaluated max ulp", worst2)
    print("MID, HALF =", repr(float(MID)), repr(float(HALF)))
    print("MID_C =", mid)
    print("FAR_C =", far)


if __name__ == "__main__":
    main()
