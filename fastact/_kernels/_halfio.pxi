# Half-width storage (float16, bfloat16): what an operand is stored as, and
# block conversions to and from float32 (fa_half.h).  Included before the
# generated loops, whose half-width loops (NAME_fwd_h, NAME_bwd_x_h, ...)
# convert a block of HSTEP elements, run the inline float32 kernel on it and
# convert the result back: the block stays in registers or the store
# buffer, so the conversions cost little more than their instructions.

from libc.stdint cimport uint16_t
from libc.string cimport memcpy

cdef extern from "fa_half.h" nogil:
    void fa_load_f16(const uint16_t* src, float* dst, Py_ssize_t n)
    void fa_store_f16(const float* src, uint16_t* dst, Py_ssize_t n)
    void fa_load_bf16(const uint16_t* src, float* dst, Py_ssize_t n)
    void fa_store_bf16(const float* src, uint16_t* dst, Py_ssize_t n)
    float fa_f16_to_f32(uint16_t h)
    float fa_bf16_to_f32(uint16_t b)

cdef extern from "numpy/ndarraytypes.h":
    enum: NPY_HALF                  # not declared by numpy's .pxd

# storage of an operand
DEF ST_F32 = 0
DEF ST_F16 = 1
DEF ST_BF16 = 2
DEF HBLOCK = 1024                   # elements per strided-ufunc staging block
# elements per block of the half-width loops: measured on Zen 4 (AVX2 and
# AVX-512 builds), 32-64 run as fast as float32 in registers; 1024 (a pass
# per conversion through L1) cost 1.3x on compute-bound kernels.
DEF HSTEP = 64

# ml_dtypes' bfloat16 has a dtype number given when ml_dtypes registers it:
# fastact._api passes it here once it sees ml_dtypes imported (set_bfloat16).
cdef int BF16_NUM = -1


def set_bfloat16(int typenum):
    """The dtype number of ml_dtypes.bfloat16 (fastact._api calls this)."""
    global BF16_NUM
    BF16_NUM = typenum


cdef inline int _storage(int typenum) noexcept nogil:
    """ST_* of a dtype number, -1 for dtypes the half loops do not take."""
    if typenum == cnp.NPY_FLOAT:
        return ST_F32
    if typenum == NPY_HALF:
        return ST_F16
    if typenum == BF16_NUM and BF16_NUM >= 0:
        return ST_BF16
    return -1


cdef inline Py_ssize_t _width(int st) noexcept nogil:
    return 4 if st == ST_F32 else 2


cdef inline void _hload(int st, const char* src, float* dst, Py_ssize_t n) noexcept nogil:
    if st == ST_F16:
        fa_load_f16(<const uint16_t*>src, dst, n)
    elif st == ST_BF16:
        fa_load_bf16(<const uint16_t*>src, dst, n)
    elif <const char*>dst != src:
        memcpy(dst, src, n * 4)


cdef inline void _hstore(int st, const float* src, char* dst, Py_ssize_t n) noexcept nogil:
    if st == ST_F16:
        fa_store_f16(src, <uint16_t*>dst, n)
    elif st == ST_BF16:
        fa_store_bf16(src, <uint16_t*>dst, n)
    else:
        memcpy(dst, src, n * 4)


