"""fastact.gradcheck on every registered function and layer."""
import numpy as np
import pytest

import fastact as fa
from fastact import nn
from conftest import default_params

RECORDS = list(fa.activations().values())
POINTS = np.concatenate([np.linspace(-8, 8, 161), [0.0, -0.0, 1e-9, -1e-9, 30.0, -30.0,
                                                   1e3, -1e3, np.nan, np.inf, -np.inf]])


def _input(rec):
    """x and the keywords beyond the parameters, per kind."""
    if rec.kind in ("elementwise", "rrelu"):
        return POINTS, {}
    if rec.kind == "prelu":
        return np.random.default_rng(0).uniform(-5, 5, (4, 3, 5)), {"weight": [0.1, -0.2, 0.3]}
    # softmax, axis_x: 12 is even (glu) and divisible by maxout's pieces 2, 3, 4, 6
    return np.random.default_rng(0).uniform(-5, 5, (6, 12)), {"axis": -1}


def _expected_forms(rec, params):
    want = {"x", "y"} & set(rec.backward_from)
    if rec.y_requires is not None and not eval(rec.y_requires, {}, params):
        want.discard("y")
    return want | ({"weight"} if rec.kind == "prelu" else set())


@pytest.mark.parametrize("rec", RECORDS, ids=lambda r: r.name)
def test_every_function_passes(build, rec):
    x, kw = _input(rec)
    res = fa.gradcheck(rec.name, x, **kw, **default_params(rec))
    assert res, res
    assert res.passed and res.checked > 0
    assert res.max_abs_error <= 1e-5
    assert set(res.forms) == _expected_forms(rec, default_params(rec))


@pytest.mark.parametrize("rec", [r for r in RECORDS if r.params], ids=lambda r: r.name)
def test_other_parameters(rec):
    x, kw = _input(rec)
    base = default_params(rec)
    tried = 0
    for p in rec.params:
        b = base[p.name]
        for v in ((b + 1, b * 2) if p.integer else (b * 0.3, b * 2 + 0.1)):
            params = dict(base, **{p.name: v})
            if p.check(v) is None and all(eval(c, {}, params) for c, _, _ in rec.constraints):
                assert fa.gradcheck(rec.name, x, **kw, **params), (p.name, v)
                tried += 1
    assert tried


def test_rrelu_training_with_fixed_noise():
    res = fa.gradcheck("rrelu", POINTS, training=True, rng=5)
    assert res and res.forms == ("x",) and res.checked > 100
    gen = np.random.default_rng(9)
    state = gen.bit_generator.state
    assert fa.gradcheck("rrelu", POINTS, lower=0.0, upper=0.9, training=True, rng=gen)
    assert gen.bit_generator.state == state               # copied, not advanced
    with pytest.raises(ValueError, match="rng"):
        fa.gradcheck("rrelu", POINTS, training=True)
    assert fa.gradcheck(nn.RReLU(training=True, rng=3), POINTS)


def test_a_wrong_weight_gradient_fails():
    class Wrong(nn.PReLU):
        def backward(self, grad):
            gx = super().backward(grad)
            self.weight_grad = self.weight_grad * 1.01
            return gx

    x = np.random.default_rng(0).standard_normal((4, 3, 5))
    res = fa.gradcheck(Wrong(3, 0.2, dtype=np.float64), x)
    assert not res and res.forms == ("layer", "layer.weight")


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
    cls = nn.LAYERS[name]
    required = {p.name: p.example for p in cls.record.params if p.required}
    layer = cls(**required)
    x = POINTS if layer.elementwise else np.random.default_rng(3).standard_normal((3, 8))
    res = fa.gradcheck(layer, x)
    assert res and res.forms == ("layer",)
    if cls.has_inplace:
        assert fa.gradcheck(cls(inplace=True, **required), x)


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
