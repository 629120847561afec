"""Where do two threads start to beat one?  The data behind the threading
thresholds in fastact/_kernels/_fastact_pool.pyx (_parallel_min for cheap
kernels, _parallel_min / HEAVY_FACTOR for transcendental ones).

For a few cheap and a few transcendental kernels and sizes from 4K to 1M
elements, times a call into out= on one thread and on all threads (with the
threshold forced to 1, so the workers are always woken), interleaved,
minimum of many rounds, and prints the ratio one / all.  Two settings:

* alone: the kernel called in a loop, nothing else running;
* after-blas: each call follows a matrix multiply (z = a @ w with BLAS at
  its default threads, as in a network), which is how users call fastact:
  the ratio is (matmul + kernel on 1 thread) / (matmul + kernel on all), so
  it also counts what the kernel's threads cost the next matmul.

A threshold is right where the after-blas ratio stays at or above 1 from
there on (threads never make the program slower) and the alone ratio is
above 1.1 (they pay for themselves).

    python tools/tune_threads.py [--dtype float32] [--rounds 21]
"""
import argparse
import time

import numpy as np

import fastact as fa
from fastact import _threads

CHEAP = ("relu", "hardtanh", "leaky_relu")
HEAVY = ("sigmoid", "tanh", "silu", "gelu")


def best(fn, rounds, number):
    ts = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        ts.append((time.perf_counter() - t0) / number)
    return min(ts)


def ratio(fn, rounds, number, all_threads):
    one = many = float("inf")
    for _ in range(3):                  # alternate, so drift hits both alike
        with fa.threads(1):
            one = min(one, best(fn, max(1, rounds // 3), number))
        with fa.threads(all_threads):
            many = min(many, best(fn, max(1, rounds // 3), number))
    return one / many


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dtype", default="float32", choices=("float32", "float64"))
    ap.add_argument("--rounds", type=int, default=21)
    ap.add_argument("--linger", type=float, default=None,
                    help="microseconds a worker polls for the next job (default: the pool's)")
    ap.add_argument("--settings", default="alone,after-blas")
    args = ap.parse_args()
    if args.linger is not None:
        _threads._pool.set_linger(args.linger)
    old = _threads.get_parallel_min()
    all_threads = fa.get_num_threads()
    if all_threads < 2:
        raise SystemExit("tune_threads: only one thread available")
    sizes = [1 << k for k in range(12, 21)]
    width = 256
    print(f"{all_threads} threads, linger {_threads._pool.get_linger():g} us, {args.dtype}; ratio = time on 1 thread / time on "
          f"{all_threads} threads (> 1: threads win)")
    try:
        _threads.set_parallel_min(1)
        for setting in args.settings.split(","):
            print(f"\n{setting}\nkernel      " + "".join(f"{s:>8}" for s in sizes))
            for name in CHEAP + HEAVY:
                f = getattr(fa, name)
                row = []
                for n in sizes:
                    rng = np.random.default_rng(0)
                    a = rng.standard_normal((n // width, width)).astype(args.dtype)
                    w = (rng.standard_normal((width, width)) / 16).astype(args.dtype)
                    z = a @ w
                    if setting == "alone":
                        def call():
                            f(z, out=z)
                        number = max(1, 400_000 // n)
                    else:
                        def call():
                            np.matmul(a, w, out=z)
                            f(z, out=z)
                        number = max(1, 50_000 // n)
                    row.append(ratio(call, args.rounds, number, all_threads))
                tag = "heavy" if name in HEAVY else "cheap"
                print(f"{name:<10}{tag[0]} " + "".join(f"{r:8.2f}" for r in row), flush=True)
    finally:
        _threads.set_parallel_min(old)
    print(f"\nnow: cheap kernels from {_threads.get_parallel_min()}, heavy from "
          f"{_threads.get_parallel_min(True)} elements")


if __name__ == "__main__":
    main()
