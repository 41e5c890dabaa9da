/* engine/scores.c: the scores in three passes over the samples.
 *
 * The first pass reads each probability row once for the per-sample
 * scores (self-confidence, normalised margin, suggestion, ELR, AUM) and the
 * per-class thresholds, which only need P[i][y[i]]. The second walks the
 * rows again against the thresholds to count the confident joint, then
 * calibrates it into confident learning's joint Q and noise matrix (K x K
 * work). The third prunes by noise rate: for every off-diagonal cell
 * (i, j) with an estimated count n_ij, the n_ij samples labelled i with the
 * largest P[j] - P[i] are flagged. A quickselect finds them in time linear
 * in the class size, so the whole pass costs at most O(N K) however many
 * cells are non-zero; sorting each cell would cost O(N K log N) in the
 * worst case. Then the scores are combined, each class's combined scores
 * give its noise estimate (a two-Gaussian fit, O(N) per iteration), and
 * the per_class step ranks within the class against that estimate.
 *
 * Determinism: arithmetic is per sample or accumulated in index order in
 * double; every order that matters (selection, ranks) is a total order on
 * (value, sample index), so no tie is left to the sort. */
#include "config.h"

#include "engine/scores.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/cleanlab.h"
#include "engine/mixture.h"

/* Half of each score is its rank within the sample's class (per_class in
 * scores.h says why half). */
#define SCORES_PER_CLASS_SHARE            0.5
/* Quickselect gives up and sorts after this many poor pivots plus two
 * per doubling of the range (introselect's bound), and sorts ranges this
 * small outright, where partitioning costs more than it saves. */
#define SCORES_SELECT_BUDGET              8
#define SCORES_SELECT_BUDGET_PER_DOUBLING 2
#define SCORES_SELECT_SORT_BELOW          16
/* The combination's prefixes in a spec. */
#define SCORES_SPEC_MEAN                  "mean:"
#define SCORES_SPEC_RANK                  "rank:"

struct scores_key { /* a sample and the value it is ordered by */
    double v;
    int64_t i;
};

static const char *const scores_kind_names[SCORES_N_KINDS] = {
    [SCORES_SELF_CONFIDENCE] = "self_confidence",
    [SCORES_MARGIN] = "margin",
    [SCORES_AUM] = "aum",
    [SCORES_ELR] = "elr",
    [SCORES_CL] = "cl",
    [SCORES_KNN] = "knn",
};

const char *
scores_kind_name(enum scores_kind kind)
{
    if ((int)kind < 0 || kind >= SCORES_N_KINDS)
        return "unknown";
    return scores_kind_names[kind];
}

void
scores_config_default(struct scores_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->combine = SCORES_COMBINE_MEAN;
    cfg->weight[SCORES_SELF_CONFIDENCE] = 1.0;
    cfg->weight[SCORES_ELR] = 1.0;
    cfg->cl_keep_argmax = 1;
    cfg->per_class = SCORES_PER_CLASS_SHARE;
}

static int
scores_kind_lookup(const char *name, size_t len)
{
    for (int k = 0; k < SCORES_N_KINDS; k++) {
        if (strlen(scores_kind_names[k]) == len &&
            memcmp(scores_kind_names[k], name, len) == 0)
            return k;
    }
    return -1;
}

int
scores_config_parse(const char *spec, struct scores_config *cfg, char **cause)
{
    struct scores_config c = *cfg;
    const char *p = spec;

    if (strcmp(spec, "default") == 0) {
        int keep = cfg->cl_keep_argmax;
        double per_class = cfg->per_class;
        scores_config_default(cfg);
        cfg->cl_keep_argmax = keep;
        cfg->per_class = per_class;
        return 0;
    }
    c.combine = SCORES_COMBINE_MEAN;
    if (strncmp(p, SCORES_SPEC_MEAN, strlen(SCORES_SPEC_MEAN)) == 0) {
        p += strlen(SCORES_SPEC_MEAN);
    } else if (strncmp(p, SCORES_SPEC_RANK, strlen(SCORES_SPEC_RANK)) == 0) {
        c.combine = SCORES_COMBINE_RANK;
        p += strlen(SCORES_SPEC_RANK);
    }
    for (int k = 0; k < SCORES_N_KINDS; k++)
        c.weight[k] = 0.0;

    int seen[SCORES_N_KINDS] = {0};
    double total = 0.0;
    for (;;) {
        size_t len = strcspn(p, "=,");
        int kind = scores_kind_lookup(p, len);
        if (kind < 0)
            return wn_fail(cause, "unknown score '%.*s' in '%s'", (int)len, p,
                           spec);
        if (seen[kind])
            return wn_fail(cause, "score '%s' given twice in '%s'",
                           scores_kind_names[kind], spec);
        seen[kind] = 1;
        p += len;
        double w = 1.0;
        if (*p == '=') {
            char *end;
            errno = 0;
            w = strtod(p + 1, &end);
            if (end == p + 1 || (*end != ',' && *end != '\0') || errno != 0 ||
                !isfinite(w) || w < 0.0)
                return wn_fail(cause, "bad weight for '%s' in '%s'",
                               scores_kind_names[kind], spec);
            p = end;
        }
        c.weight[kind] = w;
        total += w;
        if (*p == '\0')
            break;
        p++; /* the comma */
    }
    if (!(total > 0.0))
        return wn_fail(cause, "no score has a positive weight in '%s'", spec);
    *cfg = c;
    return 0;
}

void
scores_result_fini(struct scores_result *r)
{
    if (r == NULL)
        return;
    free(r->sample);
    free(r->class_count);
    free(r->threshold);
    free(r->confident_joint);
    free(r->cl_joint);
    free(r->cl_noise_matrix);
    free(r->noise_matrix);
    free(r->prune_count);
    free(r->class_noise);
    memset(r, 0, sizeof *r);
}

/* A zeroed data-sized array, or NULL with a cause. */
static void *
scores_alloc(size_t n, size_t size, char **cause)
{
    size_t bytes;
    if (wn_mul_size(n, size, &bytes) != 0) {
        wn_fail(cause, "out of memory for %zu scores", n);
        return NULL;
    }
    void *p = calloc(bytes ? bytes : 1, 1);
    if (p == NULL)
        wn_fail(cause, "out of memory for %zu scores", n);
    return p;
}

static double
scores_clamp01(double x)
{
    return x < 0.0 ? 0.0 : x > 1.0 ? 1.0 : x;
}

static int
scores_check(const struct scores_input *in, const struct scores_config *cfg,
             char **cause)
{
    if (in->k < 2)
        return wn_fail(cause, "%d classes: need at least 2", in->k);
    if (in->n < 0)
        return wn_fail(cause, "negative sample count");
    if (in->n > 0 && (in->label == NULL || in->probs == NULL))
        return wn_fail(cause, "no labels or probabilities");
    if (cfg->combine != SCORES_COMBINE_MEAN &&
        cfg->combine != SCORES_COMBINE_RANK)
        return wn_fail(cause, "unknown score combination %d",
                       (int)cfg->combine);
    for (int k = 0; k < SCORES_N_KINDS; k++) {
        if (!isfinite(cfg->weight[k]) || cfg->weight[k] < 0.0)
            return wn_fail(cause, "bad weight for score '%s'",
                           scores_kind_names[k]);
    }
    if (!(cfg->per_class >= 0.0 && cfg->per_class <= 1.0))
        return wn_fail(cause, "per-class weight outside [0, 1]");
    size_t rowlen = (size_t)in->k;
    for (int64_t i = 0; i < in->n; i++) {
        if (in->label[i] < 0 || in->label[i] >= in->k)
            return wn_fail(cause, "sample %" PRId64 ": label %d out of range",
                           i, (int)in->label[i]);
        const float *p = in->probs + (size_t)i * rowlen;
        const float *t =
            in->elr_target ? in->elr_target + (size_t)i * rowlen : NULL;
        for (size_t j = 0; j < rowlen; j++) {
            if (!isfinite(p[j]))
                return wn_fail(cause,
                               "sample %" PRId64 ": probability not finite", i);
            if (t && !isfinite(t[j]))
                return wn_fail(cause,
                               "sample %" PRId64 ": ELR target not finite", i);
        }
    }
    return 0;
}

static int
scores_is_trusted(const struct scores_input *in, int64_t i)
{
    return in->trusted != NULL && in->trusted[i] != 0;
}

/* The scores of one sample that depend on its own row alone. */
static void
scores_row(const struct scores_input *in, int64_t i, struct scores_sample *s)
{
    size_t k = (size_t)in->k;
    const float *p = in->probs + (size_t)i * k;
    int y = in->label[i];

    int best = -1;
    for (int j = 0; j < in->k; j++) {
        if (j != y && (best < 0 || p[j] > p[best]))
            best = j;
    }
    double py = p[y], pb = p[best];
    s->self_confidence = scores_clamp01(1.0 - py);
    s->margin = scores_clamp01((pb - py + 1.0) / 2.0);
    if (scores_is_trusted(in, i)) {
        s->suggested = y;
        s->suggested_prob = py;
    } else {
        s->suggested = best;
        s->suggested_prob = pb;
    }
    s->elr = NAN;
    if (in->elr_target != NULL)
        s->elr = scores_clamp01(
            1.0 - (double)in->elr_target[(size_t)i * k + (size_t)y]);
    s->knn = NAN;
    if (in->knn_votes != NULL)
        s->knn = scores_clamp01(
            1.0 - (double)in->knn_votes[(size_t)i * k + (size_t)y]);
    s->aum = NAN;
    if (in->aum != NULL && isfinite(in->aum[i])) {
        if (in->aum_epochs == NULL)
            s->aum = -(double)in->aum[i];
        else if (in->aum_epochs[i] > 0)
            s->aum = -(double)in->aum[i] / in->aum_epochs[i];
    }
    s->flagged = 0;
    s->score = 0.0;
}

/* Thresholds, confident joint and prune counts as cleanlab computes them
 * (engine/cleanlab.h); then confident learning's joint and noise matrix,
 * which calibrate the same confident joint without cleanlab's rounding to
 * whole counts. */
static int
scores_estimate(const struct scores_input *in, struct scores_result *r,
                char **cause)
{
    size_t k = (size_t)in->k;
    float *mean = scores_alloc(k, sizeof *mean, cause);
    int64_t *calibrated =
        mean ? scores_alloc(k * k, sizeof *calibrated, cause) : NULL;
    if (calibrated == NULL) {
        free(mean);
        return -1;
    }
    struct cleanlab_counts c = {
        .class_count = r->class_count,
        .mean = mean,
        .confident_joint = r->confident_joint,
        .calibrated = calibrated,
        .prune_count = r->prune_count,
    };
    int rc = cleanlab_count(in->probs, in->label, in->n, in->k, &c, cause);
    free(calibrated);
    if (rc != 0) {
        free(mean);
        return -1;
    }
    for (size_t j = 0; j < k; j++)
        r->threshold[j] = r->class_count[j] > 0 ? (double)mean[j] : (double)NAN;
    free(mean);

    /* Calibrate each row to the number of samples given that label. Like
     * cleanlab, count at least one confident sample on the diagonal of a
     * non-empty class, so a class no sample reaches the threshold of keeps
     * its samples instead of dividing by zero. */
    r->cl_noise_rate = 0.0;
    for (size_t i = 0; i < k; i++) {
        const int64_t *cj = r->confident_joint + i * k;
        int64_t ni = r->class_count[i];
        double sum = 0.0;
        for (size_t j = 0; j < k; j++)
            sum += j == i && cj[j] < 1 ? 1.0 : (double)cj[j];
        for (size_t j = 0; j < k; j++) {
            double v = j == i && cj[j] < 1 ? 1.0 : (double)cj[j];
            double cal = ni > 0 ? v / sum * (double)ni : 0.0;
            if (ni > 0)
                r->cl_noise_matrix[i * k + j] = cal / (double)ni;
            else
                r->cl_noise_matrix[i * k + j] = j == i ? 1.0 : 0.0;
            r->cl_joint[i * k + j] = in->n > 0 ? cal / (double)in->n : 0.0;
            if (j != i)
                r->cl_noise_rate += r->cl_joint[i * k + j];
        }
    }
    return 0;
}

/* a comes before b: the larger value first, then the lower sample index. */
static int
scores_key_before(const struct scores_key *a, const struct scores_key *b)
{
    return a->v > b->v || (a->v == b->v && a->i < b->i);
}

static int
scores_key_cmp_desc(const void *pa, const void *pb)
{
    const struct scores_key *a = pa, *b = pb;
    return scores_key_before(a, b) ? -1 : scores_key_before(b, a) ? 1 : 0;
}

static int
scores_key_cmp_index(const void *pa, const void *pb)
{
    const struct scores_key *a = pa, *b = pb;
    return (a->i > b->i) - (a->i < b->i);
}

static void
scores_key_swap(struct scores_key *a, struct scores_key *b)
{
    struct scores_key t = *a;
    *a = *b;
    *b = t;
}

/* Reorder a[0..n) so that a[0..m) holds the first m keys in key order (in
 * no particular order among themselves). Quickselect with a median-of-three
 * pivot, falling back to a full sort when it keeps choosing badly, so the
 * worst case stays O(n log n). Keys are distinct (indices are), so
 * partitioning needs no equal band. */
static void
scores_select_top(struct scores_key *a, size_t n, size_t m)
{
    size_t lo = 0, hi = n;
    int budget = SCORES_SELECT_BUDGET;
    for (size_t s = n; s > 1; s >>= 1)
        budget += SCORES_SELECT_BUDGET_PER_DOUBLING;

    while (lo < m && m < hi) {
        if (hi - lo <= SCORES_SELECT_SORT_BELOW || budget-- == 0) {
            qsort(a + lo, hi - lo, sizeof *a, scores_key_cmp_desc);
            return;
        }
        size_t mid = lo + (hi - lo) / 2, last = hi - 1;
        if (scores_key_before(&a[mid], &a[lo]))
            scores_key_swap(&a[mid], &a[lo]);
        if (scores_key_before(&a[last], &a[lo]))
            scores_key_swap(&a[last], &a[lo]);
        if (scores_key_before(&a[mid], &a[last]))
            scores_key_swap(&a[mid], &a[last]);
        /* The median now sits at last: partition around it. */
        size_t store = lo;
        for (size_t t = lo; t < last; t++) {
            if (scores_key_before(&a[t], &a[last]))
                scores_key_swap(&a[t], &a[store++]);
        }
        scores_key_swap(&a[store], &a[last]);
        if (m <= store)
            hi = store;
        else
            lo = store + 1;
    }
}

/* The m samples of one cell to flag, into keys[0..m): the largest margins
 * first. A quickselect finds them unless equal margins straddle the cut,
 * where cleanlab's choice is numpy's argsort order over the whole class,
 * which only the same sort reproduces. */
static int
scores_cell(struct scores_key *keys, size_t count, size_t m, char **cause)
{
    scores_select_top(keys, count, m);
    if (m == 0 || m == count)
        return 0;
    double cut = keys[0].v;
    for (size_t t = 1; t < m; t++)
        if (keys[t].v < cut)
            cut = keys[t].v;
    size_t in_top = 0, equal = 0;
    for (size_t t = 0; t < count; t++) {
        if (keys[t].v == cut) {
            equal++;
            in_top += t < m;
        }
    }
    if (in_top == equal)
        return 0;
    /* Rare: sort as numpy does, by -margin ascending in sample order. */
    double *neg = scores_alloc(count, sizeof *neg, cause);
    int64_t *idx = scores_alloc(count, sizeof *idx, cause);
    struct scores_key *copy = scores_alloc(count, sizeof *copy, cause);
    if (neg == NULL || idx == NULL || copy == NULL) {
        free(neg);
        free(idx);
        free(copy);
        return -1;
    }
    memcpy(copy, keys, count * sizeof *copy);
    qsort(copy, count, sizeof *copy, scores_key_cmp_index);
    for (size_t t = 0; t < count; t++)
        neg[t] = -copy[t].v;
    cleanlab_argsort(neg, idx, count);
    for (size_t t = 0; t < m; t++)
        keys[t] = copy[idx[t]];
    free(neg);
    free(idx);
    free(copy);
    return 0;
}

/* Prune by noise rate (cleanlab's _prune_by_count): for each given label
 * i with more than one sample and each j != i, flag the prune_count[i][j]
 * untrusted samples labelled i with the largest P[j] - P[i], computed in
 * float32 as numpy does. Trusted samples are reliable evidence for the
 * estimate but are never candidates, so the count falls on the others. */
static int
scores_prune(const struct scores_input *in, const struct scores_config *cfg,
             struct scores_result *r, char **cause)
{
    size_t k = (size_t)in->k, n = (size_t)in->n;
    int64_t *order = NULL, *start = NULL;
    struct scores_key *keys = NULL;
    int rc = -1;

    /* Untrusted samples grouped by label, in index order (counting sort). */
    order = scores_alloc(n, sizeof *order, cause);
    start = scores_alloc(k + 1, sizeof *start, cause);
    if (order == NULL || start == NULL)
        goto fail;
    for (size_t i = 0; i < n; i++) {
        if (!scores_is_trusted(in, (int64_t)i))
            start[in->label[i] + 1]++;
    }
    int64_t largest = 0;
    for (size_t j = 0; j < k; j++) {
        if (start[j + 1] > largest)
            largest = start[j + 1];
        start[j + 1] += start[j];
    }
    {
        int64_t *fill = scores_alloc(k, sizeof *fill, cause);
        if (fill == NULL)
            goto fail;
        memcpy(fill, start, k * sizeof *fill);
        for (size_t i = 0; i < n; i++) {
            if (!scores_is_trusted(in, (int64_t)i))
                order[fill[in->label[i]]++] = (int64_t)i;
        }
        free(fill);
    }
    keys = scores_alloc((size_t)largest, sizeof *keys, cause);
    if (keys == NULL)
        goto fail;

    for (size_t i = 0; i < k; i++) {
        const int64_t *members = order + start[i];
        size_t count = (size_t)(start[i + 1] - start[i]);
        /* cleanlab leaves a class of min_examples_per_class (1) or fewer
         * samples alone. */
        if (count == 0 || r->class_count[i] <= 1)
            continue;
        for (size_t j = 0; j < k; j++) {
            int64_t want = r->prune_count[i * k + j];
            if (j == i || want < 1)
                continue;
            size_t m = (uint64_t)want >= count ? count : (size_t)want;
            for (size_t t = 0; t < count; t++) {
                const float *p = in->probs + (size_t)members[t] * k;
                float margin = p[j] - p[i];
                keys[t].v = (double)margin;
                keys[t].i = members[t];
            }
            if (scores_cell(keys, count, m, cause) != 0)
                goto fail;
            for (size_t t = 0; t < m; t++)
                r->sample[keys[t].i].flagged = 1;
        }
    }

    r->n_flagged = 0;
    for (size_t i = 0; i < n; i++) {
        struct scores_sample *s = &r->sample[i];
        if (s->flagged && cfg->cl_keep_argmax) {
            /* numpy's argmax: the first of equal maxima. */
            const float *p = in->probs + i * k;
            size_t argmax = 0;
            for (size_t j = 1; j < k; j++)
                if (p[j] > p[argmax])
                    argmax = j;
            s->flagged = argmax != (size_t)in->label[i];
        }
        r->n_flagged += s->flagged;
    }
    rc = 0;
fail:
    free(keys);
    free(start);
    free(order);
    return rc;
}

/* The value of one score of a sample, NAN when it has none. */
static double
scores_value(const struct scores_sample *s, int kind)
{
    switch (kind) {
    case SCORES_SELF_CONFIDENCE: return s->self_confidence;
    case SCORES_MARGIN: return s->margin;
    case SCORES_AUM: return s->aum;
    case SCORES_ELR: return s->elr;
    case SCORES_KNN: return s->knn;
    default: return s->flagged ? 1.0 : 0.0;
    }
}

static int
scores_key_cmp_asc(const void *pa, const void *pb)
{
    const struct scores_key *a = pa, *b = pb;
    if (a->v != b->v)
        return a->v < b->v ? -1 : 1;
    return a->i < b->i ? -1 : a->i > b->i ? 1 : 0;
}

/* Percentile ranks of one score over the samples that have it, into rank
 * (NAN for the others). */
static void
scores_ranks(const struct scores_result *r, int kind, struct scores_key *keys,
             double *rank)
{
    size_t n = (size_t)r->n, m = 0;
    for (size_t i = 0; i < n; i++) {
        double v = scores_value(&r->sample[i], kind);
        rank[i] = NAN;
        if (!isnan(v)) {
            keys[m].v = v;
            keys[m].i = (int64_t)i;
            m++;
        }
    }
    qsort(keys, m, sizeof *keys, scores_key_cmp_asc);
    for (size_t a = 0; a < m;) {
        size_t b = a;
        while (b < m && keys[b].v == keys[a].v)
            b++;
        double pct = ((double)a + 0.5 * (double)(b - a)) / (double)m;
        for (size_t t = a; t < b; t++)
            rank[keys[t].i] = pct;
        a = b;
    }
}

/* The per_class step: each untrusted sample's percentile rank among the
 * untrusted samples given its label, moved up by the label's estimated
 * noise rate. */
static int
scores_per_class(const struct scores_input *in, double w,
                 struct scores_result *r, char **cause)
{
    size_t n = (size_t)r->n, k = (size_t)r->k;
    int64_t *start = scores_alloc(k + 1, sizeof *start, cause);
    struct scores_key *keys = scores_alloc(n, sizeof *keys, cause);
    if (start == NULL || keys == NULL) {
        free(start);
        free(keys);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        if (!scores_is_trusted(in, (int64_t)i))
            start[in->label[i] + 1]++;
    for (size_t c = 0; c < k; c++)
        start[c + 1] += start[c];
    {
        int64_t *fill = scores_alloc(k, sizeof *fill, cause);
        if (fill == NULL) {
            free(start);
            free(keys);
            return -1;
        }
        memcpy(fill, start, k * sizeof *fill);
        for (size_t i = 0; i < n; i++) {
            if (scores_is_trusted(in, (int64_t)i))
                continue;
            struct scores_key *key = &keys[fill[in->label[i]]++];
            key->v = r->sample[i].score;
            key->i = (int64_t)i;
        }
        free(fill);
    }
    for (size_t c = 0; c < k; c++) {
        struct scores_key *a = keys + start[c];
        size_t m = (size_t)(start[c + 1] - start[c]);
        qsort(a, m, sizeof *a, scores_key_cmp_asc);
        /* Confident learning's rate, not the estimate's: ranked against
         * the estimate, the class-dependent case lost (BENCHMARKS.md). */
        double noise = 1.0 - r->cl_noise_matrix[c * k + c];
        for (size_t lo = 0; lo < m;) {
            size_t hi = lo;
            while (hi < m && a[hi].v == a[lo].v)
                hi++;
            double u = ((double)lo + 0.5 * (double)(hi - lo)) / (double)m;
            double ranked = (u + noise) / 2.0;
            for (size_t t = lo; t < hi; t++) {
                double *s = &r->sample[a[t].i].score;
                *s = scores_clamp01((1.0 - w) * *s + w * ranked);
            }
            lo = hi;
        }
    }
    free(start);
    free(keys);
    return 0;
}

/* Whether the model prefers another class to the given label for sample
 * i: its suggestion (the most probable other class) is strictly more
 * probable. */
static int
scores_prefers_other(const struct scores_input *in,
                     const struct scores_result *r, int64_t i)
{
    size_t k = (size_t)in->k;
    const float *p = in->probs + (size_t)i * k;
    return p[r->sample[i].suggested] > p[in->label[i]];
}

/* The class noise estimate from the combined scores, before the per_class
 * step moves them: per label, two Gaussians over its untrusted samples'
 * scores in log-odds (engine/mixture.h). A sample counts as wrong, towards
 * its suggested label, when the upper Gaussian explains it better and the
 * model prefers another class. The fit alone would count the top of a
 * class's clean spread when that spread is skewed; the preference alone
 * counts every clean sample the model gets wrong, over 40% of the demo's
 * (BENCHMARKS.md). */
static int
scores_class_noise(const struct scores_input *in, struct scores_result *r,
                   char **cause)
{
    size_t n = (size_t)r->n, k = (size_t)r->k;
    int64_t *start = scores_alloc(k + 1, sizeof *start, cause);
    int64_t *order = scores_alloc(n, sizeof *order, cause);
    double *x = scores_alloc(n, sizeof *x, cause);
    double *scratch = scores_alloc(n, sizeof *scratch, cause);
    int rc = -1;
    if (start == NULL || order == NULL || x == NULL || scratch == NULL)
        goto fail;
    for (size_t i = 0; i < n; i++)
        if (!scores_is_trusted(in, (int64_t)i))
            start[in->label[i] + 1]++;
    for (size_t c = 0; c < k; c++)
        start[c + 1] += start[c];
    {
        int64_t *fill = scores_alloc(k, sizeof *fill, cause);
        if (fill == NULL)
            goto fail;
        memcpy(fill, start, k * sizeof *fill);
        for (size_t i = 0; i < n; i++)
            if (!scores_is_trusted(in, (int64_t)i))
                order[fill[in->label[i]]++] = (int64_t)i;
        free(fill);
    }

    int64_t counted = 0;
    for (size_t c = 0; c < k; c++) {
        double *row = r->noise_matrix + c * k;
        const int64_t *members = order + start[c];
        size_t m = (size_t)(start[c + 1] - start[c]);
        for (size_t t = 0; t < m; t++)
            x[t] = mixture_logit(r->sample[members[t]].score);
        struct mixture_fit fit;
        mixture_fit(x, m, scratch, &fit);
        int64_t wrong = 0;
        for (size_t t = 0; t < m; t++) {
            if (mixture_posterior(&fit, x[t]) > 0.5 &&
                scores_prefers_other(in, r, members[t])) {
                row[r->sample[members[t]].suggested] += 1.0;
                wrong++;
            }
        }
        int64_t nc = r->class_count[c];
        for (size_t j = 0; j < k; j++)
            row[j] = nc > 0 ? row[j] / (double)nc : 0.0;
        row[c] = nc > 0 ? (double)(nc - wrong) / (double)nc : 1.0;
        r->class_noise[c] = 1.0 - row[c];
        counted += wrong;
    }
    r->noise_rate = n > 0 ? (double)counted / (double)n : 0.0;
    rc = 0;
fail:
    free(scratch);
    free(x);
    free(order);
    free(start);
    return rc;
}

static int
scores_combine(const struct scores_input *in, const struct scores_config *cfg,
               struct scores_result *r, char **cause)
{
    size_t n = (size_t)r->n;
    double *wsum = NULL, *rank = NULL;
    struct scores_key *keys = NULL;
    int rc = -1;

    wsum = scores_alloc(n, sizeof *wsum, cause);
    if (wsum == NULL)
        goto fail;
    if (cfg->combine == SCORES_COMBINE_RANK) {
        rank = scores_alloc(n, sizeof *rank, cause);
        keys = scores_alloc(n, sizeof *keys, cause);
        if (rank == NULL || keys == NULL)
            goto fail;
    }

    for (size_t i = 0; i < n; i++)
        r->sample[i].score = 0.0;
    for (int kind = 0; kind < SCORES_N_KINDS; kind++) {
        double w = cfg->weight[kind];
        if (!(w > 0.0))
            continue;
        if (rank != NULL)
            scores_ranks(r, kind, keys, rank);
        for (size_t i = 0; i < n; i++) {
            double v = rank ? rank[i] : scores_value(&r->sample[i], kind);
            if (isnan(v))
                continue;
            if (kind == SCORES_AUM && rank == NULL)
                v = 1.0 / (1.0 + exp(-v));
            r->sample[i].score += w * v;
            wsum[i] += w;
        }
    }
    for (size_t i = 0; i < n; i++) {
        struct scores_sample *s = &r->sample[i];
        if (scores_is_trusted(in, (int64_t)i))
            s->score = 0.0;
        else if (wsum[i] > 0.0)
            s->score = scores_clamp01(s->score / wsum[i]);
        else
            s->score = s->self_confidence;
    }
    if (scores_class_noise(in, r, cause) != 0)
        goto fail;
    rc = cfg->per_class > 0.0 ? scores_per_class(in, cfg->per_class, r, cause)
                              : 0;
fail:
    free(keys);
    free(rank);
    free(wsum);
    return rc;
}

int
scores_compute(const struct scores_input *in, const struct scores_config *cfg,
               struct scores_result *out, char **cause)
{
    struct scores_config dflt;
    size_t kk;

    memset(out, 0, sizeof *out);
    if (cfg == NULL) {
        scores_config_default(&dflt);
        cfg = &dflt;
    }
    if (scores_check(in, cfg, cause) != 0)
        return -1;
    size_t n = (size_t)in->n, k = (size_t)in->k;
    if (wn_mul_size(k, k, &kk) != 0)
        return wn_fail(cause, "%d classes: too many", in->k);

    out->n = in->n;
    out->k = in->k;
    if ((out->sample = scores_alloc(n, sizeof *out->sample, cause)) == NULL ||
        (out->class_count = scores_alloc(k, sizeof(int64_t), cause)) == NULL ||
        (out->threshold = scores_alloc(k, sizeof(double), cause)) == NULL ||
        (out->class_noise = scores_alloc(k, sizeof(double), cause)) == NULL ||
        (out->confident_joint = scores_alloc(kk, sizeof(int64_t), cause)) ==
            NULL ||
        (out->cl_joint = scores_alloc(kk, sizeof(double), cause)) == NULL ||
        (out->cl_noise_matrix = scores_alloc(kk, sizeof(double), cause)) ==
            NULL ||
        (out->noise_matrix = scores_alloc(kk, sizeof(double), cause)) == NULL ||
        (out->prune_count = scores_alloc(kk, sizeof(int64_t), cause)) == NULL)
        goto fail;

    for (size_t i = 0; i < n; i++)
        scores_row(in, (int64_t)i, &out->sample[i]);
    if (scores_estimate(in, out, cause) != 0 ||
        scores_prune(in, cfg, out, cause) != 0 ||
        scores_combine(in, cfg, out, cause) != 0)
        goto fail;
    return 0;
fail:
    scores_result_fini(out);
    return -1;
}
