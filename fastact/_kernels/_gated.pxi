# ---- The gated units (ops 12-19): gate(a) * b, a and b the halves of x ----
# x is seen as (outer, K, inner); within an outer slice each half is a
# contiguous block of h = K/2 * inner elements.  The gate is the elementwise
# kernel of _activations.pxd (one definition of each function).  Forward:
# y = gate(a) * b.  Backward (as PyTorch's autograd of the composite): the
# a half gets gate_backward(g * b, a), the b half g * gate(a), both in one
# pass over g and x (out may be x itself: each element is read before written).
#
# Ops: 12, 13 swiglu (silu); 14, 15 geglu (gelu); 16, 17 geglu tanh; 18, 19
# reglu (relu); the even op is the forward, the odd one its backward.

cdef inline void _gated_fwd_block(int op, const floating* a, const floating* b, floating* y,
                                  Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t t
    if op == 12:
        for t in range(n):
            y[t] = silu_fwd(a[t]) * b[t]
    elif op == 14:
        for t in range(n):
            y[t] = gelu_fwd(a[t]) * b[t]
    elif op == 16:
        for t in range(n):
            y[t] = gelu_tanh_fwd(a[t]) * b[t]
    else:
        for t in range(n):
            y[t] = relu_fwd(a[t]) * b[t]


cdef inline void _gated_bwd_block(int op, const floating* g, const floating* a, const floating* b,
                                  floating* da, floating* db, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t t
    cdef floating gt, at, bt
    if op == 13:
        for t in range(n):
            gt = g[t]; at = a[t]; bt = b[t]
            da[t] = silu_bwd_x(gt * bt, at)
            db[t] = gt * silu_fwd(at)
    elif op == 15:
        for t in range(n):
            gt = g[t]; at = a[t]; bt = b[t]
            da[t] = gelu_bwd_x(gt * bt, at)
            db[t] = gt * gelu_fwd(at)
    elif op == 17:
        for t in range(n):
            gt = g[t]; at = a[t]; bt = b[t]
            da[t] = gelu_tanh_bwd_x(gt * bt, at)
            db[t] = gt * gelu_tanh_fwd(at)
    else:
        for t in range(n):
            gt = g[t]; at = a[t]; bt = b[t]
            da[t] = relu_bwd_x(gt * bt, at)
            db[t] = gt * relu_fwd(at)


cdef inline void _gated_range(int op, const floating* g, const floating* x, floating* out,
                              Py_ssize_t h, Py_ssize_t lo, Py_ssize_t hi) noexcept nogil:
    """Elements [lo, hi) of the (outer, h) output (forward) or grad (backward);
    g is unused by a forward."""
    cdef Py_ssize_t o, t, m
    while lo < hi:
        o = lo // h
        t = lo - o * h
        m = h - t if h - t < hi - lo else hi - lo
        if op % 2 == 0:
            _gated_fwd_block(op, x + 2 * o * h + t, x + (2 * o + 1) * h + t, out + o * h + t, m)
        else:
            _gated_bwd_block(op, g + o * h + t, x + 2 * o * h + t, x + (2 * o + 1) * h + t,
                             out + 2 * o * h + t, out + (2 * o + 1) * h + t, m)
        lo += m


cdef struct GatedJob:
    int op, typenum
    const void* g
    const void* x
    void* out
    Py_ssize_t h, n, chunk


cdef void _gated_part(const GatedJob* j, Py_ssize_t lo, Py_ssize_t hi) noexcept nogil:
    if j.typenum == cnp.NPY_FLOAT:
        _gated_range(j.op, <const float*>j.g, <const float*>j.x, <float*>j.out, j.h, lo, hi)
    else:
        _gated_range(j.op, <const double*>j.g, <const double*>j.x, <double*>j.out, j.h, lo, hi)


cdef void _gated_item(void* ctx, Py_ssize_t i) noexcept nogil:
    cdef const GatedJob* j = <const GatedJob*>ctx
    cdef Py_ssize_t lo = i * j.chunk
    _gated_part(j, lo, lo + j.chunk if lo + j.chunk < j.n else j.n)


cdef void _gated_run(GatedJob* j) noexcept nogil:
    """Threads share the flat (outer, h) range in chunks (a 1-d x is split too)."""
    # the work per element is that of the gate's forward (and backward): heavy
    # but for relu, counted on the 2n elements of x
    cdef int nt = threads_for(2 * j.n, j.op < 18)
    if nt <= 1:
        _gated_part(j, 0, j.n)
        return
    j.chunk = chunk_for(j.n, nt, 64)
    run(_gated_item, j, (j.n + j.chunk - 1) // j.chunk, nt)


GATED_OPS = {"swiglu": (12, 13), "geglu": (14, 15), "geglu_tanh": (16, 17), "reglu": (18, 19)}


cdef object _gated_apply(int op, cnp.ndarray a, cnp.ndarray b, cnp.ndarray out,
                         Py_ssize_t outer, Py_ssize_t k, Py_ssize_t inner):
    """Op 12-19 on C-contiguous arrays of one dtype (checked by _api): the
    forwards take x as a; the backwards grad (the output's shape) as a, x as b."""
    cdef GatedJob j
    j.op = op; j.typenum = cnp.PyArray_TYPE(a)
    j.h = (k // 2) * inner
    j.n = outer * j.h
    if op % 2 == 0:
        j.g = NULL; j.x = cnp.PyArray_DATA(a)
    else:
        j.g = cnp.PyArray_DATA(a); j.x = cnp.PyArray_DATA(b)
    j.out = cnp.PyArray_DATA(out)
    j.chunk = j.n
    if j.n == 0:
        return out
    with nogil:
        _gated_run(&j)
    return out
