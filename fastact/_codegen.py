"""Write the public functions' source from the registry (at build time).

setup.py loads this module by path (it imports only the standard library)
and writes ``fastact/_public.py``: for every record ``NAME`` and
``NAME_backward`` (and the aliases) as plain Python functions with typed
signatures that list only what each function accepts, and their docstrings;
and ``fastact/ufuncs.pyi``, the ufuncs' names for type checkers.  The
bodies do the minimum on the common path (parameter checks, one call into
the kernel module's fast path) and hand everything else to ``_api``.
"""
from __future__ import annotations

import math
import re
import textwrap

_SOFTMAX_OPS = {"softmax": (0, 1), "log_softmax": (2, 3), "softmin": (4, 5)}
_AXIS_X_OPS = {"glu": (6, 7), "maxout": (8, 9), "swiglu": (12, 13),
               "geglu": {"none": (14, 15), "tanh": (16, 17)}, "reglu": (18, 19)}

# Along an axis, changing its length (glu, maxout): the backward needs x.
_AXIS_X = '''
def {name}(x: ArrayLike, {sig_params}axis: int = -1, *, out: NDArray[Any] | None = None) -> Any:
    {doc}
    {checks}return _api.axis_x_forward(_REC, {op_fwd}, x, axis, out, {param_dict})

def {name}_backward(grad: ArrayLike, x: ArrayLike, *, {sig_params}axis: int = -1,
        out: NDArray[Any] | None = None) -> Any:
    {doc_b}
    y = None
    {checks_b}if x is None or y is not None:
        raise _api.which_error("{name}_backward", _REC, x, y, {param_dict})
    return _api.axis_x_backward(_REC, {op_bwd}, grad, x, axis, out, {param_dict})
'''


_ELEMENTWISE = '''
def {name}(x: ArrayLike, {sig_params}*, bias: ArrayLike | None = None,
        out: NDArray[Any] | None = None, where: ArrayLike = True,
        dtype: DTypeLike | None = None) -> Any:
    {doc}
    {checks}if bias is None and where is True and dtype is None{floats}:
        r = _K.unary({kid}, x, out{args})
        if r is not None:
            return r
    elif bias is not None:
        return _api.bias_forward(_REC, {kid}, x, bias, out, ({args_tuple}), where, dtype)
    return _api.forward(_REC, {kid}, x, out, ({args_tuple}), where, dtype)

def {name}_backward(grad: ArrayLike, {xy}{sig_params}bias: ArrayLike | None = None,
        out: NDArray[Any] | None = None, where: ArrayLike = True,
        dtype: DTypeLike | None = None) -> Any:
    {doc_b}
    {prelude}{checks_b}if y is None and x is not None and {x_ok}:
        form, a = 0, x
    elif x is None and y is not None and {y_ok}:
        form, a = 1, y
    else:
        raise _api.which_error("{name}_backward", _REC, x, y, {param_dict})
    if bias is None and where is True and dtype is None{floats}:
        r = _K.binary({kid}, form, grad, a, out{args})
        if r is not None:
            return r
    elif bias is not None:
        return _api.bias_backward(_REC, {kid}, form, grad, a, bias, out, ({args_tuple}), where,
                                  dtype)
    return _api.backward(_REC, {kid}, form, grad, a, out, ({args_tuple}), where, dtype)

def {name}_and_derivative(x: ArrayLike, {sig_params}*, bias: ArrayLike | None = None
        ) -> tuple[Any, Any]:
    {doc_d}
    {checks_d}return _api.and_derivative(_REC, {kid}, x, bias, ({args_tuple}))
'''

_SOFTMAX = '''
def {name}(x: ArrayLike, axis: int = -1, *, out: NDArray[Any] | None = None) -> Any:
    {doc}
    if axis.__class__ is int and -64 <= axis < 64:   # NumPy's most dimensions; C int
        r = _K.axis_fast({op_fwd}, x, None, out, axis)
        if r is not None:
            return r
    return _api.axis_forward(_REC, {op_fwd}, x, axis, out)

def {name}_backward(grad: ArrayLike, *, y: ArrayLike, axis: int = -1, out: NDArray[Any] | None = None) -> Any:
    {doc_b}
    x = None
    if x is not None or y is None:
        raise _api.which_error("{name}_backward", _REC, x, y, {{}})
    if axis.__class__ is int and -64 <= axis < 64:   # NumPy's most dimensions; C int
        r = _K.axis_fast({op_bwd}, grad, y, out, axis)
        if r is not None:
            return r
    return _api.axis_backward(_REC, {op_bwd}, grad, y, axis, out)
'''


# prelu: a weight array, backward returns (grad_x, grad_weight).
_PRELU = '''
def {name}(x: ArrayLike, weight: ArrayLike, *, out: NDArray[Any] | None = None) -> Any:
    {doc}
    return _api.prelu_forward(_REC, x, weight, out)

def {name}_backward(grad: ArrayLike, x: ArrayLike, weight: ArrayLike, *,
        out: NDArray[Any] | None = None) -> tuple[Any, Any]:
    {doc_b}
    y = None
    if x is None or y is not None:
        raise _api.which_error("{name}_backward", _REC, x, y, {{}})
    return _api.prelu_backward(_REC, grad, x, weight, out)
'''

# rrelu: eval mode is leaky_relu; training draws slopes from an explicit RNG.
_RRELU = '''
def {name}(x: ArrayLike, {sig_params}training: bool = False, *, rng: Any = None,
        return_noise: bool = False, out: NDArray[Any] | None = None) -> Any:
    {doc}
    {checks}return _api.rrelu_forward(_REC, x, {args_tuple_paren}, training, rng, return_noise, out)

def {name}_backward(grad: ArrayLike, x: ArrayLike, *, noise: ArrayLike | None = None,
        {sig_params}training: bool = False, out: NDArray[Any] | None = None) -> Any:
    {doc_b}
    y = None
    {checks_b}if x is None or y is not None:
        raise _api.which_error("{name}_backward", _REC, x, y, {param_dict})
    return _api.rrelu_backward(_REC, grad, x, noise, {args_tuple_paren}, training, out)
'''


def _fast_check(p):
    """A cheap inline test that lets a valid float parameter through."""
    cond = [f"{p.name}.__class__ is float"]
    cond.append(f"{p.low!r} {'<' if p.low_open else '<='} {p.name}" if p.low != -math.inf
                else f"-_INF < {p.name}")
    cond.append(f"{p.name} <= {p.high!r}" if p.high != math.inf else f"{p.name} < _INF")
    if p.nonzero:
        cond.append(f"{p.name} != 0.0")
    return " and ".join(cond)


def _docstring(text: str) -> str:
    """A docstring literal at function-body indentation."""
    body = text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    return '"""' + body.rstrip() + '\n    """'


def _source(rec, kid, kernel_ids) -> str:
    docs = dict(doc=_docstring(_doc(rec, False)), doc_b=_docstring(_doc(rec, True)))
    if rec.kind == "elementwise":
        docs["doc_d"] = _docstring(_doc_derivative(rec))
    if rec.kind == "softmax":
        op_fwd, op_bwd = _SOFTMAX_OPS[rec.name]
        return _SOFTMAX.format(name=rec.name, op_fwd=op_fwd, op_bwd=op_bwd, **docs)
    names = [p.name for p in rec.params]
    param_dict = "{" + ", ".join(f"{n!r}: {n}" for n in names) + "}"
    arrays = rec.kind == "elementwise"          # parameters that broadcast against x
    ptype = "float | ArrayLike" if arrays else "float"
    sig = "".join(f"{p.name}: {'int' if p.integer else ptype}"
                  + ("" if p.required else f" = {p.default!r}") + ", " for p in rec.params)
    if rec.variants:
        # a string parameter choosing the kernel: _VK maps its values to kernel ids
        vname, choices = rec.variants
        literal = ", ".join(repr(v) for v, _ in choices)
        sig += f"{vname}: Literal[{literal}] = {choices[0][0]!r}, "
        vcheck = (f"_kid = _VK.get({vname}) if {vname}.__class__ is str else None\n    "
                  f"if _kid is None:\n        raise _api.variant_error(FNAME, {vname!r}, {vname}, _VK)\n    ")
        kid = "_kid"
    else:
        vcheck = ""
    checks = "".join(
        f"if not ({_fast_check(p)}):\n        {p.name} = _api.check_param(FNAME, _P[{i}], {p.name}"
        f"{', True' if arrays else ''})\n    "
        if not p.integer else
        f"{p.name} = _api.check_param(FNAME, _P[{i}], {p.name})\n    "
        for i, p in enumerate(rec.params))
    checks += "".join(
        f"if not (({cond}) is True or _api.all_true({cond})):\n        raise "
        f"_api.constraint_error(FNAME, {pname!r}, {why!r}, {param_dict})\n    "
        for cond, pname, why in rec.constraints)
    checks += vcheck
    if rec.kind == "prelu":
        return _PRELU.format(name=rec.name, **docs)
    if rec.kind == "rrelu":
        return _RRELU.format(
            name=rec.name, **docs, checks=checks.replace("FNAME", repr(rec.name)),
            checks_b=checks.replace("FNAME", repr(rec.name + "_backward")),
            sig_params=sig,
            args_tuple_paren="(" + "".join(f"{n}, " for n in names) + ")",
            param_dict=param_dict)
    if rec.kind == "axis_x":
        # a variant chooses the pair of ops: _VK maps its values to (forward, backward)
        op_fwd, op_bwd = ("_kid[0]", "_kid[1]") if rec.variants else _AXIS_X_OPS[rec.name]
        if rec.variants:                # the variant travels with the parameters (dask's blocks)
            param_dict = param_dict[:-1] + (", " if names else "") + \
                f"{rec.variants[0]!r}: {rec.variants[0]}}}"
        return _AXIS_X.format(
            name=rec.name, op_fwd=op_fwd, op_bwd=op_bwd, **docs,
            checks=checks.replace("FNAME", repr(rec.name)),
            checks_b=checks.replace("FNAME", repr(rec.name + "_backward")),
            sig_params=sig,
            param_dict=param_dict)
    # the registry's one rule for y= (y_condition); a parameter array must
    # satisfy it everywhere
    y_ok = rec.y_condition()
    if rec.y_requires is not None:
        y_ok = f"({y_ok} is True or _api.all_true({y_ok}))"
    # the backward's x and y: only those its formula can use
    xy = {("x", "y"): "x: ArrayLike | None = None, *, y: ArrayLike | None = None, ",
          ("x",): "x: ArrayLike, *, ", ("y",): "*, y: ArrayLike, "}[tuple(rec.backward_from)]
    prelude = {("x", "y"): "", ("x",): "y = None\n    ", ("y",): "x = None\n    "}[tuple(rec.backward_from)]
    return _ELEMENTWISE.format(
        name=rec.name, kid=kid, checks=checks.replace("FNAME", repr(rec.name)), xy=xy,
        prelude=prelude, **docs,
        checks_b=checks.replace("FNAME", repr(rec.name + "_backward")),
        checks_d=checks.replace("FNAME", repr(rec.name + "_and_derivative")),
        sig_params=sig,
        args="".join(f", {n}" for n in names),
        args_tuple="".join(f"{n}, " for n in names),
        x_ok="True" if "x" in rec.backward_from else "False", y_ok=y_ok,
        floats="".join(f" and {n}.__class__ is float" for n in names),
        param_dict=param_dict)


_BIAS_DOC = ("    bias : array_like, optional\n        Added to x first, in one pass: "
             "act(x + bias), the sum rounded to x's dtype\n        (as torch's act(x + b)). A "
             "1-D array of x's last axis length (as after\n        a Linear layer) or a scalar; "
             "converted to x's dtype.\n")
_BIAS_DOC_B = ("    bias : array_like, optional\n        The forward's bias: the result is then "
               "(grad_x, grad_bias), grad_bias the sum\n        of grad_x over every axis but "
               "the last, in bias's shape (accumulated in\n        double, in blocks). From y= "
               "the forward output is y = act(x + bias) itself.\n")


def _doc_derivative(rec) -> str:
    """The docstring of NAME_and_derivative."""
    names = "".join(f", {p.name}" for p in rec.params)
    return (f"{rec.name}(x) and its derivative in one pass: (y, dy/dx).\n\n"
            f"    The backward is then one multiply, grad * d; d is\n"
            f"    {rec.name}_backward(ones, x{names}) (and with bias=, taken at x + bias:\n"
            f"    grad_bias is then the sum of grad * d over every axis but the last).\n\n"
            f"    d/dx: {rec.gradient}\n\n"
            f"    Parameters and bias as {rec.name}(); inputs as there (arrays of other types\n"
            f"    are converted to NumPy arrays). Returns two arrays of x's shape and\n"
            f"    result dtype.\n")


def _doc(rec, backward: bool) -> str:
    params = "".join(f"\n    {p.name} : {'int' if p.integer else 'float'}, {'required' if p.required else f'default {p.default!r}'}"
                     f"\n        {p.doc.capitalize()}; {p.describe()}." for p in rec.params)
    for cond, _, _ in rec.constraints:
        params += f"\n    Requires {cond} (ValueError otherwise)."
    if rec.variants:
        vname, choices = rec.variants
        params += (f"\n    {vname} : str, default {choices[0][0]!r}\n        One of "
                   + ", ".join(repr(v) for v, _ in choices) + "; anything else is a ValueError.")
    if rec.kind in ("softmax", "axis_x"):
        params += "\n    axis : int, default -1\n        The axis along which the function is taken."
    if rec.kind == "prelu":
        params = ("\n    weight : array_like\n        The slopes for x <= 0: 1 entry, or one per "
                  "channel (axis 1 of x).")
    if rec.kind == "rrelu":
        params += ("\n    training : bool, default False\n        Draw a slope per element "
                   "(True) or use (lower + upper)/2 (False).")
        params += ("\n    noise : array_like, optional\n        The slopes rrelu(..., "
                   "return_noise=True) returned; required after a training forward."
                   if backward else
                   "\n    rng : numpy.random.Generator or int, optional\n        Where the "
                   "slopes are drawn from when training (required then)."
                   "\n    return_noise : bool, default False\n        Also return the "
                   "slopes used, (y, noise), for rrelu_backward.")
    if backward:
        src = {("x",): "x (the forward input) is required.",
               ("y",): "y= (the forward output) is required.",
               ("x", "y"): ("Pass x (the forward input) or y= (the forward output). From x the "
                            "result is accurate to a few ULP everywhere; from y it is the "
                            "formula evaluated on y, which cannot recover what y lost by "
                            "rounding (e.g. 1 - y where y rounds to 1).")}[rec.backward_from]
        if rec.y_requires is not None:
            src += f" y= is accepted only for {rec.y_requires}."
        gy = f"  (from y: {rec.gradient_y})" if rec.gradient_y else ""
        body = (f"Gradient of {rec.name}: grad * d{rec.name}/dx.\n\n"
                f"    d/dx: {rec.gradient}{gy}\n\n    {src}\n\n"
                f"    Parameters\n    ----------\n    grad : array_like\n        dL/dy, the shape of x.\n"
                + "".join(f"    {v} : array_like\n        The forward {'input' if v == 'x' else 'output'}.\n"
                          for v in rec.backward_from)
                + f"{params.lstrip(chr(10)) and params[1:] + chr(10)}"
                + (_BIAS_DOC_B if rec.kind == "elementwise" else "")
                + "    out : ndarray, optional\n"
                f"        Where to write dL/dx; may be grad itself (in place).\n")
    else:
        body = (f"{rec.summary}\n\n    {rec.formula}\n\n"
                f"    Parameters\n    ----------\n    x : array_like{params}\n"
                + (_BIAS_DOC if rec.kind == "elementwise" else "")
                + f"    out : ndarray, optional\n        Where to write the result (shape and dtype of "
                f"the result, writeable); may be x itself (in place).\n")
    if rec.kind == "elementwise":
        body += ("    where : array_like of bool, optional\n        As for a NumPy ufunc.\n"
                 "    dtype : data-type, optional\n        As for a NumPy ufunc. With either, the "
                 "call goes through fastact.ufuncs, as it\n        does for parameter arrays (which "
                 "broadcast against x) and for pandas,\n        xarray, dask and masked arrays "
                 "(returned as their own type). Arrays of\n        other libraries on the CPU "
                 "(torch tensors) are computed on a zero-copy\n        view and returned as their "
                 "type.\n")
    notes = textwrap.fill(rec.notes, 76, initial_indent="    ", subsequent_indent="    ")
    return (body + "\n    Returns\n    -------\n    ndarray of x's shape; float32 and float64 are kept, "
            "float16 is computed in float32,\n    bool and integers give float64. A 0-d input gives "
            "a NumPy scalar.\n\n    Notes\n    -----\n" + notes + "\n")


# Reductions along an axis (fastact/_registry/loss.py): arrays, then options.
_REDUCTION = '''
def {name}({sig}) -> Any:
    {doc}
    return _loss.{name}(_REC, {call})

def {name}_backward({sig_b}) -> Any:
    {doc_b}
    return _loss.{name}_backward(_REC, {call_b})
'''


_REDUCTION_D = '''
def {name}_and_derivative({sig}) -> tuple[Any, NDArray[Any]]:
    {doc}
    return _loss.{name}_and_derivative(_REC, {call})
'''


def _reduction_source(rec) -> str:
    """The forward and backward of a loss.Reduction record (and its
    NAME_and_derivative if the record has one)."""
    opts = ", ".join(f"{a.name}: {a.annotation} = {a.default}" for a in rec.args)
    out = "*, out: NDArray[Any] | None = None"
    arrays = ", ".join(f"{n}: ArrayLike" for n, _ in rec.arrays)
    arrays_b = ", ".join(f"{n}: ArrayLike" for n, _ in rec.backward_arrays)
    names = [a.name for a in rec.args]
    call = ", ".join([n for n, _ in rec.arrays] + names)
    src = _REDUCTION.format(
        name=rec.name,
        sig=f"{arrays}, {opts}" + (f", {out}" if rec.out else ""),
        sig_b=f"{arrays_b}, {opts}, {out}",
        call=call + (", out" if rec.out else ""),
        call_b=", ".join([n for n, _ in rec.backward_arrays] + names + ["out"]),
        doc=_docstring(_reduction_doc(rec, False)), doc_b=_docstring(_reduction_doc(rec, True)))
    if rec.and_derivative:
        src += _REDUCTION_D.format(name=rec.name, sig=f"{arrays}, {opts}", call=call,
                                   doc=_docstring(_reduction_and_derivative_doc(rec)))
    return src


def _reduction_params(rec, arrays) -> str:
    """The Parameters entries of a reduction's arrays and options."""
    params = "".join(f"    {n} : array_like\n        {d[:1].upper() + d[1:]}.\n" for n, d in arrays)
    return params + "".join(f"    {a.name} : {a.annotation}, default {a.default}\n"
                            f"        {a.doc[:1].upper() + a.doc[1:]}.\n" for a in rec.args)


def _reduction_and_derivative_doc(rec) -> str:
    first = rec.arrays[0][0]
    params = _reduction_params(rec, rec.arrays)
    return (f"{rec.name} and its derivative d{rec.name}/d{first} from one pass.\n\n"
            f"    {rec.formula}\n    d: the gradient {rec.gradient}, with grad = 1\n\n"
            f"    Parameters\n    ----------\n{params}\n    Returns\n    -------\n"
            f"    (loss, d): loss as {rec.name}(...) returns it; d the gradient for an upstream\n"
            f"    gradient of 1, in the shape and dtype of {first} (for reduction='none', of each\n"
            f"    row's loss). {rec.name}_backward(grad, ...) equals grad * d (grad broadcast\n"
            f"    along the class axis for 'none'), so a training step keeps d from the\n"
            f"    forward and its backward is one multiply.\n")


def _reduction_doc(rec, backward: bool) -> str:
    arrays = rec.backward_arrays if backward else rec.arrays
    params = _reduction_params(rec, arrays)
    if backward or rec.out:
        params += "    out : ndarray, optional\n        Where to write the result (its shape and dtype).\n"
    if backward:
        head = (f"Gradient of {rec.name}: dL/d{arrays[1][0]}.\n\n    {rec.gradient}\n")
        ret = (f"ndarray of {arrays[1][0]}'s shape and dtype (float16 is computed in float32, "
               f"integers give float64).")
    else:
        head = f"{rec.summary}\n\n    {rec.formula}\n"
        ret = ("a NumPy scalar for a reduction to one value, else an ndarray; in the input's "
               "dtype (float16 is computed in float32, integers give float64).")
    notes = textwrap.fill(rec.notes, 76, initial_indent="    ", subsequent_indent="    ")
    ret = textwrap.fill(ret, 76, initial_indent="    ", subsequent_indent="    ")
    return (f"{head}\n    Parameters\n    ----------\n{params}\n    Returns\n    -------\n{ret}\n\n"
            f"    Notes\n    -----\n{notes}\n")


_HEADER = '''# Generated by setup.py from the registry (fastact/_codegen.py); do not edit.
"""fastact's public functions, one forward and one backward per record."""
from __future__ import annotations

import math
from typing import Any, Literal

from numpy.typing import ArrayLike, DTypeLike, NDArray

from fastact import _api, _loss
from fastact._registry import BY_NAME as _BY_NAME, LOSS_BY_NAME as _LOSS_BY_NAME

_INF = math.inf
'''


def public_source(registry) -> str:
    """The text of fastact/_public.py for the registry module given."""
    kernel_ids = {k: i for i, (k, _) in enumerate(registry.KERNELS)}
    parts = [_HEADER]
    names = []
    for rec in registry.ACTIVATIONS:
        kid = kernel_ids[rec.kernels[0]] if rec.kind == "elementwise" else -1
        tag = rec.name
        parts.append(f"\n_R_{tag} = _BY_NAME[{rec.name!r}]")
        if rec.variants and rec.kind == "axis_x":
            parts.append(f"_VK_{tag} = {_AXIS_X_OPS[rec.name]!r}")
        elif rec.variants:
            vk = {v: kernel_ids[k] for v, k in rec.variants[1]}
            parts.append(f"_VK_{tag} = {vk!r}")
        src = _source(rec, kid, kernel_ids).replace("_K.", "_api._K.")
        src = re.sub(r"\b_REC\b", f"_R_{tag}", src)
        src = re.sub(r"\b_P\[", f"_R_{tag}.params[", src)
        src = re.sub(r"\b_VK\b", f"_VK_{tag}", src)
        parts.append(src)
        for suffix in ("", "_backward") + (("_and_derivative",) if rec.kind == "elementwise"
                                           else ()):
            names.append(rec.name + suffix)
            for alias in rec.aliases:
                parts.append(f"{alias}{suffix} = {rec.name}{suffix}")
                names.append(alias + suffix)
    for rec in getattr(registry, "LOSSES", ()):
        parts.append(f"\n_R_{rec.name} = _LOSS_BY_NAME[{rec.name!r}]")
        parts.append(_reduction_source(rec).replace("_REC", f"_R_{rec.name}"))
        names += [rec.name, rec.name + "_backward"] + (
            [rec.name + "_and_derivative"] if rec.and_derivative else [])
    parts.append(f"\n__all__ = {sorted(names)!r}\n")
    return "\n".join(parts)


def ufunc_names(registry) -> list:
    """The names fastact.ufuncs defines (fastact/ufuncs.py builds the same)."""
    names = []
    for kernel, rec in registry.KERNELS:
        suffixes = [""] + [s for f, s in (("x", "_backward"), ("y", "_backward_y"))
                           if f in rec.backward_from]
        for sfx in suffixes:
            names.append(kernel + sfx)
            if kernel == rec.name:
                names += [alias + sfx for alias in rec.aliases]
    names += [rec.name + sfx for rec in registry.ACTIVATIONS if rec.gufunc
              for sfx in ("", "_backward")]
    return names


def ufuncs_stub(registry) -> str:
    """The text of fastact/ufuncs.pyi."""
    lines = ["# Generated by setup.py from the registry (fastact/_codegen.py); do not edit.",
             "from typing import Any", "", "import numpy as np", "",
             "UFUNCS: dict[str, tuple[Any, str, int]]",
             "BY_KERNEL: dict[tuple[int, int], np.ufunc]", "",
             "def register_bfloat16() -> None: ...", ""]
    lines += [f"{n}: np.ufunc" for n in ufunc_names(registry)]
    return "\n".join(lines) + "\n"
