/* engine/featpairs.c: all pairs of similar feature rows, block by block. */
#include "config.h"

#include "engine/featpairs.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/gemm.h"

/* Rows per product: a block of similarities stays some tens of MB. */
#define FEATPAIRS_BLOCK 256

float *
featpairs_normalise(const float *features, int64_t n, int dim)
{
    size_t rows = (size_t)n, d = (size_t)dim;
    double *mean = xcalloc(d > 0 ? d : 1, sizeof *mean);
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < d; j++)
            mean[j] += (double)features[i * d + j];
    for (size_t j = 0; j < d && rows > 0; j++)
        mean[j] /= (double)rows;
    float *f = xmalloc((rows * d > 0 ? rows * d : 1) * sizeof *f);
    for (size_t i = 0; i < rows; i++) {
        double ss = 0;
        for (size_t j = 0; j < d; j++) {
            double v = (double)features[i * d + j] - mean[j];
            f[i * d + j] = (float)v;
            ss += v * v;
        }
        float inv = ss > 0 ? (float)(1.0 / sqrt(ss)) : 0.0f;
        for (size_t j = 0; j < d; j++)
            f[i * d + j] *= inv;
    }
    free(mean);
    return f;
}

int
featpairs_find(const float *features, int64_t n, int dim, double min_similarity,
               size_t max_pairs, struct featpairs_pair **out, size_t *n_out,
               int *truncated, char **cause)
{
    *out = NULL;
    *n_out = 0;
    *truncated = 0;
    if (n < 0 || dim < 1 || n > INT32_MAX)
        return wn_fail(cause, "feature pairs: bad input (%lld x %d)",
                       (long long)n, dim);
    if (n < 2)
        return 0;
    size_t rows = (size_t)n, d = (size_t)dim;
    size_t max = max_pairs > 0 ? max_pairs : FEATPAIRS_MAX_PER_SAMPLE * rows;
    float *f = featpairs_normalise(features, n, dim);
    float *sim = xmalloc((size_t)FEATPAIRS_BLOCK * rows * sizeof *sim);
    struct featpairs_pair *v = NULL;
    size_t np = 0, cap = 0;
    float t = (float)min_similarity;
    for (size_t b0 = 0; b0 < rows && !*truncated; b0 += FEATPAIRS_BLOCK) {
        size_t bn = rows - b0 < FEATPAIRS_BLOCK ? rows - b0 : FEATPAIRS_BLOCK;
        size_t m = rows - b0; /* only rows from b0 on can pair as b > a */
        gemm_nt((int)bn, (int)m, (int)d, 1.0f, f + b0 * d, f + b0 * d, 0.0f,
                sim);
        for (size_t i = 0; i < bn && !*truncated; i++)
            for (size_t j = i + 1; j < m; j++) {
                float sv = sim[i * m + j];
                if (!(sv >= t))
                    continue;
                if (np == max) {
                    *truncated = 1;
                    break;
                }
                wn_grow(&v, sizeof *v, &cap, np + 1);
                v[np].a = (int64_t)(b0 + i);
                v[np].b = (int64_t)(b0 + j);
                v[np].similarity = sv;
                np++;
            }
    }
    free(sim);
    free(f);
    *out = v;
    *n_out = np;
    return 0;
}

static int
featpairs_cmp(const void *x, const void *y)
{
    const struct featpairs_pair *p = x, *q = y;
    if (p->a != q->a)
        return (p->a > q->a) - (p->a < q->a);
    return (p->b > q->b) - (p->b < q->b);
}

int
featpairs_find_grouped(const float *features, int64_t n, int dim,
                       const int32_t *group, double min_similarity,
                       struct featpairs_pair **out, size_t *n_out,
                       int *truncated, char **cause)
{
    if (group == NULL)
        return featpairs_find(features, n, dim, min_similarity, 0, out, n_out,
                              truncated, cause);
    *out = NULL;
    *n_out = 0;
    *truncated = 0;
    int32_t n_groups = 0;
    for (int64_t i = 0; i < n; i++)
        if (group[i] >= n_groups)
            n_groups = group[i] + 1;
    size_t d = (size_t)dim;
    int64_t *rows = xmalloc(((size_t)n + 1) * sizeof *rows);
    float *sub = xmalloc(((size_t)n * d + 1) * sizeof *sub);
    struct featpairs_pair *all = NULL;
    size_t na = 0, cap = 0;
    int rc = 0;
    for (int32_t g = 0; g < n_groups && rc == 0; g++) {
        int64_t m = 0;
        for (int64_t i = 0; i < n; i++)
            if (group[i] == g) {
                rows[m] = i;
                memcpy(sub + (size_t)m * d, features + (size_t)i * d,
                       d * sizeof *sub);
                m++;
            }
        struct featpairs_pair *p;
        size_t np;
        int trunc;
        rc = featpairs_find(sub, m, dim, min_similarity, 0, &p, &np, &trunc,
                            cause);
        if (rc != 0)
            break;
        *truncated |= trunc;
        for (size_t k = 0; k < np; k++) {
            wn_grow(&all, sizeof *all, &cap, na + 1);
            all[na].a = rows[p[k].a];
            all[na].b = rows[p[k].b];
            all[na].similarity = p[k].similarity;
            na++;
        }
        free(p);
    }
    free(sub);
    free(rows);
    if (rc != 0) {
        free(all);
        return -1;
    }
    if (na > 1)
        qsort(all, na, sizeof *all, featpairs_cmp);
    *out = all;
    *n_out = na;
    return 0;
}

size_t
featpairs_rare(struct featpairs_pair *p, size_t n, int64_t n_rows,
               int max_partners)
{
    int *deg = xcalloc((size_t)n_rows + 1, sizeof *deg);
    for (size_t i = 0; i < n; i++) {
        deg[p[i].a]++;
        deg[p[i].b]++;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (deg[p[i].a] <= max_partners && deg[p[i].b] <= max_partners)
            p[k++] = p[i];
    free(deg);
    return k;
}
