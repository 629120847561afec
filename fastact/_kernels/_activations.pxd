# The per-element activation functions: one inline function per direction.
#
# Naming, which the generated loops (_loops.pxi.tp) rely on:
#   NAME_fwd(x, params...)        the forward value
#   NAME_bwd_x(g, x, params...)   dL/dx from the forward input
#   NAME_bwd_y(g, y, params...)   dL/dx from the forward output
# Parameters arrive in the order of the registry record, already converted
# to the array's precision.  No validation here: _api.py does it.
#
# Piecewise functions return nan at x = nan in both directions (see
# docs/semantics.md); the idiom is `a if x > k else (b if x <= k else x)`, whose
# last branch is taken only by nan.

from libc.math cimport INFINITY
from fastact._kernels._math cimport (floating, exp_, exp_neg, exp_neg_scaled, expm1_, expm1_neg, tanh_,
                                     abs_, mul_add, exp_neg_big, exp_neg_big_nc, big_unscale,
                                     log1p_unit, copysign_, clamp, sqrt_, phi_center, phi_tail_ratio,
                                     exp_neg_half_sq_big, fmaf_, fma_, sq_lo_f, sq_lo_d, prod_err_d,
                                     recip_lin_f, gelu_tanh_w_f, gelu_tanh_xw_f, f32_pow2_of,
                                     f64_pow2_of, _expm1_poly_f, _expm1_poly_d, poly4_f, HAS_FMA)


# 2^K of exp_neg_big (see _math.pxd) in x's precision
cdef inline floating _two_k(floating x) noexcept nogil:
    return <floating>(1.8446744073709552e19 if floating is float else 4.1495155688809929e180)


# (1 + e4/4)^2 for e4 >= 0 (and nan)
cdef inline floating _sq_one_plus_quarter(floating e4) noexcept nogil:
    return mul_add(e4, mul_add(e4, <floating>0.0625, <floating>0.5), <floating>1.0)


# sigmoid(x) = 1 / (1 + e^-x), evaluated with e = e^-|x| <= 1 so that nothing
# overflows and the tail for x << 0 (e / (1 + e)) keeps full relative accuracy.
# Numerator and denominator are both scaled by 2^K (eb = 2^K e, normal):
# the quotient is rounded once, subnormal or not, with no unscaling multiply.
cdef inline floating sigmoid_fwd(floating x) noexcept nogil:
    cdef floating eb = exp_neg_big(-abs_(x))
    cdef floating big = _two_k(x)
    return (eb if x < 0 else big) / (big + eb)

# sigma(x) sigma(-x) = e / (1 + e)^2, symmetric in x; never 1 - sigma.
# (1 + e)^2 as 1 + e (2 + e): one fma rounding where the build has fma.
cdef inline floating sigmoid_bwd_x(floating g, floating x) noexcept nogil:
    cdef floating e = exp_neg(-abs_(x))
    return g * (e / mul_add(e, <floating>2.0 + e, <floating>1.0))

cdef inline floating sigmoid_bwd_y(floating g, floating y) noexcept nogil:
    return g * (y * (<floating>1.0 - y))


cdef inline floating tanh_fwd(floating x) noexcept nogil:
    return tanh_(x)

# sech^2 x = 4 e / (1 + e)^2 with e = e^-2|x|: no cancellation, unlike
# 1 - tanh^2.  4e is formed inside exp (one rounding, also when subnormal).
# (1 + e)^2 = 1 + 4e (1/2 + 4e/16): fmas, more accurate than squaring 1 + e.
cdef inline floating tanh_bwd_x(floating g, floating x) noexcept nogil:
    cdef floating e4 = exp_neg_scaled(-(abs_(x) + abs_(x)), <floating>4.0)
    return g * (e4 / _sq_one_plus_quarter(e4))

# (1 - y)(1 + y) rather than 1 - y*y: exact factors, one rounding each.
cdef inline floating tanh_bwd_y(floating g, floating y) noexcept nogil:
    return g * ((<floating>1.0 - y) * (<floating>1.0 + y))


# x < 0 (not x <= 0): relu(-0) = -0 and relu(nan) = nan, bit for bit as PyTorch.
cdef inline floating relu_fwd(floating x) noexcept nogil:
    return <floating>0.0 if x < 0 else x

cdef inline floating relu_bwd_x(floating g, floating x) noexcept nogil:
    return g if x > 0 else (<floating>0.0 if x <= 0 else x)

cdef inline floating relu_bwd_y(floating g, floating y) noexcept nogil:
    return g if y > 0 else (<floating>0.0 if y <= 0 else y)


cdef inline floating leaky_relu_fwd(floating x, floating slope) noexcept nogil:
    return x if x > 0 else x * slope

cdef inline floating leaky_relu_bwd_x(floating g, floating x, floating slope) noexcept nogil:
    return g if x > 0 else (g * slope if x <= 0 else x)


# x >= 0 takes x itself, which also gives elu(-0) = -0; nan and x < 0 take
# the one-sided expm1 (nan propagates through it).
cdef inline floating elu_fwd(floating x, floating alpha) noexcept nogil:
    return x if x >= 0 else alpha * expm1_neg(x)

# e^x is only used where x <= 0 (or nan): the one-sided exp suffices.
cdef inline floating elu_bwd_x(floating g, floating x, floating alpha) noexcept nogil:
    return g if x > 0 else g * (alpha * exp_neg(x))

# y + alpha = alpha e^x where x <= 0; valid for alpha >= 0 (checked in _api).
cdef inline floating elu_bwd_y(floating g, floating y, floating alpha) noexcept nogil:
    return g if y > 0 else g * (y + alpha)


# ---- piecewise-linear catalogue: relu6, hardsigmoid, hardswish, hardtanh,
# softshrink, hardshrink, threshold.  Comparisons written so that nan falls
# through to a branch returning x (or g * x) and so stays nan, and so that
# the kinks give exactly what PyTorch gives (docs/semantics.md).

# The backwards of the clamps: g strictly between the kinks, +0 outside them,
# x (nan) at nan.  One range test and one nan select: the nested form
# (x > lo ? (x < hi ? g : 0) : (x <= lo ? 0 : x)) compiled to four mask
# compares and two mask operations per vector on AVX-512, 2.4x the time of
# relu's backward.
cdef inline floating _pass_between(floating g, floating x, floating lo, floating hi) noexcept nogil:
    cdef floating r = g if (x > lo) & (x < hi) else <floating>0.0
    return r if x == x else x


# x < 0 (not <= 0) keeps relu6(-0) = -0, as PyTorch.
cdef inline floating relu6_fwd(floating x) noexcept nogil:
    return <floating>0.0 if x < 0 else (<floating>6.0 if x > 6 else x)

cdef inline floating relu6_bwd_x(floating g, floating x) noexcept nogil:
    return _pass_between(g, x, <floating>0.0, <floating>6.0)


# min(max(x + 3, 0), 6) / 6, the operations PyTorch performs (bit for bit).
cdef inline floating hardsigmoid_fwd(floating x) noexcept nogil:
    cdef floating t = x + <floating>3.0
    t = <floating>0.0 if t < 0 else (<floating>6.0 if t > 6 else t)
    return t / <floating>6.0

cdef inline floating hardsigmoid_bwd_x(floating g, floating x) noexcept nogil:
    return _pass_between(g * <floating>(1.0 / 6.0), x, <floating>-3.0, <floating>3.0)


# x (x + 3) / 6 between the kinks, as PyTorch; x itself for x >= 3 (no
# overflow of x * 6) and -0 for x <= -3 (PyTorch's x * 0, without its nan
# at -inf).
cdef inline floating hardswish_fwd(floating x) noexcept nogil:
    return x if x >= 3 else (<floating>-0.0 if x <= -3 else x * (x + <floating>3.0) / <floating>6.0)

# (2x + 3) / 6: 2x is exact and 2x + 3 is exact near -1.5 (no cancellation).
cdef inline floating hardswish_bwd_x(floating g, floating x) noexcept nogil:
    return g if x >= 3 else (<floating>0.0 if x <= -3
                             else g * ((<floating>2.0 * x + <floating>3.0) / <floating>6.0))


cdef inline floating hardtanh_fwd(floating x, floating lo, floating hi) noexcept nogil:
    return lo if x < lo else (hi if x > hi else x)

cdef inline floating hardtanh_bwd_x(floating g, floating x, floating lo, floating hi) noexcept nogil:
    return _pass_between(g, x, lo, hi)


# Dead zone: +0 (x * 0 would give -0 for negative x).
cdef inline floating softshrink_fwd(floating x, floating lambd) noexcept nogil:
    return x - lambd if x > lambd else (x + lambd if x < -lambd
                                        else (<floating>0.0 if x == x else x))

cdef inline floating softshrink_bwd_x(floating g, floating x, floating lambd) noexcept nogil:
    return g if abs_(x) > lambd else (<floating>0.0 if x == x else x)


cdef inline floating hardshrink_fwd(floating x, floating lambd) noexcept nogil:
    return x if abs_(x) > lambd else (<floating>0.0 if x == x else x)

cdef inline floating hardshrink_bwd_x(floating g, floating x, floating lambd) noexcept nogil:
    return g if abs_(x) > lambd else (<floating>0.0 if x == x else x)


cdef inline floating threshold_fwd(floating x, floating threshold, floating value) noexcept nogil:
    return value if x <= threshold else x

cdef inline floating threshold_bwd_x(floating g, floating x, floating threshold, floating value) noexcept nogil:
    return g if x > threshold else (<floating>0.0 if x <= threshold else x)

# ---- The smooth functions: silu, mish, softsign, logsigmoid, tanhshrink, gelu,
# selu, celu, softplus, squareplus ---------------------------------------------

# Below this, x e^x (silu, mish, gelu) rounds to 0 and exp_neg_big is clamped.
cdef inline floating _tail_lim(floating x) noexcept nogil:
    if floating is float:
        return <float>-110.0
    else:
        return -760.0


# The derivatives of silu, mish and gelu (both forms) near their zero,
# where the closed forms cancel: f'(r + t) = t Q(t) for |t| <= 1/4 or 1/2, Q fitted with
# mpmath (tools/fit_roots.py prints these); x - r_hi is exact there (Sterbenz).
# silu: root -1.2784645427610737951, |t| <= 0.14, degree 9, relative fit error 9.2e-17
# (tools/fit_roots.py with degree 9: ~0.5 ULP, within budget; one fma fewer than degree 10)
# (0.14, not the 1/4 of the others: the closed form is within 3 ULP from there
# on, measured on dense points, and the narrower window saves two degrees)
cdef inline double _root_silu_q(double t) noexcept nogil:
    # Q(t), t = x - r; _silu_bwd returns t Q(t)
    cdef double q = -2.9618635152546565e-05
    q = mul_add(q, t, -4.104819303664345e-05)
    q = mul_add(q, t, 0.00018570527322226153)
    q = mul_add(q, t, 0.0007985243244241778)
    q = mul_add(q, t, 0.0001266274238730097)
    q = mul_add(q, t, -0.006606589155431882)
    q = mul_add(q, t, -0.015222655223221821)
    q = mul_add(q, t, 0.018874814223824123)
    q = mul_add(q, t, 0.1466487969969469)
    return mul_add(q, t, 0.21781170571980007)

# mish: root -1.1924312145154952121, |t| <= 0.5, degree 18, relative fit error 2.28e-19
cdef inline double _root_mish(double x) noexcept nogil:
    cdef double t = (x - (-1.1924312145154952)) - (-4.8484829848031044e-17)
    cdef double q = ((((((((((((((((((-1.7009737063916675e-09) * t + -5.38356691917647e-08) * t + -1.4301309186699402e-07) * t + 2.287802195857415e-08) * t + 1.07217466980715e-06) * t + 2.9099199286608608e-06) * t + 9.42655716678164e-07) * t + -1.729945008414268e-05) * t + -5.582890780694727e-05) * t + -4.196147839303959e-05) * t + 0.00025412936340924933) * t + 0.0009898181011101506) * t + 0.0010924055409587072) * t + -0.003360684926991409) * t + -0.01582112656173358) * t + -0.0202718227166847) * t + 0.04190782104360987) * t + 0.20473126408010586) * t + 0.2669479140495345
    return t * q

# gelu: root -0.75179152469356445746, |t| <= 0.5, degree 16, relative fit error 5.66e-19
cdef inline double _root_gelu(double x) noexcept nogil:
    cdef double t = (x - (-0.7517915246935645)) - (1.4956759177009883e-17)
    cdef double q = -3.349597917571709e-08
    q = fma_(q, t, -2.995455036679468e-09)
    q = fma_(q, t, 5.69425590267986e-07)
    q = fma_(q, t, 4.334404532212635e-07)
    q = fma_(q, t, -7.748264706347844e-06)
    q = fma_(q, t, -1.1214516928818857e-05)
    q = fma_(q, t, 8.615945268854125e-05)
    q = fma_(q, t, 0.00018633976419999437)
    q = fma_(q, t, -0.0007448268367337213)
    q = fma_(q, t, -0.0022395380694159657)
    q = fma_(q, t, 0.004539228379048298)
    q = fma_(q, t, 0.019421679838242334)
    q = fma_(q, t, -0.014771522148242962)
    q = fma_(q, t, -0.11400823329722266)
    q = fma_(q, t, -0.018199676398671094)
    q = fma_(q, t, 0.38828498299055203)
    q = fma_(q, t, 0.4314939923140469)
    return t * q

# gelu_tanh: root -0.75246142207101625849, |t| <= 0.5, degree 18, relative fit error 3.29e-19
cdef inline double _root_gelu_tanh(double x) noexcept nogil:
    cdef double t = (x - (-0.7524614220710163)) - (3.635560509207687e-17)
    cdef double q = 6.232956674932941e-08
    q = fma_(q, t, 1.2278403207499808e-07)
    q = fma_(q, t, -4.247968716582158e-07)
    q = fma_(q, t, -9.806892331185908e-07)
    q = fma_(q, t, 2.4318763367090992e-06)
    q = fma_(q, t, 5.91613183401748e-06)
    q = fma_(q, t, -1.595062720551899e-05)
    q = fma_(q, t, -3.495577142549275e-05)
    q = fma_(q, t, 0.0001242522516989915)
    q = fma_(q, t, 0.000263927601381472)
    q = fma_(q, t, -0.0009274420215075552)
    q = fma_(q, t, -0.002422731843622965)
    q = fma_(q, t, 0.005261059254874749)
    q = fma_(q, t, 0.019682309459762865)
    q = fma_(q, t, -0.016619328343051895)
    q = fma_(q, t, -0.11394448308095799)
    q = fma_(q, t, -0.01578285352184803)
    q = fma_(q, t, 0.3875184461357889)
    q = fma_(q, t, 0.4304000910248585)
    return t * q


# silu(x) = x / (1 + e^-x).  For x < 0, x e^x / (1 + e^x) with e^x kept
# scaled by 2^K, so the subnormal tail is rounded once.  Below lim (x = -inf
# included) x is clamped to lim, where lim e^lim rounds to -0.  nan: a is
# nan and so is everything after it.
cdef inline floating silu_fwd(floating x) noexcept nogil:
    cdef floating a = -abs_(x)
    a = _tail_lim(x) if a < _tail_lim(x) else a
    cdef floating eb = exp_neg_big_nc(a)
    cdef floating big = _two_k(x)
    cdef bint pos = x >= 0
    # x < 0: (a eb) / (2^K + eb), numerator and denominator scaled by 2^K
    # (normal), the quotient rounded once; x >= 0: x / (1 + e), unscaled (x
    # 2^K could overflow)
    return (x if pos else a * eb) / (mul_add(eb, big_unscale(<floating>1.0), <floating>1.0) if pos else big + eb)

# sigma(x) (1 + x sigma(-x)) = N / (1 + e)^2 with e = e^-|x| and one division:
#   x >= 0:  N = 1 + e (1 + x)     (positive terms)
#   x <  0:  N = e ((1 + x) + e)   (cancels near the zero r = -1.2785: there a
#            fitted f'(r + t) = t Q(t), |t| < 0.14, replaces it)
# N and (1 + e)^2 are both scaled by 2^K (eb = 2^K e), so that N is normal
# and the subnormal tail for x << 0 is rounded once, by the division.  x enters 1 + x as
# -a = min(|x|, -lim) with its sign: unchanged where it matters, and where it
# is clamped (|x| > -lim, infinities included) the result is its limit, 1 or
# -0, with no inf * 0 or inf - inf.  nan propagates through every term.
cdef inline floating _silu_bwd(floating x) noexcept nogil:
    cdef floating a = -abs_(x)
    a = _tail_lim(x) if a < _tail_lim(x) else a
    cdef floating eb = exp_neg_big_nc(a)
    cdef floating e = big_unscale(eb)
    cdef floating big = _two_k(x)
    # one fma for both signs: eb w + c, w and c selected (blends are cheaper
    # than multiplies here: the loop is bound by the multiply-add units)
    cdef bint neg = x < 0
    cdef floating nb = mul_add(eb, (<floating>1.0 + a) + e if neg else <floating>1.0 - a,
                               <floating>0.0 if neg else big)
    # 2^K (1 + e)^2 = 2^K + eb (2 + e): the quotient comes out unscaled,
    # rounded once (also where subnormal)
    cdef floating res = nb / mul_add(eb, <floating>2.0 + e, big)
    cdef floating t, q
    if floating is float:
        # degree 4, |t| <= 0.14 (fit error 3.8e-9; tools/fit_roots.py, coefficients
        # rounded to float: 0.22 ULP)
        t = (x - <float>-1.2784646) - <float>1.29792825e-08
        q = <float>-0.006587045020825786
        q = mul_add(q, t, <float>-0.015219463937009941)
        q = mul_add(q, t, <float>0.01887471848171094)
        q = mul_add(q, t, <float>0.14664878125083114)
        q = mul_add(q, t, <float>0.2178117057198001)
    else:
        t = (x - (-1.2784645427610737)) - (-1.0946994183093437e-16)
        q = _root_silu_q(t)
    return t * q if abs_(t) < <floating>0.14 else res

cdef inline floating silu_bwd_x(floating g, floating x) noexcept nogil:
    return g * _silu_bwd(x)


# mish(x) = x tanh(log1p(e^x)) = x n / (n + 2), n = e^x (e^x + 2) for x < 0;
# (1 + 2e) / (1 + 2e + 2e^2) with e = e^-x for x >= 0.
cdef inline floating mish_fwd(floating x) noexcept nogil:
    cdef floating eb = exp_neg_big(-abs_(x))
    cdef floating e = big_unscale(eb)
    cdef floating e2 = e + <floating>2.0
    cdef floating n = e * e2
    cdef floating neg = big_unscale(x * ((eb * e2) / (n + <floating>2.0)))
    cdef floating pe = <floating>1.0 + <floating>2.0 * e
    cdef floating pos = x * (pe / (pe + <floating>2.0 * (e * e)))
    return pos if x >= 0 else (neg if x >= _tail_lim(x) else (copysign_(<floating>0.0, x) if x < 0 else x))

# tanh(sp) + x sigma(x) sech^2(sp), with sech^2(sp) = 4 (n + 1) / (n + 2)^2
# (x < 0) or 4 e^2 (1 + e)^2 / D^2, D = 1 + 2e + 2e^2 (x >= 0); for x < 0 the
# sum is brought over one denominator, which leaves no cancellation but the
# zero's (handled by the root polynomial).
cdef inline double _mish_d_bwd(double x) noexcept nogil:
    cdef double eb = exp_neg_big(-abs_(x))
    cdef double e = big_unscale(eb)
    cdef double e1 = 1.0 + e
    cdef double e2 = e + 2.0
    cdef double n2 = e * e2 + 2.0
    # x < 0: e (4 (1 + x) + e (6 + 4x + e (4 + e))) / n2^2 (using n + 1 = (1 + e)^2)
    # n2^2 = (e^2 + 2e + 2)^2 expanded: positive terms, one rounding fewer
    cdef double neg = big_unscale(eb * ((4.0 * (1.0 + x) + e * ((6.0 + 4.0 * x) + e * (4.0 + e)))
                                        / (4.0 + e * (8.0 + e * (8.0 + e * (4.0 + e))))))
    cdef double pe = 1.0 + 2.0 * e
    cdef double dd = pe + 2.0 * (e * e)
    cdef double xc = x if x < 1e4 else 1e4
    cdef double pos = pe / dd + (4.0 * xc) * ((e * e) * e1) / (dd * dd)
    neg = _root_mish(x) if abs_(x + 1.1924312145154952) < 0.5 else neg
    return pos if x >= 0 else (neg if x >= -760.0 else (0.0 if x < 0 else x))

# float through the double formula: one rounding at the end.
cdef inline floating mish_bwd_x(floating g, floating x) noexcept nogil:
    if floating is float:
        return g * <float>_mish_d_bwd(<double>x)
    else:
        return g * _mish_d_bwd(x)


cdef inline floating softsign_fwd(floating x) noexcept nogil:
    cdef floating d = <floating>1.0 + abs_(x)
    return copysign_(<floating>1.0, x) if d == <floating>INFINITY else x / d   # nan: x / d

# (g r) r, r = 1 / (1 + |x|): never (1 + |x|)^2, which overflows for |x| > 1.8e19 (float).
cdef inline floating softsign_bwd_x(floating g, floating x) noexcept nogil:
    cdef floating r = <floating>1.0 / (<floating>1.0 + abs_(x))
    return (g * r) * r


cdef inline floating logsigmoid_fwd(floating x) noexcept nogil:
    cdef floating e = exp_neg(-abs_(x))
    return (x if x < 0 else <floating>0.0) - log1p_unit(e)

# sigma(-x) = e / (1 + e) (x >= 0) or 1 / (1 + e) (x < 0), e = e^-|x|.
cdef inline floating logsigmoid_bwd_x(floating g, floating x) noexcept nogil:
    cdef floating e = exp_neg(-abs_(x))
    cdef floating num = e if x >= 0 else <floating>1.0
    return g * (num / (<floating>1.0 + e))


# tanhshrink: for |x| < 1, x - tanh x = x^3 A(z) / (B(z) + z A(z)), z = x^2, from
# the continued fraction tanh x = x / (1 + z / (3 + z / (5 + ...))) (x^3 A / B is a convergent:
# depth 5 for float, 9 for double; integer coefficients, all positive, so
# nothing cancels; truncation error 1.3e-9 and 1.9e-19 relative on [0, 1]).
# For |x| >= 1, (|x| - 1) + 2 e / (1 + e), e = e^-2|x|: two positive terms.
# Both branches end in a quotient: one division serves both, on operands
# selected by |x| < 1 (the vector loop computes both branches anyway).
cdef inline void _tanhshrink_ab(floating z, floating* pa, floating* pb) noexcept nogil:
    if floating is float:
        pa[0] = mul_add(z + <float>189.0, z, <float>3465.0)
        pb[0] = mul_add(mul_add(z + <float>210.0, z, <float>4725.0), z, <float>10395.0)
    else:
        pa[0] = mul_add(mul_add(mul_add(z + 1430.0, z, 289575.0), z, 16081065.0), z, 218243025.0)
        pb[0] = mul_add(mul_add(mul_add(mul_add(z + 1485.0, z, 315315.0), z, 18918900.0), z,
                                310134825.0), z, 654729075.0)

cdef inline floating tanhshrink_fwd(floating x) noexcept nogil:
    cdef floating z = x * x
    cdef floating pa, pb
    _tanhshrink_ab(z, &pa, &pb)
    cdef floating a = abs_(x)
    cdef bint small = a < <floating>1.0
    cdef floating eb = exp_neg_big(-(a + a))           # 2^K e, as in sigmoid
    cdef floating ratio = (pa if small else eb + eb) / (pb if small else _two_k(x) + eb)
    # + 0: tanhshrink(-0) = +0, as PyTorch (x - tanh x = -0 - -0).  The final
    # select tests a >= 1, not `small` again: gcc would thread the repeated
    # condition into two paths and divide once per path.
    return copysign_((a - <floating>1.0) + ratio, x) if a >= <floating>1.0 else x * (z * ratio) + <floating>0.0

# tanh^2: for |x| < 1, tanh x = x (1 - q), q = z A(z) / B(z) <= 0.24 from the same
# convergent, so tanh^2 = z (1 - q)^2: q's error is damped by 2q / (1 - q)^2
# (better than squaring tanh_); for |x| >= 1, 1 - sech^2 x with sech^2 = 4e / (1 + e)^2
# <= 0.42, e = e^-2|x|.  Again one division for both.
cdef inline floating tanhshrink_bwd_x(floating g, floating x) noexcept nogil:
    cdef floating z = x * x
    cdef floating pa, pb
    _tanhshrink_ab(z, &pa, &pb)
    cdef floating a = abs_(x)
    cdef bint small = a < <floating>1.0
    cdef floating e4 = exp_neg_scaled(-(a + a), <floating>4.0)
    cdef floating ratio = (pa if small else e4) / (pb if small else _sq_one_plus_quarter(e4))
    cdef floating q = z * ratio
    # (1 - q)^2 = 1 + q (q - 2), one fma
    return g * (<floating>1.0 - ratio if a >= <floating>1.0 else z * mul_add(q, q - <floating>2.0, <floating>1.0))


# gelu(x) = x Phi(x), in double (float rounds the double result once).
cdef inline double _gelu_d(double x) noexcept nogil:
    cdef double y = abs_(x)
    y = 40.0 if y > 40.0 else y
    cdef double yt = 0.67 if y < 0.67 else y      # T is used only beyond 0.674
    cdef double tailb = exp_neg_half_sq_big(y) * phi_tail_ratio(yt)     # Phi(-|x|) 2^600
    cdef double center = x * (0.5 + phi_center(x))
    cdef double neg = big_unscale(x * tailb)
    cdef double pos = x * (1.0 - big_unscale(tailb))
    cdef double r = neg if x < 0 else pos
    r = center if y <= 0.67448975 else r
    return copysign_(0.0, x) if x < -40.0 else r

# Phi(x) + x phi(x), phi(x) = e^(-x^2/2) / sqrt(2 pi)
cdef inline double _gelu_d_bwd(double x) noexcept nogil:
    cdef double y = abs_(x)
    y = 40.0 if y > 40.0 else y
    cdef double yt = 0.67 if y < 0.67 else y      # T is used only beyond 0.674
    cdef double eb = exp_neg_half_sq_big(y)
    cdef double c = 0.398942280401432677939946059934
    cdef double v = fma_(-y, c, phi_tail_ratio(yt)) - y * -2.49232720227773e-17   # c = 1/sqrt(2 pi) hi + lo
    cdef double center = (0.5 + phi_center(x)) + x * (big_unscale(eb) * c)
    cdef double neg = big_unscale(eb * v)
    cdef double pos = 1.0 - big_unscale(eb * v)
    cdef double r = neg if x < 0 else pos
    r = center if y <= 0.67448975 else r
    r = _root_gelu(x) if abs_(x + 0.7517915246935645) < 0.5 else r
    return 0.0 if x < -40.0 else (r if x == x else x)

# gelu float32, natively in float, one formula over the whole range (no
# center/tail pieces to evaluate both of): with y = |x| and t = 1/(1 + p y),
#   Phi(-y) = e^(-y^2/2) t R(t)                      (p = 0.3, R of degree 9)
#   Phi(-y) - y phi(y) = e^(-y^2/2) (y - y0) W(t)    (p = 0.25, W of degree 8)
# y0 the zero of gelu' (x = -y0), so the backward keeps its relative accuracy
# there without a separate root polynomial.  R and W are relative minimax fits
# over y in [0, 14.5] with float coefficients (tools/fit_gelu_f32.py, ~2e-8).
# e^(-y^2/2) gets y^2's rounding error back in its reduced argument (an exact
# fma on v3/v4, Dekker's product on base).  Beyond |x| = 14.5, x Phi(x) and
# gelu'(x) round to -0 / 0 in float.
cdef inline float _exp_half_sq_f(float hh, float lo, float* sb) noexcept nogil:
    # e^(-(hh + lo)/2) = 2^n (1 + P) for 0 <= hh <= 14.5^2, |lo| tiny (and nan):
    # returns P and sets sb = 2^(n + 64) (normal), for the caller's fma.
    # w = hh + 2 n ln2 = -2 r: hh + 2 n ln2hi is exact (both multiples of 2^-16).
    cdef float tt = fmaf_(hh, <float>-0.72134752044448170, <float>12583103.0)   # bias 127 + 64
    cdef float n = tt - <float>12583103.0
    cdef float w = fmaf_(n, <float>1.38629150390625, hh)
    w = w + fmaf_(n, <float>2.8572136e-06, lo)
    sb[0] = f32_pow2_of(tt)
    # e^(-w/2) - 1 on |w| <= ln 2, relative minimax (3e-9), float coefficients
    cdef float q = poly4_f(w, w * w, <float>-0.020833151414990425, <float>0.0026042666286230087,
                           <float>-0.00026152137434110045, <float>2.159522773581557e-05)
    q = fmaf_(q, w, <float>0.1249999850988388)
    q = fmaf_(q, w, <float>-0.5)
    return q * w

# y = |x| clamped to 14.5, the end of the fits (x Phi(x) and gelu' round to 0 beyond)
cdef inline float _gelu_f_y(float x) noexcept nogil:
    cdef float y = abs_(x)
    return <float>14.5 if y > <float>14.5 else y

# e^(-y^2/2) a = 2^n (1 + P) a, from _exp_half_sq_f's P (pe) and sb = 2^(n + 64)
cdef inline float _exp_half_sq_times_f(float pe, float sb, float a) noexcept nogil:
    return big_unscale(fmaf_(pe, a, a) * sb)

# t = 1/(1 + 0.3 y), the variable of both fits (R and W below), and its
# relative rounding error delta
cdef inline float _gelu_f_t(float y, float* delta) noexcept nogil:
    return recip_lin_f(y, <float>0.30000001192092896, delta)

# R(t), t = 1/(1 + 0.3 y): Phi(-y) = e^(-y^2/2) t R(t)
# (the two lowest terms by Horner, which keeps the rounding of the sum to
# that of its last steps; the rest by Estrin, see poly4_f)
cdef inline float _gelu_f_poly(float t) noexcept nogil:
    cdef float t2 = t * t
    cdef float hi = fmaf_(poly4_f(t, t2, <float>0.19176723062992096, <float>-0.2281998097896576,
                                  <float>0.11242944747209549, <float>-0.020622285082936287), t2 * t2,
                          poly4_f(t, t2, <float>0.1102350503206253, <float>0.0783916711807251,
                                  <float>0.09615029394626617, <float>-0.07941015064716339))
    return fmaf_(fmaf_(hi, t, <float>0.11957185715436935), t, <float>0.11968669295310974)

# q = y Phi(-y) for y = _gelu_f_y(x) and t = _gelu_f_t(y, &delta).
# Sets pe and sb (as _exp_half_sq_f) for e^(-(y^2 + lo)/2): t rounded moves T
# by k(t) delta, k = dlog T/dlog t (1.2 to 2.7), folded into e^(...) as lo =
# sq_lo - 2 k delta (the line k(t) = 1.8186915 t + 0.85020685 times -2, so
# that one fma applies it).
cdef inline float _gelu_f_q(float y, float t, float delta, float* pe, float* sb) noexcept nogil:
    cdef float hh = y * y
    cdef float k2 = fmaf_(t, <float>-3.637383, <float>-1.7004137)
    pe[0] = _exp_half_sq_f(hh, fmaf_(k2, delta, sq_lo_f(y, hh)), sb)
    return _exp_half_sq_times_f(pe[0], sb[0], (t * _gelu_f_poly(t)) * y)

# gelu(x) from q = y Phi(-y): -q = x Phi(x) for x < 0, and gelu(x) = x - q for
# x >= 0 (y = x, or q = 0 where y is clamped): no sign select before the
# scaling, and x - q keeps gelu(-0) = -0 - 0 = -0 and gelu(inf) = inf
cdef inline float _gelu_f_from_q(float x, float q) noexcept nogil:
    return -q if x < 0 else x - q

# (Phi(-y) - y phi(y)) e^(y^2/2) = (y - y0) W(t), in the forward's t =
# 1/(1 + 0.3 y) (one division for both in _gelu_f_and_d): the derivative's
# polynomial and its root y0 (hi + lo) shifted out.  W's k = dlog W/dlog t is
# 0.06 to 0.89; the callers fold t's rounding into e^(...) through it.
cdef inline float _gelu_f_bwd_poly(float y, float t) noexcept nogil:
    cdef float t2 = t * t
    cdef float hi = fmaf_(fmaf_(<float>-0.0065050991252064705, t2,
                                fmaf_(<float>0.02080346830189228, t, <float>-0.004043183755129576)),
                          t2 * t2,
                          poly4_f(t, t2, <float>-0.07309728860855103, <float>-0.06051311269402504,
                                  <float>-0.022962378337979317, <float>-0.029690220952033997))
    cdef float p = fmaf_(fmaf_(hi, t, <float>-0.09013614058494568), t, <float>-0.3989340364933014)
    return ((y - <float>0.7517915368080139) - <float>-1.211444988769017e-08) * p

# gelu'(x) from v = Phi(-y) - y phi(y)
cdef inline float _gelu_f_d_from_v(float x, float v) noexcept nogil:
    cdef float r = v if x < 0 else <float>1.0 - v
    return <float>0.0 if x < <float>-14.5 else r

cdef inline float _gelu_f(float x) noexcept nogil:
    cdef float pe, sb, delta
    cdef float y = _gelu_f_y(x)
    cdef float t = _gelu_f_t(y, &delta)
    return _gelu_f_from_q(x, _gelu_f_q(y, t, delta, &pe, &sb))

# W's t-rounding folded into e^(...) like the forward's: k_W(t) = 1.0239406 t -
# 0.20523914 (within 0.073 of dlog W/dlog t), times -2
cdef inline float _gelu_f_bwd(float x) noexcept nogil:
    cdef float sb, delta
    cdef float y = _gelu_f_y(x)
    cdef float t = _gelu_f_t(y, &delta)
    cdef float hh = y * y
    cdef float kw2 = fmaf_(t, <float>-2.0478811, <float>0.41047828)
    cdef float pe = _exp_half_sq_f(hh, fmaf_(kw2, delta, sq_lo_f(y, hh)), &sb)
    return _gelu_f_d_from_v(x, _exp_half_sq_times_f(pe, sb, _gelu_f_bwd_poly(y, t)))

# gelu and gelu' of one x (fastact.gelu_and_derivative): the two float
# formulas above share y, t, y^2 and e^(-y^2/2).  The forward's e^(...) holds
# T's t-correction (1 + k delta); the derivative needs W's (1 + k_W delta):
# 1 + P' = (1 + P)(1 + (k_W - k) delta), one fma with the same 2^n, the line
# k_W - k = -0.79475094 t - 1.055446.  The forward is bit for bit _gelu_f; the
# derivative within 2 ULP of _gelu_f_bwd (1 but near gelu's zero).
cdef inline float _gelu_f_and_d(float x, float* d) noexcept nogil:
    cdef float pe, sb, delta
    cdef float y = _gelu_f_y(x)
    cdef float t = _gelu_f_t(y, &delta)
    cdef float q = _gelu_f_q(y, t, delta, &pe, &sb)
    cdef float kd = fmaf_(t, <float>-0.79475094, <float>-1.055446)
    cdef float peb = fmaf_(pe + <float>1.0, kd * delta, pe)
    d[0] = _gelu_f_d_from_v(x, _exp_half_sq_times_f(peb, sb, _gelu_f_bwd_poly(y, t)))
    return _gelu_f_from_q(x, q)

cdef inline floating gelu_fwd_d(floating x, floating* d) noexcept nogil:
    if floating is float:
        return _gelu_f_and_d(x, d)
    else:
        d[0] = _gelu_d_bwd(x)
        return _gelu_d(x)

cdef inline floating gelu_fwd(floating x) noexcept nogil:
    if floating is float:
        return _gelu_f(x)
    else:
        return _gelu_d(x)

cdef inline floating gelu_bwd_x(floating g, floating x) noexcept nogil:
    if floating is float:
        return g * _gelu_f_bwd(x)
    else:
        return g * _gelu_d_bwd(x)


# gelu, approximate="tanh": 0.5 x (1 + tanh(u)) = x sigma(w), w = 2u =
# 2 sqrt(2/pi) x (1 + 0.044715 x^2).  w is formed in double-double (Veltkamp
# products, no fma needed): e^w for x << 0 amplifies w's rounding by |w|.
cdef inline double _two_prod(double a, double b, double* err) noexcept nogil:
    cdef double p = a * b
    err[0] = prod_err_d(a, b, p)        # one fma on v3/v4, Dekker's product on base
    return p

# e^-|w| 2^600 and, through wprime, x dw/dx; x clamped to [-40, 40] by the caller.
cdef inline double _gelu_tanh_eb(double x, double* wprime) noexcept nogil:
    cdef double zl, pe, me, we
    cdef double zh = _two_prod(x, x, &zl)
    cdef double p = _two_prod(0.044715, zh, &pe)
    cdef double lo = pe + (0.044715 * zl + 2.196021142708559637e-18 * zh)   # 0.044715 - double(0.044715)
    cdef double sh = 1.0 + p
    cdef double sl = (1.0 - sh) + p + lo
    cdef double mh = _two_prod(x, sh, &me)
    cdef double ml = me + x * sl
    cdef double wh = _two_prod(1.5957691216057308, mh, &we)
    cdef double wl = we + (1.5957691216057308 * ml + (-9.96930880911092e-17) * mh)   # 2 sqrt(2/pi) - its double
    cdef double s = wh + wl
    cdef double corr = (wh - s) + wl
    # x dw/dx = K x + 3 K 0.044715 x^3 = 3 w - 2 K x, from the double-double w
    # and K x = ph + pe + K_lo x: about 0.6 ULP instead of 2 through x^3
    cdef double pe2
    cdef double ph = _two_prod(1.5957691216057308, x, &pe2)
    wprime[0] = ph + (3.0 * (wh - ph) + (3.0 * wl - 2.0 * pe2 - 2.0 * ((-9.96930880911092e-17) * x)))
    cdef double a = -abs_(s)
    corr = corr if s < 0 else -corr
    cdef double eb = exp_neg_big(a)
    return eb + eb * corr

cdef inline double _gelu_tanh_d(double x) noexcept nogil:
    cdef double wp
    cdef double xc = clamp(x, -40.0, 40.0)
    cdef double eb = _gelu_tanh_eb(xc, &wp)
    cdef double d = 1.0 + big_unscale(eb)
    cdef bint nonneg = x >= 0
    cdef double r = (x if nonneg else x * eb) / d       # one division for both signs
    r = r if nonneg else big_unscale(r)
    return copysign_(0.0, x) if x < -40.0 else r

# sigma(w) (1 + x w' sigma(-w))
cdef inline double _gelu_tanh_d_bwd(double x) noexcept nogil:
    cdef double wp
    cdef double xc = clamp(x, -40.0, 40.0)
    cdef double eb = _gelu_tanh_eb(xc, &wp)
    cdef double e = big_unscale(eb)
    # one division for both signs, over (1 + e)^2:
    #   x >= 0:  (1 + e + w' e) / (1 + e)^2                 (positive terms)
    #   x <  0:  2^600 e ((1 + w') + e) / (2^600 (1 + e)^2)  (eb = 2^600 e: the
    #            subnormal tail rounded once, by the division)
    cdef bint nonneg = x >= 0
    cdef double dd = fma_(e, 2.0 + e, 1.0)
    cdef double num = fma_(wp, e, 1.0 + e) if nonneg else eb * ((1.0 + wp) + e)
    cdef double r = num / (dd if nonneg else dd * 4.1495155688809929e+180)   # 2^600
    r = _root_gelu_tanh(x) if abs_(x + 0.7524614220710163) < 0.5 else r
    return 0.0 if x < -40.0 else r

# float: x sigma(w) natively, w = wh + wl from gelu_tanh_w_f; e^-|w| 2^64 with wl
# folded into the reduced argument; |x| clamped at 11 (beyond, x sigma(w) is x or
# rounds to -0).
cdef inline float _gelu_tanh_pe_f(float w, float wl, float* sb) noexcept nogil:
    # e^-(w + wl) = 2^n (1 + P) for 0 <= w <= 113 (and nan): returns P, sets
    # sb = 2^(n + 64) (normal), so that the caller rounds (1 + P) v once, by an fma
    cdef float tt = fmaf_(w, <float>-1.44269504088896341, <float>12583103.0)   # bias 127 + 64
    cdef float n = tt - <float>12583103.0
    cdef float r = fmaf_(n, <float>-0.693145751953125, -w)        # exact
    r = r + fmaf_(n, <float>-1.4286068e-06, -wl)                 # one rounding
    sb[0] = f32_pow2_of(tt)
    return _expm1_poly_f(r)

cdef inline float _gelu_tanh_f(float x) noexcept nogil:
    cdef float a = abs_(x)
    a = <float>11.0 if a > <float>11.0 else a
    cdef float wl, sb
    cdef float w = gelu_tanh_w_f(a, &wl)
    cdef float pe = _gelu_tanh_pe_f(w, wl, &sb)
    cdef float e = big_unscale(fmaf_(pe, sb, sb))
    cdef float d = <float>1.0 + e
    # x < 0: -a e / (1 + e) with 1 + e = d + dl exactly; 1/(1 + dl/d) ~ 1 - dl
    # (within dl/2), the error of d that the sum would otherwise leave
    cdef float ndl = (d - <float>1.0) - e
    cdef float na = fmaf_(-a, ndl, -a)
    cdef float q = (fmaf_(pe, na, na) * sb if x < 0 else x) / d
    return big_unscale(q) if x < 0 else q

# sigma(w) (1 + x w' sigma(-w)), x w' = K a (1 + 3 C a^2) (a = |x|), over one division:
# x >= 0: (1 + e + x w' e) / (1 + e)^2;  x < 0: e (1 + e - a w') / (1 + e)^2, e = e^-|w|;
# around the zero at -0.7525 (where 1 + e - x w' cancels), |t| < 1/2, t Q(t), Q a
# float fit (2.9e-8 relative).
cdef inline float _gelu_tanh_f_bwd(float x) noexcept nogil:
    cdef float a = abs_(x)
    a = <float>11.0 if a > <float>11.0 else a
    cdef float wl, sb, xl
    cdef float w = gelu_tanh_w_f(a, &wl)
    cdef float pe = _gelu_tanh_pe_f(w, wl, &sb)
    cdef float e = big_unscale(fmaf_(pe, sb, sb))
    cdef float xh = gelu_tanh_xw_f(a, w, wl, &xl)                      # x w' = xh + xl
    cdef float den = fmaf_(e, e + <float>2.0, <float>1.0)                 # (1 + e)^2
    cdef float d = <float>1.0 + e
    cdef float sn = (d - xh) + ((e - (d - <float>1.0)) - xl)       # 1 + e - x w', one rounding
    cdef float num = (fmaf_(pe, sn, sn) * sb if x < 0
                      else fmaf_(xh + xl, e, <float>1.0) + e)
    cdef float r = num / den
    r = big_unscale(r) if x < 0 else r
    cdef float t = (x - <float>-0.7524614334106445) - <float>1.1339627903339533e-08
    cdef float q = <float>0.0006308837910182774
    q = fmaf_(q, t, <float>-0.00045361474622040987)
    q = fmaf_(q, t, <float>-0.0026170387864112854)
    q = fmaf_(q, t, <float>0.005045367404818535)
    q = fmaf_(q, t, <float>0.01971433311700821)
    q = fmaf_(q, t, <float>-0.016586750745773315)
    q = fmaf_(q, t, <float>-0.11394624412059784)
    q = fmaf_(q, t, <float>-0.015784451737999916)
    q = fmaf_(q, t, <float>0.3875184655189514)
    q = fmaf_(q, t, <float>0.4304001033306122)
    return t * q if abs_(t) < <float>0.5 else r

cdef inline floating gelu_tanh_fwd(floating x) noexcept nogil:
    if floating is float:
        return _gelu_tanh_f(x)
    else:
        return _gelu_tanh_d(x)

cdef inline floating gelu_tanh_bwd_x(floating g, floating x) noexcept nogil:
    if floating is float:
        return g * _gelu_tanh_f_bwd(x)
    else:
        return g * _gelu_tanh_d_bwd(x)


# selu: scale and scale*alpha rounded to the array's precision.
cdef inline floating selu_fwd(floating x) noexcept nogil:
    return (<floating>1.0507009873554804934193349852946 * x if x >= 0
            else <floating>1.7580993408473768599402175208123 * expm1_neg(x))

cdef inline floating selu_bwd_x(floating g, floating x) noexcept nogil:
    return (g * <floating>1.0507009873554804934193349852946 if x > 0
            else g * (<floating>1.7580993408473768599402175208123 * exp_neg(x)))


# x - t alpha, t a close quotient x / alpha (the remainder of a quotient
# within an ULP is representable, and the callers need it only to a few
# digits): one fma where the build has it; else float's in double, where the
# product is exact, and double's as (x - p) - (t alpha - p), p = t alpha
# rounded (x - p is exact, p being within a factor 2 of x).  Not finite where
# t is not: the callers then keep their uncorrected value.
cdef inline floating _div_rem(floating x, floating t, floating alpha) noexcept nogil:
    cdef double p
    if HAS_FMA:
        return mul_add(-t, alpha, x)
    if floating is float:
        return <float>(<double>x - <double>t * <double>alpha)
    p = t * alpha
    return (x - p) - prod_err_d(t, alpha, p)


# alpha expm1(x / alpha), corrected for the rounding of t = x / alpha: for
# alpha < 0 and x < 0, t > 0 and expm1 amplifies t's relative error t times
# (37 ULP at t = 80 in float32).  alpha expm1(t + r / alpha) = alpha expm1(t)
# + e^t r to first order, r the remainder of the division.  Uncorrected
# where r = 0 (celu(-0) = -0) and where the correction is nan (t or e^t inf).
# t = x / alpha as x (1/alpha): the reciprocal is loop-invariant (hoisted),
# so no division per element (a vector division is 5-10 cycles of
# throughput); t is then within 2 ULP of the quotient, and the remainder r
# corrects it as it corrects the quotient's own rounding.  Where 1/alpha
# would overflow, alpha is scaled by sc = 2^64 first and t = (x / (alpha sc))
# sc (exact scalings, and no select per element).
cdef inline floating _celu_t(floating x, floating alpha) noexcept nogil:
    cdef floating sc = (<floating>18446744073709551616.0
                        if abs_(alpha) < <floating>5.421010862427522e-20 else <floating>1.0)
    cdef floating ra = <floating>1.0 / (alpha * sc)
    return (x * ra) * sc

cdef inline floating _tiny_t(floating like) noexcept nogil:
    if floating is float:
        return <float>5.9604644775390625e-08
    else:
        return 1.1102230246251565e-16

cdef inline floating celu_fwd(floating x, floating alpha) noexcept nogil:
    cdef floating t = _celu_t(x, alpha)
    cdef floating em = expm1_(t)
    cdef floating r = _div_rem(x, t, alpha)
    cdef floating y = alpha * em
    cdef floating yc = mul_add(em + <floating>1.0, r, y)
    y = y if (r == 0) | (yc != yc) else yc
    # |t| below 2^-24 (2^-53): alpha expm1(t) = x (1 + t/2 + ...) rounds to
    # within an ULP of x, and expm1 of a subnormal t loses its last bit,
    # which alpha then multiplies (7 ULP at x = -1e-38, alpha = 7)
    return x if (x > 0) | (abs_(t) < _tiny_t(x)) else y

# g e^(x/alpha).  For alpha < 0 the derivative e^(x/alpha) grows without bound
# as x -> -inf (inf there, and where x/alpha > 88.7 / 709.8): g = 0 gives 0
# there (the limit of the derivative times g, semantics.md), not 0 * inf =
# nan.  Written as one more condition on the select it already had: g where
# x > 0, and g (+-0, what g e is for any finite e) where g = 0 and x is not
# nan (a nan x still gives nan).
# (e^(x/alpha) corrected for the rounding of x / alpha, as in celu_fwd.)
cdef inline floating celu_bwd_x(floating g, floating x, floating alpha) noexcept nogil:
    cdef floating t = _celu_t(x, alpha)
    cdef floating e = exp_(t)
    cdef floating ec = mul_add(e, _div_rem(x, t, alpha) * (<floating>1.0 / alpha), e)
    e = e if ec != ec else ec
    return g if (x > 0) | ((g == 0) & (x == x)) else g * e


# softplus: PyTorch's threshold rule on v = beta x; below it
# (max(v, 0) + log1p(e^-|v|)) / beta.
cdef inline floating softplus_fwd(floating x, floating beta, floating threshold) noexcept nogil:
    cdef floating v = x * beta
    cdef floating sp = (v if v > 0 else <floating>0.0) + log1p_unit(exp_neg(-abs_(v)))
    return x if v > threshold else sp / beta

cdef inline floating softplus_bwd_x(floating g, floating x, floating beta, floating threshold) noexcept nogil:
    cdef floating v = x * beta
    cdef floating e = exp_neg(-abs_(v))
    cdef floating num = e if v < 0 else <floating>1.0
    return g if v > threshold else g * (num / (<floating>1.0 + e))


# squareplus: (x + r) / 2 for x >= 0, b / (2 (r - x)) for x < 0 (no
# cancellation), r = sqrt(x^2 + b) with x scaled by 2^-64 where x^2 would
# overflow (powers of two: exact).
cdef inline floating _sqp_scaled(floating x, floating b, floating* xs, floating* vs,
                                 floating* si, bint* huge, bint* tiny) noexcept nogil:
    # sqrt(xs^2 + b s^2) with xs = x s, s a power of two (exact) where x^2 would
    # overflow (huge), or underflow while b is smaller still (tiny; b = 0 makes
    # squareplus relu: r must stay |x|); si = 1/s.  Also returns xs and the
    # radicand vs, for the derivative.
    cdef floating s, bss
    if floating is float:
        huge[0] = abs_(x) > <float>1e18
        # |x| < 2^-60, b < 2^-120: scaled by 2^100 (subnormal x included)
        tiny[0] = (abs_(x) < <float>8.673617379884035e-19) & (b < <float>7.52316384526264e-37)
        s = <float>5.421010862427522e-20 if huge[0] else (<float>1.2676506002282294e30 if tiny[0] else <float>1.0)
        si[0] = <float>1.8446744073709552e19 if huge[0] else (<float>7.888609052210118e-31 if tiny[0] else <float>1.0)
        # b s^2 selected among loop-invariant products (hoisted out of the
        # loop) rather than formed per element; (b s) s: s*s would overflow
        bss = ((b * <float>5.421010862427522e-20) * <float>5.421010862427522e-20 if huge[0]
               else ((b * <float>1.2676506002282294e30) * <float>1.2676506002282294e30 if tiny[0] else b))
    else:
        huge[0] = abs_(x) > 1e150
        tiny[0] = (abs_(x) < 3.054936363499605e-151) & (b < 9.332636185032189e-302)  # 2^-500, 2^-1000
        s = 2.4099198651028841e-181 if huge[0] else (4.1495155688809929e180 if tiny[0] else 1.0)
        si[0] = 4.1495155688809929e180 if huge[0] else (2.4099198651028841e-181 if tiny[0] else 1.0)
        bss = ((b * 2.4099198651028841e-181) * 2.4099198651028841e-181 if huge[0]
               else ((b * 4.1495155688809929e180) * 4.1495155688809929e180 if tiny[0] else b))
    xs[0] = x * s
    vs[0] = mul_add(xs[0], xs[0], bss)
    return sqrt_(vs[0])

cdef inline floating _sqp_root(floating x, floating b) noexcept nogil:
    cdef floating xs, vs, si
    cdef bint huge, tiny
    return _sqp_scaled(x, b, &xs, &vs, &si, &huge, &tiny) * si

cdef inline floating squareplus_fwd(floating x, floating b) noexcept nogil:
    cdef floating r = _sqp_root(x, b)
    # halves first where x + r could overflow; not below (halving a subnormal rounds)
    # b = 0, x < 0: the limit 0 (the quotient is 0/0 once x^2 underflows); nan stays nan
    cdef floating big = <floating>(1e18 if floating is float else 1e150)
    return (((x + r) * <floating>0.5 if x < big else x * <floating>0.5 + r * <floating>0.5) if x >= 0
            else ((b * <floating>0.25) / (r * <floating>0.5 - x * <floating>0.5) if b > 0
                  else (<floating>0.0 if x < 0 else x)))

# One division for both signs, on the scaled quantities (the scale cancels
# or is applied after):
#   x >= 0:  (1 + x / r) / 2 = (rs + xs) / (2 rs)
#   x <  0:  b / (2 r (r - x)) = (b/2) / (v + r |x|) = (b s^2 / 2) / (vs + rs |xs|)
#            (positive terms, v = x^2 + b), b s^2 / 2 taken as (b/2) then times
#            s twice where x is huge (b s^2 could be subnormal there).
cdef inline floating squareplus_bwd_x(floating g, floating x, floating b) noexcept nogil:
    cdef floating xs, vs, si
    cdef bint huge, tiny
    cdef floating rs = _sqp_scaled(x, b, &xs, &vs, &si, &huge, &tiny)
    cdef bint pos = x >= 0
    cdef floating bh, post
    if floating is float:
        bh = ((b * <float>1.2676506002282294e30) * <float>1.2676506002282294e30) * <float>0.5 if tiny else b * <float>0.5
        post = <float>5.421010862427522e-20 if huge & (x < 0) else <float>1.0
    else:
        bh = ((b * 4.1495155688809929e180) * 4.1495155688809929e180) * 0.5 if tiny else b * 0.5
        post = 2.4099198651028841e-181 if huge & (x < 0) else 1.0
    cdef floating res = ((((rs + xs) * <floating>0.5 if pos else bh) / (rs if pos else mul_add(rs, -xs, vs)))
                         * post) * post
    # r = 0 only at x = 0 with b = 0 (relu's kink): the mean slope 1/2 there;
    # x = +inf: the limit 1 (inf / inf above)
    res = <floating>0.5 if rs == 0 else res
    return g * (<floating>1.0 if x == <floating>INFINITY else res)
