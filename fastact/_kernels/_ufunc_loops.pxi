# NumPy ufunc inner loops over the elementwise kernels, one per direction and
# dtype, the kernel id in the loop's data.  fastact.ufuncs makes the ufunc
# objects (_ufuncs.pyx) and points them at the active build's loops.
#
# Arguments: forward (x, params..., out); backward (g, x or y, params..., out).
# A loop walks runs of equal parameters (all of it when the parameters are
# scalars, as usual); a run with contiguous arrays goes to the threaded
# kernels as the keyword API does, a strided one through a stack buffer.
# Invalid parameters give nan, as scipy.special's ufuncs do; no warnings.

from numpy cimport npy_intp

cdef extern from "<fenv.h>":
    int FE_ALL_EXCEPT
    int feclearexcept(int excepts) noexcept nogil

DEF UBUF = 256


cdef inline double _uread(const char* p, bint f32) noexcept nogil:
    return (<const float*>p)[0] if f32 else (<const double*>p)[0]


cdef void _ufill_nan(char* out, npy_intp step, npy_intp m, bint f32) noexcept nogil:
    cdef npy_intp j
    for j in range(m):
        if f32:
            (<float*>(out + j * step))[0] = <float>NAN
        else:
            (<double*>(out + j * step))[0] = NAN


cdef void _ucopy(char* dst, npy_intp dstep, const char* src, npy_intp sstep, npy_intp m,
                 bint f32) noexcept nogil:
    cdef npy_intp j
    for j in range(m):
        if f32:
            (<float*>(dst + j * dstep))[0] = (<const float*>(src + j * sstep))[0]
        else:
            (<double*>(dst + j * dstep))[0] = (<const double*>(src + j * sstep))[0]


cdef void _ufunc_loop(int form, bint f32, char** args, const npy_intp* dims,
                      const npy_intp* steps, void* data) noexcept nogil:
    """form -1: forward; 0: backward from x; 1: backward from y."""
    cdef int kid = <int><size_t>data
    cdef int narr = 1 if form < 0 else 2
    cdef int npar = NPARAMS[kid]
    cdef int typenum = cnp.NPY_FLOAT if f32 else cnp.NPY_DOUBLE
    cdef npy_intp isz = 4 if f32 else 8
    cdef npy_intp n = dims[0], i = 0, run, j, m, t
    cdef char* out = args[narr + npar]
    cdef npy_intp ostep = steps[narr + npar]
    cdef double p[3]
    cdef double q[3]
    cdef int k
    cdef bint scalar_params = True
    cdef bint contiguous = ostep == isz and steps[0] == isz and (narr == 1 or steps[1] == isz)
    cdef double bufg[UBUF]
    cdef double bufa[UBUF]
    for k in range(npar):
        if steps[narr + k] != 0:
            scalar_params = False
    p[0] = 0.0; p[1] = 0.0; p[2] = 0.0
    q[0] = 0.0; q[1] = 0.0; q[2] = 0.0
    while i < n:
        for k in range(npar):
            p[k] = _uread(args[narr + k] + i * steps[narr + k], f32)
        run = n - i
        if not scalar_params:               # the run of equal parameters from i
            run = 1
            while i + run < n:
                for k in range(npar):
                    q[k] = _uread(args[narr + k] + (i + run) * steps[narr + k], f32)
                if q[0] != p[0] or q[1] != p[1] or q[2] != p[2]:
                    break
                run += 1
        if not params_ok(kid, form == 1, p):
            _ufill_nan(out + i * ostep, ostep, run, f32)
        elif contiguous:
            if form < 0:
                _run_unary(kid, typenum, args[0] + i * isz, out + i * isz, run, p)
            else:
                _run_binary(kid, form, typenum, args[0] + i * isz, args[1] + i * isz,
                            out + i * isz, run, p)
        else:                               # strided: through the stack buffers
            j = 0
            while j < run:
                m = run - j if run - j < UBUF else UBUF
                t = i + j
                _ucopy(<char*>bufg, isz, args[0] + t * steps[0], steps[0], m, f32)
                if form < 0:
                    _unary_part(kid, typenum, <char*>bufg, <char*>bufg, 0, m, p)
                else:
                    _ucopy(<char*>bufa, isz, args[1] + t * steps[1], steps[1], m, f32)
                    _binary_part(kid, form, typenum, <char*>bufg, <char*>bufa, <char*>bufg, 0, m, p)
                _ucopy(out + t * ostep, ostep, <char*>bufg, isz, m, f32)
                j += m
        i += run
    # The kernels raise floating-point flags by design (a 0 * inf they select
    # away, an exp that underflows): NumPy would turn them into warnings after
    # the loop.  The keyword functions never warn, and nor do these.
    feclearexcept(FE_ALL_EXCEPT)


cdef void ufunc_fwd_f32(char** a, const npy_intp* d, const npy_intp* s, void* data) noexcept nogil:
    _ufunc_loop(-1, True, a, d, s, data)

cdef void ufunc_fwd_f64(char** a, const npy_intp* d, const npy_intp* s, void* data) noexcept nogil:
    _ufunc_loop(-1, False, a, d, s, data)

cdef void ufunc_bwd_x_f32(char** a, const npy_intp* d, const npy_intp* s, void* data) noexcept nogil:
    _ufunc_loop(0, True, a, d, s, data)

cdef void ufunc_bwd_x_f64(char** a, const npy_intp* d, const npy_intp* s, void* data) noexcept nogil:
    _ufunc_loop(0, False, a, d, s, data)

cdef void ufunc_bwd_y_f32(char** a, const npy_intp* d, const npy_intp* s, void* data) noexcept nogil:
    _ufunc_loop(1, True, a, d, s, data)

cdef void ufunc_bwd_y_f64(char** a, const npy_intp* d, const npy_intp* s, void* data) noexcept nogil:
    _ufunc_loop(1, False, a, d, s, data)


def ufunc_loops():
    """The addresses of this build's ufunc loops, [direction][dtype]:
    directions forward, backward from x, from y; dtypes float32, float64."""
    return ((<size_t>&ufunc_fwd_f32, <size_t>&ufunc_fwd_f64),
            (<size_t>&ufunc_bwd_x_f32, <size_t>&ufunc_bwd_x_f64),
            (<size_t>&ufunc_bwd_y_f32, <size_t>&ufunc_bwd_y_f64))


# Generalized ufuncs along one axis: the softmax family, signature (n)->(n)
# for the forwards and (n),(n)->(n) for the backwards (grad, y); glu (n)->(m)
# and (m),(n)->(n) (grad, x), m = n / 2 (_ufuncs.pyx checks n); maxout, its
# groups a core dimension of their own, (m,p)->(m) and (m),(m,p)->(m,p).  The
# axis op code (_axis.pxi) is the loop's data.  Rows laid out back to back go
# to the threaded row kernels in one job, a C-contiguous block with the axis
# first (softmax family) to the column kernels, as the keyword functions do;
# any other layout row by row through a buffer.

from libc.stdlib cimport malloc, free


cdef struct GuArg:                  # element (i, r) of a core block at i * s1 + r * s2
    npy_intp n1, s1, n2, s2


cdef inline void _guarg(GuArg* g, npy_intp n1, npy_intp s1, npy_intp n2, npy_intp s2) noexcept nogil:
    g.n1 = n1; g.s1 = s1; g.n2 = n2; g.s2 = s2


cdef inline bint _gu_dense(const GuArg* g, npy_intp isz) noexcept nogil:
    return (g.n2 <= 1 or g.s2 == isz) and (g.n1 <= 1 or g.s1 == g.n2 * isz)


cdef void _gu_copy(char* dst, const char* src, const GuArg* g, bint gather, bint f32) noexcept nogil:
    """A core block to (gather) or from a dense buffer."""
    cdef npy_intp i, isz = 4 if f32 else 8
    if g.n2 == 1:
        if gather:
            _ucopy(dst, isz, src, g.s1, g.n1, f32)
        else:
            _ucopy(<char*>src, g.s1, dst, isz, g.n1, f32)
        return
    for i in range(g.n1):
        if gather:
            _ucopy(dst + i * g.n2 * isz, isz, src + i * g.s1, g.s2, g.n2, f32)
        else:
            _ucopy(<char*>src + i * g.s1, g.s2, dst + i * g.n2 * isz, isz, g.n2, f32)


cdef void _gufunc_axis(bint f32, char** args, const npy_intp* dims, const npy_intp* steps,
                       void* data) noexcept nogil:
    cdef int op = <int><size_t>data
    cdef int nin = 1 if op % 2 == 0 else 2
    cdef int nargs = nin + 1
    cdef npy_intp rows = dims[0], r, t, total = 0
    cdef npy_intp isz = 4 if f32 else 8
    cdef const npy_intp* cs = steps + nargs         # the core dimensions' steps
    cdef GuArg g[3]
    cdef npy_intp off[3]
    cdef bint packed = True, columns = False
    cdef AxisJob j
    cdef char* buf
    j.op = op
    j.typenum = cnp.NPY_FLOAT if f32 else cnp.NPY_DOUBLE
    j.inner = 1
    j.p = 1
    j.w = NULL
    j.aux = NULL
    if op <= 5:                     # softmax family: every argument (n)
        j.k = dims[1]
        for t in range(nargs):
            _guarg(&g[t], dims[1], cs[t], 1, 0)
        columns = rows > 1
        for t in range(nargs):
            if cs[t] != isz or steps[t] != rows * isz:
                columns = False     # a C-contiguous (n, rows) block: the axis first
    elif op == 6:                   # glu (n)->(m)
        j.k = dims[1]; j.p = 2
        _guarg(&g[0], dims[1], cs[0], 1, 0)
        _guarg(&g[1], dims[2], cs[1], 1, 0)
    elif op == 7:                   # glu_backward (m),(n)->(n)
        j.k = dims[2]; j.p = 2
        _guarg(&g[0], dims[1], cs[0], 1, 0)
        _guarg(&g[1], dims[2], cs[1], 1, 0)
        _guarg(&g[2], dims[2], cs[2], 1, 0)
    elif op == 8:                   # maxout (m,p)->(m)
        j.k = dims[1] * dims[2]; j.p = dims[2]
        _guarg(&g[0], dims[1], cs[0], dims[2], cs[1])
        _guarg(&g[1], dims[1], cs[2], 1, 0)
    else:                           # maxout_backward (m),(m,p)->(m,p)
        j.k = dims[1] * dims[2]; j.p = dims[2]
        _guarg(&g[0], dims[1], cs[0], 1, 0)
        _guarg(&g[1], dims[1], cs[1], dims[2], cs[2])
        _guarg(&g[2], dims[1], cs[3], dims[2], cs[4])
    if op == 8 and j.p == 0:            # groups of no entries: no maximum
        for r in range(rows):
            _ufill_nan(args[1] + r * steps[1], cs[2], dims[1], f32)
        return
    if rows == 0 or j.k == 0:
        return
    for t in range(nargs):
        off[t] = total
        total += g[t].n1 * g[t].n2 * isz
        if not _gu_dense(&g[t], isz) or (rows > 1 and steps[t] != g[t].n1 * g[t].n2 * isz):
            packed = False
    if packed or columns:
        j.a = args[0]
        j.b = args[1] if nin == 2 else args[0]
        j.out = args[nin]
        if packed:
            _axis_run(&j, rows)
        else:                           # the column-block kernels, as the keyword API
            j.inner = rows
            _axis_run(&j, 1)
    else:
        buf = <char*>malloc(total)
        if buf == NULL:
            return
        j.a = buf
        j.b = buf + off[1] if nin == 2 else buf
        j.out = buf + off[nin]
        for r in range(rows):
            for t in range(nin):
                _gu_copy(buf + off[t], args[t] + r * steps[t], &g[t], True, f32)
            _axis_run(&j, 1)
            _gu_copy(buf + off[nin], args[nin] + r * steps[nin], &g[nin], False, f32)
        free(buf)
    feclearexcept(FE_ALL_EXCEPT)


cdef void gufunc_axis_f32(char** a, const npy_intp* d, const npy_intp* s, void* data) noexcept nogil:
    _gufunc_axis(True, a, d, s, data)

cdef void gufunc_axis_f64(char** a, const npy_intp* d, const npy_intp* s, void* data) noexcept nogil:
    _gufunc_axis(False, a, d, s, data)


def gufunc_loops():
    """The addresses of this build's generalized-ufunc loops (float32, float64)."""
    return (<size_t>&gufunc_axis_f32, <size_t>&gufunc_axis_f64)
