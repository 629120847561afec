"""Optional columns: the same NumPy expression run by numexpr, numba and
jax.jit (CPU), for the elementwise rows, when those packages are installed.

Each takes the record's NumPy expression (``numpy`` field) with the
parameters written in as constants, and

- ``numexpr``: translates it to numexpr's language (``np.exp`` -> ``exp``,
  ``sigmoid(v)`` -> ``1 / (1 + exp(-(v)))``) and runs ``numexpr.evaluate``
  on one thread; an expression with a function numexpr lacks (``np.clip``,
  ``np.maximum``, ``np.logaddexp``, erf, ...) has no numexpr cell;
- ``numba``: compiles it with ``numba.njit`` (helpers njit-compiled too); one
  thread, as numba's default;
- ``jax``: ``jax.jit`` of it with ``jax.numpy`` as ``np`` (erf from
  ``jax.scipy.special``), float64 enabled, on the CPU, XLA's intra-op threads
  limited to one (set before jax is imported, when the bench imports it), the
  inputs on the device before timing and ``block_until_ready`` in the call.

A column whose package is missing, or whose translation or compilation fails
for a row, is left empty ("—"); nothing here is required.  Compilation
happens before timing (the first call), so the times are of the compiled
code.  Each returns a new array, like the NumPy column; numba follows its
own type rules for Python constants (a float32 row may compute in float64).
"""
from __future__ import annotations

import importlib.util
import os
import re

import numpy as np

from fastact._baseline import elementwise_helpers

OTHERS = ("numexpr", "numba", "jax")

_P = re.compile(r"""p\[['"](\w+)['"]\]""")
_NE_FUNCS = ("where", "exp", "expm1", "log", "log1p", "tanh", "sqrt", "abs")


def available() -> tuple:
    """The other implementations whose package is installed."""
    return tuple(n for n in OTHERS if importlib.util.find_spec(n) is not None)


def _constants(text: str, params: dict) -> str:
    """The expression with p['name'] replaced by the parameter's value."""
    def value(m):
        v = params[m.group(1)]
        if not isinstance(v, (int, float)) or isinstance(v, bool):
            raise TypeError("not a scalar parameter")
        return repr(float(v))
    return _P.sub(value, text)


def _expand_call(text: str, name: str, template: str) -> str:
    """Replace name(arg) by template.format(arg), parentheses matched."""
    while True:
        m = re.search(r"\b%s\(" % name, text)
        if not m:
            return text
        depth, i = 1, m.end()
        while depth:
            depth += {"(": 1, ")": -1}.get(text[i], 0)
            i += 1
        text = text[:m.start()] + template.format(text[m.end():i - 1]) + text[i:]


def numexpr_source(text: str) -> str:
    """The NumPy expression in numexpr's language, or ValueError."""
    from fastact._baseline import GELU_C, SELU_ALPHA, SELU_SCALE
    text = _expand_call(text, "sigmoid", "(1 / (1 + exp(-({}))))")
    for name, v in (("GELU_C", GELU_C), ("SELU_ALPHA", SELU_ALPHA), ("SELU_SCALE", SELU_SCALE)):
        text = re.sub(r"\b%s\b" % name, repr(v), text)
    for f in _NE_FUNCS:
        text = re.sub(r"\bnp\.%s\(" % f, f + "(", text)
    if "np." in text or re.search(r"\b(mish_grad|gelu_tanh_grad|erf)\(", text):
        raise ValueError("a function numexpr does not have")
    return text


_jax_ready = {}


def _jax():
    if "jax" not in _jax_ready:
        if "jax" not in __import__("sys").modules:
            flags = os.environ.get("XLA_FLAGS", "")
            os.environ["XLA_FLAGS"] = (flags + " --xla_cpu_multi_thread_eigen=false "
                                       "intra_op_parallelism_threads=1").strip()
        import jax
        jax.config.update("jax_enable_x64", True)
        jax.config.update("jax_platforms", "cpu")
        _jax_ready["jax"] = jax
    return _jax_ready["jax"]


_numba_helpers = {}


def _make(impl: str, text: str, arg: str, a, g):
    """A zero-argument callable computing the expression on (a, g) with impl."""
    if impl == "numexpr":
        import numexpr
        numexpr.set_num_threads(1)
        src = numexpr_source(text)
        local = {arg: a, "g": g}
        return lambda: numexpr.evaluate(src, local_dict=local)
    if impl == "numba":
        import numba
        if "ns" not in _numba_helpers:
            _numba_helpers["ns"] = elementwise_helpers(np, None, wrap=numba.njit)
        ns = dict(_numba_helpers["ns"])
        exec(f"def f({arg}, g):\n    return {text}\n", ns)
        fn = numba.njit(ns["f"])
        return lambda: fn(a, g)
    if impl == "jax":
        jax = _jax()
        import jax.numpy as jnp
        from jax.scipy.special import erf
        ns = elementwise_helpers(jnp, erf)
        exec(f"def f({arg}, g):\n    return {text}\n", ns)
        fn = jax.jit(ns["f"])
        ja, jg = jax.device_put(a), jax.device_put(g)
        return lambda: fn(ja, jg).block_until_ready()
    raise ValueError(impl)


def callables(case, a, g, p, impls=None) -> dict:
    """{impl: zero-argument callable} of the installed others that can run
    this case (elementwise rows only); each has been called once (compiled,
    and checked to give x's shape).  impls: only these (default: every
    installed one)."""
    if case.rec.kind != "elementwise":
        return {}
    text = case.numpy_text
    if text is None:
        return {}
    out = {}
    for impl in available() if impls is None else [i for i in impls if i in available()]:
        try:
            src = _constants(text, p)
            fn = _make(impl, src, "y" if case.direction == "y" else "x", a, g)
            with np.errstate(all="ignore"):
                r = np.asarray(fn())
            if r.shape != a.shape:
                continue
        except Exception:               # not translatable, not compilable, not installed well
            continue
        out[impl] = fn
    return out



def versions() -> dict:
    """{package: version} of the installed others."""
    from importlib.metadata import PackageNotFoundError, version
    out = {}
    for name in available():
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "?"
    return out
