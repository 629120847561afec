"""scikit-learn's MLPClassifier / MLPRegressor with fastact activations.

    >>> import fastact.sklearn
    >>> with fastact.sklearn.patch():
    ...     MLPClassifier(activation="relu").fit(X, y)

``patch()`` replaces entries of ``sklearn.neural_network._base.ACTIVATIONS``
and ``DERIVATIVES`` (the tables the multilayer perceptron looks up on every
forward and backward pass) with fastact calls that keep scikit-learn's
in-place contract:

* ``ACTIVATIONS[name](X)`` overwrites X with the activation of X;
* ``DERIVATIVES[name](Z, delta)`` multiplies delta in place by the
  derivative, given the activation's output Z.

The originals are put back when the block exits, also on an exception.  It
works as a decorator too.  Arrays fastact does not take in place (sparse
matrices, dtypes other than float32/float64, read-only arrays) go to the
original functions.  Patching is process-wide (the tables are module
globals): do not fit stock and patched models concurrently in threads.
"""
from __future__ import annotations

import contextlib

import numpy as np

import fastact as _fa

# scikit-learn's activation name -> fastact's.
NAMES = {"logistic": "sigmoid", "tanh": "tanh", "relu": "relu", "softmax": "softmax"}

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def _usable(*arrays):
    return all(isinstance(a, np.ndarray) and a.dtype in _FLOATS and a.flags.writeable
               for a in arrays)


def _make_activation(fa_name, original):
    rec = _fa.activations()[fa_name]
    fn = getattr(_fa, fa_name)
    if rec.kind == "softmax":
        def inplace(X):
            if not _usable(X):
                return original(X)
            fn(X, axis=1, out=X)
    else:
        def inplace(X):
            if not _usable(X):
                return original(X)
            fn(X, out=X)
    inplace.__name__ = f"fastact_inplace_{fa_name}"
    inplace.__doc__ = f"X <- fastact.{fa_name}(X), in place (installed by fastact.sklearn.patch)."
    return inplace


def _make_derivative(fa_name, original):
    rec = _fa.activations()[fa_name]
    if rec.y_condition() != "True" or rec.kind != "elementwise":
        return None                     # scikit-learn passes only the output Z
    bwd = getattr(_fa, fa_name + "_backward")

    def inplace_derivative(Z, delta):
        if not (_usable(delta) and isinstance(Z, np.ndarray) and Z.dtype == delta.dtype):
            return original(Z, delta)
        bwd(delta, y=Z, out=delta)
    inplace_derivative.__name__ = f"fastact_inplace_{fa_name}_derivative"
    inplace_derivative.__doc__ = (f"delta <- fastact.{fa_name}_backward(delta, y=Z), in place "
                                  f"(installed by fastact.sklearn.patch).")
    return inplace_derivative


@contextlib.contextmanager
def patch(activations=None):
    """Use fastact for scikit-learn's MLP activations inside the block.

    activations: scikit-learn names to replace (default: all of "logistic",
    "tanh", "relu", "softmax" that fastact has).  Yields the dict of replaced
    entries, {(table, name): original}.
    """
    from sklearn.neural_network import _base
    names = list(NAMES) if activations is None else list(activations)
    unknown = [n for n in names if n not in NAMES]
    if unknown:
        raise ValueError(f"fastact.sklearn.patch: no fastact replacement for {unknown}; "
                         f"known: {', '.join(NAMES)}")
    known = _fa.activations()
    saved = {}
    try:
        for name in names:
            fa_name = NAMES[name]
            if fa_name not in known:
                continue
            if name in _base.ACTIVATIONS:
                saved[("ACTIVATIONS", name)] = _base.ACTIVATIONS[name]
                _base.ACTIVATIONS[name] = _make_activation(fa_name, _base.ACTIVATIONS[name])
            if name in _base.DERIVATIVES:
                new = _make_derivative(fa_name, _base.DERIVATIVES[name])
                if new is not None:
                    saved[("DERIVATIVES", name)] = _base.DERIVATIVES[name]
                    _base.DERIVATIVES[name] = new
        yield dict(saved)
    finally:
        for (table, name), original in saved.items():
            getattr(_base, table)[name] = original
