"""Taylor-like (Chebyshev-fitted) polynomials of the derivatives of silu, mish
and gelu (both forms) around the zero of the derivative, where the closed
form cancels: f'(r + t) = t Q(t) for |t| <= DELTA.  Prints the Cython Horner
chains used in fastact/_kernels/_activations.pxd (double precision).

    python tools/fit_roots.py
"""
import mpmath as mp

mp.mp.dps = 50
# half-widths of the windows: wide enough that the closed form is within
# budget outside (mish and the tanh gelu cancel over a wider range; silu's
# closed form is within 3 ULP beyond 0.14, measured on dense points)
DELTA = {"silu": mp.mpf("0.14"), "mish": mp.mpf(1) / 2, "gelu": mp.mpf(1) / 2, "gelu_tanh": mp.mpf(1) / 2}
# fixed degrees below the 1.5e-17 criterion: silu's degree 9 is 9.2e-17 relative (measured
# on 200 points; chebyfit's own error estimate is unreliable there), ~0.5 ULP, and the root
# window stays within 2.3 ULP of mpmath while saving one fma in float64 silu'
DEGREE = {"silu": 9}


def sig(x):
    return 1 / (1 + mp.exp(-x))


K = 2 * mp.sqrt(2 / mp.pi)
C = mp.mpf("0.044715")
DERIVS = {
    "silu": lambda x: sig(x) * (1 + x * sig(-x)),
    "mish": lambda x: (lambda t: t + x * sig(x) * (1 - t * t))(mp.tanh(mp.log1p(mp.exp(x)))),
    "gelu": lambda x: mp.ncdf(x) + x * mp.exp(-x * x / 2) / mp.sqrt(2 * mp.pi),
    "gelu_tanh": lambda x: (lambda w: sig(w) * (1 + x * K * (1 + 3 * C * x * x) * sig(-w)))(K * (x + C * x ** 3)),
}


def fit(name, degree):
    f = DERIVS[name]
    r = mp.findroot(f, -1.0)
    q = lambda t: mp.diff(f, r) if t == 0 else f(r + t) / t
    coeffs, err = mp.chebyfit(q, [-DELTA[name], DELTA[name]], degree + 1, error=True)
    rel = err / abs(q(0))
    return r, coeffs, rel


if __name__ == "__main__":
    for name in DERIVS:
        for deg in ([DEGREE[name]] if name in DEGREE else range(8, 30)):
            r, c, rel = fit(name, deg)
            if rel < 1.5e-17:
                break
        rh = float(r)
        rl = float(r - rh)
        print(f"# {name}: root {mp.nstr(r, 20)}, |t| <= {float(DELTA[name])}, degree {deg}, "
              f"relative fit error {mp.nstr(rel, 3)}")
        chain = f"{float(c[0])!r}"
        for ci in c[1:]:
            chain = f"({chain}) * t + {float(ci)!r}"
        print(f"    t = (x - ({rh!r})) - ({rl!r})")
        print(f"    q = {chain}")
