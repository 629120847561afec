"""The fused kernels (swiglu, bias + gelu), forward + backward, against the
unfused fastact sequence, the NumPy expressions and torch eager (the rows
and implementations of fastact._bench.fused).  Groups: ``fused-ROW-DTYPE``;
threads as the rest of benchmarks/ (FASTACT_BENCH_THREADS)."""
from __future__ import annotations

import numpy as np
import pytest

from fastact._bench import fused

from test_bench import N, THREADS

IMPLS = ("fastact", "fastact_saved", "unfused", "numpy", "torch")


@pytest.fixture(scope="module")
def torch_one_thread():
    torch = pytest.importorskip("torch")
    old = torch.get_num_threads()
    torch.set_num_threads(1 if THREADS == 1 else old)
    yield torch
    torch.set_num_threads(old)


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("row", fused.ROWS)
def test_fused(benchmark, row, dtype, impl, torch_one_thread):
    x, b, g = fused.inputs(row, N, np.dtype(dtype))
    impls = fused.callables(row, x, b, g, torch_one_thread)
    if impl not in impls:
        pytest.skip(f"no {impl} for {row}")
    benchmark.group = f"fused-{row}-{dtype}"
    benchmark.extra_info.update(row=row, impl=impl, dtype=dtype, n=x.size, threads=THREADS)
    result = benchmark(impls[impl])
    first = result[0] if isinstance(result, tuple) else result
    assert first.shape == x.shape
