/* engine/outlier.h: how little a sample looks like anything else in the
 * project.
 *
 * Two kinds of evidence, the larger wins. From the features: the mean
 * cosine distance (of the centred features) to the k nearest of a seeded
 * reference subset, divided by the typical such distance, overall and in
 * the sample's class (the geometric mean of the two ratios r), reported
 * as r / (1 + r): 0.5 for a typical sample, towards 1 for one far from
 * all. From the pixels, which need no model: a near-constant image (a
 * blank frame, a dead sensor) and an extreme mean brightness score close
 * to 1 whatever the features say. Every score is in [0, 1), higher = more
 * of an outlier, and depends only on the inputs and the seed. */
#ifndef WINNOW_ENGINE_OUTLIER_H
#define WINNOW_ENGINE_OUTLIER_H

#include <stdint.h>

#include "data/base.h"

struct outlier_input {     /* plain data; every pointer is borrowed */
    int64_t n;             /* samples, >= 0 */
    int dim;               /* feature length; 0: no features */
    int classes;           /* >= 1 */
    const float *features; /* (N, dim), finite, or NULL */
    const int32_t *label;  /* (N) in [0, classes) */
    /* (N, channels, side, side) as the engine holds them, or NULL. */
    const uint8_t *pixels;
    int channels, side;
    int k;                 /* neighbours, >= 1 */
    int64_t max_reference; /* compared with at most this many samples */
    uint64_t seed;
};

/* The defaults for k, max_reference and seed. */
void outlier_input_defaults(struct outlier_input *in);

/* Fill score[0..n); -1 with a cause on bad input. */
WN_NODISCARD int outlier_scores(const struct outlier_input *in, double *score,
                                char **cause);

#endif
