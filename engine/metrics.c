/* engine/metrics.c: every ranking metric sorts (score, index) keys once, a
 * total order, so ties never depend on the sort, and then walks the groups
 * of equal scores: AUROC is the Mann-Whitney U statistic with mid-ranks,
 * average precision adds one step per group. Sums are in double; counts up
 * to 2^53 are exact. */
#include "config.h"

#include "engine/metrics.h"

#include <math.h>
#include <stdlib.h>

struct metrics_key {
    double v;
    size_t i;
};

static int
metrics_cmp_asc(const void *pa, const void *pb)
{
    const struct metrics_key *a = pa, *b = pb;
    if (a->v != b->v)
        return a->v < b->v ? -1 : 1;
    return a->i < b->i ? -1 : a->i > b->i ? 1 : 0;
}

/* Descending by score, then ascending by index. */
static int
metrics_cmp_desc(const void *pa, const void *pb)
{
    const struct metrics_key *a = pa, *b = pb;
    if (a->v != b->v)
        return a->v > b->v ? -1 : 1;
    return a->i < b->i ? -1 : a->i > b->i ? 1 : 0;
}

/* Sorted keys from whichever of d and f is not NULL, or NULL when memory
 * runs out. */
static struct metrics_key *
metrics_sorted(const double *d, const float *f, size_t n, int descending)
{
    if (n > SIZE_MAX / sizeof(struct metrics_key))
        return NULL;
    struct metrics_key *keys = malloc(n ? n * sizeof *keys : 1);
    if (keys == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        double v = d ? d[i] : (double)f[i];
        keys[i].v = isnan(v) ? -HUGE_VAL : v;
        keys[i].i = i;
    }
    qsort(keys, n, sizeof *keys,
          descending ? metrics_cmp_desc : metrics_cmp_asc);
    return keys;
}

static double
metrics_auroc_any(const double *d, const float *f, const uint8_t *truth,
                  size_t n)
{
    size_t pos = 0;
    for (size_t i = 0; i < n; i++)
        pos += truth[i] != 0;
    size_t neg = n - pos;
    if (pos == 0 || neg == 0)
        return NAN;
    struct metrics_key *keys = metrics_sorted(d, f, n, 0);
    if (keys == NULL)
        return NAN;

    /* Sum of the positives' 1-based mid-ranks. */
    double rank_sum = 0.0;
    for (size_t a = 0; a < n;) {
        size_t b = a, p = 0;
        while (b < n && keys[b].v == keys[a].v)
            p += truth[keys[b++].i] != 0;
        rank_sum += (double)p * ((double)a + (double)b + 1.0) / 2.0;
        a = b;
    }
    free(keys);
    double u = rank_sum - (double)pos * ((double)pos + 1.0) / 2.0;
    return u / ((double)pos * (double)neg);
}

double
metrics_auroc(const double *score, const uint8_t *truth, size_t n)
{
    return metrics_auroc_any(score, NULL, truth, n);
}

double
metrics_auroc_f(const float *score, const uint8_t *truth, size_t n)
{
    return metrics_auroc_any(NULL, score, truth, n);
}

static double
metrics_ap_any(const double *d, const float *f, const uint8_t *truth, size_t n)
{
    size_t pos = 0;
    for (size_t i = 0; i < n; i++)
        pos += truth[i] != 0;
    if (pos == 0)
        return NAN;
    struct metrics_key *keys = metrics_sorted(d, f, n, 1);
    if (keys == NULL)
        return NAN;

    double ap = 0.0;
    size_t tp = 0;
    for (size_t a = 0; a < n;) {
        size_t b = a, p = 0;
        while (b < n && keys[b].v == keys[a].v)
            p += truth[keys[b++].i] != 0;
        tp += p;
        /* Recall moves only when the group holds a positive. */
        if (p > 0)
            ap += (double)p / (double)pos * ((double)tp / (double)b);
        a = b;
    }
    free(keys);
    return ap;
}

double
metrics_average_precision(const double *score, const uint8_t *truth, size_t n)
{
    return metrics_ap_any(score, NULL, truth, n);
}

double
metrics_average_precision_f(const float *score, const uint8_t *truth, size_t n)
{
    return metrics_ap_any(NULL, score, truth, n);
}

static void
metrics_at_k_any(const double *d, const float *f, const uint8_t *truth,
                 size_t n, size_t k, struct metrics_at_k *out)
{
    size_t pos = 0;
    for (size_t i = 0; i < n; i++)
        pos += truth[i] != 0;
    out->k = k < n ? k : n;
    out->hits = 0;
    out->precision = NAN;
    out->recall = NAN;
    struct metrics_key *keys = metrics_sorted(d, f, n, 1);
    if (keys == NULL)
        return;
    for (size_t t = 0; t < out->k; t++)
        out->hits += truth[keys[t].i] != 0;
    free(keys);
    if (out->k > 0)
        out->precision = (double)out->hits / (double)out->k;
    if (pos > 0)
        out->recall = (double)out->hits / (double)pos;
}

void
metrics_at_k(const double *score, const uint8_t *truth, size_t n, size_t k,
             struct metrics_at_k *out)
{
    metrics_at_k_any(score, NULL, truth, n, k, out);
}

void
metrics_at_k_f(const float *score, const uint8_t *truth, size_t n, size_t k,
               struct metrics_at_k *out)
{
    metrics_at_k_any(NULL, score, truth, n, k, out);
}

void
metrics_flags(const uint8_t *pred, const uint8_t *truth, size_t n,
              struct metrics_flags *out)
{
    out->tp = out->fp = out->fn = out->tn = 0;
    for (size_t i = 0; i < n; i++) {
        int p = pred[i] != 0, t = truth[i] != 0;
        if (p && t)
            out->tp++;
        else if (p)
            out->fp++;
        else if (t)
            out->fn++;
        else
            out->tn++;
    }
    int64_t flagged = out->tp + out->fp, positives = out->tp + out->fn;
    out->precision = flagged ? (double)out->tp / (double)flagged : 0.0;
    out->recall = positives ? (double)out->tp / (double)positives : 0.0;
    double sum = out->precision + out->recall;
    out->f1 = sum > 0.0 ? 2.0 * out->precision * out->recall / sum : 0.0;
}

size_t
metrics_noise_mask(const int32_t *given, const int32_t *clean, size_t n,
                   uint8_t *mask)
{
    size_t pos = 0;
    for (size_t i = 0; i < n; i++) {
        mask[i] = given[i] != clean[i];
        pos += mask[i];
    }
    return pos;
}
