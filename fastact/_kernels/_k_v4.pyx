# The kernels built for the "v4" CPU level (compiler flags: setup.py).
include "_impl.pxi"
