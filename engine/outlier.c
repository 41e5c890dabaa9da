/* engine/outlier.c: outlier scores from features and pixels.
 *
 * The features are centred and scaled to unit length once; distances to
 * the reference subset come from one matrix product per block of rows
 * (engine/gemm.h), and each row keeps its k smallest in a small sorted
 * array. The typical distance is a median (robust to the outliers it is
 * there to find), overall and per class. */
#include "config.h"

#include "engine/outlier.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/featpairs.h"
#include "engine/gemm.h"
#include "engine/rng.h"

/* Rows per matrix product: a block of distances stays a few MB. */
#define OUTLIER_BLOCK 256
/* Below this pixel deviation (of 255) an image is taken for blank. */
#define OUTLIER_FLAT  6.0
/* A mean brightness this close to black or white is extreme. */
#define OUTLIER_EDGE  12.0

void
outlier_input_defaults(struct outlier_input *in)
{
    in->k = 10;
    in->max_reference = 4096;
    in->seed = 1;
}

static int
outlier_double_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The median of v[0..n) (reorders v); NAN when n is 0. */
static double
outlier_median(double *v, size_t n)
{
    if (n == 0)
        return NAN;
    qsort(v, n, sizeof *v, outlier_double_cmp);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Mean cosine distance of each sample to its k nearest references. */
static void
outlier_knn_distance(const struct outlier_input *in, const float *f,
                     double *dist)
{
    size_t n = (size_t)in->n, d = (size_t)in->dim;
    size_t nref = n < (size_t)in->max_reference ? n : (size_t)in->max_reference;
    int64_t *ref = xmalloc(n * sizeof *ref);
    for (size_t i = 0; i < n; i++)
        ref[i] = (int64_t)i;
    if (nref < n) { /* a seeded partial shuffle picks the subset */
        struct rng r;
        rng_seed(&r, in->seed);
        for (size_t i = 0; i < nref; i++) {
            size_t j = i + rng_below(&r, (uint32_t)(n - i));
            int64_t t = ref[i];
            ref[i] = ref[j];
            ref[j] = t;
        }
    }
    float *rf = xmalloc(nref * d * sizeof *rf);
    for (size_t r = 0; r < nref; r++)
        memcpy(rf + r * d, f + (size_t)ref[r] * d, d * sizeof *rf);
    size_t k = (size_t)in->k < nref ? (size_t)in->k : nref;
    float *sim = xmalloc((size_t)OUTLIER_BLOCK * nref * sizeof *sim);
    double *best = xmalloc((k > 0 ? k : 1) * sizeof *best);
    for (size_t b0 = 0; b0 < n; b0 += OUTLIER_BLOCK) {
        size_t bn = n - b0 < OUTLIER_BLOCK ? n - b0 : OUTLIER_BLOCK;
        gemm_nt((int)bn, (int)nref, (int)d, 1.0f, f + b0 * d, rf, 0.0f, sim);
        for (size_t i = 0; i < bn; i++) {
            size_t have = 0;
            for (size_t r = 0; r < nref; r++) {
                if ((size_t)ref[r] == b0 + i)
                    continue; /* never its own neighbour */
                double dv = 1.0 - (double)sim[i * nref + r];
                if (have == k && dv >= best[k - 1])
                    continue;
                size_t at = have < k ? have++ : k - 1;
                while (at > 0 && best[at - 1] > dv) {
                    best[at] = best[at - 1];
                    at--;
                }
                best[at] = dv;
            }
            double s = 0;
            for (size_t j = 0; j < have; j++)
                s += best[j];
            dist[b0 + i] = have > 0 ? s / (double)have : 0.0;
        }
    }
    free(best);
    free(sim);
    free(rf);
    free(ref);
}

/* Feature evidence: distance relative to the typical, overall and in the
 * sample's class. */
static void
outlier_from_features(const struct outlier_input *in, double *score)
{
    size_t n = (size_t)in->n;
    float *f = featpairs_normalise(in->features, in->n, in->dim);
    double *dist = xmalloc(n * sizeof *dist);
    outlier_knn_distance(in, f, dist);
    free(f);
    double *tmp = xmalloc(n * sizeof *tmp);
    memcpy(tmp, dist, n * sizeof *tmp);
    double all = outlier_median(tmp, n);
    double *cls = xmalloc((size_t)in->classes * sizeof *cls);
    for (int c = 0; c < in->classes; c++) {
        size_t m = 0;
        for (size_t i = 0; i < n; i++)
            if (in->label[i] == c)
                tmp[m++] = dist[i];
        cls[c] = outlier_median(tmp, m);
    }
    for (size_t i = 0; i < n; i++) {
        double r_all = all > 0 ? dist[i] / all : 1.0;
        double c = cls[in->label[i]];
        double r_cls = c > 0 ? dist[i] / c : r_all;
        double r = sqrt(r_all * r_cls);
        score[i] = r / (1.0 + r);
    }
    free(cls);
    free(tmp);
    free(dist);
}

/* Pixel evidence: a flat image, or one nearly black or white. */
static double
outlier_from_pixels(const uint8_t *p, size_t len)
{
    double s = 0, ss = 0;
    for (size_t i = 0; i < len; i++) {
        s += p[i];
        ss += (double)p[i] * p[i];
    }
    double mean = s / (double)len;
    double var = ss / (double)len - mean * mean;
    double sd = var > 0 ? sqrt(var) : 0.0;
    double flat = sd < OUTLIER_FLAT ? 1.0 - 0.1 * sd / OUTLIER_FLAT : 0.0;
    double edge = fmin(mean, 255.0 - mean);
    double dark = edge < OUTLIER_EDGE ? 0.9 - 0.1 * edge / OUTLIER_EDGE : 0.0;
    return fmax(flat * 0.99, dark);
}

int
outlier_scores(const struct outlier_input *in, double *score, char **cause)
{
    if (in->n < 0 || in->classes < 1 || in->k < 1 || in->max_reference < 2)
        return wn_fail(cause, "outlier scores: bad input");
    size_t n = (size_t)in->n;
    for (size_t i = 0; i < n; i++) {
        if (in->label[i] < 0 || in->label[i] >= in->classes)
            return wn_fail(cause, "outlier scores: label %d out of range",
                           (int)in->label[i]);
        score[i] = 0.0;
    }
    if (in->features != NULL && in->dim > 0 && n >= 2)
        outlier_from_features(in, score);
    if (in->pixels != NULL && in->channels > 0 && in->side > 0) {
        size_t len = (size_t)in->channels * (size_t)in->side * (size_t)in->side;
        for (size_t i = 0; i < n; i++)
            score[i] =
                fmax(score[i], outlier_from_pixels(in->pixels + i * len, len));
    }
    return 0;
}
