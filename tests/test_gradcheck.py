"""fastact.gradcheck on every registered function and layer."""
import numpy as np
import pytest

import fastact as fa
from fastact import nn
from conftest import default_params

RECORDS = [r for r in fa.activations().values() if r.kind in ("elementwise", "softmax")]
POINTS = np.concatenate([np.linspace(-8, 8, 161), [0.0, -0.0, 1e-9, -1e-9, 30.0, -30.0,
                                                   1e3, -1e3, np.nan, np.inf, -np.inf]])


def _input(rec):
    if rec.kind == "elementwise":
        return POINTS, {}
    return np.random.default_rng(0).uniform(-5, 5, (6, 9)), {"axis": -1}


@pytest.mark.parametrize("rec", RECORDS, ids=lambda r: r.name)
def test_every_function_passes(build, rec):
    x, kw = _input(rec)
    res = fa.gradcheck(rec.name, x, **kw, **default_params(rec))
    assert res, res
    assert res.passed and res.checked > 0
    assert res.max_abs_error <= 1e-5
    want = {"x", "y"} & set(rec.backward_from)
    if rec.y_requires is not None and not eval(rec.y_requires, {}, default_params(rec)):
        want.discard("y")
    assert set(res.forms) == want


@pytest.mark.parametrize("rec", [r for r in RECORDS if r.params], ids=lambda r: r.name)
def test_other_parameters(rec):
    x, kw = _input(rec)
    for p in rec.params:
        for v in (p.default * 0.3, p.default * 2 + 0.1):
            if p.check(v) is None:
                assert fa.gradcheck(rec.name, x, **kw, **{p.name: v})


def test_softmax_along_axis_0_and_many_elements():
    if "softmax" not in fa.activations():
        pytest.skip("no softmax")
    x = np.random.default_rng(1).standard_normal((5, 4))
    assert fa.gradcheck("softmax", x, axis=0)
    big = np.random.default_rng(2).standard_normal((40, 30))
    res = fa.gradcheck("softmax", big, axis=1)          # > max_elements: random directions
    assert res and res.checked == 16


@pytest.mark.parametrize("name", sorted(n for n in nn.LAYERS if n != "prelu"))
def test_layers(name):
    layer = nn.LAYERS[name]()
    x = POINTS if layer.elementwise else np.random.default_rng(3).standard_normal((3, 8))
    res = fa.gradcheck(layer, x)
    assert res and res.forms == ("layer",)
    assert fa.gradcheck(nn.LAYERS[name](inplace=True), x)


def test_kinks_are_skipped():
    res = fa.gradcheck("relu", np.array([-1.0, 0.0, 1e-8, 2.0]))
    assert res.passed and res.skipped == 2 and res.checked == 2


def test_a_wrong_backward_fails():
    class Wrong(nn.Sigmoid):
        def backward(self, grad):
            return super().backward(grad) * 1.001

    res = fa.gradcheck(Wrong(), np.linspace(-3, 3, 31))
    assert not res
    assert 1e-4 < res.max_rel_error < 2e-3
    assert res.as_dict()["passed"] is False

    class WrongSoftmax(nn.Softmax):
        def backward(self, grad):
            return super().backward(grad)[..., ::-1]

    assert not fa.gradcheck(WrongSoftmax(), np.random.default_rng(0).standard_normal((3, 4)))


def test_errors():
    with pytest.raises(ValueError, match="unknown activation"):
        fa.gradcheck("no_such_thing", [1.0])
    with pytest.raises(TypeError, match="belong to the layer"):
        fa.gradcheck(nn.ReLU(), [1.0], alpha=1.0)
    with pytest.raises(TypeError, match="forward/backward"):
        fa.gradcheck(42, [1.0])
