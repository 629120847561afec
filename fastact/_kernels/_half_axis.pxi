# Half-width storage (float16, bfloat16) for the functions along an axis and
# with weights: the softmax family's rows, prelu (forward and backward), glu
# and the gated units.  Each reads and writes the half type in blocks
# converted to float32 (_halfio.pxi) and runs the float32 code of _axis.pxi /
# _gated.pxi / _activations.pxd on them: the float32 result rounded once, bit
# for bit, without float32 copies of the arrays.

# The softmax family (axis ops 0-5) along the last axis on float16/bfloat16
# rows: each row converted to float32 in a buffer, the float32 row kernel run
# on it, the result converted back (no float32 copies of the arrays).

# The backwards (ops 1, 3, 5) read the half rows directly: the row's dot (or
# sum) converts as it adds, into the double lanes of _axis.pxi in the same
# order (a product of two float16 is exact in float32; of two bfloat16 it can
# underflow there, so it is formed in double), then the output in blocks of
# HSTEP: bit for bit the float32 row kernels on the converted rows.
cdef extern from *:
    """
    #if defined(__AVX512F__)
    static inline __m512 fa_h16(int st, const uint16_t* p) {
        __m256i w = _mm256_loadu_si256((const __m256i*)p);
        return st == 1 ? _mm512_cvtph_ps(w)
                       : _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(w), 16)); }
    #elif defined(__AVX2__) && defined(__F16C__)
    static inline __m256 fa_h8(int st, const uint16_t* p) {
        __m128i w = _mm_loadu_si128((const __m128i*)p);
        return st == 1 ? _mm256_cvtph_ps(w)
                       : _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(w), 16)); }
    #endif
    static inline double fa_hval(int st, const uint16_t* p, Py_ssize_t j) {
        return st == 1 ? (double)fa_f16_to_f32(p[j]) : (double)fa_bf16_to_f32(p[j]); }
    /* sum a (b NULL) or sum a b over n (a multiple of FA_RL) half elements,
       lane l taking elements j + l in order, as FA_LANES does on floats */
    static FA_NOINLINE void fa_lanes_h(int st, const uint16_t* a, const uint16_t* b, Py_ssize_t n,
                                       double* acc) {
        Py_ssize_t j;
    #if defined(__AVX512F__)
        __m512d s0 = _mm512_loadu_pd(acc), s1 = _mm512_loadu_pd(acc + 8);
        for (j = 0; j < n; j += 16) {
            __m512 va = fa_h16(st, a + j);
            if (b && st == 1) {
                __m512 p = _mm512_mul_ps(va, fa_h16(st, b + j));
                s0 = _mm512_add_pd(s0, _mm512_cvtps_pd(_mm512_castps512_ps256(p)));
                s1 = _mm512_add_pd(s1, _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(p), 1))));
            } else if (b) {
                __m512 vb = fa_h16(st, b + j);
                s0 = _mm512_fmadd_pd(_mm512_cvtps_pd(_mm512_castps512_ps256(va)),
                                     _mm512_cvtps_pd(_mm512_castps512_ps256(vb)), s0);
                s1 = _mm512_fmadd_pd(_mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(va), 1))),
                                     _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(vb), 1))), s1);
            } else {
                s0 = _mm512_add_pd(s0, _mm512_cvtps_pd(_mm512_castps512_ps256(va)));
                s1 = _mm512_add_pd(s1, _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(va), 1))));
            }
        }
        _mm512_storeu_pd(acc, s0); _mm512_storeu_pd(acc + 8, s1);
    #elif defined(__AVX2__) && defined(__F16C__)
        __m256d s0 = _mm256_loadu_pd(acc), s1 = _mm256_loadu_pd(acc + 4);
        for (j = 0; j < n; j += 8) {
            __m256 va = fa_h8(st, a + j);
            if (b && st == 1) {
                __m256 p = _mm256_mul_ps(va, fa_h8(st, b + j));
                s0 = _mm256_add_pd(s0, _mm256_cvtps_pd(_mm256_castps256_ps128(p)));
                s1 = _mm256_add_pd(s1, _mm256_cvtps_pd(_mm256_extractf128_ps(p, 1)));
            } else if (b) {
                __m256 vb = fa_h8(st, b + j);
                /* products of floats are exact in double: mul then add is the fma */
                s0 = _mm256_add_pd(s0, _mm256_mul_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(va)),
                                                     _mm256_cvtps_pd(_mm256_castps256_ps128(vb))));
                s1 = _mm256_add_pd(s1, _mm256_mul_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(va, 1)),
                                                     _mm256_cvtps_pd(_mm256_extractf128_ps(vb, 1))));
            } else {
                s0 = _mm256_add_pd(s0, _mm256_cvtps_pd(_mm256_castps256_ps128(va)));
                s1 = _mm256_add_pd(s1, _mm256_cvtps_pd(_mm256_extractf128_ps(va, 1)));
            }
        }
        _mm256_storeu_pd(acc, s0); _mm256_storeu_pd(acc + 4, s1);
    #else
        int l;
        for (j = 0; j < n; j += FA_RL)
            for (l = 0; l < FA_RL; l++)
                acc[l] += fa_hval(st, a, j + l) * (b ? fa_hval(st, b, j + l) : 1.0);
    #endif
    }
    /* the maximum of a half row as a float (nan: as _row_max), on the bits:
       16-bit keys that order like the values */
    static inline float fa_row_max_h(int st, const uint16_t* y, Py_ssize_t k) {
        Py_ssize_t j; int16_t m = INT16_MIN, v; uint16_t u;
        for (j = 0; j < k; j++) {
            v = (int16_t)y[j];
            v = v ^ ((v >> 15) & 0x7fff);
            m = v > m ? v : m;
        }
        u = (uint16_t)(m ^ ((m >> 15) & 0x7fff));
        return st == 1 ? fa_f16_to_f32(u) : fa_bf16_to_f32(u); }
    """
    void fa_lanes_h(int st, const uint16_t* a, const uint16_t* b, Py_ssize_t n, double* acc) noexcept nogil
    double fa_hval(int st, const uint16_t* p, Py_ssize_t j) noexcept nogil
    float fa_row_max_h(int st, const uint16_t* y, Py_ssize_t k) noexcept nogil


cdef double _row_reduce_h(int st, const char* a, const char* b, Py_ssize_t k, double* c) noexcept nogil:
    """_row_reduce(SUM or DOT) of half rows (b NULL: the sum of a)."""
    cdef double acc[LANES]
    cdef double comp[LANES]
    cdef double s = 0.0
    cdef Py_ssize_t j, full = k - k % FA_RL
    c[0] = 0.0
    _lanes_zero(acc, comp)
    fa_lanes_h(st, <const uint16_t*>a, <const uint16_t*>b, full, acc)
    for j in range(full, k):
        _add_compensated(&s, c, fa_hval(st, <const uint16_t*>a, j)
                         * (fa_hval(st, <const uint16_t*>b, j) if b != NULL else 1.0))
    return _lanes_total(acc, comp, s, c)


cdef void _half_bwd_row(int op, int st, const char* g, const char* y, char* out,
                        Py_ssize_t k) noexcept nogil:
    """Ops 1, 3, 5 (softmax, log_softmax, softmin backward from y) on one half
    row: _softmax_bwd_row and _log_softmax_bwd_row."""
    cdef float bg[HSTEP]
    cdef float by[HSTEP]
    cdef double c
    cdef float d
    cdef bint neg = False
    cdef Py_ssize_t i = 0, m, t
    if op == 3:
        d = <float>_row_reduce_h(st, g, NULL, k, &c)
        neg = fa_row_max_h(st, <const uint16_t*>y, k) <= 0
    else:
        d = <float>_row_reduce_h(st, g, y, k, &c)
    while i < k:
        m = k - i if k - i < HSTEP else HSTEP
        _hload(st, g + 2 * i, bg, m)
        _hload(st, y + 2 * i, by, m)
        if op == 1:
            for t in range(m):
                bg[t] = by[t] * (bg[t] - d)
        elif op == 5:
            for t in range(m):
                bg[t] = by[t] * (d - bg[t])
        elif neg:
            for t in range(m):
                bg[t] = mul_add(-exp_neg(by[t]), d, bg[t])
        else:
            for t in range(m):
                bg[t] = mul_add(-exp_(by[t]), d, bg[t])
        _hstore(st, bg, out + 2 * i, m)
        i += m


cdef struct HalfAxisJob:
    int op, st, failed
    const char* a
    const char* b
    char* out
    Py_ssize_t k


cdef void _half_axis_rows(void* ctx, Py_ssize_t lo, Py_ssize_t hi) noexcept nogil:
    cdef HalfAxisJob* j = <HalfAxisJob*>ctx
    cdef Py_ssize_t r, k = j.k
    if j.op & 1:
        for r in range(lo, hi):
            _half_bwd_row(j.op, j.st, j.a + r * k * 2, j.b + r * k * 2, j.out + r * k * 2, k)
        return
    cdef float* buf = <float*>malloc(3 * k * sizeof(float))
    if buf == NULL:
        j.failed = 1
        return
    for r in range(lo, hi):
        _hload(j.st, j.a + r * k * 2, buf, k)
        if j.op & 1:                        # the backwards: (g, y)
            _hload(j.st, j.b + r * k * 2, buf + k, k)
        _axis_item(j.op, <const float*>buf, <const float*>(buf + k), buf + 2 * k, k, 1, 0)
        _hstore(j.st, buf + 2 * k, j.out + r * k * 2, k)
    free(buf)


cdef object half_axis(int op, cnp.ndarray aa, object b, object out):
    """axis_fast() for ops 0-5 along the last axis of float16/bfloat16 arrays
    (a, b and out of one dtype, C-contiguous); None when the call needs
    preparing."""
    cdef HalfAxisJob j
    cdef int typenum = cnp.PyArray_TYPE(aa)
    cdef int nd = cnp.PyArray_NDIM(aa)
    cdef cnp.ndarray ba = aa
    if b is not None:
        if type(b) is not cnp.ndarray:
            return None
        ba = <cnp.ndarray>b
        if (cnp.PyArray_TYPE(ba) != typenum or not _same_shape(aa, ba)
                or not cnp.PyArray_IS_C_CONTIGUOUS(ba)):
            return None
    o = _fast_out(aa, out, False)
    if o is None:
        return None
    cdef cnp.ndarray oa = <cnp.ndarray>o
    if not cnp.PyArray_IS_C_CONTIGUOUS(oa) or _partial_overlap(aa, oa) or _partial_overlap(ba, oa):
        return None
    j.k = cnp.PyArray_DIM(aa, nd - 1)
    cdef Py_ssize_t rows = cnp.PyArray_SIZE(aa) // j.k if j.k else 0
    if rows == 0:
        return o
    j.op = op; j.st = _storage(typenum); j.failed = 0
    j.a = <const char*>cnp.PyArray_DATA(aa); j.b = <const char*>cnp.PyArray_DATA(ba)
    j.out = <char*>cnp.PyArray_DATA(oa)
    with nogil:
        run_ranges(_half_axis_rows, &j, rows, rows * j.k, AXIS_HEAVY[op])
    if j.failed:
        raise MemoryError(f"fastact: no memory for a row buffer of {3 * j.k} float32")
    return o


# prelu on float16/bfloat16: each (outer, channel) slice of `inner` elements
# through leaky_relu's half-width loop with the channel's slope.

cdef struct HalfPreluJob:
    int st, kid
    const char* x
    char* out
    const float* w
    Py_ssize_t k, inner


cdef void _half_prelu_slices(void* ctx, Py_ssize_t lo, Py_ssize_t hi) noexcept nogil:
    cdef const HalfPreluJob* j = <const HalfPreluJob*>ctx
    cdef double p[3]
    cdef Py_ssize_t s
    p[1] = 0.0; p[2] = 0.0
    for s in range(lo, hi):
        p[0] = j.w[s % j.k]
        FWD_H[j.kid](j.x + s * j.inner * 2, j.st, j.out + s * j.inner * 2, j.st, j.inner, p)


def half_prelu(x, w, out, Py_ssize_t outer, Py_ssize_t k, Py_ssize_t inner):
    """prelu(x) into out for C-contiguous float16/bfloat16 x and out of one
    dtype (fastact._api checks), w the k channel slopes as C-contiguous
    float32: leaky_relu's half-width loop per channel slice, the float32
    result rounded once."""
    cdef cnp.ndarray xa = <cnp.ndarray?>x
    cdef cnp.ndarray oa = <cnp.ndarray?>out
    cdef cnp.ndarray wa = <cnp.ndarray?>w
    cdef HalfPreluJob j
    j.st = _storage(cnp.PyArray_TYPE(xa))
    if (j.st <= ST_F32 or cnp.PyArray_TYPE(oa) != cnp.PyArray_TYPE(xa)
            or cnp.PyArray_TYPE(wa) != cnp.NPY_FLOAT or cnp.PyArray_SIZE(wa) < k
            or cnp.PyArray_SIZE(xa) != outer * k * inner or cnp.PyArray_SIZE(oa) != outer * k * inner
            or not cnp.PyArray_IS_C_CONTIGUOUS(xa) or not cnp.PyArray_IS_C_CONTIGUOUS(oa)
            or not cnp.PyArray_IS_C_CONTIGUOUS(wa)):
        raise ValueError("half_prelu: x, out float16/bfloat16 of one dtype, w float32, C order")
    j.kid = KERNEL_IDS["leaky_relu"]
    j.x = <const char*>cnp.PyArray_DATA(xa); j.out = <char*>cnp.PyArray_DATA(oa)
    j.w = <const float*>cnp.PyArray_DATA(wa)
    j.k = k; j.inner = inner
    with nogil:
        run_ranges(_half_prelu_slices, &j, outer * k, outer * k * inner, HEAVY[0][j.kid])
    return out


# prelu on float16/bfloat16 with short channel slices (inner < 64, as (N, C)
# after a dense layer): rows of K = channels * inner elements, each slope
# given per element of the row (wrow, float32), blocks of HSTEP converted.

cdef struct HalfPreluRowsJob:
    int st
    const char* x
    char* out
    const float* w
    Py_ssize_t k


cdef void _half_prelu_rows(void* ctx, Py_ssize_t lo, Py_ssize_t hi) noexcept nogil:
    cdef const HalfPreluRowsJob* j = <const HalfPreluRowsJob*>ctx
    cdef float b[HSTEP]
    cdef Py_ssize_t r, c, i, m, k = j.k
    for r in range(lo, hi):
        c = 0
        while c < k:
            m = k - c if k - c < HSTEP else HSTEP
            _hload(j.st, j.x + (r * k + c) * 2, b, m)
            for i in range(m):
                b[i] = leaky_relu_fwd(b[i], j.w[c + i])
            _hstore(j.st, b, j.out + (r * k + c) * 2, m)
            c += m


def half_prelu_rows(x, wrow, out, Py_ssize_t outer, Py_ssize_t k):
    """prelu(x) into out for C-contiguous float16/bfloat16 x and out of one
    dtype seen as (outer, k), wrow the k slopes of a row (C-contiguous
    float32): the float32 result rounded once."""
    cdef cnp.ndarray xa = <cnp.ndarray?>x
    cdef cnp.ndarray oa = <cnp.ndarray?>out
    cdef cnp.ndarray wa = <cnp.ndarray?>wrow
    cdef HalfPreluRowsJob j
    j.st = _storage(cnp.PyArray_TYPE(xa))
    if (j.st <= ST_F32 or cnp.PyArray_TYPE(oa) != cnp.PyArray_TYPE(xa)
            or cnp.PyArray_TYPE(wa) != cnp.NPY_FLOAT or cnp.PyArray_SIZE(wa) != k
            or cnp.PyArray_SIZE(xa) != outer * k or cnp.PyArray_SIZE(oa) != outer * k
            or not cnp.PyArray_IS_C_CONTIGUOUS(xa) or not cnp.PyArray_IS_C_CONTIGUOUS(oa)
            or not cnp.PyArray_IS_C_CONTIGUOUS(wa)):
        raise ValueError("half_prelu_rows: x, out float16/bfloat16 of one dtype, wrow float32 "
                         "of k, C order")
    j.x = <const char*>cnp.PyArray_DATA(xa); j.out = <char*>cnp.PyArray_DATA(oa)
    j.w = <const float*>cnp.PyArray_DATA(wa); j.k = k
    if outer * k == 0:
        return out
    cdef bint heavy = HEAVY[0][KERNEL_IDS["leaky_relu"]]
    with nogil:
        run_ranges(_half_prelu_rows, &j, outer, outer * k, heavy)
    return out

# prelu_backward on float16/bfloat16 (op 11 of _axis.pxi on half storage):
# the same blocks of BLOCK elements, converted in and out, so that grad_x and
# each outer slice's per-channel sums of x g over x <= 0 are those of the
# float32 code on the converted arrays, bit for bit.

cdef struct HalfPreluBwdJob:
    int st
    const char* g
    const char* x
    char* out
    const float* w
    double* gw                      # outer * k
    Py_ssize_t k, inner


cdef void _half_prelu_bwd_item(const HalfPreluBwdJob* j, Py_ssize_t o) noexcept nogil:
    cdef float bx[BLOCK]
    cdef float bg[BLOCK]
    cdef float bo[BLOCK]
    cdef double acc[LANES]
    cdef double comp[LANES]
    cdef Py_ssize_t c, i, b, l, n, full, base, k = j.k, inner = j.inner
    cdef float xv, gv, wc
    cdef double s, t
    # locals, not j's fields: the stores through gw would make gcc reload
    # j.w every element and keep the loop scalar
    cdef double* gw = j.gw + o * k
    cdef const float* w = j.w
    base = o * k * inner
    if inner == 1:                      # (N, C): a row of channels, in blocks
        for b in range(0, k, BLOCK):
            n = k - b if k - b < BLOCK else BLOCK
            _hload(j.st, j.x + 2 * (base + b), bx, n)
            _hload(j.st, j.g + 2 * (base + b), bg, n)
            for i in range(n):
                xv = bx[i]
                gv = bg[i]
                gw[b + i] = <double>(<float>0.0 if xv > 0 else xv * gv)
                bo[i] = leaky_relu_bwd_x(gv, xv, w[b + i])
            _hstore(j.st, bo, j.out + 2 * (base + b), n)
        return
    for c in range(k):
        wc = w[c]
        _lanes_zero(acc, comp)
        s = 0.0
        t = 0.0
        for b in range(0, inner, BLOCK):
            n = inner - b if inner - b < BLOCK else BLOCK
            _hload(j.st, j.x + 2 * (base + c * inner + b), bx, n)
            _hload(j.st, j.g + 2 * (base + c * inner + b), bg, n)
            for i in range(n):
                xv = bx[i]
                gv = bg[i]
                bo[i] = leaky_relu_bwd_x(gv, xv, wc)
                bx[i] = <float>0.0 if xv > 0 else xv * gv
            _hstore(j.st, bo, j.out + 2 * (base + c * inner + b), n)
            full = n - n % FA_RL
            _lanes(SUM, <const float*>bx, <const float*>bx, full, acc, comp)
            for i in range(full, n):
                s += bx[i]
        for l in range(FA_RL):
            t += acc[l]
        gw[c] = t + s


cdef void _half_prelu_bwd_items(void* ctx, Py_ssize_t lo, Py_ssize_t hi) noexcept nogil:
    cdef Py_ssize_t o
    for o in range(lo, hi):
        _half_prelu_bwd_item(<const HalfPreluBwdJob*>ctx, o)


def half_prelu_backward(g, x, w, out, parts, Py_ssize_t outer, Py_ssize_t k, Py_ssize_t inner):
    """grad_x of prelu into out, and into parts (float64, C-contiguous, outer *
    k) each outer slice's per-channel sum of x g over x <= 0, for C-contiguous
    float16/bfloat16 g, x and out of one dtype (out may be g or x), w the k
    slopes as float32 (fastact._api checks)."""
    cdef cnp.ndarray ga = <cnp.ndarray?>g, xa = <cnp.ndarray?>x, oa = <cnp.ndarray?>out
    cdef cnp.ndarray wa = <cnp.ndarray?>w, pa = <cnp.ndarray?>parts
    cdef HalfPreluBwdJob j
    cdef Py_ssize_t n = outer * k * inner
    j.st = _storage(cnp.PyArray_TYPE(xa))
    if (j.st <= ST_F32 or cnp.PyArray_TYPE(ga) != cnp.PyArray_TYPE(xa)
            or cnp.PyArray_TYPE(oa) != cnp.PyArray_TYPE(xa) or cnp.PyArray_TYPE(wa) != cnp.NPY_FLOAT
            or cnp.PyArray_TYPE(pa) != cnp.NPY_DOUBLE or cnp.PyArray_SIZE(wa) != k
            or cnp.PyArray_SIZE(pa) != outer * k or cnp.PyArray_SIZE(xa) != n
            or cnp.PyArray_SIZE(ga) != n or cnp.PyArray_SIZE(oa) != n
            or not cnp.PyArray_IS_C_CONTIGUOUS(xa) or not cnp.PyArray_IS_C_CONTIGUOUS(ga)
            or not cnp.PyArray_IS_C_CONTIGUOUS(oa) or not cnp.PyArray_IS_C_CONTIGUOUS(wa)
            or not cnp.PyArray_IS_C_CONTIGUOUS(pa)):
        raise ValueError("half_prelu_backward: g, x, out float16/bfloat16 of one dtype, w "
                         "float32 of k, parts float64 of outer * k, C order")
    j.g = <const char*>cnp.PyArray_DATA(ga); j.x = <const char*>cnp.PyArray_DATA(xa)
    j.out = <char*>cnp.PyArray_DATA(oa); j.w = <const float*>cnp.PyArray_DATA(wa)
    j.gw = <double*>cnp.PyArray_DATA(pa); j.k = k; j.inner = inner
    if n == 0:
        return out
    cdef bint heavy = HEAVY[1][KERNEL_IDS["leaky_relu"]]
    with nogil:
        run_ranges(_half_prelu_bwd_items, &j, outer, n, heavy)
    return out

# glu and the gated units (ops 6, 7, 12-19) on float16/bfloat16: x's halves a
# and b pair element t of a with element t of b, so each run of positions
# goes through float32 blocks of HSTEP (a's and b's side by side, as one
# outer slice of x of 2 * HSTEP): the float32 code of _axis.pxi / _gated.pxi
# computes, rounded once into the half type.  g, x and out of one half dtype.

cdef struct HalfPairJob:
    int op, st
    const char* g
    const char* x
    char* out
    Py_ssize_t h, n, chunk


cdef void _pair_block_h(int op, int st, const char* g, const char* a, const char* b, char* oa,
                        char* ob, Py_ssize_t m) noexcept nogil:
    """m positions: a, b (and g for a backward) in, the forward's output at
    oa, or the backward's a and b halves at oa and ob."""
    cdef float fg[HSTEP]
    cdef float fx[2 * HSTEP]
    cdef float fo[2 * HSTEP]
    cdef Py_ssize_t i = 0, c
    while i < m:
        c = m - i if m - i < HSTEP else HSTEP
        _hload(st, a + 2 * i, fx, c)
        _hload(st, b + 2 * i, fx + c, c)
        if op % 2 == 1:
            _hload(st, g + 2 * i, fg, c)
        if op == 6:
            _glu_item(<const float*>fx, fo, c)
        elif op == 7:
            _glu_bwd_item(<const float*>fg, <const float*>fx, fo, c)
        elif op % 2 == 0:
            _gated_fwd_block(op, <const float*>fx, <const float*>(fx + c), fo, c)
        else:
            _gated_bwd_block(op, <const float*>fg, <const float*>fx, <const float*>(fx + c),
                             fo, fo + c, c)
        _hstore(st, fo, oa + 2 * i, c)
        if op % 2 == 1:
            _hstore(st, fo + c, ob + 2 * i, c)
        i += c


cdef void _pair_range_h(const HalfPairJob* j, Py_ssize_t lo, Py_ssize_t hi) noexcept nogil:
    """Positions [lo, hi) of the flat (outer, h) output (forward) or grad (backward)."""
    cdef Py_ssize_t o, t, m, h = j.h
    cdef const char* x
    while lo < hi:
        o = lo // h
        t = lo - o * h
        m = h - t if h - t < hi - lo else hi - lo
        x = j.x + 2 * (2 * o * h + t)
        if j.op % 2 == 0:
            _pair_block_h(j.op, j.st, NULL, x, x + 2 * h, j.out + 2 * (o * h + t), NULL, m)
        else:
            _pair_block_h(j.op, j.st, j.g + 2 * (o * h + t), x, x + 2 * h,
                          j.out + 2 * (2 * o * h + t), j.out + 2 * ((2 * o + 1) * h + t), m)
        lo += m


cdef void _pair_item_h(void* ctx, Py_ssize_t i) noexcept nogil:
    cdef const HalfPairJob* j = <const HalfPairJob*>ctx
    cdef Py_ssize_t lo = i * j.chunk
    _pair_range_h(j, lo, lo + j.chunk if lo + j.chunk < j.n else j.n)


def half_pair(int op, g, x, out, Py_ssize_t outer, Py_ssize_t k, Py_ssize_t inner):
    """glu (op 6), glu_backward (7) or a gated unit (12-19) on C-contiguous
    float16/bfloat16 arrays of one dtype (fastact._api checks): x of (outer,
    k, inner), g (backwards) and out as axis_apply's.  out may be x for a
    backward (each position is read before written)."""
    cdef cnp.ndarray xa = <cnp.ndarray?>x
    cdef cnp.ndarray oa = <cnp.ndarray?>out
    cdef HalfPairJob j
    j.op = op; j.st = _storage(cnp.PyArray_TYPE(xa))
    if (j.st <= ST_F32 or not (op == 6 or op == 7 or 12 <= op < 20) or k % 2
            or cnp.PyArray_TYPE(oa) != cnp.PyArray_TYPE(xa) or cnp.PyArray_SIZE(xa) != outer * k * inner
            or not cnp.PyArray_IS_C_CONTIGUOUS(xa) or not cnp.PyArray_IS_C_CONTIGUOUS(oa)):
        raise ValueError("half_pair: x, out float16/bfloat16 of one dtype, C order, k even")
    j.h = (k // 2) * inner
    j.n = outer * j.h
    j.x = <const char*>cnp.PyArray_DATA(xa); j.out = <char*>cnp.PyArray_DATA(oa); j.g = NULL
    if op % 2 == 1:
        ga = <cnp.ndarray?>g
        if cnp.PyArray_TYPE(ga) != cnp.PyArray_TYPE(xa) or cnp.PyArray_SIZE(ga) != j.n \
                or not cnp.PyArray_IS_C_CONTIGUOUS(ga):
            raise ValueError("half_pair: g of x's dtype, C order, the output's size")
        j.g = <const char*>cnp.PyArray_DATA(ga)
    if j.n == 0:
        return out
    # the work per position: the gate's (heavy but for relu), on 2 elements of x
    cdef int nt = threads_for(2 * j.n, op < 18)
    with nogil:
        if nt <= 1:
            _pair_range_h(&j, 0, j.n)
        else:
            j.chunk = chunk_for(j.n, nt, HSTEP)
            run(_pair_item_h, &j, (j.n + j.chunk - 1) // j.chunk, nt)
    return out
