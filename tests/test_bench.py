"""The benchmark's cases (fastact._bench, used by `python -m fastact bench` and
benchmarks/): every registry record and variant is covered, the NumPy
expressions agree with fastact, the PyTorch calls run and agree with fastact,
and the command line's --only / --json include every row.
"""
import argparse
import json

import numpy as np
import pytest

import fastact as fa
from fastact import _bench
from fastact._baseline import NUMPY

SIZE = 4096
CASES = _bench.cases(size=SIZE)
IDS = [c.group for c in CASES]


def _dirs(rec, params):
    dirs = {"forward"} | {d for d in ("x", "y") if d in rec.backward_from}
    if "y" in dirs and not rec.y_allowed(params):
        dirs.discard("y")
    return dirs


def test_every_record_and_variant_is_a_case():
    by_label = {}
    for c in CASES:
        by_label.setdefault(c.label, set()).add((c.direction, c.dtype))
    for name, rec in fa.activations().items():
        assert name in by_label, f"{name} is not benchmarked"
        want = {(d, dt) for d in _dirs(rec, rec.examples) for dt in ("float32", "float64")}
        assert by_label[name] == want, name
        if rec.variants:
            for value, _ in rec.variants[1][1:]:
                assert f"{name}[{value}]" in by_label
    assert "gelu[tanh]" in by_label and "rrelu[train]" in by_label
    assert _bench.labels() == list(dict.fromkeys(c.label for c in CASES))


def test_parameters_from_the_registry():
    by = {c.group: c for c in CASES}
    assert by["threshold-forward-float32"].params == {"threshold": 1.0, "value": 0.0}
    assert by["maxout-x-float64"].params == {"pieces": 2, "axis": -1}
    assert by["gelu[tanh]-x-float32"].params == {"approximate": "tanh"}
    assert by["rrelu[train]-forward-float32"].params["training"] is True
    assert "training" not in by["rrelu-forward-float32"].params


def test_shapes():
    by = {c.group: c for c in CASES}
    glu, glu_b = by["glu-forward-float32"], by["glu-x-float32"]
    assert glu.shape == (SIZE // 1024, 1024) and glu.out_shape == (SIZE // 1024, 512)
    assert glu.result_shape == glu.out_shape and glu_b.result_shape == glu_b.shape
    a, g = glu_b.inputs()
    assert a.shape == glu_b.shape and g.shape == glu_b.out_shape
    for size in (1, 7, 1001):                 # any --size gives glu/maxout an even row
        assert [c.shape[-1] % 2 for c in _bench.cases(["glu", "maxout"], size=size)] == [0] * 8
    mo = by["maxout-forward-float64"]
    assert mo.out_shape == (SIZE // 1024, 1024 // 2)
    pr = by["prelu-x-float32"]
    n, c, length = pr.shape
    assert n * c * length == SIZE and c > 1
    assert pr.call_params(pr.inputs()[0])["weight"].shape == (c,)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_numpy_expression_agrees(case):
    assert case.key in NUMPY and case.direction in NUMPY[case.key], case.group
    a, g = case.inputs()
    assert _bench._check_close(case, a, g) is None


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_callables_run(case):
    a, g = case.inputs()
    impls = case.callables(a, g, torch_enabled=False)
    assert {"numpy", "fastact", "fastact_out", "fastact_mt"} <= set(impls)
    for name in ("fastact", "fastact_out"):
        r = impls[name][0]()
        first = r[0] if isinstance(r, tuple) else r
        assert first.shape == case.result_shape and first.dtype == a.dtype


def test_table_keys_are_labels():
    known = set(_bench.labels())
    for label, direction in list(_bench.PARITY_ROWS) + list(_bench.TORCH_NOTES):
        assert label in known and direction in _bench.DIRECTIONS, (label, direction)
    for label in NUMPY:
        assert label in known, label


# the rows torch is timed on (none without torch), but rrelu[train]'s forward:
# its slopes are random (checked by bounds below)
_TORCH_TABLE = _bench.get_torch()[1]
torch_cases = [c for c in CASES if c.direction in _TORCH_TABLE.get(c.key, {})
               and not (c.label == "rrelu[train]" and c.direction == "forward")]


@pytest.mark.parametrize("case", torch_cases, ids=[c.group for c in torch_cases])
def test_torch_agrees(case):
    import torch
    a, g = case.inputs()
    t = case.callables(a, g)["torch"][0]()
    f = case.fastact_call(a, g)
    ts = t if isinstance(t, tuple) else (t,)
    fs = f if isinstance(f, tuple) else (f,)
    assert len(ts) == len(fs)
    # float64: 1e-7, since PyTorch's hardsigmoid backward multiplies by the
    # float32-rounded 1/6 (registry note)
    rtol = 2e-5 if case.dtype == "float32" else 1e-7
    for tt, ff in zip(ts, fs):
        assert isinstance(tt, torch.Tensor)
        np.testing.assert_allclose(tt.numpy(), ff, rtol=rtol, atol=rtol)


def test_torch_rrelu_training_forward_runs():
    pytest.importorskip("torch")
    case = next(c for c in CASES if c.group == "rrelu[train]-forward-float32")
    a, g = case.inputs()
    t = case.callables(a, g)["torch"][0]().numpy()
    assert t.shape == a.shape
    np.testing.assert_array_equal(t[a > 0], a[a > 0])
    neg = a < 0
    assert np.all((t[neg] <= a[neg] * case.params["lower"]) & (t[neg] >= a[neg] * case.params["upper"]))


def test_only_selects_names_and_labels():
    labels = lambda names: {c.label for c in _bench.cases(names, size=SIZE)}
    assert labels(["gelu"]) == {"gelu", "gelu[tanh]"}
    assert labels(["gelu[tanh]"]) == {"gelu[tanh]"}
    assert labels(["rrelu[train]", "glu"]) == {"rrelu[train]", "glu"}
    with pytest.raises(ValueError, match="gelu\\[erf\\]"):
        _bench.cases(["gelu[erf]"])


def _args(**kw):
    base = dict(only=None, dtype=["float32"], size=2048, no_torch=True, no_others=True, markdown=False,
                json=None)
    base.update(kw)
    return argparse.Namespace(**base)


def test_run_json_and_verdicts(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(_bench.timing, "_ROUNDS", 2)
    monkeypatch.setattr(_bench.timing, "_SAMPLE_S", 1e-4)
    out = tmp_path / "b.json"
    rc = _bench.run(_args(only=["gelu[tanh]", "prelu", "relu6", "threshold", "maxout"],
                          json=str(out)))
    assert rc == 0
    text = capsys.readouterr().out
    res = json.loads(out.read_text())
    got = {(r["name"], r["direction"]) for r in res["rows"]}
    assert got == {("gelu[tanh]", "forward"), ("gelu[tanh]", "x"), ("prelu", "forward"),
                   ("prelu", "x"), ("prelu[dense]", "forward"), ("prelu[dense]", "x"),
                   ("relu6", "forward"), ("relu6", "x"),
                   ("threshold", "forward"), ("threshold", "x"), ("maxout", "forward"),
                   ("maxout", "x")}
    assert not res["skipped"]
    assert all(r["mismatch"] is None for r in res["rows"])
    assert next(r for r in res["rows"] if r["name"] == "gelu[tanh]")["function"] == "gelu"
    assert any("never slower than np.clip" in v and "relu6 fwd" in v for v in res["verdicts"])
    # 12 rows, relu6 forward judged by parity instead
    assert any("vs NumPy" in v and "/11 rows" in v for v in res["verdicts"])
    assert "gelu[tanh]" in text and "threshold" in text


def test_run_rejects_unknown(capsys):
    assert _bench.run(_args(only=["nope"])) == 2
    assert "unknown activation" in capsys.readouterr().err


def test_torch_table_covers_what_torch_has():
    pytest.importorskip("torch")
    # PyTorch has no maxout and no squareplus (the functions tests/reference.py gives a
    # torch stand-in); every other row has at least its forward
    from reference import TORCH_STANDIN
    keys = {c.key for c in CASES}
    assert keys - set(_TORCH_TABLE) == set(TORCH_STANDIN)
    assert {"maxout", "squareplus"} <= set(TORCH_STANDIN)
    assert set(_TORCH_TABLE) <= keys


# ---- the optional numexpr / numba / jax columns (skipped when not installed) ----

from fastact._bench import others  # noqa: E402


def _case(group):
    return next(c for c in CASES if c.group == group)


# jax starts threads of its own at import, and a process that has imported it
# must not fork (tests/test_thread_policy.py forks): jax is checked in a child
# process, numexpr and numba in this one.
_GROUPS = ["sigmoid-forward-float64", "sigmoid-x-float32", "elu-y-float64",
           "leaky_relu-forward-float32", "gelu[tanh]-x-float64"]
_IN_PROCESS = [k for k in others.OTHERS if k != "jax"]


@pytest.mark.parametrize("impl", _IN_PROCESS)
@pytest.mark.parametrize("group", _GROUPS)
def test_other_column_agrees_with_numpy(impl, group):
    pytest.importorskip(impl)
    _check_other(impl, group)


def test_jax_column_agrees_with_numpy():
    import importlib.util
    import os
    import subprocess
    import sys
    if importlib.util.find_spec("jax") is None:
        pytest.skip("jax is not installed")
    code = ("import test_bench as t\n"
            "for g in t._GROUPS:\n    t._check_other('jax', g)\n"
            "print('ok')\n")
    here = os.path.dirname(os.path.abspath(__file__))
    r = subprocess.run([sys.executable, "-c", code], cwd=here, capture_output=True, text=True,
                       timeout=600, env=dict(os.environ, PYTHONPATH=os.pathsep.join(
                           [here] + [os.path.abspath(p) for p in
                                     os.environ.get("PYTHONPATH", "").split(os.pathsep) if p])))
    assert r.returncode == 0 and "ok" in r.stdout, r.stderr[-3000:]


def _check_other(impl, group):
    case = _case(group)
    a, g = case.inputs()
    p = case.call_params(a)
    fns = others.callables(case, a, g, p, impls=(impl,))
    if impl == "numexpr" and group.startswith("gelu"):
        assert impl not in fns                  # gelu_tanh_grad: not in numexpr's language
        return
    assert impl in fns, (impl, group)
    want = NUMPY[case.key][case.direction](a, g, p)
    got = np.asarray(fns[impl](), dtype=np.float64)
    tol = 1e-4 if case.dtype == "float32" else 1e-10
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


def test_other_columns_only_elementwise_and_translatable():
    case = _case("softmax-forward-float32")
    a, g = case.inputs()
    assert others.callables(case, a, g, case.call_params(a)) == {}
    assert others.numexpr_source("g * sigmoid(x * 2.0)") == "g * (1 / (1 + exp(-(x * 2.0))))"
    with pytest.raises(ValueError):
        others.numexpr_source("np.clip(x, 0, 6)")
    assert others._constants("x * p['alpha']", {"alpha": 0.5}) == "x * 0.5"


def test_run_without_others_installed(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(_bench.timing, "_ROUNDS", 2)
    monkeypatch.setattr(_bench.timing, "_SAMPLE_S", 1e-4)
    monkeypatch.setattr(others, "available", lambda: ())
    out = tmp_path / "b.json"
    assert _bench.run(_args(only=["relu"], no_others=False, json=str(out))) == 0
    res = json.loads(out.read_text())
    assert all(r["speedup_vs_fastest_other"] is None for r in res["rows"])
    assert "vs fastest other" not in capsys.readouterr().out


def test_run_with_others(tmp_path, monkeypatch, capsys):
    have = tuple(k for k in others.available() if k in _IN_PROCESS)
    if not have:
        pytest.skip("neither numexpr nor numba is installed")
    monkeypatch.setattr(others, "available", lambda: have)
    monkeypatch.setattr(_bench.timing, "_ROUNDS", 2)
    monkeypatch.setattr(_bench.timing, "_SAMPLE_S", 1e-4)
    out = tmp_path / "b.json"
    assert _bench.run(_args(only=["sigmoid"], no_others=False, json=str(out))) == 0
    res = json.loads(out.read_text())
    text = capsys.readouterr().out
    assert "vs fastest other" in text and all(k in text for k in have)
    row = next(r for r in res["rows"] if r["direction"] == "forward")
    assert all(row["ns_per_element"][k] > 0 for k in have)
    assert row["speedup_vs_fastest_other"] == pytest.approx(
        min(row["ns_per_element"][k] for k in have) / row["ns_per_element"]["fastact"])
