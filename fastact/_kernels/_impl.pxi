# The kernel module body, compiled once per CPU build (_k_base, _k_v3, _k_v4).

from libc.math cimport INFINITY, NAN, log1p
from libc.stdint cimport int32_t, int64_t, INT32_MIN, INT64_MIN, INT64_MAX
from fastact._kernels._math cimport floating, exp_, exp_neg, mul_add, HAS_FMA, f32_to_bits, f32_from_bits, f64_to_bits, f64_from_bits
from fastact._kernels._math cimport _reduce_d, _expm1_poly_d, f64_pow2_of, abs_
from fastact._kernels._activations cimport *

include "_driver.pxi"
include "_halfio.pxi"
include "_gated.pxi"
include "_axis.pxi"
include "_bias.pxi"                 # after _axis.pxi: its row sums (_row_reduce)
include "_loss.pxi"
include "_loops.pxi"
include "_ufunc_loops.pxi"
include "_half.pxi"
include "_half_axis.pxi"
include "_rrelu.pxi"

_fill_tables()
