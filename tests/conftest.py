import contextlib

import numpy as np
import pytest

import fastact as fa
from fastact import _dispatch

BUILDS = _dispatch.runnable()
ELEMENTWISE = [a for a in fa.activations().values() if a.kind == "elementwise"]


def pytest_report_header(config):
    return (f"fastact {fa.__version__} from {fa.__file__}; CPU builds tested: {', '.join(BUILDS)}; "
            f"threads {fa.get_num_threads()}")


@pytest.fixture(params=BUILDS)
def build(request):
    """Run the test on each CPU build this machine can execute."""
    with _dispatch.use(request.param):
        yield request.param


@pytest.fixture(params=[1, "all"], ids=["1thread", "allthreads"])
def nthreads(request):
    n = 1 if request.param == 1 else max(2, fa._threads.available_cpus())
    with threads_exactly(n), small_parallel_threshold():
        yield n


@contextlib.contextmanager
def threads_exactly(n):
    """n threads in the pool even on a machine with fewer CPUs (fa.threads
    caps the count at the CPUs available), so the threaded path is tested."""
    pool = fa._threads._pool
    old = pool.get_num_threads()
    pool.set_num_threads(n)
    try:
        yield n
    finally:
        pool.set_num_threads(old)


@contextlib.contextmanager
def small_parallel_threshold():
    """Let even small test arrays take the threaded path."""
    old = fa._threads.get_parallel_min()
    fa._threads.set_parallel_min(64)
    try:
        yield
    finally:
        fa._threads.set_parallel_min(old)


def default_params(rec):
    """Every parameter: its default, or the registry's example for a required one."""
    return rec.examples


def fn(name):
    """fa.NAME with the registry's example values bound for required parameters
    (threshold's threshold and value); fa.NAME itself otherwise."""
    import functools
    f = getattr(fa, name)
    base = name[:-len("_backward")] if name.endswith("_backward") else name
    rec = fa.activations().get(base)
    req = {p.name: p.example for p in rec.params if p.required} if rec is not None else {}
    return functools.partial(f, **req) if req else f
