/* engine/ckpt.h: the trainer's checkpoint, a flat image of its state. Used
 * by engine/train.c (and the tests); knows nothing of the model or the
 * store.
 *
 * A checkpoint is an 8-byte magic, the run's key, then the fields of
 * struct ckpt_state in one fixed order, each as its bytes in memory (the
 * machine's byte order: little-endian wherever winnow runs). Some arrays
 * are there only for some runs (see the struct); the run's shape says
 * which, so the shape is never written, only checked through the key. */
#ifndef WINNOW_ENGINE_CKPT_H
#define WINNOW_ENGINE_CKPT_H

#include <stddef.h>
#include <stdint.h>

#include "data/base.h"
#include "engine/rng.h"

/* A change of layout takes a new magic (and code to read the old one):
 * an interrupted run's checkpoint must load in the next version. */
#define CKPT_MAGIC     "WNCKPT02"
#define CKPT_MAGIC_LEN 8

struct ckpt_state { /* plain data; the arrays are borrowed */
    /* The run's shape, set by the caller before a save or a load. */
    int64_t n;         /* samples */
    int k;             /* classes */
    int folds, epochs; /* folds 1: one model */
    int feat_dim;      /* floats of features per sample */
    uint64_t key;      /* ckpt_key of what must match (written, checked) */
    /* Where the run is. */
    int64_t fold, epoch; /* 0-based: current */
    int64_t batch;       /* next batch of the epoch */
    int64_t n_train;     /* entries of order in use */
    struct rng rng;
    double loss_sum, correct; /* the epoch's sums so far */
    int64_t seen;             /* the epoch's images so far */
    int64_t images_done;      /* the whole job's */
    double gflop;
    /* Arrays. */
    float *params; /* (n_params) the model's parameter block */
    size_t n_params;
    float *velocity; /* (n_velocity) its optimizer velocity */
    size_t n_velocity;
    int32_t *order;     /* (n) this epoch's order of the training set */
    int32_t *fold_of;   /* (n) */
    float *probs;       /* (n, k) and (n, feat_dim): the finished folds' */
    float *features;    /* predictions; saved with folds > 1 only */
    float *target;      /* (n, k) ELR targets, or NULL: not saved */
    double *margin_sum; /* (n) AUM sums, or NULL: neither is saved */
    int32_t *margin_n;  /* (n) epochs in each sum */
};

/* The key of a run from the values that must match for a checkpoint to
 * fit it. */
uint64_t ckpt_key(const uint64_t *v, size_t n);

/* A new checkpoint of st in *out (malloc'd, caller frees), *len bytes. */
void ckpt_save(const struct ckpt_state *st, void **out, size_t *len);

/* Read blob into st, whose shape, key and arrays the caller has set. On
 * failure return -1 and set *cause; st is then partly overwritten. */
WN_NODISCARD int ckpt_load(struct ckpt_state *st, const void *blob, size_t len,
                           char **cause);

#endif
