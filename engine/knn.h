/* engine/knn.h: what a sample's nearest neighbours in the network's
 * feature space are labelled.
 *
 * Evidence that does not come from the classifier's head: a network that
 * cannot keep two classes apart, or that learned a systematic swap, still
 * places similar images near each other, and there the majority of the
 * given labels is usually right (Bahri et al., "Deep k-NN for Noisy
 * Labels", ICML 2020; Zhu et al., "Detecting Corrupted Labels Without
 * Training a Model to Predict", ICML 2022). Similarity is the cosine of the
 * centred features; a sample is never its own neighbour and only meets
 * samples of its own group (the fold whose model computed its features).
 * The search (engine/ivf.h) is exact for groups up to exact_max samples
 * and goes through an index beyond, so that a million samples cost about
 * as much as 30,000 squared; its answer depends on nothing but the inputs
 * and the seed, so it is the same for any thread count. */
#ifndef WINNOW_ENGINE_KNN_H
#define WINNOW_ENGINE_KNN_H

#include <stdint.h>

#include "data/base.h"

struct knn_config { /* plain data; knn_config_default fills it */
    int k;          /* neighbours per sample, >= 1 */
    /* Groups up to this size are searched exactly; larger ones through
     * the index, with these lists and probes (0: automatic; ivf.h). */
    int64_t exact_max;
    int lists, probes;
    uint64_t seed; /* the index's k-means */
    int threads;   /* >= 1 */
};

void knn_config_default(struct knn_config *cfg);

struct knn_input {         /* plain data; every pointer is borrowed */
    int64_t n;             /* samples, >= 0 */
    int dim;               /* feature length, >= 1 */
    int classes;           /* >= 1 */
    const float *features; /* (N, dim), finite */
    const int32_t *label;  /* (N) in [0, classes) */
    const int32_t *group;  /* (N) group ids >= 0, or NULL for one group */
};

/* Fill votes (N, classes) with the share of each sample's neighbours that
 * carry each label (a row of zeros for a sample alone in its group). On
 * bad input or when memory runs out return -1 with a cause. */
WN_NODISCARD int knn_votes(const struct knn_input *in,
                           const struct knn_config *cfg, float *votes,
                           char **cause);

#endif
