/* engine/train.h: training a noise-robust classifier on a dataset and
 * collecting the evidence the scores are made from. Used by engine.c only
 * (and the tests); knows nothing of the store or of threads beyond its own
 * compute budget.
 *
 * One call trains either a single model on every sample (the evidence is
 * its training dynamics: ELR targets, margins over epochs, and its final
 * predictions) or K models by cross-validation (each sample judged by a
 * model that never saw it). Either way the output has the same shape. */
#ifndef WINNOW_ENGINE_TRAIN_H
#define WINNOW_ENGINE_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "data/base.h"

struct dataset;

struct train_config { /* plain data; train_config_default fills it */
    int epochs;
    int folds; /* 0 or 1: one model, training dynamics; K >= 2 */
    int batch_size;
    float lr;           /* peak learning rate */
    float momentum;     /* Nesterov */
    float weight_decay; /* not applied to BN parameters and biases */
    int warmup_epochs;
    int elr; /* early-learning regularization on/off */
    float elr_lambda;
    float elr_beta;
    int flip;     /* horizontal flips (colour images only) */
    int crop_pad; /* random crop after zero padding, pixels */
    int width;    /* channels of the first stage */
    uint64_t seed;
    int threads; /* the whole compute budget (>= 1) */
};

/* Defaults for a dataset of n samples of side s. */
void train_config_default(struct train_config *cfg, int64_t n, int side,
                          int channels);

struct train_status {                  /* plain data, passed to the observer */
    int fold, folds;                   /* 1-based; folds 1 for a single model */
    int epoch, epochs;                 /* 1-based */
    int64_t batch, batches;            /* within the epoch, 1-based */
    int64_t images_done, images_total; /* over the whole job */
    double loss;                       /* running mean over the epoch */
    double accuracy; /* running training accuracy against labels */
    double images_per_sec;
    double gflops;  /* achieved, training arithmetic only */
    int predicting; /* 1 during the predictions after training */
};

/* Called after every batch, from the thread that called train_run, also
 * during the predictions after training (the last training status, with
 * predicting set), so that a caller keeping a heartbeat sees the job
 * alive. Return 0 to go on, non-zero to stop at once (a checkpoint is
 * then returned); while predicting the return value is ignored. */
typedef int (*train_observer_fn)(void *ctx, const struct train_status *st);

/* Called at the start of every epoch but the run's first, when the state
 * is one a resumed run continues from exactly, with that state as a
 * checkpoint; blob is only borrowed for the call. Keeping some of them
 * bounds what a crash or kill -9 can lose. */
typedef void (*train_checkpoint_fn)(void *ctx, const void *blob, size_t len);

struct train_output { /* train_output_fini frees */
    int64_t n;
    int k;
    float *probs;      /* (N, K): out-of-sample (folds) or final eval probs */
    float *elr_target; /* (N, K) running targets (a temporal ensemble of the
                        * predictions, which ELR trains towards), or NULL
                        * with folds */
    float *aum;        /* (N) mean over epochs of logit[y] - max other logit,
                        * or NULL with folds */
    float *features;   /* (N, feature_dim) the pooled features behind probs */
    int feature_dim;
    int32_t *group; /* (N) the fold whose model judged each sample, or
                        * NULL with one model: features are comparable
                        * only within a group */
    double train_seconds;
    double gflop; /* arithmetic done, for GFLOP/s */
    double final_loss;
};

struct train_job { /* plain data, all borrowed: what train_run is given */
    const struct dataset *data;
    const struct train_config *cfg;
    train_observer_fn observer;     /* or NULL */
    train_checkpoint_fn checkpoint; /* or NULL */
    void *ctx;                      /* passed to both */
    /* A checkpoint from an earlier stopped call with the same dataset and
     * config to continue from, or NULL. */
    const void *resume;
    size_t resume_len;
};

/* Train. Returns 0 when finished (out filled), 1 when the observer asked
 * to stop (a checkpoint in *ckpt_out / *ckpt_len, malloc'd, caller frees;
 * out untouched), -1 on error. The same dataset, config, seed and thread
 * count give bit-identical output, resumed or not. */
WN_NODISCARD int train_run(const struct train_job *job,
                           struct train_output *out, void **ckpt_out,
                           size_t *ckpt_len, char **cause);
void train_output_fini(struct train_output *out);

#endif
