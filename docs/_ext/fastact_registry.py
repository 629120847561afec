"""Sphinx extension: the reference pages, generated from fastact's registry.

At ``builder-inited`` it writes, under ``<docs>/reference/`` (generated, not
committed):

* ``NAME.rst`` for every record of ``fastact.activations()``: the formula,
  the forward and backward functions with their signatures and parameters
  (taken from the functions themselves: ``inspect.signature`` and the
  parameter sections of their docstrings, which the registry generates), the
  parameters' ranges, the derivative, the edge rules (the record's notes and
  a table of values computed by fastact at nan, +-inf, +-0 and the kinks),
  the accuracy and speed figures (the rows of docs/accuracy.md and
  docs/performance.md that name the function), a plot drawn by
  ``fastact.plot`` into ``reference/_plots/`` and an example whose output is
  computed at build time (so ``-b doctest`` checks it);
* ``index.rst``, the catalogue (one row per record, a toctree of the pages);
* ``ufuncs.rst``, every ufunc of ``fastact.ufuncs`` with its inputs and loops.

Nothing here names an activation: what differs between records is read from
the record, the function's signature (an ``axis`` parameter means a function
along an axis) and the record's example values, so that a new record gets
its page with no edit to the docs.

It also lets a toctree list pages that may be absent: an entry written
``name?`` is kept when ``name.md`` or ``name.rst`` exists and dropped
otherwise (docs/index.rst uses it for design and semantics).
"""
from __future__ import annotations

import inspect
import math
import re
import textwrap
import warnings
from pathlib import Path

import numpy as np

PRINTOPTIONS = {"precision": 4, "legacy": False}
BUILDER = None             # the builder's name, set at builder-inited
OUT = "reference"          # the generated pages, under the source directory
PLOTS = "_plots"

# The inputs at which the edge-rule table evaluates an elementwise function:
# the specials, and the kinks of the catalogue (+-0, +-0.5, +-1, +-3, 6); the
# record's own example parameter values and their negatives are added.
EDGE_POINTS = (-math.inf, -6.0, -3.0, -1.0, -0.5, -0.0, 0.0, 0.5, 1.0, 3.0, 6.0, math.inf)
# ... and the rows at which a function along an axis is evaluated.
EDGE_ROWS = ((1.0, 2.0, 3.0, 4.0), (0.0, 0.0), (-0.0, -0.0), (1000.0, -1000.0), (-math.inf, 0.0),
             (-math.inf, -math.inf), (math.inf, 0.0), (math.nan, 0.0), (0.0, math.nan))

# How the catalogue names a record's kind (another kind is shown as it is).
KIND_LABELS = {"elementwise": "elementwise", "softmax": "along an axis",
               "axis_x": "along an axis, shortening it", "prelu": "with a weight",
               "rrelu": "randomized"}

# Descriptions of the keywords whose docstring entry has none.
FALLBACK = {"x": "The input: any shape and layout, scalars and lists too.",
            "grad": "dL/dy, the gradient of the loss with respect to the output."}
FALLBACK_BACKWARD = {"x": "The forward input.", "y": "The forward output (a keyword)."}


# ---------------------------------------------------------------- text helpers

def esc(text) -> str:
    """Plain text (the registry's prose) made safe for reST."""
    text = str(text).replace("\\", "\\\\")
    return re.sub(r"([*`|_\[\]])", r"\\\1", text)


def lit(text) -> str:
    """Inline literal."""
    return "``" + str(text).replace("``", "` `") + "``"


def indent(text: str, n: int = 3) -> str:
    return textwrap.indent(text, " " * n, lambda line: line.strip() != "")


def heading(text: str, char: str = "-") -> str:
    return f"{text}\n{char * len(text)}\n"


def list_table(header, rows, widths=None) -> str:
    if not rows:
        return ""
    out = [".. list-table::", "   :header-rows: 1"]
    if widths:
        out.append("   :widths: " + " ".join(map(str, widths)))
    out.append("")
    for row in [header, *rows]:
        for i, cell in enumerate(row):
            cell = str(cell) if str(cell) != "" else " "
            out.append(("   * - " if i == 0 else "     - ") + cell)
    return "\n".join(out) + "\n"


def literal_block(text: str) -> str:
    return ".. code-block:: text\n\n" + indent(text) + "\n"


def number(v) -> str:
    """A float as the tables show it: the sign of zero kept, nan and inf by name."""
    v = float(v)
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if v == 0.0:
        return "-0" if math.copysign(1.0, v) < 0 else "0"
    return f"{v:.6g}"


def vector(values) -> str:
    return "[" + ", ".join(number(v) for v in np.ravel(values)) + "]"


# ---------------------------------------------------------------- markdown tables

def md_rows(path: Path, first: list):
    """The rows of a markdown file's pipe tables whose header starts with `first`,
    as {header: cell}, grouped by the first cell; and the file's text."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    out, table = {}, []
    for line in text.splitlines() + [""]:
        if line.startswith("|"):
            table.append([c.strip() for c in line.strip().strip("|").split("|")])
            continue
        if len(table) > 2 and table[0][:len(first)] == first:
            for row in table[2:]:
                out.setdefault(row[0], []).append(dict(zip(table[0], row)))
        table = []
    return out, text


def matches(label: str, name: str) -> bool:
    """A table's row label names the record: "gelu", "gelu[tanh]", "gelu, approximate='tanh'"."""
    return label == name or label.startswith(name + "[") or label.startswith(name + ",")


def accuracy_rows(srcdir: Path):
    """docs/accuracy.md: label -> [(dtype, direction, worst ULP over the builds, torch)]."""
    rows, _ = md_rows(srcdir / "accuracy.md", ["function", "dtype", "direction"])
    out = {}
    for label, entries in rows.items():
        for e in entries:
            try:
                worst = max(float(e[b]) for b in ("base", "v3", "v4") if b in e)
            except ValueError:
                continue
            out.setdefault(label, []).append(
                (e["dtype"], e["direction"], worst, e.get("PyTorch at kinks", "")))
    return out


def performance_rows(srcdir: Path):
    """docs/performance.md's table: label -> [cells by header], and the torch footnotes."""
    out, text = md_rows(srcdir / "performance.md", ["kernel", "dir", "dtype"])
    notes = {}
    for m in re.finditer(r"^\\\* (\S+) ([a-z]+(?:\(\w\))?): (.*?)\s*$", text, re.M):
        notes[m.group(1), m.group(2)] = m.group(3)
    return out, notes


# ---------------------------------------------------------------- docstrings

def doc_sections(fn) -> dict:
    """The numpy-style sections of a function's docstring: {"": head, "Parameters": ..., ...}."""
    doc = inspect.cleandoc(fn.__doc__ or "")
    parts = re.split(r"^(\w[\w ]*)\n-{3,}\s*$", doc, flags=re.M)
    sections = {"": parts[0].strip()}
    for title, body in zip(parts[1::2], parts[2::2]):
        sections[title.strip()] = body.strip("\n")
    return sections


def doc_params(fn):
    """[(names, type, description)] and the lines between entries (e.g. "Requires ...")."""
    entries, extra = [], []
    for line in doc_sections(fn).get("Parameters", "").splitlines():
        if not line.strip():
            continue
        if line[:1] != " " and " : " in line:
            names, typ = line.split(" : ", 1)
            entries.append([names.strip(), typ.strip(), ""])
        elif line[:1] != " " and re.match(r"^[\w, ]+$", line):   # a name without a type
            entries.append([line.strip(), "", ""])
        elif line[:1] == " " and entries:
            entries[-1][2] = (entries[-1][2] + " " + line.strip()).strip()
        else:
            extra.append(line.strip())
    return entries, extra


def function_block(qualname: str, fn, aliases=()) -> str:
    """A py:function directive for fn, its parameters from its docstring."""
    sig = str(inspect.signature(fn))
    lines = [f".. py:function:: {qualname}{sig}"]
    lines += [f"                 {a}{sig}" for a in aliases]
    sections = doc_sections(fn)
    head = sections[""].split("\n\n")[0].strip()
    body = [esc(" ".join(head.split())), ""]
    entries, extra = doc_params(fn)
    fallback = {**FALLBACK, **FALLBACK_BACKWARD} if qualname.endswith("_backward") else FALLBACK
    documented = set()
    for names, typ, desc in entries:
        parts = [n.strip() for n in names.split(",")]
        if documented.issuperset(parts):        # an entry the docstring repeats
            continue
        documented.update(parts)
        for i, n in enumerate(parts):      # "where, dtype : optional": one field each
            text = (desc if i == 0 else f"As {parts[0]}.") if desc else fallback.get(n, "")
            body.append(f":param {n}: {esc(text)}".rstrip())
            if typ:
                body.append(f":type {n}: {esc(typ)}")
    for name in inspect.signature(fn).parameters:
        if name not in documented:
            body.append(f":param {name}: {esc(fallback.get(name, ''))}".rstrip())
    if sections.get("Returns"):
        body.append(":returns: " + esc(" ".join(sections["Returns"].split())))
    if extra:
        body += ["", *(esc(e) for e in extra)]
    return "\n".join(lines) + "\n\n" + indent("\n".join(body)) + "\n"


# ---------------------------------------------------------------- computed content

def example_params(rec) -> dict:
    """Every parameter's default or example value, and the record's extra examples (weight)."""
    return {**rec.examples, **rec.extra.get("example", {})}


def along_axis(fn) -> bool:
    return "axis" in inspect.signature(fn).parameters


def y_allowed(rec, params) -> bool:
    if "y" not in rec.backward_from:
        return False
    if rec.y_requires is None:
        return True
    from fastact._registry import evaluate
    try:
        return bool(evaluate(rec.y_requires, {k: v for k, v in params.items()
                                              if isinstance(v, (int, float))}))
    except Exception:           # noqa: BLE001  (a condition over a parameter we do not pass)
        return False


def call(fn, *args, **kwargs):
    """fn(*args, **kwargs), or the exception's text."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            return fn(*args, **kwargs)
        except Exception as exc:     # noqa: BLE001  (shown in the table)
            return exc


def edge_table(rec) -> str:
    import fastact
    fwd = getattr(fastact, rec.name)
    params = example_params(rec)
    shown = ", ".join(f"{k}={v!r}" for k, v in params.items())
    if along_axis(fwd):
        rows = []
        for row in EDGE_ROWS:
            r = call(fwd, np.array(row, dtype=np.float64), axis=-1, **params)
            rows.append([lit(vector(row)),
                         lit(vector(r)) if isinstance(r, np.ndarray) else esc(f"{type(r).__name__}: {r}")])
        what = f"{rec.name}(x, axis=-1{', ' + shown if shown else ''})"
        return (f"Computed by fastact at build time, float64, one row at a time "
                f"({lit(what)}):\n\n" + list_table(["x", "result"], rows, [1, 2]))
    points = set(EDGE_POINTS)
    for v in params.values():
        if isinstance(v, (int, float)) and not isinstance(v, bool) and 0 < abs(v) < 1e6:
            points.update((float(v), -float(v)))
    x = np.array(sorted(points, key=lambda v: (v, math.copysign(1.0, v))) + [math.nan])
    y = call(fwd, x, **params)
    d = call(fastact.derivative, rec.name, x, **params)
    header, cols = ["x", "f(x)"], [y]
    if isinstance(d, np.ndarray):
        header.append("f'(x), backward from x" if "x" in rec.backward_from else "f'(x)")
        cols.append(d)
    back = getattr(fastact, rec.name + "_backward")
    if "x" in rec.backward_from and y_allowed(rec, params) and isinstance(y, np.ndarray):
        dy = call(back, np.ones_like(x), y=y, **{k: v for k, v in params.items() if k in rec.defaults})
        if isinstance(dy, np.ndarray):
            header.append("backward from y = f(x)")
            cols.append(dy)
    if not isinstance(y, np.ndarray):
        return f"(Not computed: {esc(y)}.)\n"
    rows = [[lit(number(xi))] + [lit(number(c[i])) for c in cols] for i, xi in enumerate(x)]
    what = f"{rec.name}(x{', ' + shown if shown else ''})"
    return (f"Computed by fastact at build time, float64 ({lit(what)}; the derivative for a "
            f"unit gradient, from the backward kernels):\n\n" + list_table(header, rows))


class _Session:
    """Runs example lines as the interpreter would, recording doctest text."""

    def __init__(self):
        import fastact
        self.ns = {"np": np, "fa": fastact}
        self.lines = [">>> import numpy as np", ">>> import fastact as fa"]

    def run(self, src: str, comment: str = "", optional: bool = False):
        """Run one line and record it with its output; an optional line that
        raises is left out (e.g. a doubled default that breaks a constraint)."""
        with warnings.catch_warnings(), np.errstate(all="ignore"), np.printoptions(**PRINTOPTIONS):
            warnings.simplefilter("ignore")
            try:
                try:
                    value = eval(compile(src, "<example>", "eval"), self.ns)
                except SyntaxError:
                    exec(compile(src, "<example>", "exec"), self.ns)
                    value = None
            except Exception:   # noqa: BLE001
                if optional:
                    return
                raise
        self.lines.append(">>> " + src + (f"  # {comment}" if comment else ""))
        if value is not None:
            with np.printoptions(**PRINTOPTIONS):
                self.lines.extend(repr(value).splitlines())

    def text(self) -> str:
        return ".. doctest::\n\n" + indent("\n".join(self.lines)) + "\n"


def example(rec) -> str:
    """A short example whose outputs are computed now (a doctest block)."""
    import fastact
    name = rec.name
    fwd = getattr(fastact, name)
    sig = inspect.signature(fwd).parameters
    ex = example_params(rec)
    # the arguments to pass: required ones (no default in the signature)
    req = {k: v for k, v in ex.items() if k in sig and sig[k].default is inspect.Parameter.empty}
    args = "".join(f", {k}={v!r}" for k, v in req.items())
    s = _Session()
    try:
        if along_axis(fwd):
            s.run("x = np.array([[1.0, 2.0, 3.0, 4.0], [-1.0, 0.0, 0.5, 8.0]], dtype=np.float32)")
            s.run(f"y = fa.{name}(x{args}, axis=-1)")
            s.run("y")
            s.run("g = np.ones_like(y); g[..., 0] = 2.0", "dL/dy")
            src = "x" if "x" in rec.backward_from else "y=y"
            s.run(f"fa.{name}_backward(g, {src}{args}, axis=-1)", "dL/dx")
        else:
            s.run("x = np.array([-3.0, -1.0, -0.0, 0.5, 2.0], dtype=np.float32)")
            s.run(f"y = fa.{name}(x{args})")
            s.run("y")
            src = "x" if "x" in rec.backward_from else "y=y"
            s.run(f"fa.{name}_backward(np.ones_like(x), {src}{args})", "the backward for dL/dy = 1")
            if "y" in rec.backward_from and src == "x" and y_allowed(rec, rec.defaults):
                s.run(f"fa.{name}_backward(np.ones_like(x), y=y{args})", "... or from the output",
                      optional=True)
            given = [p for p in rec.params if not p.required and p.default != 0 and not p.integer]
            if given:
                p = given[0]
                s.run(f"fa.{name}(x{args}, {p.name}={p.default * 2!r})", optional=True)
            if rec.variants:
                vname, choices = rec.variants
                for value, _ in choices[1:]:
                    s.run(f"fa.{name}(x{args}, {vname}={value!r})", optional=True)
            from fastact import ufuncs
            if name in ufuncs.UFUNCS:
                values = "".join(f", {ex[p.name]!r}" for p in rec.params)
                s.run(f"fa.ufuncs.{name}(x{values})", "the same, as a NumPy ufunc", optional=True)
            if "rng" in sig and "training" in sig:
                s.run(f"y, noise = fa.{name}(x{args}, training=True, rng=0, return_noise=True)",
                      "training: random slopes", optional=True)
                s.run(f"fa.{name}_backward(np.ones_like(x), x{args}, noise=noise, training=True)",
                      optional=True)
    except Exception as exc:  # noqa: BLE001  (a record whose calls this generator cannot guess)
        return f"(No example generated: {esc(type(exc).__name__)}: {esc(exc)}.)\n"
    return s.text()


# ---------------------------------------------------------------- pages

def accuracy_section(rec, acc) -> str:
    rows = []
    for label, entries in acc.items():
        if not matches(label, rec.name):
            continue
        by_dir = {}
        for dtype, direction, worst, torch in entries:
            by_dir.setdefault(direction, {})[dtype] = (worst, torch)
        for direction, cells in by_dir.items():
            f32, f64 = cells.get("float32"), cells.get("float64")
            rows.append([esc(label), esc(direction),
                         f"{f32[0]:.2f}" if f32 else "", f"{f64[0]:.2f}" if f64 else "",
                         esc(" / ".join(sorted({c[1] for c in cells.values()})))])
    if not rows:
        return ("Not in the table of :doc:`../accuracy` (it covers the elementwise kernels); "
                "the test suite compares this function with an exact reference.\n")
    return ("Worst error in ULP against mpmath over the whole finite range, the largest over the "
            "CPU builds (base, AVX2, AVX-512), from :doc:`../accuracy`; the last column: equal "
            "to PyTorch at the kinks.\n\n"
            + list_table(["function", "direction", "float32", "float64", "PyTorch at kinks"], rows))


def speed_section(rec, perf, notes) -> str:
    rows, foot = [], []
    for label, entries in perf.items():
        if not matches(label, rec.name):
            continue
        for e in entries:
            rows.append([esc(label), esc(e.get("dir", "")), esc(e.get("dtype", "")),
                         esc(e.get("fastact 1t", "")), esc(e.get("vs NumPy", "")),
                         esc(e.get("vs torch", "")), esc(e.get("NumPy target", ""))])
            if (label, e.get("dir")) in notes:
                foot.append(f"{label} {e.get('dir')}: {notes[label, e.get('dir')]}")
    if not rows:
        return "Not in the table of :doc:`../performance`.\n"
    text = ("One thread, a new array, 2\\ :sup:`20` elements, from :doc:`../performance` "
            "(ns per element of fastact; the ratios are the time of the NumPy expression and "
            "of PyTorch's kernel over fastact's, higher is faster; — where PyTorch has none).\n\n"
            + list_table(["case", "direction", "dtype", "fastact ns/element", "vs NumPy",
                          "vs PyTorch", "NumPy target"], rows))
    if foot:
        text += "\n" + "\n".join(f"| \\* {esc(f)}" for f in dict.fromkeys(foot)) + "\n"
    return text


def page(rec, acc, perf, notes, plot: bool) -> str:
    import fastact
    from fastact import nn, ufuncs
    name = rec.name
    fwd, bwd = getattr(fastact, name), getattr(fastact, name + "_backward")
    out = [f".. _fa-{name}:\n", heading(name, "="), ".. py:currentmodule:: fastact\n",
           esc(rec.summary) + "\n"]
    if rec.aliases:
        out.append("Also called " + ", ".join(lit("fastact." + a) for a in rec.aliases) + ".\n")
    if plot:
        out.append(f".. image:: {PLOTS}/{name}.png\n   :alt: {name} (solid) and its derivative "
                   f"(dashed)\n   :width: 400px\n")
        out.append(f"The function (solid) and its derivative from the backward kernel (dashed), "
                   f"drawn by {lit(f'fastact.plot.plot_activation({name!r})')} when the site "
                   "was built.\n")
    out.append(heading("Formula") + "\n" + literal_block(rec.formula))
    out.append(heading("Derivative") + "\n" + literal_block(rec.gradient))
    src = {("x",): "The backward takes the forward input x.",
           ("y",): "The backward takes the forward output (``y=``).",
           ("x", "y"): "The backward takes the forward input x (accurate everywhere) or the "
                       "output ``y=`` (cheaper; it cannot recover what y lost to rounding)."}
    line = src.get(tuple(rec.backward_from), "The backward takes " + esc(rec.backward_from) + ".")
    if rec.y_requires:
        line += f" From y only when {lit(rec.y_requires)}."
    out.append(line + "\n")
    out.append(heading("Parameters and ranges"))
    prows = [[lit(p.name), "int" if p.integer else "float",
              "required (example " + lit(repr(p.example)) + ")" if p.required else lit(repr(p.default)),
              esc(p.describe()), esc(p.doc)] for p in rec.params]
    if rec.variants:
        vname, choices = rec.variants
        prows.append([lit(vname), "str", lit(repr(choices[0][0])),
                      ", ".join(lit(repr(v)) for v, _ in choices), "the formula variant"])
    if prows:
        out.append("\n" + list_table(["name", "type", "default", "allowed", "meaning"], prows,
                                     [2, 1, 2, 3, 4]))
        for cond, pname, why in rec.constraints:
            out.append(f"And {lit(cond)} ({lit(pname)} {esc(why)}; ValueError otherwise).\n")
        out.append("Parameters are checked by the keyword functions (ValueError naming the "
                   "parameter); elementwise ones also take arrays that broadcast against x.\n")
    else:
        out.append("\nNo numeric parameters.\n")
    out.append(heading("Functions") + "\n")
    out.append(function_block(name, fwd, rec.aliases))
    out.append(function_block(name + "_backward", bwd, [a + "_backward" for a in rec.aliases]))
    if rec.kind == "elementwise":       # the forward that also writes the derivative
        out.append(function_block(name + "_and_derivative", getattr(fastact, name + "_and_derivative"),
                                  [a + "_and_derivative" for a in rec.aliases]))
    uf = [u for u, (r, _, _) in ufuncs.UFUNCS.items() if r.name == name]
    if uf:
        out.append("As NumPy ufuncs (:doc:`ufuncs`): "
                   + ", ".join(f":py:func:`fastact.ufuncs.{u}`" for u in uf) + ".\n")
    layer = nn.class_name(name)
    if hasattr(nn, layer):
        out.append(f"As a layer that keeps what its backward needs: :py:class:`fastact.nn.{layer}` "
                   f"(:doc:`../api`).\n")
    out.append(heading("Edge rules") + "\n" + esc(rec.notes) + "\n")
    out.append(edge_table(rec))
    out.append(heading("Accuracy") + "\n" + accuracy_section(rec, acc))
    out.append(heading("Speed") + "\n" + speed_section(rec, perf, notes))
    out.append(heading("Example") + "\n" + example(rec))
    return "\n".join(out)


def loss_page(rec, perf_md: str) -> str:
    """The page of a fused reduction (the registry's LOSSES: logsumexp, cross_entropy)."""
    import fastact
    from fastact import nn
    name = rec.name
    fwd, bwd = getattr(fastact, name), getattr(fastact, name + "_backward")
    out = [f".. _fa-{name}:\n", heading(name, "="), ".. py:currentmodule:: fastact\n",
           esc(rec.summary) + "\n"]
    out.append(heading("Formula") + "\n" + literal_block(rec.formula))
    out.append(heading("Derivative") + "\n" + literal_block(rec.gradient))
    out.append(heading("Options"))
    out.append("\n" + list_table(["name", "type", "default", "meaning"],
                                 [[lit(a.name), lit(a.annotation), lit(a.default), esc(a.doc)]
                                  for a in rec.args], [2, 3, 2, 5]))
    out.append(heading("Functions") + "\n")
    out.append(function_block(name, fwd))
    out.append(function_block(name + "_backward", bwd))
    if rec.class_name and hasattr(nn, rec.class_name):
        out.append(f"As a layer whose forward also computes the gradient (one pass of "
                   f"exponentials for both): :py:class:`fastact.nn.{rec.class_name}`.\n")
    out.append(heading("Edge rules") + "\n" + esc(rec.notes) + "\n")
    out.append(heading("Speed") + "\n" + (perf_md or "See :doc:`../performance`.") + "\n")
    return "\n".join(out)


def loss_section(records) -> str:
    rows = [[f":doc:`{r.name}`", esc(r.summary), esc("a loss" if r.kind == "loss" else
                                                     "a reduction along an axis")]
            for r in records]
    return ("\n" + heading("Reductions and losses") + "\n"
            "Fused with the softmax they contain (``fastact.NAME`` and ``fastact.NAME_backward``; "
            "records of their own type in the registry's ``LOSSES``).\n\n"
            + list_table(["function", "what", "kind"], rows, [2, 6, 2])
            + "\n.. toctree::\n   :hidden:\n\n" + "\n".join(f"   {r.name}" for r in records) + "\n")


def catalogue(records) -> str:
    import fastact
    rows = []
    for rec in records:
        fwd = getattr(fastact, rec.name)
        rows.append([f":doc:`{rec.name}`" + "".join(f" ({lit(a)})" for a in rec.aliases),
                     esc(rec.summary), esc(KIND_LABELS.get(rec.kind, rec.kind)),
                     ", ".join(lit(p.name) for p in rec.params) +
                     (", " if rec.params and rec.variants else "") +
                     (lit(rec.variants[0]) if rec.variants else "") +
                     ((", " if rec.params or rec.variants else "") + lit("axis") if along_axis(fwd) else ""),
                     " or ".join(rec.backward_from)])
    toc = "\n".join(f"   {rec.name}" for rec in records)
    return (heading("Functions", "=") + "\n"
            f"The {len(records)} activations of the registry (``fastact.activations()``), each "
            "with its forward ``fastact.NAME`` and backward ``fastact.NAME_backward``. Every page "
            "is generated from the registry when the site is built.\n\n"
            + list_table(["function", "what", "kind", "parameters", "backward from"], rows,
                         [2, 4, 2, 3, 1])
            + "\n.. toctree::\n   :hidden:\n\n" + toc + "\n   ufuncs\n")


def ufunc_page() -> str:
    from fastact import ufuncs
    direction = {0: "forward", 1: "backward from x", 2: "backward from y"}
    first = {0: "x", 1: "grad, x", 2: "grad, y"}
    aliases = {}
    for alias in dir(ufuncs):
        u = getattr(ufuncs, alias)
        if isinstance(u, np.ufunc) and alias not in ufuncs.UFUNCS:
            aliases.setdefault(u.__name__, []).append(alias)
    rows, blocks = [], []
    for uname, (rec, kernel, d) in ufuncs.UFUNCS.items():
        u = getattr(ufuncs, uname)
        if d == 3:                      # a generalized ufunc along an axis
            backward = uname.endswith("_backward")
            given = rec.backward_from[0]
            inputs = f"grad, {given}" if backward else "x"
            # axis= needs one core dimension shared by every argument; axes= any
            shared = len(set(u.signature.replace("->", ",")[1:-1].split("),("))) == 1
            rows.append([f":py:func:`{uname}`", lit(f"({inputs})"),
                         esc(f"{'backward from ' + given if backward else 'forward'}, along an "
                             f"axis {u.signature}"), f":doc:`{rec.name}`", lit(", ".join(u.types))])
            blocks.append(f".. py:function:: {uname}({inputs}, /, out=None, *, "
                          f"{'axis=-1' if shared else 'axes=None'}, casting='same_kind', dtype=None)\n\n"
                          + indent(f"Generalized ufunc {lit(u.signature)} of :doc:`{rec.name}`; "
                                   f"loops {lit(', '.join(u.types))}.") + "\n")
            continue
        inputs = first[d] + "".join(f", {p.name}" for p in rec.params)
        variant = ""
        if rec.variants and kernel != rec.kernels[0]:
            vname, choices = rec.variants
            variant = f" ({vname}={next(v for v, k in choices if k == kernel)!r})"
        rows.append([f":py:func:`{uname}`" + "".join(f" ({lit(a)})" for a in aliases.get(uname, [])),
                     lit(f"({inputs})"), esc(direction[d]) + esc(variant),
                     f":doc:`{rec.name}`", lit(", ".join(u.types))])
        sig = f"{uname}({inputs}, /, out=None, *, where=True, casting='same_kind', dtype=None)"
        blocks.append(f".. py:function:: {sig}\n" +
                      "".join(f"                 {a}({inputs}, /, out=None, *, where=True, "
                              f"casting='same_kind', dtype=None)\n" for a in aliases.get(uname, []))
                      + "\n" + indent(f"{esc(direction[d])}{esc(variant)} of :doc:`{rec.name}`; "
                                      f"{u.nin} inputs, {u.nout} output; loops "
                                      f"{lit(', '.join(u.types))}.") + "\n")
    # the module's own docstring (reST already) says what the ufuncs are
    intro = inspect.cleandoc(ufuncs.__doc__ or "") + "\n\n"
    return (heading("Ufuncs: fastact.ufuncs", "=") + "\n.. py:module:: fastact.ufuncs\n\n" + intro
            + f"The {len(rows)} ufuncs:\n\n"
            + list_table(["ufunc", "inputs", "direction", "function", "loops"], rows, [3, 3, 3, 2, 2])
            + "\n" + heading("Each ufunc") + "\n" + "\n".join(blocks))


# ---------------------------------------------------------------- the events

def _write(path: Path, text: str) -> bool:
    """Write when the text differs (an unchanged page is not re-read)."""
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return True


def _plot(rec, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from fastact import plot
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        ax = plot.plot_activation(rec.name)
        ax.figure.savefig(path, dpi=80)
        plt.close(ax.figure)


def missing(module: str) -> bool:
    """For ``:skipif:``: true when the doctest builder runs and `module` is not installed.

    Under any other builder it is false without importing anything, so that
    the HTML always shows the example."""
    import importlib.util
    return BUILDER == "doctest" and importlib.util.find_spec(module) is None


def generate(app) -> None:
    import fastact
    global BUILDER
    BUILDER = app.builder.name
    srcdir = Path(app.srcdir)
    out = srcdir / OUT
    (out / PLOTS).mkdir(parents=True, exist_ok=True)
    try:
        import matplotlib  # noqa: F401
        plots = True
    except ImportError:
        plots = False
    acc = accuracy_rows(srcdir)
    perf, notes = performance_rows(srcdir)
    records = list(fastact.activations().values())
    pages = {rec.name: page(rec, acc, perf, notes, plots) for rec in records}
    pages["index"] = catalogue(records)
    from fastact._registry import LOSSES
    for rec in LOSSES:
        pages[rec.name] = loss_page(rec, "The forward + backward timings against the unfused "
                                         "fastact calls, NumPy and torch are in "
                                         ":doc:`../performance` (fused reductions).")
    pages["index"] += loss_section(LOSSES)
    pages["ufuncs"] = ufunc_page()
    for name, text in pages.items():
        changed = _write(out / f"{name}.rst", text)
        png = out / PLOTS / f"{name}.png"
        if plots and name in fastact.activations() and (changed or not png.exists()):
            _plot(fastact.activations()[name], png)
    for stale in out.glob("*.rst"):            # a record that was removed
        if stale.stem not in pages:
            stale.unlink()
    for stale in (out / PLOTS).glob("*.png"):
        if stale.stem not in pages:
            stale.unlink()


_OPTIONAL = re.compile(r"^(\s+)([\w/.-]+)\?[ \t]*$", re.M)


def optional_entries(app, docname, source) -> None:
    """Toctree entries ``name?`` of a reST page: kept if the page exists, dropped if not."""
    if Path(app.env.doc2path(docname)).suffix != ".rst":
        return
    srcdir = Path(app.srcdir)
    base = (srcdir / docname).parent

    def keep(m):
        target = m.group(2)
        root = srcdir if target.startswith("/") else base
        exists = any((root / (target.lstrip("/") + suffix)).exists() for suffix in (".md", ".rst"))
        return m.group(1) + target if exists else ""

    source[0] = _OPTIONAL.sub(keep, source[0])


def setup(app):
    app.connect("builder-inited", generate)
    app.connect("source-read", optional_entries)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
