/* Standalone test of the thread pool (csrc/parallel.c).
 *
 *   gcc -std=c11 -O2 -pthread -Icsrc/include csrc/parallel.c csrc/tests/test_parallel.c -o /tmp/tp
 *   /tmp/tp          run the tests
 *   /tmp/tp bench    also print call latencies
 */
#define _GNU_SOURCE
#include "ag_parallel.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int passed, failed;

#define CHECK(cond, ...)                                                                \
    do {                                                                                \
        if (cond) {                                                                     \
            passed++;                                                                   \
        } else {                                                                        \
            failed++;                                                                   \
            printf("FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);                      \
            printf(__VA_ARGS__);                                                        \
            printf("\n");                                                               \
        }                                                                               \
    } while (0)

static double now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e9 + t.tv_nsec;
}

/* ---- recording the ranges of one call ---- */

#define MAXR 256

typedef struct {
    atomic_int count;
    ptrdiff_t begin[MAXR], end[MAXR];
    pthread_t tid[MAXR];
} record_t;

static void record_fn(void *ctx, ptrdiff_t b, ptrdiff_t e)
{
    record_t *r = ctx;
    int i = atomic_fetch_add(&r->count, 1);
    if (i < MAXR) {
        r->begin[i] = b;
        r->end[i] = e;
        r->tid[i] = pthread_self();
    }
}

/* Runs ag_parallel_for(n, grain, align) and returns the ranges sorted by begin. */
static int run_record(record_t *r, ptrdiff_t n, ptrdiff_t grain, ptrdiff_t align)
{
    atomic_store(&r->count, 0);
    ag_parallel_for(n, grain, align, record_fn, r);
    int c = atomic_load(&r->count);
    for (int i = 1; i < c && i < MAXR; i++) /* insertion sort */
        for (int j = i; j > 0 && r->begin[j - 1] > r->begin[j]; j--) {
            ptrdiff_t b = r->begin[j], e = r->end[j];
            pthread_t t = r->tid[j];
            r->begin[j] = r->begin[j - 1], r->end[j] = r->end[j - 1], r->tid[j] = r->tid[j - 1];
            r->begin[j - 1] = b, r->end[j - 1] = e, r->tid[j - 1] = t;
        }
    return c;
}

static ptrdiff_t expected_t(ptrdiff_t n, ptrdiff_t grain, ptrdiff_t align, int nt)
{
    ptrdiff_t t = n / grain, blocks = n > 0 ? (n - 1) / align + 1 : 0;
    if (t > nt)
        t = nt;
    if (t > blocks)
        t = blocks;
    return t < 1 ? 1 : t;
}

static void test_partition(void)
{
    static const ptrdiff_t ns[] = {0, 1, 2, 3, 7, 8, 15, 16, 17, 100, 1000, 1023, 4096, 100003};
    static const ptrdiff_t grains[] = {1, 2, 3, 16, 1000};
    static const ptrdiff_t aligns[] = {1, 2, 8, 16, 64};
    static const int nts[] = {1, 2, 3, 4, 7, 16};
    static record_t r, r2;
    int bad = 0, cases = 0;
    for (size_t a = 0; a < sizeof nts / sizeof *nts; a++) {
        ag_set_num_threads(nts[a]);
        for (size_t b = 0; b < sizeof ns / sizeof *ns; b++)
            for (size_t c = 0; c < sizeof grains / sizeof *grains; c++)
                for (size_t d = 0; d < sizeof aligns / sizeof *aligns; d++) {
                    ptrdiff_t n = ns[b], g = grains[c], al = aligns[d];
                    ptrdiff_t t = expected_t(n, g, al, nts[a]);
                    int k = run_record(&r, n, g, al);
                    int ok = k == t, by_caller = 0;
                    ptrdiff_t lo = PTRDIFF_MAX, hi = 0;
                    for (int i = 0; ok && i < k; i++) {
                        ptrdiff_t size = r.end[i] - r.begin[i];
                        ptrdiff_t blocks = (size + al - 1) / al;
                        ok = r.begin[i] == (i ? r.end[i - 1] : 0) && (k == 1 || size > 0) &&
                             (i == k - 1 || r.end[i] % al == 0);
                        lo = blocks < lo ? blocks : lo;
                        hi = blocks > hi ? blocks : hi;
                        by_caller |= pthread_equal(r.tid[i], pthread_self());
                    }
                    ok = ok && r.end[k - 1] == n && hi - lo <= 1 && by_caller;
                    /* the same call again gives the same partition */
                    ok = ok && run_record(&r2, n, g, al) == k;
                    for (int i = 0; ok && i < k; i++)
                        ok = r2.begin[i] == r.begin[i] && r2.end[i] == r.end[i];
                    if (!ok && bad++ < 5)
                        printf("  partition n=%td grain=%td align=%td threads=%d: %d ranges\n", n, g,
                               al, nts[a], k);
                    cases++;
                }
    }
    CHECK(bad == 0, "%d of %d cases wrong", bad, cases);
}

/* One exact partition, written out: 10 blocks of 8 over 4 threads (3,3,2,2 blocks). */
static void test_partition_exact(void)
{
    static record_t r;
    ag_set_num_threads(4);
    int k = run_record(&r, 77, 1, 8);
    CHECK(k == 4 && r.end[0] == 24 && r.end[1] == 48 && r.end[2] == 64 && r.end[3] == 77,
          "got %d ranges ending %td %td %td %td", k, r.end[0], r.end[1], r.end[2], r.end[3]);
}

static void test_serial_path(void)
{
    static record_t r;
    ag_set_num_threads(1);
    int k = run_record(&r, 1000000, 1, 1);
    CHECK(k == 1 && r.begin[0] == 0 && r.end[0] == 1000000 && pthread_equal(r.tid[0], pthread_self()),
          "1 thread: %d ranges", k);
    ag_set_num_threads(8);
    k = run_record(&r, 1999, 1000, 1);
    CHECK(k == 1 && r.end[0] == 1999 && pthread_equal(r.tid[0], pthread_self()),
          "n < 2*grain: %d ranges", k);
    k = run_record(&r, 0, 1, 1);
    CHECK(k == 1 && r.begin[0] == 0 && r.end[0] == 0, "n == 0: %d calls", k);
}

/* ---- ranges really run concurrently (so t-1 workers exist and are awake) ---- */

typedef struct {
    atomic_int started;
    int want, ok;
} meet_t;

static void meet_fn(void *ctx, ptrdiff_t b, ptrdiff_t e)
{
    (void)b, (void)e;
    meet_t *m = ctx;
    atomic_fetch_add(&m->started, 1);
    double t0 = now_ns();
    while (atomic_load(&m->started) < m->want)
        if (now_ns() - t0 > 2e9) { /* 2 s: the ranges are not concurrent */
            m->ok = 0;
            return;
        } else {
            sched_yield();
        }
}

static int meet(int nt)
{
    meet_t m = {.want = nt, .ok = 1};
    ag_set_num_threads(nt);
    ag_parallel_for(nt, 1, 1, meet_fn, &m);
    return m.ok && atomic_load(&m.started) == nt;
}

static void test_concurrency_and_growth(void)
{
    CHECK(meet(2), "2 ranges did not run at the same time");
    CHECK(meet(5), "5 ranges did not run at the same time (pool not grown?)");
    CHECK(meet(3), "3 ranges did not run at the same time after shrinking");
}

/* ---- sums over an array, from several application threads ---- */

typedef struct {
    unsigned char *hits;
} cover_t;

static void cover_fn(void *ctx, ptrdiff_t b, ptrdiff_t e)
{
    cover_t *c = ctx;
    for (ptrdiff_t i = b; i < e; i++)
        c->hits[i]++;
}

/* Each element of [0, n) is visited exactly once. */
static int covered_once(ptrdiff_t n, ptrdiff_t grain, ptrdiff_t align)
{
    cover_t c = {calloc((size_t)n + 1, 1)};
    ag_parallel_for(n, grain, align, cover_fn, &c);
    int ok = 1;
    for (ptrdiff_t i = 0; i < n; i++)
        ok &= c.hits[i] == 1;
    free(c.hits);
    return ok;
}

static atomic_int app_failures;

static void *app_thread(void *arg)
{
    unsigned s = (unsigned)(size_t)arg;
    for (int i = 0; i < 3000; i++) {
        s = s * 1103515245u + 12345u;
        if (!covered_once(1 + (s >> 8) % 5000, 1 + (s >> 4) % 7, 1 + (s >> 20) % 16))
            atomic_fetch_add(&app_failures, 1);
    }
    return NULL;
}

static void test_concurrent_callers(void)
{
    pthread_t th[4];
    ag_set_num_threads(2);
    for (size_t i = 0; i < 4; i++)
        pthread_create(&th[i], NULL, app_thread, (void *)(i + 1));
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    CHECK(atomic_load(&app_failures) == 0, "%d wrong results", atomic_load(&app_failures));
}

/* ---- a busy pool: nested calls and other threads run serially ---- */

typedef struct {
    atomic_int calls, bad;
} nested_t;

static void inner_fn(void *ctx, ptrdiff_t b, ptrdiff_t e)
{
    nested_t *s = ctx;
    atomic_fetch_add(&s->calls, 1);
    if (b != 0 || e != 1000)
        atomic_fetch_add(&s->bad, 1);
}

static void outer_fn(void *ctx, ptrdiff_t b, ptrdiff_t e)
{
    for (ptrdiff_t i = b; i < e; i++)
        ag_parallel_for(1000, 1, 1, inner_fn, ctx);
}

static void *other_caller(void *arg)
{
    static record_t r;
    int k = run_record(&r, 100000, 1, 1);
    *(int *)arg = k == 1 && r.end[0] == 100000 && pthread_equal(r.tid[0], pthread_self());
    return NULL;
}

static void busy_fn(void *ctx, ptrdiff_t b, ptrdiff_t e)
{
    (void)e;
    if (b == 0) { /* while the pool runs this job, another thread calls in */
        pthread_t th;
        pthread_create(&th, NULL, other_caller, ctx);
        pthread_join(th, NULL);
    }
}

static void test_busy_pool(void)
{
    nested_t s = {0};
    ag_set_num_threads(4);
    ag_parallel_for(64, 1, 1, outer_fn, &s);
    CHECK(atomic_load(&s.calls) == 64 && atomic_load(&s.bad) == 0, "%d inner calls, %d not serial",
          atomic_load(&s.calls), atomic_load(&s.bad));
    int ok = 0;
    ag_parallel_for(4, 1, 1, busy_fn, &ok);
    CHECK(ok, "a call made while the pool was busy was not run serially");
}

/* ---- fork ---- */

/* What a child checks: the pool works and starts fresh workers. */
static int child_checks(void)
{
    return covered_once(100000, 1, 16) && meet(3) && covered_once(12345, 7, 8);
}

static int fork_and_check(void)
{
    pid_t pid = fork();
    if (pid == 0) {
        alarm(10);
        _exit(child_checks() ? 0 : 1);
    }
    int status;
    return pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
           WEXITSTATUS(status) == 0;
}

static atomic_int stop_hammer;

static void *hammer(void *arg)
{
    (void)arg;
    while (!atomic_load(&stop_hammer))
        if (!covered_once(20000, 1, 1))
            atomic_fetch_add(&app_failures, 1);
    return NULL;
}

static void test_fork(void)
{
    if (getenv("AG_TEST_NO_FORK")) {  /* qemu-user aborts on fork in a threaded process */
        printf("test_parallel: fork checks skipped (AG_TEST_NO_FORK)\n");
        return;
    }
    ag_set_num_threads(3);
    CHECK(covered_once(100000, 1, 1), "before fork");
    CHECK(fork_and_check(), "child after the pool was used");
    CHECK(covered_once(100000, 1, 1) && meet(3), "parent after fork");

    /* fork while another thread keeps the pool busy */
    pthread_t th;
    int children_ok = 0;
    pthread_create(&th, NULL, hammer, NULL);
    for (int i = 0; i < 20; i++) {
        children_ok += fork_and_check();
        usleep(1000);
    }
    atomic_store(&stop_hammer, 1);
    pthread_join(th, NULL);
    CHECK(children_ok == 20, "%d of 20 children failed", 20 - children_ok);
    CHECK(atomic_load(&app_failures) == 0, "parent's jobs wrong during forks");
    CHECK(meet(3), "parent after forks");
}

/* ---- thread count settings ---- */

static void test_settings(void)
{
    const char *a = getenv("ACTGRAD_NUM_THREADS"), *o = getenv("OMP_NUM_THREADS");
    char *saved_a = a ? strdup(a) : NULL, *saved_o = o ? strdup(o) : NULL;

    unsetenv("ACTGRAD_NUM_THREADS");
    unsetenv("OMP_NUM_THREADS");
    int cpus = ag_default_num_threads();
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    CHECK(cpus >= 1 && cpus <= online, "default %d with %ld CPUs online", cpus, online);

    static const struct {
        const char *actgrad, *omp;
        int want; /* 0: the CPU count */
    } cases[] = {
        {"3", NULL, 3},     {"3", "5", 3},    {"0", "5,2", 5}, {"-2", NULL, 0}, {"abc", "7", 7},
        {"3x", NULL, 0},    {"", "6", 6},     {NULL, "4", 4},  {NULL, "4,", 4}, {NULL, "x", 0},
        {NULL, "0,3", 0},   {NULL, "2x", 0},  {" 3 ", NULL, 3},  {"4096", NULL, 4096},
        /* above set_num_threads' limit: capped (99999 once started 12,208 OS threads) */
        {"99999999999999999999", NULL, AG_MAX_THREADS}, {"4097", "2", AG_MAX_THREADS}, {NULL, "99999,2", AG_MAX_THREADS},
    };
    static const struct {
        const char *s;
        int list, status, n;
    } parses[] = {
        {NULL, 0, AG_THREADS_UNSET, 0},   {"", 0, AG_THREADS_UNSET, 0},      {" ", 1, AG_THREADS_UNSET, 0},
        {"7", 0, AG_THREADS_OK, 7},        {"\t7\n", 0, AG_THREADS_OK, 7},  {"7,2", 1, AG_THREADS_OK, 7},
        {"7,2", 0, AG_THREADS_INVALID, 0}, {"0", 0, AG_THREADS_INVALID, 0},   {"-1", 1, AG_THREADS_INVALID, 0},
        {"3abc", 0, AG_THREADS_INVALID, 0}, {"abc", 1, AG_THREADS_INVALID, 0}, {"1e3", 0, AG_THREADS_INVALID, 0},
        {"4096", 0, AG_THREADS_OK, 4096},  {"4097", 0, AG_THREADS_CAPPED, AG_MAX_THREADS},
        {"99999999999999999999999", 1, AG_THREADS_CAPPED, AG_MAX_THREADS},
    };
    for (size_t i = 0; i < sizeof parses / sizeof *parses; i++) {
        int n = -1, st = ag_parse_num_threads(parses[i].s, parses[i].list, &n);
        CHECK(st == parses[i].status && n == parses[i].n, "ag_parse_num_threads(\"%s\", %d): status %d n %d",
              parses[i].s ? parses[i].s : "(null)", parses[i].list, st, n);
    }
    ag_set_num_threads(1 << 30);
    CHECK(ag_get_num_threads() == AG_MAX_THREADS, "set_num_threads clamps to %d", AG_MAX_THREADS);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        if (cases[i].actgrad)
            setenv("ACTGRAD_NUM_THREADS", cases[i].actgrad, 1);
        else
            unsetenv("ACTGRAD_NUM_THREADS");
        if (cases[i].omp)
            setenv("OMP_NUM_THREADS", cases[i].omp, 1);
        else
            unsetenv("OMP_NUM_THREADS");
        int want = cases[i].want ? cases[i].want : cpus, got = ag_default_num_threads();
        CHECK(got == want, "ACTGRAD_NUM_THREADS=%s OMP_NUM_THREADS=%s: %d, want %d",
              cases[i].actgrad ? cases[i].actgrad : "(unset)", cases[i].omp ? cases[i].omp : "(unset)",
              got, want);
    }

    if (saved_a)
        setenv("ACTGRAD_NUM_THREADS", saved_a, 1);
    else
        unsetenv("ACTGRAD_NUM_THREADS");
    if (saved_o)
        setenv("OMP_NUM_THREADS", saved_o, 1);
    else
        unsetenv("OMP_NUM_THREADS");
    free(saved_a);
    free(saved_o);

    ag_set_num_threads(6);
    CHECK(ag_get_num_threads() == 6, "set 6, got %d", ag_get_num_threads());
    CHECK(strcmp(ag_threading_backend(), "pthreads") == 0, "backend %s", ag_threading_backend());
}

/* ---- latency (bench mode) ---- */

static pthread_t bench_caller;
static atomic_int worker_ranges;

static void trivial_fn(void *ctx, ptrdiff_t b, ptrdiff_t e)
{
    (void)ctx, (void)b, (void)e;
    if (!pthread_equal(pthread_self(), bench_caller))
        atomic_fetch_add_explicit(&worker_ranges, 1, memory_order_relaxed);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void meet2_fn(void *ctx, ptrdiff_t b, ptrdiff_t e)
{
    (void)b, (void)e;
    atomic_int *started = ctx;
    atomic_fetch_add(started, 1);
    while (atomic_load(started) < 2)
        sched_yield(); /* in case both threads share a CPU */
}

/* Median and 90th percentile of `reps` timed calls ag_parallel_for(2, 1, 1),
 * `gap_us` apart.  With `forced`, each range waits for the other to start, so
 * the call takes a worker's wake-up plus the join; otherwise fn is trivial and
 * the caller runs range 1 too unless a worker takes it first (how often one
 * did is printed). */
static void bench_threaded(const char *label, int reps, int gap_us, int forced)
{
    double *t = malloc(sizeof *t * (size_t)reps);
    atomic_store(&worker_ranges, 0);
    for (int i = 0; i < reps; i++) {
        atomic_int started = 0;
        if (gap_us)
            usleep((useconds_t)gap_us);
        double t0 = now_ns();
        if (forced)
            ag_parallel_for(2, 1, 1, meet2_fn, &started);
        else
            ag_parallel_for(2, 1, 1, trivial_fn, NULL);
        t[i] = now_ns() - t0;
    }
    qsort(t, (size_t)reps, sizeof *t, cmp_double);
    printf("  %-44s median %7.0f ns, p90 %7.0f ns", label, t[reps / 2], t[reps * 9 / 10]);
    if (!forced)
        printf(", a worker ran range 1 in %3.0f%%", 100.0 * atomic_load(&worker_ranges) / reps);
    printf("\n");
    free(t);
}

static void empty_fn(void *ctx, ptrdiff_t b, ptrdiff_t e) { (void)ctx, (void)b, (void)e; }

/* ns per call of ag_parallel_for(n, grain, 1, empty_fn) in a loop */
static double serial_ns(ptrdiff_t n, ptrdiff_t grain)
{
    const int calls = 50000000;
    double t0 = now_ns();
    for (int i = 0; i < calls; i++)
        ag_parallel_for(n, grain, 1, empty_fn, NULL);
    return (now_ns() - t0) / calls;
}

static void bench(void)
{
    const int calls = 50000000;
    ag_range_fn volatile direct = empty_fn; /* not inlined */
    double t0 = now_ns();
    for (int i = 0; i < calls; i++)
        direct(NULL, 0, 1000);
    printf(" t <= 1, empty fn:\n  %-44s %7.2f ns/call\n", "fn called through a pointer",
           (now_ns() - t0) / calls);
    ag_set_num_threads(1);
    printf("  %-44s %7.2f ns/call\n", "ag_parallel_for, 1 thread", serial_ns(1000, 1));
    ag_set_num_threads(2);
    printf("  %-44s %7.2f ns/call\n", "ag_parallel_for, 2 threads, n < 2*grain", serial_ns(1000, 1000));

    bench_caller = pthread_self();
    ag_parallel_for(2, 1, 1, trivial_fn, NULL); /* start the worker */
    printf(" trivial fn:\n");
    bench_threaded("2 threads, back to back", 200000, 0, 0);
    bench_threaded("2 threads, 50 us apart (worker asleep)", 5000, 50, 0);
    bench_threaded("2 threads, 1 ms apart (worker asleep)", 2000, 1000, 0);
    printf(" both ranges forced to overlap (wake + join):\n");
    bench_threaded("2 threads, back to back", 200000, 0, 1);
    bench_threaded("2 threads, 50 us apart (worker asleep)", 5000, 50, 1);
    bench_threaded("2 threads, 1 ms apart (worker asleep)", 2000, 1000, 1);
}

int main(int argc, char **argv)
{
    alarm(120); /* a deadlock fails the test instead of hanging it */
    CHECK(ag_get_num_threads() == ag_default_num_threads(), "initial count %d, default %d",
          ag_get_num_threads(), ag_default_num_threads());
    test_settings();
    test_serial_path();
    test_partition();
    test_partition_exact();
    test_concurrency_and_growth();
    test_concurrent_callers();
    test_busy_pool();
    test_fork();
    if (argc > 1 && strcmp(argv[1], "bench") == 0)
        bench();
    printf("test_parallel: %d passed, %d failed\n", passed, failed);
    return failed != 0;
}
