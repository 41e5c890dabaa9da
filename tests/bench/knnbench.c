/* tests/bench/knnbench.c: the neighbour search's time and recall.
 *
 *   knnbench N [--threads T] [--lists L] [--probes P] [--exact-max E]
 *            [--queries Q] [--kind mix|iso] [--features FILE.npy]
 *
 * Makes N feature rows of 64 (or repeats the rows of FILE.npy with a
 * little noise up to N), centres and normalises them as engine/knn.c
 * does, times ivf_neighbours for k = 20, then searches Q random rows by
 * brute force against all N and prints the recall of those true
 * neighbours. mix: a mixture of 100 Gaussians, each spread along 8 random
 * directions with a little isotropic noise (features of a trained network
 * have few dimensions that vary within a class); iso: the same centres
 * with isotropic spread, the hard case. One line of key=value results. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "data/base.h"
#include "data/npy.h"
#include "engine/gemm.h"
#include "engine/ivf.h"
#include "engine/par.h"
#include "engine/rng.h"

#define BENCH_K     20
#define BENCH_DIM   64
#define BENCH_MIX   100
#define BENCH_SPINE 8

static double
clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double
now(void)
{
    return clock_s(CLOCK_MONOTONIC);
}

static void
make_mixture(float *x, int64_t n, int iso, struct rng *r)
{
    int dim = BENCH_DIM;
    float *centre = xmalloc((size_t)BENCH_MIX * dim * sizeof *centre);
    float *axis = xmalloc((size_t)BENCH_MIX * BENCH_SPINE * dim * sizeof *axis);
    rng_fill_normal(r, centre, (size_t)BENCH_MIX * dim, 0.0f, 1.0f);
    rng_fill_normal(r, axis, (size_t)BENCH_MIX * BENCH_SPINE * dim, 0.0f,
                    0.35f);
    for (int64_t i = 0; i < n; i++) {
        int c = (int)rng_below(r, BENCH_MIX);
        float *row = x + (size_t)i * dim;
        memcpy(row, centre + (size_t)c * dim, (size_t)dim * sizeof *row);
        if (iso) {
            for (int d = 0; d < dim; d++)
                row[d] += 0.35f * rng_normal(r);
            continue;
        }
        for (int s = 0; s < BENCH_SPINE; s++) {
            float z = rng_normal(r);
            const float *a = axis + ((size_t)c * BENCH_SPINE + s) * dim;
            for (int d = 0; d < dim; d++)
                row[d] += z * a[d];
        }
        for (int d = 0; d < dim; d++)
            row[d] += 0.05f * rng_normal(r);
    }
    free(axis);
    free(centre);
}

/* Real rows, repeated with noise of a tenth of each column's spread. */
static int
make_from_file(float *x, int64_t n, const char *path, struct rng *r)
{
    struct npy a;
    char *cause = NULL;
    if (npy_read(path, &a, &cause) != 0) {
        fprintf(stderr, "knnbench: %s\n", cause);
        free(cause);
        return -1;
    }
    if (a.cols != BENCH_DIM || a.rows < 1) {
        fprintf(stderr, "knnbench: %s: expected N x %d\n", path, BENCH_DIM);
        npy_fini(&a);
        return -1;
    }
    double sd[BENCH_DIM] = {0}, mean[BENCH_DIM] = {0};
    for (int64_t i = 0; i < a.rows; i++)
        for (int d = 0; d < BENCH_DIM; d++)
            mean[d] += (double)a.data[i * BENCH_DIM + d] / (double)a.rows;
    for (int64_t i = 0; i < a.rows; i++)
        for (int d = 0; d < BENCH_DIM; d++) {
            double v = (double)a.data[i * BENCH_DIM + d] - mean[d];
            sd[d] += v * v / (double)a.rows;
        }
    for (int64_t i = 0; i < n; i++) {
        const float *src = a.data + (size_t)(i % a.rows) * BENCH_DIM;
        float *row = x + (size_t)i * BENCH_DIM;
        for (int d = 0; d < BENCH_DIM; d++)
            row[d] =
                src[d] +
                (i < a.rows ? 0.0f : 0.1f * (float)sqrt(sd[d]) * rng_normal(r));
    }
    npy_fini(&a);
    return 0;
}

static void
normalise(float *x, int64_t n, int dim)
{
    double *mean = xcalloc((size_t)dim, sizeof *mean);
    for (int64_t i = 0; i < n; i++)
        for (int d = 0; d < dim; d++)
            mean[d] += (double)x[i * dim + d];
    for (int d = 0; d < dim; d++)
        mean[d] /= (double)n;
    for (int64_t i = 0; i < n; i++) {
        float *row = x + (size_t)i * dim;
        double norm = 0;
        for (int d = 0; d < dim; d++) {
            row[d] = (float)((double)row[d] - mean[d]);
            norm += (double)row[d] * (double)row[d];
        }
        float s = norm > 0 ? (float)(1.0 / sqrt(norm)) : 0.0f;
        for (int d = 0; d < dim; d++)
            row[d] *= s;
    }
    free(mean);
}

/* The true neighbours of one row, by the same order as ivf.h. */
static void
exact_row(const float *x, int64_t n, int dim, int64_t self, float *sim,
          int32_t *best)
{
    gemm_nt(1, (int)n, dim, 1.0f, x + (size_t)self * dim, x, 0.0f, sim);
    float bs[BENCH_K];
    int found = 0;
    for (int64_t r = 0; r < n; r++) {
        float s = sim[r];
        if (r == self || (found == BENCH_K && !(s > bs[BENCH_K - 1])))
            continue;
        int at = found < BENCH_K ? found++ : BENCH_K - 1;
        while (at > 0 && s > bs[at - 1]) {
            bs[at] = bs[at - 1];
            best[at] = best[at - 1];
            at--;
        }
        bs[at] = s;
        best[at] = (int32_t)r;
    }
}

int
main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: knnbench N [--threads T] [--lists L] "
                        "[--probes P] [--exact-max E] [--queries Q] "
                        "[--kind mix|iso] [--features FILE.npy]\n");
        return 2;
    }
    int64_t n = atoll(argv[1]);
    int threads = 2, queries = 1000, iso = 0;
    const char *file = NULL;
    struct ivf_config cfg;
    ivf_config_default(&cfg);
    for (int i = 2; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--threads") == 0)
            threads = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--lists") == 0)
            cfg.lists = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--probes") == 0)
            cfg.probes = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--exact-max") == 0)
            cfg.exact_max = atoll(argv[i + 1]);
        else if (strcmp(argv[i], "--queries") == 0)
            queries = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--kind") == 0)
            iso = strcmp(argv[i + 1], "iso") == 0;
        else if (strcmp(argv[i], "--features") == 0)
            file = argv[i + 1];
        else {
            fprintf(stderr, "knnbench: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if (n < 2 || threads < 1 || queries < 1)
        return 2;
    gemm_set_threads(threads);
    struct rng r;
    rng_seed(&r, 17);
    float *x = xmalloc((size_t)n * BENCH_DIM * sizeof *x);
    if (file != NULL) {
        if (make_from_file(x, n, file, &r) != 0)
            return 1;
    } else {
        make_mixture(x, n, iso, &r);
    }
    normalise(x, n, BENCH_DIM);

    struct par *team = NULL;
    char *cause = NULL;
    if (par_new(threads, &team, &cause) != 0) {
        fprintf(stderr, "knnbench: %s\n", cause);
        return 1;
    }
    int32_t *nbr = xmalloc((size_t)n * BENCH_K * sizeof *nbr);
    double t0 = now(), c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
    if (ivf_neighbours(x, n, BENCH_DIM, BENCH_K, &cfg, team, nbr, NULL,
                       &cause) != 0) {
        fprintf(stderr, "knnbench: %s\n", cause);
        return 1;
    }
    double search = now() - t0;
    double cpu = clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
    int lists, probes;
    ivf_plan(n, &cfg, &lists, &probes);

    float *sim = xmalloc((size_t)n * sizeof *sim);
    int64_t hits = 0;
    for (int q = 0; q < queries; q++) {
        int64_t self = (int64_t)rng_below(&r, (uint32_t)n);
        int32_t truth[BENCH_K];
        exact_row(x, n, BENCH_DIM, self, sim, truth);
        const int32_t *got = nbr + (size_t)self * BENCH_K;
        for (int a = 0; a < BENCH_K; a++)
            for (int b = 0; b < BENCH_K; b++)
                if (truth[a] == got[b]) {
                    hits++;
                    break;
                }
    }
    printf(
        "n=%lld kind=%s threads=%d lists=%d probes=%d search_s=%.2f cpu_s=%.2f "
        "recall=%.4f queries=%d\n",
        (long long)n,
        file  ? "file"
        : iso ? "iso"
              : "mix",
        threads, lists, probes, search, cpu,
        (double)hits / ((double)queries * BENCH_K), queries);
    par_free(team);
    free(sim);
    free(nbr);
    free(x);
    return 0;
}
