"""How many threads the kernels use.

The count is a C int in the kernel module, passed as ``num_threads`` to every
OpenMP loop (``omp_set_num_threads`` would affect only the calling thread),
and capped at call time by OpenMP's own limit, so threadpoolctl's
``threadpool_limits(1, user_api="openmp")`` is honoured.  Arrays smaller than
a tuned size run on one thread whatever the setting.
"""
from __future__ import annotations

import os
from contextlib import contextmanager

from fastact import _dispatch


def available_cpus() -> int:
    """The CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _check(n, name="n"):
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"fastact.set_num_threads: {name} must be an int, got {type(n).__name__}")
    if n < 1:
        raise ValueError(f"fastact.set_num_threads: {name} must be >= 1, got {n}")
    return n


def set_num_threads(n: int) -> None:
    """Use up to `n` threads for large arrays (default: the CPUs available)."""
    _dispatch.active_module().set_num_threads(_check(n))


def get_num_threads() -> int:
    """The thread count in force."""
    return _dispatch.active_module().get_num_threads()


@contextmanager
def threads(n: int):
    """Context manager: use `n` threads inside the block, then restore.

    The setting is process-wide, not per Python thread.
    """
    _check(n)
    previous = get_num_threads()
    set_num_threads(n)
    try:
        yield
    finally:
        set_num_threads(previous)


def initial_threads() -> int:
    """FASTACT_NUM_THREADS if set, else the CPUs available."""
    env = os.environ.get("FASTACT_NUM_THREADS", "").strip()
    if env:
        try:
            n = int(env)
        except ValueError:
            raise ValueError(f"fastact: FASTACT_NUM_THREADS must be a positive integer, got {env!r}") from None
        if n < 1:
            raise ValueError(f"fastact: FASTACT_NUM_THREADS must be a positive integer, got {env!r}")
        return n
    return available_cpus()
