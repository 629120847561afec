"""The benchmark's cases: every registry record, variant and mode x direction x
dtype, with the shapes and arrays its kind needs, and the callables timed
for it (NumPy, torch, fastact; numexpr, numba, jax where installed).
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, field

import numpy as np

import fastact as fa
from fastact._baseline import NUMPY
from fastact._bench.torch_table import PARITY_ROWS, get_torch
from fastact._registry import evaluate

DIRECTIONS = ("forward", "x", "y")
SOFTMAX_ROW = 1024            # softmax is timed on rows of this many elements

# Targets (issue "Performance ... benchmarks that prove it")
TARGET_TRANSCENDENTAL, TARGET_CHEAP = 3.0, 2.0


# How each kind of record is benchmarked: the shape of x for a size, the
# modes timed beyond the registry's variants (label suffix, extra params),
# and the array arguments built from x (prelu's weight, rrelu's noise).
AXIS_ROW = SOFTMAX_ROW        # softmax, glu, maxout: along the last axis of (rows, AXIS_ROW)
PRELU_CHANNELS = 64           # prelu: x of shape (N, C, L), a weight of C slopes
PRELU_LEN = 1024
PRELU_DENSE = 256             # prelu[dense]: (N, 256)
RRELU_SEED = 0                # rrelu[train]: rng= of the forward, same seed every call


HALF_DTYPES = ("float16", "bfloat16")


def np_dtype(name):
    """The NumPy dtype of a bench dtype name; bfloat16 is ml_dtypes' (ImportError without it)."""
    if name == "bfloat16":
        import ml_dtypes
        return np.dtype(ml_dtypes.bfloat16)
    return np.dtype(name)


def half_available():
    """The half-width dtypes this installation can bench (bfloat16 needs ml_dtypes)."""
    try:
        import ml_dtypes  # noqa: F401
        return HALF_DTYPES
    except ImportError:
        return ("float16",)


def to_torch(torch, a):
    """A zero-copy tensor of an ndarray; bfloat16 through its bits (torch.from_numpy
    does not know ml_dtypes)."""
    if a.dtype.name == "bfloat16":
        return torch.from_numpy(a.view(np.int16)).view(torch.bfloat16)
    return torch.from_numpy(a)


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
    return {"weight": np.linspace(0.05, 0.45, c).astype(np_dtype(case.dtype))}


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
        """Whether the record's cost for this direction is "transcendental"."""
        return self.rec.transcendental(self.direction)

    @property
    def numpy_text(self):
        """The record's NumPy expression for this row (text), or None."""
        variant = self.key[len(self.name) + 1:-1] if self.key != self.name else ""
        return self.rec.exprs(variant)["numpy"].get(self.direction)

    @property
    def target_vs_numpy(self):
        if (self.key, self.direction) in PARITY_ROWS:
            return 1.0
        return TARGET_TRANSCENDENTAL if self.transcendental else TARGET_CHEAP

    def inputs(self, seed=0):
        """(a, grad): a is x (forward, backward from x) or y = forward(x); grad has
        the forward output's shape."""
        rng = np.random.default_rng(seed)
        dt = np_dtype(self.dtype)
        x = (rng.standard_normal(self.shape) * 3).astype(dt)
        g = rng.standard_normal(self.out_shape).astype(dt)
        if self.direction == "y":
            base = NUMPY.get(self.key, {}).get("forward")
            # half types: y from float32 (NumPy's float16 expressions overflow
            # to nan, e.g. log_softmax's exp(x) for x > 11)
            xf = x.astype(np.float32) if self.dtype in HALF_DTYPES else x
            p = self.call_params(xf)
            a = (base(xf, None, p) if base is not None
                 else getattr(fa, self.name)(xf, **p))
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

    def callables(self, a, g, torch_enabled=True, others=False):
        """{impl: (zero-argument callable, threads or None)}; threads None = leave as is.
        others: also numexpr, numba and jax.jit where installed (others.py)."""
        out = np.empty(self.result_shape, dtype=a.dtype)
        p = self.call_params(a)
        impls = {}
        base = NUMPY.get(self.key, {}).get(self.direction)
        if base is not None:
            impls["numpy"] = (lambda: base(a, g, p), None)
        torch, table = get_torch(torch_enabled)
        tfn = table.get(self.key, {}).get(self.direction)
        if torch is not None and tfn is not None:
            ta, tg = to_torch(torch, a), to_torch(torch, g)
            tp = {k: to_torch(torch, v) if isinstance(v, np.ndarray) else v for k, v in p.items()}
            try:                                # torch lacks some kernels for some dtypes
                tfn(ta, tg, tp)                 # (rrelu for float16: NotImplementedError)
            except (NotImplementedError, RuntimeError, TypeError):
                tfn = None
            if tfn is not None:
                impls["torch"] = (lambda: tfn(ta, tg, tp), "torch")
        if others and self.dtype not in HALF_DTYPES:
            from fastact._bench import others as _others
            for k, fn in _others.callables(self, a, g, p).items():
                impls[k] = (fn, None)
        impls["fastact"] = (lambda: self.fastact_call(a, g, p), 1)
        if self.dtype in HALF_DTYPES:           # the same values in float32, for the ratio
            a32, g32 = a.astype(np.float32), g.astype(np.float32)
            p32 = {k: v.astype(np.float32) if isinstance(v, np.ndarray) else v for k, v in p.items()}
            impls["fastact_f32"] = (lambda: self.fastact_call(a32, g32, p32), 1)
        impls["fastact_out"] = (lambda: self.fastact_call(a, g, p, out=out), 1)
        impls["fastact_mt"] = (lambda: self.fastact_call(a, g, p, out=out), "all")
        return impls


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
            if "y" in dirs and not rec.y_allowed(p):
                dirs.remove("y")
            for direction in dirs:
                for dt in dtypes:
                    out.append(Case(name, direction, dt, size, rec, dict(p), label, shape_fn, key))
    return out
