# Bias + activation, and the forward that keeps the derivative: the generic
# path of every elementwise kernel (the loops NAME_fwdb / NAME_bwdb_x|y are
# generated in _loops.pxi).  x is seen as rows of k elements, k the length of
# the bias (k = 1: one bias for every element).  fastact._api prepares the
# arrays (C-contiguous, one float dtype) and sums the backward's parts.

ctypedef void (*fwdb_f32_t)(const float*, const float*, float*, float*, Py_ssize_t, Py_ssize_t,
                            Py_ssize_t, const double*) noexcept nogil
ctypedef void (*fwdb_f64_t)(const double*, const double*, double*, double*, Py_ssize_t,
                            Py_ssize_t, Py_ssize_t, const double*) noexcept nogil
ctypedef void (*bwdb_f32_t)(const float*, const float*, const float*, float*, double*, double*,
                            Py_ssize_t, Py_ssize_t, Py_ssize_t, const double*) noexcept nogil
ctypedef void (*bwdb_f64_t)(const double*, const double*, const double*, double*, double*,
                            double*, Py_ssize_t, Py_ssize_t, Py_ssize_t, const double*) noexcept nogil

cdef fwdb_f32_t FWDB_F32[MAX_KERNELS]
cdef fwdb_f64_t FWDB_F64[MAX_KERNELS]
cdef bwdb_f32_t BWDB_F32[2][MAX_KERNELS]           # [0]: from x, [1]: from y
cdef bwdb_f64_t BWDB_F64[2][MAX_KERNELS]

# The bias gradient sums dL/dx over rows in double (float32's sum is the exact
# sum rounded once, in practice): BIAS_BLOCK rows per column into a block,
# each block then added to the total, so that the error grows with
# BIAS_BLOCK plus the number of blocks, not with the number of rows.
DEF BIAS_BLOCK = 64
# One bias for every element (k = 1): blocks of SUM_BLOCK (still in L1 when
# summed) added up by _row_reduce (_axis.pxi: independent double lanes, which
# vectorize; one running sum took 6.6 ns/element, its adds in sequence).
DEF SUM_BLOCK = 2048


cdef struct BiasJob:
    int kid, form, typenum
    const char* g                   # x for a forward
    const char* a
    const char* b                   # NULL: no bias
    char* out
    char* d                         # NULL: no derivative
    double* parts                   # backward: per item, acc then blk (2 k doubles)
    Py_ssize_t n, k, chunk          # chunk: elements (forward) or rows (backward)
    double p[3]


cdef void _fwdb_part(const BiasJob* j, Py_ssize_t lo, Py_ssize_t hi) noexcept nogil:
    if j.typenum == cnp.NPY_FLOAT:
        FWDB_F32[j.kid](<const float*>j.g, <const float*>j.b, <float*>j.out, <float*>j.d,
                        lo, hi, j.k, j.p)
    else:
        FWDB_F64[j.kid](<const double*>j.g, <const double*>j.b, <double*>j.out, <double*>j.d,
                        lo, hi, j.k, j.p)


# out = g * d over whole rows [lo, hi) of k, summed per column into acc as
# the bias backward does (kid -1: fastact.apply_derivative).
cdef void _mul_colsum(const floating* g, const floating* d, floating* out, double* acc,
                      double* blk, Py_ssize_t lo, Py_ssize_t hi, Py_ssize_t k) noexcept nogil:
    cdef Py_ssize_t r, i, j, e
    cdef floating v
    cdef double s, c
    if k == 1:
        i = lo
        while i < hi:
            e = i + SUM_BLOCK if i + SUM_BLOCK < hi else hi
            for j in range(i, e):
                out[j] = g[j] * d[j]
            s = _row_reduce(SUM, out + i, out + i, e - i, &c)
            acc[0] += s + c
            i = e
        return
    for r in range(lo, hi):
        j = r * k
        for i in range(k):
            v = g[j + i] * d[j + i]
            out[j + i] = v
            blk[i] += v
        if (r - lo) % BIAS_BLOCK == BIAS_BLOCK - 1 or r == hi - 1:
            for i in range(k):
                acc[i] += blk[i]
                blk[i] = 0.0


cdef void _bwdb_part(const BiasJob* j, Py_ssize_t item, Py_ssize_t lo, Py_ssize_t hi) noexcept nogil:
    cdef double* acc = j.parts + 2 * item * j.k
    if j.kid < 0:
        if j.typenum == cnp.NPY_FLOAT:
            _mul_colsum(<const float*>j.g, <const float*>j.a, <float*>j.out, acc, acc + j.k,
                        lo, hi, j.k)
        else:
            _mul_colsum(<const double*>j.g, <const double*>j.a, <double*>j.out, acc, acc + j.k,
                        lo, hi, j.k)
    elif j.typenum == cnp.NPY_FLOAT:
        BWDB_F32[j.form][j.kid](<const float*>j.g, <const float*>j.a, <const float*>j.b,
                                <float*>j.out, acc, acc + j.k, lo, hi, j.k, j.p)
    else:
        BWDB_F64[j.form][j.kid](<const double*>j.g, <const double*>j.a, <const double*>j.b,
                                <double*>j.out, acc, acc + j.k, lo, hi, j.k, j.p)


cdef void _fwdb_item(void* ctx, Py_ssize_t i) noexcept nogil:
    cdef const BiasJob* j = <const BiasJob*>ctx
    cdef Py_ssize_t lo = i * j.chunk
    _fwdb_part(j, lo, lo + j.chunk if lo + j.chunk < j.n else j.n)


cdef void _bwdb_item(void* ctx, Py_ssize_t i) noexcept nogil:
    cdef const BiasJob* j = <const BiasJob*>ctx
    cdef Py_ssize_t rows = j.n // j.k
    cdef Py_ssize_t lo = i * j.chunk
    _bwdb_part(j, i, lo, lo + j.chunk if lo + j.chunk < rows else rows)


cdef inline bint _c_float(object v, int typenum, Py_ssize_t n):
    return (type(v) is cnp.ndarray and cnp.PyArray_TYPE(<cnp.ndarray>v) == typenum
            and cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>v) and cnp.PyArray_SIZE(<cnp.ndarray>v) == n)


cdef inline char* _data(object v):
    return NULL if v is None else <char*>cnp.PyArray_DATA(<cnp.ndarray>v)


def bias_forward(int kid, x, b, out, d, double p0=0.0, double p1=0.0, double p2=0.0):
    """out = act(x + b) (b None: act(x)), and d = act'(x + b) if d is not None.

    x, out, d: C-contiguous ndarrays of one float dtype and one size (out may
    be x); b: C-contiguous of that dtype, k entries, k dividing x's size
    (fastact._api checks all of it)."""
    cdef cnp.ndarray xa = <cnp.ndarray?>x
    cdef int typenum = cnp.PyArray_TYPE(xa)
    cdef Py_ssize_t n = cnp.PyArray_SIZE(xa)
    cdef Py_ssize_t k = n if b is None else cnp.PyArray_SIZE(<cnp.ndarray?>b)
    if ((typenum != cnp.NPY_FLOAT and typenum != cnp.NPY_DOUBLE) or not _c_float(x, typenum, n)
            or not _c_float(out, typenum, n) or (d is not None and not _c_float(d, typenum, n))
            or (b is not None and (not _c_float(b, typenum, k) or k == 0 or n % k))):
        raise ValueError("bias_forward: arrays not prepared")
    cdef BiasJob j
    j.kid = kid; j.form = 0; j.typenum = typenum
    j.g = _data(x); j.a = NULL; j.b = _data(b); j.out = _data(out); j.d = _data(d)
    j.parts = NULL; j.n = n; j.k = k if k > 0 else 1
    j.p[0] = p0; j.p[1] = p1; j.p[2] = p2
    if n == 0:
        return out
    cdef int nt
    with nogil:
        nt = threads_for(n, HEAVY[0][kid] or (j.d != NULL and HEAVY[1][kid]))
        if nt <= 1:
            _fwdb_part(&j, 0, n)
        else:
            j.chunk = chunk_for(n, nt, 64)
            run(_fwdb_item, &j, (n + j.chunk - 1) // j.chunk, nt)
    return out


def bias_backward(int kid, int form, g, a, b, out, double p0=0.0, double p1=0.0, double p2=0.0):
    """out = the backward of act(x + b) from x (form 0; a is x) or from y
    (form 1; a is y); kid -1: out = g * a (a the saved derivative); returns the parts of grad_bias: a float64 array
    (items, k) whose sum over axis 0 is grad_bias (sum over rows of out).

    g, a, out: C-contiguous, one float dtype, one size (out may be g); b:
    k entries of that dtype, k dividing the size."""
    cdef cnp.ndarray ga = <cnp.ndarray?>g
    cdef int typenum = cnp.PyArray_TYPE(ga)
    cdef Py_ssize_t n = cnp.PyArray_SIZE(ga)
    cdef Py_ssize_t k = cnp.PyArray_SIZE(<cnp.ndarray?>b)
    if ((typenum != cnp.NPY_FLOAT and typenum != cnp.NPY_DOUBLE) or not _c_float(g, typenum, n)
            or not _c_float(a, typenum, n) or not _c_float(out, typenum, n)
            or not _c_float(b, typenum, k) or k == 0 or n % k or form < 0 or form > 1):
        raise ValueError("bias_backward: arrays not prepared")
    cdef Py_ssize_t rows = n // k
    cdef int nt = threads_for(n, kid >= 0 and HEAVY[1 + form][kid])
    if nt > rows:
        nt = <int>rows if rows > 0 else 1
    cdef BiasJob j
    j.kid = kid; j.form = form; j.typenum = typenum
    j.g = _data(g); j.a = _data(a); j.b = _data(b); j.out = _data(out); j.d = NULL
    j.n = n; j.k = k
    j.p[0] = p0; j.p[1] = p1; j.p[2] = p2
    j.chunk = rows if nt <= 1 else chunk_for(rows, nt, 1)
    cdef Py_ssize_t items = (rows + j.chunk - 1) // j.chunk if rows else 0
    cdef cnp.npy_intp dims[3]
    dims[0] = items; dims[1] = 2; dims[2] = k
    parts = cnp.PyArray_ZEROS(3, dims, cnp.NPY_DOUBLE, 0)
    j.parts = <double*>cnp.PyArray_DATA(<cnp.ndarray>parts)
    if items == 0:
        return parts[:, 0]
    with nogil:
        if items == 1:
            _bwdb_part(&j, 0, 0, rows)
        else:
            run(_bwdb_item, &j, items, nt)
    return parts[:, 0]
