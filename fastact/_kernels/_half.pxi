# Half-width storage (float16, bfloat16) for the elementwise kernels.
#
# Each operand is stored as float32, float16 or bfloat16 (_halfio.pxi); the
# float32 kernels compute, inlined into the generated half-width loops
# (_loops.pxi: NAME_fwd_h, NAME_bwd_x_h, NAME_bwd_y_h), one per kernel and
# direction, each taking any storage for each operand.  This covers mixed
# precision (half x or y with a float32 grad, a float32 result from half
# input).  Threads split the arrays as _driver.pxi does.

cdef struct HalfJob:
    int kid, form                   # form -1: forward; 0, 1: backward from x, y
    int sg, sa, so                  # storage of g (x for a forward), a, out
    char* g
    char* a
    char* out
    Py_ssize_t n, chunk
    const double* p


cdef void _half_mul(const char* g, int sg, const char* a, int sa, char* out, int so,
                    Py_ssize_t n) noexcept nogil:
    """out = g * a in float32, rounded once (kid -1: rrelu's training backward)."""
    cdef float b[HSTEP]
    cdef float c[HSTEP]
    cdef Py_ssize_t i = 0, k, m, wg = _width(sg), wa = _width(sa), wo = _width(so)
    while i < n:
        m = n - i if n - i < HSTEP else HSTEP
        _hload(sg, g + i * wg, b, m)
        _hload(sa, a + i * wa, c, m)
        for k in range(m):
            b[k] = b[k] * c[k]
        _hstore(so, b, out + i * wo, m)
        i += m


cdef void _half_part(const HalfJob* j, Py_ssize_t lo, Py_ssize_t m) noexcept nogil:
    cdef Py_ssize_t wg = _width(j.sg), wa = _width(j.sa), wo = _width(j.so)
    if j.kid < 0:
        _half_mul(j.g + lo * wg, j.sg, j.a + lo * wa, j.sa, j.out + lo * wo, j.so, m)
    elif j.form < 0:
        FWD_H[j.kid](j.g + lo * wg, j.sg, j.out + lo * wo, j.so, m, j.p)
    else:
        BWD_H[j.form][j.kid](j.g + lo * wg, j.sg, j.a + lo * wa, j.sa, j.out + lo * wo, j.so,
                             m, j.p)


cdef void _half_item(void* ctx, Py_ssize_t i) noexcept nogil:
    cdef HalfJob* j = <HalfJob*>ctx
    cdef Py_ssize_t lo = i * j.chunk
    _half_part(j, lo, j.n - lo if j.n - lo < j.chunk else j.chunk)


cdef void _half_run(HalfJob* j) noexcept nogil:
    cdef int nt = threads_for(j.n, j.kid >= 0 and HEAVY[1 + j.form][j.kid])
    if nt <= 1:
        _half_part(j, 0, j.n)
        return
    j.chunk = chunk_for(j.n, nt, HBLOCK)
    run(_half_item, j, (j.n + j.chunk - 1) // j.chunk, nt)


cdef bint _same_start_other_width(cnp.ndarray a, int sa, cnp.ndarray o, int so):
    """o begins where a does with another element size: a block would
    overwrite elements of a not read yet."""
    return cnp.PyArray_DATA(a) == cnp.PyArray_DATA(o) and _width(sa) != _width(so)


cdef object _half_out(cnp.ndarray like, int result_type, object out, bint fortran, int* so):
    """The output (new, of result_type, or out if it fits: result_type or
    float32) and its storage in so; None if out needs preparing."""
    cdef cnp.ndarray o
    cdef bint ofortran
    if out is None:
        so[0] = _storage(result_type)
        return cnp.PyArray_EMPTY(cnp.PyArray_NDIM(like), cnp.PyArray_DIMS(like), result_type,
                                 fortran)
    if type(out) is not cnp.ndarray:
        return None
    o = <cnp.ndarray>out
    so[0] = _storage(cnp.PyArray_TYPE(o))
    if ((cnp.PyArray_TYPE(o) != result_type and so[0] != ST_F32) or so[0] < 0
            or not _same_shape(o, like) or not cnp.PyArray_ISWRITEABLE(o)
            or not _layout_ok(o, &ofortran)
            or (ofortran != fortran and cnp.PyArray_NDIM(o) > 1 and cnp.PyArray_SIZE(o) > 1)):
        return None
    return o


cdef object half_unary(int kid, cnp.ndarray xa, object out, double p0, double p1, double p2):
    """unary() for float16/bfloat16 x: the result keeps x's dtype (or is out,
    float32 allowed); None when the call needs preparing (as unary())."""
    cdef HalfJob j
    cdef bint fortran
    cdef double p[3]
    cdef int typenum = cnp.PyArray_TYPE(xa)
    j.sg = _storage(typenum)
    if j.sg <= ST_F32 or not _layout_ok(xa, &fortran):
        return None
    if (out is None and cnp.PyArray_NDIM(xa) == 0) or not _params_fit(cnp.NPY_FLOAT, p0, p1, p2):
        return None
    o = _half_out(xa, typenum, out, fortran, &j.so)
    if (o is None or _partial_overlap(xa, <cnp.ndarray>o)
            or _same_start_other_width(xa, j.sg, <cnp.ndarray>o, j.so)):
        return None
    p[0] = p0; p[1] = p1; p[2] = p2
    j.kid = kid; j.form = -1; j.sa = ST_F32; j.p = p
    j.g = <char*>cnp.PyArray_DATA(xa); j.a = NULL
    j.out = <char*>cnp.PyArray_DATA(<cnp.ndarray>o)
    j.n = cnp.PyArray_SIZE(xa)
    with nogil:
        _half_run(&j)
    return o


cdef object half_binary(int kid, int form, cnp.ndarray ga, cnp.ndarray aa, object out,
                        double p0, double p1, double p2):
    """binary() when grad or x/y is float16/bfloat16 (the other one of them
    or float32): the result has their common dtype (float32 if they differ),
    or is out (float32 allowed); None when the call needs preparing."""
    cdef HalfJob j
    cdef bint fortran, afortran
    cdef double p[3]
    cdef int tg = cnp.PyArray_TYPE(ga), ta = cnp.PyArray_TYPE(aa)
    j.sg = _storage(tg)
    j.sa = _storage(ta)
    if (j.sg < 0 or j.sa < 0 or not _same_shape(ga, aa)
            or not _layout_ok(ga, &fortran) or not _layout_ok(aa, &afortran)):
        return None
    if afortran != fortran and cnp.PyArray_NDIM(ga) > 1 and cnp.PyArray_SIZE(ga) > 1:
        return None
    if (out is None and cnp.PyArray_NDIM(ga) == 0) or not _params_fit(cnp.NPY_FLOAT, p0, p1, p2):
        return None
    o = _half_out(ga, tg if tg == ta else cnp.NPY_FLOAT, out, fortran, &j.so)
    if o is None:
        return None
    cdef cnp.ndarray oa = <cnp.ndarray>o
    if (_partial_overlap(ga, oa) or _partial_overlap(aa, oa)
            or _same_start_other_width(ga, j.sg, oa, j.so)
            or _same_start_other_width(aa, j.sa, oa, j.so)):
        return None
    if cnp.PyArray_DATA(oa) == cnp.PyArray_DATA(aa) and cnp.PyArray_DATA(oa) != cnp.PyArray_DATA(ga):
        return None                       # out is x (or y) itself: _api copies x first
    p[0] = p0; p[1] = p1; p[2] = p2
    j.kid = kid; j.form = form; j.p = p
    j.g = <char*>cnp.PyArray_DATA(ga); j.a = <char*>cnp.PyArray_DATA(aa)
    j.out = <char*>cnp.PyArray_DATA(oa)
    j.n = cnp.PyArray_SIZE(ga)
    with nogil:
        _half_run(&j)
    return o


def half_mul(g, a, out):
    """out = g * a in float32, rounded once into out's dtype: C-contiguous
    ndarrays of one size, each float16/bfloat16 or float32 (out not partly
    overlapping g or a); None if they are not such."""
    if type(g) is not cnp.ndarray or type(a) is not cnp.ndarray or type(out) is not cnp.ndarray:
        return None
    cdef cnp.ndarray ga = <cnp.ndarray>g, aa = <cnp.ndarray>a, oa = <cnp.ndarray>out
    cdef HalfJob j
    j.sg = _storage(cnp.PyArray_TYPE(ga)); j.sa = _storage(cnp.PyArray_TYPE(aa))
    j.so = _storage(cnp.PyArray_TYPE(oa))
    j.n = cnp.PyArray_SIZE(ga)
    if (j.sg < 0 or j.sa < 0 or j.so < 0 or cnp.PyArray_SIZE(aa) != j.n
            or cnp.PyArray_SIZE(oa) != j.n or not cnp.PyArray_IS_C_CONTIGUOUS(ga)
            or not cnp.PyArray_IS_C_CONTIGUOUS(aa) or not cnp.PyArray_IS_C_CONTIGUOUS(oa)
            or not cnp.PyArray_ISWRITEABLE(oa)
            or _partial_overlap(ga, oa) or _partial_overlap(aa, oa)
            or _same_start_other_width(ga, j.sg, oa, j.so)
            or _same_start_other_width(aa, j.sa, oa, j.so)):
        return None
    j.kid = -1; j.form = 0; j.p = NULL
    j.g = <char*>cnp.PyArray_DATA(ga); j.a = <char*>cnp.PyArray_DATA(aa)
    j.out = <char*>cnp.PyArray_DATA(oa)
    with nogil:
        _half_run(&j)
    return out


def half_convert(src, dst):
    """Convert src into dst (1-d contiguous arrays of equal length, float32 and
    float16/bfloat16 either way) with this build's conversions (tests)."""
    cdef cnp.ndarray s = <cnp.ndarray?>src
    cdef cnp.ndarray d = <cnp.ndarray?>dst
    cdef int ss = _storage(cnp.PyArray_TYPE(s)), sd = _storage(cnp.PyArray_TYPE(d))
    cdef Py_ssize_t n = cnp.PyArray_SIZE(s)
    cdef float* buf
    if (ss < 0 or sd < 0 or (ss == ST_F32) == (sd == ST_F32) or cnp.PyArray_SIZE(d) != n
            or not cnp.PyArray_IS_C_CONTIGUOUS(s) or not cnp.PyArray_IS_C_CONTIGUOUS(d)):
        raise ValueError("half_convert: float32 to float16/bfloat16 or back, contiguous, equal sizes")
    if sd == ST_F32:
        _hload(ss, <char*>cnp.PyArray_DATA(s), <float*>cnp.PyArray_DATA(d), n)
    else:
        _hstore(sd, <float*>cnp.PyArray_DATA(s), <char*>cnp.PyArray_DATA(d), n)


# NumPy ufunc loops for float16 and bfloat16 (as _ufunc_loops.pxi for float32
# and float64): arrays in the half type, parameters float32; runs of equal
# parameters, contiguous runs threaded, strided ones through stack blocks.

cdef void _hcopy(char* dst, npy_intp dstep, const char* src, npy_intp sstep, npy_intp m) noexcept nogil:
    cdef npy_intp k
    for k in range(m):
        (<uint16_t*>(dst + k * dstep))[0] = (<const uint16_t*>(src + k * sstep))[0]


cdef void _ufunc_half(int form, int st, char** args, const npy_intp* dims, const npy_intp* steps,
                      void* data) noexcept nogil:
    """form -1: forward; 0: backward from x; 1: backward from y."""
    cdef int kid = <int><size_t>data
    cdef int narr = 1 if form < 0 else 2
    cdef int npar = NPARAMS[kid]
    cdef npy_intp n = dims[0], i = 0, run, t, m, k
    cdef char* out = args[narr + npar]
    cdef npy_intp ostep = steps[narr + npar]
    cdef bint contiguous = ostep == 2 and steps[0] == 2 and (narr == 1 or steps[1] == 2)
    cdef double p[3]
    cdef uint16_t bg[HBLOCK]
    cdef uint16_t ba[HBLOCK]
    cdef uint16_t nan = 0x7e00 if st == ST_F16 else 0x7fc0
    cdef HalfJob j
    j.kid = kid; j.form = form; j.sg = st; j.sa = st; j.so = st; j.p = p
    p[0] = 0.0; p[1] = 0.0; p[2] = 0.0
    while i < n:
        for k in range(npar):
            p[k] = (<const float*>(args[narr + k] + i * steps[narr + k]))[0]
        run = 1
        while i + run < n:                  # the run of equal parameters from i
            for k in range(npar):
                if (<const float*>(args[narr + k] + (i + run) * steps[narr + k]))[0] != p[k]:
                    break
            else:
                run += 1
                continue
            break
        if not params_ok(kid, form == 1, p):
            for k in range(run):
                (<uint16_t*>(out + (i + k) * ostep))[0] = nan
        elif contiguous:
            j.g = args[0] + i * 2; j.a = args[1] + i * 2 if narr == 2 else NULL
            j.out = out + i * 2; j.n = run
            _half_run(&j)
        else:
            t = i
            while t < i + run:
                m = i + run - t if i + run - t < HBLOCK else HBLOCK
                _hcopy(<char*>bg, 2, args[0] + t * steps[0], steps[0], m)
                if narr == 2:
                    _hcopy(<char*>ba, 2, args[1] + t * steps[1], steps[1], m)
                j.g = <char*>bg; j.a = <char*>ba; j.out = <char*>bg
                _half_part(&j, 0, m)
                _hcopy(out + t * ostep, ostep, <char*>bg, 2, m)
                t += m
        i += run
    feclearexcept(FE_ALL_EXCEPT)


cdef void ufunc_fwd_f16(char** a, const npy_intp* d, const npy_intp* s, void* data) noexcept nogil:
    _ufunc_half(-1, ST_F16, a, d, s, data)

cdef void ufunc_bwd_x_f16(char** a, const npy_intp* d, const npy_intp* s, void* data) noexcept nogil:
    _ufunc_half(0, ST_F16, a, d, s, data)

cdef void ufunc_bwd_y_f16(char** a, const npy_intp* d, const npy_intp* s, void* data) noexcept nogil:
    _ufunc_half(1, ST_F16, a, d, s, data)

cdef void ufunc_fwd_bf16(char** a, const npy_intp* d, const npy_intp* s, void* data) noexcept nogil:
    _ufunc_half(-1, ST_BF16, a, d, s, data)

cdef void ufunc_bwd_x_bf16(char** a, const npy_intp* d, const npy_intp* s, void* data) noexcept nogil:
    _ufunc_half(0, ST_BF16, a, d, s, data)

cdef void ufunc_bwd_y_bf16(char** a, const npy_intp* d, const npy_intp* s, void* data) noexcept nogil:
    _ufunc_half(1, ST_BF16, a, d, s, data)


def ufunc_half_loops():
    """The addresses of this build's half-width ufunc loops, [direction][dtype]:
    directions forward, backward from x, from y; dtypes float16, bfloat16."""
    return ((<size_t>&ufunc_fwd_f16, <size_t>&ufunc_fwd_bf16),
            (<size_t>&ufunc_bwd_x_f16, <size_t>&ufunc_bwd_x_bf16),
            (<size_t>&ufunc_bwd_y_f16, <size_t>&ufunc_bwd_y_bf16))
