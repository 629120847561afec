"""fastact.nn: one layer per registry activation, generated."""
import inspect

import numpy as np
import pytest

import fastact as fa
from fastact import nn
from conftest import default_params

RECORDS = list(fa.activations().values())
LAYER_RECORDS = [r for r in RECORDS if r.name in nn.LAYERS and r.name != "prelu"]


def _x(rec, dtype=np.float64):
    x = np.random.default_rng(3).uniform(-4, 4, (6, 7)).astype(dtype)
    return x


def _kw(layer):
    return dict(layer.params, **({} if layer.elementwise else {"axis": layer.axis}))


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
    layer = nn.LAYERS[rec.name]()
    x = _x(rec)
    g = np.random.default_rng(4).standard_normal(x.shape)
    fwd, bwd = getattr(fa, rec.name), getattr(fa, rec.name + "_backward")
    kw = _kw(layer)
    y = layer(x)
    np.testing.assert_array_equal(y, fwd(x, **kw))
    want = bwd(g, y=y, **kw) if layer.saves == "y" else bwd(g, x, **kw)
    np.testing.assert_array_equal(layer.backward(g), want)
    # keeps y when the record allows it (low memory), else x
    y_ok = "y" in rec.backward_from and (
        rec.y_requires is None or eval(rec.y_requires, {}, default_params(rec)))
    assert layer.saves == ("y" if y_ok else "x")
    assert layer._saved is (y if layer.saves == "y" else x)


@pytest.mark.parametrize("rec", LAYER_RECORDS, ids=lambda r: r.name)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_inplace(rec, dtype):
    x = _x(rec, dtype)
    g = np.random.default_rng(5).standard_normal(x.shape).astype(dtype)
    ref = nn.LAYERS[rec.name]()
    y_ref = ref(x.copy())
    gx_ref = ref.backward(g)
    layer = nn.LAYERS[rec.name](inplace=True)
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
    layer = cls()
    with pytest.raises(RuntimeError, match="before forward"):
        layer.backward(np.ones(3))
    layer(np.ones((2, 3)))
    layer.clear()
    with pytest.raises(RuntimeError, match="before forward"):
        layer.backward(np.ones((2, 3)))
    r = repr(cls(inplace=True))
    assert r.startswith(cls.__name__ + "(") and "inplace=True" in r
    for p in rec.params:
        assert f"{p.name}={p.default!r}" in repr(layer)
    sig = inspect.signature(cls)
    assert list(sig.parameters)[:len(rec.params)] == [p.name for p in rec.params]
    assert "inplace" in sig.parameters


@pytest.mark.parametrize("rec", [r for r in LAYER_RECORDS if r.params], ids=lambda r: r.name)
def test_params(rec):
    cls = nn.LAYERS[rec.name]
    p = rec.params[0]
    value = p.default * 0.5 if p.default else 0.5
    a, b = cls(**{p.name: value}), cls(value)
    assert a.params[p.name] == b.params[p.name] == value
    with pytest.raises(TypeError, match="unexpected keyword"):
        cls(not_a_param=1.0)
    with pytest.raises(ValueError):
        cls(**{p.name: float("nan")})


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
    if not hasattr(fa, "prelu"):
        pytest.skip("fastact.prelu is not in this build yet")
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
    assert fa.gradcheck(nn.PReLU(1, 0.1, dtype=np.float64), x.astype(np.float64))
