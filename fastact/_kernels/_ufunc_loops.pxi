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
