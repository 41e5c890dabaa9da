/* engine/train.c: the training loop and the evidence it collects.
 *
 * One model, trained by SGD with Nesterov momentum under a cosine schedule,
 * on batches assembled here: each image is cropped at a random offset from
 * a zero-padded copy, flipped at random when that is allowed, and
 * normalised per channel into float. The loss is cross-entropy plus, with
 * ELR (Liu et al., "Early-Learning Regularization Prevents Memorization of
 * Noisy Labels", NeurIPS 2020), lambda * log(1 - <p, t>), where t is each
 * sample's running average of its own predictions: the model keeps
 * agreeing with what it learned early, from the clean majority, rather than
 * memorising the wrong labels later. Labels a person confirmed carry no ELR
 * term: they are trusted as they are.
 *
 * With folds >= 2 the samples are split (stratified by label) and each fold
 * is predicted by a model that never trained on it; otherwise the final
 * model's predictions on its own training data, the ELR targets and the
 * margins over the epochs (AUM, Pleiss et al. 2020) are the evidence.
 *
 * A stop request is honoured at a batch boundary: the checkpoint holds the
 * whole state (weights, momentum, the random generator, the epoch's order,
 * the targets and sums so far), so a resumed run ends bit-identical to one
 * that was never stopped. */
#include "config.h"

#include "engine/train.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/dataset.h"
#include "engine/gemm.h"
#include "engine/layers.h"
#include "engine/model.h"
#include "engine/optim.h"
#include "engine/rng.h"

#define TRAIN_CKPT_MAGIC "WNCKPT02"

void
train_config_default(struct train_config *cfg, int64_t n, int side,
                     int channels)
{
    memset(cfg, 0, sizeof *cfg);
    /* About 450,000 sample-passes: 15 epochs of 30,000 CIFAR images, what
     * fits the ten-minute budget on two cores (BENCHMARKS.md); smaller
     * sets get more epochs, up to 20, and never fewer than 10, since ELR's
     * targets need the early-learning phase to be well over before the
     * scores are read. */
    int epochs = n > 0 ? (int)((450000 + n / 2) / n) : 20;
    cfg->epochs = epochs < 10 ? 10 : epochs > 20 ? 20 : epochs;
    cfg->folds = 1;
    cfg->batch_size = 128;
    cfg->lr = 0.1f; /* measured better than 0.05 at 15 epochs */
    cfg->momentum = 0.9f;
    cfg->weight_decay = 5e-4f;
    cfg->warmup_epochs = 1;
    cfg->elr = 1;
    cfg->elr_lambda = 3.0f;
    cfg->elr_beta = 0.7f;
    cfg->flip = channels == 3;
    cfg->crop_pad = side >= 16 ? side / 8 : 0;
    /* 16/32/64 channels: the 32/64/128 network runs the same sgemm closer
     * to peak, but at 4x the arithmetic it cannot train enough epochs of
     * 30,000 images in ten minutes on two cores; measured, the narrow one
     * finds more wrong labels per CPU-second (BENCHMARKS.md). */
    cfg->width = 16;
    cfg->seed = 1;
    cfg->threads = 1;
}

/* Everything a run carries from batch to batch. */
struct trainer {
    const struct dataset *d;
    const struct train_config *cfg;
    struct model *model;
    struct rng rng;
    int k, folds;
    int64_t n;
    /* Saved in the checkpoint. */
    int fold, epoch;     /* 0-based: current */
    int64_t batch;       /* next batch of the epoch */
    int32_t *order;      /* (N) this epoch's order of the training set */
    int64_t n_train;     /* entries of order in use */
    int32_t *fold_of;    /* (N) */
    float *target;       /* (N, K) ELR targets, or NULL */
    double *margin_sum;  /* (N) AUM sums, or NULL */
    int32_t *margin_n;   /* (N) epochs in each sum */
    float *probs;        /* (N, K) output */
    float *features;     /* (N, feat_dim) output: pooled features */
    int feat_dim;
    /* Scratch. */
    float *x;            /* (B, C, S, S) */
    int *y;              /* (B) */
    float *p, *dlogits, *dprobs; /* (B, K) */
    float *weights;      /* (B) */
    double loss_sum, correct;
    int64_t seen;
    double t_start, flop_per_image, gflop;
    int64_t images_done, images_total;
    train_observer_fn observer;
    void *ctx;
    struct train_status status; /* the last one reported */
};

static void
assemble_batch(struct trainer *tr, const int32_t *idx, int bn, int augment)
{
    const struct dataset *d = tr->d;
    int c = d->c, s = d->side;
    int pad = augment ? tr->cfg->crop_pad : 0;
    size_t plane = (size_t)s * s;
    float scale[3], shift[3];
    for (int ch = 0; ch < c; ch++) {
        scale[ch] = 1.0f / d->std[ch];
        shift[ch] = -d->mean[ch] / d->std[ch];
    }
    for (int b = 0; b < bn; b++) {
        const uint8_t *src = d->pixels + (size_t)idx[b] * (size_t)c * plane;
        float *dst = tr->x + (size_t)b * (size_t)c * plane;
        int dx = 0, dy = 0, flip = 0;
        if (pad > 0) {
            dx = (int)rng_below(&tr->rng, (uint32_t)(2 * pad + 1)) - pad;
            dy = (int)rng_below(&tr->rng, (uint32_t)(2 * pad + 1)) - pad;
        }
        if (augment && tr->cfg->flip)
            flip = (int)(rng_u32(&tr->rng) >> 31);
        for (int ch = 0; ch < c; ch++) {
            const uint8_t *sp = src + (size_t)ch * plane;
            float *dp = dst + (size_t)ch * plane;
            float zero = shift[ch]; /* a padded (black) pixel */
            for (int yy = 0; yy < s; yy++) {
                int sy = yy + dy;
                float *row = dp + (size_t)yy * s;
                if (sy < 0 || sy >= s) {
                    for (int xx = 0; xx < s; xx++)
                        row[xx] = zero;
                    continue;
                }
                const uint8_t *srow = sp + (size_t)sy * s;
                for (int xx = 0; xx < s; xx++) {
                    int sx = (flip ? s - 1 - xx : xx) + dx;
                    row[xx] = sx < 0 || sx >= s
                                  ? zero
                                  : (float)srow[sx] * scale[ch] + shift[ch];
                }
            }
        }
        tr->y[b] = d->label[idx[b]];
    }
}

/* Cross-entropy (+ ELR) gradient for one batch; returns the batch loss. */
static double
batch_loss(struct trainer *tr, const int32_t *idx, int bn,
           const float *logits)
{
    int k = tr->k;
    const struct train_config *cfg = tr->cfg;
    for (int b = 0; b < bn; b++)
        tr->weights[b] = 1.0f;
    double loss = softmax_xent_forward(bn, k, tr->p, NULL, logits, tr->y,
                                       NULL, tr->weights);
    softmax_xent_backward(bn, k, tr->dlogits, tr->p, tr->y, NULL,
                          tr->weights);
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
            tr->correct += 1.0;
        if (tr->margin_sum != NULL) {
            tr->margin_sum[idx[b]] += (double)(z[y] - best);
            tr->margin_n[idx[b]]++;
        }
    }
    if (tr->target == NULL)
        return loss;

    /* The running targets are kept with or without the ELR term: they are
     * a temporal ensemble of the predictions, evidence in their own right.
     * The prediction is clamped away from 0 and 1 as in the paper's code,
     * the target moves towards the renormalised prediction, and the term's
     * gradient flows back through the softmax. */
    const float lo = 1e-4f, hi = 1.0f - 1e-4f;
    float beta = cfg->elr_beta, lambda = cfg->elr ? cfg->elr_lambda : 0.0f;
    double reg = 0;
    memset(tr->dprobs, 0, (size_t)bn * (size_t)k * sizeof *tr->dprobs);
    for (int b = 0; b < bn; b++) {
        int64_t i = idx[b];
        const float *p = tr->p + (size_t)b * k;
        float *t = tr->target + (size_t)i * k;
        float sum = 0;
        for (int j = 0; j < k; j++)
            sum += fminf(fmaxf(p[j], lo), hi);
        float dot = 0;
        for (int j = 0; j < k; j++) {
            float pc = fminf(fmaxf(p[j], lo), hi);
            t[j] = beta * t[j] + (1.0f - beta) * (pc / sum);
            dot += t[j] * pc;
        }
        if (dot > 1.0f - 1e-6f)
            dot = 1.0f - 1e-6f;
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
    int bmax = tr->cfg->batch_size;
    int k = tr->k;
    for (int64_t at = 0; at < m; at += bmax) {
        int bn = (int)(m - at < bmax ? m - at : bmax);
        assemble_batch(tr, idx + at, bn, 0);
        const float *logits = model_forward(tr->model, tr->x, bn, 0);
        softmax_forward(bn, k, tr->p, logits);
        int dim;
        const float *feat = model_features(tr->model, &dim);
        for (int b = 0; b < bn; b++) {
            memcpy(tr->probs + (size_t)idx[at + b] * k,
                   tr->p + (size_t)b * k, (size_t)k * sizeof(float));
            memcpy(tr->features + (size_t)idx[at + b] * (size_t)dim,
                   feat + (size_t)b * (size_t)dim,
                   (size_t)dim * sizeof(float));
        }
        if (tr->observer != NULL) {
            tr->status.predicting = 1;
            (void)tr->observer(tr->ctx, &tr->status);
        }
    }
}

/* Stratified folds: each class dealt round-robin in a seeded order. */
static void
assign_folds(struct trainer *tr)
{
    int64_t n = tr->n;
    if (tr->folds <= 1) {
        memset(tr->fold_of, 0, (size_t)n * sizeof *tr->fold_of);
        return;
    }
    int *perm = xmalloc((size_t)n * sizeof *perm);
    rng_permutation(&tr->rng, perm, (size_t)n);
    int *next = xcalloc((size_t)tr->k, sizeof *next);
    for (int64_t j = 0; j < n; j++) {
        int i = perm[j];
        int y = tr->d->label[i];
        tr->fold_of[i] = next[y] % tr->folds;
        next[y]++;
    }
    free(next);
    free(perm);
}

/* The training set of the current fold, in a fresh order. */
static void
start_epoch(struct trainer *tr)
{
    int64_t m = 0;
    for (int64_t i = 0; i < tr->n; i++)
        if (tr->folds <= 1 || tr->fold_of[i] != tr->fold)
            tr->order[m++] = (int32_t)i;
    tr->n_train = m;
    /* Fisher-Yates with the run's generator. */
    for (int64_t i = m - 1; i > 0; i--) {
        int64_t j = rng_below(&tr->rng, (uint32_t)(i + 1));
        int32_t t = tr->order[i];
        tr->order[i] = tr->order[j];
        tr->order[j] = t;
    }
    tr->batch = 0;
    tr->loss_sum = 0;
    tr->correct = 0;
    tr->seen = 0;
}

static void
new_model(struct trainer *tr)
{
    model_init(tr->model, &tr->rng);
}

/* ---- checkpoints: a flat little-endian image of the state ---- */

struct ckpt_writer {
    unsigned char *buf;
    size_t len, cap;
};

static void
ck_put(struct ckpt_writer *w, const void *p, size_t n)
{
    wn_grow(&w->buf, 1, &w->cap, w->len + n);
    memcpy(w->buf + w->len, p, n);
    w->len += n;
}

struct ckpt_reader {
    const unsigned char *p;
    size_t left;
};

static int
ck_get(struct ckpt_reader *r, void *out, size_t n)
{
    if (r->left < n)
        return -1;
    memcpy(out, r->p, n);
    r->p += n;
    r->left -= n;
    return 0;
}

/* What must match for a checkpoint to fit this run. */
static uint64_t
ckpt_key(const struct trainer *tr)
{
    size_t np;
    model_params(tr->model, &np);
    uint64_t h = 1469598103934665603ull;
    uint64_t v[] = {(uint64_t)tr->n, (uint64_t)tr->k, (uint64_t)tr->folds,
                    (uint64_t)tr->cfg->epochs, (uint64_t)tr->cfg->batch_size,
                    tr->cfg->seed, (uint64_t)np, (uint64_t)(tr->target != NULL)};
    for (size_t i = 0; i < WN_ARRAY_LEN(v); i++) {
        h ^= v[i];
        h *= 1099511628211ull;
    }
    return h;
}

static void
ckpt_save(struct trainer *tr, void **out, size_t *len)
{
    struct ckpt_writer w = {0};
    size_t np, nv;
    float *params = model_params(tr->model, &np);
    float *vel = model_velocity(tr->model, &nv);
    uint64_t key = ckpt_key(tr);
    int64_t hdr[4] = {tr->fold, tr->epoch, tr->batch, tr->n_train};
    size_t nk = (size_t)tr->n * (size_t)tr->k;
    ck_put(&w, TRAIN_CKPT_MAGIC, 8);
    ck_put(&w, &key, sizeof key);
    ck_put(&w, hdr, sizeof hdr);
    ck_put(&w, &tr->rng, sizeof tr->rng);
    ck_put(&w, &tr->loss_sum, sizeof tr->loss_sum);
    ck_put(&w, &tr->correct, sizeof tr->correct);
    ck_put(&w, &tr->seen, sizeof tr->seen);
    ck_put(&w, &tr->images_done, sizeof tr->images_done);
    ck_put(&w, &tr->gflop, sizeof tr->gflop);
    ck_put(&w, params, np * sizeof *params);
    ck_put(&w, vel, nv * sizeof *vel);
    ck_put(&w, tr->order, (size_t)tr->n * sizeof *tr->order);
    ck_put(&w, tr->fold_of, (size_t)tr->n * sizeof *tr->fold_of);
    /* Predictions and features exist mid-run only for finished folds;
     * one model makes them all at the end. */
    if (tr->folds > 1) {
        ck_put(&w, tr->probs, nk * sizeof *tr->probs);
        ck_put(&w, tr->features,
               (size_t)tr->n * (size_t)tr->feat_dim * sizeof *tr->features);
    }
    if (tr->target != NULL)
        ck_put(&w, tr->target, nk * sizeof *tr->target);
    if (tr->margin_sum != NULL) {
        ck_put(&w, tr->margin_sum, (size_t)tr->n * sizeof *tr->margin_sum);
        ck_put(&w, tr->margin_n, (size_t)tr->n * sizeof *tr->margin_n);
    }
    *out = w.buf;
    *len = w.len;
}

static int
ckpt_load(struct trainer *tr, const void *blob, size_t len, char **cause)
{
    struct ckpt_reader r = {blob, len};
    char magic[8];
    uint64_t key;
    int64_t hdr[4];
    size_t np, nv;
    float *params = model_params(tr->model, &np);
    float *vel = model_velocity(tr->model, &nv);
    size_t nk = (size_t)tr->n * (size_t)tr->k;
    if (ck_get(&r, magic, 8) != 0 || memcmp(magic, TRAIN_CKPT_MAGIC, 8) != 0)
        return wn_fail(cause, "checkpoint: not a winnow checkpoint");
    if (ck_get(&r, &key, sizeof key) != 0 || key != ckpt_key(tr))
        return wn_fail(cause, "checkpoint: made for other samples or "
                              "settings");
    int bad = ck_get(&r, hdr, sizeof hdr) != 0 ||
              ck_get(&r, &tr->rng, sizeof tr->rng) != 0 ||
              ck_get(&r, &tr->loss_sum, sizeof tr->loss_sum) != 0 ||
              ck_get(&r, &tr->correct, sizeof tr->correct) != 0 ||
              ck_get(&r, &tr->seen, sizeof tr->seen) != 0 ||
              ck_get(&r, &tr->images_done, sizeof tr->images_done) != 0 ||
              ck_get(&r, &tr->gflop, sizeof tr->gflop) != 0 ||
              ck_get(&r, params, np * sizeof *params) != 0 ||
              ck_get(&r, vel, nv * sizeof *vel) != 0 ||
              ck_get(&r, tr->order, (size_t)tr->n * sizeof *tr->order) != 0 ||
              ck_get(&r, tr->fold_of, (size_t)tr->n * sizeof *tr->fold_of) !=
                  0;
    if (!bad && tr->folds > 1)
        bad = ck_get(&r, tr->probs, nk * sizeof *tr->probs) != 0 ||
              ck_get(&r, tr->features, (size_t)tr->n * (size_t)tr->feat_dim *
                                           sizeof *tr->features) != 0;
    if (!bad && tr->target != NULL)
        bad = ck_get(&r, tr->target, nk * sizeof *tr->target) != 0;
    if (!bad && tr->margin_sum != NULL)
        bad = ck_get(&r, tr->margin_sum,
                     (size_t)tr->n * sizeof *tr->margin_sum) != 0 ||
              ck_get(&r, tr->margin_n, (size_t)tr->n * sizeof *tr->margin_n) !=
                  0;
    if (bad || r.left != 0 || hdr[0] < 0 || hdr[0] >= tr->folds ||
        hdr[1] < 0 || hdr[1] >= tr->cfg->epochs || hdr[2] < 0 ||
        hdr[3] < 0 || hdr[3] > tr->n)
        return wn_fail(cause, "checkpoint: truncated or damaged");
    tr->fold = (int)hdr[0];
    tr->epoch = (int)hdr[1];
    tr->batch = hdr[2];
    tr->n_train = hdr[3];
    for (int64_t i = 0; i < tr->n_train; i++)
        if (tr->order[i] < 0 || tr->order[i] >= tr->n)
            return wn_fail(cause, "checkpoint: truncated or damaged");
    return 0;
}

static void
trainer_fini(struct trainer *tr)
{
    model_free(tr->model);
    free(tr->order);
    free(tr->fold_of);
    free(tr->target);
    free(tr->margin_sum);
    free(tr->margin_n);
    free(tr->probs);
    free(tr->features);
    free(tr->x);
    free(tr->y);
    free(tr->p);
    free(tr->dlogits);
    free(tr->dprobs);
    free(tr->weights);
}

int
train_run(const struct dataset *d, const struct train_config *cfg,
          train_observer_fn observer, train_checkpoint_fn checkpoint,
          void *ctx, const void *resume,
          size_t resume_len, struct train_output *out, void **ckpt_out,
          size_t *ckpt_len, char **cause)
{
    if (d->n < 2 || d->k < 2)
        return wn_fail(cause, "too few samples or classes to train");
    if (cfg->epochs < 1 || cfg->batch_size < 2 || cfg->width < 1)
        return wn_fail(cause, "bad training settings");
    struct trainer tr;
    memset(&tr, 0, sizeof tr);
    tr.d = d;
    tr.cfg = cfg;
    tr.n = d->n;
    tr.k = d->k;
    tr.folds = cfg->folds >= 2 ? cfg->folds : 1;
    tr.observer = observer;
    tr.ctx = ctx;
    if (tr.folds > d->n)
        return wn_fail(cause, "more folds (%d) than samples", tr.folds);
    gemm_set_threads(cfg->threads > 0 ? cfg->threads : 1);

    struct model_config mc;
    model_config_default(&mc, d->c, d->side, d->side, d->k, cfg->batch_size);
    mc.widths[0] = cfg->width;
    mc.widths[1] = cfg->width * 2;
    mc.widths[2] = cfg->width * 4;
    /* Tiny inputs cannot take three poolings. */
    if (d->side < 8)
        mc.stages = 1;
    else if (d->side < 16)
        mc.stages = 2;
    if (model_new(&mc, &tr.model, cause) != 0)
        return -1;

    size_t n = (size_t)d->n, k = (size_t)d->k, b = (size_t)cfg->batch_size;
    size_t img = (size_t)d->c * (size_t)d->side * (size_t)d->side;
    tr.order = xcalloc(n, sizeof *tr.order);
    tr.fold_of = xcalloc(n, sizeof *tr.fold_of);
    tr.probs = xcalloc(n * k, sizeof *tr.probs);
    (void)model_features(tr.model, &tr.feat_dim);
    tr.features = xcalloc(n * (size_t)tr.feat_dim, sizeof *tr.features);
    if (tr.folds == 1)
        tr.target = xcalloc(n * k, sizeof *tr.target);
    if (tr.folds == 1) {
        tr.margin_sum = xcalloc(n, sizeof *tr.margin_sum);
        tr.margin_n = xcalloc(n, sizeof *tr.margin_n);
    }
    tr.x = xcalloc(b * img, sizeof *tr.x);
    tr.y = xcalloc(b, sizeof *tr.y);
    tr.p = xcalloc(b * k, sizeof *tr.p);
    tr.dlogits = xcalloc(b * k, sizeof *tr.dlogits);
    tr.dprobs = xcalloc(b * k, sizeof *tr.dprobs);
    tr.weights = xcalloc(b, sizeof *tr.weights);
    tr.flop_per_image = model_flops(tr.model);

    int64_t per_fold_train =
        tr.folds == 1 ? tr.n : tr.n - tr.n / tr.folds; /* approximate */
    tr.images_total = per_fold_train * cfg->epochs * tr.folds;

    rng_seed(&tr.rng, cfg->seed);
    /* model_ready: the current fold's model exists; order_ready: the
     * current epoch's order is drawn. A checkpoint is taken with both. */
    int model_ready = 0, order_ready = 0;
    if (resume != NULL && resume_len > 0) {
        if (ckpt_load(&tr, resume, resume_len, cause) != 0) {
            trainer_fini(&tr);
            return -1;
        }
        model_ready = order_ready = 1;
    } else {
        assign_folds(&tr);
    }

    struct optim_sgd opt = {.momentum = cfg->momentum,
                            .weight_decay = cfg->weight_decay,
                            .nesterov = 1};
    tr.t_start = wn_monotonic();
    int64_t images_at_start = tr.images_done;
    double gflop_at_start = tr.gflop;
    int64_t bsz = (int64_t)b;
    while (tr.fold < tr.folds) {
        if (!model_ready) {
            new_model(&tr);
            tr.epoch = 0;
            order_ready = 0;
            model_ready = 1;
        }
        while (tr.epoch < cfg->epochs) {
            if (!order_ready) {
                start_epoch(&tr);
                order_ready = 1;
                if (checkpoint != NULL && (tr.epoch > 0 || tr.fold > 0)) {
                    void *blob;
                    size_t len;
                    ckpt_save(&tr, &blob, &len);
                    checkpoint(ctx, blob, len);
                    free(blob);
                }
            }
            int64_t batches = (tr.n_train + bsz - 1) / bsz;
            long steps = (long)batches;
            while (tr.batch < batches) {
                int64_t at = tr.batch * bsz;
                int bn = (int)(tr.n_train - at < bsz ? tr.n_train - at : bsz);
                const int32_t *idx = tr.order + at;
                /* Batch norm needs two samples; a lone last one waits for
                 * the next epoch's order. */
                if (bn >= 2) {
                    assemble_batch(&tr, idx, bn, 1);
                    const float *logits = model_forward(tr.model, tr.x, bn, 1);
                    double loss = batch_loss(&tr, idx, bn, logits);
                    if (!isfinite(loss)) {
                        trainer_fini(&tr);
                        return wn_fail(cause, "training diverged (the loss "
                                              "is not finite)");
                    }
                    model_backward(tr.model, tr.dlogits);
                    long step = (long)tr.epoch * steps + (long)tr.batch;
                    float lr = optim_lr_cosine(
                        step, (long)cfg->epochs * steps,
                        (long)cfg->warmup_epochs * steps, cfg->lr, 0.0f);
                    model_sgd_step(tr.model, &opt, lr);
                    tr.loss_sum += loss * bn;
                    tr.seen += bn;
                    tr.images_done += bn;
                    tr.gflop += tr.flop_per_image * bn * 1e-9;
                }
                tr.batch++;
                if (observer == NULL)
                    continue;
                double el = wn_monotonic() - tr.t_start;
                double seen = tr.seen > 0 ? (double)tr.seen : 1.0;
                struct train_status st = {
                    .fold = tr.fold + 1,
                    .folds = tr.folds,
                    .epoch = tr.epoch + 1,
                    .epochs = cfg->epochs,
                    .batch = tr.batch,
                    .batches = batches,
                    .images_done = tr.images_done,
                    .images_total = tr.images_total,
                    .loss = tr.loss_sum / seen,
                    .accuracy = tr.correct / seen,
                    .images_per_sec =
                        el > 0 ? (double)(tr.images_done - images_at_start) /
                                     el
                               : 0,
                    .gflops = el > 0 ? (tr.gflop - gflop_at_start) / el : 0,
                };
                tr.status = st;
                if (observer(ctx, &st) != 0) {
                    ckpt_save(&tr, ckpt_out, ckpt_len);
                    trainer_fini(&tr);
                    return 1;
                }
            }
            tr.epoch++;
            order_ready = 0;
        }
        if (tr.folds > 1) {
            /* The held-out fold, judged by a model that never saw it. */
            int32_t *held = xmalloc(n * sizeof *held);
            int64_t m = 0;
            for (int64_t i = 0; i < tr.n; i++)
                if (tr.fold_of[i] == tr.fold)
                    held[m++] = (int32_t)i;
            predict(&tr, held, m);
            free(held);
        }
        tr.fold++;
        model_ready = 0;
    }
    if (tr.folds == 1) {
        int32_t *all = xmalloc(n * sizeof *all);
        for (size_t i = 0; i < n; i++)
            all[i] = (int32_t)i;
        predict(&tr, all, tr.n);
        free(all);
    }

    memset(out, 0, sizeof *out);
    out->n = tr.n;
    out->k = tr.k;
    out->probs = tr.probs;
    tr.probs = NULL;
    out->features = tr.features;
    tr.features = NULL;
    out->feature_dim = tr.feat_dim;
    if (tr.folds > 1) {
        out->group = tr.fold_of;
        tr.fold_of = NULL;
    }
    out->elr_target = tr.target;
    tr.target = NULL;
    if (tr.margin_sum != NULL) {
        out->aum = xcalloc(n, sizeof *out->aum);
        for (size_t i = 0; i < n; i++)
            out->aum[i] = tr.margin_n[i] > 0
                              ? (float)(tr.margin_sum[i] / tr.margin_n[i])
                              : NAN;
    }
    out->train_seconds = wn_monotonic() - tr.t_start;
    out->gflop = tr.gflop;
    out->final_loss = tr.seen > 0 ? tr.loss_sum / (double)tr.seen : (double)NAN;
    trainer_fini(&tr);
    return 0;
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
