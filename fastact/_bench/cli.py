"""``python -m fastact bench``: run the cases, the call-overhead and the
thread-scaling sections, print the table and the verdicts, write the JSON."""
from __future__ import annotations

import json
import sys
import time

import numpy as np

import fastact as fa
from fastact._baseline import NUMPY
from fastact._bench import others as _others
from fastact._bench import timing
from fastact._bench.cases import SOFTMAX_ROW, cases
from fastact._bench.machine import machine_info
from fastact._bench.others import OTHERS
from fastact._bench.report import (TARGET_MEMCPY, TARGET_SCALING, format_markdown, format_text,
                                   verdicts)
from fastact._bench.timing import _check_close, _ThreadSetter, interleaved
from fastact._bench.torch_table import TORCH_NOTES, get_torch

IMPLS = ("numpy", "torch", "fastact", "fastact_out", "fastact_mt", "fastact_f32") + OTHERS


def _ns(t, n):
    return t * 1e9 / n


def bench_case(case, set_threads, torch_enabled, all_threads, others=False):
    a, g = case.inputs()
    impls = case.callables(a, g, torch_enabled, others)
    problem = _check_close(case, a, g, torch_enabled)
    samples = interleaved(impls, set_threads)
    best = {k: min(v) for k, v in samples.items()}
    med = {k: float(np.median(v)) for k, v in samples.items()}
    n = case.n
    row = {
        "name": case.label, "function": case.name, "direction": case.direction,
        "dtype": case.dtype, "params": dict(case.params),
        "shape": list(case.shape), "out_shape": list(case.out_shape), "n": n,
        "threads_all": all_threads,
        "transcendental": case.transcendental, "target_vs_numpy": case.target_vs_numpy,
        "ns_per_element": {k: _ns(best.get(k), n) if k in best else None for k in IMPLS},
        "ns_per_element_median": {k: _ns(med[k], n) if k in med else None for k in IMPLS},
        "torch_note": TORCH_NOTES.get((case.key, case.direction)) if "torch" in best else None,
        "mismatch": problem,
    }
    ns = row["ns_per_element"]
    row["speedup_vs_numpy"] = ns["numpy"] / ns["fastact"] if ns["numpy"] else None
    row["speedup_vs_torch"] = ns["torch"] / ns["fastact"] if ns["torch"] else None
    row["speedup_out_vs_numpy"] = ns["numpy"] / ns["fastact_out"] if ns["numpy"] else None
    row["threads_speedup"] = ns["fastact_out"] / ns["fastact_mt"]
    # half-width rows: fastact's time over its own float32 time on the same values
    row["ratio_vs_f32"] = ns["fastact"] / ns["fastact_f32"] if ns["fastact_f32"] else None
    timed = [ns[k] for k in OTHERS if ns.get(k) is not None]
    row["speedup_vs_fastest_other"] = min(timed) / ns["fastact"] if timed else None
    return row


def bench_overhead(set_threads, torch_enabled):
    """µs per call on 16 float32 elements: fastact.sigmoid vs np.exp vs NumPy vs torch."""
    x16 = np.linspace(-4, 4, 16, dtype=np.float32)
    expr = NUMPY["sigmoid"]["forward"]
    impls = {
        "fastact.sigmoid": (lambda: fa.sigmoid(x16), None),
        "np.exp": (lambda: np.exp(x16), None),
        "numpy sigmoid expression": (lambda: expr(x16, None, {}), None),
    }
    torch, _ = get_torch(torch_enabled)
    if torch is not None:
        t16 = torch.from_numpy(x16)
        impls["torch.sigmoid"] = (lambda: torch.sigmoid(t16), "torch")
    s = interleaved(impls, set_threads, sample_s=0.002)
    us = {k: min(v) * 1e6 for k, v in s.items()}
    return {"us_per_call": us, "ratio_vs_np_exp": {k: v / us["np.exp"] for k, v in us.items()}}


def bench_scaling(set_threads, all_threads, n=1 << 24):
    """16M float32 sigmoid forward into out=: 1 thread, all threads, and np.copyto."""
    x = (np.random.default_rng(2).standard_normal(n) * 3).astype(np.float32)
    out = np.empty_like(x)
    out2 = np.empty_like(x)
    impls = {
        "fastact 1 thread": (lambda: fa.sigmoid(x, out=out), 1),
        f"fastact {all_threads} threads": (lambda: fa.sigmoid(x, out=out), "all"),
        "memcpy (np.copyto)": (lambda: np.copyto(out2, x), None),
    }
    s = interleaved(impls, set_threads, sample_s=0.001)
    best = {k: min(v) for k, v in s.items()}
    med = [float(np.median(v)) for v in s.values()]
    t1, tn, tm = best.values()
    return {
        "n": n, "dtype": "float32", "threads": all_threads,
        "ns_per_element": {k: _ns(v, n) for k, v in best.items()},
        "ns_per_element_median": {k: _ns(v, n) for k, v in zip(best, med)},
        "median_speedup_all_vs_1": med[0] / med[1],
        "speedup_all_vs_1": t1 / tn,
        "all_vs_memcpy": tn / tm,
        "ok": (t1 / tn >= TARGET_SCALING) or (tn / tm <= TARGET_MEMCPY),
    }


def run(args):
    names = getattr(args, "only", None)
    dtypes = tuple(getattr(args, "dtype", None) or ("float32", "float64"))
    size = int(getattr(args, "size", 1 << 20))
    if size < 1:
        print("fastact bench: --size must be >= 1", file=sys.stderr)
        return 2
    torch_enabled = not getattr(args, "no_torch", False)
    others = not getattr(args, "no_others", False)
    skipped = []
    try:
        todo = cases(names, dtypes, size, skipped)
    except ValueError as exc:
        print(f"fastact bench: {exc}", file=sys.stderr)
        return 2
    torch, _ = get_torch(torch_enabled)
    all_threads = fa.get_num_threads()
    set_threads = _ThreadSetter(all_threads, torch)
    t_start = time.perf_counter()
    machine = machine_info(torch)
    if others:
        machine["others"] = _others.versions()
    result = {"machine": machine, "size": size, "rounds": timing._ROUNDS,
              "softmax_row": SOFTMAX_ROW, "rows": [], "skipped": skipped}
    tty = sys.stderr.isatty()

    def progress(msg):
        if tty:
            print(f"{msg:<60}", file=sys.stderr, end="\r", flush=True)

    try:
        for i, case in enumerate(todo):
            progress(f"[{i + 1}/{len(todo)}] {case.group}")
            result["rows"].append(bench_case(case, set_threads, torch_enabled, all_threads, others))
        if "sigmoid" in fa.activations() and (not names or "sigmoid" in names):
            progress("call overhead ...")
            result["overhead"] = bench_overhead(set_threads, torch_enabled)
            progress("thread scaling ...")
            result["threads_scaling"] = bench_scaling(set_threads, all_threads)
        progress("")
    finally:
        set_threads.restore()
    result["seconds"] = time.perf_counter() - t_start
    result["verdicts"] = verdicts(result)
    if getattr(args, "markdown", False):
        print(format_markdown(result))
    else:
        print(format_text(result))
    for name, why in skipped:
        print(f"skipped {name}: {why}", file=sys.stderr)
    print(f"({result['seconds']:.0f} s)", file=sys.stderr)
    if getattr(args, "json", None):
        with open(args.json, "w") as fh:
            json.dump(result, fh, indent=1)
        print(f"wrote {args.json}", file=sys.stderr)
    return 0
