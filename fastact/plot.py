"""Plots of every activation and its derivative, and the vanishing-gradient demo.

Needs matplotlib (the optional extra ``pip install fastact[plot]``); it is
imported inside the functions, so ``import fastact`` never imports it.

    >>> from fastact import plot
    >>> plot.plot_activation("elu", alpha=0.5)
    >>> plot.plot_activations().savefig("activations.png")
    >>> plot.plot_vanishing_gradient(depth=10).savefig("vanishing_gradient.png")

Every curve is computed by fastact itself: the forward function and, for the
derivative, ``fastact.derivative`` (the backward kernels, not finite
differences).  Softmax, which acts on a vector, is drawn as the probability of
the first of two logits ``[x, 0]``.
"""
from __future__ import annotations

import math

import numpy as np

__all__ = ["plot_activation", "plot_activations", "plot_vanishing_gradient", "curves"]

DEFAULT_X = (-6.0, 6.0, 1201)


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("fastact.plot needs matplotlib: pip install 'fastact[plot]'") from exc
    return plt


def _record(name):
    import fastact
    registry = fastact.activations()
    for rec in registry.values():
        if name == rec.name or name in rec.aliases:
            return rec
    valid = sorted(set(registry) | {a for r in registry.values() for a in r.aliases})
    raise ValueError(f"unknown activation {name!r}; expected one of {', '.join(valid)}")


def _grid(x):
    if x is None:
        return np.linspace(*DEFAULT_X)
    return np.asarray(x, dtype=np.float64)


def curves(name, x=None, **params):
    """(x, y, dy/dx) as plotted for activation `name`, all from fastact.

    Elementwise functions are evaluated on x; softmax on the pairs [x, 0]
    along the last axis, keeping the first component.
    """
    import fastact
    rec = _record(name)
    x = _grid(x)
    # required parameters (threshold's) not given take the registry's examples
    params = {**{p.name: p.example for p in rec.params if p.required},
              **rec.extra.get("example", {}), **params}      # prelu's weight
    forward = getattr(fastact, rec.name)
    if rec.kind == "softmax":
        pairs = np.stack([x, np.zeros_like(x)], axis=-1)
        y = forward(pairs, axis=-1, **params)[..., 0]
        d = fastact.derivative(rec.name, pairs, axis=-1, **params)[..., 0]
    elif rec.name == "glu" or "gate" in rec.extra:
        # glu([x, x]) = x sigmoid(x) (swiglu([x, x]) = silu(x) x, ...), and its
        # total derivative (both halves)
        pairs = np.stack([x, x], axis=-1)
        y = forward(pairs, axis=-1, **params)[..., 0]
        d = getattr(fastact, rec.name + "_backward")(np.ones_like(y)[..., None], pairs, axis=-1,
                                                     **params).sum(axis=-1)
    elif rec.name == "maxout":
        # maxout([x, 0], pieces=2) = max(x, 0); d/dx from the backward
        pairs = np.stack([x, np.zeros_like(x)], axis=-1)
        y = forward(pairs, axis=-1, **params)[..., 0]
        d = getattr(fastact, "maxout_backward")(np.ones_like(y)[..., None], pairs, axis=-1,
                                                 **params)[..., 0]
    else:
        y = forward(x, **params)
        d = fastact.derivative(rec.name, x, **params)
    return x, y, d


def title(name, **params):
    """The axes title: the name and every parameter's value (defaults filled in)."""
    rec = _record(name)
    values = {**rec.examples, **rec.extra.get("example", {}), **params}
    if rec.kind == "softmax":
        return f"{rec.name}([x, 0])[0]"
    if rec.name == "glu" or "gate" in rec.extra:
        return f"{rec.name}([x, x])"
    if rec.name == "maxout":
        return f"maxout([x, 0], pieces={values['pieces']:g})"
    args = ", ".join(f"{k}={v:g}" for k, v in values.items())
    return f"{rec.name}(x, {args})" if args else f"{rec.name}(x)"


def plot_activation(name, ax=None, *, x=None, derivative=True, **params):
    """Draw activation `name` and (if `derivative`) its derivative on `ax`.

    The derivative comes from fastact's backward (``fastact.derivative``).
    Spines cross at the origin; the title lists the parameters.  Returns ax.
    """
    plt = _pyplot()
    if ax is None:
        ax = plt.figure(figsize=(5, 3.8), layout="constrained").add_subplot()
    rec = _record(name)
    x, y, d = _draw(ax, rec, x, derivative, params)
    lo = min(0.0, float(np.nanmin(y)), float(np.nanmin(d)) if derivative else 0.0)
    hi = max(0.0, float(np.nanmax(y)), float(np.nanmax(d)) if derivative else 0.0)
    pad = 0.08 * (hi - lo or 1.0)
    ax.set_ylim(lo - pad, hi + pad + 0.25 * (hi - lo or 1.0))   # headroom for the legend
    for side in ("left", "bottom"):
        ax.spines[side].set_position("zero")
        ax.spines[side].set_color("0.35")
    for side in ("right", "top"):
        ax.spines[side].set_visible(False)
    ax.tick_params(labelsize=9, colors="0.3")
    ax.legend(loc="upper left", fontsize=9, frameon=True, framealpha=0.9)
    from matplotlib import patheffects
    ax.set_axisbelow(False)      # tick labels above the curves, with a white halo to stay readable
    halo = [patheffects.withStroke(linewidth=3, foreground="white")]
    for label in ax.get_xticklabels() + ax.get_yticklabels():
        label.set_path_effects(halo)
    return ax


def _draw(ax, rec, x, derivative, params):
    """The curves and the title of one activation on ax; returns (x, y, d)."""
    x, y, d = curves(rec.name, x, **params)
    ax.plot(x, y, color="C0", lw=2.2, label="f(x)", gid=f"{rec.name}:forward")
    if derivative:
        ax.plot(x, d, color="C3", lw=1.8, ls="--", label="f\u2032(x)  (backward)",
                gid=f"{rec.name}:derivative")
    ax.set_title(title(rec.name, **params), fontsize=12, pad=10)
    ax.set_xlim(x.min(), x.max())
    return x, y, d


# The grid's y limits come from the curves where |x| <= SHAPE_X, the region
# where the functions differ; beyond it they grow like x or saturate, and the
# curves may leave the panel (as in a textbook figure), so that the dips of
# gelu, silu and mish near -1 are not flattened by a range set by x = 6.
SHAPE_X = 2.5
GRID_X = (-4.0, 4.0, 801)


def panel_ylim(x, *values):
    """(lo, hi) for a grid panel: the values' range over |x| <= SHAPE_X, zero
    included, at least 1 tall, padded by 10%."""
    near = np.abs(x) <= SHAPE_X
    if not near.any():
        near = np.ones_like(x, bool)
    v = np.concatenate([np.asarray(a)[near] for a in values])
    v = v[np.isfinite(v)]
    lo, hi = min(0.0, float(v.min(initial=0.0))), max(0.0, float(v.max(initial=0.0)))
    if hi - lo < 1.0:                   # at least a unit tall, grown on the open side
        if hi <= 0:
            lo = hi - 1.0
        else:
            hi = lo + 1.0
    pad = 0.1 * (hi - lo)
    return lo - pad, hi + pad


def _grid_style(ax, x, y, d):
    """A grid panel: the frame's spines (tick labels outside, never on the
    curves), thin zero lines through the origin, per-panel y limits."""
    ax.set_ylim(*panel_ylim(x, y, *([d] if d is not None else [])))
    for side in ("right", "top"):
        ax.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_color("0.35")
    lo, hi = ax.get_ylim()
    # zero lines as collections (not Line2D): ax.get_lines() holds the curves only
    ax.hlines(0.0, x.min(), x.max(), colors="0.6", lw=0.8, zorder=0.5)
    if x.min() < 0 < x.max():
        ax.vlines(0.0, lo, hi, colors="0.6", lw=0.8, zorder=0.5)
    ax.tick_params(labelsize=9, colors="0.3")
    ax.grid(True, color="0.93", lw=0.6)
    ax.set_axisbelow(True)


def plot_activations(names=None, *, x=None, derivative=True, ncols=5):
    """A grid with one panel per activation (all registered ones by default),
    one legend for the figure.  x defaults to [-4, 4]; each panel's y limits
    are its own (panel_ylim).  Returns the figure.
    """
    import fastact
    plt = _pyplot()
    names = list(fastact.activations()) if names is None else [_record(n).name for n in names]
    if not names:
        raise ValueError("plot_activations: no activation names given")
    x = np.linspace(*GRID_X) if x is None else _grid(x)
    ncols = max(1, min(ncols, len(names)))
    nrows = math.ceil(len(names) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.6 * ncols, 2.9 * nrows),
                             layout="constrained", squeeze=False)
    flat = axes.ravel()
    for ax, name in zip(flat, names):
        _, y, d = _draw(ax, _record(name), x, derivative, {})
        ax.title.set_fontsize(10.5)
        _grid_style(ax, x, y, d if derivative else None)
    for ax in flat[len(names):]:
        fig.delaxes(ax)
    handles, labels = flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=len(handles), fontsize=12,
               frameon=False)
    what = "and their derivatives (dashed, from the backward kernels)" if derivative else ""
    fig.suptitle(f"fastact activations {what}".strip(), fontsize=14)
    return fig


def max_gradient(name, x=None, **params):
    """max |f'(x)| over a grid (default [-10, 10], 0 included), from fastact.derivative.

    The most a layer with this activation can multiply a gradient by.
    """
    if x is None:
        x = np.concatenate([np.linspace(-10.0, 10.0, 20001), [0.0]])
    _, _, d = curves(name, x, **params)
    return float(np.nanmax(np.abs(d)))


def plot_vanishing_gradient(depth=10, names=("sigmoid", "tanh", "relu", "elu"), ax=None, *, x=None):
    """The largest gradient that can reach each layer of a depth-`depth` chain.

    Backpropagating through k activations multiplies the gradient by at most
    ``max|f'|**k`` (weights aside); ``max|f'|`` is measured with fastact.derivative on
    a grid.  Log scale, with 0.25**depth (sigmoid's bound) marked.  Returns the figure.
    """
    plt = _pyplot()
    if depth < 1:
        raise ValueError(f"plot_vanishing_gradient: depth must be >= 1, got {depth}")
    if ax is None:
        fig, ax = plt.subplots(figsize=(9, 6.2), layout="constrained")
    else:
        fig = ax.figure
    k = np.arange(depth + 1)
    markers = "osD^vph*"
    styles = ["-", "--", "-.", ":"]
    for i, name in enumerate(names):
        rec = _record(name)
        f = max_gradient(rec.name, x)
        # hollow markers shrinking with i, so functions with equal factors stay visible
        ax.plot(k, f ** k.astype(float), marker=markers[i % len(markers)], ls=styles[i % len(styles)],
                lw=2, ms=max(4.0, 13 - 3 * i), mfc="white" if i else f"C{i}", mew=2,
                color=f"C{i}", zorder=2 + i,
                label=f"{rec.name}:  max|f\u2032| = {f:.4g},  gradient \u2264 {f:.4g}$^k$",
                gid=f"chain:{rec.name}")
    bound = 0.25 ** depth
    ax.axhline(bound, color="0.3", lw=1.2, ls=":", zorder=1, gid="bound")
    ax.annotate(f"$0.25^{{{depth}}}$ = 1/{4 ** depth} \u2248 {bound:.3g}", xy=(0, bound),
                xytext=(4, -6), textcoords="offset points", ha="left", va="top",
                fontsize=12, color="0.15", gid="bound-label")
    ax.set_yscale("log")
    ax.set_ylim(bound / 30, 5)
    ax.set_xlim(-0.3, depth + 0.3)
    ax.set_xticks(k if depth <= 20 else np.linspace(0, depth, 11).round().astype(int))
    ax.tick_params(labelsize=11)
    ax.set_xlabel("k = activation layers the gradient has passed through (from the output)", fontsize=12)
    ax.set_ylabel("largest gradient factor  max|f\u2032|$^k$", fontsize=12)
    ax.set_title(f"Vanishing gradient through a chain of {depth} activations\n"
                 "(bound from the activations alone; max|f\u2032| measured with fastact.derivative)",
                 fontsize=13)
    ax.grid(True, which="major", color="0.88")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncols=2, fontsize=11, frameon=False)
    return fig
