"""Build the public functions from the registry.

For every record this makes ``NAME`` and ``NAME_backward`` (and the
aliases), as real Python functions with real signatures and docstrings, by
filling in one template per kind.  Their bodies do the minimum on the
common path (parameter checks, one call into the kernel module's fast
path) and hand everything else to the generic code in ``_api``.
"""
from __future__ import annotations

import math
import textwrap

from fastact import _api
from fastact._registry import ACTIVATIONS, KERNELS, Activation

_KERNEL_IDS = {k: i for i, (k, _) in enumerate(KERNELS)}

_SOFTMAX_OPS = {"softmax": (0, 1), "log_softmax": (2, 3), "softmin": (4, 5)}
_AXIS_X_OPS = {"glu": (6, 7), "maxout": (8, 9)}

# Along an axis, changing its length (glu, maxout): the backward needs x.
_AXIS_X = '''
def {name}(x, {sig_params}axis=-1, *, out=None):
    {checks}return _api.axis_x_forward(_REC, {op_fwd}, x, axis, out, {param_dict})

def {name}_backward(grad, x=None, *, y=None, {sig_params}axis=-1, out=None):
    {checks_b}if x is None or y is not None:
        raise _api.which_error("{name}_backward", _REC, x, y, {param_dict})
    return _api.axis_x_backward(_REC, {op_bwd}, grad, x, axis, out, {param_dict})
'''


_ELEMENTWISE = '''
def {name}(x, {sig_params}*, out=None, where=True, dtype=None):
    {checks}if where is True and dtype is None{floats}:
        r = _K.unary({kid}, x, out{args})
        if r is not None:
            return r
    return _api.forward(_REC, {kid}, x, out, ({args_tuple}), where, dtype)

def {name}_backward(grad, x=None, *, y=None, {sig_params}out=None, where=True, dtype=None):
    {checks_b}if y is None and x is not None and {x_ok}:
        form, a = 0, x
    elif x is None and y is not None and {y_ok}:
        form, a = 1, y
    else:
        raise _api.which_error("{name}_backward", _REC, x, y, {param_dict})
    if where is True and dtype is None{floats}:
        r = _K.binary({kid}, form, grad, a, out{args})
        if r is not None:
            return r
    return _api.backward(_REC, {kid}, form, grad, a, out, ({args_tuple}), where, dtype)
'''

_SOFTMAX = '''
def {name}(x, axis=-1, *, out=None):
    if axis.__class__ is int and -64 <= axis < 64:   # NumPy's most dimensions; C int
        r = _K.axis_fast({op_fwd}, x, None, out, axis)
        if r is not None:
            return r
    return _api.axis_forward(_REC, {op_fwd}, x, axis, out)

def {name}_backward(grad, x=None, *, y=None, axis=-1, out=None):
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
def {name}(x, weight, *, out=None):
    return _api.prelu_forward(_REC, x, weight, out)

def {name}_backward(grad, x=None, weight=None, *, y=None, out=None):
    if x is None or y is not None:
        raise _api.which_error("{name}_backward", _REC, x, y, {{}})
    return _api.prelu_backward(_REC, grad, x, weight, out)
'''

# rrelu: eval mode is leaky_relu; training draws slopes from an explicit RNG.
_RRELU = '''
def {name}(x, {sig_params}training=False, *, rng=None, return_noise=False, out=None):
    {checks}return _api.rrelu_forward(_REC, x, {args_tuple_paren}, training, rng, return_noise, out)

def {name}_backward(grad, x=None, *, y=None, noise=None, {sig_params}training=False, out=None):
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


def _source(rec: Activation, kid: int) -> str:
    if rec.kind == "softmax":
        op_fwd, op_bwd = _SOFTMAX_OPS[rec.name]
        return _SOFTMAX.format(name=rec.name, op_fwd=op_fwd, op_bwd=op_bwd)
    names = [p.name for p in rec.params]
    param_dict = "{" + ", ".join(f"{n!r}: {n}" for n in names) + "}"
    sig = "".join(f"{p.name}, " if p.required else f"{p.name}={p.default!r}, " for p in rec.params)
    if rec.variants:
        # a string parameter choosing the kernel: _VK maps its values to kernel ids
        vname, choices = rec.variants
        sig += f"{vname}={choices[0][0]!r}, "
        vcheck = (f"_kid = _VK.get({vname}) if {vname}.__class__ is str else None\n    "
                  f"if _kid is None:\n        raise _api.variant_error(FNAME, {vname!r}, {vname}, _VK)\n    ")
        kid = "_kid"
    else:
        vcheck = ""
    arrays = rec.kind == "elementwise"          # parameters that broadcast against x
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
        return _PRELU.format(name=rec.name)
    if rec.kind == "rrelu":
        return _RRELU.format(
            name=rec.name, checks=checks.replace("FNAME", repr(rec.name)),
            checks_b=checks.replace("FNAME", repr(rec.name + "_backward")),
            sig_params=sig,
            args_tuple_paren="(" + "".join(f"{n}, " for n in names) + ")",
            param_dict=param_dict)
    if rec.kind == "axis_x":
        op_fwd, op_bwd = _AXIS_X_OPS[rec.name]
        return _AXIS_X.format(
            name=rec.name, op_fwd=op_fwd, op_bwd=op_bwd,
            checks=checks.replace("FNAME", repr(rec.name)),
            checks_b=checks.replace("FNAME", repr(rec.name + "_backward")),
            sig_params=sig,
            param_dict=param_dict)
    # the registry's one rule for y= (y_condition); a parameter array must
    # satisfy it everywhere
    y_ok = rec.y_condition()
    if rec.y_requires is not None:
        y_ok = f"({y_ok} is True or _api.all_true({y_ok}))"
    return _ELEMENTWISE.format(
        name=rec.name, kid=kid, checks=checks.replace("FNAME", repr(rec.name)),
        checks_b=checks.replace("FNAME", repr(rec.name + "_backward")),
        sig_params=sig,
        args="".join(f", {n}" for n in names),
        args_tuple="".join(f"{n}, " for n in names),
        x_ok="True" if "x" in rec.backward_from else "False", y_ok=y_ok,
        floats="".join(f" and {n}.__class__ is float" for n in names),
        param_dict=param_dict)


def _doc(rec: Activation, backward: bool) -> str:
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
                f"    x, y : array_like{params}\n    out : ndarray, optional\n"
                f"        Where to write dL/dx; may be grad itself (in place).\n")
        if rec.kind == "elementwise":
            body += ("    where, dtype : optional\n        As for a NumPy ufunc (through "
                     "fastact.ufuncs, as for parameter arrays and containers).\n")
    else:
        body = (f"{rec.summary}\n\n    {rec.formula}\n\n"
                f"    Parameters\n    ----------\n    x : array_like{params}\n"
                f"    out : ndarray, optional\n        Where to write the result (shape and dtype of "
                f"the result, writeable); may be x itself (in place).\n")
    if rec.kind == "elementwise":
        body += ("    where, dtype : optional\n        As for a NumPy ufunc; the call then goes "
                 "through fastact.ufuncs, as it does for parameter\n        arrays (which broadcast "
                 "against x) and for pandas, xarray, dask and masked arrays\n        (returned as "
                 "their own type). Arrays of other libraries on the CPU (torch\n        tensors) "
                 "are computed on a zero-copy view and returned as their type.\n")
    notes = textwrap.fill(rec.notes, 76, initial_indent="    ", subsequent_indent="    ")
    return (body + "\n    Returns\n    -------\n    ndarray of x's shape; float32 and float64 are kept, "
            "float16 is computed in float32,\n    bool and integers give float64. A 0-d input gives "
            "a NumPy scalar.\n\n    Notes\n    -----\n" + notes + "\n")


def make_functions() -> dict:
    """name -> function, for every activation, its backward and aliases."""
    made = {}
    for rec in ACTIVATIONS:
        kid = _KERNEL_IDS[rec.kernels[0]] if rec.kind == "elementwise" else -1
        ns = {"_api": _api, "_REC": rec, "_P": rec.params, "_INF": math.inf,
              "_VK": {v: _KERNEL_IDS[k] for v, k in rec.variants[1]} if rec.variants else None}
        # The functions look up _K in _api's namespace at call time, so that
        # switching the CPU build (fastact._dispatch.use) reaches them.
        glob = _api.__dict__ | ns
        src = _source(rec, kid).replace("_K.", "_api._K.")
        code = compile(src, f"<fastact generated: {rec.name}>", "exec")
        exec(code, glob)
        for suffix, backward in (("", False), ("_backward", True)):
            fn = glob[rec.name + suffix]
            fn.__doc__ = _doc(rec, backward)
            fn.__module__ = "fastact"
            fn.__qualname__ = rec.name + suffix
            made[rec.name + suffix] = fn
            for alias in rec.aliases:
                made[alias + suffix] = fn
    return made
