"""Large arrays: element counts and offsets are Py_ssize_t throughout.

The cheap tests check the chunk arithmetic of the threaded loops for counts
far beyond 2**31, and run every CPU build on arrays just above the size
where the kernels start threading and dropping the GIL.  The real test on
more than 2**31 elements needs one 8 GiB float32 buffer (everything runs in
place): it is marked slow and runs only with FASTACT_SLOW_TESTS=1.
"""
import os

import numpy as np
import pytest

import fastact as fa

from conftest import small_parallel_threshold, threads_exactly

SLOW = os.environ.get("FASTACT_SLOW_TESTS", "").strip() in ("1", "true", "yes")


@pytest.mark.parametrize("n", [1, 63, 64, 65, 2**16 + 1, 2**31 - 1, 2**31, 2**31 + 64, 2**32 + 7,
                               2**40 + 3, 2**61 - 1])   # 2**61: NumPy caps nbytes below 2**63
@pytest.mark.parametrize("nthreads", [1, 2, 3, 7, 64, 1000])
def test_chunk_plan(n, nthreads):
    chunk, count = fa._threads._pool.chunk_plan(n, nthreads)
    assert chunk > 0 and chunk % 64 == 0
    assert 1 <= count <= 4 * nthreads          # about 4 items per thread
    # chunks [i*chunk, min(n, (i+1)*chunk)) cover [0, n) exactly, none empty
    assert (count - 1) * chunk < n <= count * chunk


@pytest.mark.parametrize("name", [a.name for a in fa.activations().values() if a.kind == "elementwise"])
def test_threaded_sizes_around_chunks(name):
    """Sizes just off the chunk multiples, on 2 threads: every element is
    computed once (compare with one thread).  Parameters: the registry's
    defaults, and its examples for required ones (threshold)."""
    kw = fa.activations()[name].examples
    f = lambda x, **k: getattr(fa, name)(x, **kw, **k)     # noqa: E731
    rng = np.random.default_rng(0)
    for n in (2**16 - 1, 2**16 + 63, 2**17 + 1, 3 * 2**16 + 65):
        x = (rng.standard_normal(n) * 4).astype(np.float32)
        with fa.threads(1):
            one = f(x)
        with threads_exactly(2), small_parallel_threshold():
            two = f(x)
            inplace = x.copy()
            f(inplace, out=inplace)
        np.testing.assert_array_equal(one, two)
        np.testing.assert_array_equal(one, inplace)


@pytest.mark.slow
@pytest.mark.skipif(not SLOW, reason="needs 8 GiB of memory; set FASTACT_SLOW_TESTS=1")
def test_more_than_2_31_elements():
    n = 2**31 + 64 * 3 + 5                       # float32: 8 GiB + a little
    x = np.empty(n, dtype=np.float32)
    # a pattern that shows any misplaced chunk: x[i] = (i % 1000 - 500) / 100
    pattern = ((np.arange(1 << 20) % 1000) - 500).astype(np.float32) / np.float32(100)
    for lo in range(0, n, 1 << 20):
        m = min(1 << 20, n - lo)
        x[lo:lo + m] = pattern[:m] if lo % 1000 == 0 else ((np.arange(lo, lo + m) % 1000) - 500) / 100
    probes = np.array([0, 1, 2**31 - 1, 2**31, 2**31 + 1, n - 65, n - 1] +
                      list(np.random.default_rng(1).integers(0, n, 50)))
    xp = x[probes].copy()
    nth = max(2, fa._threads.available_cpus())
    with fa.threads(nth):
        # forward in place: relu, then the unary kernel at offsets past 2**31
        fa.tanh(x, out=x)
        np.testing.assert_array_equal(x[probes], fa.tanh(xp))
        yp = x[probes].copy()
        # backward in place with grad = y = out: the binary kernel
        fa.sigmoid_backward(x, y=x, out=x)
        np.testing.assert_array_equal(x[probes], fa.sigmoid_backward(yp, y=yp))
        # softmax along an axis longer than 2**31 (and one after it)
        big = x[: 2**31 + 64]
        big[:] = 0
        big[-1] = 1
        fa.softmax(big, out=big)
        e = np.float64(np.e)
        total = (2**31 + 63) + e
        np.testing.assert_allclose(big[[0, 2**31, 2**31 + 62]], 1 / total, rtol=1e-4)
        np.testing.assert_allclose(big[-1], e / total, rtol=1e-4)
