"""Threads and memory.

* Many Python threads calling every kernel at once, on shared read-only
  inputs and private outputs, get exactly the one-thread results.
* Kernels on large arrays release the GIL: another Python thread makes
  progress while a long kernel runs.
* A million small calls and a thousand large ones leave the process's
  memory flat (RSS and tracemalloc) and the inputs' reference counts
  unchanged, on the fast path, the general path and the error paths.
"""
import functools
import gc
import sys
import threading
import time
import tracemalloc

import numpy as np
import pytest

import fastact as fa
from fastact import _dispatch

from conftest import small_parallel_threshold, threads_exactly

# Kinds covered: output of x's shape ("elementwise", "softmax") and "axis_x"
# (glu, maxout: the output, and so grad, is shorter along the axis; the
# inputs here are 1-d of even length).  "prelu" and "rrelu" take a weight /
# an rng and noise and are not called generically here.
KINDS = ("elementwise", "softmax", "axis_x")
RECORDS = [a for a in fa.activations().values() if a.kind in KINDS]


def _required(rec):
    """The registry's example values for the required parameters (threshold's
    threshold and value, maxout's pieces)."""
    return {p.name: p.example for p in rec.params if p.required}


def _grad_for(rec, kw):
    """g -> the grad argument for an x of g's shape: for axis_x the first
    out_len entries (the output's length), else g itself."""
    if rec.kind != "axis_x":
        return lambda g: g
    return lambda g: g[: eval(rec.extra["out_len"], {}, {"k": g.shape[-1], **kw})]


def _calls(rec):
    """(label, fn(x, g, out)) for the forward and each backward of rec."""
    f = getattr(fa, rec.name)
    b = getattr(fa, rec.name + "_backward")
    kw = _required(rec)
    gg = _grad_for(rec, kw)
    calls = [("forward", lambda x, g, out=None: f(x, out=out, **kw))]
    if "x" in rec.backward_from:
        calls.append(("x", lambda x, g, out=None: b(gg(g), x, out=out, **kw)))
    if "y" in rec.backward_from:
        calls.append(("y", lambda x, g, out=None: b(gg(g), y=x, out=out, **kw)))
    return [(f"{rec.name}-{k}", fn) for k, fn in calls]


ALL_CALLS = [c for rec in RECORDS for c in _calls(rec)]


def _inputs(n, dtype, seed):
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(n) * 3).astype(dtype)
    g = rng.standard_normal(n).astype(dtype)
    x.flags.writeable = False
    g.flags.writeable = False
    return x, g


@functools.lru_cache(maxsize=None)
def _gil_inputs():
    """The read-only 2M-element inputs of the GIL tests, made once."""
    return _inputs(2_000_000, np.float64, 0)


# ------------------------------------------------------------------ threads --

@pytest.mark.stress
@pytest.mark.parametrize("kernel_threads", [1, 2])
def test_many_python_threads(kernel_threads):
    """16 Python threads x every call x 3 sizes (GIL held / released /
    pool-threaded), shared read-only inputs, private outputs: the threads
    contend for fastact's pool (the losers run their calls alone)."""
    sizes = [(1000, np.float32), (50_000, np.float64), (300_000, np.float32)]
    shared = [_inputs(n, dt, i) for i, (n, dt) in enumerate(sizes)]
    with fa.threads(1):
        expected = [[fn(x, g) for _, fn in ALL_CALLS] for x, g in shared]
    nthreads, rounds = 16, 3
    barrier = threading.Barrier(nthreads)
    errors = []

    def worker(tid):
        try:
            outs = [[np.empty_like(e) for e in exp] for exp in expected]
            barrier.wait()
            for r in range(rounds):
                for s, (x, g) in enumerate(shared):
                    for c, (label, fn) in enumerate(ALL_CALLS):
                        if (tid + r) % 2:
                            got = fn(x, g, out=outs[s][c])
                        else:
                            got = fn(x, g)
                        if not np.array_equal(got, expected[s][c], equal_nan=True):
                            errors.append(f"thread {tid} round {r} {label} size {x.size}")
        except Exception as e:       # pragma: no cover - reported below
            errors.append(repr(e))

    with threads_exactly(kernel_threads), small_parallel_threshold():
        ts = [threading.Thread(target=worker, args=(i,)) for i in range(nthreads)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
    assert not errors, errors[:5]
    for x, g in shared:
        assert sys.getrefcount(x) == 3 and not x.flags.writeable  # shared, x in loop, getrefcount


def _progress_during(call, seconds_min=0.08):
    """How far a spinning Python thread gets while `call` runs, relative to
    what it gets in the same wall time with nothing else running."""
    count = [0]
    stop = threading.Event()

    def spin():
        while not stop.is_set():
            count[0] += 1

    t = threading.Thread(target=spin, daemon=True)
    t.start()
    try:
        time.sleep(0.01)
        c0, t0 = count[0], time.perf_counter()
        time.sleep(0.04)
        rate = (count[0] - c0) / (time.perf_counter() - t0)      # counts/s, alone
        # run the call repeatedly until it has taken at least seconds_min
        c0, t0, calls = count[0], time.perf_counter(), 0
        while time.perf_counter() - t0 < seconds_min or calls < 2:
            call()
            calls += 1
        elapsed = time.perf_counter() - t0
        progress = count[0] - c0
    finally:
        stop.set()
        t.join()
    return progress / (rate * elapsed)


@pytest.mark.stress
@pytest.mark.parametrize("label, fn", ALL_CALLS, ids=[c[0] for c in ALL_CALLS])
def test_kernels_release_the_gil(label, fn):
    """While one thread runs long kernels, another Python thread keeps
    running: with the GIL held it would get only the switch-interval slices
    between calls (a few %)."""
    x, g = _gil_inputs()
    out = np.empty_like(fn(x, g))
    with fa.threads(1):
        for attempt in range(3):           # a noisy VM: retry before failing
            share = _progress_during(lambda: fn(x, g, out=out))
            if share > 0.3:
                break
    print(f" {label}: other thread ran {share:.0%} of the time")
    assert share > 0.3, f"{label}: the other thread ran {share:.0%} of the time"


# ------------------------------------------------------------------- memory --

def _rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


def _small_paths():
    """(label, thunk) covering fast, general and error paths on small arrays."""
    x = np.linspace(-3, 3, 16)
    g = np.cos(x)
    x32 = x.astype(np.float32)
    out = np.empty_like(x)
    strided = np.linspace(-3, 3, 32)[::2]
    f16 = x.astype(np.float16)
    ints = np.arange(-8, 8)
    keep = (x, g, x32, out, strided, f16, ints)
    paths = []
    fout = np.empty(x.size // 2)     # axis_x (pieces 2): the forward's output
    keep += (fout,)
    for rec in RECORDS:
        kw = _required(rec)
        f = lambda *a, f=getattr(fa, rec.name), kw=kw, **k: f(*a, **kw, **k)              # noqa: E731
        b = lambda *a, b=getattr(fa, rec.name + "_backward"), kw=kw, **k: b(*a, **kw, **k)  # noqa: E731
        kw_a = (lambda a: {"y": a}) if "x" not in rec.backward_from else (lambda a: {"x": a})
        gr = _grad_for(rec, kw)(g)
        fo = fout if rec.kind == "axis_x" else out
        paths += [
            (f"{rec.name} new", lambda f=f: f(x)),
            (f"{rec.name} out", lambda f=f, fo=fo: f(x, out=fo)),
            (f"{rec.name} f32", lambda f=f: f(x32)),
            (f"{rec.name} backward", lambda b=b, kw_a=kw_a, gr=gr: b(gr, **kw_a(x))),
            (f"{rec.name} backward out", lambda b=b, kw_a=kw_a, gr=gr: b(gr, out=out, **kw_a(x))),
            (f"{rec.name} strided", lambda f=f: f(strided)),
            (f"{rec.name} float16", lambda f=f: f(f16)),
            (f"{rec.name} ints", lambda f=f: f(ints)),
            (f"{rec.name} 0-d", lambda f=f, ax=rec.kind == "axis_x": _swallow(f, x[3]) if ax else f(x[3])),
            (f"{rec.name} list", lambda f=f: f([0.5, -1.0])),
            (f"{rec.name} error", lambda f=f: _swallow(f, x, out=out[:3])),
        ]
    return keep, paths


def _swallow(fn, *args, **kw):
    try:
        fn(*args, **kw)
    except (TypeError, ValueError):
        pass


def test_small_calls_memory_flat():
    """About a million small calls: RSS flat, reference counts unchanged."""
    keep, paths = _small_paths()
    refs = [sys.getrefcount(a) for a in keep]
    per_path = max(1, 1_000_000 // (len(paths) * 4))   # the fast paths: more calls
    for _, p in paths:                                   # warm up caches, allocators
        for _ in range(200):
            p()
    gc.collect()
    rss0 = _rss()
    t0 = time.perf_counter()
    calls = 0
    for label, p in paths:
        n = per_path * (8 if label.endswith((" new", " out", " backward")) else 1)
        for _ in range(n):
            p()
        calls += n
    gc.collect()
    grown = _rss() - rss0
    print(f"\n{calls} small calls in {time.perf_counter() - t0:.2f} s; RSS {rss0 / 2**20:.1f} -> "
          f"{(rss0 + grown) / 2**20:.1f} MiB")
    assert [sys.getrefcount(a) for a in keep] == refs
    assert calls >= 500_000
    assert grown < 4 * 2**20, f"RSS grew by {grown / 2**20:.1f} MiB over {calls} calls"


def test_small_calls_tracemalloc_flat():
    """Python-level allocations: nothing retained per call (tracemalloc):
    about 100 000 calls in all (at least 200 per path), so a leak of even a
    few bytes per call on any path would show."""
    keep, paths = _small_paths()
    per_path = max(200, 100_000 // len(paths))
    for _, p in paths:
        p()
    gc.collect()
    tracemalloc.start()
    try:
        for _, p in paths:
            for _ in range(100):
                p()
        gc.collect()
        base, _ = tracemalloc.get_traced_memory()
        for _, p in paths:
            for _ in range(per_path):
                p()
        gc.collect()
        now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    calls = per_path * len(paths)
    print(f"\ntracemalloc: {base} -> {now} bytes (peak {peak}) over {calls} calls")
    assert now - base < 64 * 1024, f"{now - base} bytes retained over {calls} calls"


@pytest.mark.stress
def test_large_calls_memory_flat():
    """A thousand calls on 1M-element arrays, new results each time."""
    x, g = _inputs(1_000_000, np.float32, 3)
    refs = (sys.getrefcount(x), sys.getrefcount(g))
    for _, fn in ALL_CALLS:
        fn(x, g)
    gc.collect()
    rss0 = _rss()
    peak = rss0
    t0 = time.perf_counter()
    n = 0
    while n < 1000:
        for _, fn in ALL_CALLS:
            r = fn(x, g)
            del r
            n += 1
        peak = max(peak, _rss())
    gc.collect()
    grown = _rss() - rss0
    print(f"\n{n} calls on 1M float32 in {time.perf_counter() - t0:.2f} s; RSS {rss0 / 2**20:.1f} -> "
          f"{(rss0 + grown) / 2**20:.1f} MiB (peak {peak / 2**20:.1f})")
    assert (sys.getrefcount(x), sys.getrefcount(g)) == refs
    assert grown < 32 * 2**20, f"RSS grew by {grown / 2**20:.1f} MiB"
    assert peak - rss0 < 64 * 2**20


def test_gil_detector_sees_a_held_gil():
    """The check above is meaningful: a C call that keeps the GIL
    (bytes.count) lets the other thread run only a few % of the time."""
    big = b"ab" * 20_000_000
    assert _progress_during(lambda: big.count(b"abc")) < 0.3
