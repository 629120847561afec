"""A small multilayer perceptron in NumPy on scikit-learn's digits, with fastact.

    python examples/mlp_digits.py [--epochs 30] [--dtype float64]

The network is 64 -> 256 (ReLU) -> 128 (Tanh) -> 10 (Softmax), trained with
mini-batch SGD with momentum on the cross-entropy.  The activations are
``fastact.nn`` layers (forward keeps what backward needs); the hidden
layers take the bias too (``layer.forward(x @ W, bias=b)``: the bias add
and the activation in one pass, and the backward returns the bias gradient
from the same pass).  The same network,
from the same initial weights and the same batch order, is trained a second
time with the NumPy expressions a user would write (``fastact._baseline``),
and the script prints

* the loss per epoch and the test accuracy (the fastact run);
* the time spent inside the activations (forward + backward) in both runs;
* the largest difference between the two runs' losses (floating-point noise:
  fastact and NumPy round differently in the last bits).

The digits data (1797 8x8 images) ships with scikit-learn: no download.
The output layer's gradient is the usual fused softmax + cross-entropy
(p - onehot) / batch, so Softmax runs forward only.
"""
from __future__ import annotations

import argparse
import time

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import fastact as fa
from fastact import nn
from fastact._baseline import NUMPY


class Timed:
    """Wraps a layer and adds the time of its forward and backward to a total."""

    def __init__(self, layer, clock):
        self.layer, self.clock = layer, clock

    def forward(self, x, **kw):
        t = time.perf_counter()
        y = self.layer.forward(x, **kw)
        self.clock[0] += time.perf_counter() - t
        return y

    def backward(self, g):
        t = time.perf_counter()
        gx = self.layer.backward(g)
        self.clock[0] += time.perf_counter() - t
        return gx


class NumpyLayer:
    """The same layer with NumPy expressions, keeping what the fastact layer keeps."""

    def __init__(self, like):
        self.f = NUMPY[like.name]
        self.saves = like.saves
        self.p = dict(like.params, **({} if like.elementwise else {"axis": like.axis}))

    def forward(self, x, bias=None):
        self.bias = bias
        if bias is not None:
            x = x + bias
        y = self.f["forward"](x, None, self.p)
        self.saved = y if self.saves == "y" else x
        return y

    def backward(self, g):
        gx = self.f[self.saves](self.saved, g, self.p)
        return gx if self.bias is None else (gx, gx.sum(axis=0))


def init_weights(sizes, dtype, seed):
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal((m, n)) * np.sqrt(2.0 / m)).astype(dtype) for m, n in
            zip(sizes[:-1], sizes[1:])], [np.zeros(n, dtype) for n in sizes[1:]]


def train(acts, data, sizes, epochs, lr, momentum, batch, dtype, seed, verbose):
    Xtr, ytr, Xte, yte = data
    W, b = init_weights(sizes, dtype, seed)
    vW, vb = [np.zeros_like(w) for w in W], [np.zeros_like(c) for c in b]
    rng = np.random.default_rng(seed + 1)
    onehot = np.eye(sizes[-1], dtype=dtype)[ytr]
    losses = []
    for epoch in range(epochs):
        order = rng.permutation(len(Xtr))
        total = 0.0
        for s in range(0, len(order), batch):
            idx = order[s:s + batch]
            hs = [Xtr[idx]]
            for i, (w, c) in enumerate(zip(W, b)):
                # hidden layers: the bias add fused into the activation (one pass)
                hs.append(acts[i].forward(hs[-1] @ w, bias=c) if i < len(W) - 1
                          else acts[i].forward(hs[-1] @ w + c))
            p = hs[-1]
            total += -np.sum(np.log(np.maximum(p[np.arange(len(idx)), ytr[idx]], 1e-300)))
            g = (p - onehot[idx]) / len(idx)           # d(mean cross-entropy)/d(logits)
            for i in reversed(range(len(W))):
                if i < len(W) - 1:
                    g, gb = acts[i].backward(g)     # dL/dz and dL/db in one pass
                else:
                    gb = g.sum(axis=0)
                gW = hs[i].T @ g
                if i:
                    g = g @ W[i].T
                vW[i] = momentum * vW[i] - lr * gW
                vb[i] = momentum * vb[i] - lr * gb
                W[i] += vW[i]
                b[i] += vb[i]
        losses.append(total / len(Xtr))
        if verbose:
            print(f"  epoch {epoch + 1:3d}  loss {losses[-1]:.6f}")
    h = Xte
    for i, (w, c) in enumerate(zip(W, b)):
        h = acts[i].forward(h @ w, bias=c) if i < len(W) - 1 else acts[i].forward(h @ w + c)
    accuracy = float(np.mean(h.argmax(axis=1) == yte))
    return np.array(losses), accuracy


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=0.05)
    ap.add_argument("--dtype", default="float64", choices=["float32", "float64"])
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    dtype = np.dtype(args.dtype)

    X, y = load_digits(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split((X / 16).astype(dtype), y, test_size=0.25,
                                          random_state=args.seed, stratify=y)
    data = (Xtr, ytr, Xte, yte)
    sizes = (64, 256, 128, 10)
    layers = [nn.ReLU(), nn.Tanh(), nn.Softmax(axis=-1)]
    print(f"digits: {len(Xtr)} train / {len(Xte)} test, network {' -> '.join(map(str, sizes))} "
          f"({', '.join(map(repr, layers))}), {dtype}, fastact {fa.__version__}")

    # BLAS and fastact both at their default threads: fastact's workers sleep
    # between calls, so they never hold a core that the next matmul wants
    # (docs/threads.md).
    runs = _both(layers, data, sizes, dtype, args)

    (lf, af, tf, wf), (ln, an, tn, wn) = runs["fastact"], runs["numpy"]
    print(f"test accuracy: fastact {af:.2%}, numpy {an:.2%}")
    print(f"time in activations (forward + backward): fastact {tf * 1e3:.1f} ms, "
          f"numpy {tn * 1e3:.1f} ms, ratio numpy/fastact {tn / tf:.2f}x")
    print(f"whole training: fastact {wf:.2f} s, numpy {wn:.2f} s")
    print(f"max |loss difference| over {args.epochs} epochs: {np.max(np.abs(lf - ln)):.3g}")
    return runs


def _both(layers, data, sizes, dtype, args):
    runs = {}
    for label, acts in (("fastact", layers), ("numpy", [NumpyLayer(a) for a in layers])):
        clock = [0.0]
        t = time.perf_counter()
        losses, acc = train([Timed(a, clock) for a in acts], data, sizes, args.epochs, args.lr,
                            0.9, args.batch, dtype, args.seed, verbose=label == "fastact")
        runs[label] = (losses, acc, clock[0], time.perf_counter() - t)
    return runs


if __name__ == "__main__":
    main()
