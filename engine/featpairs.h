/* engine/featpairs.h: near-duplicates by the network's features.
 *
 * A perceptual hash (data/phash.h) does not see a flipped image or a crop
 * as a copy; the pooled features of a network trained with flips and
 * shifts mostly do. Two samples whose centred features have a cosine
 * similarity at or above a threshold are a pair; every pair is found (one
 * matrix product per block of rows, engine/gemm.h), in O(N^2 D) work,
 * which for 30,000 samples of 128 features is a few seconds. */
#ifndef WINNOW_ENGINE_FEATPAIRS_H
#define WINNOW_ENGINE_FEATPAIRS_H

#include <stddef.h>
#include <stdint.h>

#include "data/base.h"

/* Features at least this similar are near-duplicates. Measured on copies
 * made from CIFAR-10 (tests/bench/dups.sh, BENCHMARKS.md). */
#define FEATPAIRS_DEFAULT_MIN    0.97
/* At most this many pairs per sample on average are kept, so that a
 * threshold too low for a project cannot fill the file. */
#define FEATPAIRS_MAX_PER_SAMPLE 4
/* A sample with more partners than this sits in a dense region of the
 * feature space (MNIST digits: 14 partners on average at 0.98), not among
 * copies of itself: its pairs are dropped (featpairs_rare). */
#define FEATPAIRS_MAX_PARTNERS   16

struct featpairs_pair { /* plain data */
    int64_t a, b;       /* row indices, a < b */
    float similarity;
};

/* Centred, unit-length copies of features (n x dim), malloc'd; rows of
 * zeros stay zero. Shared with engine/outlier.c. */
float *featpairs_normalise(const float *features, int64_t n, int dim);

/* Every pair of rows at least min_similarity alike, by (a, b); at most
 * max_pairs of them (0: FEATPAIRS_MAX_PER_SAMPLE * n; *truncated set when
 * there were more: the first in row order are kept). *out is the
 * caller's. */
WN_NODISCARD int featpairs_find(const float *features, int64_t n, int dim,
                                double min_similarity, size_t max_pairs,
                                struct featpairs_pair **out, size_t *n_out,
                                int *truncated, char **cause);

/* Keep only the pairs both of whose rows have at most max_partners
 * partners among p[0..n) (rows < n_rows); returns the new count. */
size_t featpairs_rare(struct featpairs_pair *p, size_t n, int64_t n_rows,
                      int max_partners);

/* The same within each group of rows (group[i] >= 0; NULL: one group):
 * features of different models (the folds of a run) are not comparable,
 * so rows of two groups never pair. Pairs by (a, b). */
WN_NODISCARD int featpairs_find_grouped(const float *features, int64_t n,
                                        int dim, const int32_t *group,
                                        double min_similarity,
                                        struct featpairs_pair **out,
                                        size_t *n_out, int *truncated,
                                        char **cause);

#endif
