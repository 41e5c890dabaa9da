/* engine/knn.c: label votes of each sample's nearest neighbours.
 *
 * The features are centred (the mean over all samples removed, since
 * post-ReLU features all share one positive direction that would make
 * every cosine large) and scaled to unit length once. Then each group's
 * neighbours come from engine/ivf.h (exact up to exact_max samples, an
 * index beyond), and a sample's votes are the shares of its neighbours'
 * labels. */
#include "config.h"

#include "engine/knn.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/ivf.h"
#include "engine/par.h"

/* Enough neighbours that a 60/40 label split shows through the binomial
 * noise of the vote, few enough to stay local. */
#define KNN_NEIGHBOURS      20
#define KNN_MAX_K           256 /* as ivf.c */
/* Rows per thread below which another thread costs more than it saves. */
#define KNN_ROWS_PER_THREAD 128

void
knn_config_default(struct knn_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->k = KNN_NEIGHBOURS;
    struct ivf_config ic;
    ivf_config_default(&ic);
    cfg->exact_max = ic.exact_max;
    cfg->seed = 1;
    cfg->threads = 1;
}

static int
knn_check(const struct knn_input *in, const struct knn_config *cfg,
          char **cause)
{
    if (in->n < 0 || in->dim < 1 || in->classes < 1)
        return wn_fail(cause, "nearest neighbours: bad sizes");
    if (cfg->k < 1 || cfg->k > KNN_MAX_K || cfg->exact_max < 0 ||
        cfg->lists < 0 || cfg->probes < 0 || cfg->threads < 1)
        return wn_fail(cause, "nearest neighbours: bad settings");
    if (in->n > INT32_MAX)
        return wn_fail(cause, "nearest neighbours: too many samples");
    for (int64_t i = 0; i < in->n; i++) {
        if (in->label[i] < 0 || in->label[i] >= in->classes)
            return wn_fail(cause, "nearest neighbours: label out of range");
        if (in->group != NULL && in->group[i] < 0)
            return wn_fail(cause, "nearest neighbours: negative group");
    }
    size_t cells;
    if (wn_mul_size((size_t)in->n, (size_t)in->dim, &cells) != 0 ||
        wn_mul_size(cells, sizeof(float), &cells) != 0)
        return wn_fail(cause, "nearest neighbours: too many features");
    return 0;
}

/* Centre the features and scale each row to unit length; a row that is
 * all mean stays zero and is then equally (dis)similar to everyone. */
static float *
knn_normalise(const struct knn_input *in)
{
    size_t n = (size_t)in->n, dim = (size_t)in->dim;
    float *x = xmalloc(n * dim * sizeof *x);
    double *mean = xcalloc(dim, sizeof *mean);
    for (size_t i = 0; i < n; i++)
        for (size_t d = 0; d < dim; d++)
            mean[d] += (double)in->features[i * dim + d];
    for (size_t d = 0; d < dim; d++)
        mean[d] /= n > 0 ? (double)n : 1.0;
    for (size_t i = 0; i < n; i++) {
        float *row = x + i * dim;
        double norm = 0;
        for (size_t d = 0; d < dim; d++) {
            double v = (double)in->features[i * dim + d] - mean[d];
            row[d] = (float)v;
            norm += v * v;
        }
        float scale = norm > 0 ? (float)(1.0 / sqrt(norm)) : 0.0f;
        for (size_t d = 0; d < dim; d++)
            row[d] *= scale;
    }
    free(mean);
    return x;
}

int
knn_votes(const struct knn_input *in, const struct knn_config *cfg,
          float *votes, char **cause)
{
    if (knn_check(in, cfg, cause) != 0)
        return -1;
    size_t n = (size_t)in->n, dim = (size_t)in->dim;
    if (n == 0)
        return 0;
    memset(votes, 0, n * (size_t)in->classes * sizeof *votes);

    /* Samples ordered by group (counting sort, index order within). */
    int32_t groups = 0;
    for (size_t i = 0; i < n; i++) {
        int32_t g = in->group != NULL ? in->group[i] : 0;
        if (g + 1 > groups)
            groups = g + 1;
    }
    int64_t *start = xcalloc((size_t)groups + 1, sizeof *start);
    for (size_t i = 0; i < n; i++)
        start[(in->group != NULL ? in->group[i] : 0) + 1]++;
    int64_t largest = 0;
    for (int32_t g = 0; g < groups; g++) {
        if (start[g + 1] > largest)
            largest = start[g + 1];
        start[g + 1] += start[g];
    }
    int32_t *member = xmalloc(n * sizeof *member);
    {
        int64_t *fill = xmalloc((size_t)groups * sizeof *fill);
        memcpy(fill, start, (size_t)groups * sizeof *fill);
        for (size_t i = 0; i < n; i++)
            member[fill[in->group != NULL ? in->group[i] : 0]++] = (int32_t)i;
        free(fill);
    }

    float *x = knn_normalise(in);
    int threads = cfg->threads;
    if ((int64_t)threads * KNN_ROWS_PER_THREAD > (int64_t)n)
        threads = (int)((n + KNN_ROWS_PER_THREAD - 1) / KNN_ROWS_PER_THREAD);
    int32_t *nbr = xmalloc((size_t)largest * (size_t)cfg->k * sizeof *nbr);
    /* One group searches the rows as they are; several are packed one
     * group at a time. */
    float *gx = groups > 1 ? xmalloc((size_t)largest * dim * sizeof *gx) : x;
    struct ivf_config ic;
    ivf_config_default(&ic);
    ic.exact_max = cfg->exact_max;
    ic.lists = cfg->lists;
    ic.probes = cfg->probes;
    struct par *team = NULL;
    int rc = -1;
    if (par_new(threads, &team, cause) != 0)
        goto done;

    for (int32_t g = 0; g < groups; g++) {
        const int32_t *mem = member + start[g];
        int64_t count = start[g + 1] - start[g];
        if (count == 0)
            continue;
        if (groups > 1)
            for (int64_t i = 0; i < count; i++)
                memcpy(gx + (size_t)i * dim, x + (size_t)mem[i] * dim,
                       dim * sizeof *gx);
        /* Each group its own stream, so a group's neighbours do not
         * depend on the groups before it. */
        ic.seed = cfg->seed + (uint64_t)g;
        if (ivf_neighbours(gx, count, in->dim, cfg->k, &ic, team, nbr, NULL,
                           cause) != 0)
            goto done;
        for (int64_t i = 0; i < count; i++) {
            float *v = votes + (size_t)mem[i] * (size_t)in->classes;
            const int32_t *row = nbr + (size_t)i * (size_t)cfg->k;
            int found = 0;
            /* Whole counts first, one division each: a unanimous vote
             * is exactly 1. */
            for (; found < cfg->k && row[found] >= 0; found++)
                v[in->label[mem[row[found]]]] += 1.0f;
            for (int c = 0; found > 0 && c < in->classes; c++)
                v[c] /= (float)found;
        }
    }
    rc = 0;
done:
    par_free(team);
    if (gx != x)
        free(gx);
    free(nbr);
    free(x);
    free(member);
    free(start);
    return rc;
}
