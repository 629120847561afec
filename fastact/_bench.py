"""``python -m fastact bench``: ns/element of fastact against NumPy and PyTorch.

Every activation of the registry and every variant of it (``gelu[tanh]``
for approximate="tanh"; ``rrelu`` in eval mode and ``rrelu[train]``, training
with a fixed seed), in every direction the registry allows (forward, backward
from x, backward from y), for each dtype, is timed; parameters are the
registry's defaults, or the examples of required ones (threshold, maxout's
pieces).  Shapes come from the record's kind (KINDS): elementwise on a flat
array, softmax, glu and maxout along the last axis of (rows, 1024), prelu on
(N, C, L) with a weight of C slopes, and as prelu[dense] on (N, C).  Implementations:

- ``numpy``: the NumPy expression a user would write (``fastact._baseline``),
- ``torch``: PyTorch's own CPU kernels on one thread (``torch.set_num_threads(1)``),
  on tensors sharing memory with the NumPy arrays (``torch.from_numpy``),
- ``fastact``: one thread, returning a new array (like NumPy and torch do),
- ``fastact_out``: one thread, into a preallocated ``out=``,
- ``fastact_mt``: all threads, into ``out=``.

The speed-ups compare like with like: fastact on one thread returning a new
array against NumPy and against torch on one thread returning a new array.

The machine may be noisy: the implementations of one case are timed
round-robin (several rounds, each round a batch of calls per
implementation, the starting implementation rotating), and the minimum per
call over the rounds is reported (the median is kept in the JSON).

Two machine-level sections follow when sigmoid is selected: the call
overhead on a 16-element float32 array, and thread scaling on 16M float32
elements (1 thread vs all threads vs a memcpy of the same bytes).

The shared pieces (``cases``, ``Case.inputs``, ``Case.callables``) are also
used by ``benchmarks/`` (pytest-benchmark).
"""
from __future__ import annotations

import gc
import json
import math
import os
import platform
import re
import sys
import time
from dataclasses import dataclass, field

import numpy as np

import fastact as fa
from fastact import _dispatch, _threads
from fastact._baseline import NUMPY
from fastact._registry import evaluate

DIRECTIONS = ("forward", "x", "y")
DIR_LABEL = {"forward": "fwd", "x": "bwd(x)", "y": "bwd(y)"}
IMPLS = ("numpy", "torch", "fastact", "fastact_out", "fastact_mt")
SOFTMAX_ROW = 1024            # softmax is timed on rows of this many elements

# Targets (issue "Performance ... benchmarks that prove it")
TARGET_VS_TORCH, AIM_VS_TORCH = 1.0, 1.25
TARGET_TRANSCENDENTAL, TARGET_CHEAP = 3.0, 2.0
TARGET_SCALING, TARGET_MEMCPY = 1.7, 1.3
TARGET_OVERHEAD = 2.0

# Rows where the NumPy expression is one SIMD pass of NumPy itself: the target
# there is parity ("never slower than np.tanh"), not 3x or 2x.  Measured with
# NumPy 2.4 on x86-64 (AVX-512), 2**20 elements, ns/element against a copy of
# the same array (x.copy(): 0.09 float32, 0.23 float64):
# - np.tanh: vectorized (SIMD) in NumPy 2: 0.36 float32, 1.68 float64.
# - np.clip(x, lo, hi) with both bounds (relu6, hardtanh forward): NumPy's own
#   SIMD clip loop, 0.11 float32, 0.23-0.26 float64, i.e. a copy's time.
# Not parity: relu's np.maximum(x, 0): a ufunc, but its loop for an array and
# a scalar is not the SIMD one (0.38 float32, 0.46 float64: 4x and 2x a copy;
# np.maximum of two arrays runs at 0.16), so relu keeps the cheap target 2x.
PARITY_ROWS = {
    ("tanh", "forward"): "np.tanh",
    ("relu6", "forward"): "np.clip",
    ("hardtanh", "forward"): "np.clip",
}

# Many short samples: on a noisy (virtual) machine the minimum over many
# rounds is the estimate least disturbed by other tenants.  Short samples
# matter most for the all-threads runs: on a VM whose vCPUs are throttled or
# stolen, a team of threads often stalls for milliseconds (docs/performance.md).
_ROUNDS = int(os.environ.get("FASTACT_BENCH_ROUNDS", "31"))
_SAMPLE_S = float(os.environ.get("FASTACT_BENCH_SAMPLE", "0.0015"))


# ------------------------------------------------------------- PyTorch ----
# PyTorch's own kernels, keyed by registry name then direction, called as
# fn(x_or_y, grad, params) on tensors.  Names or directions missing here are
# simply not timed for torch.  For sigmoid/tanh torch has no backward from x:
# its autograd saves y, so a user holding x runs the forward then the
# backward (two kernels): that is what the "x" entries time (TORCH_NOTES).

def _torch_table(torch):
    aten = torch.ops.aten
    F = torch.nn.functional
    return {
        "sigmoid": {
            "forward": lambda x, g, p: torch.sigmoid(x),
            "x": lambda x, g, p: aten.sigmoid_backward(g, torch.sigmoid(x)),
            "y": lambda y, g, p: aten.sigmoid_backward(g, y),
        },
        "tanh": {
            "forward": lambda x, g, p: torch.tanh(x),
            "x": lambda x, g, p: aten.tanh_backward(g, torch.tanh(x)),
            "y": lambda y, g, p: aten.tanh_backward(g, y),
        },
        "relu": {
            "forward": lambda x, g, p: torch.relu(x),
            "x": lambda x, g, p: aten.threshold_backward(g, x, 0),
            "y": lambda y, g, p: aten.threshold_backward(g, y, 0),
        },
        "leaky_relu": {
            "forward": lambda x, g, p: F.leaky_relu(x, p["negative_slope"]),
            "x": lambda x, g, p: aten.leaky_relu_backward(g, x, p["negative_slope"], False),
        },
        "elu": {
            "forward": lambda x, g, p: F.elu(x, p["alpha"]),
            "x": lambda x, g, p: aten.elu_backward(g, p["alpha"], 1, 1, False, x),
            "y": lambda y, g, p: aten.elu_backward(g, p["alpha"], 1, 1, True, y),
        },
        # --- cat1 --- (softsign, tanhshrink: composite in torch, no backward kernel;
        # squareplus: none in torch)
        "silu": {
            "forward": lambda x, g, p: F.silu(x),
            "x": lambda x, g, p: aten.silu_backward(g, x),
        },
        "mish": {
            "forward": lambda x, g, p: F.mish(x),
            "x": lambda x, g, p: aten.mish_backward(g, x),
        },
        "softsign": {"forward": lambda x, g, p: F.softsign(x)},
        "logsigmoid": {
            "forward": lambda x, g, p: F.logsigmoid(x),
            "x": lambda x, g, p: aten.log_sigmoid_backward(g, x, aten.log_sigmoid_forward(x)[1]),
        },
        "tanhshrink": {"forward": lambda x, g, p: F.tanhshrink(x)},
        "gelu": {
            "forward": lambda x, g, p: F.gelu(x),
            "x": lambda x, g, p: aten.gelu_backward(g, x),
        },
        "selu": {
            "forward": lambda x, g, p: F.selu(x),
            "x": lambda x, g, p: aten.elu_backward(g, 1.6732632423543772, 1.0507009873554805, 1, False, x),
        },
        "celu": {
            "forward": lambda x, g, p: F.celu(x, p["alpha"]),
            "x": lambda x, g, p: aten.elu_backward(g, p["alpha"], 1, 1 / p["alpha"], False, x),
        },
        "softplus": {
            "forward": lambda x, g, p: F.softplus(x, p["beta"], p["threshold"]),
            "x": lambda x, g, p: aten.softplus_backward(g, x, p["beta"], p["threshold"]),
        },
        # --- end cat1 ---
        "gelu[tanh]": {
            "forward": lambda x, g, p: F.gelu(x, approximate="tanh"),
            "x": lambda x, g, p: aten.gelu_backward(g, x, approximate="tanh"),
        },
        "softmax": {
            "forward": lambda x, g, p: torch.softmax(x, p.get("axis", -1)),
            "y": lambda y, g, p: torch._softmax_backward_data(g, y, p.get("axis", -1), y.dtype),
        },
        "log_softmax": {
            "forward": lambda x, g, p: F.log_softmax(x, p.get("axis", -1)),
            "y": lambda y, g, p: torch._log_softmax_backward_data(g, y, p.get("axis", -1), y.dtype),
        },
        # softmin is composite in torch (softmax of -x): no backward kernel of its own
        "softmin": {"forward": lambda x, g, p: F.softmin(x, p.get("axis", -1))},
        # --- along an axis, with weights, random (maxout: none in torch) ---
        "glu": {
            "forward": lambda x, g, p: F.glu(x, p.get("axis", -1)),
            "x": lambda x, g, p: aten.glu_backward(g, x, p.get("axis", -1)),
        },
        "prelu": {
            "forward": lambda x, g, p: F.prelu(x, p["weight"]),
            "x": lambda x, g, p: _torch_prelu_backward(aten, g, x, p["weight"]),
        },
        # eval mode: autograd's rrelu_with_noise_backward dispatches to leaky_relu_backward
        "rrelu": {
            "forward": lambda x, g, p: F.rrelu(x, p["lower"], p["upper"], training=False),
            "x": lambda x, g, p: aten.leaky_relu_backward(g, x, (p["lower"] + p["upper"]) / 2, False),
        },
        "rrelu[train]": {
            "forward": lambda x, g, p: F.rrelu(x, p["lower"], p["upper"], training=True),
            "x": lambda x, g, p: aten.rrelu_with_noise_backward(g, x, p["noise"], p["lower"],
                                                                p["upper"], True, False),
        },
        # --- piecewise-linear catalogue ---
        "relu6": {
            "forward": lambda x, g, p: F.relu6(x),
            "x": lambda x, g, p: aten.hardtanh_backward(g, x, 0.0, 6.0),
        },
        "hardsigmoid": {
            "forward": lambda x, g, p: F.hardsigmoid(x),
            "x": lambda x, g, p: aten.hardsigmoid_backward(g, x),
        },
        "hardswish": {
            "forward": lambda x, g, p: F.hardswish(x),
            "x": lambda x, g, p: aten.hardswish_backward(g, x),
        },
        "hardtanh": {
            "forward": lambda x, g, p: F.hardtanh(x, p["min_val"], p["max_val"]),
            "x": lambda x, g, p: aten.hardtanh_backward(g, x, p["min_val"], p["max_val"]),
        },
        "softshrink": {
            "forward": lambda x, g, p: F.softshrink(x, p["lambd"]),
            "x": lambda x, g, p: aten.softshrink_backward(g, x, p["lambd"]),
        },
        "hardshrink": {
            "forward": lambda x, g, p: F.hardshrink(x, p["lambd"]),
            "x": lambda x, g, p: aten.hardshrink_backward(g, x, p["lambd"]),
        },
        "threshold": {
            "forward": lambda x, g, p: F.threshold(x, p["threshold"], p["value"]),
            "x": lambda x, g, p: aten.threshold_backward(g, x, p["threshold"]),
        },
    }


def _torch_prelu_backward(aten, g, x, weight):
    """What torch's autograd runs for F.prelu: weight viewed as (C, 1, ...), then
    _prelu_kernel_backward, whose grad_weight has x's shape, then its sum."""
    w = weight.view((-1,) + (1,) * (x.dim() - 2)) if x.dim() >= 2 and weight.numel() > 1 else weight
    gx, gw = aten._prelu_kernel_backward(g, x, w)
    return gx, gw.sum_to_size(w.shape).view(weight.shape)


TORCH_NOTES = {
    ("sigmoid", "x"): "torch.sigmoid then sigmoid_backward (torch's backward needs y)",
    ("tanh", "x"): "torch.tanh then tanh_backward (torch's backward needs y)",
    ("logsigmoid", "x"): "log_sigmoid_forward (for its buffer) then log_sigmoid_backward",
    ("softmin", "forward"): "F.softmin: torch negates x then runs softmax (composite)",
    ("prelu", "x"): ("_prelu_kernel_backward then a sum of its grad_weight (x's shape) over "
                     "all but the channel axis, as torch's autograd"),
    ("rrelu[train]", "forward"): "F.rrelu draws from torch's generator (other numbers)",
}

_torch_cache = {}


def get_torch(enabled=True):
    """(torch module, its table) or (None, {}) if unavailable/disabled."""
    if not enabled:
        return None, {}
    if "torch" not in _torch_cache:
        try:
            import torch
            _torch_cache["torch"] = (torch, _torch_table(torch))
        except Exception:               # not installed, or broken
            _torch_cache["torch"] = (None, {})
    return _torch_cache["torch"]


# --------------------------------------------------------------- cases ----

def is_transcendental(rec, direction) -> bool:
    """Whether this direction needs exp/log/tanh/... (from the registry's formulas)."""
    return rec.transcendental(direction)


# How each kind of record is benchmarked: the shape of x for a size, the
# modes timed beyond the registry's variants (label suffix, extra params),
# and the array arguments built from x (prelu's weight, rrelu's noise).
AXIS_ROW = SOFTMAX_ROW        # softmax, glu, maxout: along the last axis of (rows, AXIS_ROW)
PRELU_CHANNELS = 64           # prelu: x of shape (N, C, L), a weight of C slopes
PRELU_LEN = 1024
PRELU_DENSE = 256             # prelu[dense]: (N, 256)
RRELU_SEED = 0                # rrelu[train]: rng= of the forward, same seed every call


def _rows_shape(size):
    row = min(AXIS_ROW, size)
    return (max(1, size // row), row)


def _axis_x_shape(size):
    """Rows of an even length (glu halves it; maxout's example pieces=2 divides it)."""
    row = max(2, min(AXIS_ROW, size) // 2 * 2)
    return (max(1, size // row), row)


def _prelu_shape(size):
    c = min(PRELU_CHANNELS, size)
    length = max(1, min(PRELU_LEN, size // c))
    return (max(1, size // (c * length)), c, length)


def _dense_shape(size):
    """prelu[dense]: (N, C) after a dense layer, one element per channel and row."""
    c = min(PRELU_DENSE, size)
    return (max(1, size // c), c)


def _prelu_arrays(case, x):
    c = x.shape[1] if x.ndim >= 2 else 1
    # distinct slopes per channel (around the example 0.25), so a wrong channel shows
    return {"weight": np.linspace(0.05, 0.45, c).astype(case.dtype)}


def _rrelu_arrays(case, x):
    if not case.params.get("training"):
        return {}
    if case.direction == "forward":
        return {"rng": RRELU_SEED}
    p = case.params
    _, noise = fa.rrelu(x, p["lower"], p["upper"], training=True, rng=RRELU_SEED,
                        return_noise=True)
    return {"noise": noise}


@dataclass(frozen=True)
class _Kind:
    shape: object                                 # size -> shape of x
    # (suffix, extra params) or (suffix, extra params, size -> shape of x): a
    # mode with its own shape is a layout of the same call, and shares the
    # NumPy and torch entries of the label without the suffix
    modes: tuple = (("", {}),)
    arrays: object = None                         # (case, x) -> {argument: value}


KINDS = {
    "elementwise": _Kind(lambda size: (size,)),
    "softmax": _Kind(_rows_shape),
    "axis_x": _Kind(_axis_x_shape),                # output along the axis: extra["out_len"]
    "prelu": _Kind(_prelu_shape, modes=(("", {}), ("dense", {}, _dense_shape)),
                   arrays=_prelu_arrays),
    "rrelu": _Kind(lambda size: (size,), modes=(("", {}), ("train", {"training": True})),
                   arrays=_rrelu_arrays),
}


@dataclass
class Case:
    """One activation (variant) x direction x dtype at a given size.

    name is the registry name (the fastact function called), label the row's
    name: name itself, or name[variant] for a registry variant or a mode
    (``gelu[tanh]``, ``rrelu[train]``); NUMPY, the torch table, PARITY_ROWS
    and TORCH_NOTES are keyed by label.
    """

    name: str
    direction: str
    dtype: str
    size: int
    rec: object
    params: dict = field(default_factory=dict)
    label: str = ""
    shape_fn: object = None                       # a layout mode's shape, else the kind's
    key: str = ""                                 # NUMPY / torch / PARITY_ROWS key

    def __post_init__(self):
        self.label = self.label or self.name
        self.key = self.key or self.label

    @property
    def group(self):
        return f"{self.label}-{self.direction}-{self.dtype}"

    @property
    def shape(self):
        """The shape of x (and of y, and of the backward's result)."""
        return (self.shape_fn or KINDS[self.rec.kind].shape)(self.size)

    @property
    def out_shape(self):
        """The shape of the forward's output (shorter along the axis for glu, maxout)."""
        shape = self.shape
        if self.rec.kind != "axis_x":
            return shape
        k = shape[-1]
        n = evaluate(self.rec.extra["out_len"], dict(self.params, k=k))
        return shape[:-1] + (int(n),)

    @property
    def result_shape(self):
        return self.out_shape if self.direction == "forward" else self.shape

    @property
    def n(self):
        """Elements of x: the unit of ns/element in every direction."""
        return math.prod(self.shape)

    @property
    def transcendental(self):
        return is_transcendental(self.rec, self.direction)

    @property
    def target_vs_numpy(self):
        if (self.key, self.direction) in PARITY_ROWS:
            return 1.0
        return TARGET_TRANSCENDENTAL if self.transcendental else TARGET_CHEAP

    def inputs(self, seed=0):
        """(a, grad): a is x (forward, backward from x) or y = forward(x); grad has
        the forward output's shape."""
        rng = np.random.default_rng(seed)
        dt = np.dtype(self.dtype)
        x = (rng.standard_normal(self.shape) * 3).astype(dt)
        g = rng.standard_normal(self.out_shape).astype(dt)
        if self.direction == "y":
            base = NUMPY.get(self.key, {}).get("forward")
            p = self.call_params(x)
            a = (base(x, None, p) if base is not None
                 else getattr(fa, self.name)(x, **p))
            a = np.ascontiguousarray(a, dtype=dt)
        else:
            a = x
        return a, g

    def call_params(self, a):
        """The keyword arguments of every implementation: the case's parameters
        plus the arrays its kind needs (prelu's weight, rrelu[train]'s noise)."""
        p = dict(self.params)
        make = KINDS[self.rec.kind].arrays
        if make is not None:
            p.update(make(self, a))
        return p

    def fastact_call(self, a, g, p=None, out=None):
        """Call the fastact function of this case (p: call_params(a), made if None)."""
        p = self.call_params(a) if p is None else p
        if self.direction == "forward":
            return getattr(fa, self.name)(a, **p, out=out)
        bwd = getattr(fa, self.name + "_backward")
        if self.direction == "x":
            return bwd(g, a, **p, out=out)
        return bwd(g, y=a, **p, out=out)

    def callables(self, a, g, torch_enabled=True):
        """{impl: (zero-argument callable, threads or None)}; threads None = leave as is."""
        out = np.empty(self.result_shape, dtype=a.dtype)
        p = self.call_params(a)
        impls = {}
        base = NUMPY.get(self.key, {}).get(self.direction)
        if base is not None:
            impls["numpy"] = (lambda: base(a, g, p), None)
        torch, table = get_torch(torch_enabled)
        tfn = table.get(self.key, {}).get(self.direction)
        if torch is not None and tfn is not None:
            ta, tg = torch.from_numpy(a), torch.from_numpy(g)
            tp = {k: torch.from_numpy(v) if isinstance(v, np.ndarray) else v for k, v in p.items()}
            impls["torch"] = (lambda: tfn(ta, tg, tp), "torch")
        impls["fastact"] = (lambda: self.fastact_call(a, g, p), 1)
        impls["fastact_out"] = (lambda: self.fastact_call(a, g, p, out=out), 1)
        impls["fastact_mt"] = (lambda: self.fastact_call(a, g, p, out=out), "all")
        return impls


def _y_allowed(rec, params):
    """Whether backward from y holds for these parameters (registry's y_requires)."""
    req = getattr(rec, "y_requires", None)
    if req is None:
        return True
    if isinstance(req, str):                     # an expression such as "alpha >= 0"
        return bool(evaluate(req, dict(params)))
    return bool(req[0](params))                  # (predicate, description)


def pytest_settings():
    """(n, fastact threads) for benchmarks/: FASTACT_BENCH_N (default 2**20) and
    FASTACT_BENCH_THREADS (default 1, like with like against NumPy; "all")."""
    n = int(os.environ.get("FASTACT_BENCH_N", str(1 << 20)))
    t = os.environ.get("FASTACT_BENCH_THREADS", "1").strip().lower()
    return n, (fa.get_num_threads() if t == "all" else int(t))


def _variants(rec):
    """(label, params, shape_fn, key) of every variant and mode of a record, the
    default first (key: the label whose NumPy and torch entries apply)."""
    base = [(rec.name, {})]
    if rec.variants:
        pname, choices = rec.variants
        base += [(f"{rec.name}[{value}]", {pname: value}) for value, _ in choices[1:]]
    out = []
    for label, vp in base:
        for suffix, mp, *shape_fn in KINDS[rec.kind].modes:
            full = f"{label}[{suffix}]" if suffix else label
            out.append((full, {**vp, **mp}, shape_fn[0] if shape_fn else None,
                        label if shape_fn else full))
    return out


def labels():
    """Every row label the bench knows, in registry order (gelu, gelu[tanh], ...)."""
    return [v[0] for rec in fa.activations().values() for v in _variants(rec)]


def cases(names=None, dtypes=("float32", "float64"), size=1 << 20, skipped=None):
    """Every (activation or variant, direction, dtype) the registry allows, in registry order.

    names: None for all, else registry names (all of a record's variants) or
    row labels such as "gelu[tanh]" (that variant only); unknown ones raise
    ValueError.  skipped: optional list that receives (name, reason) for
    activations left out (none today: every kind is in KINDS).
    """
    reg = fa.activations()
    if names:
        known = set(reg) | set(labels())
        unknown = [n for n in names if n not in known]
        if unknown:
            raise ValueError(f"unknown activation(s) {', '.join(unknown)}; "
                             f"known: {', '.join(labels())}")
    out = []
    for name, rec in reg.items():
        if rec.kind not in KINDS:
            if skipped is not None and (not names or name in names):
                skipped.append((name, f"kind {rec.kind!r} not benchmarked"))
            continue
        params = dict(rec.examples)               # defaults, or the examples of REQUIRED ones
        if rec.kind in ("softmax", "axis_x"):
            params["axis"] = -1
        for label, extra, shape_fn, key in _variants(rec):
            if names and name not in names and label not in names:
                continue
            p = {**params, **extra}
            dirs = ["forward"] + [d for d in ("x", "y") if d in rec.backward_from]
            if "y" in dirs and not _y_allowed(rec, p):
                dirs.remove("y")
            for direction in dirs:
                for dt in dtypes:
                    out.append(Case(name, direction, dt, size, rec, dict(p), label, shape_fn, key))
    return out


# -------------------------------------------------------------- timing ----

class _ThreadSetter:
    """Set the thread counts an implementation is timed with.

    spec: None (leave fastact as is), 1 or "all" (fastact's threads), or
    "torch" (torch on one thread).  torch.set_num_threads(1) calls
    omp_set_num_threads(1), and torch and fastact share one libgomp: fastact,
    which honours OpenMP's limit (for threadpoolctl), would then run on one
    thread too.  So torch is set to one thread only while torch is timed.
    """

    def __init__(self, all_threads, torch=None):
        self.all = all_threads
        self.current = None
        self.torch = torch
        self.torch_default = torch.get_num_threads() if torch is not None else None
        self.torch_one = False

    def __call__(self, spec):
        if spec == "torch":
            if self.torch is not None and not self.torch_one:
                self.torch.set_num_threads(1)
                self.torch_one = True
            return
        if self.torch_one:
            self.torch.set_num_threads(self.torch_default)
            self.torch_one = False
        if spec is None:
            return
        n = self.all if spec == "all" else spec
        if n != self.current:
            fa.set_num_threads(n)
            self.current = n

    def restore(self):
        self("all")


def interleaved(impls, set_threads, rounds=None, sample_s=None, number=None):
    """Time {impl: (fn, threads)} round-robin.  Returns {impl: [s/call per round]}.

    rounds and sample_s default to _ROUNDS and _SAMPLE_S (read at each call,
    so that the tests can shorten them).

    Each implementation is warmed up, its calls per sample chosen so that a
    sample lasts about sample_s, then the rounds run with the starting
    implementation rotating each round.
    """
    rounds = _ROUNDS if rounds is None else rounds
    sample_s = _SAMPLE_S if sample_s is None else sample_s
    names = list(impls)
    numbers = {}
    for k in names:
        fn, th = impls[k]
        set_threads(th)
        fn()                                    # warm up (page faults, thread pool)
        t0 = time.perf_counter()
        fn()
        est = time.perf_counter() - t0
        numbers[k] = number or max(1, min(100_000, int(sample_s / max(est, 1e-7))))
    samples = {k: [] for k in names}
    gc_was = gc.isenabled()
    gc.disable()
    try:
        for r in range(rounds):
            order = names[r % len(names):] + names[:r % len(names)]
            for k in order:
                fn, th = impls[k]
                set_threads(th)
                num = numbers[k]
                step = max(1, num // 8)
                done = 0
                t0 = time.perf_counter()
                while done < num:           # in steps, to cut a sample short when
                    for _ in range(step):   # the machine stalls (see docs/performance.md)
                        fn()
                    done += step
                    elapsed = time.perf_counter() - t0
                    if elapsed > 5 * sample_s:
                        break
                samples[k].append(elapsed / done)
    finally:
        if gc_was:
            gc.enable()
    return samples


def _check_close(case, a, g, torch_enabled=None):
    """Compare fastact with the NumPy expression once; a message if they differ.

    A backward returning several arrays (prelu's grad_x, grad_weight) is
    compared array by array.
    """
    base = NUMPY.get(case.key, {}).get(case.direction)
    if base is None:
        return None
    p = case.call_params(a)
    with np.errstate(all="ignore"):
        want = base(a, g, p)
        got = case.fastact_call(a, g, p)
    wants = want if isinstance(want, tuple) else (want,)
    gots = got if isinstance(got, tuple) else (got,)
    if len(wants) != len(gots):
        return f"{len(gots)} result(s), NumPy's expression gives {len(wants)}"
    for i, (w, gt) in enumerate(zip(wants, gots)):
        problem = _compare(np.asarray(gt, dtype=np.float64), np.asarray(w, dtype=np.float64),
                           case.dtype)
        if problem:
            return problem if len(wants) == 1 else f"result {i}: {problem}"
    return None


def _compare(got, want, dtype):
    if got.shape != want.shape:
        return f"shape {got.shape} != NumPy's {want.shape}"
    both_nan = np.isnan(got) & np.isnan(want)
    if (np.isnan(got) != np.isnan(want)).any():
        return "nan where NumPy has none (or the reverse)"
    diff = np.abs(np.where(both_nan, 0, got - want))
    scale = max(float(np.max(np.abs(np.where(both_nan, 0, want)), initial=0)), 1e-30)
    rel = float(diff.max(initial=0)) / scale
    tol = 1e-4 if dtype == "float32" else 1e-10
    if rel > tol:
        return f"max |fastact - numpy| / max|numpy| = {rel:.2e} (> {tol:g})"
    return None


# ------------------------------------------------------------- machine ----

def cpu_flags():
    """{flag: bool} for the x86 flags that matter to the builds (empty elsewhere)."""
    wanted = ("avx2", "fma", "avx512f")
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("flags"):
                    have = set(line.split(":", 1)[1].split())
                    return {f: f in have for f in wanted}
    except OSError:
        pass
    return {}


def cpu_model():
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_info(torch=None):
    flags = cpu_flags()
    return {
        "cpu": cpu_model(),
        "cpu_flags": flags,
        "cpus_available": _threads.available_cpus(),
        "fastact": fa.__version__,
        "build": _dispatch.active_level(),
        "builds_runnable": _dispatch.runnable(),
        "threads": fa.get_num_threads(),
        "numpy": np.__version__,
        "torch": getattr(torch, "__version__", None),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


# ----------------------------------------------------------------- run ----

def _ns(t, n):
    return t * 1e9 / n


def bench_case(case, set_threads, torch_enabled, all_threads):
    a, g = case.inputs()
    impls = case.callables(a, g, torch_enabled)
    problem = _check_close(case, a, g, torch_enabled)
    samples = interleaved(impls, set_threads)
    best = {k: min(v) for k, v in samples.items()}
    med = {k: float(np.median(v)) for k, v in samples.items()}
    n = case.n
    row = {
        "name": case.label, "function": case.name, "direction": case.direction,
        "dtype": case.dtype, "params": dict(case.params),
        "shape": list(case.shape), "out_shape": list(case.out_shape), "n": n,
        "threads_all": all_threads,
        "transcendental": case.transcendental, "target_vs_numpy": case.target_vs_numpy,
        "ns_per_element": {k: _ns(best.get(k), n) if k in best else None for k in IMPLS},
        "ns_per_element_median": {k: _ns(med[k], n) if k in med else None for k in IMPLS},
        "torch_note": TORCH_NOTES.get((case.key, case.direction)) if "torch" in best else None,
        "mismatch": problem,
    }
    ns = row["ns_per_element"]
    row["speedup_vs_numpy"] = ns["numpy"] / ns["fastact"] if ns["numpy"] else None
    row["speedup_vs_torch"] = ns["torch"] / ns["fastact"] if ns["torch"] else None
    row["speedup_out_vs_numpy"] = ns["numpy"] / ns["fastact_out"] if ns["numpy"] else None
    row["threads_speedup"] = ns["fastact_out"] / ns["fastact_mt"]
    return row


def bench_overhead(set_threads, torch_enabled):
    """µs per call on 16 float32 elements: fastact.sigmoid vs np.exp vs NumPy vs torch."""
    x16 = np.linspace(-4, 4, 16, dtype=np.float32)
    expr = NUMPY["sigmoid"]["forward"]
    impls = {
        "fastact.sigmoid": (lambda: fa.sigmoid(x16), None),
        "np.exp": (lambda: np.exp(x16), None),
        "numpy sigmoid expression": (lambda: expr(x16, None, {}), None),
    }
    torch, _ = get_torch(torch_enabled)
    if torch is not None:
        t16 = torch.from_numpy(x16)
        impls["torch.sigmoid"] = (lambda: torch.sigmoid(t16), "torch")
    s = interleaved(impls, set_threads, sample_s=0.002)
    us = {k: min(v) * 1e6 for k, v in s.items()}
    return {"us_per_call": us, "ratio_vs_np_exp": {k: v / us["np.exp"] for k, v in us.items()}}


def bench_scaling(set_threads, all_threads, n=1 << 24):
    """16M float32 sigmoid forward into out=: 1 thread, all threads, and np.copyto."""
    x = (np.random.default_rng(2).standard_normal(n) * 3).astype(np.float32)
    out = np.empty_like(x)
    out2 = np.empty_like(x)
    impls = {
        "fastact 1 thread": (lambda: fa.sigmoid(x, out=out), 1),
        f"fastact {all_threads} threads": (lambda: fa.sigmoid(x, out=out), "all"),
        "memcpy (np.copyto)": (lambda: np.copyto(out2, x), None),
    }
    s = interleaved(impls, set_threads, sample_s=0.001)
    best = {k: min(v) for k, v in s.items()}
    med = [float(np.median(v)) for v in s.values()]
    t1, tn, tm = best.values()
    return {
        "n": n, "dtype": "float32", "threads": all_threads,
        "ns_per_element": {k: _ns(v, n) for k, v in best.items()},
        "ns_per_element_median": {k: _ns(v, n) for k, v in zip(best, med)},
        "median_speedup_all_vs_1": med[0] / med[1],
        "speedup_all_vs_1": t1 / tn,
        "all_vs_memcpy": tn / tm,
        "ok": (t1 / tn >= TARGET_SCALING) or (tn / tm <= TARGET_MEMCPY),
    }


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


# -------------------------------------------------------------- output ----

def _f(v, fmt="{:.3f}"):
    return "—" if v is None else fmt.format(v)


def _x(v):
    return "—" if v is None else f"{v:.2f}x"


def table_rows(result):
    nt = result["machine"]["threads"]
    head = ["kernel", "dir", "dtype", "NumPy", "torch 1t", "fastact 1t", "fastact 1t out=",
            f"fastact {nt}t out=", "vs NumPy", "vs torch", "NumPy target"]
    body = []
    for r in result["rows"]:
        ns = r["ns_per_element"]
        vt = _x(r["speedup_vs_torch"])
        if r["torch_note"] and vt != "—":
            vt += "*"
        body.append([r["name"], DIR_LABEL[r["direction"]], r["dtype"], _f(ns["numpy"]),
                     _f(ns["torch"]), _f(ns["fastact"]), _f(ns["fastact_out"]),
                     _f(ns["fastact_mt"]), _x(r["speedup_vs_numpy"]), vt,
                     f"{r['target_vs_numpy']:g}x" + (" (parity)" if r["target_vs_numpy"] == 1 else "")])
    return head, body


def _header_lines(result):
    m = result["machine"]
    flags = ", ".join(f"{k}={'yes' if v else 'no'}" for k, v in m["cpu_flags"].items()) or "n/a"
    return [
        f"CPU: {m['cpu']}; flags {flags}; {m['cpus_available']} CPUs available",
        f"fastact {m['fastact']}, CPU build in use: {m['build']} (runnable: "
        f"{', '.join(m['builds_runnable'])}); threads: {m['threads']}",
        f"numpy {m['numpy']}, torch {m['torch'] or 'not timed'}, python {m['python']}",
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


def run(args):
    names = getattr(args, "only", None)
    dtypes = tuple(getattr(args, "dtype", None) or ("float32", "float64"))
    size = int(getattr(args, "size", 1 << 20))
    if size < 1:
        print("fastact bench: --size must be >= 1", file=sys.stderr)
        return 2
    torch_enabled = not getattr(args, "no_torch", False)
    skipped = []
    try:
        todo = cases(names, dtypes, size, skipped)
    except ValueError as exc:
        print(f"fastact bench: {exc}", file=sys.stderr)
        return 2
    torch, _ = get_torch(torch_enabled)
    all_threads = fa.get_num_threads()
    set_threads = _ThreadSetter(all_threads, torch)
    t_start = time.perf_counter()
    result = {"machine": machine_info(torch), "size": size, "rounds": _ROUNDS,
              "softmax_row": SOFTMAX_ROW, "rows": [], "skipped": skipped}
    tty = sys.stderr.isatty()

    def progress(msg):
        if tty:
            print(f"{msg:<60}", file=sys.stderr, end="\r", flush=True)

    try:
        for i, case in enumerate(todo):
            progress(f"[{i + 1}/{len(todo)}] {case.group}")
            result["rows"].append(bench_case(case, set_threads, torch_enabled, all_threads))
        if "sigmoid" in fa.activations() and (not names or "sigmoid" in names):
            progress("call overhead ...")
            result["overhead"] = bench_overhead(set_threads, torch_enabled)
            progress("thread scaling ...")
            result["threads_scaling"] = bench_scaling(set_threads, all_threads)
        progress("")
    finally:
        set_threads.restore()
    result["seconds"] = time.perf_counter() - t_start
    result["verdicts"] = verdicts(result)
    if getattr(args, "markdown", False):
        print(format_markdown(result))
    else:
        print(format_text(result))
    for name, why in skipped:
        print(f"skipped {name}: {why}", file=sys.stderr)
    print(f"({result['seconds']:.0f} s)", file=sys.stderr)
    if getattr(args, "json", None):
        with open(args.json, "w") as fh:
            json.dump(result, fh, indent=1)
        print(f"wrote {args.json}", file=sys.stderr)
    return 0
