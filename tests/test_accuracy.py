"""Accuracy against mpmath: at most 4 ULP over the whole finite range.

Forward and backward from x are measured against the exact function and its
exact derivative; backward from y against its formula evaluated exactly on
the given y (docs/semantics.md explains why).  Every CPU build is tested.
"""
import functools
import math

import mpmath as mp
import numpy as np
import pytest

import fastact as fa
from conftest import ELEMENTWISE, default_params, fn
from reference import REF, SPECIAL, sample, ulp_errors

ULP_BUDGET = 4
DTYPES = [np.float32, np.float64]
NAMES = [a.name for a in ELEMENTWISE]


def _params(name, dtype):
    """The defaults, rounded to the array's precision as the kernels use them."""
    rec = fa.activations()[name]
    return {k: mp.mpf(float(np.array(v, dtype=dtype))) for k, v in default_params(rec).items()}


@functools.lru_cache(maxsize=None)
def _exact(name, dtype, what):
    x = sample(dtype)
    p = _params(name, dtype)
    fn = REF[name][what]
    return x, [fn(mp.mpf(float(v)), p) for v in x]


def test_every_elementwise_function_has_a_reference():
    assert sorted(REF) == sorted(NAMES)
    assert sorted(SPECIAL) == sorted(NAMES)


def _report(err, x):
    worst = int(np.argmax(err))
    return f"max {err[worst]:.2f} ULP at x = {x[worst]!r}"


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("name", NAMES)
def test_forward_ulp(build, name, dtype):
    x, exact = _exact(name, dtype, "f")
    got = fn(name)(x)
    err = ulp_errors(got, exact, dtype)
    assert err.max() <= ULP_BUDGET, _report(err, x)


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("name", NAMES)
def test_backward_from_x_ulp(build, name, dtype):
    x, exact = _exact(name, dtype, "d")
    got = fn(name + "_backward")(np.ones_like(x), x)
    err = ulp_errors(got, exact, dtype)
    assert err.max() <= ULP_BUDGET, _report(err, x)


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("name", [n for n in NAMES if "y" in fa.activations()[n].backward_from])
def test_backward_from_y_ulp(build, name, dtype):
    x = sample(dtype)
    y = fn(name)(x)
    p = _params(name, dtype)
    exact = [REF[name]["dy"](mp.mpf(float(v)), p) for v in y]
    got = fn(name + "_backward")(np.ones_like(y), y=y)
    err = ulp_errors(got, exact, dtype)
    assert err.max() <= ULP_BUDGET, _report(err, y)


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("name", NAMES)
def test_backward_scales_grad(build, name, dtype):
    """grad * f'(x) with a random grad, one more rounding at most."""
    x, exact = _exact(name, dtype, "d")
    g = np.random.default_rng(5).uniform(-3, 3, x.size).astype(dtype)
    got = fn(name + "_backward")(g, x)
    err = ulp_errors(got, [mp.mpf(float(gi)) * e for gi, e in zip(g, exact)], dtype)
    assert err.max() <= ULP_BUDGET + 0.5, _report(err, x)


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("name", NAMES)
def test_special_values(build, name, dtype):
    rows = SPECIAL[name]
    x = np.array([r[0] for r in rows], dtype=dtype)
    want_f = np.array([r[1] for r in rows], dtype=dtype)
    want_d = np.array([r[2] for r in rows], dtype=dtype)
    f = fn(name)(x)
    d = fn(name + "_backward")(np.ones_like(x), x)
    np.testing.assert_array_equal(f, want_f)
    zeros = want_f == 0
    np.testing.assert_array_equal(np.signbit(f[zeros]), np.signbit(want_f[zeros]), err_msg="sign of zero")
    np.testing.assert_allclose(d, want_d, rtol=2 * np.finfo(dtype).eps, atol=0)


def test_no_floating_point_warnings():
    """sigmoid of hugely negative inputs must not overflow internally."""
    x = np.array([-1e30, -1000.0, -89.0, 1e30, np.inf, -np.inf])
    with np.errstate(all="raise"):
        for rec in ELEMENTWISE:
            fn(rec.name)(x)
            fn(rec.name)(x.astype(np.float32))
            fn(rec.name + "_backward")(np.ones_like(x), x)


def test_subnormal_tail_is_kept():
    x = np.array([-100.0, -103.0], dtype=np.float32)
    got = fa.sigmoid(x)
    exact = [1 / (1 + mp.exp(-mp.mpf(float(v)))) for v in x]
    assert got[0] > 0 and got[1] > 0
    assert ulp_errors(got, exact, np.float32).max() <= 1
    assert fa.sigmoid(np.float64(-740.0)) > 0
