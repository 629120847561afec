"""cross_entropy and cross_entropy_backward against torch.nn.functional.cross_entropy
in float64 (forward, and autograd for the backward): every reduction, weight,
ignore_index, label_smoothing, target kind and dtype; extreme logits, N-d
layouts, errors, threads."""
import itertools

import numpy as np
import pytest

import fastact as fa
from conftest import small_parallel_threshold, threads_exactly

torch = pytest.importorskip("torch")
F = torch.nn.functional

DTYPES = [np.float32, np.float64]
IDS = ["float32", "float64"]


def _torch(x, target, g=None, axis=-1, **kw):
    """torch's loss and dL/dx in float64 (the class axis moved to dim 1)."""
    xt = torch.from_numpy(np.moveaxis(x.astype(np.float64), axis, 1 if x.ndim > 1 else 0).copy())
    xt.requires_grad_()
    tt = torch.from_numpy(target if target.dtype.kind in "iu" else
                          np.moveaxis(target.astype(np.float64), axis, 1 if x.ndim > 1 else 0).copy())
    if tt.dtype != torch.float64:
        tt = tt.long()
    if kw.get("weight") is not None:
        kw["weight"] = torch.from_numpy(np.asarray(kw["weight"], dtype=np.float64))
    loss = F.cross_entropy(xt, tt, **kw)
    if g is not None:
        loss.backward(torch.from_numpy(np.asarray(g, dtype=np.float64)))
        gx = np.moveaxis(xt.grad.numpy(), 1 if x.ndim > 1 else 0, axis)
        return loss.detach().numpy(), gx
    return loss.detach().numpy(), None


def _close(got, want, dtype, scale=None):
    """Equal to rounding: relative 4 eps, and 4 eps of the array's largest
    magnitude for entries that cancel (softmax - target)."""
    eps = np.finfo(dtype).eps
    with np.errstate(over="ignore"):                 # beyond float32's range: inf
        want = np.asarray(want, dtype=np.float64).astype(dtype).astype(np.float64)
    if scale is None:
        scale = np.nanmax(np.abs(want)) if want.size and np.isfinite(want).any() else 0.0
    np.testing.assert_allclose(np.asarray(got, dtype=np.float64), want, rtol=4 * eps,
                               atol=4 * eps * scale, equal_nan=True)


def _case(kind, ignore_index, n=12, c=7, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal((n, c)) * 3).astype(dtype)
    if kind == "index":
        t = rng.integers(0, c, n)
        t[[1, 5]] = ignore_index
    else:
        p = rng.random((n, c))
        t = (p / p.sum(axis=1, keepdims=True)).astype(dtype)
    return x, t


# ignore_index applies to class-index targets only
COMBOS = [c for c in itertools.product(["none", "mean", "sum"], [False, True], [-100, 2],
                                       [0.0, 0.1, 1.0], ["index", "prob"])
          if not (c[4] == "prob" and c[2] != -100)]


@pytest.mark.parametrize("dtype", DTYPES, ids=IDS)
@pytest.mark.parametrize("reduction,weighted,ignore_index,smoothing,kind", COMBOS)
def test_against_torch(dtype, reduction, weighted, ignore_index, smoothing, kind):
    x, t = _case(kind, ignore_index, dtype=dtype)
    w = np.random.default_rng(1).random(x.shape[1]) + 0.1 if weighted else None
    kw = dict(weight=w, ignore_index=ignore_index, reduction=reduction, label_smoothing=smoothing)
    rng = np.random.default_rng(2)
    g = (rng.standard_normal(x.shape[0]) if reduction == "none" else np.array(1.7)).astype(dtype)
    want, want_g = _torch(x, t, g, **kw)
    got = fa.cross_entropy(x, t, **kw)
    assert np.asarray(got).dtype == dtype and np.shape(got) == want.shape
    _close(got, want, dtype)
    gx = fa.cross_entropy_backward(g, x, t, **kw)
    assert gx.dtype == dtype and gx.shape == x.shape
    _close(gx, want_g, dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=IDS)
@pytest.mark.parametrize("kind", ["index", "prob"])
@pytest.mark.parametrize("shape,axis", [((4, 6, 3, 2), 1), ((5, 3, 4), -1), ((7,), 0),
                                        ((3, 4, 6), 0)])
def test_nd_and_axis(build, nthreads, dtype, kind, shape, axis):
    rng = np.random.default_rng(7)
    x = rng.standard_normal(shape).astype(dtype) * 2
    c = shape[axis]
    batch = tuple(np.delete(shape, axis % len(shape)))
    if kind == "index":
        t = rng.integers(0, c, batch)
    else:
        p = rng.random(shape)
        t = (p / p.sum(axis=axis, keepdims=True)).astype(dtype)
    for reduction in ("none", "mean"):
        g = (rng.standard_normal(batch) if reduction == "none" else np.array(0.5)).astype(dtype)
        want, want_g = _torch(x, t, g, axis=axis, reduction=reduction, label_smoothing=0.05)
        got = fa.cross_entropy(x, t, axis, reduction=reduction, label_smoothing=0.05)
        _close(got, want, dtype)
        gx = fa.cross_entropy_backward(g, x, t, axis, reduction=reduction, label_smoothing=0.05)
        assert gx.shape == x.shape and gx.flags.c_contiguous
        _close(gx, want_g, dtype)


def test_axis_1_is_torch_layout():
    rng = np.random.default_rng(8)
    x = rng.standard_normal((3, 5, 4))
    t = rng.integers(0, 5, (3, 4))
    want = F.cross_entropy(torch.from_numpy(x), torch.from_numpy(t)).item()
    assert abs(fa.cross_entropy(x, t, axis=1) - want) <= 4e-16 * abs(want)


@pytest.mark.parametrize("dtype", DTYPES, ids=IDS)
def test_extreme_logits(dtype):
    big = float(np.finfo(dtype).max)
    x = np.array([[1e30, 0.0, -1e30], [big, -big, 0.0], [0.0, 0.0, 0.0], [-np.inf, 0.0, 1.0],
                  [5.0, -np.inf, -np.inf], [30.0, 0.0, 0.0]], dtype=dtype)
    t = np.array([0, 1, 2, 1, 0, 0])
    want, want_g = _torch(x, t, np.ones(6), reduction="none")
    got = fa.cross_entropy(x, t, reduction="none")
    gx = fa.cross_entropy_backward(np.ones(6, dtype), x, t, reduction="none")
    # row 1: the loss is 2 finfo.max, beyond the range: inf (torch: inf too)
    _close(got[:5], want[:5], dtype, scale=0)
    _close(gx[:5], want_g[:5], dtype, scale=1e-30)
    # row 5: the loss log1p(2 e^-30) and the target's gradient softmax_t - 1
    # keep their digits when softmax_t ~ 1 (torch's float64 loses 3 of them)
    assert gx[5, 0] == pytest.approx(-2 * np.exp(-30.0) / (1 + 2 * np.exp(-30.0)), rel=4 * float(np.finfo(dtype).eps))
    assert got[5] == pytest.approx(np.log1p(2 * np.exp(-30.0)), rel=4 * float(np.finfo(dtype).eps))
    # the layer's one-pass kernel (op 24): the same
    from fastact import nn
    layer = nn.CrossEntropyLoss(reduction="none")
    lg = layer(x, t)
    _close(lg[:5], want[:5], dtype, scale=0)
    assert lg[5] == pytest.approx(np.log1p(2 * np.exp(-30.0)), rel=4 * float(np.finfo(dtype).eps))
    _close(layer.backward(np.ones(6, dtype)), gx, dtype, scale=1e-30)


@pytest.mark.parametrize("dtype", DTYPES, ids=IDS)
def test_nan_inf_rows_as_torch(dtype):
    x = np.array([[np.nan, 0.0], [np.inf, 0.0], [-np.inf, -np.inf], [1.0, 2.0], [np.nan, 1.0]],
                 dtype=dtype)
    t = np.array([1, 1, 0, 0, -100])
    for reduction in ("none", "sum"):
        g = np.ones(5) if reduction == "none" else np.array(1.0)
        want, want_g = _torch(x, t, g, reduction=reduction)
        got = fa.cross_entropy(x, t, reduction=reduction)
        gx = fa.cross_entropy_backward(g.astype(dtype), x, t, reduction=reduction)
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
        np.testing.assert_array_equal(np.isnan(gx), np.isnan(want_g))
        _close(gx[3], want_g[3], dtype)


@pytest.mark.parametrize("kind", ["index", "prob"])
def test_empty_batch_and_all_ignored(kind):
    x = np.empty((0, 4))
    t = np.empty(0, np.int64) if kind == "index" else np.empty((0, 4))
    assert np.isnan(fa.cross_entropy(x, t))                          # mean of nothing, as torch
    assert fa.cross_entropy(x, t, reduction="sum") == 0.0
    assert fa.cross_entropy(x, t, reduction="none").shape == (0,)
    assert fa.cross_entropy_backward(np.array(1.0), x, t).shape == (0, 4)
    if kind == "index":
        x = np.random.default_rng(0).standard_normal((3, 4))
        t = np.full(3, -100)
        want, want_g = _torch(x, t, np.array(1.0), label_smoothing=0.2)
        assert np.isnan(want) and np.isnan(fa.cross_entropy(x, t, label_smoothing=0.2))
        np.testing.assert_array_equal(fa.cross_entropy_backward(1.0, x, t, label_smoothing=0.2),
                                      want_g)


def test_inputs_unchanged_and_out():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((5, 6)).astype(np.float32)
    t = rng.integers(0, 6, 5)
    x0, t0 = x.copy(), t.copy()
    x.flags.writeable = False
    fa.cross_entropy(x, t)
    out = np.empty_like(x)
    assert fa.cross_entropy_backward(np.float32(1.0), x, t, out=out) is out
    np.testing.assert_array_equal(out, fa.cross_entropy_backward(np.float32(1.0), x, t))
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(t, t0)
    assert isinstance(fa.cross_entropy(x, t), np.float32)
    assert fa.cross_entropy(x.astype(np.float16), t).dtype == np.float16


def test_errors():
    x = np.zeros((3, 4))
    t = np.array([0, 1, 2])
    with pytest.raises(ValueError, match=r"cross_entropy: target has class index 4, out of range"):
        fa.cross_entropy(x, np.array([0, 4, 1]))
    with pytest.raises(ValueError, match=r"cross_entropy_backward: target has class index -1"):
        fa.cross_entropy_backward(1.0, x, np.array([0, -1, 1]))
    with pytest.raises(ValueError, match="cross_entropy: target of class indices has shape"):
        fa.cross_entropy(x, np.array([0, 1]))
    with pytest.raises(ValueError, match="cross_entropy: target of class probabilities has shape"):
        fa.cross_entropy(x, np.zeros((3, 3)))
    with pytest.raises(TypeError, match="cross_entropy: target has dtype bool"):
        fa.cross_entropy(x, np.array([True, False, True]))
    with pytest.raises(ValueError, match="cross_entropy: reduction must be one of"):
        fa.cross_entropy(x, t, reduction="avg")
    with pytest.raises(ValueError, match=r"cross_entropy: label_smoothing must be a number in \[0, 1\]"):
        fa.cross_entropy(x, t, label_smoothing=1.5)
    with pytest.raises(ValueError, match="label_smoothing"):
        fa.cross_entropy(x, t, label_smoothing=-0.1)
    with pytest.raises(TypeError, match="cross_entropy: label_smoothing"):
        fa.cross_entropy(x, t, label_smoothing="0.1")
    with pytest.raises(TypeError, match="cross_entropy: ignore_index must be an int"):
        fa.cross_entropy(x, t, ignore_index=1.0)
    with pytest.raises(ValueError, match=r"cross_entropy: weight has shape \(3,\); expected \(4,\)"):
        fa.cross_entropy(x, t, weight=np.ones(3))
    with pytest.raises(ValueError, match="cross_entropy: axis 2"):
        fa.cross_entropy(x, t, axis=2)
    with pytest.raises(ValueError, match="cross_entropy: logits must have at least one dimension"):
        fa.cross_entropy(np.float64(1.0), np.int64(0))
    with pytest.raises(ValueError, match="cross_entropy: logits has no classes"):
        fa.cross_entropy(np.zeros((3, 0)), t)
    with pytest.raises(TypeError, match="cross_entropy: logits has dtype complex"):
        fa.cross_entropy(x.astype(complex), t)
    with pytest.raises(ValueError, match=r"cross_entropy_backward: grad has shape \(3,\); expected \(\)"):
        fa.cross_entropy_backward(np.ones(3), x, t)
    with pytest.raises(ValueError, match=r"cross_entropy_backward: grad has shape \(\); expected \(3,\)"):
        fa.cross_entropy_backward(1.0, x, t, reduction="none")
    with pytest.raises(ValueError, match="cross_entropy_backward: out has shape"):
        fa.cross_entropy_backward(1.0, x, t, out=np.empty((4, 3)))


@pytest.mark.parametrize("dtype", DTYPES, ids=IDS)
@pytest.mark.parametrize("kind", ["index", "prob"])
def test_threads_give_the_same_numbers(dtype, kind):
    x, t = _case(kind, -100, n=600, c=130, seed=4, dtype=dtype)
    w = np.linspace(0.5, 2.0, 130)
    kw = dict(weight=w, label_smoothing=0.1)
    with threads_exactly(1):
        f1 = fa.cross_entropy(x, t, **kw)
        r1 = fa.cross_entropy(x, t, reduction="none", **kw)
        b1 = fa.cross_entropy_backward(dtype(1.0), x, t, **kw)
    with threads_exactly(4), small_parallel_threshold():
        f4 = fa.cross_entropy(x, t, **kw)
        r4 = fa.cross_entropy(x, t, reduction="none", **kw)
        b4 = fa.cross_entropy_backward(dtype(1.0), x, t, **kw)
    assert f1 == f4
    np.testing.assert_array_equal(r1, r4)
    np.testing.assert_array_equal(b1, b4)
    # large and small: a row gives the same numbers alone
    np.testing.assert_array_equal(r1[:5], fa.cross_entropy(x[:5], t[:5], reduction="none", **kw))
    want, _ = _torch(x, t, **kw)
    _close(f4, want, dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=IDS)
@pytest.mark.parametrize("reduction,weighted,ignore_index,smoothing,kind",
                         [c for c in COMBOS if c[2] == -100 or c[1]])
def test_layer_fused_forward_backward(build, dtype, reduction, weighted, ignore_index, smoothing,
                                      kind):
    """nn.CrossEntropyLoss: the loss and the gradient from one pass (op 24)."""
    from fastact import nn
    x, t = _case(kind, ignore_index, n=9, c=6, seed=11, dtype=dtype)
    w = np.linspace(0.2, 1.5, 6) if weighted else None
    kw = dict(weight=w, ignore_index=ignore_index, reduction=reduction, label_smoothing=smoothing)
    g = (np.random.default_rng(3).standard_normal(9) if reduction == "none"
         else np.array(0.7)).astype(dtype)
    want, want_g = _torch(x, t, g, **kw)
    layer = nn.CrossEntropyLoss(**kw)
    _close(layer(x, t), want, dtype)
    gx = layer.backward(g)
    assert gx.dtype == dtype and gx.shape == x.shape
    _close(gx, want_g, dtype)


def test_layer_axis_and_errors():
    from fastact import nn
    rng = np.random.default_rng(12)
    x = rng.standard_normal((3, 5, 4))
    t = rng.integers(0, 5, (3, 4))
    want, want_g = _torch(x, t, np.array(1.0), axis=1)
    layer = nn.CrossEntropyLoss(axis=1)
    _close(layer(x, t), want, np.float64)
    _close(layer.backward(), want_g, np.float64)
    with pytest.raises(RuntimeError, match="before forward"):
        nn.CrossEntropyLoss().backward()
    with pytest.raises(ValueError, match="CrossEntropyLoss: reduction must be one of"):
        nn.CrossEntropyLoss(reduction="avg")
    with pytest.raises(ValueError, match="CrossEntropyLoss.backward: grad has shape"):
        layer.backward(np.ones(3))


@pytest.mark.parametrize("dtype", DTYPES, ids=IDS)
@pytest.mark.parametrize("reduction,weighted,ignore_index,smoothing,kind",
                         [c for c in COMBOS if c[2] == -100 or c[1]])
def test_and_derivative_is_torch_loss_and_grad(build, dtype, reduction, weighted, ignore_index,
                                               smoothing, kind):
    """cross_entropy_and_derivative: torch's loss and its gradient for an
    upstream gradient of 1 (of each row's loss for "none"), from one pass."""
    x, t = _case(kind, ignore_index, n=10, c=5, seed=13, dtype=dtype)
    w = np.linspace(0.3, 1.9, 5) if weighted else None
    kw = dict(weight=w, ignore_index=ignore_index, reduction=reduction, label_smoothing=smoothing)
    ones = np.ones(10) if reduction == "none" else np.array(1.0)
    want, want_g = _torch(x, t, ones, **kw)
    loss, d = fa.cross_entropy_and_derivative(x, t, **kw)
    assert np.asarray(loss).dtype == dtype and np.shape(loss) == want.shape
    assert d.dtype == dtype and d.shape == x.shape
    _close(loss, want, dtype)
    _close(d, want_g, dtype)


def test_and_derivative_axis_extremes_and_errors():
    rng = np.random.default_rng(14)
    x = rng.standard_normal((3, 5, 4)).astype(np.float32)
    t = rng.integers(0, 5, (3, 4))
    want, want_g = _torch(x, t, np.array(1.0), axis=1)
    loss, d = fa.cross_entropy_and_derivative(x, t, axis=1)
    _close(loss, want, np.float32)
    _close(d, want_g, np.float32)
    big = np.array([[1e30, 0.0, -1e30], [3e38, -3e38, 0.0]], dtype=np.float32)
    want, want_g = _torch(big, np.array([1, 0]), np.ones(2), reduction="none")
    loss, d = fa.cross_entropy_and_derivative(big, np.array([1, 0]), reduction="none")
    _close(loss, want, np.float32)
    _close(d, want_g, np.float32)
    with pytest.raises(ValueError, match="cross_entropy_and_derivative: target has class index 7"):
        fa.cross_entropy_and_derivative(x[:, :, 0], np.array([0, 7, 1]))
    with pytest.raises(ValueError, match="cross_entropy_and_derivative: reduction must be one of"):
        fa.cross_entropy_and_derivative(x, t, axis=1, reduction="avg")
