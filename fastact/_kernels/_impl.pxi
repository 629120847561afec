# The kernel module body, compiled once per CPU build (_k_base, _k_v3, _k_v4).

from libc.math cimport INFINITY, log1p
from fastact._kernels._math cimport floating, exp_
from fastact._kernels._activations cimport *

include "_driver.pxi"
include "_axis.pxi"
include "_loops.pxi"

_fill_tables()
