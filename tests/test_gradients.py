"""Backward against float64 central finite differences of the forward."""
import numpy as np
import pytest

import fastact as fa
from conftest import ELEMENTWISE, default_params, fn


@pytest.mark.parametrize("rec", ELEMENTWISE, ids=lambda r: r.name)
def test_backward_matches_finite_differences(build, rec):
    x = np.random.default_rng(7).uniform(-8, 8, 2000)
    x = x[np.abs(x) > 1e-3]                       # keep away from the kinks at 0
    g = np.random.default_rng(8).standard_normal(x.size)
    fwd, bwd = fn(rec.name), fn(rec.name + "_backward")
    h = 1e-6 * np.maximum(1.0, np.abs(x))
    fd = g * (fwd(x + h) - fwd(x - h)) / (2 * h)
    got = bwd(g, x) if "x" in rec.backward_from else bwd(g, y=fwd(x))
    np.testing.assert_allclose(got, fd, rtol=2e-6, atol=1e-9)
    if "y" in rec.backward_from and "x" in rec.backward_from:
        np.testing.assert_allclose(bwd(g, y=fwd(x)), got, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("rec", ELEMENTWISE, ids=lambda r: r.name)
def test_derivative_helper(rec):
    x = np.linspace(-4, 4, 33)
    d = fa.derivative(rec.name, x)
    np.testing.assert_array_equal(d, fn(rec.name + "_backward")(np.ones_like(x), x))
    assert fa.derivative(rec.name, np.float32(0.5)).dtype == np.float32


def test_derivative_unknown_name():
    with pytest.raises(ValueError, match="unknown activation 'sigmoidd'"):
        fa.derivative("sigmoidd", 1.0)
