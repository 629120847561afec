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
# semantics.md); the idiom is `a if x > k else (b if x <= k else x)`, whose
# last branch is taken only by nan.

from fastact._kernels._math cimport floating, exp_, exp_neg, exp_neg_scaled, expm1_, expm1_neg, tanh_, abs_


# sigmoid(x) = 1 / (1 + e^-x), evaluated with e = e^-|x| <= 1 so that nothing
# overflows and the tail for x << 0 (e / (1 + e)) keeps full relative accuracy.
cdef inline floating sigmoid_fwd(floating x) noexcept nogil:
    cdef floating e = exp_neg(-abs_(x))
    cdef floating num = e if x < 0 else <floating>1.0
    return num / (<floating>1.0 + e)

# sigma(x) sigma(-x) = e / (1 + e)^2, symmetric in x; never 1 - sigma.
cdef inline floating sigmoid_bwd_x(floating g, floating x) noexcept nogil:
    cdef floating e = exp_neg(-abs_(x))
    cdef floating d = <floating>1.0 + e
    return g * (e / (d * d))

cdef inline floating sigmoid_bwd_y(floating g, floating y) noexcept nogil:
    return g * (y * (<floating>1.0 - y))


cdef inline floating tanh_fwd(floating x) noexcept nogil:
    return tanh_(x)

# sech^2 x = 4 e / (1 + e)^2 with e = e^-2|x|: no cancellation, unlike
# 1 - tanh^2.  4e is formed inside exp (one rounding, also when subnormal).
cdef inline floating tanh_bwd_x(floating g, floating x) noexcept nogil:
    cdef floating e4 = exp_neg_scaled(<floating>-2.0 * abs_(x), <floating>4.0)
    cdef floating d = <floating>1.0 + <floating>0.25 * e4
    return g * (e4 / (d * d))

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
# the kinks give exactly what PyTorch gives (semantics.md).

# x < 0 (not <= 0) keeps relu6(-0) = -0, as PyTorch.
cdef inline floating relu6_fwd(floating x) noexcept nogil:
    return <floating>0.0 if x < 0 else (<floating>6.0 if x > 6 else x)

cdef inline floating relu6_bwd_x(floating g, floating x) noexcept nogil:
    return (g if x < 6 else <floating>0.0) if x > 0 else (<floating>0.0 if x <= 0 else x)


# min(max(x + 3, 0), 6) / 6, the operations PyTorch performs (bit for bit).
cdef inline floating hardsigmoid_fwd(floating x) noexcept nogil:
    cdef floating t = x + <floating>3.0
    t = <floating>0.0 if t < 0 else (<floating>6.0 if t > 6 else t)
    return t / <floating>6.0

cdef inline floating hardsigmoid_bwd_x(floating g, floating x) noexcept nogil:
    return ((g * <floating>(1.0 / 6.0) if x < 3 else <floating>0.0) if x > -3
            else (<floating>0.0 if x <= -3 else x))


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
    return (g if x < hi else <floating>0.0) if x > lo else (<floating>0.0 if x <= lo else x)


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
