/* engine/byom.h: a run from probabilities another model computed ("bring
 * your own model"): no training, the same scores, run and publication as
 * the engine's, on the caller's thread.
 *
 * The caller has checked its input (data/probs.h, shapes, finite
 * features); what fails here is a busy project, the disk, or memory. */
#ifndef WINNOW_ENGINE_BYOM_H
#define WINNOW_ENGINE_BYOM_H

#include <stdint.h>

#include "data/base.h"

struct store;

struct byom_input {           /* plain data; every pointer is borrowed */
    int64_t n;                /* samples, in import order */
    int k;                    /* classes, >= 2 */
    const int64_t *sample_id; /* (N) */
    const int32_t *label;     /* (N) current label */
    const uint8_t *trusted;   /* (N) a person's decision is in force */
    const float *probs;       /* (N, K), checked by probs_check */
    const float *features;    /* (N, dim) finite, or NULL */
    int dim;
    const char *params; /* what the run records as its origin */
    uint64_t seed;      /* the neighbour votes' reference sample */
    int threads;        /* >= 1 */
};

struct byom_result { /* plain data */
    int64_t run_id;
    double noise_rate;
    int64_t n_flagged;
};

/* Score, claim a run (refused while another live process scores the
 * project: "project is busy: ..."), keep the probabilities and features
 * and publish, all on s, which the caller opened for writing. Nothing is
 * written before the scores are computed; a failure after the claim marks
 * the run failed with the cause. */
WN_NODISCARD int byom_run(struct store *s, const struct byom_input *in,
                          struct byom_result *out, char **cause);

#endif
