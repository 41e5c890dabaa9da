/* engine/model.c: wiring of the CNN over engine/layers.c.
 *
 * model_new lays out every tensor in two passes of one function: the first
 * pass (base NULL) only adds up offsets, the second points the tensors into
 * the blocks, so sizes and pointers cannot disagree. Offsets are rounded to
 * 16 floats, so every tensor starts on a 64-byte line.
 *
 * Parameter order is what the optimizer needs: weights that take weight
 * decay, then batch-norm scales and shifts and the classifier bias, then
 * the running statistics, which are saved but not trained.
 *
 * The forward keeps, per conv layer, the convolution output z (the batch
 * norm's input, from which its backward recomputes the normalised values
 * and the ReLU mask) and the activation a (the next layer's input); per
 * stage, the pooled output. The backward runs through two ping-pong
 * gradient buffers the size of the largest activation, batch norm working
 * in place.
 *
 * A team of threads (engine/par.h, sized by gemm_set_threads) shares each
 * batch by images: one phase per convolution layer, in which each member
 * finishes the previous layer (batch norm, ReLU, pooling) on its images,
 * convolves them with single-threaded sgemm, and takes their per-plane
 * batch-norm sums; between phases the calling thread reduces the sums. Two
 * members each running their own products keep both cores busy on shapes
 * that OpenBLAS splits poorly (32 output channels), and they share the
 * memory-bound kernels too, which a BLAS-level split would leave on one
 * core. See the phases below. */
#include "config.h"

#include "engine/model.h"

#include <assert.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/gemm.h"
#include "engine/layers.h"
#include "engine/optim.h"
#include "engine/par.h"
#include "engine/rng.h"

#define MODEL_ALIGN          16                            /* floats */
#define MODEL_ALIGN_BYTES    (MODEL_ALIGN * sizeof(float)) /* a cache line */
/* Every convolution is 3x3, stride 1, padded to keep the plane's size:
 * the pools alone shrink it. */
#define MODEL_KSIZE          3
#define MODEL_STRIDE         1
#define MODEL_PAD            1
/* The default network (model_config_default): channels double at each
 * stage; batch norm with PyTorch's defaults. */
#define MODEL_DEFAULT_STAGES 3
#define MODEL_DEFAULT_WIDTH  32 /* of the first stage */
#define MODEL_DEFAULT_CONVS  2  /* per stage */
#define MODEL_BN_EPS         1e-5f
#define MODEL_BN_MOMENTUM    0.1f

struct model_conv {
    struct conv_geom geom;
    int stage, first, last; /* its stage; first or last conv of it */
    float *w, *gamma, *beta, *run_mean, *run_var; /* params */
    float *dw, *dgamma, *dbeta;                   /* grads */
    float *z, *a;        /* (N, C, H, W): conv output, BN+ReLU output */
    float *mean, *var;   /* (C) batch statistics */
    float *coef, *gcoef; /* (C, 2), (C, 3): BN forward, backward */
};

struct model_pool {
    int c, h, w; /* input size; output is h/2 x w/2 */
    float *out;
};

/* CPU seconds of the timed training steps (model_profile_start), all
 * members together: on cores shared with other programs, wall time
 * measures the neighbours as much as the step. */
struct model_prof {
    int on;
    long steps, images;
    double fwd[MODEL_MAX_STAGES * MODEL_MAX_CONVS];
    double bwd[MODEL_MAX_STAGES * MODEL_MAX_CONVS];
    double head_fwd, head_bwd;   /* pooling to logits and back */
    double grad_sum;             /* the members' gradients added up */
    double total_fwd, total_bwd; /* whole calls: the rest is serial */
    double sgd;
};

struct model {
    struct model_config cfg;
    int n_convs;
    struct model_conv convs[MODEL_MAX_STAGES * MODEL_MAX_CONVS];
    struct model_pool pools[MODEL_MAX_STAGES];
    int feat, feat_hw; /* classifier input: channels, pooled plane size */
    float *fc_w, *fc_b, *dfc_w, *dfc_b;
    float *gap, *logits, *dgap; /* (N, feat), (N, K), (N, feat) */
    float *gbuf[2];             /* (N, largest activation) each */
    float *dpool;               /* (N, largest pooled activation) */
    double *sums;               /* (N, largest C, 3) per-plane BN sums */

    struct par *team;
    int threads;
    float *work; /* threads x work_each: conv scratch */
    size_t work_each;
    float *tgrads; /* (threads - 1) x n_train: other members' dW */

    float *params, *grads, *velocity, *acts;
    size_t n_params, n_train, n_decay, n_acts, n_convw;

    const float *x; /* input of the running or last training forward */
    int n;          /* its batch size, 0 if none */

    struct model_prof prof;
};

/* A cursor over one block: take() returns the next tensor (NULL while
 * sizing) and records overflow. */
struct model_cursor {
    float *base;
    size_t used;
    int overflow;
};

static float *
model_take(struct model_cursor *cur, size_t a, size_t b)
{
    size_t n, at = cur->used;

    if (wn_mul_size(a, b, &n) == -1 || n > SIZE_MAX - at - MODEL_ALIGN) {
        cur->overflow = 1;
        return NULL;
    }
    n = (n + MODEL_ALIGN - 1) / MODEL_ALIGN * MODEL_ALIGN;
    cur->used = at + n;
    return cur->base != NULL ? cur->base + at : NULL;
}

static size_t
model_max(size_t a, size_t b)
{
    return a > b ? a : b;
}

/* Point every tensor into the blocks (or, with NULL blocks, size them). */
static void
model_layout(struct model *m, struct model_cursor *p, struct model_cursor *g,
             struct model_cursor *t)
{
    const struct model_config *cfg = &m->cfg;
    size_t nb = (size_t)cfg->max_batch, biggest = 0, pooled = 0, work = 0;
    size_t max_c = (size_t)m->feat;
    int li, slice = (cfg->max_batch + m->threads - 1) / m->threads;

    /* Weights that decay: convolutions first (the members' private
     * gradients cover exactly this range), then the classifier. */
    for (li = 0; li < m->n_convs; li++) {
        struct model_conv *L = &m->convs[li];
        size_t k = (size_t)L->geom.c_in * MODEL_KSIZE * MODEL_KSIZE;
        L->w = model_take(p, (size_t)L->geom.c_out, k);
        L->dw = model_take(g, (size_t)L->geom.c_out, k);
    }
    m->n_convw = p->used;
    m->fc_w = model_take(p, (size_t)cfg->classes, (size_t)m->feat);
    m->dfc_w = model_take(g, (size_t)cfg->classes, (size_t)m->feat);
    m->n_decay = p->used;
    /* Trainable without decay. */
    for (li = 0; li < m->n_convs; li++) {
        struct model_conv *L = &m->convs[li];
        L->gamma = model_take(p, 1, (size_t)L->geom.c_out);
        L->beta = model_take(p, 1, (size_t)L->geom.c_out);
        L->dgamma = model_take(g, 1, (size_t)L->geom.c_out);
        L->dbeta = model_take(g, 1, (size_t)L->geom.c_out);
    }
    m->fc_b = model_take(p, 1, (size_t)cfg->classes);
    m->dfc_b = model_take(g, 1, (size_t)cfg->classes);
    m->n_train = p->used;
    /* Saved, not trained. */
    for (li = 0; li < m->n_convs; li++) {
        struct model_conv *L = &m->convs[li];
        L->run_mean = model_take(p, 1, (size_t)L->geom.c_out);
        L->run_var = model_take(p, 1, (size_t)L->geom.c_out);
    }

    /* Activations and scratch. */
    for (li = 0; li < m->n_convs; li++) {
        struct model_conv *L = &m->convs[li];
        size_t c = (size_t)L->geom.c_out;
        size_t img = c * L->geom.h_out * L->geom.w_out;
        size_t cw = conv_work_floats(&L->geom, slice);
        L->z = model_take(t, nb, img);
        L->a = model_take(t, nb, img);
        L->mean = model_take(t, 1, c);
        L->var = model_take(t, 1, c);
        L->coef = model_take(t, 2, c);
        L->gcoef = model_take(t, 3, c);
        biggest = model_max(biggest, img);
        max_c = model_max(max_c, c);
        if (cw == 0)
            t->overflow = 1;
        work = model_max(work, cw);
    }
    for (int s = 0; s < cfg->stages; s++) {
        struct model_pool *P = &m->pools[s];
        size_t img = (size_t)P->c * (P->h / 2) * (P->w / 2);
        P->out = model_take(t, nb, img);
        pooled = model_max(pooled, img);
    }
    m->gap = model_take(t, nb, (size_t)m->feat);
    m->dgap = model_take(t, nb, (size_t)m->feat);
    m->logits = model_take(t, nb, (size_t)cfg->classes);
    m->gbuf[0] = model_take(t, nb, biggest);
    m->gbuf[1] = model_take(t, nb, biggest);
    m->dpool = model_take(t, nb, pooled);
    /* Doubles: two floats each, and the cursor keeps 64-byte alignment. */
    m->sums = (double *)(void *)model_take(t, 6 * nb, max_c);
    m->work_each = (work + MODEL_ALIGN - 1) / MODEL_ALIGN * MODEL_ALIGN;
    m->work = model_take(t, (size_t)m->threads, m->work_each);
    m->tgrads = model_take(t, (size_t)m->threads - 1, g->used);
}

void
model_config_default(struct model_config *cfg, int channels, int height,
                     int width, int classes, int max_batch)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->channels = channels;
    cfg->height = height;
    cfg->width = width;
    cfg->classes = classes;
    cfg->stages = MODEL_DEFAULT_STAGES;
    for (int s = 0; s < MODEL_DEFAULT_STAGES; s++)
        cfg->widths[s] = MODEL_DEFAULT_WIDTH << s;
    cfg->convs_per_stage = MODEL_DEFAULT_CONVS;
    cfg->max_batch = max_batch;
    cfg->bn_eps = MODEL_BN_EPS;
    cfg->bn_momentum = MODEL_BN_MOMENTUM;
}

static float *
model_alloc(size_t floats, char **cause)
{
    size_t bytes;
    void *p;

    if (wn_mul_size(floats ? floats : 1, sizeof(float), &bytes) == -1 ||
        bytes > SIZE_MAX - (MODEL_ALIGN_BYTES - 1)) {
        wn_fail(cause, "model too large");
        return NULL;
    }
    bytes =
        (bytes + MODEL_ALIGN_BYTES - 1) / MODEL_ALIGN_BYTES * MODEL_ALIGN_BYTES;
    p = aligned_alloc(MODEL_ALIGN_BYTES, bytes);
    if (p == NULL)
        wn_fail(cause, "cannot allocate %zu bytes for the model", bytes);
    return p;
}

int
model_new(const struct model_config *cfg, struct model **out, char **cause)
{
    struct model *m;
    struct model_cursor p = {0}, g = {0}, t = {0};
    int c, h, w;

    *out = NULL;
    if (cfg->channels < 1 || cfg->height < 1 || cfg->width < 1)
        return wn_fail(cause, "bad input size %dx%dx%d", cfg->channels,
                       cfg->height, cfg->width);
    if (cfg->classes < 2)
        return wn_fail(cause, "need at least 2 classes, got %d", cfg->classes);
    if (cfg->stages < 1 || cfg->stages > MODEL_MAX_STAGES ||
        cfg->convs_per_stage < 1 || cfg->convs_per_stage > MODEL_MAX_CONVS)
        return wn_fail(cause, "bad network depth %d x %d", cfg->stages,
                       cfg->convs_per_stage);
    if (cfg->max_batch < 1)
        return wn_fail(cause, "bad batch size %d", cfg->max_batch);
    if (!(cfg->bn_eps > 0.0f) || !(cfg->bn_momentum >= 0.0f) ||
        !(cfg->bn_momentum <= 1.0f))
        return wn_fail(cause, "bad batch-norm settings");

    m = xcalloc(1, sizeof(*m));
    m->cfg = *cfg;
    m->threads = gemm_threads();
    if (m->threads > cfg->max_batch)
        m->threads = cfg->max_batch;
    c = cfg->channels;
    h = cfg->height;
    w = cfg->width;
    for (int s = 0; s < cfg->stages; s++) {
        if (cfg->widths[s] < 1 || h < 2 || w < 2) {
            wn_fail(cause, "%dx%d images are too small for %d stages",
                    cfg->height, cfg->width, cfg->stages);
            goto fail;
        }
        for (int k = 0; k < cfg->convs_per_stage; k++) {
            struct model_conv *L = &m->convs[m->n_convs++];
            if (conv_geom_init(&L->geom, c, h, w, cfg->widths[s], MODEL_KSIZE,
                               MODEL_STRIDE, MODEL_PAD) == -1) {
                wn_fail(cause, "bad convolution size");
                goto fail;
            }
            L->stage = s;
            L->first = k == 0;
            L->last = k == cfg->convs_per_stage - 1;
            c = cfg->widths[s];
        }
        m->pools[s].c = c;
        m->pools[s].h = h;
        m->pools[s].w = w;
        h /= 2;
        w /= 2;
    }
    m->feat = c;
    m->feat_hw = h * w;

    model_layout(m, &p, &g, &t);
    if (p.overflow || g.overflow || t.overflow) {
        wn_fail(cause, "model too large for batches of %d", cfg->max_batch);
        goto fail;
    }
    m->n_params = p.used;
    m->n_acts = t.used;
    if ((p.base = model_alloc(p.used, cause)) == NULL ||
        (g.base = model_alloc(g.used, cause)) == NULL ||
        (m->velocity = model_alloc(m->n_train, cause)) == NULL ||
        (t.base = model_alloc(t.used, cause)) == NULL) {
        free(p.base);
        free(g.base);
        goto fail;
    }
    m->params = p.base;
    m->grads = g.base;
    m->acts = t.base;
    p.used = g.used = t.used = 0;
    model_layout(m, &p, &g, &t);
    assert(p.used == m->n_params && t.used == m->n_acts);
    if (par_new(m->threads, &m->team, cause) == -1) {
        free(m->params);
        free(m->grads);
        free(m->acts);
        goto fail;
    }
    /* Padding between tensors is never written by a kernel; clear it once
     * so a checkpoint's bytes depend on the weights alone. */
    memset(m->params, 0, sizeof(float) * m->n_params);
    memset(m->grads, 0, sizeof(float) * m->n_train);
    memset(m->velocity, 0, sizeof(float) * m->n_train);
    if (getenv("WINNOW_PROFILE") != NULL)
        model_profile_start(m);
    *out = m;
    return 0;

fail:
    free(m->velocity);
    free(m);
    return -1;
}

void
model_free(struct model *m)
{
    if (m == NULL)
        return;
    if (m->prof.on && getenv("WINNOW_PROFILE") != NULL)
        model_profile_print(m, stderr);
    par_free(m->team);
    free(m->params);
    free(m->grads);
    free(m->velocity);
    free(m->acts);
    free(m);
}

const struct model_config *
model_config(const struct model *m)
{
    return &m->cfg;
}

int
model_threads(const struct model *m)
{
    return m->threads;
}

void
model_init(struct model *m, struct rng *r)
{
    for (int li = 0; li < m->n_convs; li++) {
        struct model_conv *L = &m->convs[li];
        int c = L->geom.c_out;
        int fan_in = L->geom.c_in * MODEL_KSIZE * MODEL_KSIZE;
        layers_init_he(r, L->w, (size_t)c * fan_in, fan_in);
        for (int j = 0; j < c; j++) {
            L->gamma[j] = 1.0f;
            L->beta[j] = 0.0f;
            L->run_mean[j] = 0.0f;
            L->run_var[j] = 1.0f;
        }
    }
    /* The classifier has no ReLU after it: variance 1 / fan_in. */
    rng_fill_normal(r, m->fc_w, (size_t)m->cfg.classes * m->feat, 0.0f,
                    1.0f / sqrtf((float)m->feat));
    memset(m->fc_b, 0, sizeof(float) * (size_t)m->cfg.classes);
    memset(m->grads, 0, sizeof(float) * m->n_train);
    memset(m->velocity, 0, sizeof(float) * m->n_train);
    m->n = 0;
}

/* --- the phases ------------------------------------------------------------
 *
 * Each phase runs on every member of the team over its own contiguous run of
 * images, and ends where the next step needs the whole batch: the batch-norm
 * reductions, done by the caller between phases. A member's run is fixed by
 * n and the team size, and everything a member computes depends on its
 * images alone, except the convolution weight gradients, which each member
 * sums over its images (member 0 into the model's gradient block, the
 * others into private blocks added in member order at the end). */

enum model_phase {
    MODEL_FORWARD,      /* finish conv layer-1, run conv layer */
    MODEL_FORWARD_END,  /* finish the last conv, pool, average */
    MODEL_BACKWARD_TOP, /* average and pool backward, sums of the last */
    MODEL_BACKWARD,     /* conv layer backward, sums of layer-1 */
    MODEL_BACKWARD_END, /* conv 0 backward */
    MODEL_GRAD_SUM      /* the members' weight gradients into the model's */
};

struct model_job {
    struct model *m;
    enum model_phase phase;
    int layer, n, train;
};

/* Plane sizes, for offsets into a run of images. */
static size_t
model_conv_img(const struct model_conv *L)
{
    return (size_t)L->geom.c_out * L->geom.h_out * L->geom.w_out;
}

static size_t
model_in_img(const struct model_conv *L)
{
    return (size_t)L->geom.c_in * L->geom.h * L->geom.w;
}

static size_t
model_pool_img(const struct model_pool *P)
{
    return (size_t)P->c * (P->h / 2) * (P->w / 2);
}

/* The input of conv layer li: the image batch, a pooled output, or the
 * previous layer's activation. */
static const float *
model_conv_input(const struct model *m, int li)
{
    const struct model_conv *L = &m->convs[li];

    if (li == 0)
        return m->x;
    if (L->first)
        return m->pools[L->stage - 1].out;
    return m->convs[li - 1].a;
}

/* Batch norm and ReLU of layer li, then its stage's pooling if it ends
 * one, for images [lo, lo + cnt). */
static void
model_finish(struct model *m, int li, int lo, int cnt)
{
    struct model_conv *L = &m->convs[li];
    size_t img = model_conv_img(L), off = (size_t)lo * img;
    int hw = L->geom.h_out * L->geom.w_out;

    batchnorm_apply(cnt, L->geom.c_out, hw, L->a + off, L->z + off, L->coef, 1);
    if (L->last) {
        struct model_pool *P = &m->pools[L->stage];
        maxpool2_forward(cnt, P->c, P->h, P->w,
                         P->out + (size_t)lo * model_pool_img(P), L->a + off);
    }
}

/* The batch-norm gradient sums of layer li for images [lo, lo + cnt),
 * given d(activation) in gbuf[li & 1]. */
static void
model_bn_sums(struct model *m, int li, int lo, int cnt)
{
    struct model_conv *L = &m->convs[li];
    size_t img = model_conv_img(L), off = (size_t)lo * img;
    int c = L->geom.c_out, hw = L->geom.h_out * L->geom.w_out;

    batchnorm_plane_grads(cnt, c, hw, m->sums + (size_t)lo * c * 2,
                          m->gbuf[li & 1] + off, L->z + off, L->mean, L->coef,
                          1);
}

/* One member's work in a phase for images [lo, lo + cnt). */
static void
model_job_range(const struct model_job *job, int t, int lo, int cnt)
{
    struct model *m = job->m;
    int li = job->layer;
    float *work = m->work + (size_t)t * m->work_each;

    switch (job->phase) {
    case MODEL_FORWARD: {
        struct model_conv *L = &m->convs[li];
        size_t img = model_conv_img(L);
        if (li > 0)
            model_finish(m, li - 1, lo, cnt);
        conv_forward(&L->geom, cnt, L->z + (size_t)lo * img,
                     model_conv_input(m, li) + (size_t)lo * model_in_img(L),
                     L->w, NULL, work);
        if (job->train)
            batchnorm_plane_stats(cnt, L->geom.c_out,
                                  L->geom.h_out * L->geom.w_out,
                                  m->sums + (size_t)lo * L->geom.c_out * 3,
                                  L->z + (size_t)lo * img);
        break;
    }
    case MODEL_FORWARD_END: {
        struct model_pool *P = &m->pools[m->cfg.stages - 1];
        model_finish(m, m->n_convs - 1, lo, cnt);
        avgpool_forward(cnt, m->feat, m->feat_hw, m->gap + (size_t)lo * m->feat,
                        P->out + (size_t)lo * model_pool_img(P));
        break;
    }
    case MODEL_BACKWARD_TOP: {
        struct model_pool *P = &m->pools[m->cfg.stages - 1];
        struct model_conv *L = &m->convs[li];
        size_t img = model_conv_img(L), pimg = model_pool_img(P);
        avgpool_backward(cnt, m->feat, m->feat_hw, m->dpool + (size_t)lo * pimg,
                         m->dgap + (size_t)lo * m->feat);
        maxpool2_backward(cnt, P->c, P->h, P->w,
                          m->gbuf[li & 1] + (size_t)lo * img,
                          m->dpool + (size_t)lo * pimg, L->a + (size_t)lo * img,
                          P->out + (size_t)lo * pimg);
        model_bn_sums(m, li, lo, cnt);
        break;
    }
    case MODEL_BACKWARD:
    case MODEL_BACKWARD_END: {
        struct model_conv *L = &m->convs[li];
        size_t img = model_conv_img(L), in_img = model_in_img(L);
        int hw = L->geom.h_out * L->geom.w_out;
        float *dz = m->gbuf[li & 1] + (size_t)lo * img;
        float *din = NULL;
        float *dw = t == 0 ? L->dw
                           : m->tgrads + (size_t)(t - 1) * m->n_train +
                                 (size_t)(L->dw - m->grads);

        batchnorm_apply_grads(cnt, L->geom.c_out, hw, dz, dz,
                              L->z + (size_t)lo * img, L->coef, L->gcoef, 1);
        if (li > 0)
            din = (L->first ? m->dpool : m->gbuf[(li - 1) & 1]) +
                  (size_t)lo * in_img;
        conv_backward(&L->geom, cnt, din, dw, NULL, dz,
                      model_conv_input(m, li) + (size_t)lo * in_img, L->w,
                      work);
        if (li == 0)
            break;
        if (L->first) {
            /* din was d(pooled output): route it back through the pool. */
            struct model_pool *P = &m->pools[L->stage - 1];
            struct model_conv *B = &m->convs[li - 1];
            size_t bimg = model_conv_img(B);
            maxpool2_backward(cnt, P->c, P->h, P->w,
                              m->gbuf[(li - 1) & 1] + (size_t)lo * bimg, din,
                              B->a + (size_t)lo * bimg,
                              P->out + (size_t)lo * in_img);
        }
        model_bn_sums(m, li - 1, lo, cnt);
        break;
    }
    case MODEL_GRAD_SUM: /* by parameters, not images: model_job_run */ break;
    }
}

/* Member t's share of the sum of the private weight gradients: a run of
 * whole cache lines of the conv weights, to which it adds members 1, 2,
 * ... in order, the order a single thread would use, so the bits do not
 * depend on how the runs are cut. */
static void
model_grad_sum(struct model *m, int t, int threads)
{
    int lines = (int)((m->n_convw + MODEL_ALIGN - 1) / MODEL_ALIGN), lo, hi;
    size_t a, b;

    par_split(lines, t, threads, &lo, &hi);
    a = (size_t)lo * MODEL_ALIGN;
    b = (size_t)hi * MODEL_ALIGN;
    if (b > m->n_convw)
        b = m->n_convw;
    for (int u = 1; u < m->threads; u++) {
        const float *tg = m->tgrads + (size_t)(u - 1) * m->n_train;
        for (size_t i = a; i < b; i++)
            m->grads[i] += tg[i];
    }
}

/* A member walks its share in steps of one convolution product's group,
 * so that each step's activations are still in cache when the next kernel
 * of the phase reads them. The steps fall on the boundaries that one
 * conv call over the whole share would use, so the products, and the
 * results, are the same. */
static void
model_job_run(void *arg, int t, int threads)
{
    struct model_job *job = arg;
    struct model *m = job->m;
    int lo, hi, step;

    if (job->phase == MODEL_GRAD_SUM) {
        model_grad_sum(m, t, threads);
        return;
    }
    /* A member clears its private gradients itself, so that no serial
     * pass over (threads - 1) blocks grows with the team. */
    if (job->phase == MODEL_BACKWARD_TOP && t > 0)
        memset(m->tgrads + (size_t)(t - 1) * m->n_train, 0,
               sizeof(float) * m->n_convw);
    par_split(job->n, t, threads, &lo, &hi);
    if (hi == lo)
        return;
    step = conv_group(&m->convs[job->layer].geom, hi - lo);
    for (int i = lo; i < hi; i += step)
        model_job_range(job, t, i, hi - i < step ? hi - i : step);
}

static double
model_prof_clock(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void
model_run(struct model *m, enum model_phase phase, int layer, int n, int train)
{
    struct model_job job = {m, phase, layer, n, train};
    double t0 = 0.0, *slot = NULL;

    if (m->prof.on && train) {
        slot = phase == MODEL_FORWARD        ? &m->prof.fwd[layer]
               : phase == MODEL_FORWARD_END  ? &m->prof.head_fwd
               : phase == MODEL_BACKWARD_TOP ? &m->prof.head_bwd
               : phase == MODEL_GRAD_SUM     ? &m->prof.grad_sum
                                             : &m->prof.bwd[layer];
        t0 = model_prof_clock();
    }
    par_run(m->team, model_job_run, &job);
    if (slot != NULL)
        *slot += model_prof_clock() - t0;
}

const float *
model_forward(struct model *m, const float *x, int n, int train)
{
    const struct model_config *cfg = &m->cfg;
    double t0 = m->prof.on ? model_prof_clock() : 0.0;

    assert(n >= 1 && n <= cfg->max_batch);
    m->x = x;
    for (int li = 0; li < m->n_convs; li++) {
        struct model_conv *L = &m->convs[li];
        int c = L->geom.c_out, hw = L->geom.h_out * L->geom.w_out;

        model_run(m, MODEL_FORWARD, li, n, train);
        if (train) {
            batchnorm_reduce_stats(n, c, hw, L->mean, L->var, m->sums);
            batchnorm_update_running(c, L->run_mean, L->run_var, L->mean,
                                     L->var, (size_t)n * hw, cfg->bn_momentum);
            batchnorm_coef(c, L->coef, L->mean, L->var, L->gamma, L->beta,
                           cfg->bn_eps);
        } else {
            batchnorm_coef(c, L->coef, L->run_mean, L->run_var, L->gamma,
                           L->beta, cfg->bn_eps);
        }
    }
    model_run(m, MODEL_FORWARD_END, 0, n, train);
    linear_forward(n, m->feat, cfg->classes, m->logits, m->gap, m->fc_w,
                   m->fc_b);
    if (!train)
        m->x = NULL;
    m->n = train ? n : 0;
    if (m->prof.on && train)
        m->prof.total_fwd += model_prof_clock() - t0;
    return m->logits;
}

/* batch-norm reduction of layer li's gradient sums */
static void
model_bn_reduce(struct model *m, int li, int n)
{
    struct model_conv *L = &m->convs[li];

    batchnorm_reduce_grads(n, L->geom.c_out, L->geom.h_out * L->geom.w_out,
                           L->gcoef, L->dgamma, L->dbeta, m->sums, L->mean,
                           L->var, L->coef, m->cfg.bn_eps);
}

void
model_backward(struct model *m, const float *dlogits)
{
    const struct model_config *cfg = &m->cfg;
    int n = m->n, top = m->n_convs - 1;
    double t0 = m->prof.on ? model_prof_clock() : 0.0;

    assert(n > 0 && "model_backward needs a training forward");
    memset(m->grads, 0, sizeof(float) * m->n_train);
    linear_backward(n, m->feat, cfg->classes, m->dgap, m->dfc_w, m->dfc_b,
                    dlogits, m->gap, m->fc_w);
    model_run(m, MODEL_BACKWARD_TOP, top, n, 1);
    model_bn_reduce(m, top, n);
    for (int li = top; li > 0; li--) {
        model_run(m, MODEL_BACKWARD, li, n, 1);
        model_bn_reduce(m, li - 1, n);
    }
    model_run(m, MODEL_BACKWARD_END, 0, n, 1);
    if (m->threads > 1)
        model_run(m, MODEL_GRAD_SUM, 0, n, 1);
    if (m->prof.on) {
        m->prof.total_bwd += model_prof_clock() - t0;
        m->prof.steps++;
        m->prof.images += n;
    }
}

void
model_sgd_step(struct model *m, const struct optim_sgd *opt, float lr)
{
    double t0 = m->prof.on ? model_prof_clock() : 0.0;

    optim_sgd_step(m->n_decay, m->params, m->grads, m->velocity, lr,
                   opt->momentum, opt->weight_decay, opt->nesterov);
    optim_sgd_step(m->n_train - m->n_decay, m->params + m->n_decay,
                   m->grads + m->n_decay, m->velocity + m->n_decay, lr,
                   opt->momentum, 0.0f, opt->nesterov);
    if (m->prof.on)
        m->prof.sgd += model_prof_clock() - t0;
}

float *
model_params(struct model *m, size_t *n_out)
{
    *n_out = m->n_params;
    return m->params;
}

float *
model_grads(struct model *m, size_t *n_out)
{
    *n_out = m->n_train;
    return m->grads;
}

float *
model_velocity(struct model *m, size_t *n_out)
{
    *n_out = m->n_train;
    return m->velocity;
}

size_t
model_n_trainable(const struct model *m)
{
    return m->n_train;
}

size_t
model_n_decay(const struct model *m)
{
    return m->n_decay;
}

const float *
model_features(const struct model *m, int *dim)
{
    *dim = m->feat;
    return m->gap;
}

double
model_flops(const struct model *m)
{
    double f = 0.0;

    for (int li = 0; li < m->n_convs; li++) {
        double c = conv_flops(&m->convs[li].geom);
        f += li == 0 ? 2.0 * c : 3.0 * c; /* the first needs no din */
    }
    f += 3.0 * 2.0 * m->feat * m->cfg.classes;
    return f;
}

void
model_profile_start(struct model *m)
{
    memset(&m->prof, 0, sizeof(m->prof));
    m->prof.on = 1;
}

/* One row: milliseconds per step, share of the step, GFLOP/s if flops. */
static void
model_profile_row(FILE *out, const char *name, double s, double steps,
                  double step_s, double flops)
{
    fprintf(out, "  %-24s %8.2f ms %5.1f%%", name, s / steps * 1e3,
            step_s > 0.0 ? 100.0 * s / steps / step_s : 0.0);
    if (flops > 0.0 && s > 0.0)
        fprintf(out, " %7.1f GFLOP/CPU-s", flops / s * 1e-9);
    fputc('\n', out);
}

void
model_profile_print(const struct model *m, FILE *out)
{
    const struct model_prof *p = &m->prof;
    double steps = (double)p->steps, imgs = (double)p->images;
    double step_s, phases = p->head_fwd + p->head_bwd + p->grad_sum;
    char name[64];

    if (p->steps == 0)
        return;
    step_s = (p->total_fwd + p->total_bwd + p->sgd) / steps;
    fprintf(out,
            "profile: %ld training steps, %.0f images each, %.2f CPU-ms a "
            "step, %d threads\n",
            p->steps, imgs / steps, step_s * 1e3, m->threads);
    for (int li = 0; li < m->n_convs; li++) {
        const struct conv_geom *g = &m->convs[li].geom;
        double f = conv_flops(g) * imgs;

        snprintf(name, sizeof(name), "conv%d %dx%dx%d>%d fwd", li, g->c_in,
                 g->h, g->w, g->c_out);
        model_profile_row(out, name, p->fwd[li], steps, step_s, f);
        snprintf(name, sizeof(name), "conv%d bwd", li);
        model_profile_row(out, name, p->bwd[li], steps, step_s,
                          li == 0 ? f : 2.0 * f);
        phases += p->fwd[li] + p->bwd[li];
    }
    model_profile_row(out, "head fwd (pool, avg)", p->head_fwd, steps, step_s,
                      0.0);
    model_profile_row(out, "head bwd", p->head_bwd, steps, step_s, 0.0);
    model_profile_row(out, "members' gradients summed", p->grad_sum, steps,
                      step_s, 0.0);
    model_profile_row(out, "serial (reductions, fc)",
                      p->total_fwd + p->total_bwd - phases, steps, step_s, 0.0);
    model_profile_row(out, "sgd step", p->sgd, steps, step_s, 0.0);
    model_profile_row(out, "whole step", step_s * steps, steps, step_s,
                      model_flops(m) * imgs);
}
