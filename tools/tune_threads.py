"""Where do two threads start to beat one?  The data behind the threading
thresholds in fastact/_kernels/_driver.pxi (_parallel_min for cheap kernels,
_parallel_min / HEAVY_FACTOR for transcendental ones).

For a few cheap and a few transcendental kernels and sizes from 1K to 256K
elements, times a call into out= on one thread and on all threads (with the
threshold forced to 1, so the team always starts), interleaved, minimum of
many rounds, and prints the ratio one / all.  The crossover is the smallest
size from which the ratio stays above 1.1.

    python tools/tune_threads.py [--dtype float32] [--rounds 41]
"""
import argparse
import time

import numpy as np

import fastact as fa
from fastact import _dispatch

CHEAP = ("relu", "hardtanh", "leaky_relu")
HEAVY = ("sigmoid", "silu", "gelu")


def best(fn, rounds, number):
    ts = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        ts.append((time.perf_counter() - t0) / number)
    return min(ts)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dtype", default="float32", choices=("float32", "float64"))
    ap.add_argument("--rounds", type=int, default=41)
    args = ap.parse_args()
    mod = _dispatch.active_module()
    old = mod.get_parallel_min()
    all_threads = fa.get_num_threads()
    if all_threads < 2:
        raise SystemExit("tune_threads: only one thread available")
    sizes = [1 << k for k in range(10, 19)]
    print(f"build {_dispatch.active_level()}, {all_threads} threads, {args.dtype}; "
          f"ratio = time on 1 thread / time on {all_threads} threads")
    print("kernel      " + "".join(f"{s:>8}" for s in sizes))
    try:
        mod.set_parallel_min(1)
        for name in CHEAP + HEAVY:
            row = []
            for n in sizes:
                x = np.random.default_rng(0).standard_normal(n).astype(args.dtype)
                out = np.empty_like(x)
                f = getattr(fa, name)
                number = max(1, 200_000 // n)
                one = many = float("inf")
                for _ in range(3):          # alternate, so drift hits both alike
                    with fa.threads(1):
                        one = min(one, best(lambda: f(x, out=out), args.rounds // 3, number))
                    with fa.threads(all_threads):
                        many = min(many, best(lambda: f(x, out=out), args.rounds // 3, number))
                row.append(one / many)
            tag = "heavy" if name in HEAVY else "cheap"
            print(f"{name:<10}{tag[0]} " + "".join(f"{r:8.2f}" for r in row))
    finally:
        mod.set_parallel_min(old)
    print(f"now: cheap kernels from {mod.get_parallel_min()}, heavy from "
          f"{mod.get_parallel_min(True)} elements")


if __name__ == "__main__":
    main()
