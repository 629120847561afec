# Branch-free, vectorizable elementary functions for float and double.
#
# Every function here is `inline noexcept nogil` and free of `if` statements
# on values, so that gcc can vectorize the loops that call them.  Clamps are
# written as ternaries (gcc turns them into blends with -fno-trapping-math).
# Constants are typed (`<floating>c`): a bare Python float literal would make
# Cython compute a float32 expression in double and stop vectorization.
#
# Accuracy (measured against mpmath on log-spaced and edge points, all three
# CPU builds): exp and expm1 within 1 ULP for float and double over the whole
# finite range, subnormal results included; nan propagates; ±inf give the
# limits.  Cost matters as much: every loop here is bound by the number of
# vector instructions per element, so each one saved is ~4% of a kernel.

from libc.stdint cimport int32_t, int64_t

cdef extern from *:
    """
    #include <string.h>
    #include <stdint.h>
    #include <math.h>
    static inline float fa_f32_from_bits(int32_t i) { float f; memcpy(&f, &i, 4); return f; }
    static inline int32_t fa_f32_to_bits(float f) { int32_t i; memcpy(&i, &f, 4); return i; }
    static inline double fa_f64_from_bits(int64_t i) { double f; memcpy(&f, &i, 8); return f; }
    static inline int64_t fa_f64_to_bits(double f) { int64_t i; memcpy(&i, &f, 8); return i; }
    /* 2^k from a float t = SHIFT + k produced by the rounding trick below:
       t's low mantissa bits hold k, and shifting them into the exponent field
       gives the float 2^(k - bias) with no subtraction.  Unsigned shifts: the
       high bits fall off by design. */
    static inline float fa_f32_pow2_of(float t) { uint32_t i; memcpy(&i, &t, 4); i <<= 23; memcpy(&t, &i, 4); return t; }
    static inline double fa_f64_pow2_of(double t) { uint64_t i; memcpy(&i, &t, 8); i <<= 52; memcpy(&t, &i, 8); return t; }
    /* a*b+c: one fused instruction where the target has FMA; otherwise two
       roundings (an fma() library call would stop vectorization). */
    #ifdef __FMA__
    #define fa_fmaf(a, b, c) __builtin_fmaf((a), (b), (c))
    #define fa_fma(a, b, c) __builtin_fma((a), (b), (c))
    #define FA_HAS_FMA 1
    #else
    #define FA_HAS_FMA 0
    #define fa_fmaf(a, b, c) ((a) * (b) + (c))
    #define fa_fma(a, b, c) ((a) * (b) + (c))
    #endif
    /* y*y - hh exactly, for hh = y*y rounded (|y| small enough that the
       Veltkamp split neither overflows nor matters when it underflows): one
       fma where the target has it, Dekker's product otherwise. */
    #ifdef __FMA__
    #define fa_sq_lo_f(y, hh) __builtin_fmaf((y), (y), -(hh))
    #define fa_sq_lo_d(y, hh) __builtin_fma((y), (y), -(hh))
    #define fa_prod_err_d(a, b, p) __builtin_fma((a), (b), -(p))
    #else
    /* a*b - p exactly for p = a*b rounded (Dekker, Veltkamp splits) */
    static inline double fa_prod_err_d(double a, double b, double p) {
        double ca = a * 134217729.0, ah = ca - (ca - a), al = a - ah;
        double cb = b * 134217729.0, bh = cb - (cb - b), bl = b - bh;
        return ((ah * bh - p) + ah * bl + al * bh) + al * bl; }
    static inline float fa_sq_lo_f(float y, float hh) {
        float c = y * 4097.0f, yh = c - (c - y), yl = y - yh;
        return ((yh * yh - hh) + yh * yl + yh * yl) + yl * yl; }
    static inline double fa_sq_lo_d(double y, double hh) {
        double c = y * 134217729.0, yh = c - (c - y), yl = y - yh;
        return ((yh * yh - hh) + yh * yl + yh * yl) + yl * yl; }
    #endif
    /* gelu(approximate="tanh")'s w = 2 sqrt(2/pi) a (1 + 0.044715 a^2) for 0 <= a <= 11
       (and nan) as a float plus *lo, |error| ~ 2^-46 relative: e^-w for w up to 112
       needs w to ~30 bits.  With fma every rounding error is recovered exactly
       (K and C as float hi + lo); without, w is formed in double. */
    #ifdef __FMA__
    static inline float fa_gelu_tanh_w_f(float a, float* lo) {
        const float Kh = 1.5957691669464111f, Kl = -4.534068054340423e-08f;
        const float Ch = 0.044714998453855515f, Cl = 1.5461444347053543e-09f;
        float hh = a * a, hl = __builtin_fmaf(a, a, -hh);            /* a^2 = hh + hl */
        float sh = __builtin_fmaf(Ch, hh, 1.0f);                       /* 1 + C a^2 */
        float sl = __builtin_fmaf(Ch, hh, 1.0f - sh)                   /* 1 - sh exact */
                   + __builtin_fmaf(Ch, hl, Cl * hh);
        float mh = a * sh, me = __builtin_fmaf(a, sh, -mh);          /* a s */
        float wh = Kh * mh, we = __builtin_fmaf(Kh, mh, -wh);        /* K a s */
        *lo = __builtin_fmaf(Kh, __builtin_fmaf(a, sl, me), __builtin_fmaf(Kl, mh, we));
        return wh; }
    /* its x w' = 3 w - 2 K a (= K a (1 + 3 C a^2)) as a float plus *lo, from w + wl:
       the products' and the difference's rounding errors recovered exactly */
    static inline float fa_gelu_tanh_xw_f(float a, float w, float wl, float* lo) {
        float ka = 3.1915383338928223f * a, tw = 3.0f * w;
        float xh = tw - ka, z = xh - tw;                  /* Fast2Sum: tw >= ka */
        *lo = ((__builtin_fmaf(3.0f, w, -tw) - __builtin_fmaf(3.1915383338928223f, a, -ka))
               + __builtin_fmaf(3.0f, wl, 9.068136084210544e-08f * a)) - (ka + z);
        return xh; }
    #else
    static inline float fa_gelu_tanh_xw_f(float a, float w, float wl, float* lo) {
        double ad = a;
        double xw = 1.5957691216057308 * ad * (1.0 + 0.134145 * (ad * ad));
        float xh = (float)xw;
        *lo = (float)(xw - xh);
        return xh; }
    static inline float fa_gelu_tanh_w_f(float a, float* lo) {
        double ad = a;
        double w = 1.5957691216057308 * ad * (1.0 + 0.044715 * (ad * ad));
        float wh = (float)w;
        *lo = (float)(w - wh);
        return wh; }
    #endif
    /* t = 1/(1 + p y) rounded, for 0 <= p y < 2^20, and its relative error:
       1/(1 + p y) = t (1 + *delta) to first order (|delta| <~ 2^-23). */
    #ifdef __FMA__
    static inline float fa_recip_lin_f(float y, float p, float* delta) {
        float d = __builtin_fmaf(y, p, 1.0f);
        float dl = __builtin_fmaf(y, p, 1.0f - d);       /* 1 - d is exact */
        float t = 1.0f / d;
        float rem = __builtin_fmaf(-t, d, 1.0f);         /* exact */
        *delta = __builtin_fmaf(-dl, t, rem);
        return t; }
    #else
    static inline float fa_split_f(float a, float* lo) {
        float c = a * 4097.0f, h = c - (c - a); *lo = a - h; return h; }
    static inline float fa_recip_lin_f(float y, float p, float* delta) {
        float yl, pl, tl, dl2;
        float yh = fa_split_f(y, &yl), ph = fa_split_f(p, &pl);
        float py = y * p;
        float pe = ((yh * ph - py) + yh * pl + yl * ph) + yl * pl;   /* y p - py */
        float d = 1.0f + py;
        float bb = d - py;
        float dl = ((py - (d - bb)) + (1.0f - bb)) + pe;    /* 1 + y p - d, to first order */
        float t = 1.0f / d;
        float th = fa_split_f(t, &tl), dh = fa_split_f(d, &dl2);
        float td = t * d;
        float te = ((th * dh - td) + th * dl2 + tl * dh) + tl * dl2;  /* t d - td */
        float rem = (1.0f - td) - te;
        *delta = rem - dl * t;
        return t; }
    #endif
    """
    float f32_from_bits "fa_f32_from_bits"(int32_t) noexcept nogil
    int32_t f32_to_bits "fa_f32_to_bits"(float) noexcept nogil
    double f64_from_bits "fa_f64_from_bits"(int64_t) noexcept nogil
    int64_t f64_to_bits "fa_f64_to_bits"(double) noexcept nogil
    float f32_pow2_of "fa_f32_pow2_of"(float) noexcept nogil
    double f64_pow2_of "fa_f64_pow2_of"(double) noexcept nogil
    enum: HAS_FMA "FA_HAS_FMA"
    float fmaf_ "fa_fmaf"(float, float, float) noexcept nogil
    double fma_ "fa_fma"(double, double, double) noexcept nogil
    float sq_lo_f "fa_sq_lo_f"(float, float) noexcept nogil
    double sq_lo_d "fa_sq_lo_d"(double, double) noexcept nogil
    double prod_err_d "fa_prod_err_d"(double, double, double) noexcept nogil
    float recip_lin_f "fa_recip_lin_f"(float, float, float*) noexcept nogil
    float gelu_tanh_w_f "fa_gelu_tanh_w_f"(float, float*) noexcept nogil
    float gelu_tanh_xw_f "fa_gelu_tanh_xw_f"(float, float, float, float*) noexcept nogil
    float copysignf(float, float) noexcept nogil
    double copysign(double, double) noexcept nogil
    float fabsf(float) noexcept nogil
    double fabs(double) noexcept nogil

ctypedef fused floating:
    float
    double


cdef inline floating mul_add(floating a, floating b, floating c) noexcept nogil:
    if floating is float:
        return fmaf_(a, b, c)
    else:
        return fma_(a, b, c)


cdef inline floating abs_(floating x) noexcept nogil:
    if floating is float:
        return fabsf(x)
    else:
        return fabs(x)


cdef inline floating copysign_(floating x, floating s) noexcept nogil:
    if floating is float:
        return copysignf(x, s)
    else:
        return copysign(x, s)


cdef inline floating clamp(floating x, floating lo, floating hi) noexcept nogil:
    # Written so that nan passes through unchanged (both comparisons false).
    x = hi if x > hi else x
    return lo if x < lo else x


# --- exp(x) = 2^n * e^r,  n = round(x / ln 2),  |r| <= ln2 / 2 ---------------
#
# n is found with the "round by adding 1.5 * 2^(mantissa bits)" trick, so no
# float -> int conversion is needed (that would be undefined for nan).  The
# shift constant also carries an exponent bias B, so that t = SHIFT + B + n
# holds the biased exponent of 2^(n + ...) in its low bits and pow2_of(t)
# builds that power of two with one integer shift.  ln 2 is split in two
# (Cody-Waite): HI has 16 significant bits, so n * HI is exact even without
# fma (the baseline build).
#
# The polynomials approximate e^r = 1 + r + r^2 Q(r) on [-ln2/2, ln2/2]:
# float uses Cephes' degree-7 minimax coefficients (a degree-6 fit of our
# own was as accurate alone but left sigmoid 2 ULP off on the seed grid of
# docs/semantics.md, against 1 with these); double a degree-11 minimax fit of our
# own (mpmath, Lawson iteration; 3.6e-18, 0.02 ULP).
# e^r - 1 = r + r^2 Q(r) is the expm1 kernel; exp adds 1 last.
#
# The result is scaled by 2^n as p * 2^(n+K) * 2^-K (float K = 64, double
# K = 600) where it can be subnormal, so that it gets one rounding only: the
# first product is exact and normal, the second does the single rounding.
# A multiply rather than adding n to p's exponent bits: the multiply keeps nan
# whatever its payload, an integer add would not.

# Constants: ln2 HI = 0.693145751953125, LO = ln2 - HI (1.4286068e-06 as a
# float, 1.4286068203094173e-06 as a double); SHIFT = 1.5 * 2^23 = 12582912
# (float) and 1.5 * 2^52 = 6755399441055744 (double), plus the bias B.


# c0 + c1 t + c2 t^2 + c3 t^3 from t and t2 = t*t, two fmas deep (Estrin):
# long Horner chains leave the core waiting on fma latency (~4 cycles each)
# in the kernels whose every step depends on the last; Estrin's pairs cut the
# chain to about its logarithm for a couple more multiplies.
cdef inline float poly4_f(float t, float t2, float c0, float c1, float c2, float c3) noexcept nogil:
    return fmaf_(fmaf_(c3, t, c2), t2, fmaf_(c1, t, c0))


cdef inline float _expm1_poly_f(float r) noexcept nogil:
    # e^r - 1 on |r| <= ln2/2, ~0.1 ULP before the final rounding
    cdef float q = <float>1.9875691500e-4
    q = fmaf_(q, r, <float>1.3981999507e-3)
    q = fmaf_(q, r, <float>8.3334519073e-3)
    q = fmaf_(q, r, <float>4.1665795894e-2)
    q = fmaf_(q, r, <float>1.6666665459e-1)
    q = fmaf_(q, r, <float>5.0000001201e-1)
    return fmaf_(q, r * r, r)


cdef inline double _expm1_poly_d(double r) noexcept nogil:
    cdef double q = 2.500069644112692e-08
    q = fma_(q, r, 2.7630236157688184e-07)
    q = fma_(q, r, 2.7557584318373764e-06)
    q = fma_(q, r, 2.4801493128091152e-05)
    q = fma_(q, r, 0.00019841269508933307)
    q = fma_(q, r, 0.0013888888943607545)
    q = fma_(q, r, 0.008333333333493351)
    q = fma_(q, r, 0.04166666666653022)
    q = fma_(q, r, 0.16666666666666413)
    q = fma_(q, r, 0.5000000000000011)
    return fma_(q, r * r, r)


# The reduction: returns r and sets t (= SHIFT + bias + n, see above).
cdef inline float _reduce_f(float x, float shift, float* t) noexcept nogil:
    cdef float tt = fmaf_(x, <float>1.44269504088896341, shift)
    cdef float n = tt - shift
    t[0] = tt
    cdef float r = fmaf_(n, <float>-0.693145751953125, x)
    return fmaf_(n, <float>-1.4286068e-06, r)


cdef inline double _reduce_d(double x, double shift, double* t) noexcept nogil:
    cdef double tt = fma_(x, 1.4426950408889634074, shift)
    cdef double n = tt - shift
    t[0] = tt
    cdef double r = fma_(n, -0.693145751953125, x)
    return fma_(n, -1.4286068203094173e-06, r)


# Two-sided exp.  2^n spans [2^-150, 2^128] here, more than one normal float
# covers, so it is applied as two factors 2^(n>>1) * 2^(n - (n>>1)).
cdef inline float _scale_f(float p, int32_t n) noexcept nogil:
    cdef int32_t n1 = n >> 1
    cdef int32_t n2 = n - n1
    return (p * f32_from_bits((n1 + 127) << 23)) * f32_from_bits((n2 + 127) << 23)


cdef inline double _scale_d(double p, int64_t n) noexcept nogil:
    cdef int64_t n1 = n >> 1
    cdef int64_t n2 = n - n1
    return (p * f64_from_bits((n1 + 1023) << 52)) * f64_from_bits((n2 + 1023) << 52)


cdef inline float expf_(float x) noexcept nogil:
    cdef float t
    x = clamp(x, <float>-104.0, <float>89.0)       # beyond: 0 and inf
    cdef float r = _reduce_f(x, <float>12582912.0, &t)
    cdef float p = _expm1_poly_f(r) + <float>1.0
    return _scale_f(p, f32_to_bits(t) - f32_to_bits(<float>12582912.0))


cdef inline double expd_(double x) noexcept nogil:
    cdef double t
    x = clamp(x, -746.0, 710.0)                    # beyond: 0 and inf
    cdef double r = _reduce_d(x, 6755399441055744.0, &t)
    cdef double p = _expm1_poly_d(r) + 1.0
    return _scale_d(p, f64_to_bits(t) - f64_to_bits(6755399441055744.0))


# exp for x <= 0 (and nan) only, the hot path of the saturating functions
# (sigmoid, tanh', elu'): one clamp instead of two, and 2^n as
# 2^(n+64) * 2^-64, both normal for n in [-159, 0] (double: 2^(n+600) *
# 2^-600 for n in [-1097, 0]).  Garbage (never a trap) for x > 0.
# `scale` (a power of two, 1 to 2^8) multiplies the result before its only
# rounding: 4 e^x formed afterwards would lose bits where it is subnormal.
# The clamp (-110, -760) is low enough that even 256 e^x rounds to 0 there.
cdef inline float expf_neg(float x, float scale) noexcept nogil:
    cdef float t
    x = <float>-110.0 if x < <float>-110.0 else x
    cdef float r = _reduce_f(x, <float>12583103.0, &t)   # bias 127 + 64
    cdef float s = f32_pow2_of(t)
    # scale * 2^-64 is an exact power of two, folded at compile time: the same
    # single rounding as ((p 2^(n+64)) scale) 2^-64, one multiply fewer.
    # (1 + P) 2^(n+64) as fma(P, s, s): s is a normal power of two, so this is
    # bit for bit (1 + P rounded) s, one add fewer
    return fmaf_(_expm1_poly_f(r), s, s) * (scale * <float>5.421010862427522e-20)   # 2^-64


cdef inline double expd_neg(double x, double scale) noexcept nogil:
    cdef double t
    x = -760.0 if x < -760.0 else x
    cdef double r = _reduce_d(x, 6755399441057367.0, &t)          # bias 1023 + 600
    cdef double s = f64_pow2_of(t)
    return fma_(_expm1_poly_d(r), s, s) * (scale * 2.4099198651028841e-181)   # 2^-600


cdef inline floating exp_neg(floating x) noexcept nogil:
    if floating is float:
        return expf_neg(x, <float>1.0)
    else:
        return expd_neg(x, 1.0)


# scale * e^x for x <= 0, scale a power of two in [1, 256], rounded once.
cdef inline floating exp_neg_scaled(floating x, floating scale) noexcept nogil:
    if floating is float:
        return expf_neg(x, scale)
    else:
        return expd_neg(x, scale)


cdef inline floating exp_(floating x) noexcept nogil:
    if floating is float:
        return expf_(x)
    else:
        return expd_(x)


# --- expm1(x) = 2^n (e^r - 1) + (2^n - 1) ------------------------------------
#
# With s = 2^n this is one fma, fma(s, p, s - 1), where p = e^r - 1 is the
# polynomial: s - 1 is exact while 2^n is within 2^-24 (2^-53) of 1 or more,
# the only rounding is the fma's, and for n = 0 the result is p itself (no
# cancellation near 0).  Below that, s - 1 rounds, but the result is then
# within an ulp or two of -1 and is still within 1 ULP.  Values where expm1
# rounds to -1 are clamped: x < -18 (float), -40 (double).
#
# Two-sided: s = 2^n overflows for n = 128 (1024) although expm1 is still
# finite there, so s = 2^(n-1) and the result is 2 fma(s, p, s - 1/2); the
# doubling is exact, or gives inf where it must.  x = +-0 is returned as is
# (the polynomial would lose the sign of -0); other tiny x come out of the
# polynomial exactly.

cdef inline float expm1f_(float x) noexcept nogil:
    cdef float t
    cdef float xc = clamp(x, <float>-18.0, <float>89.0)
    cdef float r = _reduce_f(xc, <float>12583038.0, &t)     # s = 2^(n-1)
    cdef float s = f32_pow2_of(t)
    cdef float res = <float>2.0 * fmaf_(s, _expm1_poly_f(r), s - <float>0.5)
    return x if x == <float>0.0 else res


cdef inline double expm1d_(double x) noexcept nogil:
    cdef double t
    cdef double xc = clamp(x, -40.0, 710.0)
    cdef double r = _reduce_d(xc, 6755399441056766.0, &t)
    cdef double s = f64_pow2_of(t)
    cdef double res = 2.0 * fma_(s, _expm1_poly_d(r), s - 0.5)
    return x if x == 0.0 else res


cdef inline floating expm1_(floating x) noexcept nogil:
    if floating is float:
        return expm1f_(x)
    else:
        return expm1d_(x)


# expm1 for x < 0 (and nan) only: one clamp, s = 2^n directly (n <= 0).
# Gives +0 for x = -0 (callers select x there) and garbage for x > 0.
cdef inline floating expm1_neg(floating x) noexcept nogil:
    cdef floating t, r, s
    if floating is float:
        x = <float>-18.0 if x < <float>-18.0 else x
        r = _reduce_f(x, <float>12583039.0, &t)
        s = f32_pow2_of(t)
        return fmaf_(s, _expm1_poly_f(r), s - <float>1.0)
    else:
        x = -40.0 if x < -40.0 else x
        r = _reduce_d(x, 6755399441056767.0, &t)
        s = f64_pow2_of(t)
        return fma_(s, _expm1_poly_d(r), s - 1.0)


# expm1 for 0 <= a <= 19 (float) or 44 (double) and nan: s = 2^n with n in
# [0, 28] (or [0, 64]) is always normal; a = +0 gives +0.
cdef inline floating _expm1_small_pos(floating a) noexcept nogil:
    cdef floating t, r, s
    if floating is float:
        r = _reduce_f(a, <float>12583039.0, &t)
        s = f32_pow2_of(t)
        return fmaf_(s, _expm1_poly_f(r), s - <float>1.0)
    else:
        r = _reduce_d(a, 6755399441056767.0, &t)
        s = f64_pow2_of(t)
        return fma_(s, _expm1_poly_d(r), s - 1.0)


# --- tanh(x) = sign(x) * expm1(2|x|) / (expm1(2|x|) + 2) ---------------------
#
# No cancellation anywhere (unlike 1 - 2/(e^2x + 1) near 0).  |x| is clamped
# where tanh rounds to 1 (9.01 in float, 19.06 in double) so that expm1 stays
# in its one-sided range; nan passes the clamp and stays nan; copysign gives
# tanh(-0) = -0.

cdef inline floating tanh_(floating x) noexcept nogil:
    cdef floating a = abs_(x)
    if floating is float:
        a = <float>9.5 if a > <float>9.5 else a
    else:
        a = 22.0 if a > 22.0 else a
    cdef floating e = _expm1_small_pos(a + a)
    return copysign_(e / (e + <floating>2.0), x)


# ---- exp_neg_big, log1p on [0, 1], Phi (the normal cdf) ----------------------

# e^x * 2^K for x <= 0 (and nan): K = 64 (float), 600 (double), so that the
# result is a normal number over the whole clamped range; big_unscale
# multiplies by 2^-K.  Multiplying a factor in before the unscaling rounds a
# subnormal product once instead of twice (x e^x for x << 0 in silu, mish).
# exp_neg_big_nc is the same without the clamp, for callers that clamp x to
# [-110, 0] ([-760, 0] for double) themselves and reuse the clamped value
# (silu): gcc does not remove a second, redundant clamp.
cdef inline floating exp_neg_big_nc(floating x) noexcept nogil:
    cdef floating t, r, p
    if floating is float:
        # (1 + P) 2^(n+64) as one fma, bit for bit the same (2^(n+64) is a
        # normal power of two, the result normal): one add fewer
        r = _reduce_f(x, <float>12583103.0, &t)
        p = f32_pow2_of(t)
        return fmaf_(_expm1_poly_f(r), p, p)
    else:
        r = _reduce_d(x, 6755399441057367.0, &t)
        p = f64_pow2_of(t)
        return fma_(_expm1_poly_d(r), p, p)


cdef inline floating exp_neg_big(floating x) noexcept nogil:
    if floating is float:
        x = <float>-110.0 if x < <float>-110.0 else x
    else:
        x = -760.0 if x < -760.0 else x
    return exp_neg_big_nc(x)


cdef inline floating big_unscale(floating v) noexcept nogil:
    if floating is float:
        return v * <float>5.421010862427522e-20         # 2^-64
    else:
        return v * 2.4099198651028841e-181              # 2^-600


# log1p(e) for 0 <= e <= 1 (and nan): u = 1 + e = 2^k m, m in [sqrt(1/2),
# sqrt(2)), k in {0, 1}; log m = f - f^2/2 + s (f^2/2 + R(s^2)), f = m - 1,
# s = f / (2 + f) (the atanh series, fdlibm's arrangement and its published
# minimax coefficients Lg1..Lg7 for double, Lg1..Lg4 for float); c / u
# corrects for the rounding of 1 + e (c = e - (u - 1) is exact).  Within 1
# ULP (measured).
cdef inline floating log1p_unit(floating e) noexcept nogil:
    cdef floating u = <floating>1.0 + e
    cdef floating c = e - (u - <floating>1.0)
    cdef bint big = u > <floating>1.4142135623730951
    cdef floating m = u * <floating>0.5 if big else u
    cdef floating k = <floating>1.0 if big else <floating>0.0
    cdef floating f = m - <floating>1.0
    cdef floating s = f / (<floating>2.0 + f)
    cdef floating z = s * s
    cdef floating w = z * z
    cdef floating hfsq = <floating>0.5 * f * f
    cdef floating t1, t2
    if floating is float:
        t1 = w * (<float>0.40000972151756287 + w * <float>0.24279078841209412)
        t2 = z * (<float>0.6666666269302368 + w * <float>0.2849878668785095)
        return k * <float>0.693145751953125 + (f - (hfsq - (s * (hfsq + (t1 + t2))
                                                            + (k * <float>1.4286068e-06 + c / u))))
    else:
        t1 = w * (3.999999999940941908e-01 + w * (2.222219843214978396e-01 + w * 1.531383769920937332e-01))
        t2 = z * (6.666666666666735130e-01 + w * (2.857142874366239149e-01
                  + w * (1.818357216161805012e-01 + w * 1.479819860511658591e-01)))
        return k * 6.93147180369123816490e-01 + (f - (hfsq - (s * (hfsq + (t1 + t2))
                                                            + (k * 1.90821492927058770002e-10 + c / u))))


# Phi(x), the standard normal cdf, in double, as two parts for gelu:
#   |x| <= 0.67448975:  Phi = 0.5 + x A(x^2) / B(x^2), with W. J. Cody's
#                       published rational Chebyshev coefficients (ACM TOMS
#                       715, the algorithm of R's pnorm)
#   |x| >  0.67448975:  Phi(-|x|) = e^(-x^2/2) T(|x|), T our polynomial fits
#                       (Cody's rational there is 6 ULP off: too much for gelu).  e^(-x^2/2) is formed from x^2 = xh^2 + rest,
# xh having 26 bits (Veltkamp split, no fma needed), so the rounding of x^2,
# amplified by x^2/2 in the exponent, does not cost accuracy.
cdef inline double phi_center(double x) noexcept nogil:
    # (Phi(x) - 0.5) for |x| <= 0.67448975: Cody's A(z)/B(z), z = x^2, as fma
    # Horner chains (B monic)
    cdef double xsq = x * x
    cdef double xnum = fma_(0.065682337918207449113, xsq, 2.2352520354606839287)
    xnum = fma_(xnum, xsq, 161.02823106855587881)
    xnum = fma_(xnum, xsq, 1067.6894854603709582)
    xnum = fma_(xnum, xsq, 18154.981253343561249)
    cdef double xden = xsq + 47.20258190468824187
    xden = fma_(xden, xsq, 976.09855173777669322)
    xden = fma_(xden, xsq, 10260.932208618978205)
    xden = fma_(xden, xsq, 45507.789335026729956)
    return x * xnum / xden


cdef inline double phi_tail_ratio(double y) noexcept nogil:
    # T(y) = Phi(-y) e^(y^2/2) for 0.67 <= y <= 40: up to 5.66 a degree-27
    # polynomial in t = y - 3.165 (t's rounding error tlo corrected to first
    # order with T' = y T - 1/sqrt(2 pi)); beyond, S(u) / (y sqrt(2 pi)) with S a
    # degree-13 polynomial in u = 1/y^2.  Our fits (mpmath, tools/fit_phi.py):
    # 5e-19 and 1.7e-17 relative, 1.4 and 2.8 ULP as evaluated in double.
    cdef double t = y - 3.165
    cdef double bb = t - y
    cdef double tlo = (y - (t - bb)) + (-3.165 - bb)
    cdef double p = -2.546613068902222e-21
    p = fma_(p, t, 1.840827546901995e-20)
    p = fma_(p, t, -2.0526986316731885e-20)
    p = fma_(p, t, 1.258214735742391e-19)
    p = fma_(p, t, -2.896186182892207e-18)
    p = fma_(p, t, 1.9669310393081256e-17)
    p = fma_(p, t, -1.0712409897447379e-16)
    p = fma_(p, t, 6.934126624245455e-16)
    p = fma_(p, t, -4.5996802836660044e-15)
    p = fma_(p, t, 2.8958215438977084e-14)
    p = fma_(p, t, -1.7828540476852706e-13)
    p = fma_(p, t, 1.0830669150662275e-12)
    p = fma_(p, t, -6.4613686107924415e-12)
    p = fma_(p, t, 3.778714541989155e-11)
    p = fma_(p, t, -2.1651055827499902e-10)
    p = fma_(p, t, 1.2142585823258946e-09)
    p = fma_(p, t, -6.65777619050358e-09)
    p = fma_(p, t, 3.5642990876840725e-08)
    p = fma_(p, t, -1.8604559230924056e-07)
    p = fma_(p, t, 9.452641822753515e-07)
    p = fma_(p, t, -4.6661714763921455e-06)
    p = fma_(p, t, 2.2330546197178315e-05)
    p = fma_(p, t, -0.00010333937904501569)
    p = fma_(p, t, 0.0004610524118549174)
    p = fma_(p, t, -0.0019759277787467534)
    p = fma_(p, t, 0.00809802106715405)
    p = fma_(p, t, -0.03155802001378275)
    p = fma_(p, t, 0.11607717547793046)
    cdef double mid = p + (y * p - 0.3989422804014327) * tlo
    cdef double u = 1.0 / (y * y)
    cdef double s = -129686463382.33592
    s = fma_(s, u, 35113730593.9098)
    s = fma_(s, u, -4629307765.138533)
    s = fma_(s, u, 411290013.6471855)
    s = fma_(s, u, -29394185.752150275)
    s = fma_(s, u, 1947491.9589356787)
    s = fma_(s, u, -134215.62210534024)
    s = fma_(s, u, 10387.380820831633)
    s = fma_(s, u, -944.9563059718582)
    s = fma_(s, u, 104.99983539258787)
    s = fma_(s, u, -14.999999624562816)
    s = fma_(s, u, 2.9999999995492748)
    s = fma_(s, u, -0.9999999999997853)
    s = fma_(s, u, 1.0)
    cdef double far = s * 0.3989422804014327 / y
    return mid if y <= 5.66 else far


cdef inline double exp_neg_half_sq_big(double y) noexcept nogil:
    # e^(-y^2/2) * 2^600 for 0 <= y <= 40, nearly correctly rounded: y^2 = hh + lo
    # exactly (one fma, or Dekker's product on the baseline build)
    cdef double hh = y * y
    cdef double a = -0.5 * hh                           # exact
    cdef double b = -0.5 * sq_lo_d(y, hh)
    cdef double s = a + b
    cdef double corr = (a - s) + b
    cdef double e = exp_neg_big(s)
    return fma_(e, corr, e)


cdef extern from "<math.h>" nogil:
    float sqrtf(float) noexcept
    double sqrt(double) noexcept

cdef inline floating sqrt_(floating x) noexcept nogil:
    if floating is float:
        return sqrtf(x)
    else:
        return sqrt(x)
