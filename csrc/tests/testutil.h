/* Shared by the standalone C tests: pass/fail counting and a xorshift64 generator. */
#ifndef AG_TESTUTIL_H
#define AG_TESTUTIL_H

#include <stdint.h>
#include <stdio.h>

static int passed, failed;

static void check(int ok, const char *what)
{
    if (ok) {
        passed++;
    } else {
        failed++;
        printf("FAIL: %s\n", what);
    }
}

/* A test may reseed rng_state before drawing. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}
static double urand(void) { return (double)(rng() >> 11) * 0x1p-53; }

#endif
