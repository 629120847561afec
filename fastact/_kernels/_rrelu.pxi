# rrelu's training forward after the draws, in one pass: noise = 1 where
# x > 0, else lower + u (upper - lower) clipped to upper (u uniform in
# [0, 1): the slope NumPy's Generator.uniform would give), nan where x is nan
# (so that the backward, grad * noise, is nan there); y = x noise (x > 0:
# x * 1 = x exactly).  x in float32/float64, or float16/bfloat16 storage with
# float32 slopes (y then rounded once).

cdef inline floating _rrelu_slope(floating xv, floating uv, floating lo, floating span,
                                  floating hi) noexcept nogil:
    cdef floating d = uv * span
    d = d + lo
    d = hi if d > hi else d
    d = <floating>1.0 if xv > 0 else d
    return xv if xv != xv else d


cdef void _rrelu_train_range(int st, const char* x, const void* u, void* noise, char* y,
                             Py_ssize_t lo_i, Py_ssize_t hi_i, double lower,
                             double upper) noexcept nogil:
    cdef Py_ssize_t i, m, t
    cdef float bx[HSTEP]
    cdef float lo = <float>lower, hi = <float>upper, span = <float>(<float>upper - <float>lower)
    cdef const float* uf = <const float*>u
    cdef float* nf = <float*>noise
    cdef const double* ud = <const double*>u
    cdef double* nd = <double*>noise
    cdef const double* xd = <const double*>x
    cdef double* yd = <double*>y
    cdef const float* xf = <const float*>x
    cdef float* yf = <float*>y
    if st < 0:                          # float64
        for i in range(lo_i, hi_i):
            nd[i] = _rrelu_slope(xd[i], ud[i], lower, upper - lower, upper)
            yd[i] = xd[i] * nd[i]
    elif st == ST_F32:
        for i in range(lo_i, hi_i):
            nf[i] = _rrelu_slope(xf[i], uf[i], lo, span, hi)
            yf[i] = xf[i] * nf[i]
    else:
        i = lo_i
        while i < hi_i:
            m = hi_i - i if hi_i - i < HSTEP else HSTEP
            _hload(st, x + 2 * i, bx, m)
            for t in range(m):
                nf[i + t] = _rrelu_slope(bx[t], uf[i + t], lo, span, hi)
                bx[t] = bx[t] * nf[i + t]
            _hstore(st, bx, y + 2 * i, m)
            i += m


cdef struct RReLUJob:
    int st
    const char* x
    const void* u
    void* noise
    char* y
    double lower, upper


cdef void _rrelu_train_ranges(void* ctx, Py_ssize_t lo, Py_ssize_t hi) noexcept nogil:
    cdef const RReLUJob* j = <const RReLUJob*>ctx
    _rrelu_train_range(j.st, j.x, j.u, j.noise, j.y, lo, hi, j.lower, j.upper)


def rrelu_train(x, u, noise, y, double lower, double upper):
    """noise and y of rrelu's training forward from the uniform draws u (see
    above): x, y C-contiguous of one dtype (float32, float64, float16,
    bfloat16; y may be x); u and noise C-contiguous float64 for float64 x,
    float32 otherwise; all of one size (fastact._api prepares them)."""
    cdef cnp.ndarray xa = <cnp.ndarray?>x, ua = <cnp.ndarray?>u
    cdef cnp.ndarray na = <cnp.ndarray?>noise, ya = <cnp.ndarray?>y
    cdef int tx = cnp.PyArray_TYPE(xa)
    cdef int tu = cnp.NPY_DOUBLE if tx == cnp.NPY_DOUBLE else cnp.NPY_FLOAT
    cdef RReLUJob j
    cdef Py_ssize_t n = cnp.PyArray_SIZE(xa)
    j.st = -1 if tx == cnp.NPY_DOUBLE else _storage(tx)
    if (j.st == -1 and tx != cnp.NPY_DOUBLE) or j.st < -1 or cnp.PyArray_TYPE(ya) != tx \
            or cnp.PyArray_TYPE(ua) != tu or cnp.PyArray_TYPE(na) != tu \
            or cnp.PyArray_SIZE(ua) != n or cnp.PyArray_SIZE(na) != n or cnp.PyArray_SIZE(ya) != n \
            or not cnp.PyArray_IS_C_CONTIGUOUS(xa) or not cnp.PyArray_IS_C_CONTIGUOUS(ua) \
            or not cnp.PyArray_IS_C_CONTIGUOUS(na) or not cnp.PyArray_IS_C_CONTIGUOUS(ya):
        raise ValueError("rrelu_train: x, y of one float dtype; u, noise float64 for float64 x, "
                         "float32 otherwise; C order, one size")
    j.x = <const char*>cnp.PyArray_DATA(xa); j.u = <const void*>cnp.PyArray_DATA(ua)
    j.noise = <void*>cnp.PyArray_DATA(na); j.y = <char*>cnp.PyArray_DATA(ya)
    j.lower = lower; j.upper = upper
    if n:
        with nogil:
            run_ranges(_rrelu_train_ranges, &j, n, n, False)
    return y
