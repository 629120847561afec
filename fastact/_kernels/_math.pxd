# Branch-free, vectorizable elementary functions for float and double.
#
# Every function here is `inline noexcept nogil` and free of `if` statements
# on values, so that gcc can vectorize the loops that call them.  Clamps are
# written as ternaries (gcc turns them into blends with -fno-trapping-math).
# Constants are typed (`<floating>c`): a bare Python float literal would make
# Cython compute a float32 expression in double and stop vectorization.
#
# Accuracy (measured by tests/test_accuracy.py against mpmath): exp and
# expm1 within 1 ULP for float and double over the whole finite range,
# subnormal results included; nan propagates; ±inf give the limits.

from libc.stdint cimport int32_t, int64_t

cdef extern from *:
    """
    #include <string.h>
    #include <math.h>
    static inline float fa_f32_from_bits(int32_t i) { float f; memcpy(&f, &i, 4); return f; }
    static inline int32_t fa_f32_to_bits(float f) { int32_t i; memcpy(&i, &f, 4); return i; }
    static inline double fa_f64_from_bits(int64_t i) { double f; memcpy(&f, &i, 8); return f; }
    static inline int64_t fa_f64_to_bits(double f) { int64_t i; memcpy(&i, &f, 8); return i; }
    /* a*b+c: one fused instruction where the target has FMA; otherwise two
       roundings (an fma() library call would stop vectorization). */
    #ifdef __FMA__
    #define fa_fmaf(a, b, c) __builtin_fmaf((a), (b), (c))
    #define fa_fma(a, b, c) __builtin_fma((a), (b), (c))
    #else
    #define fa_fmaf(a, b, c) ((a) * (b) + (c))
    #define fa_fma(a, b, c) ((a) * (b) + (c))
    #endif
    """
    float f32_from_bits "fa_f32_from_bits"(int32_t) noexcept nogil
    int32_t f32_to_bits "fa_f32_to_bits"(float) noexcept nogil
    double f64_from_bits "fa_f64_from_bits"(int64_t) noexcept nogil
    int64_t f64_to_bits "fa_f64_to_bits"(double) noexcept nogil
    float fmaf_ "fa_fmaf"(float, float, float) noexcept nogil
    double fma_ "fa_fma"(double, double, double) noexcept nogil
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
# float -> int conversion is needed (that would be undefined for nan).  ln 2
# is split in two (Cody-Waite): n * LN2_HI is exact for every n that occurs.
# 2^n is applied as two factors 2^(n>>1) * 2^(n - (n>>1)), each a normal
# number, so that results in the subnormal range get one rounding only and
# results past the overflow threshold become inf without a special case.

cdef inline float _scale_f(float p, int32_t n) noexcept nogil:
    cdef int32_t n1 = n >> 1
    cdef int32_t n2 = n - n1
    return (p * f32_from_bits((n1 + 127) << 23)) * f32_from_bits((n2 + 127) << 23)


cdef inline double _scale_d(double p, int64_t n) noexcept nogil:
    cdef int64_t n1 = n >> 1
    cdef int64_t n2 = n - n1
    return (p * f64_from_bits((n1 + 1023) << 52)) * f64_from_bits((n2 + 1023) << 52)


cdef inline float expf_(float x) noexcept nogil:
    cdef float shift = <float>12582912.0           # 1.5 * 2^23
    x = clamp(x, <float>-104.0, <float>89.0)       # beyond: 0 and inf
    cdef float t = fmaf_(x, <float>1.44269504088896341, shift)
    cdef float n = t - shift
    cdef int32_t ni = f32_to_bits(t) - f32_to_bits(shift)
    cdef float r = fmaf_(n, <float>-0.693359375, x)
    r = fmaf_(n, <float>2.12194440e-4, r)
    # Cephes expf minimax coefficients for e^r = 1 + r + r^2 P(r)
    cdef float p = <float>1.9875691500e-4
    p = fmaf_(p, r, <float>1.3981999507e-3)
    p = fmaf_(p, r, <float>8.3334519073e-3)
    p = fmaf_(p, r, <float>4.1665795894e-2)
    p = fmaf_(p, r, <float>1.6666665459e-1)
    p = fmaf_(p, r, <float>5.0000001201e-1)
    p = fmaf_(p, r * r, r) + <float>1.0
    return _scale_f(p, ni)


cdef inline double expd_(double x) noexcept nogil:
    cdef double shift = 6755399441055744.0         # 1.5 * 2^52
    x = clamp(x, -746.0, 710.0)                    # beyond: 0 and inf
    cdef double t = fma_(x, 1.4426950408889634074, shift)
    cdef double n = t - shift
    cdef int64_t ni = f64_to_bits(t) - f64_to_bits(shift)
    cdef double r = fma_(n, -6.93145751953125e-1, x)
    r = fma_(n, -1.42860682030941723212e-6, r)
    # Taylor series to r^13: the truncation error r^14/14! < 6e-18 on |r| <= ln2/2
    cdef double p = 1.0 / 6227020800.0
    p = fma_(p, r, 1.0 / 479001600.0)
    p = fma_(p, r, 1.0 / 39916800.0)
    p = fma_(p, r, 1.0 / 3628800.0)
    p = fma_(p, r, 1.0 / 362880.0)
    p = fma_(p, r, 1.0 / 40320.0)
    p = fma_(p, r, 1.0 / 5040.0)
    p = fma_(p, r, 1.0 / 720.0)
    p = fma_(p, r, 1.0 / 120.0)
    p = fma_(p, r, 1.0 / 24.0)
    p = fma_(p, r, 1.0 / 6.0)
    p = fma_(p, r, 0.5)
    p = fma_(p, r * r, r) + 1.0
    return _scale_d(p, ni)


# exp for x <= 0 (and nan) only, times 2^k for a small k >= 0: one clamp instead of two, and 2^n applied as
# 2^(n+64) * 2^-64 (both normal for n in [-150, 0]), which is what the
# saturating functions (sigmoid, tanh', ...) need on their hot path.
cdef inline float expf_neg(float x, int32_t k) noexcept nogil:
    cdef float shift = <float>12582912.0
    # below -110 even 2^k e^x (k <= 8) rounds to 0; n + k + 191 stays > 0
    x = <float>-110.0 if x < <float>-110.0 else x
    cdef float t = fmaf_(x, <float>1.44269504088896341, shift)
    cdef float n = t - shift
    cdef int32_t ni = f32_to_bits(t) - f32_to_bits(shift)
    cdef float r = fmaf_(n, <float>-0.693359375, x)
    r = fmaf_(n, <float>2.12194440e-4, r)
    cdef float p = <float>1.9875691500e-4
    p = fmaf_(p, r, <float>1.3981999507e-3)
    p = fmaf_(p, r, <float>8.3334519073e-3)
    p = fmaf_(p, r, <float>4.1665795894e-2)
    p = fmaf_(p, r, <float>1.6666665459e-1)
    p = fmaf_(p, r, <float>5.0000001201e-1)
    p = fmaf_(p, r * r, r) + <float>1.0
    return (p * f32_from_bits((ni + k + 191) << 23)) * <float>5.421010862427522e-20


cdef inline double expd_neg(double x, int64_t k) noexcept nogil:
    cdef double shift = 6755399441055744.0
    x = -760.0 if x < -760.0 else x              # 2^k e^x (k <= 8) rounds to 0 below
    cdef double t = fma_(x, 1.4426950408889634074, shift)
    cdef double n = t - shift
    cdef int64_t ni = f64_to_bits(t) - f64_to_bits(shift)
    cdef double r = fma_(n, -6.93145751953125e-1, x)
    r = fma_(n, -1.42860682030941723212e-6, r)
    cdef double p = 1.0 / 6227020800.0
    p = fma_(p, r, 1.0 / 479001600.0)
    p = fma_(p, r, 1.0 / 39916800.0)
    p = fma_(p, r, 1.0 / 3628800.0)
    p = fma_(p, r, 1.0 / 362880.0)
    p = fma_(p, r, 1.0 / 40320.0)
    p = fma_(p, r, 1.0 / 5040.0)
    p = fma_(p, r, 1.0 / 720.0)
    p = fma_(p, r, 1.0 / 120.0)
    p = fma_(p, r, 1.0 / 24.0)
    p = fma_(p, r, 1.0 / 6.0)
    p = fma_(p, r, 0.5)
    p = fma_(p, r * r, r) + 1.0
    # n + 600 is in [-476, 600] for n in [-1076, 0]; 2^-600 is normal
    return (p * f64_from_bits((ni + k + 1623) << 52)) * 2.4099198651028841e-181


cdef inline floating exp_neg(floating x) noexcept nogil:
    if floating is float:
        return expf_neg(x, 0)
    else:
        return expd_neg(x, 0)


# 2^k e^x for x <= 0 and small k >= 0, rounded once: scaling after the
# rounding would lose bits where the result is subnormal.
cdef inline floating exp_neg_pow2(floating x, int k) noexcept nogil:
    if floating is float:
        return expf_neg(x, k)
    else:
        return expd_neg(x, k)


cdef inline floating exp_(floating x) noexcept nogil:
    if floating is float:
        return expf_(x)
    else:
        return expd_(x)


# --- expm1(x) = 2^n (e^r - 1) + (2^n - 1) = 2^n ((e^r - 1) + (1 - 2^-n)) -------
#
# The same reduction as exp.  1 - 2^-n is exact, so the only rounding that can
# cancel is absent; for n = 0 the result is the polynomial itself.  Below
# |x| = 2^-25 (float) or 2^-54 (double) expm1(x) rounds to x, which also keeps
# the sign of zero.

cdef inline float expm1f_(float x) noexcept nogil:
    cdef float shift = <float>12582912.0
    cdef float xc = clamp(x, <float>-30.0, <float>89.0)
    cdef float t = fmaf_(xc, <float>1.44269504088896341, shift)
    cdef float n = t - shift
    cdef int32_t ni = f32_to_bits(t) - f32_to_bits(shift)
    cdef float r = fmaf_(n, <float>-0.693359375, xc)
    r = fmaf_(n, <float>2.12194440e-4, r)
    cdef float p = <float>1.9875691500e-4
    p = fmaf_(p, r, <float>1.3981999507e-3)
    p = fmaf_(p, r, <float>8.3334519073e-3)
    p = fmaf_(p, r, <float>4.1665795894e-2)
    p = fmaf_(p, r, <float>1.6666665459e-1)
    p = fmaf_(p, r, <float>5.0000001201e-1)
    p = fmaf_(p, r * r, r)                         # e^r - 1
    cdef int32_t nc = 25 if ni > 25 else ni        # 1 - 2^-n is 1 from n = 25 on
    cdef float c = <float>1.0 - f32_from_bits((127 - nc) << 23)
    cdef float res = _scale_f(p + c, ni)
    return x if fabsf(x) < <float>2.9802322387695312e-08 else res


cdef inline double expm1d_(double x) noexcept nogil:
    cdef double shift = 6755399441055744.0
    cdef double xc = clamp(x, -60.0, 710.0)
    cdef double t = fma_(xc, 1.4426950408889634074, shift)
    cdef double n = t - shift
    cdef int64_t ni = f64_to_bits(t) - f64_to_bits(shift)
    cdef double r = fma_(n, -6.93145751953125e-1, xc)
    r = fma_(n, -1.42860682030941723212e-6, r)
    cdef double p = 1.0 / 6227020800.0
    p = fma_(p, r, 1.0 / 479001600.0)
    p = fma_(p, r, 1.0 / 39916800.0)
    p = fma_(p, r, 1.0 / 3628800.0)
    p = fma_(p, r, 1.0 / 362880.0)
    p = fma_(p, r, 1.0 / 40320.0)
    p = fma_(p, r, 1.0 / 5040.0)
    p = fma_(p, r, 1.0 / 720.0)
    p = fma_(p, r, 1.0 / 120.0)
    p = fma_(p, r, 1.0 / 24.0)
    p = fma_(p, r, 1.0 / 6.0)
    p = fma_(p, r, 0.5)
    p = fma_(p, r * r, r)
    cdef int64_t nc = 54 if ni > 54 else ni
    cdef double c = 1.0 - f64_from_bits((1023 - nc) << 52)
    cdef double res = _scale_d(p + c, ni)
    return x if fabs(x) < 5.551115123125783e-17 else res


cdef inline floating expm1_(floating x) noexcept nogil:
    if floating is float:
        return expm1f_(x)
    else:
        return expm1d_(x)


# --- tanh(x) = sign(x) * expm1(2|x|) / (expm1(2|x|) + 2) ---------------------
#
# No cancellation anywhere (unlike 1 - 2/(e^2x + 1) near 0).  |x| is clamped
# where tanh rounds to 1 (9 in float, 19.1 in double) so that expm1 stays finite.

cdef inline floating tanh_(floating x) noexcept nogil:
    cdef floating a = abs_(x)
    if floating is float:
        a = <float>9.5 if a > <float>9.5 else a     # nan stays nan
    else:
        a = 22.0 if a > 22.0 else a
    cdef floating e = expm1_(a + a)
    return copysign_(e / (e + <floating>2.0), x)
