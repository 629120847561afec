"""The benchmark's verdicts against the targets, and its text and Markdown tables."""
from __future__ import annotations

from fastact._bench.cases import (DIRECTIONS, SOFTMAX_ROW, TARGET_CHEAP, TARGET_TRANSCENDENTAL,
                                  _prelu_shape)
from fastact._bench.others import OTHERS
from fastact._bench.torch_table import PARITY_ROWS

DIR_LABEL = {"forward": "fwd", "x": "bwd(x)", "y": "bwd(y)"}
assert set(DIR_LABEL) == set(DIRECTIONS)

# Targets (issue "Performance ... benchmarks that prove it"); the NumPy ones
# (TARGET_TRANSCENDENTAL, TARGET_CHEAP) are per row, in cases.py
TARGET_VS_TORCH, AIM_VS_TORCH = 1.0, 1.25
TARGET_SCALING, TARGET_MEMCPY = 1.7, 1.3
TARGET_OVERHEAD = 2.0


def _misses(rows, key, target):
    bad = sorted((r for r in rows if r[key] < target(r)), key=lambda r: r[key] / target(r))
    return ", ".join(f"{_rowname(r)} {r[key]:.2f}x" for r in bad)


def verdicts(result):
    """Lines 'PASS/MISS ...' against the targets, listing the rows that miss."""
    rows = result["rows"]
    lines = []
    vt = [r for r in rows if r["speedup_vs_torch"] is not None]
    if vt:
        miss = _misses(vt, "speedup_vs_torch", lambda r: TARGET_VS_TORCH)
        n_ok = sum(r["speedup_vs_torch"] >= TARGET_VS_TORCH for r in vt)
        n_aim = sum(r["speedup_vs_torch"] >= AIM_VS_TORCH for r in vt)
        lines.append(f"{'PASS' if not miss else 'MISS'} 1 thread at least as fast as PyTorch: "
                     f"{n_ok}/{len(vt)} rows ({n_aim}/{len(vt)} reach the {AIM_VS_TORCH}x aim)"
                     + (f"; below 1x: {miss}" if miss else ""))
    vn = [r for r in rows if r["speedup_vs_numpy"] is not None and
          (r["name"], r["direction"]) not in PARITY_ROWS]
    if vn:
        miss = _misses(vn, "speedup_vs_numpy", lambda r: r["target_vs_numpy"])
        n_ok = sum(r["speedup_vs_numpy"] >= r["target_vs_numpy"] for r in vn)
        lines.append(f"{'PASS' if not miss else 'MISS'} vs NumPy ({TARGET_TRANSCENDENTAL:g}x with a "
                     f"transcendental, {TARGET_CHEAP:g}x cheap): {n_ok}/{len(vn)} rows"
                     + (f"; below target: {miss}" if miss else ""))
    for ufunc in dict.fromkeys(PARITY_ROWS.values()):
        keys = {k for k, v in PARITY_ROWS.items() if v == ufunc}
        pr = [r for r in rows if (r["name"], r["direction"]) in keys
              and r["speedup_vs_numpy"] is not None]
        if pr:
            ok = all(r["speedup_vs_numpy"] >= 1.0 for r in pr)
            lines.append(f"{'PASS' if ok else 'MISS'} never slower than {ufunc}: " + ", ".join(
                f"{_rowname(r)} {r['speedup_vs_numpy']:.2f}x" for r in pr))
    sc = result.get("threads_scaling")
    if sc:
        lines.append(f"{'PASS' if sc['ok'] else 'MISS'} threads (16M float32 sigmoid, out=): "
                     f"{sc['threads']} threads {sc['speedup_all_vs_1']:.2f}x one thread "
                     f"(target {TARGET_SCALING}x) or {sc['all_vs_memcpy']:.2f}x a memcpy's time "
                     f"(target <= {TARGET_MEMCPY}x)")
    ov = result.get("overhead")
    if ov:
        r = ov["ratio_vs_np_exp"]["fastact.sigmoid"]
        lines.append(f"{'PASS' if r <= TARGET_OVERHEAD else 'MISS'} 16-element call: "
                     f"fastact.sigmoid {r:.2f}x np.exp's time (target <= {TARGET_OVERHEAD:g}x)")
    for r in rows:
        if r["mismatch"]:
            lines.append(f"WARN {_rowname(r)}: fastact differs from the NumPy expression: {r['mismatch']}")
    return lines


def _rowname(r):
    return f"{r['name']} {DIR_LABEL[r['direction']]} {r['dtype']}"


def _f(v, fmt="{:.3f}"):
    return "—" if v is None else fmt.format(v)


def _x(v):
    return "—" if v is None else f"{v:.2f}x"


def _others_present(result):
    """The other implementations (numexpr, numba, jax) timed in some row."""
    return [k for k in OTHERS if any(r["ns_per_element"].get(k) is not None for r in result["rows"])]


def table_rows(result):
    nt = result["machine"]["threads"]
    others = _others_present(result)
    head = ["kernel", "dir", "dtype", "NumPy", "torch 1t", "fastact 1t", "fastact 1t out=",
            f"fastact {nt}t out=", "vs NumPy", "vs torch", "NumPy target"]
    if others:
        head[5:5] = others
        head.append("vs fastest other")
    half = any(r.get("ratio_vs_f32") for r in result["rows"])
    if half:                            # float16/bfloat16 rows: fastact float32 on the same values
        head += ["fastact f32 1t", "vs f32"]
    body = []
    for r in result["rows"]:
        ns = r["ns_per_element"]
        vt = _x(r["speedup_vs_torch"])
        if r["torch_note"] and vt != "—":
            vt += "*"
        cells = [r["name"], DIR_LABEL[r["direction"]], r["dtype"], _f(ns["numpy"]),
                 _f(ns["torch"]), _f(ns["fastact"]), _f(ns["fastact_out"]),
                 _f(ns["fastact_mt"]), _x(r["speedup_vs_numpy"]), vt,
                 f"{r['target_vs_numpy']:g}x" + (" (parity)" if r["target_vs_numpy"] == 1 else "")]
        if others:
            cells[5:5] = [_f(ns.get(k)) for k in others]
            cells.append(_x(r.get("speedup_vs_fastest_other")))
        if half:
            cells += [_f(ns.get("fastact_f32")), _x(r.get("ratio_vs_f32"))]
        body.append(cells)
    return head, body


def _header_lines(result):
    m = result["machine"]
    flags = ", ".join(f"{k}={'yes' if v else 'no'}" for k, v in m["cpu_flags"].items()) or "n/a"
    return [
        f"CPU: {m['cpu']}; flags {flags}; {m['cpus_available']} CPUs available",
        f"fastact {m['fastact']}, CPU build in use: {m['build']} (runnable: "
        f"{', '.join(m['builds_runnable'])}); threads: {m['threads']}",
        f"numpy {m['numpy']}, torch {m['torch'] or 'not timed'}, python {m['python']}"
        + "".join(f", {k} {v}" for k, v in m.get("others", {}).items()),
        f"size {result['size']} elements (softmax, glu, maxout: rows of {SOFTMAX_ROW}; prelu: "
        f"(N, C, L) = {_prelu_shape(result['size'])}); ns/element of x, minimum of "
        f"{result['rounds']} interleaved rounds; speed-ups are 1-thread new array vs 1-thread new array",
    ]


def torch_notes(result):
    """'label dir: what torch runs' for the rows marked * (torch timed as more than one kernel)."""
    seen = {}
    for r in result["rows"]:
        if r["torch_note"]:
            seen.setdefault((r["name"], r["direction"]), r["torch_note"])
    return [f"{name} {DIR_LABEL[d]}: {note}" for (name, d), note in seen.items()]


def format_text(result):
    lines = _header_lines(result) + [""]
    head, body = table_rows(result)
    widths = [max(len(h), *(len(b[i]) for b in body)) if body else len(h)
              for i, h in enumerate(head)]
    fmt = lambda cells: "  ".join(c.rjust(w) if i > 2 else c.ljust(w)
                                  for i, (c, w) in enumerate(zip(cells, widths)))
    lines.append(fmt(head))
    lines.append("  ".join("-" * w for w in widths))
    lines += [fmt(b) for b in body]
    lines += [f"* {n}" for n in torch_notes(result)]
    lines += [""] + _extra_text(result) + [""] + verdicts(result)
    return "\n".join(lines)


def _extra_text(result):
    lines = []
    ov = result.get("overhead")
    if ov:
        lines.append("Call overhead, 16 float32 elements (µs per call; ratio to np.exp):")
        for k, v in ov["us_per_call"].items():
            lines.append(f"  {k:<28} {v:7.3f} µs  {ov['ratio_vs_np_exp'][k]:.2f}x")
    sc = result.get("threads_scaling")
    if sc:
        lines.append(f"Threads, {sc['n']} float32 sigmoid forward into out= (ns/element, min / median):")
        for k, v in sc["ns_per_element"].items():
            lines.append(f"  {k:<28} {v:7.3f} / {sc['ns_per_element_median'][k]:.3f}")
        lines.append(f"  all threads vs 1: {sc['speedup_all_vs_1']:.2f}x (medians: "
                     f"{sc['median_speedup_all_vs_1']:.2f}x); "
                     f"all threads vs memcpy time: {sc['all_vs_memcpy']:.2f}x")
    return lines


def format_markdown(result):
    lines = [f"- {h}" for h in _header_lines(result)] + [""]
    head, body = table_rows(result)
    lines.append("| " + " | ".join(head) + " |")
    lines.append("|" + "|".join("---" if i < 3 else "---:" for i in range(len(head))) + "|")
    lines += ["| " + " | ".join(b) + " |" for b in body]
    notes = torch_notes(result)
    if notes:
        lines.append("")
        lines += [f"\\* {n}" + ("  " if i < len(notes) - 1 else "") for i, n in enumerate(notes)]
    ov = result.get("overhead")
    if ov:
        lines += ["", "Call overhead, 16 float32 elements:", "",
                  "| call | µs per call | vs np.exp |", "|---|---:|---:|"]
        lines += [f"| `{k}` | {v:.3f} | {ov['ratio_vs_np_exp'][k]:.2f}x |"
                  for k, v in ov["us_per_call"].items()]
    sc = result.get("threads_scaling")
    if sc:
        lines += ["", f"Threads, {sc['n']:,} float32 elements, sigmoid forward into `out=`:", "",
                  "| run | ns/element (min) | ns/element (median) |", "|---|---:|---:|"]
        lines += [f"| {k} | {v:.3f} | {sc['ns_per_element_median'][k]:.3f} |"
                  for k, v in sc["ns_per_element"].items()]
        lines += ["", f"All threads: {sc['speedup_all_vs_1']:.2f}x one thread (medians: "
                      f"{sc['median_speedup_all_vs_1']:.2f}x), "
                      f"{sc['all_vs_memcpy']:.2f}x the time of a memcpy of the same bytes."]
    lines += ["", "Against the targets:", ""] + [f"- {v}" for v in verdicts(result)]
    return "\n".join(lines)
