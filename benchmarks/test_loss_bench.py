"""The fused reductions of the registry's LOSSES (logsumexp, cross_entropy):
forward + backward on 2^20 logits (1024 x 1024 and 8192 x 128), float32 and
float64: fastact's functions, NAME_and_derivative and fastact.nn's layer
(one pass for both), the
unfused fastact calls a user would write, the NumPy expression and torch
eager (same cases as ``python -m fastact bench --losses``; threads as the
rest of this suite, FASTACT_BENCH_THREADS).
"""
from __future__ import annotations

import pytest

from fastact._bench import loss
from fastact._registry import LOSSES

CASES = [(rec, shape, dt) for rec in LOSSES for shape in loss.SHAPES
         for dt in ("float32", "float64")]
IMPLS = ("fastact", "fastact_and_d", "fastact_layer", "unfused", "numpy", "torch")


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("rec,shape,dtype", CASES,
                         ids=[f"{r.name}-{s[0]}x{s[1]}-{d}" for r, s, d in CASES])
def test_loss_forward_backward(benchmark, rec, shape, dtype, impl):
    x, t = loss.inputs(rec, shape, dtype)
    fns = loss.callables(rec, x, t, torch_enabled=impl == "torch")
    if impl not in fns:
        pytest.skip(f"no {impl} implementation for {rec.name}")
    benchmark.group = f"{rec.name}-both-{shape[0]}x{shape[1]}-{dtype}"
    benchmark.extra_info.update(function=rec.name, direction="forward+backward", impl=impl,
                                dtype=dtype, shape=list(shape), n=x.size)
    value, grad = benchmark(fns[impl])
    assert tuple(grad.shape) == shape
