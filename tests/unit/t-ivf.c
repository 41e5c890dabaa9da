/* tests/unit/t-ivf.c: the neighbour search against brute force.
 *
 * A clustered set (a mixture of Gaussians, each spread along a few
 * directions, as a network's features are) is searched exactly and
 * through the index and compared with neighbours computed here in double
 * precision: every neighbour found below the exact threshold, at least
 * 95% above it. The index repeats bit for bit for a seed and any thread
 * count. Ties (rows that are all alike) go to the lower index, a row with
 * too few others gets -1s, and bad settings are refused. */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data/base.h"
#include "engine/gemm.h"
#include "engine/ivf.h"
#include "engine/par.h"
#include "engine/rng.h"
#include "tests/tap.h"

#define DIM 16
#define K   10

static void
make_set(float *x, int64_t n, uint64_t seed)
{
    enum { MODES = 12, AXES = 3 };
    struct rng r;
    rng_seed(&r, seed);
    float centre[MODES][DIM], axis[MODES][AXES][DIM];
    for (int m = 0; m < MODES; m++)
        for (int d = 0; d < DIM; d++) {
            centre[m][d] = rng_normal(&r);
            for (int a = 0; a < AXES; a++)
                axis[m][a][d] = 0.4f * rng_normal(&r);
        }
    for (int64_t i = 0; i < n; i++) {
        int m = (int)rng_below(&r, MODES);
        float *row = x + i * DIM;
        double norm = 0;
        for (int d = 0; d < DIM; d++)
            row[d] = centre[m][d] + 0.05f * rng_normal(&r);
        for (int a = 0; a < AXES; a++) {
            float z = rng_normal(&r);
            for (int d = 0; d < DIM; d++)
                row[d] += z * axis[m][a][d];
        }
        for (int d = 0; d < DIM; d++)
            norm += (double)row[d] * (double)row[d];
        for (int d = 0; d < DIM; d++)
            row[d] = (float)((double)row[d] / sqrt(norm));
    }
}

/* The share of the true neighbours found, over the rows whose k-th and
 * (k+1)-th true similarities are apart by more than float rounding (a
 * near tie may rightly go either way). */
static double
recall(const float *x, int64_t n, const int32_t *nbr)
{
    int64_t hits = 0, asked = 0;
    double *sim = xmalloc((size_t)n * sizeof *sim);
    for (int64_t i = 0; i < n; i++) {
        for (int64_t j = 0; j < n; j++) {
            double s = 0;
            for (int d = 0; d < DIM; d++)
                s += (double)x[i * DIM + d] * (double)x[j * DIM + d];
            sim[j] = j == i ? -(double)INFINITY : s;
        }
        int32_t best[K + 1];
        for (int t = 0; t <= K; t++) {
            int64_t b = -1;
            for (int64_t j = 0; j < n; j++) {
                int taken = 0;
                for (int u = 0; u < t; u++)
                    taken |= best[u] == j;
                if (!taken && (b < 0 || sim[j] > sim[b]))
                    b = j;
            }
            best[t] = (int32_t)b;
        }
        if (sim[best[K - 1]] - sim[best[K]] < 1e-5)
            continue;
        asked += K;
        for (int t = 0; t < K; t++)
            for (int u = 0; u < K; u++)
                hits += best[t] == nbr[i * K + u];
    }
    free(sim);
    return asked > 0 ? (double)hits / (double)asked : 0;
}

static int32_t *
search(const float *x, int64_t n, const struct ivf_config *cfg, int threads)
{
    struct par *team = NULL;
    char *cause = NULL;
    int32_t *nbr = xmalloc((size_t)n * K * sizeof *nbr);
    gemm_set_threads(threads);
    if (par_new(threads, &team, &cause) != 0 ||
        ivf_neighbours(x, n, DIM, K, cfg, team, nbr, NULL, &cause) != 0) {
        diag("%s", cause);
        free(cause);
        memset(nbr, 0xff, (size_t)n * K * sizeof *nbr);
    }
    par_free(team);
    return nbr;
}

static void
test_clustered(void)
{
    int64_t n = 1500;
    float *x = xmalloc((size_t)n * DIM * sizeof *x);
    make_set(x, n, 5);
    struct ivf_config cfg;
    ivf_config_default(&cfg);

    int lists, probes;
    ivf_plan(n, &cfg, &lists, &probes);
    ok(lists == 1 && probes == 1, "below the threshold: one list, exact");
    int32_t *exact = search(x, n, &cfg, 2);
    ok(recall(x, n, exact) == 1.0, "exact: every true neighbour found");

    cfg.exact_max = 0;
    ivf_plan(n, &cfg, &lists, &probes);
    ok(lists == 39, "above it: about sqrt(N) lists (%d)", lists);
    /* Few probes, so that the test says something about the index. */
    cfg.probes = 4;
    int32_t *one = search(x, n, &cfg, 1);
    double r = recall(x, n, one);
    ok(r >= 0.95, "index, 4 of 39 lists: recall %.4f >= 0.95", r);
    ok(r < 1.0, "and it is an approximation (%.4f)", r);
    int32_t *three = search(x, n, &cfg, 3);
    ok(memcmp(one, three, (size_t)n * K * sizeof *one) == 0,
       "bit-identical for 1 and 3 threads");
    cfg.probes = 0;
    int32_t *wide = search(x, n, &cfg, 2);
    r = recall(x, n, wide);
    ok(r >= 0.99, "index, automatic probes: recall %.4f", r);
    cfg.seed = 2;
    int32_t *seed2 = search(x, n, &cfg, 2);
    r = recall(x, n, seed2);
    ok(r >= 0.99, "another seed: recall %.4f", r);
    cfg.probes = lists;
    int32_t *all = search(x, n, &cfg, 2);
    ok(memcmp(all, exact, (size_t)n * K * sizeof *all) == 0,
       "probing every list is the exact search");

    /* The similarities beside the indices: the rows' inner products,
     * best first. */
    float *sim = xmalloc((size_t)n * K * sizeof *sim);
    int32_t *nbr = xmalloc((size_t)n * K * sizeof *nbr);
    struct par *team = NULL;
    char *cause = NULL;
    ok(par_new(2, &team, &cause) == 0 &&
           ivf_neighbours(x, n, DIM, K, &cfg, team, nbr, sim, &cause) == 0,
       "with similarities");
    ok(memcmp(nbr, all, (size_t)n * K * sizeof *nbr) == 0,
       "the same neighbours");
    int agree = 1;
    for (int64_t i = 0; i < n; i++)
        for (int t = 0; t < K; t++) {
            double dot = 0;
            for (int d = 0; d < DIM; d++)
                dot += (double)x[i * DIM + d] *
                       (double)x[(int64_t)nbr[i * K + t] * DIM + d];
            agree &= fabs(dot - (double)sim[i * K + t]) < 1e-5;
            agree &= t == 0 || sim[i * K + t] <= sim[i * K + t - 1];
        }
    ok(agree, "each similarity is the rows' inner product, best first");
    par_free(team);
    free(nbr);
    free(sim);

    free(all);
    free(seed2);
    free(wide);
    free(three);
    free(one);
    free(exact);
    free(x);
}

static void
test_ties(void)
{
    /* Rows all alike (zero, as a sample that is all mean becomes): every
     * similarity ties, so the neighbours are the lowest other indices,
     * exactly and through the index. */
    int64_t n = 100;
    float *x = xcalloc((size_t)n * DIM, sizeof *x);
    struct ivf_config cfg;
    ivf_config_default(&cfg);
    for (int pass = 0; pass < 2; pass++) {
        cfg.exact_max = pass == 0 ? n : 0;
        int32_t *nbr = search(x, n, &cfg, 2);
        int low = 1;
        for (int64_t i = 0; i < n; i++)
            for (int t = 0; t < K; t++)
                low &= nbr[i * K + t] == (t < i ? t : t + 1);
        ok(low, "%s: ties go to the lower index",
           pass == 0 ? "exact" : "index");
        free(nbr);
    }
    n = 3;
    int32_t *few = search(x, n, &cfg, 1);
    ok(few[0] == 1 && few[1] == 2 && few[2] == -1 && few[K - 1] == -1,
       "fewer than k others: -1 fills the places");
    free(few);
    struct par *team = NULL;
    char *cause = NULL;
    int32_t nbr[3 * K];
    float sim[3 * K];
    ok(par_new(1, &team, &cause) == 0 &&
           ivf_neighbours(x, n, DIM, K, &cfg, team, nbr, sim, &cause) == 0 &&
           sim[0] == 0.0f && sim[2] == -INFINITY,
       "and -inf their similarities");
    par_free(team);
    free(x);
}

static void
test_bad(void)
{
    float x[DIM] = {1};
    int32_t nbr[300];
    struct ivf_config cfg;
    ivf_config_default(&cfg);
    struct par *team = NULL;
    char *cause = NULL;
    ok(par_new(1, &team, &cause) == 0, "team");
    ok(ivf_neighbours(x, 1, DIM, 0, &cfg, team, nbr, NULL, &cause) == -1 &&
           cause != NULL,
       "k = 0 is refused");
    free(cause);
    cause = NULL;
    ok(ivf_neighbours(x, 1, DIM, 257, &cfg, team, nbr, NULL, &cause) == -1,
       "k = 257 is refused");
    free(cause);
    cause = NULL;
    cfg.probes = -1;
    ok(ivf_neighbours(x, 1, DIM, 1, &cfg, team, nbr, NULL, &cause) == -1,
       "negative probes are refused");
    free(cause);
    cause = NULL;
    cfg.probes = 0;
    ok(ivf_neighbours(x, 1, DIM, 1, &cfg, team, nbr, NULL, &cause) == 0 &&
           nbr[0] == -1,
       "one row has no neighbour");
    ok(ivf_neighbours(x, 0, DIM, 1, &cfg, team, nbr, NULL, &cause) == 0,
       "no rows is fine");
    par_free(team);
}

int
main(void)
{
    test_clustered();
    test_ties();
    test_bad();
    return done_testing();
}
