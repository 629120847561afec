"""fastact.plot and the `plot` / `vanishing` CLI: what is drawn, and the files written."""
import os
import subprocess
import sys

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import fastact as fa  # noqa: E402
from fastact import plot  # noqa: E402
from fastact.__main__ import main  # noqa: E402

NAMES = list(fa.activations())
# (rrelu's lower=0.5 would exceed upper's default 1/3: a ValueError, tested elsewhere)
PARAMETRIC = [(n, p.name) for n, r in fa.activations().items() for p in r.params
              if not p.integer and (n, p.name) != ("rrelu", "lower")]


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def expected(name, x, **params):
    """Forward and derivative of `name` at x, straight from fastact."""
    rec = fa.activations()[name]
    forward = getattr(fa, name)
    if rec.kind == "softmax":
        pairs = np.stack([x, np.zeros_like(x)], axis=-1)
        return forward(pairs, axis=-1)[:, 0], fa.derivative(name, pairs, axis=-1)[:, 0]
    if name == "glu":       # glu([x, x]) = x sigmoid(x) = silu, and its total derivative
        s = fa.sigmoid(x)
        return forward(np.stack([x, x], axis=-1))[:, 0], s + x * fa.sigmoid_backward(np.ones_like(x), x)
    if "gate" in rec.extra:     # swiglu([x, x]) = silu(x) x, derivative x silu'(x) + silu(x)
        gf, gb = getattr(fa, rec.extra["gate"]), getattr(fa, rec.extra["gate"] + "_backward")
        return forward(np.stack([x, x], axis=-1))[:, 0], gb(x, x) + gf(x)
    if name == "maxout":    # maxout([x, 0], pieces=2) = relu(x), derivative 0 at 0 (tie: first wins)
        return fa.relu(x), (x >= 0).astype(float)
    params = {**{p.name: p.example for p in rec.params if p.required}, **params}
    if name == "prelu":
        return forward(x, 0.25), fa.prelu_backward(np.ones_like(x), x, 0.25)[0]
    return forward(x, **params), fa.derivative(name, x, **params)


@pytest.mark.parametrize("name", NAMES)
def test_activation_draws_forward_and_derivative_from_fastact(name):
    x = np.linspace(-5, 5, 301)
    ax = plot.plot_activation(name, x=x)
    lines = ax.get_lines()
    assert len(lines) == 2
    y, d = expected(name, x)
    for line in lines:
        np.testing.assert_array_equal(line.get_xdata(), x)
    np.testing.assert_array_equal(lines[0].get_ydata(), y)
    np.testing.assert_array_equal(lines[1].get_ydata(), d)
    assert name in ax.get_title()
    assert ax.get_legend() is not None
    assert ax.spines["left"].get_position() == "zero"
    assert ax.spines["bottom"].get_position() == "zero"


@pytest.mark.parametrize("name", NAMES)
def test_no_derivative_draws_one_line(name):
    ax = plot.plot_activation(name, derivative=False)
    assert len(ax.get_lines()) == 1


def test_default_grid_is_used_and_drawn():
    ax = plot.plot_activation("tanh")
    x = ax.get_lines()[0].get_xdata()
    assert x[0] == -6 and x[-1] == 6
    np.testing.assert_array_equal(ax.get_lines()[1].get_ydata(), fa.derivative("tanh", x))


@pytest.mark.parametrize("name,param", PARAMETRIC)
def test_title_lists_parameters(name, param):
    rec = fa.activations()[name]
    default = rec.examples[param]
    assert f"{param}={default:g}" in plot.plot_activation(name).get_title()
    x = np.linspace(-3, 3, 61)
    ax = plot.plot_activation(name, x=x, **{param: 0.5})
    assert f"{param}=0.5" in ax.get_title()
    kw = {**{p.name: p.example for p in rec.params if p.required}, param: 0.5}
    np.testing.assert_array_equal(ax.get_lines()[0].get_ydata(), getattr(fa, name)(x, **kw))
    np.testing.assert_array_equal(ax.get_lines()[1].get_ydata(), fa.derivative(name, x, **kw))


def test_unknown_name_lists_valid_ones():
    with pytest.raises(ValueError, match="sigmoid"):
        plot.plot_activation("nope")


def test_plot_on_given_axes():
    fig, ax = plt.subplots()
    assert plot.plot_activation("relu", ax) is ax


def test_grid_has_one_axes_per_registered_function():
    fig = plot.plot_activations()
    assert len(fig.axes) == len(NAMES)
    assert [ax.get_title().split("(")[0] for ax in fig.axes] == NAMES
    assert all(len(ax.get_lines()) == 2 for ax in fig.axes)


def test_grid_chosen_names_without_derivative():
    fig = plot.plot_activations(["elu", "relu"], derivative=False, ncols=3)
    assert len(fig.axes) == 2
    assert all(len(ax.get_lines()) == 1 for ax in fig.axes)


@pytest.mark.parametrize("depth", [10, 3])
def test_vanishing_gradient(depth):
    names = ("sigmoid", "tanh", "relu", "elu")
    fig = plot.plot_vanishing_gradient(depth=depth, names=names)
    (ax,) = fig.axes
    assert ax.get_yscale() == "log"
    chains = [ln for ln in ax.get_lines() if (ln.get_gid() or "").startswith("chain:")]
    assert [ln.get_gid()[6:] for ln in chains] == list(names)
    for line, name in zip(chains, names):
        factor = plot.max_gradient(name)
        np.testing.assert_allclose(line.get_ydata(), factor ** np.arange(depth + 1), rtol=1e-12)
        assert name in line.get_label()
    np.testing.assert_allclose(chains[0].get_ydata()[-1], 0.25 ** depth, rtol=1e-6)
    bound = [ln for ln in ax.get_lines() if ln.get_gid() == "bound"]
    assert len(bound) == 1 and set(bound[0].get_ydata()) == {0.25 ** depth}
    texts = " ".join(t.get_text() for t in ax.texts)
    assert f"1/{4 ** depth}" in texts


def test_vanishing_gradient_factors_measured():
    assert plot.max_gradient("sigmoid") == pytest.approx(0.25, rel=1e-12)
    assert plot.max_gradient("tanh") == pytest.approx(1.0, rel=1e-12)
    assert plot.max_gradient("relu") == 1.0
    assert plot.max_gradient("elu") == pytest.approx(1.0)
    text = " ".join(t.get_text() for t in plot.plot_vanishing_gradient().axes[0].texts)
    assert "1/1048576" in text


MAGIC = {".png": b"\x89PNG\r\n\x1a\n", ".svg": b"<svg", ".pdf": b"%PDF-"}


@pytest.mark.parametrize("ext", list(MAGIC))
def test_cli_plot_writes_file(tmp_path, ext, capsys):
    out = tmp_path / f"a{ext}"
    assert main(["plot", "--out", str(out)]) == 0
    data = out.read_bytes()
    if ext == ".svg":
        assert MAGIC[ext] in data[:2000]
    else:
        assert data.startswith(MAGIC[ext])
    assert str(out) in capsys.readouterr().out


@pytest.mark.parametrize("ext", list(MAGIC))
def test_cli_vanishing_writes_file(tmp_path, ext):
    out = tmp_path / f"v{ext}"
    assert main(["vanishing", "--depth", "6", "--out", str(out)]) == 0
    data = out.read_bytes()
    assert (MAGIC[ext] in data[:2000]) if ext == ".svg" else data.startswith(MAGIC[ext])


def test_cli_plot_options(tmp_path):
    out = tmp_path / "r.png"
    assert main(["plot", "relu", "elu", "--range", "-2", "3", "--no-derivative", "--out", str(out)]) == 0
    assert out.read_bytes().startswith(MAGIC[".png"])


def test_cli_unknown_name(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["plot", "sigmoid", "nope"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "nope" in err and all(n in err for n in NAMES)


def test_cli_headless_default_file(tmp_path, monkeypatch, capsys):
    if not sys.platform.startswith("linux"):
        pytest.skip("the no-DISPLAY fallback applies on Linux")
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.chdir(tmp_path)
    assert main(["vanishing"]) == 0
    assert (tmp_path / "vanishing_gradient.png").read_bytes().startswith(MAGIC[".png"])
    assert "vanishing_gradient.png" in capsys.readouterr().out


def test_import_fastact_does_not_import_matplotlib():
    code = "import fastact, sys; assert 'matplotlib' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True,
                   cwd=os.path.dirname(os.path.dirname(os.path.abspath(fa.__file__))))


@pytest.mark.parametrize("name", ["glu", "maxout"])
def test_derivative_of_shortening_functions_says_why(name):
    with pytest.raises(ValueError, match=f"{name} has no elementwise derivative"):
        fa.derivative(name, np.ones(4))


def test_grid_reads_like_a_textbook_figure():
    fig = plot.plot_activations()
    # one legend for the figure, none per panel
    assert len(fig.legends) == 1 and all(ax.get_legend() is None for ax in fig.axes)
    by = {ax.get_title().split("(")[0]: ax for ax in fig.axes}
    for ax in fig.axes:
        # tick labels on the frame, not on the curves through the origin
        assert ax.spines["left"].get_position() != "zero"
        assert ax.spines["bottom"].get_position() != "zero"
        lo, hi = ax.get_ylim()
        near = np.abs(ax.get_lines()[0].get_xdata()) <= plot.SHAPE_X
        span = max(1.0, *(np.ptp(ln.get_ydata()[near]) for ln in ax.get_lines()))
        assert lo <= 0 <= hi and hi - lo <= 1.3 * span + 1.0
    # the dips of gelu, silu and mish below 0 take a visible part of their panels
    for name in ("gelu", "silu", "mish"):
        lo, hi = by[name].get_ylim()
        dip = -min(by[name].get_lines()[0].get_ydata())
        assert dip / (hi - lo) > 0.04, name
    # per-panel limits: sigmoid's is about [0, 1], relu's taller
    assert by["sigmoid"].get_ylim()[1] < 1.3 < by["relu"].get_ylim()[1]


def test_panel_ylim():
    x = np.linspace(-4, 4, 81)
    lo, hi = plot.panel_ylim(x, np.tanh(x))
    assert -1.3 < lo < -1 and 1 < hi < 1.3
    lo, hi = plot.panel_ylim(x, np.zeros_like(x))       # flat: a unit tall
    assert hi - lo >= 1
