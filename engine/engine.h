/* engine/engine.h: all that the UI and the commands know of training.
 *
 * An engine is one scoring job on a project file, run in a background
 * thread with its own store connection: load the samples, train, compute
 * the scores, publish them as a run in one transaction. The caller's
 * thread never waits on it: it reads a progress snapshot at any time, and
 * engine_fd becomes readable when the snapshot changes (poll it beside the
 * keyboard). Failures travel in the snapshot, never on stderr. */
#ifndef WINNOW_ENGINE_ENGINE_H
#define WINNOW_ENGINE_ENGINE_H

#include <stdint.h>

#include "data/base.h"

struct engine; /* opaque */

struct engine_params { /* plain data; engine_params_default fills it */
    int epochs;        /* 0: chosen from the dataset size */
    int folds;         /* 0: the default method; 1: one model; K >= 2 */
    uint64_t seed;
    int threads; /* compute budget; 0: all cores */
    int elr;     /* early-learning regularization */
    int flip;    /* horizontal flips for colour images */
    int resume;  /* continue the latest interrupted run */
    int side;    /* the network's input side; 0: from the stored sizes */
    /* Keep a checkpoint at an epoch boundary at most this often, so a
     * crash costs at most this much training (0: every epoch). */
    double checkpoint_seconds;
};
void engine_params_default(struct engine_params *p);

enum engine_phase {
    ENGINE_STARTING,
    ENGINE_LOADING,
    ENGINE_TRAINING,
    ENGINE_SCORING,
    ENGINE_PUBLISHING,
    ENGINE_DONE,
    ENGINE_INTERRUPTED, /* stopped; a checkpoint was saved */
    ENGINE_FAILED,
};
const char *engine_phase_name(enum engine_phase ph); /* "training" */

struct engine_progress { /* plain data: a snapshot */
    enum engine_phase phase;
    int paused;
    int64_t run_id;
    int fold, folds;
    int epoch, epochs;
    int64_t batch, batches;
    int64_t images_done, images_total;
    double loss, accuracy;
    double images_per_sec;
    double gflops;
    double elapsed, eta; /* seconds; eta < 0 when unknown */
    int64_t n_samples;
    int n_classes;
    double noise_rate; /* estimated, once scored; < 0 before */
    char message[256]; /* the cause when FAILED */
};

/* Start a job on the project file at db_path. Fails at once (with a cause)
 * only when the thread cannot start; everything else is reported through
 * the snapshot. */
WN_NODISCARD int engine_start(const char *db_path,
                              const struct engine_params *p,
                              struct engine **out, char **cause);
/* Copy the current progress. Any thread; never blocks on training. */
void engine_progress(struct engine *e, struct engine_progress *snap);
/* Readable when progress changed; call engine_ack after reading. */
int engine_fd(const struct engine *e);
void engine_ack(struct engine *e);
/* Pause or resume between batches. */
void engine_pause(struct engine *e, int paused);
/* Ask the job to stop at the next batch (it saves a checkpoint and marks
 * the run interrupted); returns at once. */
void engine_request_stop(struct engine *e);
/* Whether the job has ended (done, interrupted or failed). */
int engine_finished(struct engine *e);
/* Wait for the job to end and free everything. NULL is fine. */
void engine_free(struct engine *e);

#endif
