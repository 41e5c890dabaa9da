/* engine/cleanlab.h: confident learning's counting exactly as cleanlab
 * does it, so that engine/scores.c flags the samples that cleanlab's
 * find_label_issues(filter_by='prune_by_noise_rate') returns with its
 * defaults (frac_noise 1, min_examples_per_class 1), sample for sample.
 *
 * cleanlab is numpy code: its results depend on numpy's arithmetic, not
 * only on the formulas. This module reproduces the parts that decide
 * counts: float32 class means summed the way numpy sums (pairwise, in
 * blocks of 8192), float32 thresholds, round half to even, and numpy's
 * default argsort (introsort, not stable) wherever cleanlab breaks ties
 * by it. The probabilities are taken as float32, as winnow holds them:
 * the agreement is with cleanlab given the same float32 array. Checked
 * against numpy 1.24; a numpy whose argsort takes another path (the
 * AVX-512 sorts of numpy >= 1.26) may order exactly equal values
 * differently, which changes a result only when such ties straddle a
 * count.
 *
 * Pure arithmetic over plain arrays, no allocation kept. */
#ifndef WINNOW_ENGINE_CLEANLAB_H
#define WINNOW_ENGINE_CLEANLAB_H

#include <stddef.h>
#include <stdint.h>

#include "data/base.h"

struct cleanlab_counts {  /* the caller's arrays, filled by cleanlab_count */
    int64_t *class_count; /* (K) samples given each label */
    float *mean;          /* (K) mean P[y] of each class, numpy's
                               * float32 mean; NAN for an empty class */
    /* (K, K) [given][confident]: raw counts, before cleanlab clips the
     * diagonal to at least 1 */
    int64_t *confident_joint;
    /* (K, K) [given][true]: calibrate_confident_joint's integer counts */
    int64_t *calibrated;
    /* (K, K) [given][true]: how many samples of each given label to flag
     * for each true label (cleanlab's prune_count_matrix, transposed back
     * to this orientation); 0 on the diagonal */
    int64_t *prune_count;
};

/* Fill c from n rows of k probabilities and their labels (checked by the
 * caller: labels in range, probabilities finite). Fails only when memory
 * runs out. */
WN_NODISCARD int cleanlab_count(const float *probs, const int32_t *label,
                                int64_t n, int k, struct cleanlab_counts *c,
                                char **cause);

/* numpy.argsort(v) with its default kind: idx[0..n) gets the order of
 * v[0..n) ascending, equal values in numpy's order. */
void cleanlab_argsort(const double *v, int64_t *idx, size_t n);

#endif
