# cython: freethreading_compatible=True
"""fastact's thread pool and the policy that decides which calls use it.

One module for every CPU build, so that the thread count, the thresholds and
the workers are shared whichever build is active.  The pool itself is C
(fa_pool.h): passive workers, the caller working too, items claimed
dynamically.  docs/threads.md gives the design and the measurements.
"""

cdef extern from "fa_pool.h":
    ctypedef void (*fa_task_fn)(void* ctx, Py_ssize_t item) noexcept nogil
    void fa_pool_init() noexcept nogil
    int fa_pool_run(fa_task_fn fn, void* ctx, Py_ssize_t nitems, int nthreads) noexcept nogil
    int fa_pool_started() noexcept nogil
    long fa_pool_jobs "fa_pool.jobs"
    double fa_pool_linger_us "fa_pool.linger_us"
    long fa_pool_solo "fa_pool.solo"

fa_pool_init()
# How long (microseconds) a worker keeps polling for the next job, yielding
# the core at every turn, before it sleeps (fa_pool.h says why).
fa_pool_linger_us = 0.0

# The thread count in use (set by fastact._threads: the user's request,
# capped at the CPUs available) and the array sizes from which calls use it.
cdef int _num_threads = 1
# Below _parallel_min elements a call runs on the calling thread alone
# (transcendental kernels from _parallel_min / HEAVY_FACTOR): waking a worker
# costs tens of microseconds, and a call in a loop between BLAS calls must
# never pay that for less work.  tools/tune_threads.py measures the values.
cdef Py_ssize_t _parallel_min = 1 << 20
DEF HEAVY_FACTOR = 8
# Work is split into about this many items per thread (claimed dynamically:
# a worker that starts late takes fewer), each a multiple of 64 elements.
DEF ITEMS_PER_THREAD = 4
DEF CHUNK_ALIGN = 64


cdef Py_ssize_t _min_for(bint heavy) noexcept nogil:
    if heavy:
        return _parallel_min // HEAVY_FACTOR if _parallel_min >= HEAVY_FACTOR else 1
    return _parallel_min


cdef int threads_for(Py_ssize_t n, bint heavy) noexcept nogil:
    """How many threads a call of n elements uses: 1 below the threshold,
    else the thread count, with at least half a threshold's work each."""
    cdef Py_ssize_t lim = _min_for(heavy)
    if n < lim or _num_threads <= 1:
        return 1
    cdef Py_ssize_t most = n // (lim // 2 if lim > 1 else 1)
    if most < _num_threads:
        return <int>most if most > 1 else 1
    return _num_threads


cdef Py_ssize_t chunk_for(Py_ssize_t n, int nthreads, Py_ssize_t align) noexcept nogil:
    """Units of work per pool item when n are shared by nthreads: about
    ITEMS_PER_THREAD items per thread, a multiple of align (elements: 64,
    a multiple of any vector width; rows: 1)."""
    cdef Py_ssize_t parts = <Py_ssize_t>nthreads * ITEMS_PER_THREAD
    cdef Py_ssize_t c = n // parts + (n % parts != 0)
    return ((c + align - 1) // align) * align


cdef void run(task_fn fn, void* ctx, Py_ssize_t nitems, int nthreads) noexcept nogil:
    fa_pool_run(<fa_task_fn>fn, ctx, nitems, nthreads)


def set_num_threads(int n):
    global _num_threads
    _num_threads = n if n > 0 else 1


def get_num_threads():
    return _num_threads


def set_parallel_min(Py_ssize_t n):
    global _parallel_min
    _parallel_min = n if n > 0 else 1


def get_parallel_min(bint heavy=False):
    """The size from which calls use threads (heavy: transcendental kernels)."""
    return _min_for(heavy)


def chunk_plan(Py_ssize_t n, int nthreads):
    """(elements per item, items) when n elements are shared by nthreads."""
    cdef Py_ssize_t c = chunk_for(n, nthreads, CHUNK_ALIGN)
    return c, (n + c - 1) // c


def set_linger(double us):
    """How long a worker polls (yielding) for the next job before sleeping."""
    global fa_pool_linger_us
    fa_pool_linger_us = us if us > 0 else 0.0


def get_linger():
    return fa_pool_linger_us


def stats():
    """{'workers': created, 'jobs': run with workers, 'solo': run alone because
    another thread's job had the pool}."""
    return {"workers": fa_pool_started(), "jobs": fa_pool_jobs, "solo": fa_pool_solo}
