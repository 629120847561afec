"""End to end: fastact between matrix multiplies, where users call it.

* ``step-ACT-MxN``: a float32 training step (z = a @ w; f(z); f_backward;
  g @ w.T) with BLAS at its default threads: the NumPy expressions, fastact
  at its default threads, and fastact on one thread;
* ``sklearn-ACT-DTYPE``: MLPClassifier((256, 256)) on load_digits, stock
  against fastact.sklearn.patch() (needs scikit-learn).

pytest-benchmark's ratio column reads as the speed-up within each group.
``python -m fastact bench --workload`` prints the same comparison as a table.
"""
from __future__ import annotations

import pytest

import fastact as fa
from fastact import _threads, _workload

DEFAULT_THREADS = _threads.initial_threads()
STEPS = [(act, m, n) for m, n in _workload.STEP_SHAPES for act in _workload.STEP_ACTIVATIONS]


@pytest.mark.parametrize("impl", ["numpy", "fastact", "fastact_1t"])
@pytest.mark.parametrize("act, m, n", STEPS, ids=[f"{a}-{m}x{n}" for a, m, n in STEPS])
def test_training_step(benchmark, act, m, n, impl):
    fns = _workload.step_functions(act, m, n)
    fn = fns["numpy" if impl == "numpy" else "fastact"]
    benchmark.group = f"step-{act}-{m}x{n}"
    threads = 1 if impl == "fastact_1t" else DEFAULT_THREADS
    benchmark.extra_info.update(workload="step", activation=act, shape=[m, n], impl=impl,
                                threads=threads)
    with fa.threads(threads):           # benchmarks/conftest.py pins 1 for the kernel cases
        y, gx = benchmark(fn)
    assert y.shape == gx.shape == (m, n)


@pytest.mark.parametrize("impl", ["stock", "patched"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("act", _workload.SKLEARN_ACTIVATIONS)
def test_sklearn_fit(benchmark, act, dtype, impl):
    pytest.importorskip("sklearn")
    benchmark.group = f"sklearn-{act}-{dtype}"
    benchmark.extra_info.update(workload="sklearn", activation=act, dtype=dtype, impl=impl,
                                threads=DEFAULT_THREADS)
    with fa.threads(DEFAULT_THREADS):
        seconds, score = benchmark.pedantic(_workload.sklearn_fit, args=(act, dtype, impl == "patched"),
                                            rounds=3, iterations=1)
    assert score > 0.5                  # the fit learned (10 classes: chance is 0.1)
