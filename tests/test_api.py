"""The API contract of docs/design.md: dtypes, shapes, layouts, out=, errors, threads."""
import threading

import numpy as np
import pytest

import fastact as fa
from conftest import ELEMENTWISE, default_params, fn

NAMES = [a.name for a in ELEMENTWISE]


def _data(shape, dtype, seed=0):
    return np.asarray((np.random.default_rng(seed).standard_normal(shape) * 4).astype(dtype))


def _layouts(dtype):
    """(id, array) pairs: every layout the contract names."""
    base = _data((6, 10), dtype)
    return [
        ("contiguous", base.copy()),
        ("strided", _data((6, 20), dtype)[:, ::2]),
        ("negative-stride", base[::-1, ::-1]),
        ("fortran", np.asfortranarray(base)),
        ("transposed-3d", _data((3, 4, 5), dtype).transpose(2, 0, 1)),
        ("0-d", np.array(0.75, dtype=dtype)),
        ("empty", np.empty((0, 3), dtype=dtype)),
        ("1-element", np.array([-2.5], dtype=dtype)),
        ("readonly", np.frombuffer(base.tobytes(), dtype=dtype).reshape(6, 10)),
    ]


def _backward_arg(rec, x):
    """(x, y) arguments for the backward: from x where possible."""
    if "x" in rec.backward_from:
        return {"x": x}
    return {"y": fn(rec.name)(x)}


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("out_mode", ["none", "new", "inplace"])
@pytest.mark.parametrize("name", NAMES)
def test_layouts_and_out(build, nthreads, name, out_mode, dtype):
    rec = fa.activations()[name]
    fwd, bwd = fn(name), fn(name + "_backward")
    for layout, x in _layouts(dtype):
        x_before = x.copy()
        ref = fwd(np.ascontiguousarray(x))
        g = _data(x.shape, dtype, seed=1)
        kw = _backward_arg(rec, x)
        ref_b = bwd(np.ascontiguousarray(g), **{k: np.ascontiguousarray(v) for k, v in kw.items()})
        if out_mode == "none":
            y, gx = fwd(x), bwd(g, **kw)
        elif out_mode == "new":
            o1, o2 = np.empty_like(x), np.empty_like(g)
            y, gx = fwd(x, out=o1), bwd(g, out=o2, **kw)
            assert y is o1 and gx is o2
        else:
            if not x.flags.writeable:
                continue
            xi, gi = x.copy() if layout != "strided" else x, g.copy()
            kw_i = _backward_arg(rec, xi)
            gx = bwd(gi, out=gi, **kw_i)
            y = fwd(xi, out=xi)
            assert y is xi and gx is gi
            x_before = None
        if layout == "0-d" and out_mode == "none":
            assert isinstance(y, np.generic) and y.dtype == dtype
        else:
            assert isinstance(y, np.ndarray) and y.shape == x.shape and y.dtype == dtype
        np.testing.assert_array_equal(y, ref, err_msg=f"{name} forward, {layout}")
        np.testing.assert_array_equal(gx, ref_b, err_msg=f"{name} backward, {layout}")
        if x_before is not None:
            assert x.tobytes() == x_before.tobytes(), "input was modified"


@pytest.mark.parametrize("name", NAMES)
def test_dtype_rules(name):
    fwd = fn(name)
    x64 = np.array([-2.0, -0.5, 0.0, 1.5, 3.0])
    assert fwd(x64.astype(np.float16)).dtype == np.float16
    np.testing.assert_array_equal(fwd(x64.astype(np.float16)),
                                  fwd(x64.astype(np.float16).astype(np.float32)).astype(np.float16))
    for dt in (np.int8, np.int32, np.int64, np.uint16, np.bool_):
        xi = x64.astype(dt)
        y = fwd(xi)
        assert y.dtype == np.float64
        np.testing.assert_array_equal(y, fwd(xi.astype(np.float64)))
    assert fwd([-1.0, 2.0]).dtype == np.float64
    s = fwd(1.5)
    assert isinstance(s, np.float64) and s == fwd(np.array([1.5]))[0]
    assert isinstance(fwd(np.float32(1.5)), np.float32)


@pytest.mark.parametrize("bad", [np.array([1 + 2j]), np.array([object()]), np.array(["a"]),
                                 np.array(["2020-01-01"], dtype="datetime64[D]")],
                         ids=["complex", "object", "string", "datetime"])
@pytest.mark.parametrize("name", NAMES + ["softmax"])
def test_bad_dtypes(name, bad):
    with pytest.raises(TypeError, match=f"{name}: x has dtype"):
        fn(name)(bad)


def test_out_errors():
    x = np.linspace(-1, 1, 6)
    with pytest.raises(ValueError, match=r"sigmoid: out has shape \(5,\)"):
        fa.sigmoid(x, out=np.empty(5))
    with pytest.raises(TypeError, match="sigmoid: out has dtype float32; expected float64"):
        fa.sigmoid(x, out=np.empty(6, np.float32))
    ro = np.empty(6)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="sigmoid: out is read-only"):
        fa.sigmoid(x, out=ro)
    with pytest.raises(TypeError, match="sigmoid: out must be a numpy.ndarray, got list"):
        fa.sigmoid(x, out=[0.0] * 6)
    with pytest.raises(ValueError, match=r"tanh_backward: grad has shape \(6,\) but x has shape \(5,\)"):
        fa.tanh_backward(x, x[:5])


def test_backward_argument_errors():
    g = x = np.ones(3)
    with pytest.raises(TypeError, match="sigmoid_backward: pass the forward input x or output y="):
        fa.sigmoid_backward(g)
    with pytest.raises(TypeError, match="not both"):
        fa.sigmoid_backward(g, x, y=x)
    # signatures list only what a backward can use: Python names the rest
    with pytest.raises(TypeError, match=r"leaky_relu_backward\(\) got an unexpected keyword argument 'y'"):
        fa.leaky_relu_backward(g, y=x)
    with pytest.raises(TypeError, match="elu_backward: the gradient from y= holds only for alpha >= 0"):
        fa.elu_backward(g, y=x, alpha=-1.0)
    with pytest.raises(TypeError, match=r"softmax_backward\(\) takes 1 positional argument but 2 were given"):
        fa.softmax_backward(g, x)


def test_parameter_errors():
    x = np.ones(3)
    with pytest.raises(ValueError, match="leaky_relu: negative_slope must be finite, got nan"):
        fa.leaky_relu(x, float("nan"))
    with pytest.raises(ValueError, match="elu_backward: alpha must be finite"):
        fa.elu_backward(x, x, alpha=float("inf"))
    with pytest.raises(TypeError, match="leaky_relu: negative_slope must be a real number, got str"):
        fa.leaky_relu(x, "0.1")
    with pytest.raises(TypeError, match="elu: alpha must be a real number, got bool"):
        fa.elu(x, alpha=True)
    # ints and numpy scalars are fine
    np.testing.assert_array_equal(fa.elu(-x, alpha=2), fa.elu(-x, alpha=np.float32(2.0)))
    with pytest.raises(TypeError, match="softmax: axis must be an int"):
        fa.softmax(x, axis=0.5)
    with pytest.raises(ValueError, match="softmax: axis 1 is out of range"):
        fa.softmax(x, axis=1)


def test_other_unsupported_inputs():
    with pytest.raises(TypeError, match="sigmoid: x has dtype float128|sigmoid: x has dtype longdouble"):
        fa.sigmoid(np.ones(2, dtype=np.longdouble))
    with pytest.raises(TypeError, match="glu: x is a masked array"):
        fa.glu(np.ma.masked_array([1.0, -1.0], mask=[0, 1]))


def test_partial_overlap_with_out(build):
    base = np.linspace(-5, 5, 101)
    ref = fa.sigmoid(base[:-1])
    buf = base.copy()
    got = fa.sigmoid(buf[:-1], out=buf[1:])          # out starts one element later
    np.testing.assert_array_equal(got, ref)
    g = np.linspace(-1, 1, 101)
    refb = fa.sigmoid_backward(g[1:], base[:-1])
    buf = base.copy()
    gotb = fa.sigmoid_backward(g[1:], buf[:-1], out=buf[1:])
    np.testing.assert_array_equal(gotb, refb)
    # out is x itself in a backward
    xb = base.copy()
    np.testing.assert_array_equal(fa.tanh_backward(g, xb, out=xb), fa.tanh_backward(g, base))


def test_shares_memory_in_place():
    x = np.linspace(-3, 3, 1000)
    y = fa.elu(x, out=x)
    assert np.shares_memory(x, y) and y is x
    assert not np.shares_memory(fa.elu(x), x)


def test_threads_agree_bitwise():
    x = _data(300_000, np.float32)
    with fa.threads(1):
        one = {n: fn(n)(x) for n in NAMES}
    with fa.threads(max(2, fa._threads.available_cpus())):
        many = {n: fn(n)(x) for n in NAMES}
    for n in NAMES:
        np.testing.assert_array_equal(one[n], many[n])


def test_thread_settings():
    before = fa.get_num_threads()
    with fa.threads(1):
        assert fa.get_num_threads() == 1
    assert fa.get_num_threads() == before
    with pytest.raises(ValueError, match="must be >= 1"):
        fa.set_num_threads(0)
    with pytest.raises(TypeError, match="must be an int"):
        fa.set_num_threads(1.5)


def test_many_python_threads():
    x = _data(50_000, np.float64)
    want = {n: fn(n)(x) for n in NAMES}
    errors = []

    def work():
        for _ in range(5):
            for n in NAMES:
                if not np.array_equal(fn(n)(x), want[n]):
                    errors.append(n)

    ts = [threading.Thread(target=work) for _ in range(8)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not errors


def test_registry_and_introspection():
    reg = fa.activations()
    assert {"sigmoid", "tanh", "relu", "leaky_relu", "elu", "softmax"} <= set(reg)
    assert reg["leaky_relu"].params[0].default == 0.01
    assert reg["elu"].params[0].default == 1.0
    for name in reg:
        assert callable(getattr(fa, name)) and callable(getattr(fa, name + "_backward"))
        assert reg[name].formula.split("=")[0].strip() in getattr(fa, name).__doc__ or name in getattr(fa, name).__doc__
    info = fa.show_config()
    assert info["build in use"] in info["builds runnable"]
    assert isinstance(fa.__version__, str)
