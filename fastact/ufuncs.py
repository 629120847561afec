"""fastact's elementwise functions as NumPy ufuncs.

Every elementwise kernel of the registry, forward and backward, is a real
``numpy.ufunc``, as scipy.special's functions are, with the record's
parameters as trailing inputs that broadcast (scipy.special's convention)::

    from fastact import ufuncs
    ufuncs.elu(x, 2.0)                       # alpha = 2
    ufuncs.elu(x, np.array([[0.5], [1.0]]))  # one alpha per row
    ufuncs.gelu_tanh(x)                      # gelu(x, approximate="tanh")
    ufuncs.sigmoid_backward(g, x)            # dL/dx from the forward input
    ufuncs.sigmoid_backward_y(g, y)          # ... from the output, where allowed

NumPy then provides broadcasting, ``out=``, ``where=``, ``dtype=``,
``casting=`` and ``__array_ufunc__`` dispatch: pandas, xarray, masked and
dask arrays keep their type.  The loops are float32 and float64 (other
inputs are cast as NumPy's rules say: integers and bools to float64, float16
to float32), run on the CPU build fastact chose, with fastact's threads for
large contiguous arrays.  Parameters are not checked by a ufunc: an invalid
one (celu's alpha = 0, hardtanh's min_val > max_val, ...) gives nan there,
as scipy.special does; the keyword functions (``fastact.elu``) raise instead.

The softmax family (softmax, log_softmax, softmin and their backwards from
y) are generalized ufuncs over one axis, signature ``(n)->(n)`` and
``(n),(n)->(n)``, with ``axis=`` (default -1)::

    ufuncs.softmax(x, axis=0)
    ufuncs.softmax_backward(g, y, axis=0)

glu is ``(n)->(m)`` and ``glu_backward(grad, x)`` ``(m),(n)->(n)``, m = n / 2
(an odd axis is a ValueError; NumPy older than 2.1 cannot size m itself and
needs ``out=``).  maxout's groups are a core dimension of their own,
``(m,p)->(m)`` and ``maxout_backward(grad, x)`` ``(m),(m,p)->(m,p)``: the
groups of ``pieces`` consecutive entries along the last axis are
``x.reshape(*x.shape[:-1], -1, pieces)``, and ``axes=`` picks others::

    ufuncs.glu(x, axis=0)
    ufuncs.maxout(x.reshape(8, -1, 4))          # maxout(x, pieces=4)

A variant chosen by a string parameter is a ufunc of its own: gelu's
approximate="tanh" is ``gelu_tanh``.  Names: ``KERNEL(x, *params)``,
``KERNEL_backward(grad, x, *params)`` and ``KERNEL_backward_y(grad, y, *params)``
where the registry allows the backward from the output.  ``UFUNCS`` maps each name to
(record, kernel, direction), direction 3 for the axis functions; ``BY_KERNEL`` maps
(kernel id, direction) to
the ufunc, for fastact's keyword functions.
"""
from __future__ import annotations

import sys

from fastact import _dispatch
from fastact._kernels import _ufuncs
from fastact._registry import ACTIVATIONS, KERNELS

# direction: 0 forward, 1 backward from x, 2 backward from y
_SUFFIX = {0: "", 1: "_backward", 2: "_backward_y"}


def _doc(rec, kernel, direction):
    params = "".join(f", {p.name}" for p in rec.params)
    if direction == 0:
        head = f"{rec.summary} As fastact.{rec.name}, a ufunc: {kernel}(x{params})."
        formula = rec.formula
    else:
        given = "x" if direction == 1 else "y"
        head = (f"Gradient of {rec.name} from the forward {'input' if given == 'x' else 'output'}, "
                f"a ufunc: {kernel}{_SUFFIX[direction]}(grad, {given}{params}) = grad * d{rec.name}/dx.")
        formula = rec.gradient
    if rec.variants and kernel != rec.kernels[0]:
        vname, choices = rec.variants
        value = next(v for v, k in choices if k == kernel)
        head += f" ({vname}={value!r})"
    return (f"{head}\n\n{formula}\n\nParameters broadcast against the arrays; invalid "
            f"parameter values give nan.  See fastact.{rec.name} for the semantics.")


def _make():
    made, table = {}, {}
    by_kernel = {}
    for kid, (kernel, rec) in enumerate(KERNELS):
        directions = [0] + [d for d, form in ((1, "x"), (2, "y")) if form in rec.backward_from]
        for d in directions:
            name = kernel + _SUFFIX[d]
            nin = (1 if d == 0 else 2) + len(rec.params)
            made[name] = by_kernel[kid, d] = _ufuncs.make(name, d, nin, kid, _doc(rec, kernel, d),
                                                          nparams=len(rec.params))
            table[name] = (rec, kernel, d)
            if kernel == rec.name:
                for alias in rec.aliases:
                    made[alias + _SUFFIX[d]] = made[name]
    ops = _dispatch.active_module().AXIS_OPS
    for rec in ACTIVATIONS:
        if rec.gufunc is None:
            continue
        for d, sig in enumerate(rec.gufunc):
            name = rec.name + ("_backward" if d else "")
            args = ("grad, " + rec.backward_from[0]) if d else "x"
            doc = (f"{rec.summary} As fastact.{name}, a generalized ufunc {sig}: "
                   f"{name}({args}).\n\n{rec.gradient if d else rec.formula}")
            made[name] = by_kernel[ops[name], 3] = _ufuncs.make(
                name, 3, 1 + d, ops[name], doc, sig, halves=rec.extra.get("out_len") == "k // 2")
            table[name] = (rec, rec.name, 3)
    return made, table, by_kernel


_UFUNCS, UFUNCS, BY_KERNEL = _make()
_KIDS = {kernel: kid for kid, (kernel, _) in enumerate(KERNELS)}
globals().update(_UFUNCS)
__all__ = sorted(_UFUNCS) + ["UFUNCS", "BY_KERNEL", "register_bfloat16"]


def _set_loops(module):
    _ufuncs.set_active(module.ufunc_loops() + (module.gufunc_loops(),), module.ufunc_half_loops())


_BF16_DONE = []


def register_bfloat16():
    """Give the elementwise ufuncs bfloat16 loops (ml_dtypes.bfloat16 arrays,
    float32 parameters).  Done when ml_dtypes is imported before this module,
    or when a fastact function first sees a bfloat16 array; calling it
    imports ml_dtypes (an optional dependency: the bfloat16 extra)."""
    if _BF16_DONE:
        return
    import ml_dtypes
    import numpy as np
    num = np.dtype(ml_dtypes.bfloat16).num
    for name, (rec, kernel, d) in UFUNCS.items():
        if d != 3:
            _ufuncs.add_bfloat16(_UFUNCS[name], d, _UFUNCS[name].nin, len(rec.params),
                                 _KIDS[kernel], num)
    _BF16_DONE.append(num)


_dispatch._listeners.append(_set_loops)
if _dispatch.active_module() is not None:
    _set_loops(_dispatch.active_module())
if "ml_dtypes" in sys.modules:
    register_bfloat16()
    from fastact import _api
    _api._bfloat16()
