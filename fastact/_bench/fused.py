"""The fused kernels' bench: forward + backward of a training step's
elementwise work, fused against the sequences a user would otherwise write.

    python -m fastact._bench.fused [--n 1048576] [--threads 1|all] [--dtype float32 float64]

Rows (x of 2^20 elements: (1024, 1024); swiglu's x has 2^20, its output half):

* ``swiglu``: y = silu(a) * b and dL/dx (both halves).
* ``bias_gelu``: y = gelu(x + b) and (dL/dx, dL/db), b of the last axis.

Implementations, each one forward + backward:

* ``fastact``: the fused functions, ``swiglu`` / ``swiglu_backward`` and
  ``gelu(x, bias=b)`` / ``gelu_backward(g, x, bias=b)``;
* ``fastact_saved`` (bias_gelu only): ``gelu_and_derivative(x, bias=b)``, then
  the backward is ``apply_derivative(g, d, bias=b)``: g * d and its sum over
  rows in one pass (what nn.Linear runs);
* ``unfused``: the fastact sequence a user writes without the fused kernels
  (split, silu, multiply, silu_backward, concatenate; x + b, gelu,
  gelu_backward, grad.sum(0));
* ``numpy``: the NumPy expressions (fastact._baseline);
* ``torch``: torch eager, the composite and its autograd (F.silu(a) * b;
  F.gelu(x + b)), on tensors sharing the arrays' memory.
"""
from __future__ import annotations

import argparse
import math

import numpy as np

import fastact as fa
from fastact._baseline import NUMPY
from fastact._bench.timing import interleaved

ROWS = ("swiglu", "bias_gelu")


def _shape(n):
    row = min(1024, n)
    return (max(1, n // row), row)


def inputs(row, n, dtype, seed=0):
    """(x, b, g) of a row: b None for swiglu; g of the forward output's shape."""
    rng = np.random.default_rng(seed)
    shape = _shape(n)
    x = (rng.standard_normal(shape) * 2).astype(dtype)
    if row == "swiglu":
        return x, None, rng.standard_normal((shape[0], shape[1] // 2)).astype(dtype)
    return x, rng.standard_normal(shape[1]).astype(dtype), rng.standard_normal(shape).astype(dtype)


def callables(row, x, b, g, torch=None):
    """{impl: fn()}: each runs the forward and the backward, returning the
    gradients (a tuple for bias_gelu: dL/dx, dL/db)."""
    if row == "swiglu":
        def fused():
            fa.swiglu(x)
            return fa.swiglu_backward(g, x)

        def unfused():
            a, bb = np.split(x, 2, axis=-1)
            sa = fa.silu(a)
            sa * bb
            return np.concatenate([fa.silu_backward(g * bb, a), g * sa], axis=-1)

        f = NUMPY["swiglu"]

        def numpy():
            f["forward"](x, None, {})
            return f["x"](x, g, {})
        impls = {"fastact": fused, "unfused": unfused, "numpy": numpy}
        if torch is not None:
            F = torch.nn.functional
            xt, gt = torch.from_numpy(x), torch.from_numpy(g)

            def eager():
                xr = xt.detach().requires_grad_()
                a, bb = xr.chunk(2, dim=-1)
                (gx,) = torch.autograd.grad(F.silu(a) * bb, xr, gt)
                return gx
            impls["torch"] = eager
        return impls

    def fused():
        fa.gelu(x, bias=b)
        return fa.gelu_backward(g, x, bias=b)

    def saved():
        _, d = fa.gelu_and_derivative(x, bias=b)
        return fa.apply_derivative(g, d, bias=b, out=d)

    def unfused():
        s = x + b
        fa.gelu(s)
        gx = fa.gelu_backward(g, s)
        return gx, gx.sum(axis=0)

    f = NUMPY["gelu"]

    def numpy():
        s = x + b
        f["forward"](s, None, {})
        gx = f["x"](s, g, {})
        return gx, gx.sum(axis=0)
    impls = {"fastact": fused, "fastact_saved": saved, "unfused": unfused, "numpy": numpy}
    if torch is not None:
        F = torch.nn.functional
        xt, bt, gt = torch.from_numpy(x), torch.from_numpy(b), torch.from_numpy(g)

        def eager():
            xr, br = xt.detach().requires_grad_(), bt.detach().requires_grad_()
            return torch.autograd.grad(F.gelu(xr + br), (xr, br), gt)
        impls["torch"] = eager
    return impls


def _threads_setter(torch, all_threads):
    def set_threads(n):
        n = all_threads if n == "all" else n
        fa.set_num_threads(n)
        if torch is not None:
            torch.set_num_threads(n)
    return set_threads


def measure(rows=ROWS, n=1 << 20, dtypes=("float32", "float64"), threads=(1, "all"),
            rounds=None, torch_enabled=True):
    """[(row, dtype, threads, {impl: ns/element (min over rounds)})]."""
    torch = None
    if torch_enabled:
        try:
            import torch
        except ImportError:
            torch = None
    all_threads = fa.get_num_threads()
    torch_default = torch.get_num_threads() if torch is not None else None
    set_threads = _threads_setter(torch, all_threads)
    out = []
    try:
        for row in rows:
            for dt in dtypes:
                x, b, g = inputs(row, n, np.dtype(dt))
                for th in threads:
                    impls = {k: (fn, th) for k, fn in callables(row, x, b, g, torch).items()}
                    times = interleaved(impls, set_threads, rounds=rounds)
                    out.append((row, dt, th, {k: min(v) * 1e9 / x.size for k, v in times.items()}))
    finally:
        fa.set_num_threads(all_threads)
        if torch is not None:
            torch.set_num_threads(torch_default)
    return out


def report(results) -> str:
    """A Markdown table: ns/element per implementation and fastact's speed-ups."""
    impls = ["fastact", "fastact_saved", "unfused", "numpy", "torch"]
    head = ("| row | dtype | threads | " + " | ".join(impls)
            + " | unfused/fastact | torch/fastact |\n|" + "---|" * (len(impls) + 5))
    lines = [head]
    for row, dt, th, t in results:
        best = min(t.get("fastact", math.inf), t.get("fastact_saved", math.inf))
        cells = [f"{t[k]:.2f}" if k in t else "" for k in impls]
        ratio = [f"{t[k] / best:.2f}x" if k in t else "" for k in ("unfused", "torch")]
        lines.append(f"| {row} | {dt} | {th} | " + " | ".join(cells + ratio) + " |")
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=1 << 20)
    ap.add_argument("--threads", nargs="+", default=["1", "all"])
    ap.add_argument("--dtype", nargs="+", default=["float32", "float64"])
    ap.add_argument("--rounds", type=int, default=None)
    ap.add_argument("--no-torch", action="store_true")
    args = ap.parse_args(argv)
    threads = [t if t == "all" else int(t) for t in args.threads]
    res = measure(n=args.n, dtypes=args.dtype, threads=threads, rounds=args.rounds,
                  torch_enabled=not args.no_torch)
    print(f"ns/element (x's elements), min over rounds; fastact {fa.__version__}, "
          f"{fa.get_num_threads()} threads available")
    print(report(res))
    return res


if __name__ == "__main__":
    main()
