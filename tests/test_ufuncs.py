"""fastact.ufuncs: every elementwise kernel as a real numpy.ufunc, and the
keyword functions' paths through them (containers, where=, dtype=,
parameter arrays, arrays of other libraries)."""
import warnings

import numpy as np
import pytest

import fastact as fa
from fastact import ufuncs
from fastact._registry import KERNELS

from conftest import threads_exactly, small_parallel_threshold

# (ufunc name, record, kernel, direction) for every ufunc
CASES = [(name, rec, kernel, d) for name, (rec, kernel, d) in ufuncs.UFUNCS.items() if d < 3]
IDS = [c[0] for c in CASES]


def _keyword(rec, kernel, direction, arrays, params):
    """The same computation through the keyword API."""
    kw = dict(zip([p.name for p in rec.params], params))
    if rec.variants:
        vname, choices = rec.variants
        kw[vname] = next(v for v, k in choices if k == kernel)
    if direction == 0:
        return getattr(fa, rec.name)(arrays[0], **kw)
    bwd = getattr(fa, rec.name + "_backward")
    return bwd(arrays[0], arrays[1], **kw) if direction == 1 else bwd(arrays[0], y=arrays[1], **kw)


def _inputs(direction, dtype, n=1001, seed=0):
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(n) * 6).astype(dtype)
    x[:8] = [0.0, -0.0, np.inf, -np.inf, np.nan, 3.0, -3.0, 6.0]
    if direction == 0:
        return (x,)
    g = rng.standard_normal(n).astype(dtype)
    return (g, x)


def test_every_kernel_and_direction_is_a_ufunc():
    for kid, (kernel, rec) in enumerate(KERNELS):
        names = [kernel] + [kernel + s for f, s in (("x", "_backward"), ("y", "_backward_y"))
                            if f in rec.backward_from]
        for d, name in enumerate(names):
            u = getattr(ufuncs, name)
            assert isinstance(u, np.ufunc)
            nin = (1 if name == kernel else 2) + len(rec.params)
            assert u.nin == nin and u.nout == 1
            half = "e" * (nin - len(rec.params)) + "f" * len(rec.params) + "->e"
            assert u.types[:3] == [half, "f" * nin + "->f", "d" * nin + "->d"]
            assert u.__name__ == name
    assert ufuncs.swish is ufuncs.silu and ufuncs.hard_silu_backward is ufuncs.hardswish_backward


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("name, rec, kernel, direction", CASES, ids=IDS)
def test_ufunc_equals_keyword_api(build, name, rec, kernel, direction, dtype):
    """Bit for bit, on every CPU build, contiguous and strided."""
    u = getattr(ufuncs, name)
    params = list(rec.examples.values())
    arrays = _inputs(direction, dtype)
    want = _keyword(rec, kernel, direction, arrays, params)
    with np.errstate(all="raise"):                   # the loops leave no FP flags behind
        got = u(*arrays, *params)
    assert got.dtype == dtype
    np.testing.assert_array_equal(got, want)
    strided = tuple(np.repeat(a, 2)[::2] for a in arrays)
    np.testing.assert_array_equal(u(*strided, *params), want)
    rev = tuple(a[::-1] for a in arrays)
    np.testing.assert_array_equal(u(*rev, *params), want[::-1])


@pytest.mark.parametrize("name, rec, kernel, direction",
                         [c for c in CASES if c[1].params], ids=[c[0] for c in CASES if c[1].params])
def test_parameter_arrays_broadcast(name, rec, kernel, direction):
    """One parameter value per row ((C, 1) against (C, N)), and a different
    value at every element: each row or element as the scalar call gives."""
    u = getattr(ufuncs, name)
    base = list(rec.examples.values())
    arrays = _inputs(direction, np.float64, n=64)
    # values within each parameter's range: the example, scaled or shifted
    rows = []
    for k in range(3):
        ps = list(base)
        ps[0] = base[0] * (1 + 0.5 * k) if base[0] != 0 else 0.25 * k
        rows.append(ps)
    if rec.constraints:                  # hardtanh / rrelu: keep the low end below the high
        rows = [[min(r[0], r[1]), max(r[0], r[1])] + r[2:] for r in rows]
    stacked = tuple(np.tile(a, (3, 1)) for a in arrays)
    cols = [np.array([[r[i]] for r in rows]) for i in range(len(base))]
    got = u(*stacked, *cols)
    for k, ps in enumerate(rows):
        np.testing.assert_array_equal(got[k], _keyword(rec, kernel, direction, arrays, ps))
    # per element: parameter runs of length 1 and 2
    per = [np.repeat(c[:, 0], 32)[:64].reshape(1, 64).repeat(1, 0)[0] for c in cols]
    got = u(*arrays, *per)
    for j in (0, 31, 32, 63):
        ps = [p[j] for p in per]
        one = tuple(a[j:j + 1] for a in arrays)
        np.testing.assert_array_equal(got[j:j + 1], _keyword(rec, kernel, direction, one, ps))


def test_invalid_parameters_give_nan():
    x = np.linspace(-2, 2, 5)
    assert np.isnan(ufuncs.celu(x, 0.0)).all()                     # alpha = 0
    assert np.isnan(ufuncs.hardtanh(x, 1.0, -1.0)).all()           # min_val > max_val
    assert np.isnan(ufuncs.softplus(x, 1.0, np.nan)).all()
    assert np.isnan(ufuncs.squareplus(x, -1.0)).all()              # b < 0
    assert np.isnan(ufuncs.elu_backward_y(x, x, -1.0)).all()       # from y needs alpha >= 0
    assert not np.isnan(ufuncs.elu_backward(x, x, -1.0)).any()     # from x: any alpha
    # valid and invalid entries side by side
    r = ufuncs.celu(x, np.array([1.0, 0.0, 1.0, 0.0, 2.0]))
    assert np.isnan(r[[1, 3]]).all() and not np.isnan(r[[0, 2, 4]]).any()


def test_where_out_dtype():
    x = np.linspace(-4, 4, 9)
    out = np.full_like(x, 7.0)
    r = ufuncs.sigmoid(x, out=out, where=x > 0)
    assert r is out
    np.testing.assert_array_equal(out[x > 0], fa.sigmoid(x)[x > 0])
    assert (out[x <= 0] == 7.0).all()
    assert ufuncs.sigmoid(x, dtype=np.float32).dtype == np.float32
    np.testing.assert_array_equal(ufuncs.sigmoid(x, dtype=np.float32), fa.sigmoid(x.astype(np.float32)))
    # the keyword API passes them through
    out2 = np.full_like(x, 7.0)
    assert fa.sigmoid(x, out=out2, where=x > 0) is out2
    np.testing.assert_array_equal(out2, out)
    assert fa.gelu_backward(x, x, dtype=np.float32).dtype == np.float32
    # integers, as np.exp: float64 (NumPy's casting rules)
    assert ufuncs.relu(np.arange(3)).dtype == np.float64


def test_threads_inside_a_ufunc():
    x = np.linspace(-8, 8, 1 << 15)
    one = ufuncs.gelu(x)
    before = fa._threads._pool.stats()["jobs"]
    with threads_exactly(2), small_parallel_threshold():
        np.testing.assert_array_equal(ufuncs.gelu(x), one)
    assert fa._threads._pool.stats()["jobs"] > before


def test_no_warnings_at_extremes():
    x = np.array([-np.inf, -1e308, -745.2, -710, -1e-310, 0.0, 1e-310, 89, 710, 1e308, np.inf, np.nan])
    x32 = np.array([-np.inf, -3e38, -104, -89, -1e-40, 0.0, 1e-40, 89, 3e38, np.inf, np.nan], np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for name, rec, kernel, d in CASES:
            for v in (x, x32):
                args = (v,) if d == 0 else (np.ones_like(v), v)
                getattr(ufuncs, name)(*args, *rec.examples.values())


# ------------------------------------------------------ containers (optional) --

def test_pandas_keeps_index_and_name():
    pd = pytest.importorskip("pandas")
    x = np.linspace(-3, 3, 7)
    s = pd.Series(x, index=list("abcdefg"), name="z")
    for r in (ufuncs.gelu(s), fa.gelu(s), fa.elu(s, alpha=2.0), fa.sigmoid_backward(s, s)):
        assert isinstance(r, pd.Series) and list(r.index) == list("abcdefg") and r.name == "z"
    np.testing.assert_array_equal(fa.gelu(s).to_numpy(), fa.gelu(x))
    df = pd.DataFrame({"a": x, "b": -x})
    r = fa.silu(df)
    assert isinstance(r, pd.DataFrame) and list(r.columns) == ["a", "b"]
    np.testing.assert_array_equal(r.to_numpy(), fa.silu(df.to_numpy()))
    s32 = s.astype(np.float32)
    assert fa.tanh(s32).dtype == np.float32


def test_xarray_keeps_coords():
    xr = pytest.importorskip("xarray")
    x = np.linspace(-3, 3, 12).reshape(3, 4)
    a = xr.DataArray(x, dims=("c", "t"), coords={"c": [10, 20, 30]}, name="act")
    alpha = xr.DataArray([0.5, 1.0, 2.0], dims="c", coords={"c": [10, 20, 30]})
    r = fa.elu(a, alpha=np.array([[0.5], [1.0], [2.0]]))
    assert isinstance(r, xr.DataArray) and r.dims == ("c", "t") and list(r.c.values) == [10, 20, 30]
    r2 = ufuncs.elu(a, alpha)                         # xarray aligns the parameter by coordinate
    np.testing.assert_array_equal(r.values, r2.values)
    for k, al in enumerate((0.5, 1.0, 2.0)):
        np.testing.assert_array_equal(r.values[k], fa.elu(x[k], alpha=al))


def test_dask_is_lazy_and_keeps_variants():
    da = pytest.importorskip("dask.array")
    x = np.linspace(-6, 6, 101)
    d = da.from_array(x, chunks=17)
    for call, want in ((lambda v: fa.gelu(v, approximate="tanh"), fa.gelu(x, approximate="tanh")),
                       (lambda v: fa.gelu_backward(v, v, approximate="tanh"),
                        fa.gelu_backward(x, x, approximate="tanh")),
                       (lambda v: fa.elu(v, alpha=np.full(101, 2.0)), fa.elu(x, alpha=2.0))):
        r = call(d)
        assert isinstance(r, da.Array)
        np.testing.assert_array_equal(r.compute(), want)


def test_torch_tensors_come_back_as_tensors():
    torch = pytest.importorskip("torch")
    t = torch.linspace(-4, 4, 33, dtype=torch.float64)
    for r, want in ((fa.gelu(t), fa.gelu(t.numpy())),
                    (fa.sigmoid_backward(torch.ones_like(t), t), fa.sigmoid_backward(np.ones(33), t.numpy())),
                    (fa.elu(t, alpha=2.0), fa.elu(t.numpy(), alpha=2.0))):
        assert isinstance(r, torch.Tensor) and r.dtype == torch.float64
        np.testing.assert_array_equal(r.numpy(), want)
    # zero-copy in: computing in place through out= writes the tensor's memory
    u = t.clone()
    view = np.from_dlpack(u)
    fa.relu(view, out=view)
    assert (u >= 0).all()
    with pytest.raises(TypeError, match="gelu: .*cannot"):
        fa.gelu(torch.ones(3, requires_grad=True))


SOFTMAX = [a.name for a in fa.activations().values() if a.kind == "softmax"]


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("name", SOFTMAX)
def test_softmax_family_gufuncs(build, name, dtype):
    """Generalized ufuncs over one axis, equal to the keyword functions: bit
    for bit along the last axis (the same row kernels), within 2 ULP along
    the others (NumPy may hand the loop single rows, computed by the row
    kernels where the keyword functions use the column-block ones)."""
    fwd, bwd = getattr(ufuncs, name), getattr(ufuncs, name + "_backward")
    assert isinstance(fwd, np.ufunc) and fwd.signature == "(n)->(n)"
    assert bwd.signature == "(n),(n)->(n)" and bwd.types == ["ff->f", "dd->d"]
    rng = np.random.default_rng(3)
    x = (rng.standard_normal((6, 40, 9)) * 4).astype(dtype)
    g = rng.standard_normal(x.shape).astype(dtype)
    for axis in (-1, 0, 1):
        y = getattr(fa, name)(x, axis=axis)
        want_b = getattr(fa, name + "_backward")(g, y=y, axis=axis)
        got, got_b = fwd(x, axis=axis), bwd(g, y, axis=axis)
        assert got.dtype == dtype and got_b.dtype == dtype
        if axis == -1:
            np.testing.assert_array_equal(got, y)
            np.testing.assert_array_equal(got_b, want_b)
        else:
            tol = 2 * np.finfo(dtype).eps
            np.testing.assert_allclose(got, y, rtol=tol, atol=np.finfo(dtype).tiny)
            # the backward cancels (g - sum g y): its error is a few eps of |g|, not of the result
            np.testing.assert_allclose(got_b, want_b, rtol=tol, atol=2 * tol * np.abs(g).max())
    # strided rows and a masked array (the mask is NumPy's to keep)
    np.testing.assert_array_equal(fwd(x[:, :, ::2]), getattr(fa, name)(np.ascontiguousarray(x[:, :, ::2])))
    assert isinstance(fwd(np.ma.masked_array(x)), np.ma.MaskedArray)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_glu_maxout_gufuncs(build, dtype):
    """glu (n)->(m) and maxout (m,p)->(m) as generalized ufuncs: bit for bit
    the keyword functions (the same kernels; those are checked against torch
    and NumPy in test_axis_catalogue), on any axis and layout, with NumPy
    working out glu's halved axis."""
    if np.lib.NumpyVersion(np.__version__) < "2.1.0":
        pytest.skip("NumPy < 2.1 cannot size a gufunc's output axis")
    rng = np.random.default_rng(5)
    x = (rng.standard_normal((4, 12, 10)) * 3).astype(dtype)
    x[0, 0, 0], x[1, 1, 5] = np.nan, np.inf
    assert isinstance(ufuncs.glu, np.ufunc) and ufuncs.glu.signature == "(n)->(m)"
    assert ufuncs.glu_backward.signature == "(m),(n)->(n)"
    for ax in (-1, 0, 1):
        want = fa.glu(x, axis=ax)
        g = rng.standard_normal(want.shape).astype(dtype)
        got = ufuncs.glu(x, axes=[(ax,), (ax,)])
        assert got.dtype == dtype
        np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(ufuncs.glu_backward(g, x, axes=[(ax,)] * 3),
                                      fa.glu_backward(g, x, axis=ax))
    strided = x[:, ::3, ::-1]
    np.testing.assert_array_equal(ufuncs.glu(strided, axes=[(1,), (1,)]),
                                  fa.glu(np.ascontiguousarray(strided), axis=1))
    with pytest.raises(ValueError, match="glu: the axis length must be even"):
        ufuncs.glu(x[:, :, :5])
    with pytest.raises(ValueError, match="glu: the output axis has length 4; expected 5"):
        ufuncs.glu(x, out=np.empty((4, 12, 4), dtype))
    with pytest.raises(ValueError, match="glu_backward: the grad axis"):
        ufuncs.glu_backward(np.ones((4, 12, 4), dtype), x)

    assert ufuncs.maxout.signature == "(m,p)->(m)"
    for pieces in (1, 2, 5):
        grouped = x.reshape(4, 12, -1, pieces)
        want = fa.maxout(x, pieces=pieces)
        g = rng.standard_normal(want.shape).astype(dtype)
        np.testing.assert_array_equal(ufuncs.maxout(grouped), want)
        np.testing.assert_array_equal(ufuncs.maxout_backward(g, grouped).reshape(x.shape),
                                      fa.maxout_backward(g, x, pieces=pieces))
        np.testing.assert_array_equal(ufuncs.maxout(grouped[:, ::-2]), fa.maxout(x[:, ::-2], pieces=pieces))
    # groups along axis 0, picked by axes=
    want = fa.maxout(x, pieces=2, axis=0)
    np.testing.assert_array_equal(ufuncs.maxout(x.reshape(2, 2, 12, 10), axes=[(0, 1), (0,)]), want)
    assert np.isnan(ufuncs.maxout(np.ones((3, 0), dtype))).all()       # groups of no entries


AXIS_CALLS = {   # name: (forward kwargs, the backward's second argument)
    "softmax": ({}, "y"), "log_softmax": ({}, "y"), "softmin": ({}, "y"),
    "glu": ({}, "x"), "maxout": ({"pieces": 2}, "x"),
}


def _axis_pair(name, x):
    kw, given = AXIS_CALLS[name]
    fwd, bwd = getattr(fa, name), getattr(fa, name + "_backward")
    y = fwd(x, **kw)
    g = np.cos(np.asarray(y) * 3)
    back = bwd(g, y=y) if given == "y" else bwd(g, x, **kw)
    return y, back, g


@pytest.mark.parametrize("name", sorted(AXIS_CALLS))
def test_axis_functions_keep_pandas_and_xarray_labels(name):
    """The axis functions on pandas and xarray objects: the values of the
    ndarray call (torch-checked elsewhere), the object's type and labels;
    along the axis, glu keeps the labels of the first half, maxout those of
    each group's first entry.  (pandas' own ufunc dispatch would apply a
    generalized ufunc to its column blocks, the wrong axis: not used.)"""
    pd = pytest.importorskip("pandas")
    xr = pytest.importorskip("xarray")
    rng = np.random.default_rng(8)
    values = rng.standard_normal((3, 4))
    kw = AXIS_CALLS[name][0]
    want_y, want_b, _ = _axis_pair(name, values)
    df = pd.DataFrame(values, index=list("pqr"), columns=list("abcd"))
    y, back, g = _axis_pair(name, df)
    assert isinstance(y, pd.DataFrame) and list(y.index) == list("pqr")
    np.testing.assert_array_equal(y.to_numpy(), want_y)
    assert list(y.columns) == {"glu": list("ab"), "maxout": list("ac")}.get(name, list("abcd"))
    np.testing.assert_array_equal(np.asarray(back), want_b)
    s = pd.Series(values[0], index=list("abcd"), name="row")
    ys = getattr(fa, name)(s, **kw)
    assert isinstance(ys, pd.Series) and ys.name == "row"
    np.testing.assert_array_equal(ys.to_numpy(), want_y[0])
    da = xr.DataArray(values, dims=("n", "c"), coords={"c": [10, 20, 30, 40]}, name="v")
    ya = getattr(fa, name)(da, **kw)
    assert isinstance(ya, xr.DataArray) and ya.name == "v" and ya.dims == ("n", "c")
    assert list(ya.coords["c"].values) == {"glu": [10, 20], "maxout": [10, 30]}.get(name, [10, 20, 30, 40])
    np.testing.assert_array_equal(ya.values, want_y)


class _Tagged(np.ndarray):
    pass


@pytest.mark.parametrize("name", sorted(AXIS_CALLS))
def test_axis_functions_on_masked_arrays_and_tensors(name):
    """Masked arrays go through the generalized ufuncs (NumPy keeps the
    type and mask; masked entries take part with their data); torch tensors
    come back as tensors, zero-copy in, and out= may be a tensor."""
    rng = np.random.default_rng(9)
    values = rng.standard_normal((3, 4)).astype(np.float32)
    want_y, want_b, _ = _axis_pair(name, values)
    m = np.ma.masked_array(values, mask=values > 1)
    if name in ("glu", "maxout"):
        with pytest.raises(TypeError, match=f"{name}: x is a masked array"):
            _axis_pair(name, m)
        m = np.asarray(m).view(_Tagged)     # a subclass: through the gufunc, kept
    y, back, _ = _axis_pair(name, m)
    assert type(y) is type(m) and type(back) is type(m)
    np.testing.assert_array_equal(np.asarray(y), want_y)
    np.testing.assert_array_equal(np.asarray(back), want_b)
    torch = pytest.importorskip("torch")
    t = torch.from_numpy(values)
    y, back, _ = _axis_pair(name, t)
    assert isinstance(y, torch.Tensor) and y.dtype == torch.float32
    np.testing.assert_array_equal(y.numpy(), want_y)
    np.testing.assert_array_equal(np.asarray(back), want_b)
    o = torch.empty(tuple(want_y.shape))
    assert getattr(fa, name)(t, out=o, **AXIS_CALLS[name][0]) is o
    np.testing.assert_array_equal(o.numpy(), want_y)


def test_jax_arrays_come_back_as_jax_arrays():
    """A JAX CPU array goes in through DLPack and comes back as a JAX array,
    elementwise and along an axis; JAX arrays are immutable, so out= one is
    refused by name."""
    jnp = pytest.importorskip("jax.numpy")
    values = np.linspace(-4, 4, 12, dtype=np.float32).reshape(3, 4)
    x = jnp.asarray(values)
    for call, want in ((lambda v: fa.sigmoid(v), fa.sigmoid(values)),
                       (lambda v: fa.gelu_backward(v, v, approximate="tanh"),
                        fa.gelu_backward(values, values, approximate="tanh")),
                       (lambda v: fa.softmax(v, axis=0), fa.softmax(values, axis=0)),
                       (lambda v: fa.glu(v), fa.glu(values))):
        got = call(x)
        assert type(got) is type(x) and got.dtype == jnp.float32
        np.testing.assert_array_equal(np.asarray(got), want)
    with pytest.raises(ValueError, match="relu: out is read-only"):
        fa.relu(x, out=x)
