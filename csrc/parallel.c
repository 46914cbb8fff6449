/* Thread pool: see ag_parallel.h for the contract.
 *
 * The pool runs one job at a time; `busy` says whether a caller owns it.  A
 * job is published in `job_word`, which packs its range count t and the index
 * of the next unclaimed range.  The caller runs range 0, then it and the
 * workers claim the others with a compare-and-swap until none is left.
 * Claiming rather than handing range k to worker k means nobody waits on a
 * worker that has not woken up: the caller runs the leftover ranges itself.
 * `pending` counts the ranges not yet finished; the caller returns at 0.
 *
 * Idle workers poll job_word for AG_SPIN_NS, then sleep on work_cv; a caller
 * waiting for the last ranges polls as long, then sleeps on done_cv.  Polling
 * lets a loop of calls skip the wake-ups (on the 2-vCPU VM we measured, waking
 * a sleeping worker costs the caller ~5 us and the worker starts 10-30 us
 * later; a polling one takes a range within ~0.2 us).  Polls yield the CPU:
 * the scheduler often puts a woken worker on the caller's CPU, and there the
 * two must not spin against each other.
 *
 * Linux's wake-up placement often queues a woken worker on its waker's CPU,
 * behind the caller, while another CPU idles; the worker then runs only after
 * the caller has done every range itself.  So a caller that woke workers
 * yields once, and a worker that finds itself on the caller's CPU moves off
 * before claiming: it narrows its affinity to its other CPUs, which migrates
 * it at once, and restores its mask, which leaves it where it is.  On the
 * 2-vCPU VM, of 200 two-range calls each made after a 2 ms pause, 193 ran at
 * one thread's speed without this and 7 with it.
 */
#define _GNU_SOURCE
#include "ag_parallel.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef AG_SPIN_NS
#define AG_SPIN_NS 20000
#endif

static atomic_int num_threads; /* 0 until first read from the environment */

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t work_cv = PTHREAD_COND_INITIALIZER; /* a job was published */
static pthread_cond_t done_cv = PTHREAD_COND_INITIALIZER; /* its last range finished */
static int nworkers, sleepers;                             /* guarded by lock */

static atomic_int busy;
static atomic_int caller_cpu;     /* CPU the current job's caller ran on, or -1 */
static _Atomic uint64_t job_word; /* t << 32 | index of the next unclaimed range */
static atomic_int pending;
static struct {
    ag_range_fn fn;
    void *ctx;
    ptrdiff_t n, align, q, r; /* range k spans q + (k < r) blocks of align */
} job;

/* ---- thread count ---- */

int ag_parse_num_threads(const char *s, int list, int *n)
{
    *n = 0;
    if (!s)
        return AG_THREADS_UNSET;
    while (*s == ' ' || *s == '\t')
        s++;
    if (!*s)
        return AG_THREADS_UNSET;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (list && *end == ',')
        end += strlen(end);  /* the first entry of a comma list decides */
    while (*end == ' ' || *end == '\t' || *end == '\n')
        end++;
    if (end == s || *end != '\0' || v < 1)
        return AG_THREADS_INVALID;
    if (errno == ERANGE || v > AG_MAX_THREADS) {
        *n = AG_MAX_THREADS;
        return AG_THREADS_CAPPED;
    }
    *n = (int)v;
    return AG_THREADS_OK;
}

static int read_ll(const char *path, long long *v)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    int ok = fscanf(f, "%lld", v) == 1;
    fclose(f);
    return ok;
}

/* CPUs granted by the cgroup quota (rounded up), or 0 if there is none. */
static int cgroup_cpus(void)
{
    long long quota = -1, period = 0;
    FILE *f = fopen("/sys/fs/cgroup/cpu.max", "r");
    if (f) { /* "max 100000" fails to scan: no quota */
        if (fscanf(f, "%lld %lld", &quota, &period) != 2)
            quota = -1;
        fclose(f);
    } else if (!read_ll("/sys/fs/cgroup/cpu/cpu.cfs_quota_us", &quota) ||
               !read_ll("/sys/fs/cgroup/cpu/cpu.cfs_period_us", &period)) {
        quota = -1;
    }
    if (quota <= 0 || period <= 0)
        return 0;
    long long n = (quota + period - 1) / period;
    return n < INT_MAX ? (int)n : INT_MAX;
}

static int available_cpus(void)
{
#ifdef __linux__
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0)
        return CPU_COUNT(&set);
#endif
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 && n < INT_MAX ? (int)n : 1;
}

int ag_default_num_threads(void)
{
    int n;
    ag_parse_num_threads(getenv("ACTGRAD_NUM_THREADS"), 0, &n);
    if (!n)
        ag_parse_num_threads(getenv("OMP_NUM_THREADS"), 1, &n);
    if (n)
        return n;
    n = available_cpus();
    int q = cgroup_cpus();
    if (q && q < n)
        n = q;
    return n < 1 ? 1 : n > AG_MAX_THREADS ? AG_MAX_THREADS : n;
}

static inline int threads(void)
{
    int n = atomic_load_explicit(&num_threads, memory_order_relaxed);
    if (n == 0) {
        int unset = 0;
        n = ag_default_num_threads();
        if (!atomic_compare_exchange_strong(&num_threads, &unset, n))
            n = unset; /* another thread got there first */
    }
    return n;
}

int ag_get_num_threads(void) { return threads(); }

void ag_set_num_threads(int n)
{
    n = n < 1 ? 1 : n > AG_MAX_THREADS ? AG_MAX_THREADS : n;
    atomic_store_explicit(&num_threads, n, memory_order_relaxed);
}

const char *ag_threading_backend(void) { return "pthreads"; }

/* ---- the pool ---- */

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

/* Polls ready() for up to AG_SPIN_NS, yielding the CPU now and then;
 * returns whether it became true. */
static int spin_until(int (*ready)(void))
{
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    do {
        for (int i = 0; i < 32; i++) {
            if (ready())
                return 1;
            cpu_relax();
        }
        sched_yield();
        clock_gettime(CLOCK_MONOTONIC, &t);
    } while ((t.tv_sec - t0.tv_sec) * 1000000000LL + (t.tv_nsec - t0.tv_nsec) < AG_SPIN_NS);
    return 0;
}

static int claimable(void)
{
    uint64_t w = atomic_load(&job_word);
    return (uint32_t)w < (w >> 32);
}

static int job_done(void) { return atomic_load(&pending) == 0; }

/* Start of range k of the current job (k == t gives n). */
static ptrdiff_t bound(ptrdiff_t k)
{
    ptrdiff_t b = job.align * (job.q * k + (k < job.r ? k : job.r));
    return b < job.n ? b : job.n;
}

/* Claims and runs ranges of the current job until none is left unclaimed;
 * returns whether this thread finished the job's last range.  The job's
 * fields are read only after a successful claim: until that range is done,
 * the job cannot end and the caller cannot overwrite them. */
static int run_ranges(void)
{
    int last = 0;
    uint64_t w = atomic_load(&job_word);
    while ((uint32_t)w < (w >> 32)) {
        if (!atomic_compare_exchange_weak(&job_word, &w, w + 1))
            continue; /* w now holds the current word */
        ptrdiff_t k = (uint32_t)w;
        job.fn(job.ctx, bound(k), bound(k + 1));
        last = atomic_fetch_sub(&pending, 1) == 1;
        w = atomic_load(&job_word);
    }
    return last;
}

/* Moves the calling worker off the caller's CPU (see the top comment).  A
 * failed call leaves it where it is, and a failed restore leaves it off that
 * CPU for good: either is only slower, never wrong. */
static void leave_caller_cpu(void)
{
#ifdef __linux__
    int cpu = atomic_load_explicit(&caller_cpu, memory_order_relaxed);
    if (cpu < 0 || cpu >= CPU_SETSIZE || sched_getcpu() != cpu)
        return;
    cpu_set_t mask, others;
    if (sched_getaffinity(0, sizeof mask, &mask) != 0)
        return;
    others = mask;
    CPU_CLR(cpu, &others);
    if (CPU_COUNT(&others) == 0 || sched_setaffinity(0, sizeof others, &others) != 0)
        return;
    sched_setaffinity(0, sizeof mask, &mask);
#endif
}

static void *worker_main(void *arg)
{
    for (;;) {
        leave_caller_cpu();
        if (run_ranges()) { /* the lock orders this with the caller's check */
            pthread_mutex_lock(&lock);
            pthread_mutex_unlock(&lock);
            pthread_cond_signal(&done_cv);
        }
        if (spin_until(claimable))
            continue;
        pthread_mutex_lock(&lock);
        sleepers++;
        while (!claimable())
            pthread_cond_wait(&work_cv, &lock);
        sleepers--;
        pthread_mutex_unlock(&lock);
    }
    return arg; /* not reached: workers live as long as the process */
}

/* fork(): the prepare handler takes the lock so that the child inherits a
 * consistent pool; the child then holds it and is single-threaded, so it
 * forgets the workers (they do not exist there) and any job in flight,
 * re-creates the condition variables, which may record waiters that vanished,
 * and unlocks.  Its next threaded call starts fresh workers. */
static void atfork_prepare(void) { pthread_mutex_lock(&lock); }

static void atfork_parent(void) { pthread_mutex_unlock(&lock); }

static void atfork_child(void)
{
    pthread_cond_init(&work_cv, NULL);
    pthread_cond_init(&done_cv, NULL);
    nworkers = sleepers = 0;
    atomic_store(&busy, 0);
    atomic_store(&pending, 0);
    atomic_store(&job_word, 0);
    pthread_mutex_unlock(&lock);
}

static void register_atfork(void) { pthread_atfork(atfork_prepare, atfork_parent, atfork_child); }

/* Starts workers until there are `want`; called with the lock held.  If one
 * cannot be started, fewer threads claim the ranges: the result is the same. */
static void grow_pool(int want)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, register_atfork);
    while (nworkers < want) {
        pthread_t th;
        if (pthread_create(&th, NULL, worker_main, NULL) != 0)
            break;
        pthread_detach(th);
        nworkers++;
    }
}

void ag_parallel_for(ptrdiff_t n, ptrdiff_t grain, ptrdiff_t align, ag_range_fn fn, void *ctx)
{
    int nt = threads();
    if (nt < 2 || n / 2 < grain) { /* t <= 1 */
        fn(ctx, 0, n);
        return;
    }
    ptrdiff_t blocks = (n - 1) / align + 1;
    ptrdiff_t t = n / grain;
    if (t > nt)
        t = nt;
    if (t > blocks)
        t = blocks;
    if (t < 2 || atomic_exchange(&busy, 1)) {
        fn(ctx, 0, n);
        return;
    }

    job.fn = fn;
    job.ctx = ctx;
    job.n = n;
    job.align = align;
    job.q = blocks / t;
    job.r = blocks % t;
#ifdef __linux__
    atomic_store_explicit(&caller_cpu, sched_getcpu(), memory_order_relaxed);
#else
    atomic_store_explicit(&caller_cpu, -1, memory_order_relaxed);
#endif
    atomic_store(&pending, (int)t);
    pthread_mutex_lock(&lock);
    grow_pool((int)t - 1);
    atomic_store(&job_word, (uint64_t)t << 32 | 1); /* range 0 is the caller's */
    int wake = t - 1 < sleepers ? (int)t - 1 : sleepers;
    pthread_mutex_unlock(&lock);
    if (wake) {
        while (wake--)
            pthread_cond_signal(&work_cv);
        sched_yield(); /* lets a worker woken onto this CPU run and move off */
    }

    fn(ctx, 0, bound(1));
    atomic_fetch_sub(&pending, 1);
    run_ranges();
    if (!job_done() && !spin_until(job_done)) {
        pthread_mutex_lock(&lock);
        while (!job_done())
            pthread_cond_wait(&done_cv, &lock);
        pthread_mutex_unlock(&lock);
    }
    atomic_store(&busy, 0);
}
