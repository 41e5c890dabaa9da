/* engine/cleanlab.c: cleanlab's confident joint and prune counts, step by
 * step, in numpy's arithmetic.
 *
 * The steps, with cleanlab's defaults (cleanlab/count.py, filter.py):
 *
 *  1. get_confident_thresholds: t_j = mean of P[j] over the samples
 *     labelled j (a float32 mean for float32 input), 2 for a class with no
 *     sample; clipped below at 2e-6.
 *  2. compute_confident_joint: sample i is confident in class j when
 *     P[i][j] >= t_j - 1e-6. No confident class: not counted. One: that
 *     class. Several: the sample's argmax over ALL classes (the first of
 *     equal maxima), even if it is not one of them. Count it in
 *     [given][that class]; then clip the diagonal to at least 1.
 *  3. calibrate_confident_joint: scale each row to its class's sample
 *     count, then the whole to N, then round each row preserving its
 *     total (round_preserving_row_totals).
 *  4. _keep_at_least_n_per_class with n = 1, on the transpose: a
 *     diagonal count below 1 is raised to 1, and the rise is taken evenly
 *     from the non-zero off-diagonal counts of that given label, clipped
 *     at 0; frac_noise 1 leaves them; then they are truncated to
 *     integers (_reduce_prune_counts' astype(int)).
 *  5. _prune_by_count: a given label with at most one sample is left
 *     alone; otherwise for each true class j the prune_count samples with
 *     the largest float32 P[j] - P[given] are flagged (engine/scores.c).
 *  6. A sample whose argmax is its given label is never flagged
 *     (engine/scores.c).
 *
 * Where numpy's arithmetic decides a count it is reproduced: sums are
 * pairwise in blocks of 8192 elements, rounding is half to even (rint),
 * float32 stays float32, and ties are ordered by numpy's introsort. */
#include "config.h"

#include "engine/cleanlab.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* numpy sums a contiguous array in blocks of its buffer size, each block
 * pairwise with 8 accumulators below 128 elements. */
#define NP_BUFSIZE  8192
#define NP_PW_BLOCK 128

#define NP_PAIRWISE(name, type)                                                \
    static type name(const type *a, size_t n)                                  \
    {                                                                          \
        if (n < 8) {                                                           \
            type res = 0;                                                      \
            for (size_t i = 0; i < n; i++)                                     \
                res += a[i];                                                   \
            return res;                                                        \
        }                                                                      \
        if (n <= NP_PW_BLOCK) {                                                \
            type r[8], res;                                                    \
            size_t i;                                                          \
            memcpy(r, a, sizeof r);                                            \
            for (i = 8; i < n - (n % 8); i += 8)                               \
                for (int j = 0; j < 8; j++)                                    \
                    r[j] += a[i + (size_t)j];                                  \
            res = ((r[0] + r[1]) + (r[2] + r[3])) +                            \
                  ((r[4] + r[5]) + (r[6] + r[7]));                             \
            for (; i < n; i++)                                                 \
                res += a[i];                                                   \
            return res;                                                        \
        }                                                                      \
        size_t n2 = n / 2;                                                     \
        n2 -= n2 % 8;                                                          \
        return name(a, n2) + name(a + n2, n - n2);                             \
    }

NP_PAIRWISE(np_pairwise_f32, float)
NP_PAIRWISE(np_pairwise_f64, double)

static float
np_sum_f32(const float *a, size_t n)
{
    float s = 0.0f;
    for (size_t i = 0; i < n; i += NP_BUFSIZE)
        s += np_pairwise_f32(a + i, n - i < NP_BUFSIZE ? n - i : NP_BUFSIZE);
    return s;
}

static double
np_sum_f64(const double *a, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i += NP_BUFSIZE)
        s += np_pairwise_f64(a + i, n - i < NP_BUFSIZE ? n - i : NP_BUFSIZE);
    return s;
}

/* --- numpy's argsort: introsort, falling back to heapsort at depth
 * 2 floor(log2 n), insertion sort below 17 elements */

#define NP_SMALL_QUICKSORT 15
#define NP_STACK           128

static void
np_swap(int64_t *a, int64_t *b)
{
    int64_t t = *a;
    *a = *b;
    *b = t;
}

static void
np_aheapsort(const double *v, int64_t *tosort, size_t n)
{
    int64_t *a = tosort - 1; /* heap indices from 1 */
    size_t i, j, l;
    int64_t tmp;

    for (l = n >> 1; l > 0; --l) {
        tmp = a[l];
        for (i = l, j = l << 1; j <= n;) {
            if (j < n && v[a[j]] < v[a[j + 1]])
                j += 1;
            if (v[tmp] < v[a[j]]) {
                a[i] = a[j];
                i = j;
                j += j;
            } else {
                break;
            }
        }
        a[i] = tmp;
    }
    for (; n > 1;) {
        tmp = a[n];
        a[n] = a[1];
        n -= 1;
        for (i = 1, j = 2; j <= n;) {
            if (j < n && v[a[j]] < v[a[j + 1]])
                j++;
            if (v[tmp] < v[a[j]]) {
                a[i] = a[j];
                i = j;
                j += j;
            } else {
                break;
            }
        }
        a[i] = tmp;
    }
}

void
cleanlab_argsort(const double *v, int64_t *idx, size_t n)
{
    int64_t *stack[NP_STACK], **sptr = stack;
    int depth[NP_STACK / 2], *psdepth = depth;
    int cdepth = 0;

    for (size_t i = 0; i < n; i++)
        idx[i] = (int64_t)i;
    if (n < 2)
        return;
    for (size_t m = n; m >>= 1;)
        cdepth++;
    cdepth *= 2;
    int64_t *pl = idx, *pr = idx + n - 1;
    for (;;) {
        if (cdepth < 0) {
            np_aheapsort(v, pl, (size_t)(pr - pl + 1));
            goto pop;
        }
        while (pr - pl > NP_SMALL_QUICKSORT) {
            int64_t *pm = pl + ((pr - pl) >> 1), *pi, *pj;
            if (v[*pm] < v[*pl])
                np_swap(pm, pl);
            if (v[*pr] < v[*pm])
                np_swap(pr, pm);
            if (v[*pm] < v[*pl])
                np_swap(pm, pl);
            double vp = v[*pm];
            pi = pl;
            pj = pr - 1;
            np_swap(pm, pj);
            for (;;) {
                do
                    ++pi;
                while (v[*pi] < vp);
                do
                    --pj;
                while (vp < v[*pj]);
                if (pi >= pj)
                    break;
                np_swap(pi, pj);
            }
            np_swap(pi, pr - 1);
            /* The larger part waits on the stack. */
            if (pi - pl < pr - pi) {
                *sptr++ = pi + 1;
                *sptr++ = pr;
                pr = pi - 1;
            } else {
                *sptr++ = pl;
                *sptr++ = pi - 1;
                pl = pi + 1;
            }
            *psdepth++ = --cdepth;
        }
        for (int64_t *pi = pl + 1; pi <= pr; ++pi) {
            int64_t vi = *pi, *pj = pi, *pk = pi - 1;
            double x = v[vi];
            while (pj > pl && x < v[*pk])
                *pj-- = *pk--;
            *pj = vi;
        }
    pop:
        if (sptr == stack)
            break;
        pr = *(--sptr);
        pl = *(--sptr);
        cdepth = *(--psdepth);
    }
}

/* cleanlab's round_preserving_sum on one row of k values: round half to
 * even, then move the rounded values by one, largest remainders first
 * (smallest when moving down), until they sum to the rounded total. */
static void
cl_round_row(const double *row, int k, int64_t *out, double *ints, double *frac,
             int64_t *idx)
{
    for (int j = 0; j < k; j++)
        ints[j] = rint(row[j]);
    double orig = rint(np_sum_f64(row, (size_t)k));
    double have = rint(np_sum_f64(ints, (size_t)k));
    /* cleanlab loops until the sums agree; each pass closes the gap, so
     * the bound only guards against a surprise. */
    for (int pass = 0; fabs(have - orig) > 1e-6 && pass < 64; pass++) {
        double diff = rint(orig - have);
        int inc = diff < 0.0 ? -1 : 1;
        double ad = fabs(diff);
        int changes = ad < (double)k ? (int)ad : k;
        for (int j = 0; j < k; j++)
            frac[j] = row[j] - ints[j];
        cleanlab_argsort(frac, idx, (size_t)k);
        for (int t = 0; t < changes; t++) {
            int64_t j = inc > 0 ? idx[k - 1 - t] : idx[t];
            ints[j] += inc;
        }
        have = rint(np_sum_f64(ints, (size_t)k));
    }
    for (int j = 0; j < k; j++)
        out[j] = (int64_t)ints[j];
}

/* Steps 1 and 2. */
static int
cl_confident(const float *probs, const int32_t *label, int64_t n, int k,
             struct cleanlab_counts *c, char **cause)
{
    size_t kk = (size_t)k, nn = (size_t)n;
    int64_t *start = calloc(kk + 1, sizeof *start);
    float *byclass = malloc(nn ? nn * sizeof *byclass : 1);
    float *thr32 = calloc(kk, sizeof *thr32);
    double *thr64 = calloc(kk, sizeof *thr64);
    if (start == NULL || byclass == NULL || thr32 == NULL || thr64 == NULL) {
        free(start);
        free(byclass);
        free(thr32);
        free(thr64);
        return wn_fail(cause, "out of memory for %lld scores", (long long)n);
    }

    /* P[y] of each class's samples in index order, as numpy's boolean
     * indexing gathers them. */
    for (size_t i = 0; i < nn; i++)
        start[label[i] + 1]++;
    for (size_t j = 0; j < kk; j++) {
        c->class_count[j] = start[j + 1];
        start[j + 1] += start[j];
    }
    for (size_t i = 0; i < nn; i++)
        byclass[start[label[i]]++] = probs[i * kk + (size_t)label[i]];
    int all_present = 1;
    for (size_t j = 0; j < kk; j++) {
        int64_t cnt = c->class_count[j];
        if (cnt == 0) {
            c->mean[j] = NAN;
            all_present = 0;
            continue;
        }
        const float *seg = byclass + (start[j] - cnt);
        /* numpy divides the float32 sum by the count in double and
         * rounds back to float32. */
        c->mean[j] =
            (float)((double)np_sum_f32(seg, (size_t)cnt) / (double)cnt);
    }
    /* With every class present the thresholds are a float32 array and
     * "- 1e-6" is float32 arithmetic; a missing class's 2 makes the list
     * float64. */
    for (size_t j = 0; j < kk; j++) {
        if (all_present) {
            float t = c->mean[j] < 2e-6f ? 2e-6f : c->mean[j];
            thr32[j] = t - 1e-6f;
        } else {
            double t = c->class_count[j] ? (double)c->mean[j] : 2.0;
            thr64[j] = (t < 2e-6 ? 2e-6 : t) - 1e-6;
        }
    }

    memset(c->confident_joint, 0, kk * kk * sizeof *c->confident_joint);
    for (size_t i = 0; i < nn; i++) {
        const float *p = probs + i * kk;
        int count = 0, first = -1, argmax = 0;
        for (size_t j = 0; j < kk; j++) {
            int conf =
                all_present ? p[j] >= thr32[j] : (double)p[j] >= thr64[j];
            if (conf && count++ == 0)
                first = (int)j;
            if (p[j] > p[argmax])
                argmax = (int)j;
        }
        if (count == 0)
            continue;
        int guess = count > 1 ? argmax : first;
        c->confident_joint[(size_t)label[i] * kk + (size_t)guess]++;
    }
    free(start);
    free(byclass);
    free(thr32);
    free(thr64);
    return 0;
}

int
cleanlab_count(const float *probs, const int32_t *label, int64_t n, int k,
               struct cleanlab_counts *c, char **cause)
{
    size_t kk = (size_t)k;
    if (cl_confident(probs, label, n, k, c, cause) != 0)
        return -1;

    double *cal = malloc(kk * kk * sizeof *cal);
    double *ints = malloc(kk * sizeof *ints);
    double *frac = malloc(kk * sizeof *frac);
    int64_t *idx = malloc(kk * sizeof *idx);
    if (cal == NULL || ints == NULL || frac == NULL || idx == NULL) {
        free(cal);
        free(ints);
        free(frac);
        free(idx);
        return wn_fail(cause, "out of memory for %d classes", k);
    }

    /* Step 3, in numpy's order of operations. */
    for (size_t i = 0; i < kk; i++) {
        const int64_t *cj = c->confident_joint + i * kk;
        double rowsum = 0.0;
        for (size_t j = 0; j < kk; j++)
            rowsum += (double)(j == i && cj[j] < 1 ? 1 : cj[j]);
        for (size_t j = 0; j < kk; j++) {
            double v = (double)(j == i && cj[j] < 1 ? 1 : cj[j]);
            cal[i * kk + j] = v / rowsum * (double)c->class_count[i];
        }
    }
    double total = np_sum_f64(cal, kk * kk);
    if (total < 1e-100)
        total = 1e-100;
    for (size_t t = 0; t < kk * kk; t++)
        cal[t] = cal[t] / total * (double)n;
    for (size_t i = 0; i < kk; i++)
        cl_round_row(cal + i * kk, k, c->calibrated + i * kk, ints, frac, idx);

    /* Step 4, per given label i (a column of cleanlab's transposed
     * matrix). */
    for (size_t i = 0; i < kk; i++) {
        const int64_t *row = c->calibrated + i * kk;
        int64_t d = row[i], nd = d < 1 ? 1 : d, nonzero = 0;
        for (size_t j = 0; j < kk; j++)
            nonzero += row[j] != 0;
        double per =
            (double)(nd - d) / (nonzero - 1.0 > 1.0 ? nonzero - 1.0 : 1.0);
        for (size_t j = 0; j < kk; j++) {
            double v = j == i ? 0.0 : (double)row[j] - per;
            c->prune_count[i * kk + j] = v < 0.0 ? 0 : (int64_t)v;
        }
    }
    free(cal);
    free(ints);
    free(frac);
    free(idx);
    return 0;
}
