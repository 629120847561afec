"""fastact.nn.Linear (a dense layer and an elementwise activation, the bias
fused into the activation's pass that also keeps the derivative) against
torch.nn.Linear + the activation in float64, and finite differences."""
import numpy as np
import pytest

import fastact as fa
from fastact import nn

torch = pytest.importorskip("torch")
F = torch.nn.functional

ACTS = {"gelu": lambda t: F.gelu(t), "silu": F.silu, "mish": F.mish, "tanh": torch.tanh,
        "relu": F.relu, None: lambda t: t}


@pytest.mark.parametrize("act", list(ACTS), ids=str)
@pytest.mark.parametrize("batch", [(7,), (2, 3)])
def test_against_torch(act, batch):
    layer = nn.Linear(5, 4, act, rng=0, dtype=np.float64)
    rng = np.random.default_rng(1)
    x = rng.standard_normal(batch + (5,))
    g = rng.standard_normal(batch + (4,))
    lin = torch.nn.Linear(5, 4, dtype=torch.float64)
    with torch.no_grad():
        lin.weight.copy_(torch.from_numpy(layer.weight))
        lin.bias.copy_(torch.from_numpy(layer.bias))
    xt = torch.tensor(x, requires_grad=True)
    yt = ACTS[act](lin(xt))
    yt.backward(torch.from_numpy(g))
    y = layer(x)
    gx = layer.backward(g)
    tol = dict(rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(y, yt.detach().numpy(), **tol)
    np.testing.assert_allclose(gx, xt.grad.numpy(), **tol)
    np.testing.assert_allclose(layer.weight_grad, lin.weight.grad.numpy(), **tol)
    np.testing.assert_allclose(layer.bias_grad, lin.bias.grad.numpy(), **tol)


def test_finite_differences_and_options():
    layer = nn.Linear(6, 3, "leaky_relu", rng=np.random.default_rng(2), dtype=np.float64,
                      negative_slope=0.1)
    assert fa.gradcheck(layer, np.random.default_rng(3).standard_normal((4, 6)))
    assert "negative_slope=0.1" in repr(layer)
    nb = nn.Linear(3, 2, "gelu", bias=False, rng=0, approximate="tanh")
    assert nb.bias is None and nb.weight.dtype == np.float32
    y = nb(np.ones((2, 3), np.float32))
    np.testing.assert_array_equal(y, fa.gelu(np.ones((2, 3), np.float32) @ nb.weight.T,
                                             approximate="tanh"))
    nb.backward(np.ones((2, 2), np.float32))
    assert nb.bias_grad is None and nb.weight_grad.shape == (2, 3)
    with pytest.raises(ValueError, match="Linear: activation must be the name of an elementwise"):
        nn.Linear(3, 2, "softmax")
    with pytest.raises(ValueError, match="gelu_and_derivative: approximate must be one of"):
        nn.Linear(3, 2, "gelu", approximate="erf")
    with pytest.raises(RuntimeError, match="before forward"):
        nn.Linear(3, 2, "gelu").backward(np.ones((1, 2)))
