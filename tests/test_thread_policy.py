"""The threading policy (docs/threads.md), checked by counting, not timing.

Which calls go to the pool, which limits are honoured (set_num_threads,
threads(), threadpoolctl, FASTACT_NUM_THREADS, OMP_NUM_THREADS), that idle
workers use no CPU, that a forked child computes with threads, and that an
environment variable never breaks import.
"""
import multiprocessing
import os
import subprocess
import sys
import time

import numpy as np
import pytest

import fastact as fa
from fastact import _threads

from conftest import threads_exactly

pool = _threads._pool


def _jobs():
    return pool.stats()["jobs"]


def _pooled(call):
    """Whether `call` ran a job on the pool."""
    before = _jobs()
    call()
    return _jobs() > before


@pytest.fixture
def two_threads():
    with threads_exactly(2):
        yield


def test_small_calls_stay_on_the_calling_thread(two_threads):
    cheap, heavy = _threads.get_parallel_min(), _threads.get_parallel_min(True)
    assert heavy < cheap
    x = np.ones(heavy - 1, np.float32)
    assert not _pooled(lambda: fa.relu(x))
    assert not _pooled(lambda: fa.sigmoid(x))
    assert not _pooled(lambda: fa.sigmoid_backward(x, x))
    assert not _pooled(lambda: fa.softmax(x.reshape(1, -1)))


def test_large_calls_use_the_pool(two_threads):
    heavy = _threads.get_parallel_min(True)
    x = np.ones(heavy, np.float32)
    assert _pooled(lambda: fa.sigmoid(x))                 # transcendental: from `heavy`
    assert not _pooled(lambda: fa.relu(x))                # cheap: not yet
    big = np.ones(_threads.get_parallel_min(), np.float32)
    assert _pooled(lambda: fa.relu(big))
    assert _pooled(lambda: fa.relu_backward(big, big, out=big))
    assert _pooled(lambda: fa.softmax(big.reshape(64, -1)))
    assert _pooled(lambda: fa.glu(big.reshape(64, -1)))


@pytest.mark.parametrize("limit", ["set_num_threads", "threads", "threadpoolctl", "threadpoolctl_fastact"])
def test_limits_are_honoured(two_threads, limit):
    x = np.ones(4 * _threads.get_parallel_min(), np.float32)
    if limit == "set_num_threads":
        old = fa.get_num_threads()
        fa.set_num_threads(1)
        try:
            assert not _pooled(lambda: fa.sigmoid(x))
        finally:
            pool.set_num_threads(old)
    elif limit == "threads":
        with fa.threads(1):
            assert fa.get_num_threads() == 1
            assert not _pooled(lambda: fa.sigmoid(x))
    else:
        threadpoolctl = pytest.importorskip("threadpoolctl")
        api = "fastact" if limit == "threadpoolctl_fastact" else None
        with threadpoolctl.threadpool_limits(1, user_api=api):
            assert fa.get_num_threads() == 1
            assert not _pooled(lambda: fa.sigmoid(x))
    assert _pooled(lambda: fa.sigmoid(x))                  # the limit is lifted afterwards


def test_threadpoolctl_lists_fastact():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    info = [i for i in threadpoolctl.threadpool_info() if i["user_api"] == "fastact"]
    assert len(info) == 1
    assert info[0]["num_threads"] == fa.get_num_threads()
    assert info[0]["version"] == fa.__version__
    assert "_fastact_pool" in os.path.basename(info[0]["filepath"])


def test_more_threads_than_cpus_are_capped():
    with fa.threads(64):
        assert fa.get_num_threads() == min(64, _threads.available_cpus())
    with pytest.raises(ValueError, match="set_num_threads: n must be >= 1"):
        fa.set_num_threads(0)


def test_idle_workers_use_no_cpu(two_threads):
    """After a threaded call the workers sleep: their CPU time does not grow
    (OpenMP's spinning workers burned a core for milliseconds after every
    call, which is what slowed BLAS down)."""
    if not os.path.isdir(f"/proc/{os.getpid()}/task"):
        pytest.skip("needs Linux /proc")
    x = np.ones(4 * _threads.get_parallel_min(), np.float32)
    assert _pooled(lambda: fa.sigmoid(x))

    def worker_ticks():
        total = 0
        me = os.getpid()
        for tid in os.listdir(f"/proc/{me}/task"):
            if int(tid) == me:
                continue
            try:
                with open(f"/proc/{me}/task/{tid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except FileNotFoundError:
                continue
            total += int(fields[11]) + int(fields[12])       # utime + stime, clock ticks
        return total

    time.sleep(0.05)
    before = worker_ticks()
    time.sleep(0.5)
    # 0.5 s of spinning would be ~50 ticks; allow a tick of noise
    assert worker_ticks() - before <= 1


def _child_sigmoid(q):
    x = np.linspace(-5, 5, 4 * fa._threads.get_parallel_min(), dtype=np.float32)
    with threads_exactly(2):
        q.put(bool(np.array_equal(fa.sigmoid(x), fa.sigmoid(x[::-1])[::-1])) and pool.stats()["jobs"] >= 1)


@pytest.mark.skipif(sys.platform == "win32" or "fork" not in multiprocessing.get_all_start_methods(),
                    reason="needs fork")
def test_forked_child_computes_with_threads(two_threads):
    """A child forked after the pool started has no workers: it makes its own
    instead of waiting forever for the parent's."""
    x = np.ones(4 * _threads.get_parallel_min(), np.float32)
    assert _pooled(lambda: fa.sigmoid(x))
    ctx = multiprocessing.get_context("fork")
    q = ctx.Queue()
    p = ctx.Process(target=_child_sigmoid, args=(q,))
    p.start()
    p.join(60)
    assert p.exitcode == 0
    assert q.get(timeout=5) is True


def _run(env_extra, code):
    env = {k: v for k, v in os.environ.items()
           if k not in ("FASTACT_NUM_THREADS", "OMP_NUM_THREADS")}
    env.update(env_extra)
    return subprocess.run([sys.executable, "-W", "always", "-c", code], env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("env, expected", [
    ({"FASTACT_NUM_THREADS": "1"}, 1),
    ({"OMP_NUM_THREADS": "1"}, 1),
    ({"FASTACT_NUM_THREADS": "1", "OMP_NUM_THREADS": "8"}, 1),
    ({"OMP_NUM_THREADS": "1,1"}, 1),
    ({"FASTACT_NUM_THREADS": "64"}, "cpus"),
])
def test_environment_sets_the_count(env, expected):
    r = _run(env, "import fastact; print(fastact.get_num_threads())")
    assert r.returncode == 0, r.stderr
    want = _threads.available_cpus() if expected == "cpus" else expected
    assert int(r.stdout.strip()) == want


@pytest.mark.parametrize("value", ["0", "-3", "two", "1.5"])
def test_bad_environment_warns_and_falls_back(value):
    r = _run({"FASTACT_NUM_THREADS": value}, "import fastact; print(fastact.get_num_threads())")
    assert r.returncode == 0, r.stderr
    assert f"FASTACT_NUM_THREADS={value!r} is not a positive integer" in r.stderr
    assert int(r.stdout.strip()) == _threads.available_cpus()


@pytest.mark.stress
def test_busy_pool_runs_the_second_caller_alone(two_threads):
    """Two Python threads with large calls at once: one gets the pool, the
    other computes alone instead of queueing (counted in stats()['solo'])."""
    import threading
    x = np.linspace(-8, 8, 8 * _threads.get_parallel_min()).astype(np.float64)
    expected = fa.gelu(x)
    before = pool.stats()["solo"]
    errors = []
    barrier = threading.Barrier(4)

    def work():
        barrier.wait()
        for _ in range(20):
            if not np.array_equal(fa.gelu(x), expected):
                errors.append("mismatch")

    ts = [threading.Thread(target=work) for _ in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not errors
    assert pool.stats()["solo"] > before
