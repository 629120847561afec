"""Introspection: the registry, derivatives for plots, the configuration."""
from __future__ import annotations

import platform
import sys

import numpy as np

from fastact import _dispatch, _threads
from fastact._registry import ACTIVATIONS, BY_NAME
from fastact._version import __version__


def activations() -> dict:
    """The registry: name -> record (formula, gradient, parameters with
    defaults and ranges, what the backward needs: x, y or either).
    Aliases are not repeated; see each record's ``aliases``."""
    return {a.name: a for a in ACTIVATIONS}


def derivative(name: str, x, **params):
    """dy/dx of activation `name` at x, elementwise (for plots and teaching).

    For softmax, the diagonal of the Jacobian along `axis`, y_i (1 - y_i);
    for log_softmax 1 - softmax(x)_i, for softmin -y_i (1 - y_i).
    prelu: grad_x for a unit grad (weight= as in prelu, 0.25 if not given);
    rrelu: the eval-mode derivative (slope (lower + upper)/2).  glu and maxout
    have none (their output is shorter than x): ValueError.
    Required parameters not given (threshold's threshold and value) take the
    registry's example values (``Param.example``).
    """
    import fastact
    rec = BY_NAME.get(name) if isinstance(name, str) else None
    if rec is None:
        raise ValueError(f"fastact.derivative: unknown activation {name!r}; "
                         f"expected one of {', '.join(sorted(BY_NAME))}")
    if rec.kind == "axis_x":
        raise ValueError(f"fastact.derivative: {rec.name} has no elementwise derivative: its output "
                         f"is shorter than x along the axis, so dy/dx is not an array of x's shape; "
                         f"use {rec.name}_backward(grad, x) (fastact.plot.curves draws "
                         f"{'maxout([x, 0], pieces=2)' if rec.name == 'maxout' else rec.name + '([x, x])'})")
    params = {**{p.name: p.example for p in rec.params if p.required}, **params}
    forward = getattr(fastact, rec.name)
    backward = getattr(fastact, rec.name + "_backward")
    if rec.kind == "prelu":             # grad_x for a unit grad; weight 0.25 unless given
        a = np.asarray(x)
        w = params.get("weight", rec.extra["example"]["weight"])
        ones = np.ones(a.shape, dtype=a.dtype if a.dtype.kind == "f" else np.float64)
        return backward(ones, a, w)[0]
    backward = getattr(fastact, rec.name + "_backward")
    if rec.kind == "softmax":
        y = forward(x, **params)
        if rec.name == "log_softmax":       # d y_i / d x_i = 1 - softmax_i
            return -np.expm1(y)
        if rec.name == "softmin":           # -y_i (1 - y_i)
            return -(y * (1 - y))
        return y * (1 - y)
    a = np.asarray(x)
    ones = np.ones(a.shape, dtype=np.result_type(a.dtype, np.float16) if a.dtype.kind == "f" else np.float64)
    if "x" in rec.backward_from:
        return backward(ones, a, **params)
    return backward(ones, y=forward(a, **params), **params)


def config() -> dict:
    module = _dispatch.active_module()
    from fastact._kernels import _cpu
    return {
        "fastact": __version__,
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "platform": platform.platform(),
        "cpu level": f"x86-64-v{_cpu.cpu_level()}" if _cpu.IS_X86_64 else platform.machine(),
        "builds present": _dispatch.built(),
        "builds runnable": _dispatch.runnable(),
        "build in use": _dispatch.active_level(),
        "debug build": bool(module.DEBUG_BUILD),
        "threads": _threads.get_num_threads(),
        "thread pool": "fastact's own (workers sleep between calls; docs/threads.md)",
        "cpus available": _threads.available_cpus(),
        "parallel from (elements)": _threads.get_parallel_min(),
        "parallel from, transcendental kernels": _threads.get_parallel_min(True),
        "activations": len(ACTIVATIONS),
    }


def show_config(file=None) -> dict:
    """Print (and return) the version, the CPU build in use and the threads."""
    info = config()
    width = max(map(len, info))
    for key, value in info.items():
        if isinstance(value, list):
            value = ", ".join(value)
        print(f"{key:<{width}} : {value}", file=file or sys.stdout)
    return info
