# The kernels built for the "base" CPU level (compiler flags: setup.py).
include "_impl.pxi"
