"""The seed figures of docs/semantics.md: the accurate values, not the tutorials' float32 errors."""
import numpy as np

import fastact as fa

SIGMOID_GRID = [4.5397868e-05, 4.1876672e-04, 3.8510333e-03, 3.4445200e-02, 2.4766380e-01,
                7.5233620e-01, 9.6555477e-01, 9.9614894e-01, 9.9958122e-01, 9.9995458e-01]
SIGMOID_GRAD_GRID = [4.5395809e-05, 4.1859137e-04, 3.8362027e-03, 3.3258725e-02, 1.8632644e-01]


def _ulps(got, want):
    got = np.asarray(got, np.float32)
    want = np.asarray(want, np.float32)
    return np.abs(got.astype(np.float64) - want) / np.spacing(want)


def test_sigmoid_of_one_float64():
    assert fa.sigmoid(1.0) == 0.7310585786300049
    assert fa.sigmoid(np.float64(1.0)) == 0.7310585786300049


def test_sigmoid_grid_float32(build):
    x = np.linspace(-10, 10, 10, dtype=np.float32)
    assert _ulps(fa.sigmoid(x), SIGMOID_GRID).max() <= 1


def test_sigmoid_gradient_grid_float32(build):
    x = np.linspace(-10, 10, 10, dtype=np.float32)
    g = fa.sigmoid_backward(np.ones_like(x), x)
    want = SIGMOID_GRAD_GRID + SIGMOID_GRAD_GRID[::-1]
    assert _ulps(g, want).max() <= 1
    # not the tutorial's 4.5416677e-05 (computed from y, where 1 - y cancels)
    assert abs(g[-1] - np.float32(4.5416677e-05)) > 1e-9


def test_sigmoid_derivative_bound_and_vanishing_gradient():
    x = np.linspace(-20, 20, 100001)
    d = fa.derivative("sigmoid", x)
    assert d.max() == 0.25
    assert 0.25 ** 10 == 1 / 1048576
