/* engine/outlier.h: how little a sample looks like anything the network
 * learned.
 *
 * Two kinds of evidence, the larger wins. From the features: how weakly
 * the network responds, the median feature norm of the sample's class
 * over the sample's own (r), reported as r / (1 + r): 0.5 for a typical
 * sample, towards 1 for one the network barely sees. Measured on MNIST
 * digits, flat and noise images among CIFAR-10 (tests/bench/outliers.sh,
 * BENCHMARKS.md), this separates them almost perfectly, where the mean
 * distance to the nearest neighbours fails: odd images come in clusters
 * of their own kind, and each is near the others. From the pixels, which
 * need no model: a near-constant image (a blank frame, a dead sensor) and
 * an extreme mean brightness score close to 1 whatever the features say.
 * Every score is in [0, 1), higher = more of an outlier, and depends only
 * on the inputs. */
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
};

/* Fill score[0..n); -1 with a cause on bad input. */
WN_NODISCARD int outlier_scores(const struct outlier_input *in, double *score,
                                char **cause);

#endif
