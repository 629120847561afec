"""Layer objects: forward keeps what backward needs.

One class per activation, generated from the registry (``fa.activations()``),
named as in PyTorch (``ReLU``, ``LeakyReLU``, ``ELU``, ``Sigmoid``, ``Tanh``,
``Softmax``, ...)::

    >>> from fastact import nn
    >>> act = nn.LeakyReLU(negative_slope=0.2)
    >>> y = act(x)                 # = act.forward(x)
    >>> gx = act.backward(gy)      # dL/dx from dL/dy

The constructor takes the record's parameters (positionally or as
keywords; required ones, as Threshold's ``threshold`` and ``value``, have no
default), ``axis=-1`` for functions taken along an axis (Softmax, GLU,
Maxout), and ``inplace=False`` (not for GLU/Maxout, whose output is shorter
than x).  Parameters are checked at construction (ValueError/TypeError
naming the parameter).  ``RReLU`` also takes ``training=False`` and ``rng``
(see its docstring); ``PReLU`` holds a learnable ``weight`` and sets
``weight_grad`` in ``backward``.

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

Elementwise layers also take a bias: ``layer.forward(x, bias=b)`` computes
act(x + b) in one pass, and ``backward`` then returns ``(grad_x, grad_bias)``
from one pass too.  ``Linear(in_features, out_features, activation="gelu")``
is a dense layer with its activation: its forward adds the bias and applies
the activation in one pass that also writes the derivative
(``fastact.NAME_and_derivative``), so its backward is one multiply and the
two matmuls.  SwiGLU, GeGLU and ReGLU (gate first: silu(a) * b with a, b the
halves of x) keep x, as GLU.

Activations of a kind this module does not know are skipped (they are listed
in ``SKIPPED``, name -> kind); ``PReLU`` is written by hand since it has a
learnable weight.  GLU and Maxout keep x (their backward needs it).
"""
from __future__ import annotations

import inspect
import numbers
import re

import numpy as np

import fastact as _fa
from fastact._registry import BY_NAME, evaluate

SKIPPED = {}                    # registry name -> kind, for kinds without a layer here


def class_name(name: str) -> str:
    """PyTorch-style class name of an activation ("leaky_relu" -> "LeakyReLU"):
    the record's class_name, or CamelCase for a name the registry lacks."""
    rec = BY_NAME.get(name)
    if rec is not None:
        return rec.class_name
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[_\W]+", name) if part)


class Layer:
    """Base class of the activation layers: ``__call__`` is ``forward``."""

    name = None                 # registry name
    record = None               # the registry record (None for hand-written layers)
    elementwise = True          # False for functions taken along an axis

    def __call__(self, x):
        return self.forward(x)

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


class ActivationLayer(Layer):
    """A layer for one registry record (subclassed per activation below).

    Class attributes set per kind: ``has_axis`` (an ``axis`` argument),
    ``has_inplace`` (an ``inplace`` argument), ``extra_kw`` (more keyword
    arguments with their defaults, e.g. RReLU's ``training`` and ``rng``).
    """

    has_axis = False
    has_inplace = True
    extra_kw = {}

    @classmethod
    def _arg_names(cls):
        return [p.name for p in cls.record.params] + (["axis"] if cls.has_axis else [])

    def __init__(self, *args, **kwargs):
        rec = self.record
        cname = type(self).__name__
        names = self._arg_names()
        kw_only = (["inplace"] if self.has_inplace else []) + list(self.extra_kw)
        if len(args) > len(names):
            raise TypeError(f"{cname}() takes at most {len(names)} positional "
                            f"argument(s) ({', '.join(names)}), got {len(args)}")
        for n, v in zip(names, args):
            if n in kwargs:
                raise TypeError(f"{cname}() got multiple values for {n!r}")
            kwargs[n] = v
        unknown = sorted(set(kwargs) - set(names) - set(kw_only))
        if unknown:
            raise TypeError(f"{cname}() got unexpected keyword argument(s) "
                            f"{', '.join(unknown)}; it takes {', '.join(names + kw_only)}")
        missing = [p.name for p in rec.params if p.required and p.name not in kwargs]
        if missing:
            raise TypeError(f"{cname}() missing required argument(s): {', '.join(missing)}")
        from fastact import _api
        params = {}
        for p in rec.params:                    # each parameter's range, now (not at forward)
            v = kwargs.get(p.name, p.default)
            params[p.name] = _api.check_param(cname, p, v)
        for cond, pname, why in rec.constraints:
            if not evaluate(cond, dict(params)):
                raise ValueError(f"{cname}: {pname} {why}, got "
                                 + ", ".join(f"{k}={v!r}" for k, v in params.items()))
        self.params = params
        if self.has_axis:
            axis = kwargs.get("axis", -1)
            if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
                raise TypeError(f"{cname}: axis must be an int, got {type(axis).__name__}")
            self.axis = int(axis)
        self.inplace = bool(kwargs.get("inplace", False))
        for k, default in self.extra_kw.items():
            setattr(self, k, kwargs.get(k, default))
        self._forward = getattr(_fa, rec.name)
        self._backward = getattr(_fa, rec.name + "_backward")
        self.saves = "y" if rec.y_allowed(params) else "x"
        self._saved = None

    def _call_kw(self):
        return dict(self.params, axis=self.axis) if self.has_axis else dict(self.params)

    def _check_inplace_input(self, x):
        if not isinstance(x, np.ndarray):
            raise TypeError(f"{type(self).__name__}(inplace=True): x must be a writeable "
                            f"float32/float64 numpy.ndarray, got {type(x).__name__}")

    def forward(self, x, bias=None):
        """y = act(x), or act(x + bias) in one pass (elementwise layers only:
        backward then returns (grad_x, grad_bias))."""
        kw = self._call_kw()
        if bias is not None:
            kw["bias"] = bias
            if not self.elementwise:
                raise TypeError(f"{type(self).__name__}.forward: bias= is for elementwise layers")
        self._bias = bias
        if self.inplace:
            self._check_inplace_input(x)
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
        """dL/dx; (dL/dx, dL/dbias) after a forward with bias."""
        saved = self._need_saved()
        kw = self._call_kw()
        if getattr(self, "_bias", None) is not None:
            kw["bias"] = self._bias
        if self.saves == "y":
            return self._backward(grad, y=saved, **kw)
        return self._backward(grad, saved, **kw)

    def extra_repr(self):
        parts = [f"{k}={v!r}" for k, v in self.params.items()]
        if self.has_axis:
            parts.append(f"axis={self.axis!r}")
        for k, default in self.extra_kw.items():
            v = getattr(self, k)
            if k != "rng" and v != default:
                parts.append(f"{k}={v!r}")
        if self.inplace:
            parts.append("inplace=True")
        return ", ".join(parts)


class AxisXLayer(ActivationLayer):
    """Along an axis, output shorter than x (glu, maxout): keeps x; no inplace
    (the output does not fit in x)."""

    elementwise = False
    has_axis = True
    has_inplace = False


class RReLULayer(ActivationLayer):
    """Randomized leaky ReLU.  ``training=False`` (the default, as
    fastact.rrelu): leaky_relu with slope (lower + upper)/2.  ``training=True``
    draws a slope per element from ``rng`` (a numpy.random.Generator, or an
    int seed turned into one at construction; required when training: fastact
    never draws from a global random state); forward keeps those slopes
    (``noise``) with x for ``backward``.  ``train()`` / ``eval()`` switch the
    mode, as in PyTorch.
    """

    extra_kw = {"training": False, "rng": None}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.training = bool(self.training)
        rng = self.rng
        if isinstance(rng, numbers.Integral) and not isinstance(rng, bool):
            self.rng = np.random.default_rng(int(rng))
        elif rng is not None and not isinstance(rng, np.random.Generator):
            raise TypeError(f"{type(self).__name__}: rng must be a numpy.random.Generator or "
                            f"an int seed, got {type(rng).__name__}")
        if self.training and self.rng is None:
            raise ValueError(f"{type(self).__name__}(training=True) needs rng= (a "
                             f"numpy.random.Generator or an int seed)")
        self.noise = None

    def train(self, mode=True):
        if mode and self.rng is None:
            raise ValueError(f"{type(self).__name__}.train() needs an rng (pass rng= to the "
                             f"constructor)")
        self.training = bool(mode)
        return self

    def eval(self):
        return self.train(False)

    def clear(self):
        self._saved = None
        self.noise = None

    def forward(self, x):
        kw = self._call_kw()
        out = None
        if self.inplace:
            self._check_inplace_input(x)
            saved, out = x.copy(), x
        else:
            saved = x
        if self.training:
            y, noise = self._forward(x, training=True, rng=self.rng, return_noise=True,
                                     out=out, **kw)
        else:
            y, noise = self._forward(x, out=out, **kw), None
        self._saved, self.noise = saved, noise
        return y

    def backward(self, grad):
        x = self._need_saved()
        kw = self._call_kw()
        if self.noise is None:
            return self._backward(grad, x, **kw)
        return self._backward(grad, x, noise=self.noise, training=True, **kw)


KIND_BASES = {"elementwise": ActivationLayer, "softmax": None, "axis_x": AxisXLayer,
              "rrelu": RReLULayer}


class AxisLayer(ActivationLayer):
    """Along an axis, output of x's shape (softmax): keeps y."""

    elementwise = False
    has_axis = True


KIND_BASES["softmax"] = AxisLayer


def _signature(rec, base):
    P = inspect.Parameter
    ps = [P(p.name, P.POSITIONAL_OR_KEYWORD,
            **({} if p.required else {"default": p.default})) for p in rec.params]
    if base.has_axis:
        ps.append(P("axis", P.POSITIONAL_OR_KEYWORD, default=-1))
    if base.has_inplace:
        ps.append(P("inplace", P.KEYWORD_ONLY, default=False))
    for k, d in base.extra_kw.items():
        ps.append(P(k, P.KEYWORD_ONLY, default=d))
    return inspect.Signature(ps)


def _make_class(rec):
    cname = class_name(rec.name)
    base = KIND_BASES[rec.kind]
    sig = str(_signature(rec, base))[1:-1]
    doc = (f"{rec.summary or rec.name} Layer over fastact.{rec.name}.\n\n"
           f"    {cname}({sig})\n\n    {rec.formula}\n\n"
           f"    forward keeps {'y' if 'y' in rec.backward_from else 'x'}"
           f"{' (x when ' + rec.y_requires + ' fails)' if rec.y_requires and 'y' in rec.backward_from else ''}"
           f"; see fastact.nn for inplace.\n")
    if base.__doc__ and base is not ActivationLayer:
        doc += "\n    " + base.__doc__
    return type(cname, (base,), {
        "name": rec.name, "record": rec, "__doc__": doc, "__module__": __name__,
        "__qualname__": cname, "__signature__": _signature(rec, base)})


LAYERS = {}                     # registry name -> layer class

for _rec in _fa.activations().values():
    if _rec.kind in KIND_BASES:
        _cls = _make_class(_rec)
        if _cls.__name__ in globals():          # a clash with an existing name: keep the first
            SKIPPED[_rec.name] = _rec.kind
            continue
        LAYERS[_rec.name] = _cls
        globals()[_cls.__name__] = _cls
    elif _rec.kind != "prelu":
        SKIPPED[_rec.name] = _rec.kind


class PReLU(Layer):
    """Parametric ReLU with a learnable slope: x if x > 0 else weight * x.

    ``weight`` has ``num_parameters`` entries (1: one slope for all; else one
    per channel, axis 1 of the input, PyTorch's rule), initialised to
    ``init``.  ``backward`` returns dL/dx and sets ``weight_grad`` (dL/dweight,
    replaced, not accumulated).
    """

    name = "prelu"
    record = _fa.activations().get("prelu")

    def __init__(self, num_parameters=1, init=0.25, dtype=np.float32):
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


LAYERS["prelu"] = PReLU         # the hand-written class, with its weight


class Linear(Layer):
    """y = act(x @ weight.T + bias): a dense layer and an elementwise activation.

    ``activation`` is a registry name of an elementwise function (None: no
    activation, torch.nn.Linear), ``**params`` its parameters (gelu's
    approximate too).  weight (out_features, in_features) and bias start as
    torch.nn.Linear's, U(-1/sqrt(in_features), 1/sqrt(in_features)), drawn
    from ``rng`` (a Generator or a seed).  forward runs the bias add and the
    activation in one pass that also writes the derivative
    (fastact.NAME_and_derivative), and keeps x and that derivative; backward
    is then one multiply, g * d, with the bias gradient from the same pass
    (fastact.apply_derivative), then the two matmuls.  It returns dL/dx and
    sets ``weight_grad`` and ``bias_grad`` (replaced, not accumulated).
    """

    record = None
    elementwise = False             # the output mixes the inputs (for gradcheck)

    def __init__(self, in_features, out_features, activation=None, bias=True, *, rng=None,
                 dtype=np.float32, **params):
        if activation is not None:
            rec = BY_NAME.get(activation)
            if rec is None or rec.kind != "elementwise":
                raise ValueError(f"Linear: activation must be the name of an elementwise "
                                 f"function of fastact (or None), got {activation!r}")
            self.name, self.record = rec.name, rec
            self._fd = getattr(_fa, rec.name + "_and_derivative")
            self._fd(np.zeros(1, dtype), **params)      # checks the parameters now
        self.activation, self.params = activation, params
        gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
        bound = 1.0 / np.sqrt(in_features) if in_features else 0.0
        self.weight = gen.uniform(-bound, bound, (out_features, in_features)).astype(dtype)
        self.bias = gen.uniform(-bound, bound, out_features).astype(dtype) if bias else None
        self.weight_grad = self.bias_grad = None
        self._saved = None

    def forward(self, x):
        z = x @ self.weight.T
        if self.activation is None:
            y, d = (z + self.bias if self.bias is not None else z), None
        else:
            y, d = self._fd(z, bias=self.bias, **self.params)
        self._saved = (x, d)
        return y

    def backward(self, grad):
        x, d = self._need_saved()
        if d is None:
            gz = grad
            self.bias_grad = None if self.bias is None else \
                gz.reshape(-1, gz.shape[-1]).sum(axis=0)
        elif self.bias is not None:     # g * d and its sum over rows, one pass
            gz, self.bias_grad = _fa.apply_derivative(grad, d, bias=self.bias)
        else:
            gz = _fa.apply_derivative(grad, d)
        g2, x2 = gz.reshape(-1, gz.shape[-1]), x.reshape(-1, x.shape[-1])
        self.weight_grad = g2.T @ x2
        return gz @ self.weight

    def extra_repr(self):
        out_f, in_f = self.weight.shape
        return (f"in_features={in_f}, out_features={out_f}, activation={self.activation!r}, "
                f"bias={self.bias is not None}"
                + "".join(f", {k}={v!r}" for k, v in self.params.items()))

__all__ = ["Layer", "ActivationLayer", "AxisLayer", "AxisXLayer", "RReLULayer", "LAYERS", "SKIPPED", "class_name",
           "Linear"] + sorted(
    c.__name__ for c in LAYERS.values())

globals().pop("_rec", None)
globals().pop("_cls", None)


class CrossEntropyLoss(Layer):
    """Softmax cross-entropy from logits, as torch.nn.CrossEntropyLoss (the
    options of fastact.cross_entropy; ``axis`` is the class axis, -1 by
    default: pass axis=1 for torch's N-d layout).

    ``forward(logits, target)`` returns the loss and computes dL/dlogits in
    the same pass (one exponential per logit for both); ``backward(grad=1.0)``
    scales it by grad (a scalar for reduction "mean" and "sum", the loss's
    shape for "none") and returns it.  With grad 1 it is the array forward
    computed (not a copy).
    """

    name = "cross_entropy"
    record = None
    elementwise = False

    def __init__(self, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0,
                 axis=-1):
        from fastact import _loss
        _loss._options("CrossEntropyLoss", reduction, label_smoothing, ignore_index)
        self.weight, self.ignore_index, self.reduction = weight, ignore_index, reduction
        self.label_smoothing, self.axis = label_smoothing, axis
        self._saved = None

    def __call__(self, logits, target):
        return self.forward(logits, target)

    def forward(self, logits, target):
        from fastact import _loss
        from fastact._registry import LOSS_BY_NAME
        loss, grad, ax = _loss.cross_entropy_both(
            LOSS_BY_NAME["cross_entropy"], logits, target, self.axis, self.weight,
            self.ignore_index, self.reduction, self.label_smoothing)
        self._saved = (grad, ax)
        return loss

    def backward(self, grad=1.0):
        gx, ax = self._need_saved()
        g = np.asarray(grad)
        if self.reduction == "none":
            want = gx.shape[:ax] + gx.shape[ax + 1:] if gx.ndim else ()
            if g.shape != want:
                raise ValueError(f"CrossEntropyLoss.backward: grad has shape {g.shape}; expected "
                                 f"{want}, the shape of the loss")
            return (np.expand_dims(g, ax) * gx).astype(gx.dtype, copy=False)
        if g.shape != ():
            raise ValueError(f"CrossEntropyLoss.backward: grad has shape {g.shape}; expected (), "
                             f"the loss is a scalar for reduction={self.reduction!r}")
        return gx if g == 1 else (gx * g).astype(gx.dtype, copy=False)

    def extra_repr(self):
        return (f"reduction={self.reduction!r}, ignore_index={self.ignore_index}, "
                f"label_smoothing={self.label_smoothing}, axis={self.axis}")


LOSS_LAYERS = {"cross_entropy": CrossEntropyLoss}
__all__ += ["CrossEntropyLoss", "LOSS_LAYERS"]
