# The kernels built for the "v3" CPU level (compiler flags: setup.py).
include "_impl.pxi"
