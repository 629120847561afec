"""The registry: one record per activation, the single source of truth.

Everything else iterates these records: the public wrappers and their
docstrings (``_functions``, ``_api``), the generated Cython loops
(``setup.py`` loads this package by path at build time, so it imports only
the standard library), the layers (``nn``), the NumPy and PyTorch equivalents
(``_baseline``, the benchmark), the tests, the CLI and the plots.

A record holds what describes the function, including how the same
function is written in NumPy and called in PyTorch: those are Python
expressions kept as text (``numpy``, ``torch``), compiled into functions by
``fastact._baseline`` and ``fastact._bench.torch_table`` when they are
needed, so that the registry never imports NumPy or PyTorch.  The exact
(mpmath) reference values the tests use live in one test module,
``tests/reference.py``.  Adding an elementwise activation therefore touches
three files: a record in one of the family modules here (``smooth``,
``piecewise``, ``axis``), its per-element functions ``NAME_fwd`` /
``NAME_bwd_x`` / ``NAME_bwd_y`` in ``_kernels/_activations.pxd``, and its
reference values in ``tests/reference.py`` (CONTRIBUTING.md has the
checklist).
"""
from __future__ import annotations

from . import axis, loss, piecewise, smooth
from ._record import (COSTS, DIRECTIONS, REQUIRED, Activation, Param,  # noqa: F401
                      check_record, evaluate)

# By family: smooth, then piecewise, then along an axis and with weights; the
# order of the records is the order of fa.activations(), the docs and the bench.
ACTIVATIONS = smooth.RECORDS + piecewise.RECORDS + axis.RECORDS

for _a in ACTIVATIONS:
    check_record(_a)

BY_NAME = {}
for _a in ACTIVATIONS:
    for _n in (_a.name,) + _a.aliases:
        assert _n not in BY_NAME, f"{_n}: registered twice"
        BY_NAME[_n] = _a

ELEMENTWISE = tuple(a for a in ACTIVATIONS if a.kind == "elementwise")

# The compiled elementwise kernels in kernel-id order: (kernel name, record).
# The ids follow the records' order; everything derives them from here
# (setup.py's generated loops, _functions), and _dispatch refuses a build
# whose ids differ (one built from an older registry).
KERNELS = tuple((k, a) for a in ELEMENTWISE for k in a.kernels)

# Reductions along an axis fused with their softmax (logsumexp, cross_entropy):
# records of their own type (loss.Reduction), not activations.
LOSSES = loss.RECORDS
LOSS_BY_NAME = {_r.name: _r for _r in LOSSES}
assert not set(LOSS_BY_NAME) & set(BY_NAME), "a loss and an activation share a name"
