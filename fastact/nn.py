"""Layer objects: forward keeps what backward needs.

One class per activation, generated from the registry (``fa.activations()``),
named as in PyTorch (``ReLU``, ``LeakyReLU``, ``ELU``, ``Sigmoid``, ``Tanh``,
``Softmax``, ...)::

    >>> from fastact import nn
    >>> act = nn.LeakyReLU(negative_slope=0.2)
    >>> y = act(x)                 # = act.forward(x)
    >>> gx = act.backward(gy)      # dL/dx from dL/dy

The constructor takes the record's parameters as keywords (with their
defaults), ``axis=-1`` for functions taken along an axis (softmax), and
``inplace=False``.

What ``forward`` keeps:

* the output ``y`` when the record's ``backward_from`` allows y (and its
  ``y_requires`` holds for these parameters): the layer then holds only its
  output, which the next layer keeps anyway, so memory stays low;
* otherwise the input ``x`` (a reference, not a copy: do not modify x in
  place before ``backward``).

``inplace=True`` writes the forward output into x (which must be a
writeable float32/float64 ndarray) and returns x.  If the gradient can be
taken from y, the layer keeps that same array (no extra memory).  If only x
works (e.g. ``LeakyReLU``, or ``ELU`` with alpha < 0), the layer first copies
x, so that case saves nothing over ``inplace=False``.

``backward`` before ``forward`` is a RuntimeError.  ``backward`` does not
drop what ``forward`` kept: it may be called again (call ``clear()`` to
free it).

Activations of a kind this module does not know are skipped (they are listed
in ``SKIPPED``, name -> kind); ``PReLU`` is written by hand since it has a
learnable weight.
"""
from __future__ import annotations

import inspect
import math
import re

import numpy as np

import fastact as _fa

# Registry name -> PyTorch's class name, only where "relu" -> "Relu" style
# automatic CamelCase would differ.  Names not listed use the automatic form.
CLASS_NAMES = {
    "relu": "ReLU", "relu6": "ReLU6", "leaky_relu": "LeakyReLU", "prelu": "PReLU",
    "rrelu": "RReLU", "elu": "ELU", "selu": "SELU", "celu": "CELU", "gelu": "GELU",
    "silu": "SiLU", "glu": "GLU", "logsigmoid": "LogSigmoid", "log_sigmoid": "LogSigmoid",
    "hardtanh": "Hardtanh", "hardsigmoid": "Hardsigmoid", "hard_sigmoid": "Hardsigmoid",
    "hardswish": "Hardswish", "hard_swish": "Hardswish", "hardshrink": "Hardshrink",
    "softshrink": "Softshrink", "tanhshrink": "Tanhshrink", "log_softmax": "LogSoftmax",
    "softmin": "Softmin", "mish": "Mish", "softplus": "Softplus", "softsign": "Softsign",
}

AXIS_KINDS = {"softmax"}        # kinds taken along an axis (forward(x, axis=...))

SKIPPED = {}                    # registry name -> kind, for kinds without a layer here


def class_name(name: str) -> str:
    """PyTorch-style class name of an activation ("leaky_relu" -> "LeakyReLU")."""
    if name in CLASS_NAMES:
        return CLASS_NAMES[name]
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[_\W]+", name) if part)


class Layer:
    """Base class of the activation layers: ``__call__`` is ``forward``."""

    name = None                 # registry name
    record = None               # the registry record (None for hand-written layers)
    elementwise = True          # False for functions taken along an axis

    def __call__(self, x):
        return self.forward(x)

    def forward(self, x):                                    # pragma: no cover - abstract
        raise NotImplementedError

    def backward(self, grad):                                # pragma: no cover - abstract
        raise NotImplementedError

    def clear(self):
        """Drop the array kept by forward."""
        self._saved = None

    def _need_saved(self):
        if getattr(self, "_saved", None) is None:
            raise RuntimeError(f"{type(self).__name__}.backward called before forward "
                               f"(nothing saved to take the gradient from)")
        return self._saved

    def extra_repr(self) -> str:
        return ""

    def __repr__(self):
        return f"{type(self).__name__}({self.extra_repr()})"


def _y_allowed(rec, params) -> bool:
    if "y" not in rec.backward_from:
        return False
    if rec.y_requires is None:
        return True
    return bool(eval(rec.y_requires, {"__builtins__": {}, "math": math}, dict(params)))


class ActivationLayer(Layer):
    """A layer for one registry record (subclassed per activation below)."""

    def __init__(self, *args, inplace=False, **kwargs):
        rec = self.record
        names = [p.name for p in rec.params] + (["axis"] if not self.elementwise else [])
        if len(args) > len(names):
            raise TypeError(f"{type(self).__name__}() takes at most {len(names)} positional "
                            f"argument(s) ({', '.join(names)}), got {len(args)}")
        for n, v in zip(names, args):
            if n in kwargs:
                raise TypeError(f"{type(self).__name__}() got multiple values for {n!r}")
            kwargs[n] = v
        unknown = sorted(set(kwargs) - set(names))
        if unknown:
            raise TypeError(f"{type(self).__name__}() got unexpected keyword argument(s) "
                            f"{', '.join(unknown)}; it takes {', '.join(names + ['inplace'])}")
        params = {p.name: kwargs.get(p.name, p.default) for p in rec.params}
        self.params = params
        if not self.elementwise:
            self.axis = kwargs.get("axis", -1)
        self.inplace = bool(inplace)
        self._forward = getattr(_fa, rec.name)
        self._backward = getattr(_fa, rec.name + "_backward")
        # Validate the parameters now (fastact checks them on every call).
        self._forward(np.zeros((1,)), **self._call_kw())
        self.saves = "y" if _y_allowed(rec, params) else "x"
        self._saved = None

    def _call_kw(self):
        return dict(self.params) if self.elementwise else dict(self.params, axis=self.axis)

    def forward(self, x):
        kw = self._call_kw()
        if self.inplace:
            if not isinstance(x, np.ndarray):
                raise TypeError(f"{type(self).__name__}(inplace=True): x must be a writeable "
                                f"float32/float64 numpy.ndarray, got {type(x).__name__}")
            if self.saves == "x":
                self._saved = x.copy()
                return self._forward(x, out=x, **kw)
            y = self._forward(x, out=x, **kw)
            self._saved = y
            return y
        y = self._forward(x, **kw)
        self._saved = y if self.saves == "y" else x
        return y

    def backward(self, grad):
        saved = self._need_saved()
        kw = self._call_kw()
        if self.saves == "y":
            return self._backward(grad, y=saved, **kw)
        return self._backward(grad, saved, **kw)

    def extra_repr(self):
        parts = [f"{k}={v!r}" for k, v in self.params.items()]
        if not self.elementwise:
            parts.append(f"axis={self.axis!r}")
        if self.inplace:
            parts.append("inplace=True")
        return ", ".join(parts)


def _signature(rec):
    P = inspect.Parameter
    ps = [P(p.name, P.POSITIONAL_OR_KEYWORD, default=p.default) for p in rec.params]
    if rec.kind in AXIS_KINDS:
        ps.append(P("axis", P.POSITIONAL_OR_KEYWORD, default=-1))
    ps.append(P("inplace", P.KEYWORD_ONLY, default=False))
    return inspect.Signature(ps)


def _make_class(rec):
    cname = class_name(rec.name)
    sig = ", ".join([f"{p.name}={p.default!r}" for p in rec.params]
                    + (["axis=-1"] if rec.kind in AXIS_KINDS else []) + ["inplace=False"])
    doc = (f"{rec.summary or rec.name} Layer over fastact.{rec.name}.\n\n"
           f"    {cname}({sig})\n\n    {rec.formula}\n\n"
           f"    forward keeps {'y' if 'y' in rec.backward_from else 'x'}"
           f"{' (x when ' + rec.y_requires + ' fails)' if rec.y_requires and 'y' in rec.backward_from else ''}"
           f"; see fastact.nn for inplace.\n")
    return type(cname, (ActivationLayer,), {
        "name": rec.name, "record": rec, "elementwise": rec.kind == "elementwise",
        "__doc__": doc, "__module__": __name__, "__qualname__": cname,
        "__signature__": _signature(rec)})


LAYERS = {}                     # registry name -> layer class

for _rec in _fa.activations().values():
    if _rec.kind == "elementwise" or _rec.kind in AXIS_KINDS:
        _cls = _make_class(_rec)
        if _cls.__name__ in globals():          # a clash with an existing name: keep the first
            SKIPPED[_rec.name] = _rec.kind
            continue
        LAYERS[_rec.name] = _cls
        globals()[_cls.__name__] = _cls
    elif _rec.name != "prelu":
        SKIPPED[_rec.name] = _rec.kind


class PReLU(Layer):
    """Parametric ReLU with a learnable slope: x if x > 0 else weight * x.

    ``weight`` has ``num_parameters`` entries (1: one slope for all; else one
    per channel, axis 1 of the input, PyTorch's rule), initialised to
    ``init``.  ``backward`` returns dL/dx and sets ``weight_grad`` (dL/dweight,
    replaced, not accumulated).  Needs ``fastact.prelu``.
    """

    name = "prelu"
    record = _fa.activations().get("prelu")

    def __init__(self, num_parameters=1, init=0.25, dtype=np.float32):
        if not hasattr(_fa, "prelu"):
            raise NotImplementedError("fastact.nn.PReLU needs fastact.prelu, which this "
                                      "fastact version lacks")
        if int(num_parameters) != num_parameters or num_parameters < 1:
            raise ValueError(f"PReLU: num_parameters must be a positive int, got {num_parameters!r}")
        self.num_parameters = int(num_parameters)
        self.init = init
        self.weight = np.full(self.num_parameters, init, dtype=dtype)
        self.weight_grad = None
        self._saved = None

    def forward(self, x):
        self._saved = x
        return _fa.prelu(x, self.weight)

    def backward(self, grad):
        x = self._need_saved()
        gx, gw = _fa.prelu_backward(grad, x, self.weight)
        self.weight_grad = gw
        return gx

    def extra_repr(self):
        return f"num_parameters={self.num_parameters}"


if "prelu" in LAYERS:           # the hand-written class wins over a generated one
    del LAYERS["prelu"]
if hasattr(_fa, "prelu"):
    LAYERS["prelu"] = PReLU

__all__ = ["Layer", "ActivationLayer", "LAYERS", "SKIPPED", "class_name"] + sorted(
    c.__name__ for c in LAYERS.values())

globals().pop("_rec", None)
globals().pop("_cls", None)
