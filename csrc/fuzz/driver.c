/* A standalone driver for libFuzzer-style harnesses (LLVMFuzzerTestOneInput), for compilers
 * without libFuzzer (gcc): it replays the corpus, then runs random and mutated inputs for a
 * fixed time.  No coverage feedback: the mutations are structure-aware instead (header
 * fields, special values of every dtype written into the data), see fuzz_elementwise.c.
 *
 *   driver [-t SECONDS] [-s SEED] [-c CRASH_DIR] [-w SEED_DIR] CORPUS_DIR_OR_FILE...
 *
 * -t 0 only replays (a crash file given as argument reproduces a failure).  -w writes the
 * seed corpus of special values (csrc/fuzz/corpus/ was made with it) and exits.  On a
 * failure (sanitizer report, invariant abort, signal) the input is written to
 * CRASH_DIR/crash-<pid>-<exec> (default: the current directory) before the process dies. */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/common_interface_defs.h>
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAXIN (16 + 2 * 4097 * 8)

/* ---- failure capture ---- */

static const uint8_t *cur_data;
static size_t cur_size;
static unsigned long long execs;
static const char *crash_dir = ".";

static void save_current(void)
{
    static int saved;
    if (saved || !cur_data) return;
    saved = 1;
    char path[4096];
    snprintf(path, sizeof path, "%s/crash-%d-%llu", crash_dir, (int)getpid(), execs);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
        ssize_t w = write(fd, cur_data, cur_size);
        (void)w;
        close(fd);
        fprintf(stderr, "driver: failing input (%zu bytes) written to %s\n", cur_size, path);
    }
}

static void on_signal(int sig)
{
    save_current();
    signal(sig, SIG_DFL);
    raise(sig);
}

/* ---- random numbers and special values ---- */

static uint64_t rng_s = 0x2545F4914F6CDD1DULL;
static uint64_t rnd(void)
{
    rng_s ^= rng_s << 13;
    rng_s ^= rng_s >> 7;
    rng_s ^= rng_s << 17;
    return rng_s;
}
static size_t rndn(size_t n) { return n ? (size_t)(rnd() % n) : 0; }

static const double special_f64[] = {
    0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.0, -2.0, 3.0, -3.0, 6.0, -6.0, 20.0, -20.0, 1e-8, -1e-8,
    INFINITY, -INFINITY, NAN, -NAN, 0x1p-1022, -0x1p-1022, 0x1p-1074, -0x1p-1074, 0x1.fffffffffffffp1023,
    -0x1.fffffffffffffp1023, 709.78, -745.2, 88.72, -103.9, 11.0, -11.0, 17.0, -17.0, 37.0, -37.0,
    0x1p-27, 0x1p-54, 1e300, -1e300, 5.0, -5.0, 0.1, -0.1, 40.0, -40.0, 1e-310,
};
#define N_SPECIAL_F64 (sizeof special_f64 / sizeof special_f64[0])
static const uint64_t special_f64_bits[] = {
    0x7ff0000000000001ULL, 0xfff0000000000001ULL, 0x7ff4000000000000ULL, 0x7fffffffffffffffULL,
};
static const uint16_t special_f16[] = {
    0x0000, 0x8000, 0x3c00, 0xbc00, 0x7c00, 0xfc00, 0x7e00, 0xfe00, 0x7d00, 0x7c01, 0x0001, 0x8001,
    0x03ff, 0x0400, 0x8400, 0x7bff, 0xfbff, 0x4200, 0xc200, 0x4600, 0xc600, 0x4d00, 0xcd00, 0x3800,
    0xb800, 0x1400, 0x5100, 0xd100,
};
#define N_SPECIAL_F16 (sizeof special_f16 / sizeof special_f16[0])

/* Writes a special value of dtype (enum ag_dtype order: bool, i8, u8, i16, u16, i32, u32,
 * i64, u64, f16, f32, f64) at p; returns its size. */
static int put_special(int dtype, uint8_t *p)
{
    static const int size[12] = { 1, 1, 1, 2, 2, 4, 4, 8, 8, 2, 4, 8 };
    int es = size[dtype % 12];
    if (dtype == 9) {
        uint16_t h = special_f16[rndn(N_SPECIAL_F16)];
        memcpy(p, &h, 2);
    } else if (dtype == 10 || dtype == 11) {
        double d = special_f64[rndn(N_SPECIAL_F64)];
        if (rndn(8) == 0) {
            uint64_t b = special_f64_bits[rndn(4)];
            memcpy(&d, &b, 8);
        } else if (rndn(4) == 0) {
            d = ldexp((double)(rnd() >> 11) * 0x1p-53 * 2 - 1, (int)rndn(80) - 40);   /* random moderate */
        }
        if (dtype == 10) {
            float f = (float)d;
            if (rndn(16) == 0) { uint32_t b = 0x7f800001u + (uint32_t)rndn(0x3fffff); memcpy(&f, &b, 4); }  /* sNaN */
            memcpy(p, &f, 4);
        } else {
            memcpy(p, &d, 8);
        }
    } else {   /* integers and bool: 0, 1, -1, extremes, random */
        uint64_t v;
        switch (rndn(6)) {
        case 0: v = 0; break;
        case 1: v = 1; break;
        case 2: v = ~0ULL; break;
        case 3: v = 1ULL << (8 * es - 1); break;
        case 4: v = (1ULL << (8 * es - 1)) - 1; break;
        default: v = rnd();
        }
        if (dtype == 0 && rndn(2)) v &= 1;
        memcpy(p, &v, (size_t)es);   /* little-endian */
    }
    return es;
}

/* ---- inputs ---- */

/* A fresh input: a random header biased to short lengths and small strides, data of
 * special and random values in the dtype's encoding. */
static size_t generate(uint8_t *buf)
{
    for (int i = 0; i < 16; i++) buf[i] = (uint8_t)rnd();
    size_t n;
    switch (rndn(4)) {
    case 0: n = rndn(17); break;
    case 1: n = rndn(80); break;
    case 2: n = rndn(1100); break;
    default: n = rndn(4097);
    }
    buf[3] = (uint8_t)n;
    buf[4] = (uint8_t)(n >> 8);
    uint8_t flags = (uint8_t)rnd();
    flags &= (uint8_t)~1u;
    if (rndn(48) == 0) flags |= 1;                     /* big, threaded: rare, slow */
    if (rndn(4)) flags &= (uint8_t)~64u;               /* mostly checked parameters */
    buf[5] = flags;
    for (int k = 6; k < 9; k++)                        /* mostly unit strides */
        buf[k] = rndn(2) ? 1 : (uint8_t)rnd();
    if (rndn(2)) buf[12] = (uint8_t)rndn(32);          /* special parameters */
    if (rndn(2)) buf[13] = (uint8_t)rndn(32);
    int dtype = buf[2] % 12;
    static const int size[12] = { 1, 1, 1, 2, 2, 4, 4, 8, 8, 2, 4, 8 };
    size_t elems = rndn(2) ? (size_t)rndn(2 * n + 2) : rndn(64) + 1;   /* data cycles if short */
    size_t len = 16;
    for (size_t e = 0; e < elems && len + 8 <= MAXIN; e++) {
        if (rndn(3)) len += (size_t)put_special(dtype, buf + len);
        else for (int b = 0; b < size[dtype]; b++) buf[len++] = (uint8_t)rnd();
    }
    return len;
}

static size_t mutate(uint8_t *buf, size_t len, const uint8_t *other, size_t olen)
{
    int m = 1 + (int)rndn(6);
    for (int t = 0; t < m; t++) {
        switch (rndn(9)) {
        case 0: if (len) buf[rndn(len)] ^= (uint8_t)(1u << rndn(8)); break;          /* bit flip */
        case 1: if (len) buf[rndn(len)] = (uint8_t)rnd(); break;                       /* byte */
        case 2: buf[rndn(16)] = (uint8_t)rnd(); if (len < 16) len = 16; break;        /* header field */
        case 3: {                                                                      /* special value */
            if (len < 24) break;
            size_t pos = 16 + rndn(len - 16 - 8);
            put_special(buf[2] % 12, buf + pos);
            break;
        }
        case 4: {                                                                      /* length */
            size_t n = rndn(3) ? rndn(70) : rndn(4097);
            buf[3] = (uint8_t)n; buf[4] = (uint8_t)(n >> 8);
            if (len < 16) len = 16;
            break;
        }
        case 5: if (len > 17) len -= rndn(len - 16); break;                            /* truncate */
        case 6: {                                                                      /* grow */
            size_t add = rndn(256);
            while (add-- && len < MAXIN) buf[len++] = (uint8_t)rnd();
            break;
        }
        case 7: if (other && olen > 16 && len > 16) {                                 /* splice */
            size_t from = 16 + rndn(olen - 16), to = 16 + rndn(len - 16), k = rndn(64);
            while (k-- && from < olen && to < MAXIN) { buf[to++] = other[from++]; if (to > len) len = to; }
        } break;
        default: buf[rndn(2) ? 6 + rndn(3) : 9 + rndn(3)] = (uint8_t)rnd(); if (len < 16) len = 16; /* layout */
        }
    }
    buf[5] &= rndn(48) ? (uint8_t)~1u : 0xff;   /* keep the slow big mode rare */
    return len;
}

typedef struct { uint8_t *data; size_t size; } entry;
static entry *corpus;
static size_t ncorpus, capcorpus;

static void add_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) { fprintf(stderr, "driver: cannot read %s\n", path); exit(2); }
    uint8_t *d = malloc(MAXIN);
    size_t n = fread(d, 1, MAXIN, f);
    fclose(f);
    if (ncorpus == capcorpus) {
        capcorpus = capcorpus ? 2 * capcorpus : 64;
        corpus = realloc(corpus, capcorpus * sizeof *corpus);
    }
    corpus[ncorpus++] = (entry){ d, n };
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void add_path(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) { fprintf(stderr, "driver: no such file %s\n", path); exit(2); }
    if (!S_ISDIR(st.st_mode)) { add_file(path); return; }
    DIR *dir = opendir(path);
    struct dirent *e;
    char **names = NULL;
    size_t n = 0;
    while (dir && (e = readdir(dir))) {
        if (e->d_name[0] == '.') continue;
        names = realloc(names, (n + 1) * sizeof *names);
        names[n++] = strdup(e->d_name);
    }
    if (dir) closedir(dir);
    qsort(names, n, sizeof *names, cmp_str);
    for (size_t i = 0; i < n; i++) {
        char full[4096];
        snprintf(full, sizeof full, "%s/%s", path, names[i]);
        add_file(full);
        free(names[i]);
    }
    free(names);
}

static void run_one(const uint8_t *d, size_t n)
{
    /* a private exact-size copy, as libFuzzer does, so reads past the input are caught */
    uint8_t *copy = malloc(n ? n : 1);
    memcpy(copy, d, n);
    cur_data = copy;
    cur_size = n;
    LLVMFuzzerTestOneInput(copy, n);
    cur_data = NULL;
    free(copy);
    execs++;
}

/* The seed corpus: for each op index (0..31, reduced modulo the ops there are), a float32,
 * float64 and float16 input holding every special value of the dtype, every call in turn,
 * short lengths that straddle vector widths, some strided and in-place; and integer/bool seeds. */
static void write_seeds(const char *dir)
{
    int made = 0;
    for (int op = 0; op < 24; op++)
        for (int dt = 9; dt <= 11; dt++) {
            uint8_t buf[16 + 4 * 64 * 8];
            memset(buf, 0, sizeof buf);
            int n = dt == 9 ? (int)N_SPECIAL_F16 : (int)N_SPECIAL_F64;
            int len = n + 3 * (op % 5);            /* 28..59: several vectors and a tail */
            buf[0] = (uint8_t)op;
            buf[1] = (uint8_t)(op + dt);           /* a different call per file */
            buf[2] = (uint8_t)dt;
            buf[3] = (uint8_t)len;
            buf[5] = (uint8_t)(op % 3 == 1 ? 2 : 0) | (uint8_t)(op % 4 == 3 ? 16 : 0);
            buf[6] = (uint8_t)(op % 3 == 2 ? 0xfe : 1); /* -2 */
            buf[7] = 1;
            buf[8] = (uint8_t)(op % 2 ? 3 : 1);
            buf[9] = (uint8_t)(op % 7);
            buf[12] = (uint8_t)(op % 32);
            buf[13] = (uint8_t)((op * 5 + 1) % 32);
            buf[14] = 0;
            buf[15] = (uint8_t)(op * 4 + 1);
            size_t p = 16;
            for (int r = 0; r < 2; r++)          /* array 0 and array 1: the values, then reversed */
                for (int i = 0; i < n; i++) {
                    int j = r ? n - 1 - i : i;
                    if (dt == 9) { memcpy(buf + p, &special_f16[j], 2); p += 2; }
                    else if (dt == 10) { float f = (float)special_f64[j]; memcpy(buf + p, &f, 4); p += 4; }
                    else { memcpy(buf + p, &special_f64[j], 8); p += 8; }
                }
            char path[4096];
            snprintf(path, sizeof path, "%s/special-op%02d-%s", dir, op, dt == 9 ? "f16" : dt == 10 ? "f32" : "f64");
            FILE *f = fopen(path, "wb");
            if (!f) { perror(path); exit(2); }
            fwrite(buf, 1, p, f);
            fclose(f);
            made++;
        }
    for (int dt = 0; dt <= 8; dt++) {   /* bool and integers: extremes */
        uint8_t buf[16 + 64];
        memset(buf, 0, sizeof buf);
        buf[0] = (uint8_t)(dt * 3);
        buf[1] = (uint8_t)dt;
        buf[2] = (uint8_t)dt;
        buf[3] = 13;
        buf[6] = 1; buf[7] = (uint8_t)(dt % 2 ? 0 : 1); buf[8] = 2;
        for (int i = 0; i < 64; i++) buf[16 + i] = (uint8_t)(i % 4 == 0 ? 0xff : i % 4 == 1 ? 0x80 : i % 4 == 2 ? 0x7f : i);
        char path[4096];
        snprintf(path, sizeof path, "%s/int-dtype%02d", dir, dt);
        FILE *f = fopen(path, "wb");
        if (!f) { perror(path); exit(2); }
        fwrite(buf, 1, sizeof buf, f);
        fclose(f);
        made++;
    }
    printf("driver: wrote %d seed files to %s\n", made, dir);
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int main(int argc, char **argv)
{
    double seconds = 60;
    uint64_t seed = (uint64_t)time(NULL);
    int opt;
    while ((opt = getopt(argc, argv, "t:s:c:w:")) != -1) {
        switch (opt) {
        case 't': seconds = atof(optarg); break;
        case 's': seed = strtoull(optarg, NULL, 0); break;
        case 'c': crash_dir = optarg; break;
        case 'w': rng_s = 1; write_seeds(optarg); return 0;
        default:
            fprintf(stderr, "usage: %s [-t SECONDS] [-s SEED] [-c CRASH_DIR] [-w SEED_DIR] CORPUS...\n", argv[0]);
            return 2;
        }
    }
    rng_s = seed * 0x9E3779B97F4A7C15ULL + 1;
#ifdef __SANITIZE_ADDRESS__
    __sanitizer_set_death_callback(save_current);
#endif
    signal(SIGABRT, on_signal);
    signal(SIGSEGV, on_signal);
    signal(SIGBUS, on_signal);
    signal(SIGFPE, on_signal);
    signal(SIGILL, on_signal);

    for (int i = optind; i < argc; i++) add_path(argv[i]);
    double t0 = now();
    for (size_t i = 0; i < ncorpus; i++) run_one(corpus[i].data, corpus[i].size);
    unsigned long long replayed = execs;
    double t1 = now();
    printf("driver: replayed %llu corpus inputs in %.1f s\n", replayed, t1 - t0);
    fflush(stdout);

    uint8_t *buf = malloc(MAXIN);
    double t = t1;
    unsigned long long generated = 0, mutated = 0;
    while (t - t1 < seconds) {
        size_t len;
        if (ncorpus == 0 || rndn(4) == 0) {
            len = generate(buf);
            generated++;
        } else {
            const entry *e = &corpus[rndn(ncorpus)], *o = &corpus[rndn(ncorpus)];
            memcpy(buf, e->data, e->size);
            len = mutate(buf, e->size, o->data, o->size);
            mutated++;
        }
        run_one(buf, len);
        if ((execs & 15) == 0) t = now();
    }
    t = now();
    unsigned long long fuzzed = execs - replayed;
    printf("driver: %llu random inputs (%llu generated, %llu mutated) in %.1f s: %.0f exec/s; "
           "seed %llu; no failure\n",
           fuzzed, generated, mutated, t - t1, fuzzed / (t - t1 > 0 ? t - t1 : 1), (unsigned long long)seed);
    free(buf);
    return 0;
}
