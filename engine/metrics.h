/* engine/metrics.h: how well a score finds the samples whose label is
 * really wrong, for the benchmarks and tests. Pure functions over borrowed
 * arrays: a score per sample ("higher = more suspicious") in double or
 * float, and a truth mask of uint8_t where non-zero marks a positive (a
 * mislabelled sample). A NaN score counts as -infinity. The ranking metrics
 * sort a copy, O(N log N); when that copy cannot be allocated they return
 * NAN rather than die. Definitions follow scikit-learn's roc_auc_score,
 * average_precision_score and precision_recall_fscore_support. */
#ifndef WINNOW_ENGINE_METRICS_H
#define WINNOW_ENGINE_METRICS_H

#include <stddef.h>
#include <stdint.h>

/* Area under the ROC curve: the probability that a random positive scores
 * above a random negative, ties counting one half. NAN when there is no
 * positive or no negative. */
double metrics_auroc(const double *score, const uint8_t *truth, size_t n);
double metrics_auroc_f(const float *score, const uint8_t *truth, size_t n);

/* Average precision: sum over the distinct score values, from the highest,
 * of (R_t - R_{t-1}) P_t, where P_t and R_t are the precision and recall
 * of flagging every sample scoring at least that value (so equal scores
 * enter together). NAN when there is no positive. */
double metrics_average_precision(const double *score, const uint8_t *truth,
                                 size_t n);
double metrics_average_precision_f(const float *score, const uint8_t *truth,
                                   size_t n);

struct metrics_at_k { /* plain data */
    size_t k;         /* samples taken: min(k asked, N) */
    int64_t hits;     /* positives among them */
    double precision; /* hits / k; NAN when k is 0 */
    double recall;    /* hits / positives; NAN when there is none */
};

/* Precision and recall of the k highest scores, equal scores taken in
 * index order (the lower index first). */
void metrics_at_k(const double *score, const uint8_t *truth, size_t n, size_t k,
                  struct metrics_at_k *out);
void metrics_at_k_f(const float *score, const uint8_t *truth, size_t n,
                    size_t k, struct metrics_at_k *out);

struct metrics_flags { /* plain data */
    int64_t tp, fp, fn, tn;
    double precision; /* tp / (tp + fp); 0 when nothing is flagged */
    double recall;    /* tp / (tp + fn); 0 when there is no positive */
    double f1;        /* harmonic mean of the two; 0 when both are 0 */
};

/* Precision, recall and F1 of a yes/no prediction (non-zero: flagged). */
void metrics_flags(const uint8_t *pred, const uint8_t *truth, size_t n,
                   struct metrics_flags *out);

/* The truth mask of a benchmark with known clean labels: mask[i] = 1 where
 * given[i] != clean[i]. Writes n bytes into mask (caller's buffer) and
 * returns the number of positives. */
size_t metrics_noise_mask(const int32_t *given, const int32_t *clean, size_t n,
                          uint8_t *mask);

#endif
