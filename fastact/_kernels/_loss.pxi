# Reductions along the last axis, fused: logsumexp (op 20) and its backward
# (21), softmax cross-entropy (22), its backward (23), and both at once (24:
# the loss per row and the gradient for a given upstream gradient, from one
# pass of exponentials; fastact.nn.CrossEntropyLoss runs it).  The array is
# C-contiguous, seen as (rows, K); fastact._loss moves another axis last.
# One work item is a block of rows; a row's result depends on that row only,
# so the numbers do not depend on the threads.  The row maximum, the
# corrected e^(x - m) and the compensated sums are the softmax's (_axis.pxi).

cdef extern from *:
    """
    /* a row times a constant, kept out of line: inlined into the row kernels
       gcc left this loop scalar (a third of the backward's time) */
    static FA_NOINLINE void fa_scale_f32(float* a, Py_ssize_t n, float c) {
        Py_ssize_t i; for (i = 0; i < n; i++) a[i] = c * a[i]; }
    static FA_NOINLINE void fa_scale_f64(double* a, Py_ssize_t n, double c) {
        Py_ssize_t i; for (i = 0; i < n; i++) a[i] = c * a[i]; }
    """
    void fa_scale_f32(float*, Py_ssize_t, float) noexcept nogil
    void fa_scale_f64(double*, Py_ssize_t, double) noexcept nogil


cdef inline void _scale(floating* a, Py_ssize_t n, double c) noexcept nogil:
    """a *= c, c rounded to a's type first (one rounding more than c * a in double)."""
    if floating is float:
        fa_scale_f32(a, n, <float>c)
    else:
        fa_scale_f64(a, n, c)


cdef struct LossJob:
    int op, typenum
    const void* x
    const void* tp          # probability targets (x's dtype and shape), or NULL
    const int64_t* ti       # class-index targets (one per row), or NULL
    const double* w         # class weights (K), or NULL
    const double* gs        # per-row upstream gradient (ops 21, 23), or NULL: gscalar
    double gscalar
    int* bad                # set when a class index is out of range
    void* out               # per-row results (op 20), x's shape (21, 23)
    double* rows            # per-row losses (op 22)
    double eps, wsum        # label smoothing; the sum of the weights (K if none)
    int64_t ignore
    Py_ssize_t k, n


cdef inline bint _row_lse(const floating* x, Py_ssize_t k, floating* mp, double* lp) noexcept nogil:
    """m = max(x) and l = log(sum e^(x - m)) (so lse = m + l), l in double;
    False when m is not finite (then l is not computed)."""
    cdef floating m = _row_max(x, k, False)
    cdef double s, c
    mp[0] = m
    if not (m - m == 0):
        return False
    if floating is float:
        s = _row_expsum_split(x, k, m, &c)
    else:
        s = _row_expsum(x, <floating*>NULL, k, m, <floating>1.0, &c, False, True)
    lp[0] = _log_sum(s, c)
    return True


cdef inline double _lse_special(const floating* x, Py_ssize_t k, floating m) noexcept nogil:
    """logsumexp of a row whose maximum is not finite: nan if a nan is in it,
    else m (+inf, or -inf for a row of -inf), as torch.logsumexp."""
    cdef Py_ssize_t j
    for j in range(k):
        if x[j] != x[j]:
            return NAN
    return <double>m


cdef inline void _lse_row(const floating* x, floating* out, Py_ssize_t k) noexcept nogil:
    cdef floating m
    cdef double l
    if _row_lse(x, k, &m, &l):
        out[0] = <floating>(<double>m + l)
    else:
        out[0] = <floating>_lse_special(x, k, m)


cdef inline void _lse_bwd_row(double g, const floating* x, floating* out, Py_ssize_t k) noexcept nogil:
    # g softmax(x); a row whose maximum is not finite: g e^(x - lse) as torch
    cdef Py_ssize_t j
    cdef floating m = _row_max(x, k, False)
    cdef floating lse
    cdef double s, c
    if m - m == 0:
        # e^(x - m) stored, then times g / sum: within 3 ULP of g softmax(x)
        s = _row_expsum(x, out, k, m, <floating>1.0, &c, True, floating is double)
        _scale(out, k, g / (s + c))
    else:
        lse = <floating>_lse_special(x, k, m)
        for j in range(k):
            out[j] = <floating>g * exp_(x[j] - lse)


cdef inline int64_t _ce_target(const LossJob* jb, Py_ssize_t r) noexcept nogil:
    """Row r's class index; -1 if ignored (or for probability targets); an
    index outside [0, K) sets jb.bad and counts as ignored."""
    cdef int64_t t
    if jb.ti == NULL:
        return -1
    t = jb.ti[r]
    if t == jb.ignore:
        return -1
    if t < 0 or t >= jb.k:
        jb.bad[0] = 1
        return -1
    return t


cdef inline double _ce_loss(const LossJob* jb, const floating* x, const floating* p,
                            int64_t t, floating m, double l) noexcept nogil:
    """The row's loss before the reduction, given m and l (logp = x - m - l):
    class index t: (1 - eps) w_t (-logp_t) + eps/K sum_c w_c (-logp_c);
    probabilities: sum_c w_c p'_c (-logp_c), p' = (1 - eps) p + eps/K.
    -logp = l - (x - m): both terms >= 0, nothing cancels."""
    cdef Py_ssize_t c, k = jb.k
    cdef double v, s = 0.0, comp = 0.0, pc
    cdef double eps = jb.eps, ek = jb.eps / <double>jb.k
    if jb.ti != NULL:
        v = (1.0 - eps) * (jb.w[t] if jb.w != NULL else 1.0) * (l - (<double>x[t] - <double>m))
        if eps == 0.0:
            return v
        for c in range(k):
            _add_compensated(&s, &comp, (jb.w[c] if jb.w != NULL else 1.0)
                             * (l - (<double>x[c] - <double>m)))
        return v + ek * (s + comp)
    for c in range(k):
        pc = (1.0 - eps) * <double>p[c] + ek if eps != 0.0 else <double>p[c]
        if jb.w != NULL:
            pc = pc * jb.w[c]
        _add_compensated(&s, &comp, pc * (l - (<double>x[c] - <double>m)))
    return s + comp


cdef inline double _ce_row(const LossJob* jb, const floating* x, const floating* p,
                           Py_ssize_t r) noexcept nogil:
    """The row's loss (0 if its target is ignored, nan if its maximum is not finite)."""
    cdef floating m
    cdef double l
    cdef int64_t t = _ce_target(jb, r)
    if jb.ti != NULL and t < 0:
        return 0.0
    if not _row_lse(x, jb.k, &m, &l):
        return NAN
    return _ce_loss(jb, x, p, t, m, l)


cdef inline double _stored_log_sum(const floating* x, const floating* e, Py_ssize_t k,
                                  floating m, double s, double comp) noexcept nogil:
    """log(s + comp), s + comp the sum of the stored terms e = e^(x - m).
    float32 sums them in plain double lanes, which round the lane that holds
    a 1 to double's ULP: where the terms beside the 1s add up to less than
    1/16 (a confident row, whose loss is that small part), that part is
    added again without the 1s (the count of x == m is exact) so that
    log1p keeps it to float's rounding."""
    cdef Py_ssize_t j
    cdef double ones = 0.0, rest = 0.0
    if floating is float:
        if (s - 1.0) + comp < 0.0625:
            for j in range(k):
                if x[j] == m:
                    ones += 1.0
                else:
                    rest += e[j]
            return log1p((ones - 1.0) + rest)
    return _log_sum(s, comp)


cdef inline void _ce_bwd_row(const LossJob* jb, const floating* x, const floating* p,
                             floating* out, Py_ssize_t r, double* loss) noexcept nogil:
    """dL/dx of the row: gs (A softmax_c - B_c), class index t:
    A = (1 - eps) w_t + eps/K W, B_c = (1 - eps) w_t [c == t] + eps/K w_c;
    probabilities: A = sum_c w_c p'_c, B_c = w_c p'_c.  At c = t,
    softmax_t - 1 = -(the other terms' sum) / sum: no cancellation.
    loss: NULL, or where the row's loss goes (op 24: from the same sum,
    _stored_log_sum)."""
    cdef Py_ssize_t c, k = jb.k
    cdef floating m = _row_max(x, k, False)
    cdef double s, comp, a, cf, others, ek = jb.eps / <double>jb.k
    cdef double g = jb.gs[r] if jb.gs != NULL else jb.gscalar
    cdef double eps = jb.eps, wt = 1.0, pa = 0.0, pcomp = 0.0, pc
    cdef int64_t t = _ce_target(jb, r)
    if jb.ti != NULL and t < 0:
        g = 0.0                         # ignored: 0, but nan rows stay nan (as torch)
    if not (m - m == 0):
        for c in range(k):
            out[c] = NAN
        if loss != NULL:
            loss[0] = 0.0 if (jb.ti != NULL and t < 0) else NAN
        return
    s = _row_expsum(x, out, k, m, <floating>1.0, &comp, True, floating is double)
    if loss != NULL:
        loss[0] = 0.0 if (jb.ti != NULL and t < 0) else _ce_loss(jb, x, p, t, m,
                                                                  _stored_log_sum(x, out, k, m, s, comp))
    if jb.ti != NULL:
        if t >= 0 and jb.w != NULL:
            wt = jb.w[t]
        a = (1.0 - eps) * wt + ek * jb.wsum
    else:
        for c in range(k):
            pc = (1.0 - eps) * <double>p[c] + ek if eps != 0.0 else <double>p[c]
            _add_compensated(&pa, &pcomp, pc * jb.w[c] if jb.w != NULL else pc)
        a = pa + pcomp
    cf = g * a / (s + comp)
    if jb.ti != NULL and jb.w == NULL and eps == 0.0:
        # the common case: out = cf e^(x - m), then the target's entry
        _scale(out, k, cf)          # cf e in out's type: 1 ULP more than in double, 2x the speed
    elif jb.ti != NULL:
        for c in range(k):
            out[c] = <floating>(cf * <double>out[c] - g * ek * (jb.w[c] if jb.w != NULL else 1.0))
    else:
        for c in range(k):
            pc = (1.0 - eps) * <double>p[c] + ek if eps != 0.0 else <double>p[c]
            if jb.w != NULL:
                pc = pc * jb.w[c]
            out[c] = <floating>(cf * <double>out[c] - g * pc)
    if t >= 0:
        # e_t is exactly 1 when x_t = m, and s - e_t is exact when e_t >= s / 2
        # (Sterbenz): the other terms' sum, with the sum's compensation
        others = (s - <double>_exp_diff(x[t], m, _one(m))) + comp
        out[t] = <floating>(-g * a * others / (s + comp)
                            + g * ek * (jb.wsum - (jb.w[t] if jb.w != NULL else 1.0)))


cdef inline void _loss_rows(const LossJob* jb, Py_ssize_t lo, Py_ssize_t hi,
                            floating like) noexcept nogil:
    cdef const floating* x = <const floating*>jb.x
    cdef const floating* p = <const floating*>jb.tp
    cdef floating* out = <floating*>jb.out
    cdef Py_ssize_t r, k = jb.k
    for r in range(lo, hi):
        if jb.op == 20:
            _lse_row(x + r * k, out + r, k)
        elif jb.op == 21:
            _lse_bwd_row(jb.gs[r] if jb.gs != NULL else jb.gscalar, x + r * k, out + r * k, k)
        elif jb.op == 22:
            jb.rows[r] = _ce_row(jb, x + r * k, p + r * k if p != NULL else p, r)
        elif jb.op == 23:
            _ce_bwd_row(jb, x + r * k, p + r * k if p != NULL else p, out + r * k, r, NULL)
        else:
            _ce_bwd_row(jb, x + r * k, p + r * k if p != NULL else p, out + r * k, r, jb.rows + r)


cdef void _loss_items(void* ctx, Py_ssize_t lo, Py_ssize_t hi) noexcept nogil:
    cdef const LossJob* jb = <const LossJob*>ctx
    if jb.typenum == cnp.NPY_FLOAT:
        _loss_rows(jb, lo, hi, <float>0)
    else:
        _loss_rows(jb, lo, hi, <double>0)


cdef void _loss_run(LossJob* jb) noexcept nogil:
    run_ranges(_loss_items, jb, jb.n, jb.n * jb.k, True)


LOSS_OPS = {"logsumexp": 20, "logsumexp_backward": 21, "cross_entropy": 22,
            "cross_entropy_backward": 23, "cross_entropy_both": 24}


cdef const void* _data_or_null(object a, int typenum, Py_ssize_t size, str what) except? NULL:
    if a is None:
        return NULL
    cdef cnp.ndarray aa = <cnp.ndarray?>a
    if (cnp.PyArray_TYPE(aa) != typenum or not cnp.PyArray_IS_C_CONTIGUOUS(aa)
            or cnp.PyArray_SIZE(aa) < size):
        raise ValueError(f"loss_apply: {what} must be C-contiguous, of {size} elements")
    return cnp.PyArray_DATA(aa)


def loss_apply(int op, x, Py_ssize_t n, Py_ssize_t k, out=None, rows=None, gs=None,
               ti=None, tp=None, w=None, double eps=0.0, double wsum=0.0,
               long long ignore=-100, double gscalar=0.0):
    """Run loss op `op` on x, C-contiguous float32/float64 of n rows of k
    (checked by fastact._loss; the sizes here again).

    op 20: out[r] = logsumexp(x[r]) (out: n, x's dtype); 21: out = gs[r]
    softmax(x[r]) (out: x's shape and dtype, gs: n float64); 22: rows[r] =
    the cross-entropy of row r before the reduction (rows: n float64); 23:
    out = its gradient times gs[r] (gs None: gscalar for every row); 24: both
    (rows and out).  ti: int64 class indices (n) or tp:
    probabilities (x's shape and dtype); w: float64 class weights (k) or None;
    eps: label smoothing; wsum: sum of w (k if None); ignore: ignore_index.
    Returns False if a class index (other than ignore) is outside [0, k)
    (the results are then not defined), else True.
    """
    cdef cnp.ndarray xa = <cnp.ndarray?>x
    cdef int typenum = cnp.PyArray_TYPE(xa)
    if typenum != cnp.NPY_FLOAT and typenum != cnp.NPY_DOUBLE:
        raise ValueError("loss_apply: x must be float32 or float64")
    cdef LossJob j
    j.op = op; j.typenum = typenum; j.k = k; j.n = n; j.eps = eps; j.wsum = wsum
    j.ignore = ignore
    j.x = _data_or_null(x, typenum, n * k, "x")
    j.tp = _data_or_null(tp, typenum, n * k, "tp")
    j.ti = <const int64_t*>_data_or_null(ti, cnp.NPY_INT64, n, "ti")
    j.w = <const double*>_data_or_null(w, cnp.NPY_DOUBLE, k, "w")
    cdef int bad = 0
    j.gs = <const double*>_data_or_null(gs, cnp.NPY_DOUBLE, n, "gs")
    j.gscalar = gscalar
    j.bad = &bad
    j.rows = <double*>_data_or_null(rows, cnp.NPY_DOUBLE, n, "rows")
    j.out = <void*>_data_or_null(out, typenum, n if op == 20 else n * k, "out")
    if (op != 22 and j.out == NULL) or (op in (22, 24) and j.rows == NULL) or not 20 <= op <= 24:
        raise ValueError(f"loss_apply: op {op} lacks an array")
    if op >= 22 and (j.ti == NULL) == (j.tp == NULL):
        raise ValueError("loss_apply: pass one of ti and tp")
    if n * k == 0:
        return True
    with nogil:
        _loss_run(&j)
    return bad == 0
