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
 * in place. */
#include "config.h"

#include "engine/model.h"

#include <assert.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/layers.h"
#include "engine/optim.h"
#include "engine/rng.h"

#define MODEL_ALIGN 16 /* floats */

struct model_conv {
    struct conv_geom geom;
    float *w, *gamma, *beta, *run_mean, *run_var; /* params */
    float *dw, *dgamma, *dbeta;                   /* grads */
    float *z, *a, *mean, *var;                    /* activations */
};

struct model_pool {
    int c, h, w; /* input size; output is h/2 x w/2 */
    float *out;
};

struct model {
    struct model_config cfg;
    int n_convs;
    struct model_conv convs[MODEL_MAX_STAGES * MODEL_MAX_CONVS];
    struct model_pool pools[MODEL_MAX_STAGES];
    int feat, feat_hw; /* classifier input: channels, pooled plane size */
    float *fc_w, *fc_b, *dfc_w, *dfc_b;
    float *gap, *logits, *dgap; /* (N, feat), (N, K), (N, feat) */
    float *g0, *g1;             /* (max activation) each */
    float *work;

    float *params, *grads, *velocity, *acts;
    size_t n_params, n_train, n_decay, n_acts;

    const float *x; /* last training input */
    int n;          /* its batch size, 0 if none */
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
    size_t nb = (size_t)cfg->max_batch, biggest = 0, work = 0;
    int li;

    /* Weights that decay. */
    for (li = 0; li < m->n_convs; li++) {
        struct model_conv *L = &m->convs[li];
        size_t k = (size_t)L->geom.c_in * 9;
        L->w = model_take(p, (size_t)L->geom.c_out, k);
        L->dw = model_take(g, (size_t)L->geom.c_out, k);
    }
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

    /* Activations. */
    for (li = 0; li < m->n_convs; li++) {
        struct model_conv *L = &m->convs[li];
        size_t img = (size_t)L->geom.c_out * L->geom.h_out * L->geom.w_out;
        size_t in_img = (size_t)L->geom.c_in * L->geom.h * L->geom.w;
        size_t cw = conv_work_floats(&L->geom, cfg->max_batch);
        L->z = model_take(t, nb, img);
        L->a = model_take(t, nb, img);
        L->mean = model_take(t, 1, (size_t)L->geom.c_out);
        L->var = model_take(t, 1, (size_t)L->geom.c_out);
        biggest = model_max(biggest, model_max(img, in_img));
        if (cw == 0)
            t->overflow = 1;
        work = model_max(work, cw);
    }
    for (int s = 0; s < cfg->stages; s++) {
        struct model_pool *P = &m->pools[s];
        P->out = model_take(t, nb, (size_t)P->c * (P->h / 2) * (P->w / 2));
    }
    m->gap = model_take(t, nb, (size_t)m->feat);
    m->dgap = model_take(t, nb, (size_t)m->feat);
    m->logits = model_take(t, nb, (size_t)cfg->classes);
    m->g0 = model_take(t, nb, biggest);
    m->g1 = model_take(t, nb, biggest);
    m->work = model_take(t, 1, work);
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
    cfg->stages = 3;
    cfg->widths[0] = 32;
    cfg->widths[1] = 64;
    cfg->widths[2] = 128;
    cfg->convs_per_stage = 2;
    cfg->max_batch = max_batch;
    cfg->bn_eps = 1e-5f;
    cfg->bn_momentum = 0.1f;
}

static float *
model_alloc(size_t floats, char **cause)
{
    size_t bytes;
    void *p;

    if (wn_mul_size(floats ? floats : 1, sizeof(float), &bytes) == -1 ||
        bytes > SIZE_MAX - 63) {
        wn_fail(cause, "model too large");
        return NULL;
    }
    bytes = (bytes + 63) / 64 * 64;
    p = aligned_alloc(64, bytes);
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
        return wn_fail(cause, "need at least 2 classes, got %d",
                       cfg->classes);
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
            if (conv_geom_init(&L->geom, c, h, w, cfg->widths[s], 3, 1, 1) ==
                -1) {
                wn_fail(cause, "bad convolution size");
                goto fail;
            }
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
    /* Padding between tensors is never written by a kernel; clear it once
     * so a checkpoint's bytes depend on the weights alone. */
    memset(m->params, 0, sizeof(float) * m->n_params);
    memset(m->grads, 0, sizeof(float) * m->n_train);
    memset(m->velocity, 0, sizeof(float) * m->n_train);
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

void
model_init(struct model *m, struct rng *r)
{
    for (int li = 0; li < m->n_convs; li++) {
        struct model_conv *L = &m->convs[li];
        int c = L->geom.c_out, fan_in = L->geom.c_in * 9;
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

const float *
model_forward(struct model *m, const float *x, int n, int train)
{
    const struct model_config *cfg = &m->cfg;
    const float *h = x;
    int li = 0;

    assert(n >= 1 && n <= cfg->max_batch);
    for (int s = 0; s < cfg->stages; s++) {
        struct model_pool *P = &m->pools[s];
        for (int k = 0; k < cfg->convs_per_stage; k++, li++) {
            struct model_conv *L = &m->convs[li];
            int c = L->geom.c_out, hw = L->geom.h_out * L->geom.w_out;

            conv_forward(&L->geom, n, L->z, h, L->w, NULL, m->work);
            if (train) {
                batchnorm_forward(n, c, hw, L->a, L->mean, L->var, L->z,
                                  L->gamma, L->beta, cfg->bn_eps, 1);
                batchnorm_update_running(c, L->run_mean, L->run_var, L->mean,
                                         L->var, (size_t)n * hw,
                                         cfg->bn_momentum);
            } else {
                batchnorm_forward_eval(n, c, hw, L->a, L->z, L->gamma,
                                       L->beta, L->run_mean, L->run_var,
                                       cfg->bn_eps, 1);
            }
            h = L->a;
        }
        maxpool2_forward(n, P->c, P->h, P->w, P->out, h);
        h = P->out;
    }
    avgpool_forward(n, m->feat, m->feat_hw, m->gap, h);
    linear_forward(n, m->feat, cfg->classes, m->logits, m->gap, m->fc_w,
                   m->fc_b);
    m->x = train ? x : NULL;
    m->n = train ? n : 0;
    return m->logits;
}

void
model_backward(struct model *m, const float *dlogits)
{
    const struct model_config *cfg = &m->cfg;
    int n = m->n, li = m->n_convs - 1;
    float *dy = m->g0, *dx = m->g1, *tmp;

    assert(n > 0 && "model_backward needs a training forward");
    memset(m->grads, 0, sizeof(float) * m->n_train);
    linear_backward(n, m->feat, cfg->classes, m->dgap, m->dfc_w, m->dfc_b,
                    dlogits, m->gap, m->fc_w);
    /* dy: the gradient of the current stage's pooled output. */
    avgpool_backward(n, m->feat, m->feat_hw, dy, m->dgap);
    for (int s = cfg->stages - 1; s >= 0; s--) {
        struct model_pool *P = &m->pools[s];
        maxpool2_backward(n, P->c, P->h, P->w, dx, dy, m->convs[li].a,
                          P->out);
        tmp = dy, dy = dx, dx = tmp;
        for (int k = cfg->convs_per_stage - 1; k >= 0; k--, li--) {
            struct model_conv *L = &m->convs[li];
            int c = L->geom.c_out, hw = L->geom.h_out * L->geom.w_out;
            const float *in;

            batchnorm_backward(n, c, hw, dy, L->dgamma, L->dbeta, dy, L->z,
                               L->mean, L->var, L->gamma, L->beta,
                               cfg->bn_eps, 1);
            if (k > 0)
                in = m->convs[li - 1].a;
            else if (s > 0)
                in = m->pools[s - 1].out;
            else
                in = m->x;
            conv_backward(&L->geom, n, li > 0 ? dx : NULL, L->dw, NULL, dy,
                          in, L->w, m->work);
            tmp = dy, dy = dx, dx = tmp;
        }
    }
}

void
model_sgd_step(struct model *m, const struct optim_sgd *opt, float lr)
{
    optim_sgd_step(m->n_decay, m->params, m->grads, m->velocity, lr,
                   opt->momentum, opt->weight_decay, opt->nesterov);
    optim_sgd_step(m->n_train - m->n_decay, m->params + m->n_decay,
                   m->grads + m->n_decay, m->velocity + m->n_decay, lr,
                   opt->momentum, 0.0f, opt->nesterov);
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
