"""Bench rows of the fused reductions (the registry's LOSSES: logsumexp,
cross_entropy): forward + backward, ns per logit, against the unfused fastact
sequence a user would write, the NumPy expression and torch eager, on 2^20
logits of two shapes, float32 and float64, one thread and all threads.

The expressions timed are the records' ``unfused``, ``numpy`` and ``torch``
entries ("both": forward then backward) over the helpers below;
``python -m fastact bench --losses [--markdown]`` prints the table.
"""
from __future__ import annotations

import numpy as np

import fastact as fa
from fastact._registry import LOSSES

SHAPES = ((1024, 1024), (8192, 128))      # 2^20 logits: rows x classes


# ---- the helpers the registry's expressions call --------------------------

def np_logsumexp(x, axis=-1):
    m = x.max(axis=axis, keepdims=True)
    return np.squeeze(m, axis) + np.log(np.exp(x - m).sum(axis=axis))


def np_logsumexp_both(x, axis=-1):
    m = x.max(axis=axis, keepdims=True)
    e = np.exp(x - m)
    s = e.sum(axis=axis, keepdims=True)
    return np.squeeze(m + np.log(s), axis), e / s      # backward with grad 1: softmax


def fa_logsumexp_both(x, axis=-1):
    """Without a logsumexp: log_softmax's first entry gives it, softmax the backward."""
    lse = np.take(x, 0, axis) - np.take(fa.log_softmax(x, axis), 0, axis)
    return lse, fa.softmax(x, axis)


def _onehot_sub(g, t, axis):
    np.put_along_axis(g, np.expand_dims(t, axis),
                      np.take_along_axis(g, np.expand_dims(t, axis), axis) - 1, axis)


def np_cross_entropy(x, t, axis=-1):
    m = x.max(axis=axis, keepdims=True)
    lp = x - m - np.log(np.exp(x - m).sum(axis=axis, keepdims=True))
    return -np.take_along_axis(lp, np.expand_dims(t, axis), axis).mean()


def np_cross_entropy_both(x, t, axis=-1):
    m = x.max(axis=axis, keepdims=True)
    e = np.exp(x - m)
    s = e.sum(axis=axis, keepdims=True)
    lp = x - m - np.log(s)
    loss = -np.take_along_axis(lp, np.expand_dims(t, axis), axis).mean()
    g = e / s
    _onehot_sub(g, t, axis)
    g /= t.size
    return loss, g


def fa_cross_entropy_both(x, t, axis=-1):
    """log_softmax, then the mean of the target's entries; softmax minus one-hot over N."""
    lp = fa.log_softmax(x, axis)
    loss = -np.take_along_axis(lp, np.expand_dims(t, axis), axis).mean()
    g = fa.softmax(x, axis)
    _onehot_sub(g, t, axis)
    g /= t.size
    return loss, g


def torch_logsumexp_both(x, axis=-1):
    import torch
    x.grad = None
    y = torch.logsumexp(x, axis)
    y.backward(torch.ones_like(y))
    return y, x.grad


def torch_cross_entropy_both(x, t):
    import torch.nn.functional as F
    x.grad = None
    loss = F.cross_entropy(x, t)
    loss.backward()
    return loss, x.grad


# ---- the cases ------------------------------------------------------------

def inputs(rec, shape, dtype, seed=0):
    """(x, target or None) for a record: logits of `shape`, class indices."""
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(shape) * 2).astype(dtype)
    t = rng.integers(0, shape[-1], shape[:-1]) if rec.kind == "loss" else None
    return x, t


def fused(rec, x, t):
    """The fastact functions' forward then backward (the record's own kernels)."""
    fwd, bwd = getattr(fa, rec.name), getattr(fa, rec.name + "_backward")
    if rec.kind == "loss":
        one = x.dtype.type(1.0)
        return lambda: (fwd(x, t), bwd(one, x, t))
    ones = np.ones(x.shape[:-1], x.dtype)
    return lambda: (fwd(x), bwd(ones, x))


def callables(rec, x, t, torch_enabled=True):
    """{impl: fn} of the forward + backward: fastact (the two fused functions),
    fastact_and_d (NAME_and_derivative: one pass for both, grad 1),
    fastact_layer (fastact.nn's layer, the same pass), unfused (fastact
    calls), numpy, torch."""
    p = {"axis": -1}
    ns = {"np": np, "fa": fa, **{k: v for k, v in globals().items()
                                 if k.startswith(("np_", "fa_", "torch_"))}}
    out = {"fastact": fused(rec, x, t)}
    if rec.and_derivative:
        both = getattr(fa, rec.name + "_and_derivative")
        out["fastact_and_d"] = lambda: both(x, t)
    if rec.class_name:
        from fastact import nn
        layer = getattr(nn, rec.class_name)()
        out["fastact_layer"] = lambda: (layer(x, t), layer.backward())
    out["unfused"] = _bind(rec.unfused["both"], ns, x, t, p)
    out["numpy"] = _bind(rec.numpy["both"], ns, x, t, p)
    if torch_enabled and "both" in rec.torch:
        try:
            import torch
        except ImportError:
            return out
        xt = torch.from_numpy(x.copy()).requires_grad_()
        tt = torch.from_numpy(t) if t is not None else None
        out["torch"] = _bind(rec.torch["both"], {**ns, "torch": torch}, xt, tt, p)
    return out


def _bind(expr, ns, x, t, p):
    code = compile(expr, f"<bench {expr}>", "eval")
    env = {**ns, "x": x, "t": t, "p": p}
    return lambda: eval(code, env)


def rows(threads=(1, "all"), dtypes=("float32", "float64"), torch_enabled=True, rounds=None):
    """Timed rows: {name, shape, dtype, threads, ns: {impl: ns/logit}}."""
    from fastact._bench.timing import _ThreadSetter, interleaved
    try:
        import torch
    except ImportError:
        torch, torch_enabled = None, False
    all_threads = fa.get_num_threads()
    setter = _ThreadSetter(all_threads, torch)
    out = []
    try:
        for rec in LOSSES:
            for shape in SHAPES:
                for dt in dtypes:
                    x, t = inputs(rec, shape, dt)
                    fns = callables(rec, x, t, torch_enabled)
                    for th in threads:
                        n = all_threads if th == "all" else th
                        best = {k: min(v) for k, v in
                                interleaved({k: (f, n) for k, f in fns.items()}, setter,
                                            rounds=rounds).items()}
                        out.append({"name": rec.name, "shape": shape, "dtype": dt, "threads": n,
                                    "ns": {k: v * 1e9 / x.size for k, v in best.items()}})
    finally:
        setter.restore()
    return out


IMPL_COLUMNS = ("fastact", "fastact_and_d", "fastact_layer", "unfused", "numpy", "torch")


def format_markdown(result):
    lines = ["| function | logits | dtype | threads | " + " | ".join(IMPL_COLUMNS)
             + " | unfused / fastact | torch / fastact | torch / and_d | torch / layer |",
             "|---|---|---|---|" + "---|" * (len(IMPL_COLUMNS) + 4)]
    for r in result:
        ns = r["ns"]
        cell = lambda k: f"{ns[k]:.2f}" if k in ns else "-"                        # noqa: E731
        ratio = lambda a, b: f"{ns[a] / ns[b]:.2f}" if a in ns and b in ns else "-"   # noqa: E731
        lines.append(f"| {r['name']} | {r['shape'][0]}x{r['shape'][1]} | {r['dtype']} | "
                     f"{r['threads']} | " + " | ".join(cell(k) for k in IMPL_COLUMNS)
                     + f" | {ratio('unfused', 'fastact')} | {ratio('torch', 'fastact')} | "
                     f"{ratio('torch', 'fastact_and_d')} | {ratio('torch', 'fastact_layer')} |")
    return "\n".join(lines)


def run(args):
    dtypes = tuple(getattr(args, "dtype", None) or ("float32", "float64"))
    result = rows(dtypes=dtypes, torch_enabled=not getattr(args, "no_torch", False))
    print("ns per logit, forward + backward (min over interleaved rounds)\n")
    print(format_markdown(result))
    return 0
