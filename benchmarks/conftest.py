"""pytest-benchmark suite: fastact against the NumPy expression a user would write.

    python -m pytest benchmarks --benchmark-only                 # time everything
    python -m pytest benchmarks --benchmark-only -k "sigmoid and float32"
    python -m pytest benchmarks --benchmark-only --benchmark-json=out.json
    python -m pytest benchmarks --benchmark-disable -q           # CI smoke test: each once, untimed

Each group is one kernel, direction and dtype (``sigmoid-forward-float32``)
holding numpy, fastact (new array) and fastact_out (preallocated out=), so
pytest-benchmark's ratio column reads as the speed-up.  The JSON written by
--benchmark-json gains a ``speedup_vs_numpy`` table (median NumPy time /
median fastact time per group).

Environment: FASTACT_BENCH_N (elements per array, default 2**20),
FASTACT_BENCH_THREADS (fastact's threads, default 1: like with like against
single-threaded NumPy; "all" for every CPU).
"""
from __future__ import annotations

import pytest

import fastact as fa
from fastact import _bench, _dispatch

N, THREADS = _bench.pytest_settings()


def pytest_report_header(config):
    return (f"fastact {fa.__version__}: build {_dispatch.active_level()}, "
            f"fastact threads for benchmarks {THREADS}, n={N}, cpu flags {_bench.cpu_flags()}")


@pytest.fixture(scope="session", autouse=True)
def _fastact_threads():
    with fa.threads(THREADS):
        yield


_INPUTS = {}


@pytest.fixture
def case_inputs():
    """(a, grad) for a case, made once per session (keyed by its group)."""
    def get(case):
        if case.group not in _INPUTS:
            _INPUTS.clear()          # keep only one case's arrays alive
            _INPUTS[case.group] = case.inputs()
        return _INPUTS[case.group]
    return get


def pytest_benchmark_update_machine_info(config, machine_info):
    machine_info["fastact"] = dict(_bench.machine_info(), bench_threads=THREADS, n=N)


def pytest_benchmark_update_json(config, benchmarks, output_json):
    """Add speedup_vs_numpy: per group, median NumPy time / median time of each fastact impl."""
    by_group = {}
    for b in output_json.get("benchmarks", []):
        info = b.get("extra_info") or {}
        if "impl" in info:
            by_group.setdefault(b["group"], {})[info["impl"]] = b
    table = []
    for group, impls in sorted(by_group.items()):
        ref = impls.get("numpy")
        if ref is None:
            continue
        for impl, b in sorted(impls.items()):
            if impl == "numpy":
                continue
            info = b["extra_info"]
            table.append({
                "group": group, "kernel": info["kernel"], "direction": info["direction"],
                "dtype": info["dtype"], "n": info["n"], "impl": impl, "threads": info.get("threads"),
                "numpy_median_s": ref["stats"]["median"], "median_s": b["stats"]["median"],
                "speedup": ref["stats"]["median"] / b["stats"]["median"],
            })
    output_json["speedup_vs_numpy"] = table
