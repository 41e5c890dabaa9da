/* engine/outlier.c: outlier scores from features and pixels.
 *
 * The typical feature norm is a median, per class (robust to the outliers
 * it is there to find, and to a few strays labelled with the class). */
#include "config.h"

#include "engine/outlier.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Below this pixel deviation (of 255) an image is taken for blank. */
#define OUTLIER_FLAT 6.0
/* A mean brightness this close to black or white is extreme. */
#define OUTLIER_EDGE 12.0

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

/* Feature evidence: how weakly the network responds to the sample, as
 * the typical feature norm of its class over its own. */
static void
outlier_from_features(const struct outlier_input *in, double *score)
{
    size_t n = (size_t)in->n, d = (size_t)in->dim;
    double *norm = xmalloc(n * sizeof *norm);
    for (size_t i = 0; i < n; i++) {
        double ss = 0;
        for (size_t j = 0; j < d; j++) {
            double v = (double)in->features[i * d + j];
            ss += v * v;
        }
        norm[i] = sqrt(ss);
    }
    double *tmp = xmalloc(n * sizeof *tmp);
    memcpy(tmp, norm, n * sizeof *tmp);
    double all = outlier_median(tmp, n);
    double *cls = xmalloc((size_t)in->classes * sizeof *cls);
    for (int c = 0; c < in->classes; c++) {
        size_t m = 0;
        for (size_t i = 0; i < n; i++)
            if (in->label[i] == c)
                tmp[m++] = norm[i];
        cls[c] = m > 0 ? outlier_median(tmp, m) : all;
    }
    for (size_t i = 0; i < n; i++) {
        double typical = cls[in->label[i]];
        double r = norm[i] > 0 ? typical / norm[i] : (typical > 0 ? 1e9 : 1.0);
        score[i] = r / (1.0 + r);
    }
    free(cls);
    free(tmp);
    free(norm);
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
    if (in->n < 0 || in->classes < 1)
        return wn_fail(cause, "outlier scores: bad input");
    size_t n = (size_t)in->n;
    for (size_t i = 0; i < n; i++) {
        if (in->label[i] < 0 || in->label[i] >= in->classes)
            return wn_fail(cause, "outlier scores: label %d out of range",
                           (int)in->label[i]);
        score[i] = 0.0;
    }
    if (in->features != NULL && in->dim > 0 && n > 0)
        outlier_from_features(in, score);
    if (in->pixels != NULL && in->channels > 0 && in->side > 0) {
        size_t len = (size_t)in->channels * (size_t)in->side * (size_t)in->side;
        for (size_t i = 0; i < n; i++)
            score[i] =
                fmax(score[i], outlier_from_pixels(in->pixels + i * len, len));
    }
    return 0;
}
