/* The speed tools' clock and median: seconds of CLOCK_MONOTONIC, and a qsort comparison
 * for sorting samples. */
#ifndef AG_BENCH_TIMING_H
#define AG_BENCH_TIMING_H

#include <time.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

#endif
