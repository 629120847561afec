"""Parameter checks and the errors of the public functions: a parameter's
range (check_param), conditions across parameters (all_true,
constraint_error), x vs y= (which_error) and a kernel variant's name
(variant_error).  The generated functions call them through fastact._api,
which re-exports them."""
from __future__ import annotations

import numbers

import numpy as np

from fastact._registry import Activation

def check_param(fname, param, value, arrays=False):
    """value as a float, or a TypeError/ValueError naming the parameter.

    arrays: an array of values is allowed too (elementwise functions, whose
    parameters broadcast against x): every entry is checked and the array
    returned as a float64 ndarray."""
    if arrays and not isinstance(value, (numbers.Number, str)) and value is not None:
        try:
            arr = np.asarray(value)
        except Exception:
            arr = None
        if arr is not None and arr.dtype.kind in "biuf" and arr.dtype != np.bool_:
            arr = arr.astype(np.float64)
            bad = [v for v in arr.ravel().tolist() if param.check(v)]
            if bad:
                raise ValueError(f"{fname}: {param.name} {param.check(bad[0])}, got an array "
                                 f"holding {bad[0]!r}")
            return arr
        raise TypeError(f"{fname}: {param.name} must be a real number or an array of them, "
                        f"got {type(value).__name__}")
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{fname}: {param.name} must be a real number, got {type(value).__name__}")
    if param.integer and not isinstance(value, numbers.Integral):
        raise TypeError(f"{fname}: {param.name} must be an int, got {type(value).__name__}")
    try:
        v = float(value)
    except OverflowError:               # an int beyond the double range
        raise ValueError(f"{fname}: {param.name} must be finite, got {value!r}") from None
    why = param.check(v)
    if why:
        raise ValueError(f"{fname}: {param.name} {why}, got {value!r}")
    return int(value) if param.integer else v


def all_true(cond):
    """A constraint's value over parameters that may be arrays: all must hold."""
    return bool(np.all(cond))


def constraint_error(fname, pname, why, params):
    """The ValueError for a condition across parameters (Activation.constraints)."""
    got = ", ".join(f"{k}={v!r}" for k, v in params.items())
    return ValueError(f"{fname}: {pname} {why}, got {got}")


def which_error(fname, rec: Activation, x, y, params):
    """The TypeError for a backward given neither or both of x and y, or the wrong one."""
    allowed = rec.backward_from
    need = " or ".join(f"{v}=" for v in allowed)
    if x is None and y is None:
        return TypeError(f"{fname}: pass the forward {'input x' if 'x' in allowed else 'output y='}"
                         f"{' or output y=' if allowed == ('x', 'y') else ''}; got neither")
    if x is not None and y is not None:
        return TypeError(f"{fname}: pass x or y=, not both")
    given = "x" if x is not None else "y"
    if given not in allowed:
        return TypeError(f"{fname}: the gradient cannot be computed from {given}; pass {need}")
    return TypeError(f"{fname}: the gradient from y= holds only for {rec.y_requires} "
                     f"(got {', '.join(f'{k}={v!r}' for k, v in params.items())}); pass x instead")


def variant_error(fname, pname, value, choices):
    """The ValueError for a string parameter that names no kernel (gelu's approximate)."""
    allowed = ", ".join(repr(c) for c in choices)
    return ValueError(f"{fname}: {pname} must be one of {allowed}, got {value!r}")
