"""End-to-end workloads: fastact where users call it, between matrix multiplies.

A kernel timed alone says little about a program: there fastact runs between
BLAS calls, whose threads want the same cores.  Two workloads, each timed
in one interleaved run (``python -m fastact bench --workload``, and
benchmarks/test_workload.py):

* ``step``: one float32 training step of a dense layer,
  ``z = a @ w; y = f(z); gz = f_backward(g, z); gx = gz @ w.T``, at
  64x256, 200x256, 256x1024 and 1024x1024, for gelu, tanh, sigmoid and relu:
  fastact at its default threads, fastact on one thread, and the NumPy
  expressions, with BLAS at its default threads throughout;
* ``sklearn``: ``MLPClassifier(hidden_layer_sizes=(256, 256))`` fitted on
  ``load_digits``, stock against ``fastact.sklearn.patch()``, for relu, tanh
  and logistic in float32 and float64 (needs scikit-learn).
"""
from __future__ import annotations

import time
import warnings

import numpy as np

import fastact as fa
from fastact import _info, _threads
from fastact._bench.timing import _ThreadSetter, interleaved
from fastact._baseline import NUMPY

STEP_SHAPES = ((64, 256), (200, 256), (256, 1024), (1024, 1024))
STEP_ACTIVATIONS = ("gelu", "tanh", "sigmoid", "relu")
SKLEARN_ACTIVATIONS = ("relu", "tanh", "logistic")


def step_functions(name, m, n, dtype="float32", seed=0):
    """{impl: zero-argument training step} for activation `name` on an (m, n)
    batch through an (n, n) layer: "fastact" and "numpy" (the expressions of
    fastact._baseline)."""
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((m, n)).astype(dtype)
    w = (rng.standard_normal((n, n)) / np.sqrt(n)).astype(dtype)
    g = rng.standard_normal((m, n)).astype(dtype)
    fwd, bwd = getattr(fa, name), getattr(fa, name + "_backward")
    np_fwd, np_bwd = NUMPY[name]["forward"], NUMPY[name]["x"]

    def fastact_step():
        z = a @ w
        y = fwd(z)
        gz = bwd(g, z)
        return y, gz @ w.T

    def numpy_step():
        z = a @ w
        y = np_fwd(z, None, {})
        gz = np_bwd(z, g, {})
        return y, gz @ w.T

    return {"fastact": fastact_step, "numpy": numpy_step}


def _fastest(impls, rounds, budget_s):
    """{label: (fn, 1 or "all")} timed round-robin by the bench's harness: the
    fastest of `rounds` samples of about budget_s each, in seconds per call.
    The minimum, as timeit takes it: a VM's stalls only ever add time, and the
    implementations compared here often run the very same code."""
    set_threads = _ThreadSetter(fa.get_num_threads())
    try:
        samples = interleaved(impls, set_threads, rounds=rounds, sample_s=budget_s)
    finally:
        set_threads.restore()
    return {label: min(s) for label, s in samples.items()}


def _pool_jobs(fn):
    """How many jobs one call of fn runs on fastact's thread pool."""
    before = _threads._pool.stats()["jobs"]
    fn()
    return _threads._pool.stats()["jobs"] - before


def bench_step(shapes=STEP_SHAPES, activations=STEP_ACTIVATIONS, rounds=31, budget_s=0.003):
    """Rows of the training-step workload: ms per step for fastact at default
    threads, fastact on one thread and NumPy, and the ratios."""
    rows = []
    default = fa.get_num_threads()
    for m, n in shapes:
        for name in activations:
            f = step_functions(name, m, n)
            t = _fastest({"default": (f["fastact"], "all"), "one": (f["fastact"], 1),
                          "numpy": (f["numpy"], "all")}, rounds, budget_s)
            rows.append({"activation": name, "shape": f"{m}x{n}", "threads": default,
                         "pool_jobs": _pool_jobs(f["fastact"]),
                         "default_ms": t["default"] * 1e3, "one_thread_ms": t["one"] * 1e3,
                         "numpy_ms": t["numpy"] * 1e3,
                         "default_vs_one": t["default"] / t["one"],
                         "numpy_vs_default": t["numpy"] / t["default"]})
    return rows


def sklearn_fit(activation, dtype, patched, max_iter=20, seed=0):
    """Seconds to fit MLPClassifier((256, 256)) on load_digits, stock or patched."""
    from sklearn.datasets import load_digits
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    import fastact.sklearn as fsk
    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(dtype)
    clf = MLPClassifier(hidden_layer_sizes=(256, 256), activation=activation, max_iter=max_iter,
                        random_state=seed, batch_size=200, tol=0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        t0 = time.perf_counter()
        if patched:
            with fsk.patch():
                clf.fit(X, y)
        else:
            clf.fit(X, y)
        return time.perf_counter() - t0, clf.score(X, y)


def bench_sklearn(activations=SKLEARN_ACTIVATIONS, dtypes=("float32", "float64"), rounds=5,
                  max_iter=20):
    """Rows of the scikit-learn workload: the fastest fit, stock and patched,
    alternating, and stock / patched (> 1: fastact faster)."""
    rows = []
    for act in activations:
        for dt in dtypes:
            times = {False: [], True: []}
            for r in range(rounds):
                for patched in ((False, True) if r % 2 == 0 else (True, False)):
                    times[patched].append(sklearn_fit(act, dt, patched, max_iter)[0])
            stock, fast = min(times[False]), min(times[True])
            rows.append({"activation": act, "dtype": dt, "stock_s": stock, "patched_s": fast,
                         "speedup": stock / fast})
    return rows


def report(step_rows, sklearn_rows):
    """The workload tables as text, with a verdict line for each target."""
    lines = []
    if step_rows:
        nt = step_rows[0]["threads"]
        lines += [f"Training step z = a @ w; f(z); f_backward(g, z); g @ w.T (float32, BLAS at "
                  f"its default threads), ms per step (fastest of the rounds):",
                  f"{'activation':<10} {'shape':>10} {'default (' + str(nt) + 't)':>13} "
                  f"{'1 thread':>9} {'NumPy':>9} {'default/1t':>11} {'NumPy/default':>14} "
                  f"{'pool jobs':>10}"]
        for r in step_rows:
            lines.append(f"{r['activation']:<10} {r['shape']:>10} {r['default_ms']:13.3f} "
                         f"{r['one_thread_ms']:9.3f} {r['numpy_ms']:9.3f} "
                         f"{r['default_vs_one']:11.2f} {r['numpy_vs_default']:14.2f} "
                         f"{r['pool_jobs']:10d}")
        worst = max(step_rows, key=lambda r: r["default_vs_one"])
        slowest = min(step_rows, key=lambda r: r["numpy_vs_default"])
        lines.append(f"{'PASS' if worst['default_vs_one'] <= 1.1 else 'MISS'} default threads "
                     f"within 1.1x of one thread in every step (worst {worst['default_vs_one']:.2f}x, "
                     f"{worst['activation']} {worst['shape']})")
        lines.append(f"{'PASS' if slowest['numpy_vs_default'] >= 1.0 else 'MISS'} fastact at least "
                     f"as fast as the NumPy expressions in every step (least "
                     f"{slowest['numpy_vs_default']:.2f}x, {slowest['activation']} {slowest['shape']})")
    if sklearn_rows:
        lines += ["", "scikit-learn MLPClassifier((256, 256)) on load_digits, seconds per fit "
                  "(fastest of the rounds), stock vs fastact.sklearn.patch():",
                  f"{'activation':<10} {'dtype':<8} {'stock':>8} {'patched':>8} {'stock/patched':>14}"]
        for r in sklearn_rows:
            lines.append(f"{r['activation']:<10} {r['dtype']:<8} {r['stock_s']:8.3f} "
                         f"{r['patched_s']:8.3f} {r['speedup']:14.2f}")
        least = min(sklearn_rows, key=lambda r: r["speedup"])
        lines.append(f"{'PASS' if least['speedup'] >= 1.0 else 'MISS'} patched fits at least as fast "
                     f"as stock (least {least['speedup']:.2f}x, {least['activation']} {least['dtype']})")
    return "\n".join(lines)


def run(args):
    """python -m fastact bench --workload: both workloads, the report, and
    the JSON if asked (exit status 0 whatever the verdicts)."""
    import json
    import sys
    try:
        import sklearn  # noqa: F401
        have_sklearn = True
    except ImportError:
        have_sklearn = False
    print(f"fastact {fa.__version__}, {fa.get_num_threads()} threads by default; "
          f"the NumPy training step with BLAS at its default threads", file=sys.stderr)
    step = bench_step()
    fits = bench_sklearn() if have_sklearn else []
    print(report(step, fits))
    if not have_sklearn:
        print("(scikit-learn is not installed: its workload was skipped)")
    if getattr(args, "json", None):
        with open(args.json, "w") as f:
            json.dump({"step": step, "sklearn": fits, "config": _info.config()}, f, indent=1)
    return 0
