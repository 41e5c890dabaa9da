/* The outlier score on a made set: three tight clusters of features, a
 * few samples the network barely responds to (small features), a blank
 * image and a black one. The far samples and the odd images rank first, a typical sample
 * scores about 0.5, and the scores repeat exactly. */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data/base.h"
#include "engine/featpairs.h"
#include "engine/outlier.h"
#include "engine/rng.h"
#include "tests/tap.h"

#define N_CLASS 3
#define PER     150
#define FAR     5
#define DIM     24
#define SIDE    8
#define N       (N_CLASS * PER + FAR)

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int
main(void)
{
    float *feat = xcalloc((size_t)N * DIM, sizeof *feat);
    int32_t label[N];
    uint8_t *px = xmalloc((size_t)N * SIDE * SIDE);
    struct rng r;
    rng_seed(&r, 7);
    for (int i = 0; i < N; i++) {
        int c = i < N_CLASS * PER ? i / PER : i % N_CLASS;
        label[i] = c;
        float *f = feat + (size_t)i * DIM;
        for (int j = 0; j < DIM; j++)
            f[j] = 0.15f * rng_normal(&r);
        if (i < N_CLASS * PER)
            f[c] += 3.0f; /* the class's own direction, firmly */
        else
            for (int j = 0; j < DIM; j++) /* barely a response */
                f[j] *= 0.3f;
        for (int p = 0; p < SIDE * SIDE; p++)
            px[(size_t)i * SIDE * SIDE + (size_t)p] =
                (uint8_t)rng_below(&r, 256);
    }
    /* Two ordinary samples with odd pixels: a blank frame, a black one. */
    int blank = 10, black = PER + 10;
    memset(px + (size_t)blank * SIDE * SIDE, 128, SIDE * SIDE);
    memset(px + (size_t)black * SIDE * SIDE, 2, SIDE * SIDE);

    struct outlier_input in = {
        .n = N,
        .dim = DIM,
        .classes = N_CLASS,
        .features = feat,
        .label = label,
        .pixels = px,
        .channels = 1,
        .side = SIDE,
    };
    double *s = xmalloc(N * sizeof *s), *s2 = xmalloc(N * sizeof *s2);
    char *cause = NULL;
    is_int(outlier_scores(&in, s, &cause), ==, 0);

    double worst_typical = 0;
    for (int i = 0; i < N_CLASS * PER; i++)
        if (i != blank && i != black && s[i] > worst_typical)
            worst_typical = s[i];
    double least_far = 1;
    for (int i = N_CLASS * PER; i < N; i++)
        if (s[i] < least_far)
            least_far = s[i];
    ok(least_far > worst_typical,
       "every weak sample outranks every typical one (%.3f > %.3f)", least_far,
       worst_typical);
    ok(s[blank] >= 0.9, "a blank image scores %.3f", s[blank]);
    ok(s[black] >= 0.85, "a black image scores %.3f", s[black]);
    double *sorted = xmalloc(N * sizeof *sorted);
    memcpy(sorted, s, N * sizeof *s);
    qsort(sorted, N, sizeof *sorted, cmp_double);
    ok(fabs(sorted[N / 2] - 0.5) < 0.05,
       "a typical sample scores about 0.5 "
       "(median %.3f)",
       sorted[N / 2]);
    int in_range = 1;
    for (int i = 0; i < N; i++)
        in_range &= s[i] >= 0 && s[i] < 1;
    ok(in_range, "every score is in [0, 1)");

    /* Nothing random: the same scores again. */
    is_int(outlier_scores(&in, s, &cause), ==, 0);
    is_int(outlier_scores(&in, s2, &cause), ==, 0);
    ok(memcmp(s, s2, N * sizeof *s) == 0, "the scores repeat exactly");

    /* Pixels alone (no features): only the odd images stand out. */
    in.features = NULL;
    in.dim = 0;
    is_int(outlier_scores(&in, s, &cause), ==, 0);
    ok(s[blank] >= 0.9 && s[0] == 0.0, "without features, pixels decide");

    label[3] = N_CLASS;
    is_int(outlier_scores(&in, s, &cause), ==, -1);
    ok(cause != NULL && strstr(cause, "out of range") != NULL,
       "a label out of range is refused: %s", cause);
    free(cause);

    /* Feature pairs: among random rows, a near copy of row 5 (a little
     * noise) as the last; it pairs with 5 and nothing else does. */
    for (size_t i = 0; i < (size_t)N * DIM; i++)
        feat[i] = rng_normal(&r); /* independent rows: cosines near 0 */
    float *g = feat + (size_t)(N - 1) * DIM;
    for (int j = 0; j < DIM; j++)
        g[j] = feat[5 * DIM + j] + 0.01f * rng_normal(&r);
    struct featpairs_pair *fp;
    size_t nfp;
    int trunc;
    is_int(featpairs_find(feat, N, DIM, 0.97, 0, &fp, &nfp, &trunc, &cause), ==,
           0);
    ok(nfp == 1 && fp[0].a == 5 && fp[0].b == N - 1 && !trunc &&
           fp[0].similarity > 0.97f,
       "featpairs finds the planted copy alone (%zu pairs)", nfp);
    free(fp);
    /* In different groups (two folds' models), the copy does not pair. */
    int32_t *grp = xcalloc(N, sizeof *grp);
    grp[N - 1] = 1;
    is_int(featpairs_find_grouped(feat, N, DIM, grp, 0.97, &fp, &nfp, &trunc,
                                  &cause),
           ==, 0);
    ok(nfp == 0, "rows of two groups never pair");
    free(fp);
    for (int i = 0; i < 50; i++) /* a group of some size: 5 among them */
        grp[i] = 1;
    is_int(featpairs_find_grouped(feat, N, DIM, grp, 0.97, &fp, &nfp, &trunc,
                                  &cause),
           ==, 0);
    ok(nfp == 1 && fp[0].a == 5 && fp[0].b == N - 1,
       "in one group they pair, as the rows' own indices");
    free(fp);
    /* A threshold that pairs everything stops at the cap. */
    is_int(featpairs_find(feat, N, DIM, -1.0, 0, &fp, &nfp, &trunc, &cause), ==,
           0);
    ok(trunc && nfp == (size_t)FEATPAIRS_MAX_PER_SAMPLE * N,
       "at most %d pairs a sample", FEATPAIRS_MAX_PER_SAMPLE);
    free(fp);
    free(grp);
    free(sorted);
    free(s);
    free(s2);
    free(px);
    free(feat);
    return done_testing();
}
