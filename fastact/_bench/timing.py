"""Timing: implementations of one case timed round-robin, the thread counts
each is timed with, and the check that fastact agrees with the NumPy
expression before it is timed.
"""
from __future__ import annotations

import gc
import os
import time

import numpy as np

import fastact as fa
from fastact._baseline import NUMPY

# Many short samples: on a noisy (virtual) machine the minimum over many
# rounds is the estimate least disturbed by other tenants.  Short samples
# matter most for the all-threads runs: on a VM whose vCPUs are throttled or
# stolen, a team of threads often stalls for milliseconds (docs/performance.md).
_ROUNDS = int(os.environ.get("FASTACT_BENCH_ROUNDS", "31"))
_SAMPLE_S = float(os.environ.get("FASTACT_BENCH_SAMPLE", "0.0015"))


class _ThreadSetter:
    """Set the thread counts an implementation is timed with.

    spec: None (leave fastact as is), 1 or "all" (fastact's threads), or
    "torch" (torch on one thread).  torch is set to one thread only while
    torch is timed, and put back to its default after, so that whatever else
    runs in the process (BLAS through torch, ...) is timed as the user has it.
    """

    def __init__(self, all_threads, torch=None):
        self.all = all_threads
        self.current = None
        self.torch = torch
        self.torch_default = torch.get_num_threads() if torch is not None else None
        self.torch_one = False

    def __call__(self, spec):
        if spec == "torch":
            if self.torch is not None and not self.torch_one:
                self.torch.set_num_threads(1)
                self.torch_one = True
            return
        if self.torch_one:
            self.torch.set_num_threads(self.torch_default)
            self.torch_one = False
        if spec is None:
            return
        n = self.all if spec == "all" else spec
        if n != self.current:
            fa.set_num_threads(n)
            self.current = n

    def restore(self):
        self("all")


def interleaved(impls, set_threads, rounds=None, sample_s=None, number=None):
    """Time {impl: (fn, threads)} round-robin.  Returns {impl: [s/call per round]}.

    rounds and sample_s default to _ROUNDS and _SAMPLE_S (read at each call,
    so that the tests can shorten them).

    Each implementation is warmed up, its calls per sample chosen so that a
    sample lasts about sample_s, then the rounds run with the starting
    implementation rotating each round.
    """
    rounds = _ROUNDS if rounds is None else rounds
    sample_s = _SAMPLE_S if sample_s is None else sample_s
    names = list(impls)
    numbers = {}
    for k in names:
        fn, th = impls[k]
        set_threads(th)
        fn()                                    # warm up (page faults, thread pool)
        t0 = time.perf_counter()
        fn()
        est = time.perf_counter() - t0
        numbers[k] = number or max(1, min(100_000, int(sample_s / max(est, 1e-7))))
    samples = {k: [] for k in names}
    gc_was = gc.isenabled()
    gc.disable()
    try:
        for r in range(rounds):
            order = names[r % len(names):] + names[:r % len(names)]
            for k in order:
                fn, th = impls[k]
                set_threads(th)
                num = numbers[k]
                step = max(1, num // 8)
                done = 0
                t0 = time.perf_counter()
                while done < num:           # in steps, to cut a sample short when
                    for _ in range(step):   # the machine stalls (see docs/performance.md)
                        fn()
                    done += step
                    elapsed = time.perf_counter() - t0
                    if elapsed > 5 * sample_s:
                        break
                samples[k].append(elapsed / done)
    finally:
        if gc_was:
            gc.enable()
    return samples


def _check_close(case, a, g, torch_enabled=None):
    """Compare fastact with the NumPy expression once; a message if they differ.

    A backward returning several arrays (prelu's grad_x, grad_weight) is
    compared array by array.
    """
    base = NUMPY.get(case.key, {}).get(case.direction)
    if base is None:
        return None
    p = case.call_params(a)
    with np.errstate(all="ignore"):
        want = base(a, g, p)
        got = case.fastact_call(a, g, p)
    wants = want if isinstance(want, tuple) else (want,)
    gots = got if isinstance(got, tuple) else (got,)
    if len(wants) != len(gots):
        return f"{len(gots)} result(s), NumPy's expression gives {len(wants)}"
    for i, (w, gt) in enumerate(zip(wants, gots)):
        problem = _compare(np.asarray(gt, dtype=np.float64), np.asarray(w, dtype=np.float64),
                           case.dtype)
        if problem:
            return problem if len(wants) == 1 else f"result {i}: {problem}"
    return None


def _compare(got, want, dtype):
    if got.shape != want.shape:
        return f"shape {got.shape} != NumPy's {want.shape}"
    both_nan = np.isnan(got) & np.isnan(want)
    if (np.isnan(got) != np.isnan(want)).any():
        return "nan where NumPy has none (or the reverse)"
    diff = np.abs(np.where(both_nan, 0, got - want))
    scale = max(float(np.max(np.abs(np.where(both_nan, 0, want)), initial=0)), 1e-30)
    rel = float(diff.max(initial=0)) / scale
    tol = {"float32": 1e-4, "float16": 2e-3, "bfloat16": 1.6e-2}.get(dtype, 1e-10)
    if rel > tol:
        return f"max |fastact - numpy| / max|numpy| = {rel:.2e} (> {tol:g})"
    return None
