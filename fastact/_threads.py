"""How many threads the kernels use, and when.

fastact has its own thread pool (``fastact._kernels._fastact_pool``, shared by
every CPU build): its workers sleep between calls instead of spinning, so
they never take a core from BLAS or another process, and a call only goes
parallel when its array is large enough to pay for waking them
(docs/threads.md has the design and the measurements).

The count, in order of precedence: ``set_num_threads`` / ``threads()``;
threadpoolctl's ``threadpool_limits`` (fastact registers itself with it,
``user_api="fastact"``); ``FASTACT_NUM_THREADS``; ``OMP_NUM_THREADS`` (which
joblib/loky and dask set in their workers to avoid oversubscription); else
the CPUs this process may run on.  It never exceeds those CPUs.
"""
from __future__ import annotations

import os
import warnings
from contextlib import contextmanager

from fastact._kernels import _fastact_pool as _pool


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
    """Use up to `n` threads for large arrays (default: the CPUs available).

    More threads than CPUs never help these kernels: the count in use is
    capped at ``available_cpus()``, and ``get_num_threads()`` reports it.
    """
    _pool.set_num_threads(min(_check(n), available_cpus()))


def get_num_threads() -> int:
    """The number of threads large calls will use."""
    return _pool.get_num_threads()


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


def set_parallel_min(n: int) -> None:
    """Calls on fewer than `n` elements (n / 8 for transcendental kernels)
    run on the calling thread alone.  For tuning and tests."""
    _pool.set_parallel_min(_check(n))


def get_parallel_min(heavy: bool = False) -> int:
    """The size from which calls use threads (heavy: transcendental kernels)."""
    return _pool.get_parallel_min(heavy)


def _env_count(name):
    """A positive int from environment variable `name`, or None (with a
    warning if it is set but not one: a variable must not break import)."""
    env = os.environ.get(name, "").strip()
    if not env:
        return None
    try:
        n = int(env.split(",")[0])       # OMP_NUM_THREADS may be a list: "4,2"
    except ValueError:
        n = 0
    if n < 1:
        warnings.warn(f"fastact: {name}={env!r} is not a positive integer; ignored",
                      RuntimeWarning, stacklevel=3)
        return None
    return n


def initial_threads() -> int:
    """FASTACT_NUM_THREADS, else OMP_NUM_THREADS, else the CPUs available."""
    for name in ("FASTACT_NUM_THREADS", "OMP_NUM_THREADS"):
        n = _env_count(name)
        if n is not None:
            return n
    return available_cpus()


def _register_with_threadpoolctl():
    """Let threadpoolctl see and limit fastact's pool, as it does OpenMP and
    BLAS (``threadpool_limits(1)`` then also holds fastact to one thread)."""
    try:
        import threadpoolctl
    except ImportError:
        return
    if not hasattr(threadpoolctl, "register"):       # threadpoolctl < 3.3
        return

    class FastactController(threadpoolctl.LibController):
        user_api = "fastact"
        internal_api = "fastact"
        filename_prefixes = ("_fastact_pool",)

        def get_num_threads(self):
            return get_num_threads()

        def set_num_threads(self, num_threads):
            set_num_threads(max(1, int(num_threads)))

        def get_version(self):
            from fastact._version import __version__
            return __version__

    threadpoolctl.register(FastactController)
