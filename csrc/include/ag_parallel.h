/* Thread pool of the actgrad C core.
 *
 * ag_parallel_for splits [0, n) into contiguous ranges and runs them on a pool
 * of persistent worker threads plus the calling thread.  It is safe to call
 * from several threads at once, from inside a range function (the inner call
 * runs serially), and before and after fork() in both parent and child.
 */
#ifndef AG_PARALLEL_H
#define AG_PARALLEL_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Work on the elements [begin, end) of a job; ctx is the caller's pointer. */
typedef void (*ag_range_fn)(void *ctx, ptrdiff_t begin, ptrdiff_t end);

/* Runs fn over disjoint contiguous ranges covering [0, n) and returns when all
 * of them are done.  Requires grain >= 1 and align >= 1.
 *
 * It uses t = min(ag_get_num_threads(), n / grain, ceil(n / align)) ranges (the
 * last term only keeps every range non-empty).  If t <= 1, or if the pool is
 * already running a job (another thread's, or the enclosing one of a nested
 * call), it makes the single call fn(ctx, 0, n) on the calling thread, even
 * for n == 0, without locking or waking anything.
 *
 * Otherwise range k (0 <= k < t) is [b(k), b(k+1)) with
 *     b(k) = min(n, align * (q*k + min(k, r))),  q, r = ceil(n/align) / t, % t,
 * so the ranges differ in size by at most one align block and every boundary
 * except n is a multiple of align.  The partition depends only on (n, grain,
 * align, thread count); which thread runs which range does not matter to it.
 * The calling thread runs at least one range; ranges that no worker has
 * picked up yet when it finishes, it runs too, so a slow wake-up never makes
 * the call much slower than running serially.
 *
 * fn must not fork() or longjmp out; ranges run concurrently, so fn must only
 * write state belonging to its own range. */
void ag_parallel_for(ptrdiff_t n, ptrdiff_t grain, ptrdiff_t align, ag_range_fn fn, void *ctx);

/* The thread count used by ag_parallel_for (process-wide).  Until
 * ag_set_num_threads is called, it is ag_default_num_threads(), read once. */
int ag_get_num_threads(void);

/* The most threads: set_num_threads, ACTGRAD_NUM_THREADS and OMP_NUM_THREADS share it. */
#define AG_MAX_THREADS 4096

/* Parses a thread count from the environment (s may be NULL; `list`: OMP_NUM_THREADS's
 * comma list, whose first entry counts).  Surrounding blanks are allowed. */
enum {
    AG_THREADS_OK,       /* *n = the count, 1 .. AG_MAX_THREADS */
    AG_THREADS_UNSET,    /* NULL or blank: *n = 0 */
    AG_THREADS_INVALID,  /* not a positive integer: *n = 0 (ignored) */
    AG_THREADS_CAPPED    /* above AG_MAX_THREADS: *n = AG_MAX_THREADS */
};
int ag_parse_num_threads(const char *s, int list, int *n);

/* Sets the thread count, clamped to [1, AG_MAX_THREADS].  Takes effect at the next
 * ag_parallel_for; workers are started lazily and never stopped, a lower
 * count just leaves some asleep. */
void ag_set_num_threads(int n);

/* ACTGRAD_NUM_THREADS if it is a positive integer (capped at AG_MAX_THREADS),
 * else OMP_NUM_THREADS (its first entry if a comma list; the same rules), else the CPUs this process may use: the
 * sched_getaffinity count (sysconf(_SC_NPROCESSORS_ONLN) off Linux), capped by
 * the cgroup CPU quota rounded up (v2 /sys/fs/cgroup/cpu.max, v1
 * cpu.cfs_quota_us / cpu.cfs_period_us).  1 .. AG_MAX_THREADS.  Reads the environment
 * on every call. */
int ag_default_num_threads(void);

/* "pthreads". */
const char *ag_threading_backend(void);

#ifdef __cplusplus
}
#endif

#endif
