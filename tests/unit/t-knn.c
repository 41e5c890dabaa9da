/* tests/unit/t-knn.c: nearest-neighbour label votes.
 *
 * A hand-placed case pins the arithmetic (centring, cosine, self excluded,
 * ties to the earlier sample). Three noisy clusters with a few wrong
 * labels check that the wrong ones are outvoted and the right ones are not,
 * that groups never mix, that the result is bit-identical for any thread
 * count, and that the index (beyond exact_max) still votes sensibly and
 * repeats for a seed. Then bad input. The index itself: t-ivf.c. */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data/base.h"
#include "engine/gemm.h"
#include "engine/knn.h"
#include "engine/rng.h"
#include "tests/tap.h"

static void
test_hand(void)
{
    /* Four points on a line after centring: a and b close, c and d
     * close. The mean is (0.5, 0.5) so centred rows point apart. */
    static const float feat[8] = {
        0.0f, 0.0f, 0.1f, 0.05f, /* a, b */
        1.0f, 1.0f, 0.9f, 0.95f, /* c, d */
    };
    static const int32_t label[4] = {0, 0, 1, 0};
    struct knn_input in = {4, 2, 2, feat, label, NULL};
    struct knn_config cfg;
    knn_config_default(&cfg);
    cfg.k = 1;
    float v[8];
    char *cause = NULL;
    ok(knn_votes(&in, &cfg, v, &cause) == 0, "hand case runs");
    ok(fabs((double)(v[0]) - (1.0)) <= 0, "a's neighbour is b (label 0)");
    ok(fabs((double)(v[2]) - (1.0)) <= 0, "b's neighbour is a");
    ok(fabs((double)(v[4]) - (1.0)) <= 0, "c's neighbour is d (label 0)");
    ok(fabs((double)(v[7]) - (1.0)) <= 0, "d's neighbour is c (label 1)");

    cfg.k = 3; /* every other sample: votes are shares of three */
    ok(knn_votes(&in, &cfg, v, &cause) == 0, "k larger than the others");
    ok(fabs((double)(v[0]) - (2.0 / 3.0)) <= 1e-6,
       "a sees b, c, d: 2/3 label 0");
    ok(fabs((double)(v[4]) - (1.0)) <= 1e-6, "c sees a, b, d: all label 0");
    ok(fabs((double)(v[7]) - (1.0 / 3.0)) <= 1e-6, "d sees one label 1");

    /* A sample alone in its group has no neighbour: a row of zeros. */
    static const int32_t group[4] = {0, 0, 0, 1};
    in.group = group;
    ok(knn_votes(&in, &cfg, v, &cause) == 0, "groups");
    ok(v[6] == 0.0f && v[7] == 0.0f, "the lone sample gets no votes");
    ok(fabs((double)(v[4]) - (1.0)) <= 1e-6, "c now sees only a and b");
}

/* Three clusters of m points in dim dimensions around random centres,
 * labelled by cluster except every tenth, which carries the next label. */
struct clusters {
    int64_t n;
    int dim;
    float *feat;
    int32_t *label, *truth;
};

static void
make_clusters(struct clusters *c, int64_t m, int dim, uint64_t seed)
{
    struct rng r;
    rng_seed(&r, seed);
    c->n = 3 * m;
    c->dim = dim;
    c->feat = xmalloc((size_t)c->n * (size_t)dim * sizeof *c->feat);
    c->label = xmalloc((size_t)c->n * sizeof *c->label);
    c->truth = xmalloc((size_t)c->n * sizeof *c->truth);
    float centre[3][64];
    for (int k = 0; k < 3; k++)
        for (int d = 0; d < dim; d++)
            centre[k][d] = 3.0f * rng_normal(&r);
    for (int64_t i = 0; i < c->n; i++) {
        int k = (int)(i % 3);
        for (int d = 0; d < dim; d++)
            c->feat[i * dim + d] = centre[k][d] + rng_normal(&r);
        c->truth[i] = k;
        c->label[i] = i % 10 == 0 ? (k + 1) % 3 : k;
    }
}

static void
free_clusters(struct clusters *c)
{
    free(c->feat);
    free(c->label);
    free(c->truth);
}

static int
outvoted(const struct clusters *c, const float *v, int64_t *right)
{
    int64_t wrong_caught = 0, wrong = 0;
    *right = 0;
    for (int64_t i = 0; i < c->n; i++) {
        const float *row = v + i * 3;
        int best = 0;
        for (int j = 1; j < 3; j++)
            if (row[j] > row[best])
                best = j;
        *right += best == c->truth[i];
        if (c->label[i] != c->truth[i]) {
            wrong++;
            wrong_caught += row[c->label[i]] < 0.5f;
        }
    }
    return wrong_caught == wrong;
}

static void
test_clusters(void)
{
    struct clusters c;
    make_clusters(&c, 400, 16, 7);
    struct knn_input in = {c.n, c.dim, 3, c.feat, c.label, NULL};
    struct knn_config cfg;
    knn_config_default(&cfg);
    size_t cells = (size_t)c.n * 3;
    float *v1 = xmalloc(cells * sizeof *v1);
    float *v3 = xmalloc(cells * sizeof *v3);
    char *cause = NULL;

    gemm_set_threads(1);
    cfg.threads = 1;
    ok(knn_votes(&in, &cfg, v1, &cause) == 0, "one thread");
    int64_t right;
    ok(outvoted(&c, v1, &right), "every wrong label is outvoted");
    ok(right == c.n, "the vote names the true cluster for every sample");
    int sums = 1;
    for (int64_t i = 0; i < c.n; i++) {
        double s =
            (double)v1[i * 3] + (double)v1[i * 3 + 1] + (double)v1[i * 3 + 2];
        sums &= fabs(s - 1.0) < 1e-5;
    }
    ok(sums, "each row of votes sums to 1");

    gemm_set_threads(3);
    cfg.threads = 3;
    ok(knn_votes(&in, &cfg, v3, &cause) == 0, "three threads");
    ok(memcmp(v1, v3, cells * sizeof *v1) == 0,
       "bit-identical for 1 and 3 threads");

    /* Groups: the same points in two groups whose labels disagree
     * entirely; each group must vote only its own labels. */
    int32_t *group = xmalloc((size_t)c.n * sizeof *group);
    int32_t *lab = xmalloc((size_t)c.n * sizeof *lab);
    for (int64_t i = 0; i < c.n; i++) {
        group[i] = i < c.n / 2 ? 0 : 1;
        lab[i] = group[i] == 0 ? 0 : 2;
    }
    struct knn_input ing = {c.n, c.dim, 3, c.feat, lab, group};
    ok(knn_votes(&ing, &cfg, v3, &cause) == 0, "grouped");
    int pure = 1;
    for (int64_t i = 0; i < c.n; i++)
        pure &= v3[i * 3 + (group[i] == 0 ? 0 : 2)] == 1.0f;
    ok(pure, "no vote crosses a group");
    free(group);
    free(lab);

    /* Through the index (exact only up to a third of the samples). */
    cfg.exact_max = c.n / 3;
    ok(knn_votes(&in, &cfg, v1, &cause) == 0, "index");
    ok(outvoted(&c, v1, &right), "the index still outvotes every wrong label");
    cfg.threads = 1;
    gemm_set_threads(1);
    ok(knn_votes(&in, &cfg, v3, &cause) == 0, "index, one thread");
    ok(memcmp(v1, v3, cells * sizeof *v1) == 0,
       "the index repeats for a seed and any thread count");
    cfg.exact_max = c.n;
    ok(knn_votes(&in, &cfg, v3, &cause) == 0, "exact again");
    int64_t same = 0;
    for (size_t i = 0; i < cells; i++)
        same += v1[i] == v3[i];
    ok(same > (int64_t)cells * 9 / 10,
       "the index votes as the exact search does, nearly everywhere");
    free(v1);
    free(v3);
    free_clusters(&c);
}

static void
test_bad(void)
{
    static const float feat[4] = {0, 1, 1, 0};
    int32_t label[2] = {0, 5};
    struct knn_input in = {2, 2, 2, feat, label, NULL};
    struct knn_config cfg;
    knn_config_default(&cfg);
    float v[4];
    char *cause = NULL;
    ok(knn_votes(&in, &cfg, v, &cause) == -1 && cause != NULL,
       "a label out of range is refused");
    free(cause);
    cause = NULL;
    label[1] = 1;
    cfg.k = 0;
    ok(knn_votes(&in, &cfg, v, &cause) == -1, "k = 0 is refused");
    free(cause);
    cause = NULL;
    cfg.k = 5;
    ok(knn_votes(&in, &cfg, v, &cause) == 0, "k above the others is fine");
    ok(fabs((double)(v[1]) - (1.0)) <= 0, "the one neighbour votes fully");
    in.n = 0;
    ok(knn_votes(&in, &cfg, v, &cause) == 0, "no samples is fine");
}

int
main(void)
{
    test_hand();
    test_clusters();
    test_bad();
    return done_testing();
}
