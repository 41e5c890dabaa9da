/* engine/train.c: the training loop and the evidence it collects.
 *
 * One model, trained by SGD with Nesterov momentum under a cosine schedule,
 * on batches assembled by engine/dataset.c: each image is cropped at a
 * random offset from a zero-padded copy, flipped at random when that is
 * allowed, and normalised per channel into float. The loss is
 * cross-entropy plus, with ELR (Liu et al., "Early-Learning Regularization
 * Prevents Memorization of Noisy Labels", NeurIPS 2020),
 * lambda * log(1 - <p, t>), where t is each sample's running average of
 * its own predictions: the model keeps agreeing with what it learned
 * early, from the clean majority, rather than memorising the wrong labels
 * later. Labels a person confirmed carry no ELR term: they are trusted as
 * they are.
 *
 * With folds >= 2 the samples are split (stratified by label) and each fold
 * is predicted by a model that never trained on it; otherwise the final
 * model's predictions on its own training data, the ELR targets and the
 * margins over the epochs (AUM, Pleiss et al. 2020) are the evidence.
 *
 * A stop request is honoured at a batch boundary: the checkpoint holds the
 * whole state (weights, momentum, the random generator, the epoch's order,
 * the targets and sums so far; engine/ckpt.h), so a resumed run ends
 * bit-identical to one that was never stopped.
 *
 * train_run is four steps: set up (model, buffers, folds or the resumed
 * state), train every fold, predict, hand the evidence over; whatever the
 * outcome, one teardown frees what the trainer holds. */
#include "config.h"

#include "engine/train.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/ckpt.h"
#include "engine/dataset.h"
#include "engine/gemm.h"
#include "engine/layers.h"
#include "engine/model.h"
#include "engine/optim.h"
#include "engine/rng.h"

/* Defaults, measured on CIFAR-10 and MNIST with planted label noise
 * (BENCHMARKS.md). About 450,000 sample-passes, 15 epochs of 30,000
 * images, fit the ten-minute budget on two cores; smaller sets get more
 * epochs, up to the maximum, and never fewer than the minimum, since ELR's
 * targets need the early-learning phase to be well over before the scores
 * are read. */
#define TRAIN_SAMPLE_PASSES 450000
#define TRAIN_MIN_EPOCHS    10
#define TRAIN_MAX_EPOCHS    20
#define TRAIN_BATCH         128
#define TRAIN_LR            0.1f /* measured better than 0.05 at 15 epochs */
#define TRAIN_MOMENTUM      0.9f
#define TRAIN_WEIGHT_DECAY  5e-4f
#define TRAIN_WARMUP_EPOCHS 1
#define TRAIN_MIN_LR        0.0f /* where the cosine ends */
#define TRAIN_ELR_LAMBDA    3.0f
#define TRAIN_ELR_BETA      0.7f
/* Random crops, by up to an eighth of the side, from 16 pixels up: on
 * smaller images a shift of a pixel or two moves what makes the class. */
#define TRAIN_CROP_MIN_SIDE 16
#define TRAIN_CROP_DIVISOR  8
/* 16/32/64 channels: the 32/64/128 network runs the same sgemm closer to
 * peak, but at 4x the arithmetic it cannot train enough epochs of 30,000
 * images in ten minutes on two cores; measured, the narrow one finds more
 * wrong labels per CPU-second (BENCHMARKS.md). */
#define TRAIN_WIDTH         16
/* Every stage halves the side: smaller inputs get fewer stages, so that
 * the last one still pools a plane of a few pixels. */
#define TRAIN_SIDE_2_STAGES 8
#define TRAIN_SIDE_3_STAGES 16
/* ELR clamps the predictions away from 0 and 1 as the paper's code does,
 * and keeps <p, t> below 1, where log(1 - <p, t>) has no gradient. */
#define TRAIN_ELR_CLAMP     1e-4f
#define TRAIN_ELR_DOT_GAP   1e-6f
#define TRAIN_FLOP_TO_GFLOP 1e-9

void
train_config_default(struct train_config *cfg, int64_t n, int side,
                     int channels)
{
    memset(cfg, 0, sizeof *cfg);
    int epochs =
        n > 0 ? (int)((TRAIN_SAMPLE_PASSES + n / 2) / n) : TRAIN_MAX_EPOCHS;
    cfg->epochs = epochs < TRAIN_MIN_EPOCHS   ? TRAIN_MIN_EPOCHS
                  : epochs > TRAIN_MAX_EPOCHS ? TRAIN_MAX_EPOCHS
                                              : epochs;
    cfg->folds = 1;
    cfg->batch_size = TRAIN_BATCH;
    cfg->lr = TRAIN_LR;
    cfg->momentum = TRAIN_MOMENTUM;
    cfg->weight_decay = TRAIN_WEIGHT_DECAY;
    cfg->warmup_epochs = TRAIN_WARMUP_EPOCHS;
    cfg->elr = 1;
    cfg->elr_lambda = TRAIN_ELR_LAMBDA;
    cfg->elr_beta = TRAIN_ELR_BETA;
    cfg->flip = channels == 3;
    cfg->crop_pad = side >= TRAIN_CROP_MIN_SIDE ? side / TRAIN_CROP_DIVISOR : 0;
    cfg->width = TRAIN_WIDTH;
    cfg->seed = 1;
    cfg->threads = 1;
}

/* Everything a run carries from batch to batch. */
struct trainer {
    const struct train_job *job;
    const struct dataset *d;        /* job->data */
    const struct train_config *cfg; /* job->cfg */
    struct model *model;
    struct optim_sgd opt;
    /* The run's position, sums and arrays: what a checkpoint holds. The
     * arrays (but params and velocity, the model's) belong to the
     * trainer: order, fold_of, probs, features, and with one model,
     * target, margin_sum and margin_n. */
    struct ckpt_state state;
    /* model_ready: the current fold's model exists; order_ready: the
     * current epoch's order is drawn. A checkpoint is taken with both. */
    int model_ready, order_ready;
    /* Scratch. */
    float *x;                    /* (B, C, S, S) */
    int *y;                      /* (B) */
    float *p, *dlogits, *dprobs; /* (B, K) */
    float *weights;              /* (B) */
    /* For the reports. */
    double t_start, flop_per_image;
    int64_t images_total;
    int64_t images_at_start; /* done before this call: a resumed run's */
    double gflop_at_start;
    struct train_status status; /* the last one reported */
};

/* Cross-entropy (+ ELR) gradient for one batch; returns the batch loss. */
static double
batch_loss(struct trainer *tr, const int32_t *idx, int bn, const float *logits)
{
    struct ckpt_state *s = &tr->state;
    int k = s->k;
    const struct train_config *cfg = tr->cfg;
    for (int b = 0; b < bn; b++)
        tr->weights[b] = 1.0f;
    double loss = softmax_xent_forward(bn, k, tr->p, NULL, logits, tr->y, NULL,
                                       tr->weights);
    softmax_xent_backward(bn, k, tr->dlogits, tr->p, tr->y, NULL, tr->weights);
    for (int b = 0; b < bn; b++) {
        const float *z = logits + (size_t)b * k;
        int y = tr->y[b];
        float best = -INFINITY;
        int arg = 0;
        for (int j = 0; j < k; j++) {
            if (j != y && z[j] > best)
                best = z[j];
            if (z[j] > z[arg])
                arg = j;
        }
        if (arg == y)
            s->correct += 1.0;
        if (s->margin_sum != NULL) {
            s->margin_sum[idx[b]] += (double)(z[y] - best);
            s->margin_n[idx[b]]++;
        }
    }
    if (s->target == NULL)
        return loss;

    /* The running targets are kept with or without the ELR term: they are
     * a temporal ensemble of the predictions, evidence in their own right.
     * The target moves towards the renormalised clamped prediction, and
     * the term's gradient flows back through the softmax. */
    const float lo = TRAIN_ELR_CLAMP, hi = 1.0f - TRAIN_ELR_CLAMP;
    float beta = cfg->elr_beta, lambda = cfg->elr ? cfg->elr_lambda : 0.0f;
    double reg = 0;
    memset(tr->dprobs, 0, (size_t)bn * (size_t)k * sizeof *tr->dprobs);
    for (int b = 0; b < bn; b++) {
        int64_t i = idx[b];
        const float *p = tr->p + (size_t)b * k;
        float *t = s->target + (size_t)i * k;
        float sum = 0;
        for (int j = 0; j < k; j++)
            sum += fminf(fmaxf(p[j], lo), hi);
        float dot = 0;
        for (int j = 0; j < k; j++) {
            float pc = fminf(fmaxf(p[j], lo), hi);
            t[j] = beta * t[j] + (1.0f - beta) * (pc / sum);
            dot += t[j] * pc;
        }
        if (dot > 1.0f - TRAIN_ELR_DOT_GAP)
            dot = 1.0f - TRAIN_ELR_DOT_GAP;
        if (!cfg->elr || tr->d->trusted[i])
            continue;
        reg += log(1.0 - (double)dot);
        float g = -lambda / ((float)bn * (1.0f - dot));
        float *dp = tr->dprobs + (size_t)b * k;
        for (int j = 0; j < k; j++)
            dp[j] = p[j] > lo && p[j] < hi ? g * t[j] : 0.0f;
    }
    if (cfg->elr)
        softmax_backward_add(bn, k, tr->dlogits, tr->p, tr->dprobs);
    return loss + (double)lambda * reg / bn;
}

/* Predict the samples idx[0..m) with the current model, no augmentation. */
static void
predict(struct trainer *tr, const int32_t *idx, int64_t m)
{
    struct ckpt_state *s = &tr->state;
    const struct train_job *job = tr->job;
    int bmax = tr->cfg->batch_size;
    int k = s->k;
    for (int64_t at = 0; at < m; at += bmax) {
        int bn = (int)(m - at < bmax ? m - at : bmax);
        dataset_batch(tr->d, idx + at, bn, 0, 0, &s->rng, tr->x, tr->y);
        const float *logits = model_forward(tr->model, tr->x, bn, 0);
        softmax_forward(bn, k, tr->p, logits);
        int dim;
        const float *feat = model_features(tr->model, &dim);
        for (int b = 0; b < bn; b++) {
            memcpy(s->probs + (size_t)idx[at + b] * k, tr->p + (size_t)b * k,
                   (size_t)k * sizeof(float));
            memcpy(s->features + (size_t)idx[at + b] * (size_t)dim,
                   feat + (size_t)b * (size_t)dim, (size_t)dim * sizeof(float));
        }
        if (job->observer != NULL) {
            tr->status.predicting = 1;
            (void)job->observer(job->ctx, &tr->status);
        }
    }
}

/* Stratified folds: each class dealt round-robin in a seeded order. */
static void
assign_folds(struct trainer *tr)
{
    struct ckpt_state *s = &tr->state;
    int64_t n = s->n;
    if (s->folds <= 1) {
        memset(s->fold_of, 0, (size_t)n * sizeof *s->fold_of);
        return;
    }
    int *perm = xmalloc((size_t)n * sizeof *perm);
    rng_permutation(&s->rng, perm, (size_t)n);
    int *next = xcalloc((size_t)s->k, sizeof *next);
    for (int64_t j = 0; j < n; j++) {
        int i = perm[j];
        int y = tr->d->label[i];
        s->fold_of[i] = next[y] % s->folds;
        next[y]++;
    }
    free(next);
    free(perm);
}

/* The training set of the current fold, in a fresh order. */
static void
start_epoch(struct trainer *tr)
{
    struct ckpt_state *s = &tr->state;
    int64_t m = 0;
    for (int64_t i = 0; i < s->n; i++)
        if (s->folds <= 1 || s->fold_of[i] != s->fold)
            s->order[m++] = (int32_t)i;
    s->n_train = m;
    /* Fisher-Yates with the run's generator. */
    for (int64_t i = m - 1; i > 0; i--) {
        int64_t j = rng_below(&s->rng, (uint32_t)(i + 1));
        int32_t t = s->order[i];
        s->order[i] = s->order[j];
        s->order[j] = t;
    }
    s->batch = 0;
    s->loss_sum = 0;
    s->correct = 0;
    s->seen = 0;
}

/* What must match for a checkpoint to fit this run. */
static uint64_t
trainer_key(const struct trainer *tr)
{
    const struct ckpt_state *s = &tr->state;
    uint64_t v[] = {(uint64_t)s->n,
                    (uint64_t)s->k,
                    (uint64_t)s->folds,
                    (uint64_t)tr->cfg->epochs,
                    (uint64_t)tr->cfg->batch_size,
                    tr->cfg->seed,
                    (uint64_t)s->n_params,
                    (uint64_t)(s->target != NULL)};
    return ckpt_key(v, WN_ARRAY_LEN(v));
}

static int
trainer_new_model(struct trainer *tr, char **cause)
{
    const struct dataset *d = tr->d;
    const struct train_config *cfg = tr->cfg;
    struct model_config mc;
    model_config_default(&mc, d->c, d->side, d->side, d->k, cfg->batch_size);
    mc.widths[0] = cfg->width;
    mc.widths[1] = cfg->width * 2;
    mc.widths[2] = cfg->width * 4;
    if (d->side < TRAIN_SIDE_2_STAGES)
        mc.stages = 1;
    else if (d->side < TRAIN_SIDE_3_STAGES)
        mc.stages = 2;
    return model_new(&mc, &tr->model, cause);
}

/* The trainer's arrays, sized by the dataset and the model. */
static void
trainer_alloc(struct trainer *tr)
{
    struct ckpt_state *s = &tr->state;
    const struct dataset *d = tr->d;
    size_t n = (size_t)d->n, k = (size_t)d->k;
    size_t b = (size_t)tr->cfg->batch_size;
    size_t img = (size_t)d->c * (size_t)d->side * (size_t)d->side;
    s->params = model_params(tr->model, &s->n_params);
    s->velocity = model_velocity(tr->model, &s->n_velocity);
    s->order = xcalloc(n, sizeof *s->order);
    s->fold_of = xcalloc(n, sizeof *s->fold_of);
    s->probs = xcalloc(n * k, sizeof *s->probs);
    (void)model_features(tr->model, &s->feat_dim);
    s->features = xcalloc(n * (size_t)s->feat_dim, sizeof *s->features);
    if (s->folds == 1) {
        s->target = xcalloc(n * k, sizeof *s->target);
        s->margin_sum = xcalloc(n, sizeof *s->margin_sum);
        s->margin_n = xcalloc(n, sizeof *s->margin_n);
    }
    tr->x = xcalloc(b * img, sizeof *tr->x);
    tr->y = xcalloc(b, sizeof *tr->y);
    tr->p = xcalloc(b * k, sizeof *tr->p);
    tr->dlogits = xcalloc(b * k, sizeof *tr->dlogits);
    tr->dprobs = xcalloc(b * k, sizeof *tr->dprobs);
    tr->weights = xcalloc(b, sizeof *tr->weights);
}

/* Everything up to the first batch: the model, the buffers, and either the
 * folds of a new run or the state of a resumed one. On failure the
 * trainer still holds only what trainer_fini frees. */
static int
trainer_setup(struct trainer *tr, const struct train_job *job, char **cause)
{
    const struct dataset *d = job->data;
    const struct train_config *cfg = job->cfg;
    struct ckpt_state *s = &tr->state;
    memset(tr, 0, sizeof *tr);
    tr->job = job;
    tr->d = d;
    tr->cfg = cfg;
    if (d->n < 2 || d->k < 2)
        return wn_fail(cause, "too few samples or classes to train");
    if (cfg->epochs < 1 || cfg->batch_size < 2 || cfg->width < 1)
        return wn_fail(cause, "bad training settings");
    s->n = d->n;
    s->k = d->k;
    s->folds = cfg->folds >= 2 ? cfg->folds : 1;
    s->epochs = cfg->epochs;
    if (s->folds > d->n)
        return wn_fail(cause, "more folds (%d) than samples", s->folds);
    gemm_set_threads(cfg->threads > 0 ? cfg->threads : 1);
    if (trainer_new_model(tr, cause) != 0)
        return -1;
    trainer_alloc(tr);
    s->key = trainer_key(tr);
    tr->flop_per_image = model_flops(tr->model);
    tr->opt = (struct optim_sgd){.momentum = cfg->momentum,
                                 .weight_decay = cfg->weight_decay,
                                 .nesterov = 1};
    int64_t per_fold_train =
        s->folds == 1 ? s->n : s->n - s->n / s->folds; /* approximate */
    tr->images_total = per_fold_train * cfg->epochs * s->folds;

    rng_seed(&s->rng, cfg->seed);
    if (job->resume != NULL && job->resume_len > 0) {
        if (ckpt_load(s, job->resume, job->resume_len, cause) != 0)
            return -1;
        tr->model_ready = tr->order_ready = 1;
    } else {
        assign_folds(tr);
    }
    tr->t_start = wn_monotonic();
    tr->images_at_start = s->images_done;
    tr->gflop_at_start = s->gflop;
    return 0;
}

/* One step of SGD on the samples idx[0..bn), step being the batch's
 * number within the fold's schedule of total steps. */
static int
trainer_step(struct trainer *tr, const int32_t *idx, int bn, long step,
             long steps_per_epoch, char **cause)
{
    struct ckpt_state *s = &tr->state;
    const struct train_config *cfg = tr->cfg;
    dataset_batch(tr->d, idx, bn, cfg->crop_pad, cfg->flip, &s->rng, tr->x,
                  tr->y);
    const float *logits = model_forward(tr->model, tr->x, bn, 1);
    double loss = batch_loss(tr, idx, bn, logits);
    if (!isfinite(loss))
        return wn_fail(cause, "training diverged (the loss is not finite)");
    model_backward(tr->model, tr->dlogits);
    float lr = optim_lr_cosine(step, (long)cfg->epochs * steps_per_epoch,
                               (long)cfg->warmup_epochs * steps_per_epoch,
                               cfg->lr, TRAIN_MIN_LR);
    model_sgd_step(tr->model, &tr->opt, lr);
    s->loss_sum += loss * bn;
    s->seen += bn;
    s->images_done += bn;
    s->gflop += tr->flop_per_image * bn * TRAIN_FLOP_TO_GFLOP;
    return 0;
}

/* Tell the observer where the run is; returns its wish to stop. */
static int
trainer_report(struct trainer *tr, int64_t batches)
{
    const struct ckpt_state *s = &tr->state;
    const struct train_job *job = tr->job;
    if (job->observer == NULL)
        return 0;
    double el = wn_monotonic() - tr->t_start;
    double seen = s->seen > 0 ? (double)s->seen : 1.0;
    struct train_status st = {
        .fold = (int)s->fold + 1,
        .folds = s->folds,
        .epoch = (int)s->epoch + 1,
        .epochs = tr->cfg->epochs,
        .batch = s->batch,
        .batches = batches,
        .images_done = s->images_done,
        .images_total = tr->images_total,
        .loss = s->loss_sum / seen,
        .accuracy = s->correct / seen,
        .images_per_sec =
            el > 0 ? (double)(s->images_done - tr->images_at_start) / el : 0,
        .gflops = el > 0 ? (s->gflop - tr->gflop_at_start) / el : 0,
    };
    tr->status = st;
    return job->observer(job->ctx, &st) != 0;
}

/* The rest of the current epoch, from a fresh order unless a resumed one
 * is drawn already. Returns 0 at its end, 1 when the observer asked to
 * stop, -1 on error. */
static int
trainer_epoch(struct trainer *tr, char **cause)
{
    struct ckpt_state *s = &tr->state;
    const struct train_job *job = tr->job;
    if (!tr->order_ready) {
        start_epoch(tr);
        tr->order_ready = 1;
        if (job->checkpoint != NULL && (s->epoch > 0 || s->fold > 0)) {
            void *blob;
            size_t len;
            ckpt_save(s, &blob, &len);
            job->checkpoint(job->ctx, blob, len);
            free(blob);
        }
    }
    int64_t bsz = tr->cfg->batch_size;
    int64_t batches = (s->n_train + bsz - 1) / bsz;
    while (s->batch < batches) {
        int64_t at = s->batch * bsz;
        int bn = (int)(s->n_train - at < bsz ? s->n_train - at : bsz);
        long step = (long)s->epoch * (long)batches + (long)s->batch;
        /* Batch norm needs two samples; a lone last one waits for the
         * next epoch's order. */
        if (bn >= 2 && trainer_step(tr, s->order + at, bn, step, (long)batches,
                                    cause) != 0)
            return -1;
        s->batch++;
        if (trainer_report(tr, batches))
            return 1;
    }
    return 0;
}

/* Every fold's model from where the run is to the end; each held-out fold
 * is predicted as its model finishes. Returns as trainer_epoch. */
static int
trainer_train(struct trainer *tr, char **cause)
{
    struct ckpt_state *s = &tr->state;
    while (s->fold < s->folds) {
        if (!tr->model_ready) {
            model_init(tr->model, &s->rng);
            s->epoch = 0;
            tr->order_ready = 0;
            tr->model_ready = 1;
        }
        while (s->epoch < tr->cfg->epochs) {
            int rc = trainer_epoch(tr, cause);
            if (rc != 0)
                return rc;
            s->epoch++;
            tr->order_ready = 0;
        }
        if (s->folds > 1) {
            /* The held-out fold, judged by a model that never saw it. */
            int32_t *held = xmalloc((size_t)s->n * sizeof *held);
            int64_t m = 0;
            for (int64_t i = 0; i < s->n; i++)
                if (s->fold_of[i] == s->fold)
                    held[m++] = (int32_t)i;
            predict(tr, held, m);
            free(held);
        }
        s->fold++;
        tr->model_ready = 0;
    }
    if (s->folds == 1) {
        int32_t *all = xmalloc((size_t)s->n * sizeof *all);
        for (int64_t i = 0; i < s->n; i++)
            all[i] = (int32_t)i;
        predict(tr, all, s->n);
        free(all);
    }
    return 0;
}

/* Move the evidence from the trainer to out. */
static void
trainer_output(struct trainer *tr, struct train_output *out)
{
    struct ckpt_state *s = &tr->state;
    size_t n = (size_t)s->n;
    memset(out, 0, sizeof *out);
    out->n = s->n;
    out->k = s->k;
    out->probs = s->probs;
    s->probs = NULL;
    out->features = s->features;
    s->features = NULL;
    out->feature_dim = s->feat_dim;
    if (s->folds > 1) {
        out->group = s->fold_of;
        s->fold_of = NULL;
    }
    out->elr_target = s->target;
    s->target = NULL;
    if (s->margin_sum != NULL) {
        out->aum = xcalloc(n, sizeof *out->aum);
        for (size_t i = 0; i < n; i++)
            out->aum[i] = s->margin_n[i] > 0
                              ? (float)(s->margin_sum[i] / s->margin_n[i])
                              : NAN;
    }
    out->train_seconds = wn_monotonic() - tr->t_start;
    out->gflop = s->gflop;
    out->final_loss = s->seen > 0 ? s->loss_sum / (double)s->seen : (double)NAN;
}

static void
trainer_fini(struct trainer *tr)
{
    struct ckpt_state *s = &tr->state;
    model_free(tr->model);
    free(s->order);
    free(s->fold_of);
    free(s->target);
    free(s->margin_sum);
    free(s->margin_n);
    free(s->probs);
    free(s->features);
    free(tr->x);
    free(tr->y);
    free(tr->p);
    free(tr->dlogits);
    free(tr->dprobs);
    free(tr->weights);
}

int
train_run(const struct train_job *job, struct train_output *out,
          void **ckpt_out, size_t *ckpt_len, char **cause)
{
    struct trainer tr;
    int rc = trainer_setup(&tr, job, cause);
    if (rc == 0)
        rc = trainer_train(&tr, cause);
    if (rc == 0)
        trainer_output(&tr, out);
    else if (rc == 1)
        ckpt_save(&tr.state, ckpt_out, ckpt_len);
    trainer_fini(&tr);
    return rc;
}

void
train_output_fini(struct train_output *out)
{
    if (out == NULL)
        return;
    free(out->probs);
    free(out->features);
    free(out->group);
    free(out->elr_target);
    free(out->aum);
    memset(out, 0, sizeof *out);
}
