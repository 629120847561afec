# Functions along one axis (softmax family).  The array is C-contiguous and
# seen as (outer, K, inner) with the axis of length K in the middle.
#   inner == 1 (the last axis): row by row, reductions with 16 independent
#     partial sums so that they vectorize without reassociation flags;
#   inner > 1: blocks of up to 64 neighbouring columns, vectorized across
#     the columns, with their running maxima and sums in small stack arrays.
# Sums are accumulated in double for both precisions.

DEF LANES = 16
DEF COLS = 64

# The row reductions (inner == 1) add into independent double lanes, kept in
# registers by writing them in C over local arrays: gcc keeps a Cython lane
# array that is passed by address in memory, and every add then waits on a
# store-to-load round trip (softmax float32 spent 40% of its time there).
# Two registers' worth of lanes (16 with AVX-512, 8 with AVX, 4 with SSE2):
# more spill on the narrower ISAs.  TwoSum is spelled out a step per
# statement so that gcc vectorizes it.  n is a multiple of FA_RL here; the
# lanes are the first FA_RL of the 16 the callers pass.
cdef extern from *:
    """
    #if defined(__AVX512F__)
    #define FA_RL 16
    #elif defined(__AVX__)
    #define FA_RL 8
    #else
    #define FA_RL 4
    #endif
    /* not inlined: merged into its caller, gcc no longer vectorizes the lanes */
    #if defined(_MSC_VER)
    #define FA_NOINLINE __declspec(noinline)
    #else
    #define FA_NOINLINE __attribute__((noinline))
    #endif
    #define FA_LANES(T, NAME, LOAD, COMPENSATE) \
    static FA_NOINLINE void NAME(const T* a, const T* b, Py_ssize_t n, double* acc, double* comp) { \
        double s[FA_RL], c[FA_RL], v[FA_RL], t[FA_RL], bb[FA_RL]; Py_ssize_t j; int l; \
        for (l = 0; l < FA_RL; l++) { s[l] = acc[l]; c[l] = comp[l]; } \
        for (j = 0; j < n; j += FA_RL) { \
            for (l = 0; l < FA_RL; l++) v[l] = LOAD; \
            if (COMPENSATE) { \
                for (l = 0; l < FA_RL; l++) t[l] = s[l] + v[l]; \
                for (l = 0; l < FA_RL; l++) bb[l] = t[l] - s[l]; \
                for (l = 0; l < FA_RL; l++) c[l] += (s[l] - (t[l] - bb[l])) + (v[l] - bb[l]); \
                for (l = 0; l < FA_RL; l++) s[l] = t[l]; \
            } else { \
                for (l = 0; l < FA_RL; l++) s[l] += v[l]; \
            } \
        } \
        for (l = 0; l < FA_RL; l++) { acc[l] = s[l]; comp[l] = c[l]; } \
        (void)b; }
    FA_LANES(float, fa_lanes_sum_f32, (double)a[j + l], 0)
    FA_LANES(double, fa_lanes_sum_f64, a[j + l], 0)
    FA_LANES(float, fa_lanes_sumc_f32, (double)a[j + l], 1)
    FA_LANES(double, fa_lanes_sumc_f64, a[j + l], 1)
    FA_LANES(float, fa_lanes_dot_f32, (double)a[j + l] * (double)b[j + l], 0)
    FA_LANES(double, fa_lanes_dot_f64, a[j + l] * b[j + l], 0)
    /* v itself, but a value gcc cannot see through: a loop bound made of it
       stays a variable, and `v < c ? v : c` with a variable c vectorizes as
       one min (with a constant c gcc emits a compare and a blend) */
    #if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
    #define FA_HIDE(v) __asm__("" : "+x"(v))
    #else
    #define FA_HIDE(v) ((void)0)
    #endif
    static inline float fa_opaque_f32(float v) { FA_HIDE(v); return v; }
    /* x = m 2^k exactly, m in [1, 2) with x's sign and k an integer held in a
       double, for finite nonzero x (subnormals included: scaled by 2^54
       first); x = +-0 gives m = x (and k = -1077); inf and nan give m = x,
       k = 0.  Bit operations only, so that it vectorizes. */
    static inline double fa_split_d(double x, double* k) {
        double ax = fabs(x);
        int sub = ax < 2.2250738585072014e-308;
        double xs = sub ? x * 18014398509481984.0 : x;             /* 2^54 */
        uint64_t b, mb, eb; double m, ed;
        memcpy(&b, &xs, 8);
        mb = (b & 0x800fffffffffffffULL) | 0x3ff0000000000000ULL;
        memcpy(&m, &mb, 8);
        eb = ((b >> 52) & 0x7ff) | 0x4330000000000000ULL;          /* 2^52 + e */
        memcpy(&ed, &eb, 8);
        ed = (ed - 4503599627370496.0) - (sub ? 1077.0 : 1023.0);
        int fin = ax <= 1.7976931348623157e308;
        *k = fin ? ed : 0.0;
        return (fin && x != 0) ? m : x; }
    static inline double fa_opaque_f64(double v) { FA_HIDE(v); return v; }
    /* only the FA_RL lanes in use, by plain stores (a memset of all 16 became
       `rep stos`, ~35 cycles of start-up twice a row) */
    static inline void fa_lanes_zero(double* acc, double* comp) {
        int l;
        for (l = 0; l < FA_RL; l++) { acc[l] = 0.0; comp[l] = 0.0; } }
    /* s + *c with the lanes added, each add's rounding error kept (TwoSum):
       halving trees, whose steps are independent within a level, instead of
       one chain of 16 dependent TwoSums (~250 cycles a row, most of a short
       row's time) */
    static inline double fa_lanes_total(const double* acc, const double* comp, double s,
                                        double* c) {
        double a[FA_RL], e[FA_RL], t, bb;
        int l, w;
        for (l = 0; l < FA_RL; l++) { a[l] = acc[l]; e[l] = comp[l]; }
        for (w = FA_RL / 2; w >= 1; w /= 2) {
            for (l = 0; l < w; l++) {
                t = a[l] + a[l + w];
                bb = t - a[l];
                e[l] = (e[l] + e[l + w]) + ((a[l] - (t - bb)) + (a[l + w] - bb));
                a[l] = t;
            }
        }
        t = s + a[0];
        bb = t - s;
        *c += e[0] + ((s - (t - bb)) + (a[0] - bb));
        return t; }
    """
    void fa_lanes_sum_f32(const float*, const float*, Py_ssize_t, double*, double*) noexcept nogil
    void fa_lanes_sum_f64(const double*, const double*, Py_ssize_t, double*, double*) noexcept nogil
    void fa_lanes_sumc_f32(const float*, const float*, Py_ssize_t, double*, double*) noexcept nogil
    void fa_lanes_sumc_f64(const double*, const double*, Py_ssize_t, double*, double*) noexcept nogil
    void fa_lanes_dot_f32(const float*, const float*, Py_ssize_t, double*, double*) noexcept nogil
    void fa_lanes_dot_f64(const double*, const double*, Py_ssize_t, double*, double*) noexcept nogil
    float fa_opaque_f32(float) noexcept nogil
    double fa_split_d(double, double*) noexcept nogil
    double fa_opaque_f64(double) noexcept nogil
    void fa_lanes_zero(double*, double*) noexcept nogil
    enum: FA_RL                     # the lanes in use (of LANES)
    double fa_lanes_total(const double*, const double*, double, double*) noexcept nogil

DEF SUM = 0
DEF SUMC = 1
DEF DOT = 2


cdef inline void _lanes(int how, const floating* a, const floating* b, Py_ssize_t n,
                        double* acc, double* comp) noexcept nogil:
    if floating is float:
        if how == SUM:
            fa_lanes_sum_f32(a, b, n, acc, comp)
        elif how == SUMC:
            fa_lanes_sumc_f32(a, b, n, acc, comp)
        else:
            fa_lanes_dot_f32(a, b, n, acc, comp)
    else:
        if how == SUM:
            fa_lanes_sum_f64(a, b, n, acc, comp)
        elif how == SUMC:
            fa_lanes_sumc_f64(a, b, n, acc, comp)
        else:
            fa_lanes_dot_f64(a, b, n, acc, comp)


cdef inline void _lanes_zero(double* acc, double* comp) noexcept nogil:
    fa_lanes_zero(acc, comp)


cdef inline void _lanes_add(int how, const floating* a, const floating* b, Py_ssize_t n,
                            double* acc, double* comp, double* s, double* c) noexcept nogil:
    """a[:n] (or a b) into the lanes; the n % FA_RL left over into s + c[0]."""
    cdef Py_ssize_t j, full = n - n % FA_RL
    _lanes(how, a, b, full, acc, comp)
    for j in range(full, n):
        _add_compensated(s, c, <double>a[j] * (<double>b[j] if how == DOT else 1.0))


cdef inline double _lanes_total(const double* acc, const double* comp, double s,
                                double* c) noexcept nogil:
    """s + c[0] with the lanes added, compensated."""
    return fa_lanes_total(acc, comp, s, c)


cdef inline double _row_reduce(int how, const floating* a, const floating* b, Py_ssize_t k,
                               double* c) noexcept nogil:
    """sum a (SUM, SUMC: compensated) or sum a b (DOT) over a row, in 16 double
    lanes, the lanes and the tail combined compensated: s + c[0]."""
    cdef double acc[LANES]
    cdef double comp[LANES]
    cdef double s = 0.0
    c[0] = 0.0
    _lanes_zero(acc, comp)
    _lanes_add(how, a, b, k, acc, comp, &s, c)
    return _lanes_total(acc, comp, s, c)


cdef inline floating _row_max(const floating* x, Py_ssize_t k, bint neg) noexcept nogil:
    # The maximum of integer keys that order like the floats (sign-magnitude
    # turned into two's complement): an integer max reduction vectorizes,
    # a float one would need -ffinite-math-only.  A nan ends up either the
    # maximum or ignored; both make the row nan through exp(nan - m).
    # neg: the maximum of -x (softmin), by flipping the sign bit first.
    cdef Py_ssize_t j
    cdef int32_t b32, m32 = INT32_MIN, f32 = INT32_MIN if neg else 0
    cdef int64_t b64, m64 = INT64_MIN, f64 = INT64_MIN if neg else 0
    if floating is float:
        for j in range(k):
            b32 = f32_to_bits(x[j]) ^ f32
            b32 = b32 ^ ((b32 >> 31) & 0x7fffffff)
            m32 = b32 if b32 > m32 else m32
        return f32_from_bits(m32 ^ ((m32 >> 31) & 0x7fffffff))
    else:
        for j in range(k):
            b64 = f64_to_bits(x[j]) ^ f64
            b64 = b64 ^ ((b64 >> 63) & INT64_MAX)
            m64 = b64 if b64 > m64 else m64
        return f64_from_bits(m64 ^ ((m64 >> 63) & INT64_MAX))


cdef inline void _add_compensated(double* s, double* c, double v) noexcept nogil:
    """s + c += v, keeping the rounding error of each addition in c (TwoSum):
    the sums of a float64 softmax stay within an ULP for any row length."""
    cdef double t = s[0] + v
    cdef double bb = t - s[0]
    c[0] += (s[0] - (t - bb)) + (v - bb)
    s[0] = t


cdef inline floating _one(floating like) noexcept nogil:
    """1 in like's type, as a value the compiler does not know (_exp_diff's
    bound)."""
    if floating is float:
        return fa_opaque_f32(<float>1.0)
    else:
        return fa_opaque_f64(1.0)


cdef inline floating _exp_diff(floating x, floating m, floating one) noexcept nogil:
    """e^(x - m) for x <= m (m the row maximum), accurate although x - m is
    rounded.

    x - m loses up to half an ULP of the difference, which e^() turns into a
    relative error of |x - m| * 2^-24 (15 ULP at |x - m| = 30).  The rounding
    error t of the subtraction is recovered exactly (TwoSum) and applied as
    e^(d + t) = e^d (1 + t).  The TwoSum is exact whenever d = x - m is
    finite, whatever the magnitudes (a row spread of 1e10 or finfo.max
    included).  Where d is -inf (x = -inf, or x - m beyond -finfo.max), t is
    nan; e^d is 0 there, and the error is lowered to 1 (written as nt = -t,
    nt < one ? nt : one, one = _one(...) from the caller, which gcc compiles to
    one min that turns nan into 1) so that 0 (1 - nt) stays 0.  |t| < 1 wherever e^d is not 0 (|d| <= 760
    there), so this changes nothing else.  A nan x, or m = +-inf, give
    d = nan and nan, as e^(x - m) does.

    (The clamp this replaces raised x to m - 110 (m - 760) before the TwoSum:
    for |m| >= 2^31 (2^62) that sum rounds back to m, every x became m, and
    the row came out uniform.)
    """
    cdef floating d = x - m
    cdef floating bb = d - x
    cdef floating nt = ((d - bb) - x) + (m + bb)         # -(the TwoSum error)
    nt = nt if nt < one else one
    cdef floating e = exp_neg(d)        # d <= 0: m is the row maximum
    return mul_add(-e, nt, e)


DEF BLOCK = 512

cdef inline double _row_expsum(const floating* x, floating* y, Py_ssize_t k, floating m,
                               floating sg, double* c, bint store, bint compensate) noexcept nogil:
    """sum_j e^(sg x_j - m) as s + c[0].  The terms are formed a block at a
    time (an elementwise loop that vectorizes) in y if `store` (softmax), else
    in a stack block (log_softmax reads x again, and may run in place), and
    added into the lanes of _row_reduce.  float32 terms summed in double are
    exact to far below a float ULP; `compensate` keeps each lane's rounding
    errors too (float64, and a log_softmax row whose sum is 1 + a tail below
    double's ULP)."""
    cdef floating scratch[BLOCK]
    cdef double acc[LANES]
    cdef double comp[LANES]
    cdef floating* dst
    cdef Py_ssize_t j, i, n
    cdef double s = 0.0
    cdef floating one = _one(m)
    c[0] = 0.0
    _lanes_zero(acc, comp)
    for j in range(0, k, BLOCK):
        n = k - j if k - j < BLOCK else BLOCK
        dst = y + j if store else scratch
        for i in range(n):
            dst[i] = _exp_diff(sg * x[j + i], m, one)
        _lanes_add(SUMC if compensate else SUM, dst, dst, n, acc, comp, &s, c)
    return _lanes_total(acc, comp, s, c)


cdef inline floating _div_recip(floating y, floating s, floating r) noexcept nogil:
    """y / s given r = 1/s: where the build has FMA, y r corrected once with the
    exact remainder y - (y r) s, a multiply and two fmas where a vector
    division costs several times more; within an ULP of y / s.  Without FMA
    the remainder would not be exact: the division."""
    cdef floating q
    if HAS_FMA:
        q = y * r
        return mul_add(mul_add(-q, s, y), r, q)
    return y / s


# softmax(x) = e^(x - m) / sum e^(x - m), m the row maximum; neg: softmin,
# the softmax of -x (negating is exact).
cdef inline void _softmax_row(const floating* x, floating* y, Py_ssize_t k, bint neg) noexcept nogil:
    cdef floating sg = <floating>-1.0 if neg else <floating>1.0
    cdef floating m = _row_max(x, k, neg)
    cdef Py_ssize_t j
    cdef double c, s = _row_expsum(x, y, k, m, sg, &c, True, floating is double)
    cdef double inv
    cdef floating sf, sl, r, q
    if floating is float:
        if HAS_FMA:
            # y / (sh + sl), sh + sl the sum as two floats: y r corrected once
            # with the remainder y - q sh - q sl (the first part exact by fma)
            sf = <float>(s + c)
            sl = <float>((s - <double>sf) + c)
            r = <float>1.0 / sf
            for j in range(k):
                q = y[j] * r
                y[j] = mul_add(mul_add(-q, sl, mul_add(-q, sf, y[j])), r, q)
        else:
            # y * (1/s) in double rounds once to float, as a float division would
            inv = 1.0 / (s + c)
            for j in range(k):
                y[j] = <float>(<double>y[j] * inv)
    else:
        sf = s + c
        r = 1.0 / sf
        for j in range(k):
            y[j] = _div_recip(y[j], sf, r)


cdef inline void _softmax_cols(const floating* x, floating* y, Py_ssize_t k,
                               Py_ssize_t inner, Py_ssize_t c0, Py_ssize_t nc, bint neg) noexcept nogil:
    cdef floating sg = <floating>-1.0 if neg else <floating>1.0
    cdef floating one = _one(sg)
    cdef floating m[COLS]
    cdef double s[COLS]
    cdef double comp[COLS]
    cdef floating v
    cdef Py_ssize_t j, c
    for c in range(nc):
        m[c] = -INFINITY
        s[c] = 0.0
        comp[c] = 0.0
    for j in range(k):
        for c in range(nc):
            v = sg * x[j * inner + c0 + c]
            m[c] = v if v > m[c] else m[c]
    for j in range(k):
        for c in range(nc):
            v = _exp_diff(sg * x[j * inner + c0 + c], m[c], one)
            y[j * inner + c0 + c] = v
            if floating is float:
                s[c] += v
            else:
                _add_compensated(&s[c], &comp[c], v)
    for c in range(nc):
        m[c] = <floating>(s[c] + comp[c])
    for j in range(k):
        for c in range(nc):
            y[j * inner + c0 + c] = y[j * inner + c0 + c] / m[c]


cdef inline void _softmax_bwd_row(const floating* g, const floating* y, floating* out,
                                  Py_ssize_t k, bint neg) noexcept nogil:
    # neg (softmin): the negated result, y * (d - g).
    cdef double c
    cdef floating d = <floating>_row_reduce(DOT, g, y, k, &c)
    cdef Py_ssize_t j
    if neg:
        for j in range(k):
            out[j] = y[j] * (d - g[j])
    else:
        for j in range(k):
            out[j] = y[j] * (g[j] - d)


cdef inline void _softmax_bwd_cols(const floating* g, const floating* y, floating* out,
                                   Py_ssize_t k, Py_ssize_t inner, Py_ssize_t c0,
                                   Py_ssize_t nc, bint neg) noexcept nogil:
    cdef double s[COLS]
    cdef floating d[COLS]
    cdef Py_ssize_t j, c, q
    for c in range(nc):
        s[c] = 0.0
    for j in range(k):
        for c in range(nc):
            q = j * inner + c0 + c
            s[c] += <double>g[q] * <double>y[q]
    for c in range(nc):
        d[c] = <floating>s[c]
    if neg:
        for j in range(k):
            for c in range(nc):
                q = j * inner + c0 + c
                out[q] = y[q] * (d[c] - g[q])
    else:
        for j in range(k):
            for c in range(nc):
                q = j * inner + c0 + c
                out[q] = y[q] * (g[q] - d[c])


# ---- log_softmax and softmin (ops 2-5) ----

cdef inline double _log_sum(double s, double c) noexcept nogil:
    """log(s + c) for the compensated sum s + c >= 1 of a row whose maximum
    term is exactly 1: log1p of (s - 1) + c, where s - 1 is exact, so that
    a dominant row (sum = 1 + tiny) keeps the tiny part."""
    return log1p((s - 1.0) + c)


cdef inline double _row_expsum_split(const floating* x, Py_ssize_t k, floating m,
                                     double* rest) noexcept nogil:
    """sum_j e^(x_j - m) as (the number of x_j == m, returned) + rest[0], the
    other terms summed in plain double lanes: the count is exact, so the
    log1p form keeps a tail below the 1 without a compensated sum (half the
    operations).  For float32: the terms in double sum to far below a float
    ULP.  m finite (else _row_expsum)."""
    cdef floating scratch[BLOCK]
    cdef double acc[LANES]
    cdef double comp[LANES]
    cdef Py_ssize_t j, i, l, n, full
    cdef Py_ssize_t ones = 0
    cdef int cnt
    cdef floating v
    cdef double tail = 0.0
    cdef floating one = _one(m)
    _lanes_zero(acc, comp)
    for j in range(0, k, BLOCK):
        n = k - j if k - j < BLOCK else BLOCK
        cnt = 0
        for i in range(n):
            v = x[j + i]
            scratch[i] = <floating>0.0 if v == m else _exp_diff(v, m, one)
            cnt += v == m
        ones += cnt
        full = n - n % FA_RL
        _lanes(SUM, scratch, scratch, full, acc, comp)
        for i in range(full, n):
            tail += scratch[i]
    for l in range(FA_RL):
        tail += acc[l]
    rest[0] = tail
    return <double>ones


cdef inline void _log_softmax_row(const floating* x, floating* y, Py_ssize_t k) noexcept nogil:
    # y = (x - m) - log(sum e^(x - m)); the log1p form needs the sum's tail
    # below the 1: float32 counts the 1s exactly (_row_expsum_split), float64
    # sums compensated (plain double lanes would be up to k/16 ULP off).
    cdef floating m = _row_max(x, k, False)
    cdef double s, c
    cdef Py_ssize_t j
    if floating is float and m - m == 0:
        s = _row_expsum_split(x, k, m, &c)
    else:
        s = _row_expsum(x, <floating*>NULL, k, m, <floating>1.0, &c, False, True)
    cdef floating lf = <floating>_log_sum(s, c)
    # x - m <= 0 and -lse <= 0 have one sign: nothing cancels, and the two
    # roundings and lse's stay within 1.5 ULP of y
    for j in range(k):
        y[j] = (x[j] - m) - lf


cdef inline void _log_softmax_cols(const floating* x, floating* y, Py_ssize_t k,
                                   Py_ssize_t inner, Py_ssize_t c0, Py_ssize_t nc) noexcept nogil:
    cdef floating m[COLS]
    cdef double s[COLS]
    cdef double comp[COLS]
    cdef floating v
    cdef floating one = _one(x[0])
    cdef Py_ssize_t j, c, q
    for c in range(nc):
        m[c] = -INFINITY
        s[c] = 0.0
        comp[c] = 0.0
    for j in range(k):
        for c in range(nc):
            v = x[j * inner + c0 + c]
            m[c] = v if v > m[c] else m[c]
    for j in range(k):
        for c in range(nc):
            _add_compensated(&s[c], &comp[c], <double>_exp_diff(x[j * inner + c0 + c], m[c], one))
    for c in range(nc):
        s[c] = _log_sum(s[c], comp[c])
    for j in range(k):
        for c in range(nc):
            q = j * inner + c0 + c
            y[q] = <floating>((<double>x[q] - <double>m[c]) - s[c])


# g - e^y * sum(g): the gradient of log_softmax from its output.
cdef inline void _log_softmax_bwd_row(const floating* g, const floating* y, floating* out,
                                      Py_ssize_t k) noexcept nogil:
    cdef double c
    cdef floating d = <floating>_row_reduce(SUM, g, g, k, &c)
    cdef Py_ssize_t j
    # y <= 0 in a row of log-probabilities: the one-sided exp (one clamp and no
    # exponent splitting) is cheaper than a pass over y for its maximum
    if _row_max(y, k, False) <= 0:
        for j in range(k):
            out[j] = mul_add(-exp_neg(y[j]), d, g[j])     # g - e^y d, one rounding with fma
    else:
        for j in range(k):
            out[j] = mul_add(-exp_(y[j]), d, g[j])


cdef inline void _log_softmax_bwd_cols(const floating* g, const floating* y, floating* out,
                                       Py_ssize_t k, Py_ssize_t inner, Py_ssize_t c0,
                                       Py_ssize_t nc) noexcept nogil:
    cdef double s[COLS]
    cdef floating d[COLS]
    cdef Py_ssize_t j, c, q
    for c in range(nc):
        s[c] = 0.0
    for j in range(k):
        for c in range(nc):
            s[c] += <double>g[j * inner + c0 + c]
    for c in range(nc):
        d[c] = <floating>s[c]
    for j in range(k):
        for c in range(nc):
            q = j * inner + c0 + c
            out[q] = mul_add(-exp_(y[q]), d[c], g[q])


# ---- glu and maxout (ops 6-9): the output's axis is shorter than x's ----
# Seen as (outer, K, inner) for x; one work item is one outer index.

# glu: a = first half, b = second half; each half is a contiguous block of
# h = K/2 * inner elements within the outer slice.
#
# a sigma(b) and g a sigma(b) sigma(-b) for every finite a, b (and g) within
# an ULP or two.  The plain products (a * sigmoid(b), sigmoid_bwd_x(g a, b))
# are that accurate unless sigma(b) or sigma(b) sigma(-b) is subnormal or 0
# (|b| beyond _glu_lim: 87 float, 708 double), which happens long before
# the product is (a sigma(b) with a = 1e30, b = -100 is 3.7e-14 in float32;
# a = 1e300, b = -1000 is 5e-135 in float64), or g a overflows where the
# result does not.  Those elements take the exact forms:
#   float32: in double, rounded once: a, b, g a are exact there, and
#     sigma(b) and sigma(b) sigma(-b) are normal for every b where the float
#     result can be nonzero (|b| <= 282).
#   float64: a e^b (1 + e^b = 1 there) and g a e^-|b| / (1 + e^-|b|)^2
#     formed with the exponents of a and g folded into that of e^(...)
#     (fa_split_d, _mul_exp_d).
# Each element's form depends on its own values only (the same result
# whatever its neighbours, threads or chunks); a block of BLOCK elements is
# first scanned for such elements (a vectorized OR), and only a block that
# has one runs the per-element selection: the common case costs the scan.

cdef inline floating _glu_lim(floating like) noexcept nogil:
    if floating is float:
        return <float>-87.0
    else:
        return -708.0


cdef inline double _mul_exp_d(double c, double kc, double u) noexcept nogil:
    """c 2^kc e^u, rounded once at the end (plus c's and e^u's own
    roundings), for c in [0.17, 4] (or 0, inf, nan), kc an integer in a
    double, u <= 0 (or nan): no intermediate overflows or underflows.
    e^u = p 2^n (n = round(u / ln 2), u clamped at -1500 where every result
    is 0); 2^(n + kc), clamped to [2^-1100, 2^1030] (beyond: 0 and inf
    whatever c), is applied as two normal powers 2^N1 2^N2 (the first
    product is exact, the second rounds)."""
    cdef double t, t1
    u = -1500.0 if u < -1500.0 else u
    cdef double r = _reduce_d(u, 6755399441055744.0, &t)
    cdef double p = _expm1_poly_d(r) + 1.0
    cdef double big_n = (t - 6755399441055744.0) + kc
    big_n = -1100.0 if big_n < -1100.0 else (1030.0 if big_n > 1030.0 else big_n)
    t1 = mul_add(big_n, 0.5, 6755399441056767.0)          # 1.5 2^52 + 1023 + round(N / 2)
    cdef double n2 = big_n - (t1 - 6755399441056767.0)
    return ((c * p) * f64_pow2_of(t1)) * f64_pow2_of(n2 + 6755399441056767.0)


cdef inline floating _glu_fwd_exact(floating a, floating b) noexcept nogil:
    """a sigma(b) for any a, b (see above); the plain product where that is exact."""
    cdef double ka, ma
    cdef floating plain = a * sigmoid_fwd(b)
    if floating is float:
        return <float>(<double>a * sigmoid_fwd(<double>b)) if b < _glu_lim(b) else plain
    else:
        ma = fa_split_d(a, &ka)             # before ka is read (argument order)
        return _mul_exp_d(ma, ka, b) if b < _glu_lim(b) else plain


cdef inline bint _glu_bwd_special(floating g, floating a, floating b) noexcept nogil:
    """Whether g a sigma(b) sigma(-b) needs the exact form: sigma(b) sigma(-b)
    subnormal, or g a not finite (overflowed, or an inf/nan argument)."""
    cdef floating top
    if floating is float:
        top = FLT_MAX
    else:
        top = 1.7976931348623157e308
    return (abs_(b) > -_glu_lim(b)) | (not (abs_(g * a) <= top))


cdef inline floating _glu_bwd_b_exact(floating g, floating a, floating b) noexcept nogil:
    """g a sigma(b) sigma(-b) for any g, a, b; the plain form where that is exact."""
    cdef double kg, ka, e, mg, ma, ex
    cdef floating plain = sigmoid_bwd_x(g * a, b)
    if floating is float:
        ex = sigmoid_bwd_x(<double>g * <double>a, <double>b)
    else:
        mg = fa_split_d(g, &kg)
        ma = fa_split_d(a, &ka)
        e = exp_neg(-abs_(b))
        ex = _mul_exp_d((mg * ma) / mul_add(e, 2.0 + e, 1.0), kg + ka, -abs_(b))
    return <floating>ex if _glu_bwd_special(g, a, b) else plain


cdef inline void _glu_item(const floating* x, floating* y, Py_ssize_t h) noexcept nogil:
    # y is never x (its own, shorter array): the plain products and the scan
    # in one pass, the block redone where it had a special element
    cdef Py_ssize_t j, t, n
    cdef int special
    cdef floating b
    cdef floating lim = _glu_lim(x[0])
    for j in range(0, h, BLOCK):
        n = h - j if h - j < BLOCK else BLOCK
        special = 0
        for t in range(j, j + n):
            b = x[h + t]
            y[t] = x[t] * sigmoid_fwd(b)
            special |= b < lim
        if special:
            for t in range(j, j + n):
                y[t] = _glu_fwd_exact(x[t], x[h + t])


# d/da = sigma(b); d/db = a sigma(b) sigma(-b) (no 1 - sigma(b)).  out has x's
# shape and may be x itself: each position is read before it is written (then
# the scan runs first, as a pass of its own; else with the plain products).
# (b < lim implies |b| > -lim: _glu_bwd_special covers sigma(b) too.)
cdef inline void _glu_bwd_item(const floating* g, const floating* x, floating* out,
                               Py_ssize_t h) noexcept nogil:
    cdef Py_ssize_t j, t, n
    cdef int special
    cdef floating a, b, gt
    cdef bint inplace = out == x
    for j in range(0, h, BLOCK):
        n = h - j if h - j < BLOCK else BLOCK
        special = 0
        if inplace:
            for t in range(j, j + n):
                special |= _glu_bwd_special(g[t], x[t], x[h + t])
        if not special:
            for t in range(j, j + n):
                a = x[t]
                b = x[h + t]
                gt = g[t]
                special |= _glu_bwd_special(gt, a, b)
                out[t] = gt * sigmoid_fwd(b)
                out[h + t] = sigmoid_bwd_x(gt * a, b)
        if special:                     # x is intact: either in place and not written, or not out
            for t in range(j, j + n):
                a = x[t]
                b = x[h + t]
                gt = g[t]
                out[t] = _glu_fwd_exact(gt, b)
                out[h + t] = _glu_bwd_b_exact(gt, a, b)


# maxout: groups of p consecutive entries along the axis; the first maximum
# wins on ties, and a nan in a group makes its output nan (routed to the
# first nan), as torch.max.
cdef inline Py_ssize_t _group_argmax(const floating* x, Py_ssize_t p, Py_ssize_t stride) noexcept nogil:
    cdef Py_ssize_t r, best = 0
    cdef floating m = x[0], v
    if m != m:
        return 0
    for r in range(1, p):
        v = x[r * stride]
        if v != v:
            return r
        if v > m:
            m = v
            best = r
    return best


cdef inline void _maxout_item(const floating* x, floating* y, Py_ssize_t k, Py_ssize_t inner,
                              Py_ssize_t p) noexcept nogil:
    cdef Py_ssize_t q, i, base
    for q in range(k // p):
        for i in range(inner):
            base = q * p * inner + i
            y[q * inner + i] = x[base + _group_argmax(x + base, p, inner) * inner]


cdef inline void _maxout_bwd_item(const floating* g, const floating* x, floating* out,
                                  Py_ssize_t k, Py_ssize_t inner, Py_ssize_t p) noexcept nogil:
    cdef Py_ssize_t q, i, r, base, best
    cdef floating gv
    for q in range(k // p):
        for i in range(inner):
            base = q * p * inner + i
            best = _group_argmax(x + base, p, inner)
            gv = g[q * inner + i]
            for r in range(p):
                out[base + r * inner] = gv if r == best else <floating>0.0


# ---- prelu (ops 10, 11): one slope per channel, the channel axis of length k ----

cdef inline void _prelu_item(const floating* x, const floating* w, floating* out,
                             Py_ssize_t k, Py_ssize_t inner) noexcept nogil:
    cdef Py_ssize_t c, i
    cdef floating wc
    if inner == 1:                      # (N, C): one loop over the channels, vectorized
        for c in range(k):
            out[c] = leaky_relu_fwd(x[c], w[c])
        return
    for c in range(k):
        wc = w[c]
        for i in range(inner):
            out[c * inner + i] = leaky_relu_fwd(x[c * inner + i], wc)


# grad_x = g where x > 0, else w g (nan at x = nan, as leaky_relu_backward);
# and gw[c] = sum of x g over the channel's x <= 0 (or nan), in double lanes,
# a block at a time (each x and g read before out, which may be either, is
# written).
cdef inline void _prelu_bwd_item(const floating* g, const floating* x, const floating* w,
                                 floating* out, Py_ssize_t k, Py_ssize_t inner,
                                 double* gw) noexcept nogil:
    cdef floating scratch[BLOCK]
    cdef double acc[LANES]
    cdef double comp[LANES]
    cdef Py_ssize_t c, i, j, l, n, full, q
    cdef floating wc, xv, gv
    cdef double s, t
    if inner == 1:                      # (N, C): each channel has one element here
        for c in range(k):
            xv = x[c]
            gv = g[c]
            gw[c] = <double>(<floating>0.0 if xv > 0 else xv * gv)
            out[c] = leaky_relu_bwd_x(gv, xv, w[c])
        return
    for c in range(k):
        wc = w[c]
        _lanes_zero(acc, comp)
        s = 0.0
        t = 0.0
        for j in range(0, inner, BLOCK):
            n = inner - j if inner - j < BLOCK else BLOCK
            for i in range(n):
                q = c * inner + j + i
                xv = x[q]
                gv = g[q]
                scratch[i] = <floating>0.0 if xv > 0 else xv * gv
                out[q] = leaky_relu_bwd_x(gv, xv, wc)
            full = n - n % FA_RL
            _lanes(SUM, scratch, scratch, full, acc, comp)
            for i in range(full, n):
                s += scratch[i]
        for l in range(FA_RL):
            t += acc[l]
        gw[c] = t + s


cdef inline void _shaped_item(int op, const floating* a, const floating* b, floating* out,
                              Py_ssize_t k, Py_ssize_t inner, Py_ssize_t p, Py_ssize_t o,
                              const floating* w, double* aux) noexcept nogil:
    if op == 10:
        _prelu_item(a + o * k * inner, w, out + o * k * inner, k, inner)
        return
    if op == 11:
        _prelu_bwd_item(a + o * k * inner, b + o * k * inner, w, out + o * k * inner, k, inner,
                        aux + o * k)
        return
    # op 6: out = glu(a); 7: out = glu_backward(g=a, x=b); 8: out = maxout(a, p);
    # 9: out = maxout_backward(g=a, x=b, p).  The short array is a (6, 8: out).
    cdef Py_ssize_t full = k * inner, ns = (k // p) * inner
    if op == 6:
        _glu_item(a + o * full, out + o * ns, ns)
    elif op == 7:
        _glu_bwd_item(a + o * ns, b + o * full, out + o * full, ns)
    elif op == 8:
        _maxout_item(a + o * full, out + o * ns, k, inner, p)
    else:
        _maxout_bwd_item(a + o * ns, b + o * full, out + o * full, k, inner, p)


# One work item: an outer index and a block of columns.
cdef inline void _axis_item(int op, const floating* a, const floating* b, floating* out,
                            Py_ssize_t k, Py_ssize_t inner, Py_ssize_t item) noexcept nogil:
    cdef Py_ssize_t nblocks = (inner + COLS - 1) // COLS
    cdef Py_ssize_t o = item // nblocks
    cdef Py_ssize_t c0 = (item % nblocks) * COLS
    cdef Py_ssize_t nc = inner - c0 if inner - c0 < COLS else COLS
    cdef Py_ssize_t base = o * k * inner
    if op == 0 or op == 4:
        if inner == 1:
            _softmax_row(a + base, out + base, k, op == 4)
        else:
            _softmax_cols(a + base, out + base, k, inner, c0, nc, op == 4)
    elif op == 1 or op == 5:
        if inner == 1:
            _softmax_bwd_row(a + base, b + base, out + base, k, op == 5)
        else:
            _softmax_bwd_cols(a + base, b + base, out + base, k, inner, c0, nc, op == 5)
    elif op == 2:
        if inner == 1:
            _log_softmax_row(a + base, out + base, k)
        else:
            _log_softmax_cols(a + base, out + base, k, inner, c0, nc)
    elif op == 3:
        if inner == 1:
            _log_softmax_bwd_row(a + base, b + base, out + base, k)
        else:
            _log_softmax_bwd_cols(a + base, b + base, out + base, k, inner, c0, nc)


cdef struct AxisJob:
    int op, typenum
    const void* a
    const void* b
    void* out
    const void* w
    double* aux
    Py_ssize_t k, inner, p


cdef void _axis_items(void* ctx, Py_ssize_t lo, Py_ssize_t hi) noexcept nogil:
    cdef const AxisJob* j = <const AxisJob*>ctx
    cdef Py_ssize_t i
    for i in range(lo, hi):
        if j.typenum == cnp.NPY_FLOAT:
            if j.op >= 6:
                _shaped_item(j.op, <const float*>j.a, <const float*>j.b, <float*>j.out, j.k,
                             j.inner, j.p, i, <const float*>j.w, j.aux)
            else:
                _axis_item(j.op, <const float*>j.a, <const float*>j.b, <float*>j.out, j.k,
                           j.inner, i)
        else:
            if j.op >= 6:
                _shaped_item(j.op, <const double*>j.a, <const double*>j.b, <double*>j.out, j.k,
                             j.inner, j.p, i, <const double*>j.w, j.aux)
            else:
                _axis_item(j.op, <const double*>j.a, <const double*>j.b, <double*>j.out, j.k,
                           j.inner, i)


cdef void _axis_run(AxisJob* j, Py_ssize_t outer) noexcept nogil:
    """Ops 0-5 take an item per row or block of columns, the others (glu,
    maxout, prelu) an item per outer slice; threads share the items."""
    cdef Py_ssize_t items = outer if j.op >= 6 else outer * ((j.inner + COLS - 1) // COLS)
    run_ranges(_axis_items, j, items, outer * j.k * j.inner, AXIS_HEAVY[j.op])


AXIS_OPS = {"softmax": 0, "softmax_backward": 1, "log_softmax": 2, "log_softmax_backward": 3,
            "softmin": 4, "softmin_backward": 5, "glu": 6, "glu_backward": 7,
            "maxout": 8, "maxout_backward": 9, "prelu": 10, "prelu_backward": 11}

# Which ops start threads at the heavy kernels' size (see _driver.pxi's HEAVY):
# the `cost` field of the op's registry record for that direction.
cdef bint AXIS_HEAVY[12]


def _fill_axis_heavy():
    from fastact._registry import BY_NAME
    for name, op in AXIS_OPS.items():
        rec = BY_NAME[name.removesuffix("_backward")]
        direction = rec.backward_from[0] if name.endswith("_backward") else "forward"
        AXIS_HEAVY[op] = rec.cost_of(direction) == "transcendental"


_fill_axis_heavy()


def axis_apply(int op, a, b, out, Py_ssize_t outer, Py_ssize_t k, Py_ssize_t inner, Py_ssize_t p=1,
               w=None, aux=None):
    """Run axis op `op` on C-contiguous arrays of one dtype (checked by _api).

    op 0: out = softmax(a); op 1: out = softmax_backward(g=a, y=b); ops 2, 3:
    log_softmax and its backward; ops 4, 5: softmin and its backward.
    Ops 6-9 (glu, glu_backward(g=a, x=b), maxout, maxout_backward(g=a, x=b))
    take k, inner of x, and p = 2 (glu) or pieces; out has x's shape for the
    backwards (it may be x itself), k/p along the axis for the forwards.
    Ops 12-19: the gated units (_gated.pxi).
    Ops 10, 11 (prelu(a), prelu_backward(g=a, x=b)) take w, the k channel
    slopes (C-contiguous, the same dtype); op 11 also aux, a C-contiguous
    float64 array of outer * k, which receives each outer slice's sum per
    channel of x g over x <= 0 (grad_weight's parts).
    In place is allowed (out may be a or b): each row is read before written.
    """
    cdef cnp.ndarray aa = <cnp.ndarray?>a
    cdef cnp.ndarray oa = <cnp.ndarray?>out
    cdef cnp.ndarray ba = <cnp.ndarray?>(b if b is not None else a)
    cdef cnp.ndarray wa = <cnp.ndarray?>(w if w is not None else a)
    cdef double* auxp = NULL
    if 12 <= op < 20:
        return _gated_apply(op, aa, ba, oa, outer, k, inner)
    if op == 11:
        if aux is None or cnp.PyArray_TYPE(<cnp.ndarray?>aux) != cnp.NPY_DOUBLE \
                or cnp.PyArray_SIZE(<cnp.ndarray>aux) < outer * k \
                or not cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>aux):
            raise ValueError("axis_apply: prelu_backward needs aux, float64 of outer * k")
        auxp = <double*>cnp.PyArray_DATA(<cnp.ndarray>aux)
    cdef AxisJob j
    j.op = op; j.typenum = cnp.PyArray_TYPE(aa)
    j.a = cnp.PyArray_DATA(aa); j.b = cnp.PyArray_DATA(ba); j.out = cnp.PyArray_DATA(oa)
    j.w = cnp.PyArray_DATA(wa); j.aux = auxp
    j.k = k; j.inner = inner; j.p = p
    with nogil:
        _axis_run(&j, outer)
    return out


def axis_fast(int op, a, b, out, int axis):
    """The common case of axis_apply: exact C-contiguous ndarrays of one float
    dtype, ndim >= 1, axis in range; None otherwise (fastact._api takes over)."""
    if type(a) is not cnp.ndarray or (b is not None and type(b) is not cnp.ndarray):
        return None
    cdef cnp.ndarray aa = <cnp.ndarray>a
    cdef cnp.ndarray ba = <cnp.ndarray>(b if b is not None else a)
    cdef int typenum = cnp.PyArray_TYPE(aa)
    cdef int nd = cnp.PyArray_NDIM(aa)
    if (op <= 5 and _storage(typenum) > ST_F32 and nd > 0 and (axis == -1 or axis == nd - 1)
            and cnp.PyArray_IS_C_CONTIGUOUS(aa)):
        return half_axis(op, aa, b, out)        # _half.pxi
    if ((typenum != cnp.NPY_FLOAT and typenum != cnp.NPY_DOUBLE) or nd == 0
            or not cnp.PyArray_IS_C_CONTIGUOUS(aa) or axis < -nd or axis >= nd):
        return None
    if b is not None and (cnp.PyArray_TYPE(ba) != typenum or not _same_shape(aa, ba)
                          or not cnp.PyArray_IS_C_CONTIGUOUS(ba)):
        return None
    cdef bint fortran = False
    o = _fast_out(aa, out, fortran)
    if o is None:
        return None
    cdef cnp.ndarray oa = <cnp.ndarray>o
    if not cnp.PyArray_IS_C_CONTIGUOUS(oa) or _partial_overlap(aa, oa) or _partial_overlap(ba, oa):
        return None
    if axis < 0:
        axis += nd
    cdef Py_ssize_t outer = 1, inner = 1, k = cnp.PyArray_DIM(aa, axis)
    cdef int d
    for d in range(axis):
        outer *= cnp.PyArray_DIM(aa, d)
    for d in range(axis + 1, nd):
        inner *= cnp.PyArray_DIM(aa, d)
    if outer * k * inner == 0:
        return o
    return axis_apply(op, aa, ba if b is not None else None, oa, outer, k, inner)
