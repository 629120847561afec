# The one generic path from Python into the kernels: dtype and layout checks
# on the C side, output allocation, and splitting large arrays over threads.
#
# unary()/binary() return None whenever the call is not the simple case (an
# exact ndarray of float32/float64, contiguous, out absent or matching and
# not partially overlapping); fastact._api then prepares the arrays and calls
# again.  Keeping the common case here costs ~0.2 us instead of the ~1 us of
# Python-level array handling (docs/design.md, "Call overhead").

cimport cython
cimport numpy as cnp
from fastact._kernels._fastact_pool cimport threads_for, chunk_for, run
from libc.float cimport FLT_MAX
from libc.math cimport fabs

cnp.import_array()

ctypedef void (*unary_f32_t)(const float*, float*, Py_ssize_t, const double*) noexcept nogil
ctypedef void (*unary_f64_t)(const double*, double*, Py_ssize_t, const double*) noexcept nogil
ctypedef void (*unary_ip_f32_t)(float*, Py_ssize_t, const double*) noexcept nogil
ctypedef void (*unary_ip_f64_t)(double*, Py_ssize_t, const double*) noexcept nogil
ctypedef void (*binary_f32_t)(const float*, const float*, float*, Py_ssize_t, const double*) noexcept nogil
ctypedef void (*binary_f64_t)(const double*, const double*, double*, Py_ssize_t, const double*) noexcept nogil
ctypedef void (*binary_ip_f32_t)(float*, const float*, Py_ssize_t, const double*) noexcept nogil
ctypedef void (*binary_ip_f64_t)(double*, const double*, Py_ssize_t, const double*) noexcept nogil
# half-width loops: each operand's pointer with its storage (_halfio.pxi's ST_*)
ctypedef void (*unary_h_t)(const char*, int, char*, int, Py_ssize_t, const double*) noexcept nogil
ctypedef void (*binary_h_t)(const char*, int, const char*, int, char*, int, Py_ssize_t,
                            const double*) noexcept nogil

DEF MAX_KERNELS = 128

cdef unary_f32_t FWD_F32[MAX_KERNELS]
cdef unary_f64_t FWD_F64[MAX_KERNELS]
cdef unary_ip_f32_t FWD_IP_F32[MAX_KERNELS]
cdef unary_ip_f64_t FWD_IP_F64[MAX_KERNELS]
cdef binary_f32_t BWD_F32[2][MAX_KERNELS]           # [0]: from x, [1]: from y
cdef binary_f64_t BWD_F64[2][MAX_KERNELS]
cdef binary_ip_f32_t BWD_IP_F32[2][MAX_KERNELS]
cdef binary_ip_f64_t BWD_IP_F64[2][MAX_KERNELS]
cdef unary_h_t FWD_H[MAX_KERNELS]
cdef binary_h_t BWD_H[2][MAX_KERNELS]
# Whether a kernel's direction (0 forward, 1 from x, 2 from y) computes a
# transcendental function (the registry's `transcendental`): those start
# threads at a smaller size, their work per element being several times larger.
cdef bint HEAVY[3][MAX_KERNELS]

# Items [0, items) split over the pool in contiguous ranges: part(ctx, lo,
# hi) does a range; `work` (elements) and `heavy` choose the threads.
ctypedef void (*range_fn)(void* ctx, Py_ssize_t lo, Py_ssize_t hi) noexcept nogil

cdef struct RangeJob:
    range_fn part
    void* ctx
    Py_ssize_t items, per


cdef void _range_item(void* rj, Py_ssize_t c) noexcept nogil:
    cdef const RangeJob* r = <const RangeJob*>rj
    cdef Py_ssize_t lo = c * r.per
    r.part(r.ctx, lo, lo + r.per if lo + r.per < r.items else r.items)


cdef void run_ranges(range_fn part, void* ctx, Py_ssize_t items, Py_ssize_t work,
                     bint heavy) noexcept nogil:
    cdef RangeJob r
    cdef int nt = threads_for(work, heavy)
    if nt > items:
        nt = <int>items
    if nt <= 1:
        part(ctx, 0, items)
        return
    r.part = part; r.ctx = ctx; r.items = items
    r.per = chunk_for(items, nt, 1)
    run(_range_item, &r, (items + r.per - 1) // r.per, nt)


cdef extern from *:
    """
    #ifndef FA_DEBUG_BUILD
    #define FA_DEBUG_BUILD 0
    #endif
    """
    int FA_DEBUG_BUILD

DEBUG_BUILD = bool(FA_DEBUG_BUILD)       # FASTACT_DEBUG_BUILD=1: -O0, bounds checks


cdef inline bint _params_fit(int typenum, double p0, double p1, double p2) noexcept:
    """float32 kernels take the parameters in float32: beyond its range they
    would become inf, so such calls go to fastact._api, which refuses them."""
    if typenum != cnp.NPY_FLOAT:
        return True
    return fabs(p0) <= FLT_MAX and fabs(p1) <= FLT_MAX and fabs(p2) <= FLT_MAX


cdef inline bint _layout_ok(cnp.ndarray a, bint* fortran) noexcept:
    """Contiguous, and which order; 1-d and size <= 1 arrays are both."""
    if cnp.PyArray_IS_C_CONTIGUOUS(a):
        fortran[0] = False
        return True
    if cnp.PyArray_IS_F_CONTIGUOUS(a):
        fortran[0] = True
        return True
    return False


cdef inline bint _same_shape(cnp.ndarray a, cnp.ndarray b) noexcept:
    cdef int nd = cnp.PyArray_NDIM(a)
    if cnp.PyArray_NDIM(b) != nd:
        return False
    cdef int k
    for k in range(nd):
        if cnp.PyArray_DIM(a, k) != cnp.PyArray_DIM(b, k):
            return False
    return True


cdef inline bint _partial_overlap(cnp.ndarray a, cnp.ndarray b) noexcept:
    """Whether two contiguous arrays share memory without being the same buffer."""
    cdef char* pa = <char*>cnp.PyArray_DATA(a)
    cdef char* pb = <char*>cnp.PyArray_DATA(b)
    if pa == pb:
        return False
    return pa < pb + cnp.PyArray_NBYTES(b) and pb < pa + cnp.PyArray_NBYTES(a)


cdef object _fast_out(cnp.ndarray like, object out, bint fortran):
    """The output array: new (in like's order), or `out` if it fits exactly."""
    if out is None:
        return cnp.PyArray_EMPTY(cnp.PyArray_NDIM(like), cnp.PyArray_DIMS(like),
                                 cnp.PyArray_TYPE(like), fortran)
    if type(out) is not cnp.ndarray:
        return None
    cdef cnp.ndarray o = <cnp.ndarray>out
    cdef bint ofortran
    if (cnp.PyArray_TYPE(o) != cnp.PyArray_TYPE(like) or not _same_shape(o, like)
            or not cnp.PyArray_ISWRITEABLE(o) or not _layout_ok(o, &ofortran)
            or (ofortran != fortran and cnp.PyArray_NDIM(o) > 1 and cnp.PyArray_SIZE(o) > 1)):
        return None
    return o


cdef inline void _unary_part(int kid, int typenum, char* x, char* out, Py_ssize_t lo,
                             Py_ssize_t m, const double* p) noexcept nogil:
    cdef Py_ssize_t off = lo * (4 if typenum == cnp.NPY_FLOAT else 8)
    if typenum == cnp.NPY_FLOAT:
        if x == out:
            FWD_IP_F32[kid](<float*>(out + off), m, p)
        else:
            FWD_F32[kid](<float*>(x + off), <float*>(out + off), m, p)
    else:
        if x == out:
            FWD_IP_F64[kid](<double*>(out + off), m, p)
        else:
            FWD_F64[kid](<double*>(x + off), <double*>(out + off), m, p)


cdef inline void _binary_part(int kid, int form, int typenum, char* g, char* a, char* out,
                              Py_ssize_t lo, Py_ssize_t m, const double* p) noexcept nogil:
    cdef Py_ssize_t off = lo * (4 if typenum == cnp.NPY_FLOAT else 8)
    if typenum == cnp.NPY_FLOAT:
        if g == out:
            BWD_IP_F32[form][kid](<float*>(out + off), <float*>(a + off), m, p)
        else:
            BWD_F32[form][kid](<float*>(g + off), <float*>(a + off), <float*>(out + off), m, p)
    else:
        if g == out:
            BWD_IP_F64[form][kid](<double*>(out + off), <double*>(a + off), m, p)
        else:
            BWD_F64[form][kid](<double*>(g + off), <double*>(a + off), <double*>(out + off), m, p)


# A threaded call is a job of items, each a chunk of the arrays (fa_pool.h).
cdef struct ElementwiseJob:
    int kid, form, typenum
    char* g                         # x for a forward
    char* a                         # unused for a forward
    char* out
    Py_ssize_t n, chunk
    const double* p


cdef void _unary_item(void* ctx, Py_ssize_t i) noexcept nogil:
    cdef ElementwiseJob* j = <ElementwiseJob*>ctx
    cdef Py_ssize_t lo = i * j.chunk
    _unary_part(j.kid, j.typenum, j.g, j.out, lo, j.n - lo if j.n - lo < j.chunk else j.chunk, j.p)


cdef void _binary_item(void* ctx, Py_ssize_t i) noexcept nogil:
    cdef ElementwiseJob* j = <ElementwiseJob*>ctx
    cdef Py_ssize_t lo = i * j.chunk
    _binary_part(j.kid, j.form, j.typenum, j.g, j.a, j.out, lo,
                 j.n - lo if j.n - lo < j.chunk else j.chunk, j.p)


cdef void _run_unary(int kid, int typenum, char* x, char* out, Py_ssize_t n,
                     const double* p) noexcept nogil:
    cdef int nt = threads_for(n, HEAVY[0][kid])
    cdef ElementwiseJob j
    if nt <= 1:
        _unary_part(kid, typenum, x, out, 0, n, p)
        return
    j.kid = kid; j.form = 0; j.typenum = typenum; j.g = x; j.a = NULL; j.out = out
    j.n = n; j.chunk = chunk_for(n, nt, 64); j.p = p
    run(_unary_item, &j, (n + j.chunk - 1) // j.chunk, nt)


cdef void _run_binary(int kid, int form, int typenum, char* g, char* a, char* out,
                      Py_ssize_t n, const double* p) noexcept nogil:
    cdef int nt = threads_for(n, HEAVY[1 + form][kid])
    cdef ElementwiseJob j
    if nt <= 1:
        _binary_part(kid, form, typenum, g, a, out, 0, n, p)
        return
    j.kid = kid; j.form = form; j.typenum = typenum; j.g = g; j.a = a; j.out = out
    j.n = n; j.chunk = chunk_for(n, nt, 64); j.p = p
    run(_binary_item, &j, (n + j.chunk - 1) // j.chunk, nt)


def unary(int kid, x, out, double p0=0.0, double p1=0.0, double p2=0.0):
    """Forward kernel `kid` on x; None if the arrays need preparing first."""
    if type(x) is not cnp.ndarray:
        return None
    cdef cnp.ndarray xa = <cnp.ndarray>x
    cdef int typenum = cnp.PyArray_TYPE(xa)
    cdef bint fortran
    if typenum != cnp.NPY_FLOAT and typenum != cnp.NPY_DOUBLE:
        return half_unary(kid, xa, out, p0, p1, p2)     # float16, bfloat16: _half.pxi
    if not _layout_ok(xa, &fortran):
        return None
    if (out is None and cnp.PyArray_NDIM(xa) == 0) or not _params_fit(typenum, p0, p1, p2):
        return None                       # a 0-d input gives a scalar: _api does that
    o = _fast_out(xa, out, fortran)
    if o is None or _partial_overlap(xa, <cnp.ndarray>o):
        return None
    cdef double p[3]
    p[0] = p0; p[1] = p1; p[2] = p2
    cdef char* xp = <char*>cnp.PyArray_DATA(xa)
    cdef char* op = <char*>cnp.PyArray_DATA(<cnp.ndarray>o)
    cdef Py_ssize_t n = cnp.PyArray_SIZE(xa)
    if n < 4096:
        _run_unary(kid, typenum, xp, op, n, p)
    else:
        with nogil:
            _run_unary(kid, typenum, xp, op, n, p)
    return o


def binary(int kid, int form, g, a, out, double p0=0.0, double p1=0.0, double p2=0.0):
    """Backward kernel `kid` from x (form 0) or y (form 1); None as unary()."""
    if type(g) is not cnp.ndarray or type(a) is not cnp.ndarray:
        return None
    cdef cnp.ndarray ga = <cnp.ndarray>g
    cdef cnp.ndarray aa = <cnp.ndarray>a
    cdef int typenum = cnp.PyArray_TYPE(ga)
    cdef bint fortran, afortran
    if _storage(typenum) > 0 or _storage(cnp.PyArray_TYPE(aa)) > 0:
        return half_binary(kid, form, ga, aa, out, p0, p1, p2)   # a half-width one: _half.pxi
    if ((typenum != cnp.NPY_FLOAT and typenum != cnp.NPY_DOUBLE)
            or cnp.PyArray_TYPE(aa) != typenum or not _same_shape(ga, aa)
            or not _layout_ok(ga, &fortran) or not _layout_ok(aa, &afortran)):
        return None
    if afortran != fortran and cnp.PyArray_NDIM(ga) > 1 and cnp.PyArray_SIZE(ga) > 1:
        return None
    if (out is None and cnp.PyArray_NDIM(ga) == 0) or not _params_fit(typenum, p0, p1, p2):
        return None
    o = _fast_out(ga, out, fortran)
    if o is None or _partial_overlap(ga, <cnp.ndarray>o) or _partial_overlap(aa, <cnp.ndarray>o):
        return None
    cdef cnp.ndarray oa = <cnp.ndarray>o
    if cnp.PyArray_DATA(oa) == cnp.PyArray_DATA(aa) and cnp.PyArray_DATA(oa) != cnp.PyArray_DATA(ga):
        return None                       # out is x (or y) itself: _api copies x first
    cdef double p[3]
    p[0] = p0; p[1] = p1; p[2] = p2
    cdef char* gp = <char*>cnp.PyArray_DATA(ga)
    cdef char* ap = <char*>cnp.PyArray_DATA(aa)
    cdef char* op = <char*>cnp.PyArray_DATA(oa)
    cdef Py_ssize_t n = cnp.PyArray_SIZE(ga)
    if n < 4096:
        _run_binary(kid, form, typenum, gp, ap, op, n, p)
    else:
        with nogil:
            _run_binary(kid, form, typenum, gp, ap, op, n, p)
    return o
