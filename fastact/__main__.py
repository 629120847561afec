"""Command line: python -m fastact info | demo | bench | plot | vanishing

Configuration, a demonstration, the benchmark, and the figures of every
activation with its derivative and of vanishing gradients (python -m fastact
COMMAND --help for each)."""
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
    for name, rec in fa.activations().items():
        if rec.kind not in ("elementwise", "softmax"):
            continue                    # glu, maxout, prelu, rrelu: not f(v) of v alone
        kw = {p.name: p.example for p in rec.params if p.required}
        y = getattr(fa, name)(v, **kw)
        d = fa.derivative(name, v, **kw)
        print(f"{name:>12}(v) = {y}\n{name + chr(39):>12}(v) = {d}")
    print("\nbackward in place:  g = np.ones(3); fa.relu_backward(g, [-1., 0., 2.], out=g) ->",
          fa.relu_backward(np.ones(3), [-1.0, 0.0, 2.0], out=np.ones(3)))


def _bench(args):
    if args.workload:
        from fastact import _workload
        return _workload.run(args)
    if args.losses:
        from fastact._bench import loss
        return loss.run(args)
    from fastact import _bench
    return _bench.run(args)


def _figure_out(args, default):
    """Pick the backend: Agg when writing a file or without a display."""
    import os
    try:
        import matplotlib
    except ImportError:
        args._parser.error("plotting needs matplotlib: pip install 'fastact[plot]'")
    headless = (sys.platform.startswith("linux") and not os.environ.get("DISPLAY")
                and not os.environ.get("WAYLAND_DISPLAY"))
    out = args.out or (default if headless else None)
    if out:
        matplotlib.use("Agg")
    return out


def _show_or_save(fig, out):
    import matplotlib.pyplot as plt
    if out:
        fig.savefig(out, dpi=150)
        plt.close(fig)
        print(out)
    else:
        plt.show()


def _plot(args):
    import fastact
    valid = sorted(fastact.activations())
    unknown = [n for n in args.names if n not in valid]
    if unknown:
        args._parser.error(f"unknown activation(s) {', '.join(unknown)}; valid: {', '.join(valid)}")
    lo, hi = args.range
    if not lo < hi:
        args._parser.error(f"--range: need LO < HI, got {lo:g} {hi:g}")
    out = _figure_out(args, "activations.png")
    from fastact import plot
    fig = plot.plot_activations(args.names or None, x=np.linspace(lo, hi, 1201),
                                derivative=args.derivative)
    _show_or_save(fig, out)


def _vanishing(args):
    if args.depth < 1:
        args._parser.error(f"--depth must be >= 1, got {args.depth}")
    out = _figure_out(args, "vanishing_gradient.png")
    from fastact import plot
    _show_or_save(plot.plot_vanishing_gradient(depth=args.depth), out)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m fastact", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("info", help="version, CPU build, threads").set_defaults(func=_info)
    sub.add_parser("demo", help="values and gradients of each activation").set_defaults(func=_demo)
    b = sub.add_parser("bench", help="ns/element of fastact against NumPy (and PyTorch, numexpr, "
                                     "numba, jax where installed)")
    b.add_argument("--size", type=int, default=1 << 20, help="elements per array (default 2**20)")
    b.add_argument("--only", nargs="+", metavar="NAME", help="these activations only")
    b.add_argument("--dtype", nargs="+", choices=["float32", "float64", "float16", "bfloat16"],
                   default=["float32", "float64"])
    b.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    b.add_argument("--no-torch", action="store_true", help="do not time PyTorch")
    b.add_argument("--no-others", action="store_true",
                   help="do not time numexpr, numba and jax.jit (timed when installed)")
    b.add_argument("--markdown", action="store_true",
                   help="print the results as the markdown that goes into docs/performance.md")
    b.add_argument("--workload", action="store_true",
                   help="end to end instead: a training step between matrix multiplies, and "
                        "scikit-learn's MLP stock vs patched, at default threads")
    b.add_argument("--losses", action="store_true",
                   help="the fused reductions instead (logsumexp, cross_entropy): forward + "
                        "backward against the unfused fastact calls, NumPy and torch")
    b.set_defaults(func=_bench)
    p = sub.add_parser("plot", help="plot activations and their derivatives (needs matplotlib)")
    p.add_argument("names", nargs="*", metavar="NAME", help="these activations (default: all)")
    p.add_argument("--out", metavar="FILE", help="write FILE (.png, .svg, .pdf) instead of showing")
    p.add_argument("--range", nargs=2, type=float, default=[-4.0, 4.0], metavar=("LO", "HI"),
                   help="x range (default -4 4)")
    p.add_argument("--derivative", action=argparse.BooleanOptionalAction, default=True,
                   help="also draw the derivative (default: yes)")
    p.set_defaults(func=_plot, _parser=p)
    v = sub.add_parser("vanishing", help="plot the vanishing-gradient bound through a chain of layers")
    v.add_argument("--depth", type=int, default=10, help="layers in the chain (default 10)")
    v.add_argument("--out", metavar="FILE", help="write FILE (.png, .svg, .pdf) instead of showing")
    v.set_defaults(func=_vanishing, _parser=v)
    args = parser.parse_args(argv)
    return args.func(args) or 0


if __name__ == "__main__":
    sys.exit(main())
