"""``python -m fastact bench``: ns/element of fastact against NumPy and PyTorch.

Every activation of the registry and every variant of it (``gelu[tanh]``
for approximate="tanh"; ``rrelu`` in eval mode and ``rrelu[train]``, training
with a fixed seed), in every direction the registry allows (forward, backward
from x, backward from y), for each dtype, is timed; parameters are the
registry's defaults, or the examples of required ones (threshold, maxout's
pieces).  Shapes come from the record's kind (KINDS): elementwise on a flat
array, softmax, glu and maxout along the last axis of (rows, 1024), prelu on
(N, C, L) with a weight of C slopes, and as prelu[dense] on (N, C).  Implementations:

- ``numpy``: the NumPy expression a user would write (``fastact._baseline``),
- ``torch``: PyTorch's own CPU kernels on one thread (``torch.set_num_threads(1)``),
  on tensors sharing memory with the NumPy arrays (``torch.from_numpy``),
- ``fastact``: one thread, returning a new array (like NumPy and torch do),
- ``fastact_out``: one thread, into a preallocated ``out=``,
- ``fastact_mt``: all threads, into ``out=``,
- ``numexpr``, ``numba``, ``jax``: the same NumPy expression run by those,
  one thread, where they are installed (elementwise rows; ``others.py``;
  ``--no-others`` leaves them out), with a "vs fastest other" column.

float16 and bfloat16 (``--dtype float16 bfloat16``; bfloat16 needs ml_dtypes)
rows time NumPy and torch on the same dtype (torch's bfloat16 through the
bits, ``to_torch``) and ``fastact_f32``, fastact on float32 copies of the same
values, in the same rounds: "vs f32" is fastact's half time over its float32
time.

The speed-ups compare like with like: fastact on one thread returning a new
array against NumPy and against torch on one thread returning a new array.

The machine may be noisy: the implementations of one case are timed
round-robin (several rounds, each round a batch of calls per
implementation, the starting implementation rotating), and the minimum per
call over the rounds is reported (the median is kept in the JSON).

Two machine-level sections follow when sigmoid is selected: the call
overhead on a 16-element float32 array, and thread scaling on 16M float32
elements (1 thread vs all threads vs a memcpy of the same bytes).

The shared pieces (``cases``, ``Case.inputs``, ``Case.callables``) are also
used by ``benchmarks/`` (pytest-benchmark).

Modules: ``cases`` (what is timed: cases, shapes, callables), ``torch_table``
(PyTorch's calls, notes and parity rows, from the registry), ``others``
(numexpr, numba, jax), ``timing`` (round-robin timing, thread settings, the
agreement check), ``machine`` (CPU and versions), ``report`` (verdicts,
tables) and ``cli`` (``run``).
"""
from fastact._bench.cases import (DIRECTIONS, HALF_DTYPES, KINDS, SOFTMAX_ROW,  # noqa: F401
                                  TARGET_CHEAP, TARGET_TRANSCENDENTAL, Case, cases, half_available,
                                  labels, np_dtype, pytest_settings, to_torch)
from fastact._bench.cli import IMPLS, bench_case, bench_overhead, bench_scaling, run  # noqa: F401
from fastact._bench.machine import cpu_flags, cpu_model, machine_info  # noqa: F401
from fastact._bench.report import (DIR_LABEL, format_markdown, format_text,  # noqa: F401
                                   verdicts)
from fastact._bench.timing import _check_close, interleaved  # noqa: F401
from fastact._bench.torch_table import PARITY_ROWS, TORCH_NOTES, get_torch  # noqa: F401
