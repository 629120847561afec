"""Bad input: every one gets a TypeError/ValueError naming the function and
the argument, nothing is written, no reference leaks, and the interpreter
is healthy afterwards.  Partial overlap of out with an input is not an error:
it is handled, and the result is checked here."""
import datetime
import decimal
import gc
import inspect
import sys

import numpy as np
import pytest

pytestmark = pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")  # np.matrix

import fastact as fa

# Kinds whose output has x's shape and whose backward takes (grad, x or y):
# every test here covers them.  "axis_x" (glu, maxout: output shorter than x
# along an axis) is covered by the dtype, masked-array and interpreter-health
# tests below; its shape, out= and overlap errors are in test_axis_catalogue.
# "prelu" (a weight argument, backward returns a pair) and "rrelu" (training
# mode needs an rng, backward needs noise) have their own error tests in
# test_prelu_rrelu.
KINDS = ("elementwise", "softmax")
REGISTRY = fa.activations()
RECORDS = [a for a in REGISTRY.values() if a.kind in KINDS]
NAMES = [a.name for a in RECORDS]
AXIS_X = [a.name for a in REGISTRY.values() if a.kind == "axis_x"]


def _required(name):
    """The registry's example values of the required parameters of `name`
    (threshold's threshold and value, maxout's pieces)."""
    return {p.name: p.example for p in REGISTRY[name].params if p.required}


def _fwd(name):
    """fa.NAME, with required parameters bound to their example values (a
    keyword given at the call replaces them)."""
    f = getattr(fa, name)
    req = _required(name)
    return (lambda *a, **kw: f(*a, **{**req, **kw})) if req else f


def _bwd(name):
    b = getattr(fa, name + "_backward")
    req = _required(name)
    return (lambda *a, **kw: b(*a, **{**req, **kw})) if req else b


def _bwd_call(rec):
    """backward(grad, a, **kw) with a passed as x (when allowed) or y."""
    b = _bwd(rec.name)
    if "x" in rec.backward_from:
        return lambda g, a, **kw: b(g, a, **kw), "x"
    return lambda g, a, **kw: b(g, y=a, **kw), "y"


def _healthy():
    x = np.linspace(-2, 2, 9)
    for rec in RECORDS:
        r = _fwd(rec.name)(x)
        assert r.shape == x.shape and np.isfinite(r).all()
    x = np.linspace(-2, 2, 8)
    for name in AXIS_X:        # glu halves the axis, maxout (pieces=2) too
        r = _fwd(name)(x)
        assert r.shape == (4,) and np.isfinite(r).all()


def _raises(exc, fname, argname, fn, *args, **kw):
    """fn(*args, **kw) raises exc whose message names fname and argname;
    the arguments' reference counts and bytes are unchanged."""
    arrays = [v for v in list(args) + list(kw.values()) if isinstance(v, np.ndarray)]
    refs = [sys.getrefcount(v) for v in arrays]
    data = [v.tobytes() if v.dtype != object else None for v in arrays]
    try:
        fn(*args, **kw)
    except exc as e:
        msg = str(e)
    else:
        raise AssertionError(f"{fname}: no {exc.__name__} for {argname}")
    assert msg.startswith(fname + ":") or f"{fname}()" in msg, msg
    assert argname in msg, msg
    assert [sys.getrefcount(v) for v in arrays] == refs, "reference leak on the error path"
    assert [v.tobytes() if v.dtype != object else None for v in arrays] == data, \
        "an input was modified by a failing call"
    _healthy()
    return msg


BAD_DTYPES = [
    ("complex", lambda: np.ones((2, 3), np.complex128)),
    ("complex64", lambda: np.ones(4, np.complex64)),
    ("object", lambda: np.array([1.0, 2.0], dtype=object)),
    ("string", lambda: np.array(["1.0", "2.0"])),
    ("bytes", lambda: np.array([b"a"])),
    ("datetime", lambda: np.array(["2024-01-01"], dtype="datetime64[D]")),
    ("timedelta", lambda: np.array([3], dtype="timedelta64[s]")),
    ("longdouble", lambda: np.ones(3, np.longdouble)),
    ("structured", lambda: np.zeros(2, dtype=[("a", "f8")])),
    ("void", lambda: np.zeros(2, dtype="V8")),
    ("None", lambda: None),
    ("str", lambda: "1.0"),
    ("dict", lambda: {"a": 1}),
    ("python datetime", lambda: datetime.datetime(2024, 1, 1)),
    ("Decimal", lambda: decimal.Decimal("1.5")),
    ("huge int", lambda: [2**80]),
    ("ragged", lambda: [[1.0, 2.0], [3.0]]),
]


@pytest.mark.parametrize("what, make", BAD_DTYPES, ids=[b[0] for b in BAD_DTYPES])
@pytest.mark.parametrize("name", NAMES)
def test_bad_dtype(name, what, make):
    rec = fa.activations()[name]
    bwd, aname = _bwd_call(rec)
    _raises(TypeError, name, "x", _fwd(name), make())
    good = np.ones(np.shape(np.asarray(make(), dtype=object)) if what != "ragged" else 2)
    _raises(TypeError, name + "_backward", "grad", bwd, make(), good if what != "ragged" else make())
    if what not in ("ragged",):
        _raises(TypeError, name + "_backward", aname, bwd, np.ones(np.shape(good)), make())


@pytest.mark.parametrize("what, make", BAD_DTYPES, ids=[b[0] for b in BAD_DTYPES])
@pytest.mark.parametrize("name", AXIS_X)
def test_bad_dtype_axis_x(name, what, make):
    """glu, maxout: the same dtype errors (the backward takes grad in the
    output's shape and x)."""
    bwd = _bwd(name)
    _raises(TypeError, name, "x", _fwd(name), make())
    x = np.linspace(-2, 2, 8)
    _raises(TypeError, name + "_backward", "grad", bwd, make(), x)
    if what != "ragged":
        _raises(TypeError, name + "_backward", "x", bwd, np.ones(4), make())


ELEMENTWISE_NAMES = [a.name for a in RECORDS if a.kind == "elementwise"]
ALONG_AXIS = [n for n in NAMES + AXIS_X if n not in ELEMENTWISE_NAMES]


@pytest.mark.parametrize("name", ELEMENTWISE_NAMES)
def test_masked_array_kept(name):
    """Elementwise functions go through fastact.ufuncs for masked arrays, as
    np.exp does: the result is masked where the input is, the data as for
    the plain array."""
    rec = fa.activations()[name]
    bwd, aname = _bwd_call(rec)
    data = np.array([1.0, -1.0, 2.0, 0.5])
    m = np.ma.masked_array(data, mask=[0, 1, 0, 0])
    r = _fwd(name)(m)
    assert isinstance(r, np.ma.MaskedArray)
    np.testing.assert_array_equal(r.mask, m.mask)
    np.testing.assert_array_equal(r.data[~m.mask], _fwd(name)(data)[~m.mask])
    g = bwd(m, data) if aname == "x" else bwd(m, y=data)
    assert isinstance(g, np.ma.MaskedArray) and g.mask[1]
    np.testing.assert_array_equal(g.data[~m.mask], bwd(data, data)[~m.mask] if aname == "x"
                                  else bwd(data, y=data)[~m.mask])
    out = np.ma.masked_array(np.zeros(4))
    assert _fwd(name)(data, out=out) is out
    np.testing.assert_array_equal(out.data, _fwd(name)(data))


@pytest.mark.parametrize("name", AXIS_X)
def test_masked_array_refused(name):
    """The softmax family keeps masked arrays (through its generalized
    ufuncs: tests/test_ufuncs.py); glu and maxout refuse them, naming the
    argument: a mask cannot follow their shorter axis."""
    rec = fa.activations()[name]
    bwd, aname = _bwd_call(rec)
    n = 4 if rec.kind == "axis_x" else 3
    m = np.ma.masked_array([1.0, -1.0, 2.0, 0.5][:n], mask=[0, 1, 0, 0][:n])
    msg = _raises(TypeError, name, "x", _fwd(name), m)
    assert "masked array" in msg
    gm = m if rec.kind != "axis_x" else m[:2]            # grad has the output's shape
    g = np.ones(3) if rec.kind != "axis_x" else np.ones(2)
    _raises(TypeError, name + "_backward", "grad", bwd, gm, np.ones(n))
    _raises(TypeError, name + "_backward", aname, bwd, g, m)
    out = np.ma.masked_array(np.ones(n if rec.kind != "axis_x" else 2))
    _raises(TypeError, name, "out", _fwd(name), np.ones(n), out=out)


class Tagged(np.ndarray):
    """A plain ndarray subclass with an attribute."""

    def __array_finalize__(self, obj):
        self.tag = getattr(obj, "tag", None)


@pytest.mark.parametrize("name", NAMES)
def test_subclasses_work_as_ndarray(name):
    """ndarray subclasses (np.matrix, a custom one) are computed as their base
    ndarray and returned as the subclass, as NumPy's ufuncs do (they go
    through fastact.ufuncs); maxout of a matrix, which cannot hold its groups
    as a third axis, gives a plain ndarray."""
    rec = fa.activations()[name]
    bwd, _ = _bwd_call(rec)
    base = np.linspace(-3, 3, 12).reshape(3, 4)
    ref = _fwd(name)(base)
    for sub in (np.matrix(base), base.view(Tagged), np.asfortranarray(base).view(Tagged)[:, ::2]):
        kept = np.ndarray if (name == "maxout" and type(sub) is np.matrix) else type(sub)
        r = _fwd(name)(sub)
        assert type(r) is kept
        np.testing.assert_array_equal(np.asarray(r), _fwd(name)(np.asarray(sub)))
        gb = bwd(sub, np.asarray(ref if "y" == _bwd_call(rec)[1] else base)[:, : sub.shape[1]])
        assert type(gb) is kept
    # a subclass out: written in place and returned as is
    out = np.empty_like(base).view(Tagged)
    assert _fwd(name)(base, out=out) is out
    np.testing.assert_array_equal(np.asarray(out), ref)


@pytest.mark.parametrize("name", NAMES)
def test_bad_out(name):
    rec = fa.activations()[name]
    bwd, aname = _bwd_call(rec)
    f = _fwd(name)
    x = np.linspace(-2, 2, 12).reshape(3, 4)
    for fn, fname, args in ((f, name, (x,)), (bwd, name + "_backward", (np.ones_like(x), x))):
        _raises(ValueError, fname, "out", fn, *args, out=np.empty((4, 3)))
        _raises(ValueError, fname, "out", fn, *args, out=np.empty(12))
        _raises(ValueError, fname, "out", fn, *args, out=np.empty((1, 3, 4)))
        _raises(TypeError, fname, "out", fn, *args, out=np.empty((3, 4), np.float32))
        _raises(TypeError, fname, "out", fn, *args, out=np.empty((3, 4), np.float16))
        _raises(TypeError, fname, "out", fn, *args, out=np.empty((3, 4), np.int64))
        ro = np.zeros((3, 4))
        ro.flags.writeable = False
        _raises(ValueError, fname, "out", fn, *args, out=ro)
        assert not ro.any()
        _raises(ValueError, fname, "out", fn, *args, out=np.broadcast_to(np.zeros(4), (3, 4)))
        _raises(TypeError, fname, "out", fn, *args, out=[[0.0] * 4] * 3)
        _raises(TypeError, fname, "out", fn, *args, out=np.float64(0.0))
        _raises(TypeError, fname, "out", fn, *args, out=memoryview(np.zeros((3, 4))))
    # float32 input, float64 out: the result dtype is float32, out must be too
    _raises(TypeError, name, "out", f, x.astype(np.float32), out=np.empty((3, 4)))
    # 0-d input and out
    _raises(ValueError, name, "out", f, np.float64(1.0), out=np.empty(1))


@pytest.mark.parametrize("name", NAMES)
def test_grad_shape_mismatch(name):
    rec = fa.activations()[name]
    bwd, aname = _bwd_call(rec)
    fname = name + "_backward"
    x = np.linspace(-2, 2, 12).reshape(3, 4)
    for g in (np.ones((4, 3)), np.ones((3, 1)), np.ones(4), np.ones(()), np.ones((1, 3, 4)), np.ones((3, 4, 1))):
        msg = _raises(ValueError, fname, "grad", bwd, g, x)
        assert aname in msg
        _raises(ValueError, fname, "grad", bwd, g, x, out=np.empty((3, 4)))


@pytest.mark.parametrize("name", NAMES)
def test_backward_wrong_forward_argument(name):
    rec = fa.activations()[name]
    b = _bwd(name)
    fname = name + "_backward"
    x = np.ones(3)
    # the signature lists only what the backward can use (issue 17): x and
    # y= both, or x alone (positional), or y= alone (keyword-only)
    params = inspect.signature(getattr(fa, fname)).parameters
    assert ("x" in params) == ("x" in rec.backward_from)
    assert ("y" in params) == ("y" in rec.backward_from)
    if rec.backward_from == ("x", "y"):
        _raises(TypeError, fname, "got neither", b, x)
        _raises(TypeError, fname, "not both", b, x, x, y=x)
    elif rec.backward_from == ("x",):
        _raises(TypeError, fname, "missing 1 required positional argument: 'x'", b, x)
        _raises(TypeError, fname, "unexpected keyword argument 'y'", b, x, x, y=x)
        _raises(TypeError, fname, "unexpected keyword argument 'y'", b, x, y=x)
    else:
        _raises(TypeError, fname, "missing 1 required keyword-only argument: 'y'", b, x)
        _raises(TypeError, fname, "takes 1 positional argument but 2 were given", b, x, x)


SOFTMAX = [a.name for a in RECORDS if a.kind == "softmax"]


@pytest.mark.parametrize("name", SOFTMAX)
def test_softmax_axis(name):
    f, b = _fwd(name), getattr(fa, name + "_backward")
    x = np.linspace(-2, 2, 12).reshape(3, 4)
    for fn, fname, args, kw in ((f, name, (x,), {}), (b, name + "_backward", (x,), {"y": x})):
        for axis in (2, -3, 64, -65, 2**31, -2**31 - 1, 2**63, 2**70, -2**70, np.int64(5), np.uint64(2**64 - 1)):
            msg = _raises(ValueError, fname, "axis", fn, *args, axis=axis, **kw)
            assert "out of range" in msg
        for axis in (1.0, True, np.bool_(False), None, "0", [0], (0,), np.array([0]), 1j):
            _raises(TypeError, fname, "axis", fn, *args, axis=axis, **kw)
        # valid spellings
        np.testing.assert_array_equal(fn(*args, axis=np.int64(0), **kw), fn(*args, axis=0, **kw))
        np.testing.assert_array_equal(fn(*args, axis=-2, **kw), fn(*args, axis=0, **kw))
    # 0-d: only axis 0 / -1; the result is that of a 1-element axis
    # (softmax, softmin: 1; log_softmax: 0)
    one = f(np.array([3.0]))[0]
    assert one == {"log_softmax": 0.0}.get(name, 1.0)
    assert f(np.float64(3.0), axis=0) == one
    assert f(np.float64(3.0), axis=-1) == one
    _raises(ValueError, name, "axis", f, np.float64(3.0), axis=1)


PARAMS = [(a.name, p) for a in RECORDS for p in a.params]


@pytest.mark.parametrize("name, param", PARAMS, ids=[f"{n}-{p.name}" for n, p in PARAMS])
def test_bad_params(name, param):
    rec = fa.activations()[name]
    bwd, aname = _bwd_call(rec)
    x = np.linspace(-2, 2, 8)
    calls = ((_fwd(name), name, (x,)), (bwd, name + "_backward", (np.ones_like(x), x)))
    for fn, fname, args in calls:
        for v in (float("nan"), float("inf"), -float("inf"), np.float64("nan"), np.float32("inf"), 2**2000, -2**2000):
            msg = _raises(ValueError, fname, param.name, fn, *args, **{param.name: v})
            assert "finite" in msg
        for v in (True, False, np.bool_(True), None, "0.5", b"0.5", np.array(["0.5"]),
                  np.array([True]), 1 + 0j, np.array([1 + 0j]), decimal.Decimal("0.5"), object()):
            msg = _raises(TypeError, fname, param.name, fn, *args, **{param.name: v})
            assert "real number" in msg
        # arrays of values broadcast against x (through fastact.ufuncs): the
        # same numbers as the scalar, and checked entry by entry
        ok = {p.name: p.example if p.required else p.default for p in rec.params}[param.name]
        for v in ([ok], (ok,), np.array(ok), np.array([ok]), np.full((1, 8), ok)):
            got = fn(*args, **{param.name: v})
            np.testing.assert_array_equal(got, np.broadcast_to(fn(*args, **{param.name: ok}),
                                                               np.shape(got)))
        msg = _raises(ValueError, fname, param.name, fn, *args, **{param.name: [ok, float("nan")]})
        assert "finite" in msg
        if param.low != -np.inf:
            _raises(ValueError, fname, param.name, fn, *args, **{param.name: param.low - 1.0})
        if param.high != np.inf:
            _raises(ValueError, fname, param.name, fn, *args, **{param.name: param.high + 1.0})
        # unknown keyword
        with pytest.raises(TypeError, match=fname.split("_backward")[0]):
            fn(*args, no_such_param=1.0)


CONSTRAINED = [a.name for a in RECORDS if a.constraints]


@pytest.mark.parametrize("name", CONSTRAINED)
def test_param_constraints(name):
    """A cross-parameter condition (hardtanh: min_val <= max_val) that fails
    is a ValueError naming the parameter, forward and backward; equality of
    the two sides, where the condition allows it, is fine."""
    rec = fa.activations()[name]
    bwd, aname = _bwd_call(rec)
    x = np.linspace(-2, 2, 8)
    for cond, pname, why in rec.constraints:
        others = [p.name for p in rec.params if p.name != pname and p.name in cond]
        assert others, cond
        other = others[0]
        base = rec.examples
        # move pname past the other parameter in both directions: exactly one fails
        results = []
        for delta in (-1.0, 1.0):
            kw = {**base, pname: base[other] + delta}
            if next((p for p in rec.params if p.name == pname)).check(kw[pname]):
                continue
            holds = eval(cond, {}, kw)
            results.append(holds)
            for fn, fname, args in ((_fwd(name), name, (x,)), (bwd, name + "_backward", (np.ones_like(x), x))):
                if holds:
                    assert np.isfinite(fn(*args, **kw)).all()
                else:
                    msg = _raises(ValueError, fname, pname, fn, *args, **kw)
                    assert why in msg, msg
        assert False in results, f"{name}: {cond} never violated"


@pytest.mark.parametrize("name, param", PARAMS, ids=[f"{n}-{p.name}" for n, p in PARAMS])
def test_param_overflowing_float32(name, param):
    """A finite double parameter that overflows float32 would turn 0 * p into
    nan in a float32 kernel; it is refused for float32 (as PyTorch does) and
    accepted for float64."""
    rec = fa.activations()[name]
    bwd, aname = _bwd_call(rec)
    def allowed(v):
        """v passes the parameter's range and the record's constraints
        (the other parameters at their defaults / examples)."""
        if param.check(v):
            return False
        env = {**rec.examples, param.name: v}
        return all(eval(cond, {}, env) for cond, _, _ in rec.constraints)

    big = next((b for b in ((-1e300, 1e300) if param.high < 1e300 else (1e300, -1e300))
                if allowed(b)), None)
    if big is None:
        pytest.skip("range or constraints exclude huge values")
    x32 = np.array([0.0, -0.0, -1.0, 1.0], np.float32)
    for fn, fname, args in ((_fwd(name), name, (x32,)), (bwd, name + "_backward", (np.ones_like(x32), x32))):
        msg = _raises(ValueError, fname, param.name, fn, *args, **{param.name: big})
        assert "float32" in msg
        _raises(ValueError, fname, param.name, fn, *args, **{param.name: big}, out=np.empty(4, np.float32))
        _raises(ValueError, fname, param.name, fn, *[a.astype(np.float16) for a in args], **{param.name: big})
        r = fn(*[a.astype(np.float64) for a in args], **{param.name: big})
        assert not np.isnan(r).any()
    # just below the float32 limit is fine
    ok = float(np.finfo(np.float32).max) * (1 if big > 0 else -1)
    if allowed(ok):
        assert not np.isnan(_fwd(name)(x32, **{param.name: ok})).any()


# ----------------------------------------------------------------- overlap --

def _overlap_layouts(n):
    """(x view, out view) over one buffer of 2n+4 float64: partial overlaps."""
    yield "shift+1", (lambda b: b[:n], lambda b: b[1:n + 1])
    yield "shift-1", (lambda b: b[1:n + 1], lambda b: b[:n])
    yield "shift+3", (lambda b: b[:n], lambda b: b[3:n + 3])
    yield "reversed", (lambda b: b[:n], lambda b: b[n - 1::-1] if n else b[:0])
    yield "stride2-interleaved", (lambda b: b[0:2 * n:2], lambda b: b[1:2 * n + 1:2])
    yield "stride2-shift", (lambda b: b[0:2 * n:2], lambda b: b[2:2 * n + 2:2])
    yield "stride-vs-contig", (lambda b: b[0:2 * n:2], lambda b: b[n // 2:n // 2 + n])


@pytest.mark.parametrize("n", [1, 7, 64, 1000, 70_001])
@pytest.mark.parametrize("name", NAMES)
def test_partial_overlap(name, n):
    rec = fa.activations()[name]
    f = _fwd(name)
    bwd, aname = _bwd_call(rec)
    rng = np.random.default_rng(n)
    data = rng.standard_normal(2 * n + 4) * 3
    gdata = rng.standard_normal(2 * n + 4)
    for label, (xv, ov) in _overlap_layouts(n):
        # forward: out overlaps x
        buf = data.copy()
        x, out = xv(buf), ov(buf)
        ref = f(x.copy())
        r = f(x, out=out)
        assert r is out
        np.testing.assert_array_equal(out, ref, err_msg=f"forward {label}")
        # backward: out overlaps the forward array a
        a0 = xv(data).copy() if aname == "x" else f(xv(data).copy())
        buf = data.copy()
        a, out = xv(buf), ov(buf)
        a[...] = a0
        g = ov(gdata).copy()
        ref = bwd(g, a0)
        r = bwd(g, a, out=out)
        np.testing.assert_array_equal(r, ref, err_msg=f"backward, out over {aname}, {label}")
        # backward: out overlaps grad
        buf = gdata.copy()
        g, out = xv(buf), ov(buf)
        ref = bwd(g.copy(), a0)
        r = bwd(g, a0, out=out)
        np.testing.assert_array_equal(r, ref, err_msg=f"backward, out over grad, {label}")


@pytest.mark.parametrize("name", NAMES)
def test_out_is_input_in_another_layout(name):
    """out = x.T or x[::-1]: same memory, other order: the result is as if
    the input had been copied first."""
    rec = fa.activations()[name]
    f = _fwd(name)
    bwd, aname = _bwd_call(rec)
    for shape in ((5, 5), (1, 6), (4, 4, 4)):
        x0 = np.random.default_rng(1).standard_normal(shape)
        for view in (lambda v: v.T, lambda v: v[::-1], lambda v: np.swapaxes(v, 0, -1)[::-1]):
            if view(x0).shape != x0.shape:
                continue
            x = x0.copy()
            ref = f(x0)
            np.testing.assert_array_equal(f(x, out=view(x)), ref)
            a0 = x0 if aname == "x" else f(x0)
            g0 = np.cos(x0)
            ref = bwd(g0, a0)
            g = g0.copy()
            np.testing.assert_array_equal(bwd(g, a0, out=view(g)), ref)
            a = a0.copy()
            np.testing.assert_array_equal(bwd(g0, a, out=view(a)), ref)


def test_interpreter_healthy_after_many_errors():
    x = np.ones(5)
    for _ in range(2000):
        for rec in RECORDS + [REGISTRY[n] for n in AXIS_X]:
            try:
                _fwd(rec.name)(x, out=np.empty(4))
            except ValueError:
                pass
            try:
                _fwd(rec.name)(np.ones(2, complex))
            except TypeError:
                pass
    assert sys.getrefcount(x) == 2
    gc.collect()
    _healthy()
