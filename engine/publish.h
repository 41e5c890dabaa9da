/* engine/publish.h: a run's results into the project file, one way for a
 * trained run (engine.c) and for a run made from someone else's
 * probabilities (byom.c), so that both keep the same rows and matrices. */
#ifndef WINNOW_ENGINE_PUBLISH_H
#define WINNOW_ENGINE_PUBLISH_H

#include <stddef.h>
#include <stdint.h>

#include "data/base.h"

struct store;
struct store_pair;
struct store_score;
struct scores_result;

/* A run whose process still exists is taken for alive until its
 * heartbeat is this old (store_run_claim's stale_ms): a recycled pid can
 * block a new run at most this long, while a live run heartbeats every
 * few seconds, even in its longest phase. */
#define PUBLISH_STALE_MS ((int64_t)600 * 1000)

struct publish_input {        /* plain data; every pointer is borrowed */
    int64_t n;                /* samples, in import order */
    int k;                    /* classes */
    const int64_t *sample_id; /* (N) */
    const int32_t *label;     /* (N) the label trained or scored against */
    const float *probs;       /* (N, K) */
    const float *features;    /* (N, dim), or NULL */
    int dim;
    const struct store_pair *pairs; /* near-duplicates by features */
    size_t n_pairs;
};

/* One row of scores per sample (free()): scores_compute's result with the
 * sample's label and its STORE_TOP_CLASSES likeliest classes; the outlier
 * score is NAN until the caller sets it. */
struct store_score *publish_rows(const struct publish_input *in,
                                 const struct scores_result *res);

/* The probabilities, the features, the feature pairs and the scores of
 * run_id in one transaction: a reader sees the whole run or none of it. */
WN_NODISCARD int publish_run(struct store *s, int64_t run_id,
                             const struct publish_input *in,
                             const struct store_score *rows,
                             const struct scores_result *res, double seconds,
                             char **cause);

#endif
