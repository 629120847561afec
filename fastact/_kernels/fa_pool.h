/* fastact's thread pool (docs/threads.md says why it is not OpenMP).
 *
 * - Workers wait on a condition variable between jobs: they never spin, so a
 *   BLAS pool or another process gets the cores back the moment a job ends.
 * - The calling thread works too, and items are claimed one at a time from an
 *   atomic counter: workers that wake late (a busy machine, another pool still
 *   on the core) simply find fewer items left, and a job never waits for a
 *   worker that has not started.  Only items already claimed are waited for.
 * - One job at a time: a second caller (another Python thread) that finds the
 *   pool busy runs its job alone instead of queueing behind the first.
 * - Workers are created on first use and live until the process ends; a
 *   forked child starts with none (pthread_atfork).
 */
#ifndef FA_POOL_H
#define FA_POOL_H

#include <stddef.h>
#include <stdint.h>

typedef void (*fa_task_fn)(void *ctx, Py_ssize_t item);

#define FA_POOL_MAX_WORKERS 255

#if defined(_WIN32)
#include <windows.h>
#include <process.h>
typedef SRWLOCK fa_mutex_t;
typedef CONDITION_VARIABLE fa_cond_t;
static void fa_mutex_init(fa_mutex_t *m) { InitializeSRWLock(m); }
static void fa_lock(fa_mutex_t *m) { AcquireSRWLockExclusive(m); }
static int fa_trylock(fa_mutex_t *m) { return TryAcquireSRWLockExclusive(m) != 0; }
static void fa_unlock(fa_mutex_t *m) { ReleaseSRWLockExclusive(m); }
static void fa_cond_init(fa_cond_t *c) { InitializeConditionVariable(c); }
static void fa_wait(fa_cond_t *c, fa_mutex_t *m) { SleepConditionVariableSRW(c, m, INFINITE, 0); }
static void fa_broadcast(fa_cond_t *c) { WakeAllConditionVariable(c); }
static void fa_signal(fa_cond_t *c) { WakeConditionVariable(c); }
#define FA_LOAD(v) (*(volatile unsigned long *)&(v))   /* MSVC: volatile reads acquire */
static void fa_yield(void) { SwitchToThread(); }
static double fa_now_us(void) {
    LARGE_INTEGER t, f;
    QueryPerformanceCounter(&t);
    QueryPerformanceFrequency(&f);
    return (double)t.QuadPart * 1e6 / (double)f.QuadPart;
}
static Py_ssize_t fa_claim(volatile Py_ssize_t *p) {
#if defined(_WIN64)
    return (Py_ssize_t)InterlockedExchangeAdd64((volatile LONG64 *)p, 1);
#else
    return (Py_ssize_t)InterlockedExchangeAdd((volatile LONG *)p, 1);
#endif
}
#else
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <time.h>
typedef pthread_mutex_t fa_mutex_t;
typedef pthread_cond_t fa_cond_t;
static void fa_mutex_init(fa_mutex_t *m) { pthread_mutex_init(m, NULL); }
static void fa_lock(fa_mutex_t *m) { pthread_mutex_lock(m); }
static int fa_trylock(fa_mutex_t *m) { return pthread_mutex_trylock(m) == 0; }
static void fa_unlock(fa_mutex_t *m) { pthread_mutex_unlock(m); }
static void fa_cond_init(fa_cond_t *c) { pthread_cond_init(c, NULL); }
static void fa_wait(fa_cond_t *c, fa_mutex_t *m) { pthread_cond_wait(c, m); }
static void fa_broadcast(fa_cond_t *c) { pthread_cond_broadcast(c); }
static void fa_signal(fa_cond_t *c) { pthread_cond_signal(c); }
static Py_ssize_t fa_claim(volatile Py_ssize_t *p) { return __atomic_fetch_add(p, 1, __ATOMIC_RELAXED); }
#define FA_LOAD(v) __atomic_load_n(&(v), __ATOMIC_ACQUIRE)
static void fa_yield(void) { sched_yield(); }
static double fa_now_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e6 + (double)t.tv_nsec * 1e-3;
}
#endif

typedef struct {
    fa_task_fn fn;
    void *ctx;
    Py_ssize_t nitems;
    volatile Py_ssize_t next;       /* the next unclaimed item */
} fa_job;

static struct {
    fa_mutex_t m;                   /* guards everything below but `run` */
    fa_cond_t wake;                 /* a new job was published */
    fa_cond_t idle;                 /* the last worker left the job */
    fa_mutex_t run;                 /* held by the caller whose job runs */
    int started;                    /* workers created */
    int wanted;                     /* workers 0 .. wanted-1 take part in the job */
    unsigned long gen;              /* job generation */
    unsigned long seen[FA_POOL_MAX_WORKERS];
    fa_job *job;                    /* the current job, NULL between jobs */
    int refs;                       /* workers inside the current job */
    double linger_us;               /* how long a worker polls for the next job */
    long jobs;                      /* jobs run with workers (for tests) */
    long solo;                      /* jobs run alone because the pool was busy */
} fa_pool;

static void fa_pool_reset(void) {
    fa_mutex_init(&fa_pool.m);
    fa_mutex_init(&fa_pool.run);
    fa_cond_init(&fa_pool.wake);
    fa_cond_init(&fa_pool.idle);
    fa_pool.started = 0;
    fa_pool.wanted = 0;
    fa_pool.job = NULL;
    fa_pool.refs = 0;
}

static void fa_job_work(fa_job *job) {
    for (;;) {
        Py_ssize_t i = fa_claim(&job->next);
        if (i >= job->nitems)
            return;
        job->fn(job->ctx, i);
    }
}

#if defined(_WIN32)
static unsigned __stdcall fa_worker(void *arg)
#else
static void *fa_worker(void *arg)
#endif
{
    int me = (int)(intptr_t)arg;
    fa_job *job;
    double until;
    fa_lock(&fa_pool.m);
    for (;;) {
        /* Poll a little before sleeping, yielding the core at every turn: a
         * sleeping thread on an idle (virtual) CPU can take hundreds of
         * microseconds to wake, but a poller must never hold a core that
         * BLAS or anyone else wants (OpenMP's spinning did: docs/threads.md). */
        if (fa_pool.gen == fa_pool.seen[me] && fa_pool.linger_us > 0) {
            until = fa_now_us() + fa_pool.linger_us;
            fa_unlock(&fa_pool.m);
            while (FA_LOAD(fa_pool.gen) == fa_pool.seen[me]
                   && fa_now_us() < until)
                fa_yield();
            fa_lock(&fa_pool.m);
        }
        while (fa_pool.gen == fa_pool.seen[me])
            fa_wait(&fa_pool.wake, &fa_pool.m);
        fa_pool.seen[me] = fa_pool.gen;
        if (fa_pool.job == NULL || me >= fa_pool.wanted)
            continue;
        job = fa_pool.job;
        fa_pool.refs++;
        fa_unlock(&fa_pool.m);
        fa_job_work(job);
        fa_lock(&fa_pool.m);
        if (--fa_pool.refs == 0)
            fa_signal(&fa_pool.idle);
    }
    return 0;
}

/* Start worker `me`; 0 if the system refuses a thread. */
static int fa_spawn(int me) {
    fa_pool.seen[me] = fa_pool.gen;
#if defined(_WIN32)
    uintptr_t h = _beginthreadex(NULL, 0, fa_worker, (void *)(intptr_t)me, 0, NULL);
    if (h == 0)
        return 0;
    CloseHandle((HANDLE)h);
    return 1;
#else
    /* Workers never run Python: keep signals for the threads that do. */
    sigset_t all, old;
    pthread_t t;
    pthread_attr_t attr;
    int ok;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    ok = pthread_create(&t, &attr, fa_worker, (void *)(intptr_t)me) == 0;
    pthread_attr_destroy(&attr);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return ok;
#endif
}

#if !defined(_WIN32)
static void fa_pool_after_fork(void) { fa_pool_reset(); }   /* the child has no workers */
#endif

static void fa_pool_init(void) {
    fa_pool_reset();
    fa_pool.gen = 0;
#if !defined(_WIN32)
    pthread_atfork(NULL, NULL, fa_pool_after_fork);
#endif
}

/* Run fn(ctx, i) for i in [0, nitems) on the caller and up to nthreads - 1
 * workers; returns the number of threads that were offered the job. */
static int fa_pool_run(fa_task_fn fn, void *ctx, Py_ssize_t nitems, int nthreads) {
    fa_job job;
    Py_ssize_t i;
    int want = nthreads - 1;
    job.fn = fn;
    job.ctx = ctx;
    job.nitems = nitems;
    job.next = 0;
    if (want > FA_POOL_MAX_WORKERS)
        want = FA_POOL_MAX_WORKERS;
    if (want > nitems - 1)
        want = (int)(nitems - 1);
    if (want < 1 || !fa_trylock(&fa_pool.run)) {
        if (want >= 1) {
            fa_lock(&fa_pool.m);
            fa_pool.solo++;
            fa_unlock(&fa_pool.m);
        }
        for (i = 0; i < nitems; i++)
            fn(ctx, i);
        return 1;
    }
    fa_lock(&fa_pool.m);
    while (fa_pool.started < want && fa_spawn(fa_pool.started))
        fa_pool.started++;
    if (want > fa_pool.started)
        want = fa_pool.started;
    fa_pool.wanted = want;
    fa_pool.job = &job;
    fa_pool.gen++;
    fa_pool.jobs++;
    fa_broadcast(&fa_pool.wake);
    fa_unlock(&fa_pool.m);

    fa_job_work(&job);

    fa_lock(&fa_pool.m);
    fa_pool.job = NULL;             /* a worker waking now finds nothing */
    while (fa_pool.refs > 0)        /* wait only for items already claimed */
        fa_wait(&fa_pool.idle, &fa_pool.m);
    fa_unlock(&fa_pool.m);
    fa_unlock(&fa_pool.run);
    return want + 1;
}

static int fa_pool_started(void) {
    int n;
    fa_lock(&fa_pool.m);
    n = fa_pool.started;
    fa_unlock(&fa_pool.m);
    return n;
}

#endif
