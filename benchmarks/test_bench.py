"""Every activation (and variant: gelu[tanh], rrelu[train]) x direction x dtype
in the registry, NumPy vs fastact: the cases of ``python -m fastact bench``.

See conftest.py for how to run and read these.
"""
from __future__ import annotations

import pytest

from fastact import _bench
N, THREADS = _bench.pytest_settings()
# float16 and bfloat16 (ml_dtypes, where installed): the half-width rows, elementwise
CASES = _bench.cases(size=N) + [c for c in _bench.cases(size=N, dtypes=_bench.half_available())
                                if c.rec.kind == "elementwise"]
IMPLS = ("numpy", "fastact", "fastact_out")


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("case", CASES, ids=[c.group for c in CASES])
def test_activation(benchmark, case, impl, case_inputs):
    a, g = case_inputs(case)
    impls = case.callables(a, g, torch_enabled=False)
    if impl not in impls:
        pytest.skip(f"no {impl} implementation for {case.group}")
    fn, _ = impls[impl]
    benchmark.group = case.group
    benchmark.extra_info.update(kernel=case.label, function=case.name, direction=case.direction, impl=impl,
                                dtype=case.dtype, n=case.n, shape=list(case.shape),
                                threads=1 if impl == "numpy" else THREADS)
    result = benchmark(fn)
    if impl != "numpy":          # cheap sanity check: the result's shape, the input's dtype
        first = result[0] if isinstance(result, tuple) else result   # prelu: (grad_x, grad_w)
        assert first.shape == case.result_shape and first.dtype == a.dtype
