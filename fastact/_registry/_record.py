"""The record types of the registry: Param and Activation, and the checks every
record passes.  Standard library only (setup.py loads the registry by path)."""
from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass, field

REQUIRED = object()

DIRECTIONS = ("forward", "x", "y")      # forward, backward from x, backward from y
COSTS = ("cheap", "transcendental")


@functools.lru_cache(maxsize=None)
def _compiled(expr: str):
    return compile(expr, "<fastact registry expression>", "eval")


def evaluate(expr: str, env: dict):
    """A registry expression (y_requires, constraints, extra["k_requires"] and
    ["out_len"]) evaluated over env, compiled once: a call of glu or maxout
    evaluates two, and eval() of the text took 7 us each."""
    return eval(_compiled(expr), {"__builtins__": {}, "math": math}, env)


@dataclass(frozen=True)
class Param:
    """A float parameter: name, default (PyTorch's), and its allowed range.

    default may be REQUIRED (no default, as PyTorch's threshold); such
    parameters come first in a record and carry an ``example`` value, which
    the plots and ``fastact.derivative`` use when none is given.
    """

    name: str
    default: float
    doc: str
    low: float = -math.inf          # allowed range, bounds included unless open
    high: float = math.inf
    low_open: bool = False
    nonzero: bool = False
    example: float | None = None    # for REQUIRED parameters
    integer: bool = False           # an int (maxout's pieces), not a float

    @property
    def required(self) -> bool:
        return self.default is REQUIRED

    def describe(self) -> str:
        if self.low == -math.inf and self.high == math.inf:
            rng = "a finite real number"
        elif self.high == math.inf:
            rng = f"a finite number {'>' if self.low_open else '>='} {self.low:g}"
        else:
            rng = f"a number in [{self.low:g}, {self.high:g}]"
        return rng + (", not 0" if self.nonzero else "")

    def check(self, value) -> str | None:
        """Return why ``value`` is not allowed, or None."""
        if self.integer and value != int(value):
            return "must be an integer"
        if not math.isfinite(value):
            return "must be finite"
        if value < self.low or value > self.high or (self.low_open and value == self.low):
            return f"must be {self.describe()}"
        if self.nonzero and value == 0:
            return "must not be 0"
        return None


@dataclass(frozen=True)
class Activation:
    """One activation function.

    kind: "elementwise" (a per-element kernel), "softmax" (along an axis, the
    backward from y), "axis_x" (along an axis, changing its length), "prelu",
    "rrelu".

    backward_from: which forward array the backward formula can use: "x",
    "y", or both.  gradient is the derivative's text (from x, or from y for
    the softmax kind); gradient_y the backward's text from y where the record
    has both.  y_requires: for functions whose backward from y holds only for
    some parameters, that condition as a Python expression over them
    (y_allowed() and y_condition() are the one place the rule is applied).

    cost: "cheap" (compares, multiplies, a division or a square root) or
    "transcendental" (an exp, log, tanh, erf ... per element), for every
    direction, or a dict direction -> cost.  It sets the size from which the
    kernels start threads (setup.py, _axis.pxi) and the speed-up over NumPy
    the benchmark aims at.

    The equivalents elsewhere, used by the benchmark and the tests:
    numpy: direction -> the NumPy expression a user would write, over
    ``x`` (or ``y`` for "y"), ``g`` (the incoming gradient) and ``p`` (the
    call's keyword arguments), with ``np`` and the helpers of
    ``fastact._baseline`` in scope.  torch: direction -> the call of PyTorch's
    own kernel (``torch``, ``F`` = torch.nn.functional, ``aten`` =
    torch.ops.aten in scope), on tensors; a direction missing is not timed
    for torch.  torch_notes: direction -> what torch runs when it is more
    than one kernel.  numpy_parity: direction -> the single NumPy ufunc the
    expression is, where the benchmark's target is parity, not a speed-up.
    variant_exprs: variant or bench mode ("tanh" of gelu, "train" of rrelu)
    -> a dict with its own numpy / torch / torch_notes.  class_name: the
    layer's class in fastact.nn (PyTorch's name); CamelCase of name if empty.
    """

    name: str
    kind: str
    formula: str
    gradient: str
    backward_from: tuple
    cost: str | dict
    params: tuple = ()
    aliases: tuple = ()
    notes: str = ""
    y_requires: str | None = None     # e.g. "alpha >= 0"
    gradient_y: str | None = None     # e.g. "y * (1 - y)"
    summary: str = ""
    extra: dict = field(default_factory=dict)
    # Conditions across parameters: (Python expression over the params, the
    # parameter an error names, why), e.g. ("min_val <= max_val", "min_val",
    # "must be <= max_val").  Checked after each parameter's own range.
    constraints: tuple = ()
    # A string parameter choosing among kernels: (param name, ((value, kernel
    # name), ...)), the first value being the default; e.g. gelu's
    # ("approximate", (("none", "gelu"), ("tanh", "gelu_tanh"))).
    variants: tuple | None = None
    class_name: str = ""
    # The axis functions' generalized ufuncs in fastact.ufuncs: (forward,
    # backward) signatures, e.g. ("(n)->(n)", "(n),(n)->(n)").
    gufunc: tuple | None = None
    numpy: dict = field(default_factory=dict)
    torch: dict = field(default_factory=dict)
    torch_notes: dict = field(default_factory=dict)
    numpy_parity: dict = field(default_factory=dict)
    variant_exprs: dict = field(default_factory=dict)

    def __post_init__(self):
        if not self.class_name:
            auto = "".join(s[:1].upper() + s[1:] for s in re.split(r"[_\W]+", self.name) if s)
            object.__setattr__(self, "class_name", auto)

    @property
    def kernels(self) -> tuple:
        """The names of this record's elementwise kernels (one unless variants)."""
        return tuple(k for _, k in self.variants[1]) if self.variants else (self.name,)

    @property
    def defaults(self) -> dict:
        """The parameters that have a default, with it."""
        return {p.name: p.default for p in self.params if not p.required}

    @property
    def examples(self) -> dict:
        """Every parameter: its default, or its example value if it is required."""
        return {p.name: (p.example if p.required else p.default) for p in self.params}

    def cost_of(self, direction: str) -> str:
        """"cheap" or "transcendental" for "forward", "x" or "y"."""
        if isinstance(self.cost, str):
            return self.cost
        return self.cost.get(direction, "cheap")

    def transcendental(self, direction: str) -> bool:
        """Whether this direction computes an exp/log/tanh/... per element."""
        return self.cost_of(direction) == "transcendental"

    def y_condition(self) -> str:
        """When the backward from y is allowed, as a Python expression over the
        parameters: "True", "False" or "(y_requires)".  The generated
        functions inline it; y_allowed() evaluates it."""
        if "y" not in self.backward_from:
            return "False"
        return "True" if self.y_requires is None else f"({self.y_requires})"

    def y_allowed(self, params=None) -> bool:
        """Whether backward from y holds for these parameters (the defaults and
        examples fill in what params lacks)."""
        cond = self.y_condition()
        if cond in ("True", "False"):
            return cond == "True"
        return bool(evaluate(cond, {**self.examples, **dict(params or {})}))

    def exprs(self, variant: str = "") -> dict:
        """{"numpy": ..., "torch": ..., "torch_notes": ...} of the record or of
        one of its variant_exprs ("" for the record's own)."""
        if not variant:
            return {"numpy": self.numpy, "torch": self.torch, "torch_notes": self.torch_notes}
        v = self.variant_exprs.get(variant, {})
        return {k: v.get(k, {}) for k in ("numpy", "torch", "torch_notes")}


def check_record(rec: Activation) -> None:
    """What every record must satisfy (checked at import, for every record)."""
    req = [p.required for p in rec.params]
    assert req == sorted(req, reverse=True), f"{rec.name}: required parameters must come first"
    costs = [rec.cost] if isinstance(rec.cost, str) else list(rec.cost.values())
    assert all(c in COSTS for c in costs), f"{rec.name}: cost must be one of {COSTS}"
    if isinstance(rec.cost, dict):
        missing = {"forward", *rec.backward_from} - set(rec.cost)
        assert not missing, f"{rec.name}: cost has no entry for {sorted(missing)}"
    assert set(rec.backward_from) <= {"x", "y"} and rec.backward_from, rec.name
    if set(rec.backward_from) == {"x", "y"}:
        assert rec.gradient_y, f"{rec.name}: backward from x and y needs gradient_y"
    for table in (rec.numpy, rec.torch, rec.torch_notes, rec.numpy_parity):
        assert set(table) <= set(DIRECTIONS), f"{rec.name}: keys must be in {DIRECTIONS}"


NAN_NOTE = ("At x = nan both directions return nan (PyTorch's backward of the "
            "piecewise-linear functions returns g, 0 or slope * g there instead).")
EXT_NOTE = ("At x = nan both directions return nan; at +-inf the limits (forward and "
            "derivative), never nan.")
# The same for the piecewise exponential ones (elu, selu, celu): PyTorch's
# backward takes their x > 0 branch at nan.
NAN_NOTE_EXP = ("At x = nan both directions return nan (PyTorch's backward returns "
                "{} there, its x > 0 branch).")
INF_NOTE = "At +-inf the limits (forward and derivative), never nan."
