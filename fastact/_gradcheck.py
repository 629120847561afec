"""gradcheck: a backward against central finite differences of its forward.

    >>> fa.gradcheck("elu", x, alpha=0.5)
    GradcheckResult(name='elu', passed=True, max_abs_error=..., ...)
    >>> fa.gradcheck(fastact.nn.Softmax(axis=0), x)

Everything is evaluated in float64.  Elementwise functions: the derivative of
every element, (f(x+h) - f(x-h)) / 2h, against backward(ones, x) (and, for a
name, against backward(ones, y=f(x)) too where the record allows y).  Along
an axis (softmax, and glu/maxout whose output is shorter than x): a random
projection g of the output's shape; backward(g) is g.J, compared with the
finite differences of sum(g * f(x)) in every element (or, for more than
``max_elements`` elements, in ``directions`` random directions).

prelu (``weight=``, default the registry's example 0.25) checks grad_x as an
elementwise function and grad_weight by central differences of
sum(g * prelu(x, w)) in every weight entry (form "weight"; for a layer with a
``weight`` array and ``weight_grad``, as fastact.nn.PReLU, form
"layer.weight").  rrelu: eval mode by default; ``training=True, rng=SEED``
draws the same slopes for every evaluation (a Generator is copied, not
advanced), and the backward gets them as noise=.  A layer with an ``rng``
Generator (fastact.nn.RReLU training) has its generator state reset before
every forward, for the same reason.

Kinks: the registry does not list them, so at every point the left and right
one-sided differences are compared as well; where they disagree by more than
``kink_tol`` the function is not differentiable within h of the point and
the point is skipped (counted in ``skipped``).  Non-finite values are skipped
too.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np


@dataclass
class GradcheckResult:
    """Outcome of a gradcheck; true when it passed."""

    name: str
    passed: bool
    max_abs_error: float
    max_rel_error: float    # of |backward - fd| / max(|fd|, atol)
    checked: int            # points (or directions) compared
    skipped: int            # points skipped: kinks within h, non-finite values
    rtol: float
    atol: float
    worst_x: float | None = None    # for elementwise: the input with the largest error
    forms: tuple = ()               # which backward forms were checked ("x", "y", "layer")

    def __bool__(self):
        return self.passed

    def as_dict(self) -> dict:
        return asdict(self)


def _fresh(rng):
    """A generator that draws what ``rng`` would draw next, leaving rng as it is."""
    import copy
    if isinstance(rng, np.random.Generator):
        return copy.deepcopy(rng)
    return rng                      # an int seed (or None: fastact.rrelu raises)


def _resolve(target, params):
    """(name, elementwise?, forward(x64) -> y, [(form, backward(g, x64) -> dL/dx)], weight)

    weight: None, or (form, w0, forward(x, w) -> y, backward_w(g, x) -> dL/dw)
    for a function with a weight array (prelu).
    """
    import fastact
    from fastact._registry import BY_NAME
    if isinstance(target, str):
        rec = BY_NAME.get(target)
        if rec is None:
            raise ValueError(f"fastact.gradcheck: unknown activation {target!r}; expected one "
                             f"of {', '.join(sorted(BY_NAME))}")
        fwd = getattr(fastact, rec.name)
        bwd = getattr(fastact, rec.name + "_backward")
        if rec.kind == "prelu":
            params = dict(params)
            w = np.array(params.pop("weight", rec.extra.get("example", {}).get("weight", 0.25)),
                         dtype=np.float64)
            if params:
                raise TypeError(f"fastact.gradcheck: prelu takes weight=, got "
                                f"{', '.join(params)}")
            weight = ("weight", w, lambda x, ww: fwd(x, ww),
                      lambda g, x: bwd(g, x, w)[1])
            return (rec.name, True, lambda x: fwd(x, w),
                    [("x", lambda g, x: bwd(g, x, w)[0])], weight)
        if rec.kind == "rrelu":
            params = dict(params)
            training = bool(params.pop("training", False))
            rng = params.pop("rng", None)
            if not training:
                return (rec.name, True, lambda x: fwd(x, **params),
                        [("x", lambda g, x: bwd(g, x, **params))], None)
            if rng is None:
                raise ValueError("fastact.gradcheck: rrelu with training=True needs rng= (an "
                                 "int seed or a numpy.random.Generator): the same slopes are "
                                 "drawn for every evaluation")

            def fwd_t(x):
                return fwd(x, training=True, rng=_fresh(rng), **params)

            def bwd_t(g, x):
                _, noise = fwd(x, training=True, rng=_fresh(rng), return_noise=True, **params)
                return bwd(g, x, noise=noise, training=True, **params)

            return rec.name, True, fwd_t, [("x", bwd_t)], None
        if rec.kind == "axis_x":
            return (rec.name, False, lambda x: fwd(x, **params),
                    [("x", lambda g, x: bwd(g, x, **params))], None)
        if rec.kind not in ("elementwise", "softmax"):
            raise TypeError(f"fastact.gradcheck: cannot check {rec.name!r} of kind {rec.kind!r} "
                            f"by name; pass a layer (fastact.nn) instead")
        forms = []
        if "x" in rec.backward_from:
            forms.append(("x", lambda g, x: bwd(g, x, **params)))
        if rec.y_allowed(params):
            forms.append(("y", lambda g, x: bwd(g, y=fwd(x, **params), **params)))
        return rec.name, rec.kind == "elementwise", (lambda x: fwd(x, **params)), forms, None
    layer = target
    if params:
        raise TypeError("fastact.gradcheck: parameters belong to the layer; got "
                        f"{', '.join(params)} with a layer")
    if not (hasattr(layer, "forward") and hasattr(layer, "backward")):
        raise TypeError(f"fastact.gradcheck: expected an activation name or a layer with "
                        f"forward/backward, got {type(layer).__name__}")
    # A layer that draws random numbers (RReLU training): every forward draws
    # the same ones, from the generator's state now.
    rng = getattr(layer, "rng", None)
    state = rng.bit_generator.state if isinstance(rng, np.random.Generator) else None

    def forward(x):
        if state is not None:
            rng.bit_generator.state = state
        return layer.forward(np.array(x, copy=True))

    def fwd(x):
        return np.asarray(forward(x), dtype=np.float64)

    def bwd(g, x):
        forward(x)
        return layer.backward(g)

    weight = None
    w0 = getattr(layer, "weight", None)
    if isinstance(w0, np.ndarray) and hasattr(layer, "weight_grad"):
        def fwd_w(x, w):
            old = layer.weight
            layer.weight = w
            try:
                return fwd(x)
            finally:
                layer.weight = old

        def bwd_w(g, x):
            bwd(g, x)
            return layer.weight_grad

        weight = ("layer.weight", np.array(w0, dtype=np.float64), fwd_w, bwd_w)

    name = getattr(layer, "name", None) or type(layer).__name__
    return name, getattr(layer, "elementwise", True), fwd, [("layer", bwd)], weight


def _steps(x, h):
    step = h * np.maximum(1.0, np.abs(x))
    xp, xm = x + step, x - step
    return xp, xm


def gradcheck(name_or_layer, x, *, rtol=1e-5, atol=1e-7, h=1e-6, kink_tol=1e-3,
              seed=0, max_elements=400, directions=16, **params):
    """Compare a backward with central finite differences, in float64.

    name_or_layer: a registered name (``params`` are its keywords, ``axis``
    for softmax) or a layer with ``forward``/``backward`` (e.g. from
    ``fastact.nn``).  An element passes when ``|backward - fd| <= atol +
    rtol * |fd|``.  Returns a ``GradcheckResult`` (true when passed).
    """
    name, elementwise, fwd, forms, weight = _resolve(name_or_layer, params)
    with np.errstate(all="ignore"):
        return _check(name, elementwise, fwd, forms, weight, x, rtol, atol, h, kink_tol, seed,
                      max_elements, directions)


def _check(name, elementwise, fwd, forms, weight, x, rtol, atol, h, kink_tol, seed,
           max_elements, directions):
    x = np.array(x, dtype=np.float64, copy=True)
    rng = np.random.default_rng(seed)
    worst_abs = worst_rel = 0.0
    worst_x = None
    checked = skipped = 0
    passed = True

    def compare(got, fd, xs):
        nonlocal worst_abs, worst_rel, worst_x, passed
        err = np.abs(got - fd)
        if err.size == 0:
            return
        rel = err / np.maximum(np.abs(fd), atol)
        bad = err > atol + rtol * np.abs(fd)
        if bad.any() or not np.isfinite(got).all():
            passed = False
        i = int(np.argmax(err))
        if err[i] >= worst_abs:
            worst_abs = float(err[i])
            worst_x = None if xs is None else float(xs[i])
        worst_rel = max(worst_rel, float(np.max(rel)))

    if elementwise:
        xp, xm = _steps(x, h)
        f0, fp, fm = fwd(x), fwd(xp), fwd(xm)
        fd = (fp - fm) / (xp - xm)
        right, left = (fp - f0) / (xp - x), (f0 - fm) / (x - xm)
        ok = (np.isfinite(fd) & np.isfinite(f0) & np.isfinite(x)
              & (np.abs(right - left) <= kink_tol * np.maximum(1.0, np.abs(fd))))
        skipped = int(ok.size - np.count_nonzero(ok))
        checked = int(np.count_nonzero(ok))
        ones = np.ones_like(x)
        for _, bwd in forms:
            got = np.asarray(bwd(ones, x), dtype=np.float64)
            compare(got[ok], fd[ok], x[ok])
    else:
        g = rng.standard_normal(np.shape(fwd(x)))      # the output's shape (glu: shorter)

        def loss(v):
            return float(np.sum(g * fwd(v)))

        if x.size <= max_elements:
            vs = []
            for i in range(x.size):
                v = np.zeros(x.size)
                v[i] = max(1.0, abs(x.flat[i]))
                vs.append(v.reshape(x.shape))
        else:
            vs = [rng.standard_normal(x.shape) for _ in range(directions)]
        fd, keep = [], []
        l0 = loss(x)
        for v in vs:
            lp, lm = loss(x + h * v), loss(x - h * v)
            d = (lp - lm) / (2 * h)
            right, left = (lp - l0) / h, (l0 - lm) / h
            keep.append(np.isfinite(d) and abs(right - left) <= kink_tol * max(1.0, abs(d)))
            fd.append(d)
        fd, keep = np.array(fd), np.array(keep, dtype=bool)
        checked, skipped = int(keep.sum()), int((~keep).sum())
        for _, bwd in forms:
            gx = np.asarray(bwd(g, x), dtype=np.float64)
            got = np.array([np.sum(gx * v) for v in vs])
            compare(got[keep], fd[keep], None)
    if weight is not None:
        # d sum(g * f(x, w)) / dw_j by central differences in every entry of w,
        # on the finite part of x (nan/inf would make every sum non-finite).
        form, w0, fwd_w, bwd_w = weight
        xf = np.where(np.isfinite(x), x, 0.0)
        gw = rng.standard_normal(np.shape(fwd_w(xf, w0)))
        got = np.asarray(bwd_w(gw, xf), dtype=np.float64).reshape(-1)
        fd, keep = [], []
        l0 = float(np.sum(gw * fwd_w(xf, w0)))
        for j in range(w0.size):
            step = h * max(1.0, abs(float(w0.flat[j])))
            wp, wm = w0.copy(), w0.copy()
            wp.flat[j] += step
            wm.flat[j] -= step
            lp, lm = float(np.sum(gw * fwd_w(xf, wp))), float(np.sum(gw * fwd_w(xf, wm)))
            d = (lp - lm) / (2 * step)
            right, left = (lp - l0) / step, (l0 - lm) / step
            keep.append(np.isfinite(d) and abs(right - left) <= kink_tol * max(1.0, abs(d)))
            fd.append(d)
        fd, keep = np.array(fd), np.array(keep, dtype=bool)
        if got.shape != fd.shape:
            passed = False
        else:
            compare(got[keep], fd[keep], None)
        checked += int(keep.sum())
        skipped += int((~keep).sum())
        forms = list(forms) + [(form, None)]
    return GradcheckResult(name=name, passed=passed and checked > 0, max_abs_error=worst_abs,
                           max_rel_error=worst_rel, checked=checked, skipped=skipped,
                           rtol=rtol, atol=atol, worst_x=worst_x,
                           forms=tuple(f for f, _ in forms))
