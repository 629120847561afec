# fastact's thread pool, shared by every CPU build (see fa_pool.h).

ctypedef void (*task_fn)(void* ctx, Py_ssize_t item) noexcept nogil

cdef int threads_for(Py_ssize_t n, bint heavy) noexcept nogil
cdef Py_ssize_t chunk_for(Py_ssize_t n, int nthreads, Py_ssize_t align) noexcept nogil
cdef void run(task_fn fn, void* ctx, Py_ssize_t nitems, int nthreads) noexcept nogil
