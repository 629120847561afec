"""fastact.nn: one layer per registry activation, generated."""
import inspect

import numpy as np
import pytest

import fastact as fa
from fastact import nn
from conftest import default_params

RECORDS = list(fa.activations().values())
LAYER_RECORDS = [r for r in RECORDS if r.name in nn.LAYERS and r.name != "prelu"]
INPLACE_RECORDS = [r for r in LAYER_RECORDS if nn.LAYERS[r.name].has_inplace]


def _required(rec):
    """The registry's example values of the required parameters (threshold's)."""
    return {p.name: p.example for p in rec.params if p.required}


def _make(rec, **kw):
    return nn.LAYERS[rec.name](**_required(rec), **kw)


def _x(rec, dtype=np.float64):
    x = np.random.default_rng(3).uniform(-4, 4, (6, 8)).astype(dtype)   # glu, maxout: even
    return x


def _kw(layer):
    return dict(layer.params, **({"axis": layer.axis} if layer.has_axis else {}))


def test_every_record_has_a_layer_or_is_listed_as_skipped():
    for rec in RECORDS:
        assert rec.name in nn.LAYERS or rec.name in nn.SKIPPED, rec.name


def test_pytorch_class_names():
    for name, cls in {"relu": "ReLU", "leaky_relu": "LeakyReLU", "elu": "ELU", "sigmoid": "Sigmoid",
                      "tanh": "Tanh", "softmax": "Softmax"}.items():
        if name in nn.LAYERS:
            assert nn.LAYERS[name].__name__ == cls
            assert getattr(nn, cls) is nn.LAYERS[name]
    assert nn.class_name("some_new_thing") == "SomeNewThing"
    assert nn.class_name("gelu") == "GELU"


@pytest.mark.parametrize("rec", LAYER_RECORDS, ids=lambda r: r.name)
def test_forward_backward_match_the_functions(rec):
    layer = _make(rec)
    x = _x(rec)
    fwd, bwd = getattr(fa, rec.name), getattr(fa, rec.name + "_backward")
    kw = _kw(layer)
    y = layer(x)
    g = np.random.default_rng(4).standard_normal(y.shape)
    np.testing.assert_array_equal(y, fwd(x, **kw))
    want = bwd(g, y=y, **kw) if layer.saves == "y" else bwd(g, x, **kw)
    np.testing.assert_array_equal(layer.backward(g), want)
    # keeps y when the record allows it (low memory), else x
    y_ok = "y" in rec.backward_from and (
        rec.y_requires is None or eval(rec.y_requires, {}, default_params(rec)))
    assert layer.saves == ("y" if y_ok else "x")
    assert layer._saved is (y if layer.saves == "y" else x)


@pytest.mark.parametrize("rec", INPLACE_RECORDS, ids=lambda r: r.name)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_inplace(rec, dtype):
    x = _x(rec, dtype)
    g = np.random.default_rng(5).standard_normal(x.shape).astype(dtype)
    ref = _make(rec)
    y_ref = ref(x.copy())
    gx_ref = ref.backward(g)
    layer = _make(rec, inplace=True)
    xin = x.copy()
    y = layer(xin)
    assert y is xin
    np.testing.assert_array_equal(y, y_ref)
    np.testing.assert_array_equal(layer.backward(g), gx_ref)
    if layer.saves == "y":
        assert layer._saved is xin                  # no copy
    else:
        np.testing.assert_array_equal(layer._saved, x)   # a copy of the input was kept


@pytest.mark.parametrize("rec", LAYER_RECORDS, ids=lambda r: r.name)
def test_backward_before_forward_and_repr(rec):
    cls = nn.LAYERS[rec.name]
    layer = _make(rec)
    with pytest.raises(RuntimeError, match="before forward"):
        layer.backward(np.ones(3))
    layer(np.ones((2, 4)))
    layer.clear()
    with pytest.raises(RuntimeError, match="before forward"):
        layer.backward(np.ones((2, 4)))
    if cls.has_inplace:
        r = repr(_make(rec, inplace=True))
        assert r.startswith(cls.__name__ + "(") and "inplace=True" in r
    else:                                   # glu, maxout: the output does not fit in x
        with pytest.raises(TypeError, match="unexpected keyword"):
            _make(rec, inplace=True)
    for name, value in rec.examples.items():
        assert f"{name}={value!r}" in repr(layer)
    sig = inspect.signature(cls)
    assert list(sig.parameters)[:len(rec.params)] == [p.name for p in rec.params]
    assert ("inplace" in sig.parameters) == cls.has_inplace
    assert [n for n, s in sig.parameters.items() if s.default is s.empty] == list(_required(rec))
    if _required(rec):
        with pytest.raises(TypeError, match="missing required"):
            cls()


@pytest.mark.parametrize("rec", [r for r in LAYER_RECORDS if r.params], ids=lambda r: r.name)
def test_params(rec):
    cls = nn.LAYERS[rec.name]
    p = rec.params[0]
    base = rec.examples[p.name]
    value = base + 1 if p.integer else (base * 0.5 if base else 0.5)
    others = {n: v for n, v in _required(rec).items() if n != p.name}
    a = cls(**{p.name: value}, **others)
    b = cls(value, *others.values())            # the required ones come first
    assert a.params[p.name] == b.params[p.name] == value
    with pytest.raises(TypeError, match="unexpected keyword"):
        cls(not_a_param=1.0, **_required(rec))
    with pytest.raises(ValueError, match=p.name):
        cls(**{p.name: 0 if p.integer else float("nan")}, **others)


@pytest.mark.parametrize("rec", [r for r in LAYER_RECORDS if r.constraints], ids=lambda r: r.name)
def test_constraints_checked_at_construction(rec):
    # every constraint so far is "a <= b": swap the examples apart
    for cond, pname, why in rec.constraints:
        a, b = [n.strip() for n in cond.split("<=")]
        with pytest.raises(ValueError, match=pname):
            nn.LAYERS[rec.name](**dict(_required(rec), **{a: 2.0, b: 1.0}))


def test_axis_x_layers():
    for cls, kw, want in ((nn.GLU, {}, lambda x: fa.glu(x, axis=0)),
                          (nn.Maxout, {"pieces": 3}, lambda x: fa.maxout(x, 3, axis=0))):
        x = np.random.default_rng(0).standard_normal((6, 5))
        layer = cls(axis=0, **kw)
        y = layer(x)
        np.testing.assert_array_equal(y, want(x))
        assert layer.saves == "x" and layer._saved is x
        g = np.ones_like(y)
        np.testing.assert_array_equal(layer.backward(g),
                                      getattr(fa, layer.name + "_backward")(g, x, axis=0, **kw))
    assert repr(nn.Maxout(2)) == "Maxout(pieces=2, axis=-1)"
    with pytest.raises(TypeError, match="int"):
        nn.Maxout(2.5)


def test_rrelu_layer_training():
    x = np.random.default_rng(0).standard_normal((5, 7))
    g = np.random.default_rng(1).standard_normal(x.shape)
    layer = nn.RReLU(0.1, 0.3, training=True, rng=42)
    y1 = layer(x)
    noise = layer.noise
    np.testing.assert_array_equal(y1, fa.rrelu(x, 0.1, 0.3, training=True, rng=42))
    np.testing.assert_array_equal(layer.backward(g),
                                  fa.rrelu_backward(g, x, noise=noise, lower=0.1, upper=0.3,
                                                    training=True))
    neg = x <= 0
    assert np.all((noise[neg] >= 0.1) & (noise[neg] <= 0.3)) and np.all(noise[~neg] == 1)
    assert not np.array_equal(layer(x), y1)          # the generator moves on
    layer.eval()
    np.testing.assert_array_equal(layer(x), fa.leaky_relu(x, 0.2))
    assert layer.noise is None
    np.testing.assert_array_equal(layer.backward(g), fa.leaky_relu_backward(g, x, negative_slope=0.2))
    # inplace in training: x is copied for the backward
    xin = x.copy()
    layer = nn.RReLU(training=True, rng=np.random.default_rng(7), inplace=True)
    y = layer(xin)
    assert y is xin
    np.testing.assert_array_equal(layer._saved, x)
    assert "training=True" in repr(layer)
    with pytest.raises(ValueError, match="rng"):
        nn.RReLU(training=True)
    with pytest.raises(ValueError, match="rng"):
        nn.RReLU().train()
    with pytest.raises(ValueError, match="lower"):
        nn.RReLU(0.5, 0.1)


def test_elu_negative_alpha_keeps_x():
    if "elu" not in nn.LAYERS:
        pytest.skip("no elu")
    assert nn.ELU().saves == "y"
    layer = nn.ELU(alpha=-0.5)
    assert layer.saves == "x"
    x = np.linspace(-3, 3, 13)
    layer(x)
    np.testing.assert_array_equal(layer.backward(np.ones_like(x)),
                                  fa.elu_backward(np.ones_like(x), x, alpha=-0.5))


def test_softmax_axis():
    if "softmax" not in nn.LAYERS:
        pytest.skip("no softmax")
    x = np.random.default_rng(0).standard_normal((4, 5))
    layer = nn.Softmax(axis=0)
    np.testing.assert_array_equal(layer(x), fa.softmax(x, axis=0))
    assert repr(layer) == "Softmax(axis=0)"


def test_inplace_needs_an_ndarray():
    with pytest.raises(TypeError, match="ndarray"):
        nn.ReLU(inplace=True)([1.0, -1.0])


def test_prelu_layer():
    assert nn.LAYERS["prelu"] is nn.PReLU
    layer = nn.PReLU(num_parameters=3, init=0.25)
    assert layer.weight.shape == (3,) and np.all(layer.weight == 0.25)
    assert repr(layer) == "PReLU(num_parameters=3)"
    x = np.random.default_rng(0).standard_normal((4, 3, 5)).astype(np.float32)
    g = np.random.default_rng(1).standard_normal(x.shape).astype(np.float32)
    with pytest.raises(RuntimeError, match="before forward"):
        layer.backward(g)
    y = layer(x)
    np.testing.assert_array_equal(y, fa.prelu(x, layer.weight))
    gx = layer.backward(g)
    want_gx, want_gw = fa.prelu_backward(g, x, layer.weight)
    np.testing.assert_array_equal(gx, want_gx)
    np.testing.assert_array_equal(layer.weight_grad, want_gw)
    w = layer.weight.reshape(1, 3, 1)
    np.testing.assert_allclose(y, np.where(x > 0, x, w * x), rtol=1e-6)
    np.testing.assert_allclose(layer.weight_grad,
                               np.where(x > 0, 0, x * g).sum(axis=(0, 2)), rtol=1e-4, atol=1e-5)
    res = fa.gradcheck(nn.PReLU(1, 0.1, dtype=np.float64), x.astype(np.float64))
    assert res and res.forms == ("layer", "layer.weight")
    assert fa.gradcheck(nn.PReLU(3, 0.1), x.astype(np.float64))
