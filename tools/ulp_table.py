"""Measure the maximum ULP error of every activation against mpmath and write
docs/accuracy.md (run from the repository root after building):

    python tools/ulp_table.py [--points N] [--out docs/accuracy.md]

Forward and backward from x against the exact function and derivative,
backward from y against its formula evaluated exactly on fastact's own y,
for float32 and float64, on every CPU build this machine runs.  The points
are those of the test suite (tests/reference.py) but more of them.

float16 and bfloat16 (the section "Half-width types"): every finite bit
pattern, against the float64 kernels (held to a few ULP of float64 by the
table above, so exact at the half types' precision); ``--half-only``
rewrites that section alone.
"""
import argparse
import sys
from pathlib import Path

import mpmath as mp
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
import fastact as fa  # noqa: E402
from fastact import _dispatch  # noqa: E402
from reference import REF, VARIANT_REF, sample, ulp_errors  # noqa: E402


def _params(rec, dtype):
    return {k: mp.mpf(float(np.array(v, dtype=dtype))) for k, v in rec.examples.items()}


def measure(points):
    rows = []
    for rec in fa.activations().values():
        if rec.kind != "elementwise":
            continue
        for dtype in (np.float32, np.float64):
            x = sample(dtype, n=points, seed=99)
            p = _params(rec, dtype)
            exact_f = [REF[rec.name]["f"](mp.mpf(float(v)), p) for v in x]
            exact_d = [REF[rec.name]["d"](mp.mpf(float(v)), p) for v in x]
            for level in _dispatch.runnable():
                with _dispatch.use(level):
                    ex = rec.examples
                    fwd = lambda v: getattr(fa, rec.name)(v, **ex)  # noqa: E731
                    bwd = lambda g, *a, **k: getattr(fa, rec.name + "_backward")(g, *a, **ex, **k)  # noqa: E731
                    cells = {"forward": ulp_errors(fwd(x), exact_f, dtype).max(),
                             "backward from x": ulp_errors(bwd(np.ones_like(x), x), exact_d, dtype).max()}
                    if "y" in rec.backward_from:
                        y = fwd(x)
                        exact_y = [REF[rec.name]["dy"](mp.mpf(float(v)), p) for v in y]
                        cells["backward from y"] = ulp_errors(bwd(np.ones_like(y), y=y), exact_y, dtype).max()
                for direction, err in cells.items():
                    rows.append((rec.name, np.dtype(dtype).name, direction, level, err))
    # kernels chosen by a string parameter (gelu's approximate="tanh")
    for (name, value), ref in VARIANT_REF.items():
        rec = fa.activations()[name]
        label = f"{name}, {rec.variants[0]}={value!r}"
        for dtype in (np.float32, np.float64):
            x = sample(dtype, n=points, seed=99)
            exact_f = [ref["f"](mp.mpf(float(v)), {}) for v in x]
            exact_d = [ref["d"](mp.mpf(float(v)), {}) for v in x]
            for level in _dispatch.runnable():
                with _dispatch.use(level):
                    kw = {rec.variants[0]: value}
                    f = getattr(fa, name)(x, **kw)
                    d = getattr(fa, name + "_backward")(np.ones_like(x), x, **kw)
                rows.append((label, np.dtype(dtype).name, "forward", level, ulp_errors(f, exact_f, dtype).max()))
                rows.append((label, np.dtype(dtype).name, "backward from x", level,
                             ulp_errors(d, exact_d, dtype).max()))
    return rows


def torch_at_kinks():
    """(name, dtype, direction) -> whether fastact equals PyTorch bit for bit (signed
    zeros included) at the kinks tests/test_torch.py uses: +-0, +-inf, +-1e-30 and
    each function's own kinks, less the documented differences listed there."""
    try:
        import test_torch as tt
    except Exception:            # torch not installed (importorskip raises Skipped)
        return {}
    res = {}
    for name in tt.TORCH:
        rec = fa.activations()[name]
        if rec.kind != "elementwise":
            continue
        for dtype in (np.float32, np.float64):
            x = np.concatenate([tt.KINKS, tt.OWN_KINKS.get(name, [])]).astype(dtype)
            skip = np.zeros(x.shape, bool)
            if name in tt.TORCH_DIFFERS:
                skip |= tt.TORCH_DIFFERS[name](x, dtype)
            if (name, "forward") in tt.KNOWN:
                skip |= tt.KNOWN[(name, "forward")](x, dtype)
            ty, tg = tt._grad(name, x, rec.examples, False)
            y = getattr(fa, name)(x, **rec.examples)
            form = "y" if "y" in rec.backward_from else "x"
            g = getattr(fa, name + "_backward")(np.ones_like(x), **{form: y if form == "y" else x},
                                                 **rec.examples)
            if name == "hardsigmoid" and dtype == np.float64:   # PyTorch's float32-rounded 1/6
                skip |= tg != 0
            for direction, a, b in (("forward", y, ty), (f"backward from {form}", g, tg)):
                same = ((a == b) & (np.signbit(a) == np.signbit(b))) | (np.isnan(a) & np.isnan(b))
                ok = bool(same[~skip].all())
                note = f" ({int(skip.sum())} documented)" if skip.any() else ""
                res[(name, np.dtype(dtype).name, direction)] = ("yes" if ok else "NO") + note
    return res


def measure_half():
    """(kernel, dtype, direction, level, max ULP) over every bit pattern of
    float16 and bfloat16 (ml_dtypes), as tests/test_half.py checks them."""
    import test_half as th
    from fastact import ufuncs
    from fastact._registry import KERNELS
    rows = []
    dts = [th.F16] + ([th.BF16] if th.BF16 is not None else [])
    for kid, (kernel, rec) in enumerate(KERNELS):
        params = [rec.examples[p.name] for p in rec.params]
        directions = [0] + [d for d, f in ((1, "x"), (2, "y")) if f in rec.backward_from]
        if 2 in directions and not rec.y_allowed():
            directions.remove(2)
        for dt in dts:
            for level in _dispatch.runnable():
                with _dispatch.use(level):
                    for d in directions:
                        uf = ufuncs.BY_KERNEL[kid, d]
                        a = th.every_pattern(dt)
                        a = a[np.isfinite(a.astype(np.float32))]
                        if d == 2:
                            a = np.unique(ufuncs.BY_KERNEL[kid, 0](a, *params))
                        a64 = a.astype(np.float32).astype(np.float64)
                        if d == 0:
                            err = th.ulp_error(uf(a, *params), uf(a64, *params), dt).max()
                        else:
                            err = max(th.ulp_error(uf(np.full(a.size, gv, dt), a, *params),
                                                   uf(np.full(a.size, gv, dt).astype(np.float32).astype(np.float64),
                                                      a64, *params), dt).max()
                                      for gv in th.GRADS)
                        rows.append((kernel, dt.name, ("forward", "backward from x",
                                                       "backward from y")[d], level, err))
    return rows


HALF_HEAD = "## Half-width types"


def half_markdown(rows):
    levels = _dispatch.runnable()
    out = [HALF_HEAD, "",
           "float16 and bfloat16 (ml_dtypes) arrays are computed in float32 and rounded once "
           "to the half type (docs/semantics.md). Maximum error in ULP of the half type over "
           "every finite bit pattern (65536 minus the non-finite ones; the backward with "
           "grad 1, -0.3 and 3.5; from y over every value the forward gives) against the "
           "float64 kernels. Budget: 1 ULP. Regenerate with "
           "`python tools/ulp_table.py --half-only`.", "",
           "| kernel | dtype | direction | " + " | ".join(levels) + " |",
           "|---|---|---|" + "---|" * len(levels)]
    table = {}
    for name, dt, direction, level, err in rows:
        table.setdefault((name, dt, direction), {})[level] = err
    for (name, dt, direction), cells in table.items():
        out.append(f"| {name} | {dt} | {direction} | "
                   + " | ".join(f"{cells[lv]:.2f}" for lv in levels) + " |")
    out += ["", f"Worst cell: {max(r[4] for r in rows):.2f} ULP."]
    return "\n".join(out) + "\n"


def markdown(rows, points):
    levels = _dispatch.runnable()
    out = ["# Accuracy", "",
           f"Maximum error in ULP against mpmath (60 digits) over {points} points per function and "
           "dtype spread over the whole finite range (subnormals, overflow thresholds and the "
           "bend of each function included); backward from y against its formula evaluated "
           "exactly on y. Budget: 4 ULP. Regenerate with `python tools/ulp_table.py`.", "",
           "The last column: equal to PyTorch 2.x bit for bit at the kinks (+-0, +-inf, "
           "+-1e-30 and the function's own kinks; the backward in the form PyTorch's autograd "
           "uses), apart from the documented differences counted in parentheses "
           "(tests/reference.py lists them with each function: PyTorch's nan limits at +-inf, its cancelling "
           "gelu and tanhshrink, its float32-rounded constants).", "",
           "| function | dtype | direction | " + " | ".join(levels) + " | PyTorch at kinks |",
           "|---|---|---|" + "---|" * len(levels) + "---|"]
    kinks = torch_at_kinks()
    table = {}
    for name, dt, direction, level, err in rows:
        table.setdefault((name, dt, direction), {})[level] = err
    for (name, dt, direction), cells in table.items():
        out.append(f"| {name} | {dt} | {direction} | "
                   + " | ".join(f"{cells[lv]:.2f}" for lv in levels)
                   + f" | {kinks.get((name, dt, direction), '—')} |")
    worst = max(r[4] for r in rows)
    out += ["", f"Worst cell: {worst:.2f} ULP."]
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=20000)
    ap.add_argument("--out", default="docs/accuracy.md")
    ap.add_argument("--half-only", action="store_true",
                    help="rewrite only the float16/bfloat16 section of --out")
    args = ap.parse_args()
    half = half_markdown(measure_half())
    if args.half_only:
        old = Path(args.out).read_text()
        text = old.split("\n" + HALF_HEAD)[0].rstrip("\n") + "\n\n" + half
    else:
        text = markdown(measure(args.points), args.points) + "\n" + half
    Path(args.out).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
