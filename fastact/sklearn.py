"""scikit-learn's MLPClassifier / MLPRegressor with fastact activations.

    >>> import fastact.sklearn
    >>> with fastact.sklearn.patch():            # for one block
    ...     MLPClassifier(activation="relu").fit(X, y)
    >>> p = fastact.sklearn.patch()              # from here on ...
    >>> MLPClassifier(activation="relu").fit(X, y)
    >>> p.undo()                                 # ... until undone
    >>> fastact.sklearn.unpatch()                # or: undo every patch still active

``patch()`` replaces entries of ``sklearn.neural_network._base.ACTIVATIONS``
and ``DERIVATIVES`` (the tables the multilayer perceptron looks up on every
forward and backward pass) with fastact calls that keep scikit-learn's
in-place contract:

* ``ACTIVATIONS[name](X)`` overwrites X with the activation of X;
* ``DERIVATIVES[name](Z, delta)`` multiplies delta in place by the
  derivative, given the activation's output Z.

``patch()`` patches when it is called; the object it returns puts the
originals back with ``.undo()``, or when used as a context manager at the
end of the block (also on an exception); ``unpatch()`` undoes every patch
still active.  ``@patch()`` on a function patches during each call only.  Arrays fastact does not take in place (sparse
matrices, dtypes other than float32/float64, read-only arrays) go to the
original functions.  Patching is process-wide (the tables are module
globals): do not fit stock and patched models concurrently in threads.
"""
from __future__ import annotations

import functools

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


_ACTIVE = []                            # the patches not undone yet, oldest first


class Patch:
    """What patch() returns: the replaced entries, {(table, name): original}
    (``.replaced``), undone by ``.undo()`` or at the end of a ``with`` block."""

    def __init__(self, activations=None):
        self.activations = activations
        self.replaced = _apply(activations)
        _ACTIVE.append(self)

    @property
    def active(self) -> bool:
        return self in _ACTIVE

    def undo(self):
        """Put the original functions back (a second call does nothing)."""
        if not self.active:
            return
        # patches made after this one wrap its functions: undo them first
        for later in reversed(_ACTIVE[_ACTIVE.index(self) + 1:]):
            later.undo()
        from sklearn.neural_network import _base
        for (table, name), original in self.replaced.items():
            getattr(_base, table)[name] = original
        _ACTIVE.remove(self)

    def __enter__(self):
        return dict(self.replaced)

    def __exit__(self, *exc):
        self.undo()
        return False

    def __call__(self, func):
        """As a decorator: no patch now, one during each call of func."""
        self.undo()
        activations = self.activations

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with Patch(activations):
                return func(*args, **kwargs)
        return wrapper

    def __repr__(self):
        names = sorted({name for _, name in self.replaced})
        return f"<fastact.sklearn patch of {', '.join(names)}{'' if self.active else ' (undone)'}>"


def patch(activations=None) -> Patch:
    """Use fastact for scikit-learn's MLP activations, from this call on.

    activations: scikit-learn names to replace (default: all of "logistic",
    "tanh", "relu", "softmax" that fastact has).  Returns a Patch: call its
    ``undo()``, or use it as a context manager (``with patch() as replaced:``
    gives the dict of replaced entries, {(table, name): original}, and undoes
    the patch at the end of the block), or as a decorator.
    """
    return Patch(activations)


def unpatch():
    """Undo every patch still active (the originals are back afterwards)."""
    for p in reversed(list(_ACTIVE)):
        p.undo()


def _apply(activations):
    """Replace the entries; returns {(table, name): original}."""
    from sklearn.neural_network import _base
    names = list(NAMES) if activations is None else list(activations)
    unknown = [n for n in names if n not in NAMES]
    if unknown:
        raise ValueError(f"fastact.sklearn.patch: no fastact replacement for {unknown}; "
                         f"known: {', '.join(NAMES)}")
    known = _fa.activations()
    saved = {}
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
    return saved
