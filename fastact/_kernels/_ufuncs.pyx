# cython: freethreading_compatible=True
"""NumPy ufunc objects over fastact's kernels (fastact.ufuncs builds them).

One module for every CPU build: each ufunc's loops are trampolines that call
the active build's loop for its direction and dtype (set_active), so that
fastact._dispatch can switch builds without making new ufunc objects (NumPy
may keep what a ufunc's tables held when it was first called).
"""
cimport numpy as cnp
from numpy cimport npy_intp

cnp.import_array()
cnp.import_ufunc()

ctypedef void (*loop_t)(char**, const npy_intp*, const npy_intp*, void*) noexcept nogil

cdef extern from *:
    """
    #include <stddef.h>
    /* glu's output axis is half its input's: NumPy >= 2.1 lets a gufunc set
       an output core dimension (PyUFuncObject.process_core_dims_func).  This
       module is compiled for an older NumPy (NPY_TARGET_VERSION), whose
       struct ends at _loops; the field follows it, so it is set by its offset
       when the running NumPy has it.  Returns whether it was set. */
    static int fa_set_process_core_dims(PyObject *ufunc, void *fn) {
        if (PyArray_GetNDArrayCFeatureVersion() < 0x13) return 0;   /* NPY_2_1_API_VERSION */
        *(void **)((char *)ufunc + offsetof(PyUFuncObject, _loops) + sizeof(PyObject *)) = fn;
        return 1;
    }
    static const char *fa_ufunc_name(void *ufunc) { return ((PyUFuncObject *)ufunc)->name; }
    static int fa_ufunc_nin(void *ufunc) { return ((PyUFuncObject *)ufunc)->nin; }
    """
    int fa_set_process_core_dims(object ufunc, void* fn)
    const char* fa_ufunc_name(void* ufunc)
    int fa_ufunc_nin(void* ufunc)

DEF MAX_UFUNCS = 256
DEF MAX_ARGS = 8

cdef loop_t ACTIVE[4][2]             # [forward, from x, from y, along an axis][float32, float64]
cdef loop_t ACTIVE_HALF[3][2]        # [forward, from x, from y][float16, bfloat16]
cdef cnp.PyUFuncGenericFunction FUNCS[MAX_UFUNCS][3]
cdef void* DATA[MAX_UFUNCS][3]
cdef char TYPES[MAX_UFUNCS][3 * MAX_ARGS]
cdef int BF16_TYPES[MAX_ARGS]

cdef extern from "numpy/ndarraytypes.h":
    enum: NPY_HALF
cdef int _made = 0
_keep = []                           # names and docstrings NumPy points into


cdef void _fwd_f32(char** a, const npy_intp* d, const npy_intp* s, void* data) noexcept nogil:
    ACTIVE[0][0](a, d, s, data)

cdef void _fwd_f64(char** a, const npy_intp* d, const npy_intp* s, void* data) noexcept nogil:
    ACTIVE[0][1](a, d, s, data)

cdef void _bwd_x_f32(char** a, const npy_intp* d, const npy_intp* s, void* data) noexcept nogil:
    ACTIVE[1][0](a, d, s, data)

cdef void _bwd_x_f64(char** a, const npy_intp* d, const npy_intp* s, void* data) noexcept nogil:
    ACTIVE[1][1](a, d, s, data)

cdef void _bwd_y_f32(char** a, const npy_intp* d, const npy_intp* s, void* data) noexcept nogil:
    ACTIVE[2][0](a, d, s, data)

cdef void _bwd_y_f64(char** a, const npy_intp* d, const npy_intp* s, void* data) noexcept nogil:
    ACTIVE[2][1](a, d, s, data)


cdef void _axis_f32(char** a, const npy_intp* d, const npy_intp* s, void* data) noexcept nogil:
    ACTIVE[3][0](a, d, s, data)

cdef void _axis_f64(char** a, const npy_intp* d, const npy_intp* s, void* data) noexcept nogil:
    ACTIVE[3][1](a, d, s, data)


cdef void _fwd_f16(char** a, const npy_intp* d, const npy_intp* s, void* data) noexcept nogil:
    ACTIVE_HALF[0][0](a, d, s, data)

cdef void _bwd_x_f16(char** a, const npy_intp* d, const npy_intp* s, void* data) noexcept nogil:
    ACTIVE_HALF[1][0](a, d, s, data)

cdef void _bwd_y_f16(char** a, const npy_intp* d, const npy_intp* s, void* data) noexcept nogil:
    ACTIVE_HALF[2][0](a, d, s, data)

cdef void _fwd_bf16(char** a, const npy_intp* d, const npy_intp* s, void* data) noexcept nogil:
    ACTIVE_HALF[0][1](a, d, s, data)

cdef void _bwd_x_bf16(char** a, const npy_intp* d, const npy_intp* s, void* data) noexcept nogil:
    ACTIVE_HALF[1][1](a, d, s, data)

cdef void _bwd_y_bf16(char** a, const npy_intp* d, const npy_intp* s, void* data) noexcept nogil:
    ACTIVE_HALF[2][1](a, d, s, data)


cdef cnp.PyUFuncGenericFunction[3][2] _HALF_TRAMPOLINES = [
    [<cnp.PyUFuncGenericFunction>_fwd_f16, <cnp.PyUFuncGenericFunction>_fwd_bf16],
    [<cnp.PyUFuncGenericFunction>_bwd_x_f16, <cnp.PyUFuncGenericFunction>_bwd_x_bf16],
    [<cnp.PyUFuncGenericFunction>_bwd_y_f16, <cnp.PyUFuncGenericFunction>_bwd_y_bf16]]


cdef cnp.PyUFuncGenericFunction[4][2] _TRAMPOLINES = [
    [<cnp.PyUFuncGenericFunction>_fwd_f32, <cnp.PyUFuncGenericFunction>_fwd_f64],
    [<cnp.PyUFuncGenericFunction>_bwd_x_f32, <cnp.PyUFuncGenericFunction>_bwd_x_f64],
    [<cnp.PyUFuncGenericFunction>_bwd_y_f32, <cnp.PyUFuncGenericFunction>_bwd_y_f64],
    [<cnp.PyUFuncGenericFunction>_axis_f32, <cnp.PyUFuncGenericFunction>_axis_f64]]


cdef int _halves(void* ufunc, npy_intp* sizes) except -1 with gil:
    """Core dimensions of glu's gufuncs, (n)->(m) and (m),(n)->(n): n even, m = n / 2."""
    cdef bint fwd = fa_ufunc_nin(ufunc) == 1
    cdef npy_intp n = sizes[0] if fwd else sizes[1]
    cdef npy_intp m = sizes[1] if fwd else sizes[0]
    name = fa_ufunc_name(ufunc).decode()
    if n % 2:
        raise ValueError(f"{name}: the axis length must be even (the two halves), got {n}")
    if m == -1:
        sizes[1] = n // 2
    elif 2 * m != n:
        raise ValueError(f"{name}: the {'output' if fwd else 'grad'} axis has length {m}; "
                         f"expected {n // 2}, half of x's {n}")
    return 0


def set_active(loops, half_loops):
    """loops[direction][dtype]: addresses of a kernel module's loops (its
    ufunc_loops() and gufunc_loops(), the axis loops as direction 3);
    half_loops[direction][dtype] its ufunc_half_loops()."""
    cdef int d, t
    for d in range(4):
        for t in range(2):
            ACTIVE[d][t] = <loop_t><size_t>loops[d][t]
    for d in range(3):
        for t in range(2):
            ACTIVE_HALF[d][t] = <loop_t><size_t>half_loops[d][t]


def add_bfloat16(cnp.ufunc uf, int direction, int nin, int nparams, int kid, int typenum):
    """Register a bfloat16 loop (dtype number typenum, ml_dtypes') on an
    elementwise ufunc made by make(): arrays bfloat16, parameters float32."""
    cdef int t
    for t in range(nin + 1):
        BF16_TYPES[t] = cnp.NPY_FLOAT if nin - nparams <= t < nin else typenum
    if cnp.PyUFunc_RegisterLoopForType(uf, typenum, _HALF_TRAMPOLINES[direction][1], BF16_TYPES,
                                       <void*><size_t>kid) < 0:
        raise RuntimeError(f"fastact._ufuncs: registering bfloat16 on {uf.__name__} failed")


def make(str name, int direction, int nin, int kid, str doc, str signature=None, int nparams=0,
         bint halves=False):
    """A ufunc of nin inputs (the last nparams of them parameters) and one
    output, on kernel `kid` in `direction` (0 forward, 1 backward from x, 2
    from y): loops float16 (parameters float32), float32 and float64; or a
    generalized ufunc along an axis (direction 3, kid the axis op code,
    signature such as "(n)->(n)"), loops float32 and float64; halves: an
    axis m = n / 2, as glu's, which NumPy >= 2.1 works out; older NumPy
    needs out=)."""
    global _made
    if _made >= MAX_UFUNCS or nin + 1 > MAX_ARGS:
        raise ValueError("fastact._ufuncs: too many ufuncs or arguments")
    cdef int i = _made, t, k = 0
    cdef int nloops = 2 if direction == 3 else 3
    if direction != 3:                  # float16 first: NumPy takes the first loop that fits
        for t in range(nin + 1):
            TYPES[i][t] = cnp.NPY_FLOAT if nin - nparams <= t < nin else NPY_HALF
        FUNCS[i][0] = _HALF_TRAMPOLINES[direction][0]
        DATA[i][0] = <void*><size_t>kid
        k = 1
    for t in range(nin + 1):
        TYPES[i][k * (nin + 1) + t] = cnp.NPY_FLOAT
        TYPES[i][(k + 1) * (nin + 1) + t] = cnp.NPY_DOUBLE
    for t in range(2):
        FUNCS[i][k + t] = _TRAMPOLINES[direction][t]
        DATA[i][k + t] = <void*><size_t>kid
    bname, bdoc = name.encode(), doc.encode()
    _keep.extend((bname, bdoc))
    _made += 1
    if signature is None:
        return cnp.PyUFunc_FromFuncAndData(FUNCS[i], DATA[i], TYPES[i], nloops, nin, 1, cnp.PyUFunc_None,
                                           bname, bdoc, 0)
    bsig = signature.encode()
    _keep.append(bsig)
    uf = cnp.PyUFunc_FromFuncAndDataAndSignature(FUNCS[i], DATA[i], TYPES[i], nloops, nin, 1,
                                                 cnp.PyUFunc_None, bname, bdoc, 0, bsig)
    if halves:
        fa_set_process_core_dims(uf, <void*>_halves)
    return uf
