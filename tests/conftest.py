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
    with fa.threads(n), _small_parallel_threshold():
        yield n


class _small_parallel_threshold:
    """Let even small test arrays take the threaded path."""

    def __enter__(self):
        mod = _dispatch.active_module()
        self.old = mod.get_parallel_min()
        mod.set_parallel_min(64)

    def __exit__(self, *exc):
        _dispatch.active_module().set_parallel_min(self.old)


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
