"""fastact.sklearn.patch: scikit-learn's MLP with fastact activations."""
import time
import warnings

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn")

from sklearn.datasets import load_digits                      # noqa: E402
from sklearn.exceptions import ConvergenceWarning              # noqa: E402
from sklearn.model_selection import train_test_split          # noqa: E402
from sklearn.neural_network import MLPClassifier, _base       # noqa: E402

import fastact.sklearn as fsk                                  # noqa: E402


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return train_test_split(X / 16, y, test_size=0.25, random_state=0, stratify=y)


def _fit(activation, data, patched):
    Xtr, Xte, ytr, yte = data
    m = MLPClassifier(hidden_layer_sizes=(64,), activation=activation, random_state=0,
                      max_iter=25)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        t = time.perf_counter()
        if patched:
            with fsk.patch():
                m.fit(Xtr, ytr)
        else:
            m.fit(Xtr, ytr)
        t = time.perf_counter() - t
    return m, m.score(Xte, yte), t


@pytest.mark.parametrize("activation", ["logistic", "tanh", "relu"])
def test_same_model_as_stock_sklearn(digits, activation, capsys):
    stock, acc0, t0 = _fit(activation, digits, False)
    fast, acc1, t1 = _fit(activation, digits, True)
    assert acc1 == acc0
    for a, b in zip(stock.coefs_ + stock.intercepts_, fast.coefs_ + fast.intercepts_):
        np.testing.assert_allclose(b, a, rtol=1e-7, atol=1e-9)
    with capsys.disabled():
        print(f"\n  sklearn MLP {activation}: accuracy {acc0:.4f} (stock) {acc1:.4f} (fastact); "
              f"fit {t0:.3f} s stock, {t1:.3f} s fastact, ratio {t0 / t1:.2f}x")


def test_patch_replaces_and_restores():
    before_a, before_d = dict(_base.ACTIVATIONS), dict(_base.DERIVATIVES)
    with fsk.patch() as replaced:
        for name in ("logistic", "tanh", "relu", "softmax"):
            assert _base.ACTIVATIONS[name] is not before_a[name]
            assert ("ACTIVATIONS", name) in replaced
        for name in ("logistic", "tanh", "relu"):
            assert _base.DERIVATIVES[name] is not before_d[name]
        assert _base.ACTIVATIONS["identity"] is before_a["identity"]
    assert _base.ACTIVATIONS == before_a and _base.DERIVATIVES == before_d
    with pytest.raises(KeyError):
        with fsk.patch(["relu"]):
            assert _base.ACTIVATIONS["relu"] is not before_a["relu"]
            assert _base.ACTIVATIONS["tanh"] is before_a["tanh"]
            raise KeyError("boom")
    assert _base.ACTIVATIONS == before_a and _base.DERIVATIVES == before_d
    with pytest.raises(ValueError, match="no fastact replacement"):
        with fsk.patch(["identity"]):
            pass


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_inplace_contract(dtype):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20, 7)).astype(dtype)
    delta = rng.standard_normal((20, 7)).astype(dtype)
    stock_a, stock_d = dict(_base.ACTIVATIONS), dict(_base.DERIVATIVES)
    with fsk.patch():
        for name in ("logistic", "tanh", "relu", "softmax"):
            a, b = X.copy(), X.copy()
            assert _base.ACTIVATIONS[name](a) is None
            stock_a[name](b)
            np.testing.assert_allclose(a, b, rtol=5e-6 if dtype == np.float32 else 1e-14,
                                       atol=1e-7)
            if name in stock_d:
                d1, d2 = delta.copy(), delta.copy()
                _base.DERIVATIVES[name](a, d1)
                stock_d[name](b, d2)
                np.testing.assert_allclose(d1, d2, rtol=5e-6 if dtype == np.float32 else 1e-13,
                                           atol=1e-7)
        # what fastact cannot do in place goes to the original
        ints = np.arange(-3, 3)
        _base.ACTIVATIONS["relu"](ints)
        assert ints.tolist() == [0, 0, 0, 0, 1, 2]


def test_mlp_digits_example(capsys):
    import importlib.util
    import pathlib
    path = pathlib.Path(__file__).resolve().parents[1] / "examples" / "mlp_digits.py"
    if not path.exists():
        pytest.skip("examples/ not shipped here")
    spec = importlib.util.spec_from_file_location("mlp_digits", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    runs = mod.main(["--epochs", "10"])
    (lf, af, _, _), (ln, an, _, _) = runs["fastact"], runs["numpy"]
    assert af >= 0.95 and an >= 0.95
    assert np.max(np.abs(lf - ln)) < 1e-10


def test_plain_call_patches_until_undone():
    before_a, before_d = dict(_base.ACTIVATIONS), dict(_base.DERIVATIVES)
    p = fsk.patch()                       # a plain statement patches
    try:
        assert _base.ACTIVATIONS["relu"] is not before_a["relu"]
        assert _base.DERIVATIVES["tanh"] is not before_d["tanh"]
        assert p.active and "relu" in repr(p)
    finally:
        p.undo()
    assert _base.ACTIVATIONS == before_a and _base.DERIVATIVES == before_d
    assert not p.active and "undone" in repr(p)
    p.undo()                              # twice: nothing more
    assert _base.ACTIVATIONS == before_a


def test_unpatch_undoes_every_patch_in_order():
    before_a, before_d = dict(_base.ACTIVATIONS), dict(_base.DERIVATIVES)
    first = fsk.patch(["relu"])
    second = fsk.patch()
    assert _base.ACTIVATIONS["relu"] is not before_a["relu"]
    fsk.unpatch()
    assert not first.active and not second.active
    assert _base.ACTIVATIONS == before_a and _base.DERIVATIVES == before_d
    # undoing an older patch undoes the newer ones that wrap it
    first, second = fsk.patch(["relu"]), fsk.patch(["relu"])
    first.undo()
    assert not second.active and _base.ACTIVATIONS == before_a
    fsk.unpatch()                         # nothing active: nothing to do
    assert _base.ACTIVATIONS == before_a


def test_patch_as_decorator_patches_during_calls_only():
    before_a = dict(_base.ACTIVATIONS)

    @fsk.patch(["tanh"])
    def during():
        return _base.ACTIVATIONS["tanh"]

    assert _base.ACTIVATIONS == before_a
    assert during() is not before_a["tanh"]
    assert _base.ACTIVATIONS == before_a
