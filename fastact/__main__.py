"""Command line: python -m fastact info | demo | bench"""
from __future__ import annotations

import argparse
import sys

import numpy as np


def _info(args):
    import fastact
    fastact.show_config()


def _demo(args):
    """The tutorials' figures, computed by fastact."""
    import fastact as fa
    np.set_printoptions(precision=8, linewidth=100)
    print(f"sigmoid(1.0) = {float(fa.sigmoid(1.0))!r}   (float64)")
    x = np.linspace(-10, 10, 10, dtype=np.float32)
    print("\nx = np.linspace(-10, 10, 10, dtype=np.float32)")
    print(f"x                      = {x}")
    print(f"sigmoid(x)             = {fa.sigmoid(x)}")
    print(f"sigmoid'(x)  (from x)  = {fa.derivative('sigmoid', x)}")
    print(f"max sigmoid'           = {fa.derivative('sigmoid', np.float64(0.0))}  -> 10 layers "
          f"scale a gradient by at most 0.25**10 = {0.25 ** 10:.3e}")
    v = np.array([-3.0, -1.0, -0.0, 0.0, 1.0, 3.0], dtype=np.float32)
    print(f"\nv = {v}")
    for name in fa.activations():
        y = getattr(fa, name)(v)
        d = fa.derivative(name, v)
        print(f"{name:>12}(v) = {y}\n{name + chr(39):>12}(v) = {d}")
    print("\nbackward in place:  g = np.ones(3); fa.relu_backward(g, [-1., 0., 2.], out=g) ->",
          fa.relu_backward(np.ones(3), [-1.0, 0.0, 2.0], out=np.ones(3)))


def _bench(args):
    from fastact import _bench
    return _bench.run(args)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m fastact", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("info", help="version, CPU build, threads, OpenMP").set_defaults(func=_info)
    sub.add_parser("demo", help="values and gradients of each activation").set_defaults(func=_demo)
    b = sub.add_parser("bench", help="ns/element of fastact against NumPy (and PyTorch if installed)")
    b.add_argument("--size", type=int, default=1 << 20, help="elements per array (default 2**20)")
    b.add_argument("--only", nargs="+", metavar="NAME", help="these activations only")
    b.add_argument("--dtype", nargs="+", choices=["float32", "float64"], default=["float32", "float64"])
    b.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    b.add_argument("--no-torch", action="store_true", help="do not time PyTorch")
    b.add_argument("--markdown", action="store_true",
                   help="print the results as the markdown that goes into docs/performance.md")
    b.set_defaults(func=_bench)
    args = parser.parse_args(argv)
    return args.func(args) or 0


if __name__ == "__main__":
    sys.exit(main())
