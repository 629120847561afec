"""Max ULP error of a bench peer (NumPy, torch, numexpr, numba, jax) beside
fastact's, against mpmath, on the same inputs, for the bench rows where a
peer was faster (docs/performance.md, "Where a peer is faster"):

    python tools/peer_accuracy.py run1.json run2.json   # rows a peer won in both runs
    python tools/peer_accuracy.py --row 'gelu[tanh]' forward float32 jax

Each peer computes the bench's own expression for the row (fastact/_bench:
NUMPY, the torch table, others.py).  Regions: tests/reference.py's sample,
the tail x in [-1e4, -1] (log-uniform), near zero (|x| in [1e-30, 0.1] for
float32, [1e-300, 0.1] for float64), the bulk [-10, 10]; gradients of 1 (the
backward is then the derivative).  Backward from y: y = fastact's forward of
those x, the reference the exact formula on that y.  Axis functions: rows of
1024, see _axis_regions.  A nan where the exact value is finite counts as inf.
Elementwise rows also show the maximum over the points whose input and
exact result are 0 or normal: there flushing subnormals to zero (XLA's CPU
default) changes nothing.
"""
import argparse
import json
import math
import sys
from pathlib import Path

import mpmath as mp
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
import fastact as fa  # noqa: E402
from fastact._baseline import NUMPY  # noqa: E402
from fastact._bench import others as _others  # noqa: E402
from fastact._bench.cases import cases  # noqa: E402
from fastact._bench.torch_table import get_torch  # noqa: E402
from reference import REF, VARIANT_REF, sample, softmax_row, ulp_errors  # noqa: E402

PEERS = ("numpy", "torch", "numexpr", "numba", "jax")


def faster_rows(paths):
    """{(label, direction, dtype): [(peer, fastact ns, peer ns) per run]} for
    the rows where the fastest peer beat fastact (1 thread, new array) in every run."""
    runs = [{(r["name"], r["direction"], r["dtype"]): r for r in json.load(open(p))["rows"]}
            for p in paths]
    out = {}
    for key in runs[0]:
        cells = []
        for run in runs:
            ns = run[key]["ns_per_element"]
            peers = {k: ns[k] for k in PEERS if ns.get(k) is not None}
            if not peers:
                break
            best = min(peers, key=peers.get)
            if peers[best] >= ns["fastact"]:
                break
            cells.append((best, ns["fastact"], peers[best]))
        else:
            out[key] = cells
    return out


def _case(label, direction, dtype):
    for c in cases([label], (dtype,), size=1024):
        if c.label == label and c.direction == direction:
            return c
    raise ValueError(f"no bench case {label} {direction} {dtype}")


def peer_fn(case, peer):
    """fn(a, g) -> the peer's result for this row, as a NumPy array."""
    p = case.call_params(None) if case.rec.kind not in ("elementwise", "softmax", "axis_x") \
        else dict(case.params)
    if peer == "numpy":
        f = NUMPY[case.key][case.direction]
        return lambda a, g: np.asarray(f(a, g, p))
    if peer == "torch":
        torch, table = get_torch()
        f = table[case.key][case.direction]
        return lambda a, g: f(torch.from_numpy(a), torch.from_numpy(g), p).numpy()
    src = _others._constants(case.numpy_text, p)
    arg = "y" if case.direction == "y" else "x"
    return lambda a, g: np.asarray(_others._make(peer, src, arg, a, g)())


def _exact(case, dtype):
    """(f, d, dy) of the row's function on mpf, parameters rounded to dtype."""
    ref = REF.get(case.name)
    if case.key != case.name:
        ref = VARIANT_REF[(case.name, case.key[len(case.name) + 1:-1])]
    p = {k: mp.mpf(float(np.array(v, dtype))) for k, v in case.params.items()
         if isinstance(v, (int, float)) and not isinstance(v, bool)}
    return ref, p


def _errors(got, exact, dtype):
    got = np.asarray(got, dtype=dtype).ravel()
    e = ulp_errors(got, exact, dtype)
    e[np.isnan(got) & np.array([not mp.isnan(v) for v in exact])] = math.inf
    return e


def _ulps(got, exact, dtype):
    e = _errors(got, exact, dtype)
    return float(np.nanmax(e)) if e.size else 0.0


def _normal(x, exact, dtype):
    """Points whose input and exact result are 0 or normal (no subnormal, no
    underflow), where flushing subnormals to zero changes nothing."""
    tiny = mp.mpf(float(np.finfo(dtype).tiny))
    x = np.asarray(x).ravel()
    ok_x = (np.abs(x) >= np.finfo(dtype).tiny) | (x == 0)
    ok_e = np.array([v == 0 or abs(v) >= tiny or mp.isnan(v) for v in exact])
    return ok_x & ok_e


def _cell(theirs, mine, exact, dtype, x):
    """(peer max, fastact max, peer's worst point, peer max and fastact max on
    normal values)."""
    ep, ef = _errors(theirs, exact, dtype), _errors(mine, exact, dtype)
    i = int(np.nanargmax(ep))
    got = np.asarray(theirs, dtype=dtype).ravel()
    worst = f"x={np.asarray(x).ravel()[i]:.4g}: {got[i]:.6g} vs {mp.nstr(exact[i], 8)}"
    m = _normal(x, exact, dtype)
    norm = lambda e: float(np.nanmax(e[m])) if m.any() else 0.0  # noqa: E731
    return (float(np.nanmax(ep)), float(np.nanmax(ef)), worst, norm(ep), norm(ef))


def _elementwise_regions(dtype, n):
    rng = np.random.default_rng(7)
    low = -30 if dtype == np.float32 else -300
    near = 10.0 ** rng.uniform(low, -1, n) * rng.choice([-1, 1], n)
    x = sample(dtype, n=n, seed=1234)
    return {
        "sample": x,
        "tail x<-1": (-(10.0 ** rng.uniform(0, 4, n))).astype(dtype),
        "near 0": near.astype(dtype),
        "bulk": rng.uniform(-10, 10, n).astype(dtype),
    }


def elementwise(case, peer, n):
    dtype = np.dtype(case.dtype)
    ref, p = _exact(case, dtype)
    pfn = peer_fn(case, peer)
    out = {}
    for region, x in _elementwise_regions(dtype, n).items():
        x = np.ascontiguousarray(x)
        if case.direction == "forward":
            a, exact = x, [ref["f"](mp.mpf(float(v)), p) for v in x]
        elif case.direction == "x":
            a, exact = x, [ref["d"](mp.mpf(float(v)), p) for v in x]
        else:
            a = np.ascontiguousarray(getattr(fa, case.name)(x, **case.params))
            exact = [ref["dy"](mp.mpf(float(v)), p) for v in a]
        g = np.ones_like(a)
        with np.errstate(all="ignore"):
            mine = case.fastact_call(a, g, dict(case.params))
            theirs = pfn(a, g)
        out[region] = _cell(theirs, mine, exact, dtype, x)
    return out


# ---- axis functions (softmax family, glu): rows of 1024 ---------------------------

def _axis_regions(dtype, rng):
    big = 700.0 if dtype == np.float64 else 30.0
    k = 1024
    spread = np.zeros(k)
    spread[:3] = (1e3, 0, -1e3)
    lead = np.zeros(k)
    lead[0] = big
    rows = {
        "N(0,9) rows": (rng.standard_normal((4, k)) * 3),
        "rows x50": (rng.standard_normal((4, k)) * 50),
        "[1e3, 0, -1e3, 0...]": spread[None],
        f"[{big:g}, 0, ...]": lead[None],
        f"[{big:g}, random...]": np.concatenate([[big], rng.standard_normal(k - 1)])[None],
        "near 0 (1e-20 N)": rng.standard_normal((2, k)) * 1e-20,
    }
    return {r: np.ascontiguousarray(x.astype(dtype)) for r, x in rows.items()}


def axis(case, peer):
    """softmax / log_softmax / softmin: forward against mpmath, backward from y
    against y (g - sum g y) (softmax, softmin) or g - exp(y) sum g (log_softmax),
    exact on the given y and g."""
    dtype = np.dtype(case.dtype)
    rng = np.random.default_rng(11)
    pfn = peer_fn(case, peer)
    kind = case.name
    out = {}
    for region, x in _axis_regions(dtype, rng).items():
        if case.direction == "forward":
            a, g = x, np.ones_like(x)
            exact = [v for row in x for v in softmax_row(kind, row)]
        else:
            a = np.ascontiguousarray(getattr(fa, kind)(x, axis=-1))
            g = np.ascontiguousarray(rng.standard_normal(x.shape).astype(dtype))
            exact = []
            for yr, gr in zip(a, g):
                ym = [mp.mpf(float(t)) for t in yr]
                gm = [mp.mpf(float(t)) for t in gr]
                if kind == "log_softmax":
                    sg = mp.fsum(gm)
                    exact += [gi - mp.exp(yi) * sg for yi, gi in zip(ym, gm)]
                else:
                    sgy = mp.fsum(gi * yi for gi, yi in zip(gm, ym))
                    sign = -1 if kind == "softmin" else 1
                    exact += [sign * yi * (gi - sgy) for yi, gi in zip(ym, gm)]
        with np.errstate(all="ignore"):
            mine = case.fastact_call(a, g, dict(case.params))
            theirs = pfn(a, g)
        out[region] = _cell(theirs, mine, exact, dtype, a)
    return out


def glu(case, peer):
    """glu along the last axis of rows of 1024: a sigma(b), its gradient
    (g sigma(b), g a sigma(b) sigma(-b)), against mpmath."""
    dtype = np.dtype(case.dtype)
    rng = np.random.default_rng(13)
    pfn = peer_fn(case, peer)
    out = {}
    for region, x in _axis_regions(dtype, rng).items():
        half = x.shape[-1] // 2
        g = np.ascontiguousarray(rng.standard_normal((x.shape[0], half)).astype(dtype))
        exact = []
        for row, grow in zip(x, g):
            a = [mp.mpf(float(t)) for t in row[:half]]
            b = [mp.mpf(float(t)) for t in row[half:]]
            gm = [mp.mpf(float(t)) for t in grow]
            if case.direction == "forward":
                exact += [ai / (1 + mp.exp(-bi)) for ai, bi in zip(a, b)]
            else:
                s = [1 / (1 + mp.exp(-bi)) for bi in b]
                exact += [gi * si for gi, si in zip(gm, s)]
                exact += [gi * ai * si * (1 - si) for gi, ai, si in zip(gm, a, s)]
        with np.errstate(all="ignore"):
            mine = np.asarray(case.fastact_call(x, g, dict(case.params)))
            theirs = pfn(x, g)
        out[region] = _cell(theirs, mine, exact, dtype, np.zeros(len(exact), dtype))
    return out


def rrelu_train(case, peer, n):
    """rrelu[train]: the result against x * noise (forward) or g * noise
    (backward), exact, with each side's own slopes (torch's from
    aten.rrelu_with_noise, fastact's from return_noise=True)."""
    dtype = np.dtype(case.dtype)
    x = np.ascontiguousarray(sample(dtype, n=n, seed=1234))
    g = np.random.default_rng(5).standard_normal(x.shape).astype(dtype)
    lo, hi = case.params["lower"], case.params["upper"]

    def err(got, noise, other):
        exact = [mp.mpf(float(a)) * mp.mpf(float(b)) for a, b in zip(other, noise)]
        return _ulps(got, exact, dtype)
    if case.direction == "forward":
        y, noise = fa.rrelu(x, lo, hi, training=True, rng=0, return_noise=True)
        mine = err(y, noise, x)
        if peer != "torch":
            raise NotImplementedError(peer)
        import torch
        tx, tn = torch.from_numpy(x), torch.zeros(x.shape, dtype=torch.from_numpy(x).dtype)
        ty = torch.ops.aten.rrelu_with_noise(tx, tn, lo, hi, True)
        theirs = err(ty.numpy(), tn.numpy(), x)
    else:
        _, noise = fa.rrelu(x, lo, hi, training=True, rng=0, return_noise=True)
        mine = err(fa.rrelu_backward(g, x, lower=lo, upper=hi, training=True, noise=noise), noise, g)
        p = dict(case.params, noise=noise)
        f = NUMPY[case.key][case.direction] if peer == "numpy" else None
        if f is None:
            raise NotImplementedError(peer)
        theirs = err(f(x, g, p), noise, g)
    return {"sample": (theirs, mine)}


def measure(label, direction, dtype, peer, n):
    case = _case(label, direction, dtype)
    if case.rec.kind == "elementwise":
        return elementwise(case, peer, n)
    if case.rec.kind == "softmax":
        return axis(case, peer)
    if case.key == "rrelu[train]":
        return rrelu_train(case, peer, n)
    if case.name == "glu":
        return glu(case, peer)
    raise NotImplementedError(f"{label}: kind {case.rec.kind}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("runs", nargs="*", help="bench JSON files (--json)")
    ap.add_argument("--row", nargs=4, action="append", metavar=("LABEL", "DIR", "DTYPE", "PEER"))
    ap.add_argument("--points", type=int, default=1000)
    args = ap.parse_args()
    todo = [tuple(r) for r in args.row or []]
    if args.runs:
        for (label, d, dt), cells in faster_rows(args.runs).items():
            print(f"{label} {d} {dt}: " + "; ".join(
                f"{peer} {pn:.3f} vs fastact {fn:.3f} ns ({fn / pn:.2f}x)" for peer, fn, pn in cells))
            for peer in dict.fromkeys(c[0] for c in cells):
                todo.append((label, d, dt, peer))
    for label, d, dt, peer in todo:
        try:
            res = measure(label, d, dt, peer, args.points)
        except (NotImplementedError, KeyError) as exc:
            print(f"{label} {d} {dt} {peer}: not measured ({exc!r})")
            continue
        worst = (max(v[0] for v in res.values()), max(v[1] for v in res.values()))
        cells = ", ".join(f"{r} {v[0]:.3g}/{v[1]:.3g}" for r, v in res.items())
        where = max(res.values(), key=lambda v: v[0])
        where = f"; peer's worst at {where[2]}" if len(where) > 2 else ""
        if all(len(v) > 3 for v in res.values()):
            where += ("; normal values only: peer %.3g, fastact %.3g"
                      % (max(v[3] for v in res.values()), max(v[4] for v in res.values())))
        print(f"{label} {d} {dt} {peer}: max ULP peer {worst[0]:.3g}, fastact {worst[1]:.3g}"
              f"  [{cells}]{where}", flush=True)


if __name__ == "__main__":
    main()
