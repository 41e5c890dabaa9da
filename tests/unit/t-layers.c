/* t-layers: the engine's numerical core.
 *
 * Every layer's backward is checked against central finite differences of
 * its forward: the scalar checked is L = sum_i r_i out_i for a fixed random
 * r (so d L / d out = r is what the backward gets), evaluated in float and
 * summed in double. An element passes when
 *     |numeric - analytic| <= TOL * max(|numeric|, |analytic|, FLOOR)
 * with TOL = 1e-2 and FLOOR = 1e-2 * the largest analytic gradient of the
 * tensor (so that near-zero entries are judged against the tensor's scale).
 * Inputs are drawn away from the kinks of ReLU and max pooling, so the
 * differences never straddle one. Convolution is also compared with a naive
 * double-precision convolution on shapes that take each of its code paths
 * (grouped and single-image products, same-size and general im2col).
 *
 * Then the rest of the core: the RNG, the optimizer and schedule, He
 * initialisation, and the model: a finite-difference check through the whole
 * network, a toy problem whose loss must fall, and two runs with one seed
 * that must agree bit for bit (with a team of two threads); the thread
 * team and the batch-norm phases the model splits over it. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/gemm.h"
#include "engine/layers.h"
#include "engine/model.h"
#include "engine/optim.h"
#include "engine/par.h"
#include "engine/rng.h"
#include "tests/tap.h"

#define TOL 1e-2

static struct rng rng;

static float *
fnew(size_t n)
{
    float *p = calloc(n ? n : 1, sizeof(float));
    if (p == NULL)
        bail("out of memory");
    return p;
}

static float *
frand(size_t n, float lo, float hi)
{
    float *p = fnew(n);
    for (size_t i = 0; i < n; i++)
        p[i] = lo + (hi - lo) * rng_uniform(&rng);
    return p;
}

static double
dot(const float *a, const float *b, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += (double)a[i] * (double)b[i];
    return s;
}

/* The scalar a gradient check differentiates: runs a forward on ctx. */
typedef double (*loss_fn)(void *ctx);

/* Compare analytic[0..n) with central differences of f in x[0..n), for at
 * most max_checks evenly spread elements, of which a fraction may_fail may
 * exceed the tolerance (0 for single layers). */
static void
grad_check_some(const char *what, loss_fn f, void *ctx, float *x,
                const float *analytic, size_t n, float eps, size_t max_checks,
                double may_fail)
{
    size_t step = n > max_checks ? n / max_checks : 1;
    size_t checked = 0, bad = 0, worst_i = 0;
    double gmax = 0.0, worst = 0.0;

    for (size_t i = 0; i < n; i++)
        gmax = fmax(gmax, fabs((double)analytic[i]));
    for (size_t i = 0; i < n; i += step) {
        float orig = x[i];
        float up = orig + eps, down = orig - eps;
        double lp, lm, num, a = (double)analytic[i], scale, e;

        x[i] = up;
        lp = f(ctx);
        x[i] = down;
        lm = f(ctx);
        x[i] = orig;
        num = (lp - lm) / ((double)up - (double)down);
        scale = fmax(fmax(fabs(num), fabs(a)), 1e-2 * gmax + 1e-12);
        e = fabs(num - a) / scale;
        if (!(e <= TOL))
            bad++;
        if (!(e <= worst)) {
            worst = e;
            worst_i = i;
        }
        checked++;
    }
    ok((double)bad <= may_fail * (double)checked && gmax > 0.0,
       "%s: %zu of %zu elements checked, %zu over, worst rel err %.2e at "
       "%zu (max |grad| %.3g)",
       what, checked, n, bad, worst, worst_i, gmax);
}

static void
grad_check(const char *what, loss_fn f, void *ctx, float *x,
           const float *analytic, size_t n, float eps)
{
    grad_check_some(what, f, ctx, x, analytic, n, eps, 150, 0.0);
}

/* --- convolution ------------------------------------------------------- */

struct conv_ctx {
    struct conv_geom g;
    int n;
    float *in, *w, *b, *out, *r, *work;
};

static size_t
conv_in_size(const struct conv_ctx *c)
{
    return (size_t)c->n * c->g.c_in * c->g.h * c->g.w;
}

static size_t
conv_out_size(const struct conv_ctx *c)
{
    return (size_t)c->n * c->g.c_out * c->g.h_out * c->g.w_out;
}

static size_t
conv_w_size(const struct conv_ctx *c)
{
    return (size_t)c->g.c_out * c->g.c_in * c->g.ksize * c->g.ksize;
}

static double
conv_loss(void *p)
{
    struct conv_ctx *c = p;
    conv_forward(&c->g, c->n, c->out, c->in, c->w, c->b, c->work);
    return dot(c->out, c->r, conv_out_size(c));
}

static void
test_conv_grad(int n, int c_in, int h, int w, int c_out, int k, int stride,
               int pad)
{
    struct conv_ctx c;
    char what[128];

    if (conv_geom_init(&c.g, c_in, h, w, c_out, k, stride, pad) == -1)
        bail("bad conv geometry");
    c.n = n;
    c.in = frand(conv_in_size(&c), -1.0f, 1.0f);
    c.w = frand(conv_w_size(&c), -1.0f, 1.0f);
    c.b = frand((size_t)c_out, -1.0f, 1.0f);
    c.out = fnew(conv_out_size(&c));
    c.r = frand(conv_out_size(&c), -1.0f, 1.0f);
    c.work = fnew(conv_work_floats(&c.g, n));

    float *din = fnew(conv_in_size(&c));
    float *dw = fnew(conv_w_size(&c)), *db = fnew((size_t)c_out);
    conv_forward(&c.g, n, c.out, c.in, c.w, c.b, c.work);
    conv_backward(&c.g, n, din, dw, db, c.r, c.in, c.w, c.work);

    snprintf(what, sizeof(what), "conv %dx%dx%dx%d k%d s%d p%d", n, c_in, h, w,
             k, stride, pad);
    char buf[160];
    snprintf(buf, sizeof(buf), "%s: d input", what);
    grad_check(buf, conv_loss, &c, c.in, din, conv_in_size(&c), 1e-2f);
    snprintf(buf, sizeof(buf), "%s: d weight", what);
    grad_check(buf, conv_loss, &c, c.w, dw, conv_w_size(&c), 1e-2f);
    snprintf(buf, sizeof(buf), "%s: d bias", what);
    grad_check(buf, conv_loss, &c, c.b, db, (size_t)c_out, 1e-2f);

    /* Parameter gradients accumulate; din == NULL skips the input. */
    float *dw2 = fnew(conv_w_size(&c)), *db2 = fnew((size_t)c_out);
    memcpy(dw2, dw, sizeof(float) * conv_w_size(&c));
    memcpy(db2, db, sizeof(float) * (size_t)c_out);
    conv_backward(&c.g, n, NULL, dw2, db2, c.r, c.in, c.w, c.work);
    double e = 0.0;
    for (size_t i = 0; i < conv_w_size(&c); i++)
        e = fmax(e, fabs((double)dw2[i] - 2.0 * (double)dw[i]));
    for (int i = 0; i < c_out; i++)
        e = fmax(e, fabs((double)db2[i] - 2.0 * (double)db[i]));
    ok(e < 1e-4, "%s: parameter gradients add up (err %g)", what, e);

    free(c.in);
    free(c.w);
    free(c.b);
    free(c.out);
    free(c.r);
    free(c.work);
    free(din);
    free(dw);
    free(db);
    free(dw2);
    free(db2);
}

/* conv_forward and conv_backward against a naive double convolution. */
static void
test_conv_reference(int n, int c_in, int h, int w, int c_out, int k, int stride,
                    int pad)
{
    struct conv_ctx c;
    struct conv_geom *g = &c.g;

    if (conv_geom_init(g, c_in, h, w, c_out, k, stride, pad) == -1)
        bail("bad conv geometry");
    c.n = n;
    size_t ni = conv_in_size(&c), no = conv_out_size(&c), nw = conv_w_size(&c);
    float *in = frand(ni, -1.0f, 1.0f), *wt = frand(nw, -1.0f, 1.0f);
    float *b = frand((size_t)c_out, -1.0f, 1.0f), *out = fnew(no);
    float *dout = frand(no, -1.0f, 1.0f), *din = fnew(ni);
    float *dw = fnew(nw), *db = fnew((size_t)c_out);
    float *work = fnew(conv_work_floats(g, n));
    double *rout = calloc(no, sizeof(double)),
           *rdin = calloc(ni, sizeof(double));
    double *rdw = calloc(nw, sizeof(double)),
           *rdb = calloc((size_t)c_out, sizeof(double));

    conv_forward(g, n, out, in, wt, b, work);
    conv_backward(g, n, din, dw, db, dout, in, wt, work);

    for (int i = 0; i < n; i++)
        for (int co = 0; co < c_out; co++)
            for (int oy = 0; oy < g->h_out; oy++)
                for (int ox = 0; ox < g->w_out; ox++) {
                    size_t o =
                        (((size_t)i * c_out + co) * g->h_out + oy) * g->w_out +
                        ox;
                    double s = (double)b[co], d = (double)dout[o];
                    rdb[co] += d;
                    for (int ci = 0; ci < c_in; ci++)
                        for (int ky = 0; ky < k; ky++)
                            for (int kx = 0; kx < k; kx++) {
                                int iy = oy * stride - pad + ky;
                                int ix = ox * stride - pad + kx;
                                size_t wi, ii;
                                if (iy < 0 || iy >= h || ix < 0 || ix >= w)
                                    continue;
                                wi = (((size_t)co * c_in + ci) * k + ky) * k +
                                     kx;
                                ii =
                                    (((size_t)i * c_in + ci) * h + iy) * w + ix;
                                s += (double)wt[wi] * (double)in[ii];
                                rdw[wi] += d * (double)in[ii];
                                rdin[ii] += d * (double)wt[wi];
                            }
                    rout[o] = s;
                }

    double eo = 0.0, ei = 0.0, ew = 0.0, eb = 0.0;
    for (size_t i = 0; i < no; i++)
        eo = fmax(eo, fabs((double)out[i] - rout[i]));
    for (size_t i = 0; i < ni; i++)
        ei = fmax(ei, fabs((double)din[i] - rdin[i]));
    for (size_t i = 0; i < nw; i++)
        ew = fmax(ew, fabs((double)dw[i] - rdw[i]) / (1.0 + fabs(rdw[i])));
    for (int i = 0; i < c_out; i++)
        eb = fmax(eb, fabs((double)db[i] - rdb[i]) / (1.0 + fabs(rdb[i])));
    ok(eo < 1e-4 && ei < 1e-4 && ew < 1e-4 && eb < 1e-4,
       "conv %dx%dx%dx%d -> %d k%d s%d p%d (group %d) matches a naive "
       "convolution: out %.1e din %.1e dw %.1e db %.1e",
       n, c_in, h, w, c_out, k, stride, pad, conv_group(g, n), eo, ei, ew, eb);

    free(in);
    free(wt);
    free(b);
    free(out);
    free(dout);
    free(din);
    free(dw);
    free(db);
    free(work);
    free(rout);
    free(rdin);
    free(rdw);
    free(rdb);
}

static void
test_conv_geom(void)
{
    struct conv_geom g;

    ok(conv_geom_init(&g, 3, 32, 32, 8, 3, 1, 1) == 0 && g.h_out == 32 &&
           g.w_out == 32,
       "same-size 3x3 geometry");
    ok(conv_geom_init(&g, 3, 7, 6, 4, 3, 2, 1) == 0 && g.h_out == 4 &&
           g.w_out == 3,
       "strided geometry 7x6 -> 4x3");
    ok(conv_geom_init(&g, 3, 2, 2, 4, 5, 1, 1) == -1,
       "a kernel larger than the padded input is refused");
    ok(conv_geom_init(&g, 0, 8, 8, 4, 3, 1, 1) == -1,
       "zero channels are refused");
    ok(conv_geom_init(&g, 3, 8, 8, 4, 3, 1, 1) == 0 &&
           conv_group(&g, 1000) * 64 >= 512 && conv_group(&g, 3) == 3,
       "small planes are grouped into wide products, up to the batch");
}

/* --- batch norm -------------------------------------------------------- */

struct bn_ctx {
    int n, c, hw, relu;
    float *in, *gamma, *beta, *out, *mean, *var, *r;
};

static double
bn_loss(void *p)
{
    struct bn_ctx *b = p;
    batchnorm_forward(b->n, b->c, b->hw, b->out, b->mean, b->var, b->in,
                      b->gamma, b->beta, 1e-5f, b->relu);
    return dot(b->out, b->r, (size_t)b->n * b->c * b->hw);
}

static void
test_batchnorm_grad(int n, int c, int hw, int relu)
{
    struct bn_ctx b = {n,    c,    hw,   relu, NULL, NULL,
                       NULL, NULL, NULL, NULL, NULL};
    size_t sz = (size_t)n * c * hw;
    char what[96];

    b.out = fnew(sz);
    b.mean = fnew((size_t)c);
    b.var = fnew((size_t)c);
    b.r = frand(sz, -1.0f, 1.0f);
    /* Draw until no pre-ReLU value is within 0.05 of the kink: a finite
     * difference of 1e-2 moves none of them that far. */
    for (int tries = 0;; tries++) {
        double closest = 1e9;
        free(b.in);
        free(b.gamma);
        free(b.beta);
        b.in = frand(sz, -2.0f, 3.0f);
        b.gamma = frand((size_t)c, 0.5f, 1.5f);
        b.beta = frand((size_t)c, -0.5f, 0.5f);
        batchnorm_forward(n, c, hw, b.out, b.mean, b.var, b.in, b.gamma, b.beta,
                          1e-5f, 0);
        for (size_t i = 0; i < sz; i++)
            closest = fmin(closest, fabs((double)b.out[i]));
        if (!relu || closest > 0.05)
            break;
        if (tries == 1000)
            bail("cannot draw kink-free batch-norm inputs");
    }

    float *din = fnew(sz), *dg = fnew((size_t)c), *dbt = fnew((size_t)c);
    bn_loss(&b);
    batchnorm_backward(n, c, hw, din, dg, dbt, b.r, b.in, b.mean, b.var,
                       b.gamma, b.beta, 1e-5f, relu);
    snprintf(what, sizeof(what), "batchnorm%s %dx%dx%d: d input",
             relu ? "+relu" : "", n, c, hw);
    grad_check(what, bn_loss, &b, b.in, din, sz, 1e-2f);
    snprintf(what, sizeof(what), "batchnorm%s %dx%dx%d: d gamma",
             relu ? "+relu" : "", n, c, hw);
    grad_check(what, bn_loss, &b, b.gamma, dg, (size_t)c, 1e-2f);
    snprintf(what, sizeof(what), "batchnorm%s %dx%dx%d: d beta",
             relu ? "+relu" : "", n, c, hw);
    grad_check(what, bn_loss, &b, b.beta, dbt, (size_t)c, 1e-2f);

    /* In place (din == dout) gives the same bits. */
    float *inplace = fnew(sz), *dg2 = fnew((size_t)c), *db2 = fnew((size_t)c);
    memcpy(inplace, b.r, sizeof(float) * sz);
    bn_loss(&b);
    batchnorm_backward(n, c, hw, inplace, dg2, db2, inplace, b.in, b.mean,
                       b.var, b.gamma, b.beta, 1e-5f, relu);
    ok(memcmp(inplace, din, sizeof(float) * sz) == 0,
       "batchnorm backward in place gives the same result");

    free(b.in);
    free(b.gamma);
    free(b.beta);
    free(b.out);
    free(b.mean);
    free(b.var);
    free(b.r);
    free(din);
    free(dg);
    free(dbt);
    free(inplace);
    free(dg2);
    free(db2);
}

static void
test_batchnorm_stats(void)
{
    enum { N = 3, C = 2, HW = 37 };
    float *in = fnew(N * C * HW), *out = fnew(N * C * HW);
    float gamma[C] = {1.0f, 2.0f}, beta[C] = {0.0f, -1.0f};
    float mean[C], var[C], rm[C] = {0.0f, 0.0f}, rv[C] = {1.0f, 1.0f};
    double em = 0.0, ev = 0.0;

    /* A large offset: a naive E[x^2] - E[x]^2 in float would lose the
     * variance entirely. */
    for (int i = 0; i < N * C * HW; i++)
        in[i] = 1000.0f + rng_normal(&rng);
    batchnorm_forward(N, C, HW, out, mean, var, in, gamma, beta, 1e-5f, 0);
    for (int ch = 0; ch < C; ch++) {
        double s = 0.0, s2 = 0.0, m;
        for (int i = 0; i < N; i++)
            for (int j = 0; j < HW; j++)
                s += (double)in[(i * C + ch) * HW + j];
        m = s / (N * HW);
        for (int i = 0; i < N; i++)
            for (int j = 0; j < HW; j++) {
                double d = (double)in[(i * C + ch) * HW + j] - m;
                s2 += d * d;
            }
        em = fmax(em, fabs((double)mean[ch] - m));
        ev = fmax(ev, fabs((double)var[ch] - s2 / (N * HW)) / (s2 / (N * HW)));
    }
    ok(em < 1e-3 && ev < 1e-3,
       "batch mean and variance with a mean of 1000 (err %.1e, rel %.1e)", em,
       ev);

    /* Normalised output has mean beta and std gamma. */
    double s = 0.0, s2 = 0.0;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < HW; j++) {
            double y = (double)out[(i * C + 1) * HW + j];
            s += y;
            s2 += y * y;
        }
    s /= N * HW;
    s2 = s2 / (N * HW) - s * s;
    ok(fabs(s + 1.0) < 1e-3 && fabs(sqrt(s2) - 2.0) < 1e-3,
       "normalised channel has mean beta and std gamma (%.4f, %.4f)", s,
       sqrt(s2));

    batchnorm_update_running(C, rm, rv, mean, var, (size_t)N * HW, 0.1f);
    is_float(rm[0], 0.9 * 0.0 + 0.1 * (double)mean[0], 1e-3);
    is_float(rv[0], 0.9 + 0.1 * (double)var[0] * (N * HW) / (N * HW - 1.0),
             1e-5);

    /* Eval mode with the batch's own statistics reproduces training mode. */
    float *out2 = fnew(N * C * HW);
    float uvar[C] = {var[0], var[1]}, umean[C] = {mean[0], mean[1]};
    batchnorm_forward_eval(N, C, HW, out2, in, gamma, beta, umean, uvar, 1e-5f,
                           0);
    double e = 0.0;
    for (int i = 0; i < N * C * HW; i++)
        e = fmax(e, fabs((double)out2[i] - (double)out[i]));
    ok(e < 1e-3, "eval mode with the batch statistics matches (err %.1e)", e);
    batchnorm_forward_eval(N, C, HW, out2, in, gamma, beta, umean, uvar, 1e-5f,
                           1);
    int relu_ok = 1;
    for (int i = 0; i < N * C * HW; i++)
        if (out2[i] != (out[i] > 0.0f ? out2[i] : 0.0f) || out2[i] < 0.0f)
            relu_ok = 0;
    ok(relu_ok, "eval mode applies the fused ReLU");
    free(in);
    free(out);
    free(out2);
}

/* The phases, split over images in two runs, give the one-call forms' bits. */
static void
test_batchnorm_phases(int relu)
{
    enum { N = 5, C = 3, HW = 21, SPLIT = 2 };
    size_t sz = N * C * HW;
    float *in = frand(sz, -2.0f, 3.0f), *dout = frand(sz, -1.0f, 1.0f);
    float gamma[C] = {0.7f, 1.3f, -0.4f}, beta[C] = {0.1f, -0.2f, 0.3f};
    float m1[C], v1[C], m2[C], v2[C], coef[2 * C], gcoef[3 * C];
    float dg1[C] = {0}, db1[C] = {0}, dg2[C] = {0}, db2[C] = {0};
    float *o1 = fnew(sz), *o2 = fnew(sz), *d1 = fnew(sz), *d2 = fnew(sz);
    double sums[N * C * 3];

    batchnorm_forward(N, C, HW, o1, m1, v1, in, gamma, beta, 1e-5f, relu);
    batchnorm_backward(N, C, HW, d1, dg1, db1, dout, in, m1, v1, gamma, beta,
                       1e-5f, relu);

    batchnorm_plane_stats(SPLIT, C, HW, sums, in);
    batchnorm_plane_stats(N - SPLIT, C, HW, sums + SPLIT * C * 3,
                          in + SPLIT * C * HW);
    batchnorm_reduce_stats(N, C, HW, m2, v2, sums);
    batchnorm_coef(C, coef, m2, v2, gamma, beta, 1e-5f);
    batchnorm_apply(SPLIT, C, HW, o2, in, coef, relu);
    batchnorm_apply(N - SPLIT, C, HW, o2 + SPLIT * C * HW, in + SPLIT * C * HW,
                    coef, relu);
    batchnorm_plane_grads(SPLIT, C, HW, sums, dout, in, m2, coef, relu);
    batchnorm_plane_grads(N - SPLIT, C, HW, sums + SPLIT * C * 2,
                          dout + SPLIT * C * HW, in + SPLIT * C * HW, m2, coef,
                          relu);
    batchnorm_reduce_grads(N, C, HW, gcoef, dg2, db2, sums, m2, v2, coef,
                           1e-5f);
    memcpy(d2, dout, sizeof(float) * sz); /* in place, as the model does */
    batchnorm_apply_grads(SPLIT, C, HW, d2, d2, in, coef, gcoef, relu);
    batchnorm_apply_grads(N - SPLIT, C, HW, d2 + SPLIT * C * HW,
                          d2 + SPLIT * C * HW, in + SPLIT * C * HW, coef, gcoef,
                          relu);

    ok(memcmp(m1, m2, sizeof(m1)) == 0 && memcmp(v1, v2, sizeof(v1)) == 0 &&
           memcmp(o1, o2, sizeof(float) * sz) == 0,
       "batchnorm%s phases, split 2+3: forward bit-identical",
       relu ? "+relu" : "");
    ok(memcmp(d1, d2, sizeof(float) * sz) == 0 &&
           memcmp(dg1, dg2, sizeof(dg1)) == 0 &&
           memcmp(db1, db2, sizeof(db1)) == 0,
       "batchnorm%s phases, split 2+3: backward bit-identical",
       relu ? "+relu" : "");
    free(in);
    free(dout);
    free(o1);
    free(o2);
    free(d1);
    free(d2);
}

/* --- ReLU, pooling, linear --------------------------------------------- */

struct elt_ctx {
    int n, c, h, w;
    float *in, *out, *r, *extra, *extra2;
    size_t n_out;
    int kind; /* 0 relu, 1 maxpool, 2 avgpool, 3 linear */
};

static double
elt_loss(void *p)
{
    struct elt_ctx *e = p;
    switch (e->kind) {
    case 0: relu_forward((size_t)e->n, e->out, e->in); break;
    case 1: maxpool2_forward(e->n, e->c, e->h, e->w, e->out, e->in); break;
    case 2: avgpool_forward(e->n, e->c, e->h * e->w, e->out, e->in); break;
    default:
        /* n samples, c inputs, h outputs */
        linear_forward(e->n, e->c, e->h, e->out, e->in, e->extra, e->extra2);
        break;
    }
    return dot(e->out, e->r, e->n_out);
}

static void
test_relu(void)
{
    struct elt_ctx e = {0};
    e.n = 37;
    e.kind = 0;
    e.n_out = 37;
    e.in = frand(37, -1.0f, 1.0f);
    for (int i = 0; i < 37; i++) /* away from the kink */
        e.in[i] += e.in[i] < 0.0f ? -0.1f : 0.1f;
    e.out = fnew(37);
    e.r = frand(37, -1.0f, 1.0f);
    float *din = fnew(37);
    elt_loss(&e);
    relu_backward(37, din, e.r, e.out);
    grad_check("relu: d input", elt_loss, &e, e.in, din, 37, 1e-2f);
    free(e.in);
    free(e.out);
    free(e.r);
    free(din);
}

static void
test_maxpool(int n, int c, int h, int w)
{
    struct elt_ctx e = {0};
    size_t ni = (size_t)n * c * h * w;
    int *perm = malloc(sizeof(int) * ni);
    char what[64];

    e.n = n;
    e.c = c;
    e.h = h;
    e.w = w;
    e.kind = 1;
    e.n_out = (size_t)n * c * (h / 2) * (w / 2);
    /* Distinct values 0.1 apart: no ties, and a difference of 1e-2 never
     * changes a window's winner. */
    rng_permutation(&rng, perm, ni);
    e.in = fnew(ni);
    for (size_t i = 0; i < ni; i++)
        e.in[i] = 0.1f * (float)perm[i] - 5.0f;
    e.out = fnew(e.n_out);
    e.r = frand(e.n_out, -1.0f, 1.0f);
    float *din = frand(ni, 5.0f, 6.0f); /* garbage that must be overwritten */
    elt_loss(&e);
    maxpool2_backward(n, c, h, w, din, e.r, e.in, e.out);
    snprintf(what, sizeof(what), "maxpool2 %dx%dx%dx%d: d input", n, c, h, w);
    grad_check(what, elt_loss, &e, e.in, din, ni, 1e-2f);
    free(perm);
    free(e.in);
    free(e.out);
    free(e.r);
    free(din);
}

static void
test_maxpool_ties(void)
{
    float in[2 * 4] = {1.0f, 1.0f, 3.0f, 2.0f,  /* row 0 */
                       1.0f, 0.5f, 3.0f, 3.0f}; /* row 1 */
    float out[2], dout[2] = {10.0f, 20.0f}, din[8];
    maxpool2_forward(1, 1, 2, 4, out, in);
    maxpool2_backward(1, 1, 2, 4, din, dout, in, out);
    ok(out[0] == 1.0f && out[1] == 3.0f && din[0] == 10.0f && din[1] == 0.0f &&
           din[4] == 0.0f && din[2] == 20.0f && din[6] == 0.0f &&
           din[7] == 0.0f,
       "maxpool2: a tie sends the gradient to the first maximum only");
}

static void
test_avgpool(void)
{
    struct elt_ctx e = {0};
    e.n = 2;
    e.c = 3;
    e.h = 4;
    e.w = 5;
    e.kind = 2;
    e.n_out = 6;
    e.in = frand(120, -1.0f, 1.0f);
    e.out = fnew(6);
    e.r = frand(6, -1.0f, 1.0f);
    float *din = fnew(120);
    elt_loss(&e);
    avgpool_backward(2, 3, 20, din, e.r);
    grad_check("global average pool: d input", elt_loss, &e, e.in, din, 120,
               1e-2f);
    double m = 0.0;
    for (int j = 0; j < 20; j++)
        m += (double)e.in[20 + j];
    is_float(e.out[1], m / 20.0, 1e-6);
    free(e.in);
    free(e.out);
    free(e.r);
    free(din);
}

static void
test_linear(void)
{
    enum { N = 3, IN = 5, OUT = 4 };
    struct elt_ctx e = {0};
    e.n = N;
    e.c = IN;
    e.h = OUT;
    e.kind = 3;
    e.n_out = N * OUT;
    e.in = frand(N * IN, -1.0f, 1.0f);
    e.extra = frand(OUT * IN, -1.0f, 1.0f);
    e.extra2 = frand(OUT, -1.0f, 1.0f);
    e.out = fnew(N * OUT);
    e.r = frand(N * OUT, -1.0f, 1.0f);
    float *din = fnew(N * IN), *dw = fnew(OUT * IN), *db = fnew(OUT);
    elt_loss(&e);
    linear_backward(N, IN, OUT, din, dw, db, e.r, e.in, e.extra);
    grad_check("linear: d input", elt_loss, &e, e.in, din, N * IN, 1e-2f);
    grad_check("linear: d weight", elt_loss, &e, e.extra, dw, OUT * IN, 1e-2f);
    grad_check("linear: d bias", elt_loss, &e, e.extra2, db, OUT, 1e-2f);
    /* Without din, the parameter gradients still accumulate. */
    linear_backward(N, IN, OUT, NULL, dw, db, e.r, e.in, e.extra);
    double err = 0.0;
    float *dw1 = fnew(OUT * IN), *db1 = fnew(OUT);
    linear_backward(N, IN, OUT, NULL, dw1, db1, e.r, e.in, e.extra);
    for (int i = 0; i < OUT * IN; i++)
        err = fmax(err, fabs((double)dw[i] - 2.0 * (double)dw1[i]));
    for (int i = 0; i < OUT; i++)
        err = fmax(err, fabs((double)db[i] - 2.0 * (double)db1[i]));
    ok(err < 1e-5, "linear: parameter gradients add up (err %g)", err);
    free(e.in);
    free(e.extra);
    free(e.extra2);
    free(e.out);
    free(e.r);
    free(din);
    free(dw);
    free(db);
    free(dw1);
    free(db1);
}

/* --- softmax and cross-entropy ----------------------------------------- */

struct sx_ctx {
    int n, k;
    float *logits, *probs, *targets, *weights, *r;
    int *labels;
    int mode; /* 0 xent, 1 softmax projected on r */
};

static double
sx_loss(void *p)
{
    struct sx_ctx *s = p;
    if (s->mode == 0)
        return (double)softmax_xent_forward(s->n, s->k, s->probs, NULL,
                                            s->logits, s->labels, s->targets,
                                            s->weights);
    softmax_forward(s->n, s->k, s->probs, s->logits);
    return dot(s->probs, s->r, (size_t)s->n * s->k);
}

static void
test_softmax_xent(void)
{
    enum { N = 4, K = 5 };
    struct sx_ctx s = {N, K, NULL, NULL, NULL, NULL, NULL, NULL, 0};
    int labels[N] = {0, 3, 4, 1};
    float losses[N], dl[N * K];

    s.logits = frand(N * K, -2.0f, 2.0f);
    s.probs = fnew(N * K);
    s.labels = labels;

    sx_loss(&s);
    softmax_xent_backward(N, K, dl, s.probs, labels, NULL, NULL);
    grad_check("softmax xent, hard labels: d logits", sx_loss, &s, s.logits, dl,
               N * K, 1e-2f);

    s.weights = frand(N, 0.0f, 2.0f);
    s.weights[2] = 0.0f;
    sx_loss(&s);
    softmax_xent_backward(N, K, dl, s.probs, labels, NULL, s.weights);
    grad_check("softmax xent, weighted: d logits", sx_loss, &s, s.logits, dl,
               N * K, 1e-2f);
    int zero_row = 1;
    for (int j = 0; j < K; j++)
        zero_row &= dl[2 * K + j] == 0.0f;
    ok(zero_row, "a sample of weight 0 gets no gradient");

    s.labels = NULL;
    s.targets = frand(N * K, 0.0f, 1.0f);
    for (int i = 0; i < N - 1; i++) { /* rows sum to 1, but the last */
        double t = 0.0;
        for (int j = 0; j < K; j++)
            t += (double)s.targets[i * K + j];
        for (int j = 0; j < K; j++)
            s.targets[i * K + j] = (float)((double)s.targets[i * K + j] / t);
    }
    sx_loss(&s);
    softmax_xent_backward(N, K, dl, s.probs, NULL, s.targets, s.weights);
    grad_check("softmax xent, soft targets, weighted: d logits", sx_loss, &s,
               s.logits, dl, N * K, 1e-2f);

    /* One-hot soft targets give the hard-label loss; losses are per sample
     * and unweighted. */
    memset(s.targets, 0, sizeof(float) * N * K);
    for (int i = 0; i < N; i++)
        s.targets[i * K + labels[i]] = 1.0f;
    float soft = softmax_xent_forward(N, K, s.probs, losses, s.logits, NULL,
                                      s.targets, s.weights);
    float hard = softmax_xent_forward(N, K, s.probs, NULL, s.logits, labels,
                                      NULL, s.weights);
    is_float(soft, (double)hard, 1e-6);
    double want = 0.0;
    for (int i = 0; i < N; i++)
        want += (double)s.weights[i] * (double)losses[i];
    is_float(hard, want / N, 1e-5);
    is_float(losses[1], -log((double)s.probs[1 * K + 3]), 1e-5);

    /* Huge logits stay finite. */
    float big[2 * 3] = {1000.0f, 0.0f, -1000.0f, 0.0f, 0.0f, 3000.0f};
    float pb[6];
    int lb[2] = {2, 2};
    float l = softmax_xent_forward(2, 3, pb, NULL, big, lb, NULL, NULL);
    is_float(l, 1000.0, 1e-2);

    /* softmax_backward_add: L = sum r * softmax(x). */
    s.mode = 1;
    s.r = frand(N * K, -1.0f, 1.0f);
    sx_loss(&s);
    for (int i = 0; i < N * K; i++)
        dl[i] = 0.25f;
    softmax_backward_add(N, K, dl, s.probs, s.r);
    for (int i = 0; i < N * K; i++)
        dl[i] -= 0.25f;
    grad_check("softmax (added): d logits", sx_loss, &s, s.logits, dl, N * K,
               1e-2f);

    free(s.logits);
    free(s.probs);
    free(s.targets);
    free(s.weights);
    free(s.r);
}

/* --- RNG, init, optimizer ---------------------------------------------- */

static void
test_rng(void)
{
    struct rng a, b;
    int same = 1, differ = 0, in_range = 1;
    double s = 0.0, s2 = 0.0, su = 0.0;
    enum { M = 200000 };

    rng_seed(&a, 7);
    rng_seed(&b, 7);
    for (int i = 0; i < 1000; i++)
        same &= rng_u32(&a) == rng_u32(&b);
    ok(same, "one seed, one stream");
    rng_seed(&a, 7);
    rng_seed(&b, 8);
    for (int i = 0; i < 10; i++)
        differ += rng_u32(&a) != rng_u32(&b);
    ok(differ >= 9, "nearby seeds give different streams");

    /* The reference xoshiro128** from the state {1, 2, 3, 4}. */
    a.s[0] = 1;
    a.s[1] = 2;
    a.s[2] = 3;
    a.s[3] = 4;
    uint32_t v1 = rng_u32(&a), v2 = rng_u32(&a);
    ok(v1 == 11520u && v2 == 0u, "xoshiro128** reference values (%u, %u)", v1,
       v2);

    rng_seed(&a, 1);
    for (int i = 0; i < M; i++) {
        float u = rng_uniform(&a), z = rng_normal(&a);
        in_range &= u >= 0.0f && u < 1.0f && isfinite(z);
        su += (double)u;
        s += (double)z;
        s2 += (double)z * (double)z;
    }
    ok(in_range, "uniform in [0, 1), normal finite");
    is_float(su / M, 0.5, 0.005);
    is_float(s / M, 0.0, 0.01);
    is_float(s2 / M, 1.0, 0.02);

    int counts[7] = {0}, below_ok = 1;
    for (int i = 0; i < 70000; i++) {
        uint32_t v = rng_below(&a, 7);
        if (v >= 7)
            below_ok = 0;
        else
            counts[v]++;
    }
    for (int i = 0; i < 7; i++)
        below_ok &= counts[i] > 9500 && counts[i] < 10500;
    ok(below_ok, "rng_below(7) is in range and even");

    int perm[100], seen[100] = {0}, moved = 0, perm_ok = 1;
    rng_permutation(&a, perm, 100);
    for (int i = 0; i < 100; i++) {
        if (perm[i] < 0 || perm[i] >= 100 || seen[perm[i]]++)
            perm_ok = 0;
        moved += perm[i] != i;
    }
    ok(perm_ok && moved > 80, "rng_permutation is a shuffled permutation");
}

static void
test_he_init(void)
{
    enum { M = 100000 };
    float *w = fnew(M);
    double s = 0.0, s2 = 0.0;

    layers_init_he(&rng, w, M, 50);
    for (int i = 0; i < M; i++) {
        s += (double)w[i];
        s2 += (double)w[i] * (double)w[i];
    }
    is_float(s / M, 0.0, 0.002);
    is_float(s2 / M, 2.0 / 50.0, 0.001);
    free(w);
}

static void
test_optim(void)
{
    float p[2] = {1.0f, -2.0f}, g[2] = {0.5f, 0.25f}, v[2] = {0.0f, 0.0f};

    /* Plain momentum, two steps, by hand: wd 0.1, mu 0.9, lr 0.1. */
    optim_sgd_step(2, p, g, v, 0.1f, 0.9f, 0.1f, 0);
    /* g' = 0.5 + 0.1 = 0.6; v = 0.6; p = 1 - 0.06 = 0.94 */
    is_float(p[0], 0.94, 1e-6);
    is_float(v[0], 0.6, 1e-6);
    optim_sgd_step(2, p, g, v, 0.1f, 0.9f, 0.1f, 0);
    /* g' = 0.5 + 0.094 = 0.594; v = 0.54 + 0.594 = 1.134; p = 0.94 - .1134 */
    is_float(p[0], 0.8266, 1e-6);

    float q[1] = {1.0f}, h[1] = {0.5f}, u[1] = {0.0f};
    optim_sgd_step(1, q, h, u, 0.1f, 0.9f, 0.0f, 1);
    /* Nesterov: v = 0.5; step = 0.5 + 0.9 * 0.5 = 0.95 */
    is_float(q[0], 1.0 - 0.095, 1e-6);
    optim_sgd_step(1, q, h, u, 0.1f, 0.9f, 0.0f, 1);
    /* v = 0.45 + 0.5 = 0.95; step = 0.5 + 0.855 = 1.355 */
    is_float(q[0], 1.0 - 0.095 - 0.1355, 1e-6);

    is_float(optim_lr_cosine(0, 100, 10, 1.0f, 0.0f), 0.1, 1e-6);
    is_float(optim_lr_cosine(9, 100, 10, 1.0f, 0.0f), 1.0, 1e-6);
    is_float(optim_lr_cosine(10, 100, 10, 1.0f, 0.0f), 1.0, 1e-6);
    is_float(optim_lr_cosine(55, 100, 10, 1.0f, 0.1f), 0.55, 1e-6);
    is_float(optim_lr_cosine(100, 100, 10, 1.0f, 0.1f), 0.1, 1e-6);
    is_float(optim_lr_cosine(5, 100, 0, 2.0f, 0.0f), 1.0 + cos(M_PI * 0.05),
             1e-5);
}

/* --- the thread team --------------------------------------------------- */

struct team_ctx {
    int ran[4], seen_threads[4];
};

static void
team_fn(void *arg, int t, int threads)
{
    struct team_ctx *c = arg;
    c->ran[t]++; /* each member writes its own slot */
    c->seen_threads[t] = threads;
}

static void
test_par(void)
{
    struct par *p;
    struct team_ctx c;
    char *cause = NULL;
    int covered = 1, even = 1;

    if (par_new(3, &p, &cause) == -1)
        bail("par_new: %s", cause);
    is_int(par_threads(p), ==, 3);
    for (int round = 0; round < 50; round++) {
        memset(&c, 0, sizeof(c));
        par_run(p, team_fn, &c);
        for (int t = 0; t < 3; t++)
            covered &= c.ran[t] == 1 && c.seen_threads[t] == 3;
        covered &= c.ran[3] == 0;
    }
    ok(covered, "every member runs once per par_run, 50 times over");
    par_free(p);
    par_free(NULL);

    for (int n = 0; n < 20; n++) {
        int next = 0;
        for (int t = 0; t < 3; t++) {
            int lo, hi;
            par_split(n, t, 3, &lo, &hi);
            even &= lo == next && hi - lo >= n / 3 && hi - lo <= n / 3 + 1;
            next = hi;
        }
        even &= next == n;
    }
    ok(even, "par_split cuts 0..n into contiguous, even shares");
}

/* --- the model --------------------------------------------------------- */

static void
tiny_config(struct model_config *cfg, int max_batch)
{
    model_config_default(cfg, 2, 8, 8, 3, max_batch);
    cfg->stages = 2;
    cfg->widths[0] = 4;
    cfg->widths[1] = 6;
}

struct model_ctx {
    struct model *m;
    const float *x;
    int n;
    int *labels;
    float *probs;
};

static double
model_loss(void *p)
{
    struct model_ctx *c = p;
    const float *logits = model_forward(c->m, c->x, c->n, 1);
    return (double)softmax_xent_forward(c->n, model_config(c->m)->classes,
                                        c->probs, NULL, logits, c->labels, NULL,
                                        NULL);
}

static void
test_model_grad(void)
{
    struct model_config cfg;
    struct model_ctx c;
    char *cause = NULL;
    int labels[4] = {0, 2, 1, 2};
    size_t np, ng;

    tiny_config(&cfg, 4);
    if (model_new(&cfg, &c.m, &cause) == -1)
        bail("model_new: %s", cause);
    model_init(c.m, &rng);
    float *x = frand(4 * 2 * 8 * 8, 0.0f, 1.0f);
    float probs[4 * 3], dl[4 * 3];
    c.x = x;
    c.n = 4;
    c.labels = labels;
    c.probs = probs;

    model_loss(&c);
    softmax_xent_backward(4, 3, dl, probs, labels, NULL, NULL);
    model_backward(c.m, dl);
    float *params = model_params(c.m, &np);
    float *grads = model_grads(c.m, &ng);
    float *analytic = fnew(ng);
    memcpy(analytic, grads, sizeof(float) * ng);
    /* Through the whole network, every trainable parameter. Here a step
     * of any size moves thousands of activations, and about one of them
     * crosses a ReLU or max-pool kink per difference (each such element is
     * off by a few percent, and shrinks with the step), so up to 10% of the
     * elements may miss the tolerance. A wiring error (a wrong buffer, a
     * missed layer) spoils whole tensors and fails this. */
    grad_check_some("whole model: d parameters", model_loss, &c, params,
                    analytic, ng, 1e-3f, ng, 0.10);
    free(analytic);
    free(x);
    model_free(c.m);
}

/* Two classes of 1x8x8 images: a bright 3x3 blob at the top left or at the
 * bottom right, on noise. */
static void
toy_data(struct rng *r, float *x, int *labels, int n)
{
    for (int i = 0; i < n; i++) {
        int y = i % 2;
        labels[i] = y;
        for (int p = 0; p < 64; p++)
            x[i * 64 + p] = 0.3f * rng_uniform(r);
        for (int dy = 0; dy < 3; dy++)
            for (int dx = 0; dx < 3; dx++) {
                int py = y ? 5 + dy : dy, px = y ? 5 + dx : dx;
                x[i * 64 + py * 8 + px] += 1.0f;
            }
    }
}

/* Train on the toy problem; returns the model (caller frees) and fills the
 * first and last epochs' mean loss and the final accuracy. */
static struct model *
toy_train(uint64_t seed, double *first, double *last, double *acc)
{
    enum { N = 64, B = 16, EPOCHS = 8 };
    static const struct optim_sgd opt = {0.9f, 5e-4f, 1};
    struct model_config cfg;
    struct model *m;
    struct rng r;
    char *cause = NULL;
    float *x = fnew(N * 64), *xb = fnew(B * 64), probs[B * 2], dl[B * 2];
    int labels[N], lb[B], order[N];
    long step = 0, total = (long)EPOCHS * (N / B);

    model_config_default(&cfg, 1, 8, 8, 2, B);
    cfg.stages = 2;
    cfg.widths[0] = 8;
    cfg.widths[1] = 16;
    cfg.convs_per_stage = 1;
    if (model_new(&cfg, &m, &cause) == -1)
        bail("model_new: %s", cause);
    rng_seed(&r, seed);
    toy_data(&r, x, labels, N);
    model_init(m, &r);
    for (int e = 0; e < EPOCHS; e++) {
        double sum = 0.0;
        rng_permutation(&r, order, N);
        for (int b0 = 0; b0 < N; b0 += B, step++) {
            for (int i = 0; i < B; i++) {
                memcpy(xb + i * 64, x + order[b0 + i] * 64, sizeof(float) * 64);
                lb[i] = labels[order[b0 + i]];
            }
            const float *logits = model_forward(m, xb, B, 1);
            sum += (double)softmax_xent_forward(B, 2, probs, NULL, logits, lb,
                                                NULL, NULL);
            softmax_xent_backward(B, 2, dl, probs, lb, NULL, NULL);
            model_backward(m, dl);
            model_sgd_step(m, &opt,
                           optim_lr_cosine(step, total, 4, 0.05f, 0.0f));
        }
        if (e == 0)
            *first = sum / (N / B);
        *last = sum / (N / B);
    }
    int right = 0;
    for (int b0 = 0; b0 < N; b0 += B) {
        const float *logits = model_forward(m, x + b0 * 64, B, 0);
        for (int i = 0; i < B; i++)
            right += (logits[2 * i + 1] > logits[2 * i]) == labels[b0 + i];
    }
    *acc = (double)right / N;
    free(x);
    free(xb);
    return m;
}

static void
test_model_train(void)
{
    double first, last, acc, f2, l2, a2;
    size_t n1, n2, v1, v2;

    struct model *a = toy_train(11, &first, &last, &acc);
    ok(last < 0.5 * first && acc >= 0.9,
       "toy problem: loss falls from %.3f to %.3f, accuracy %.2f", first, last,
       acc);

    /* Same seed, a team of two threads, twice: the same bits. */
    gemm_set_threads(2);
    struct model *b = toy_train(11, &first, &last, &acc);
    struct model *c = toy_train(11, &f2, &l2, &a2);
    gemm_set_threads(1);
    ok(model_threads(b) == 2 && model_threads(c) == 2,
       "the models run teams of two");
    ok(last < 0.5 * first && acc >= 0.9,
       "toy problem with two threads: loss %.3f to %.3f, accuracy %.2f", first,
       last, acc);
    float *pb = model_params(b, &n1), *pc = model_params(c, &n2);
    float *vb = model_velocity(b, &v1), *vc = model_velocity(c, &v2);
    ok(n1 == n2 && memcmp(pb, pc, sizeof(float) * n1) == 0 && v1 == v2 &&
           memcmp(vb, vc, sizeof(float) * v1) == 0 && first == f2 && last == l2,
       "two runs with one seed are bit-identical (%zu parameters)", n1);

    struct model *d = toy_train(12, &f2, &l2, &a2);
    float *pd = model_params(d, &n2);
    ok(memcmp(pb, pd, sizeof(float) * n1) != 0,
       "another seed gives other weights");
    model_free(a);
    model_free(b);
    model_free(c);
    model_free(d);
}

static void
test_model_api(void)
{
    struct model_config cfg;
    struct model *m = NULL;
    char *cause = NULL;
    size_t np, ng, nv;

    tiny_config(&cfg, 4);
    cfg.classes = 1;
    int rc = model_new(&cfg, &m, &cause);
    ok(rc == -1 && m == NULL && cause != NULL, "one class is refused: %s",
       cause ? cause : "(no cause)");
    free(cause);
    cause = NULL;
    model_config_default(&cfg, 3, 4, 4, 10, 4);
    rc = model_new(&cfg, &m, &cause);
    ok(rc == -1 && cause != NULL, "4x4 images are refused for 3 stages: %s",
       cause ? cause : "(no cause)");
    free(cause);
    cause = NULL;

    tiny_config(&cfg, 4);
    if (model_new(&cfg, &m, &cause) == -1)
        bail("model_new: %s", cause);
    model_init(m, &rng);
    float *p = model_params(m, &np);
    model_grads(m, &ng);
    model_velocity(m, &nv);
    ok(ng == nv && ng == model_n_trainable(m) && np > ng &&
           model_n_decay(m) < ng && model_n_decay(m) > 0,
       "blocks: %zu params (%zu trainable, %zu decayed)", np, ng,
       model_n_decay(m));
    /* Convolution and classifier weights: 2*9*4 + 4*9*4 + 4*9*6 + 6*9*6 +
     * 6*3, each tensor rounded up to 16 floats. */
    ok(model_n_decay(m) >= 72 + 144 + 216 + 324 + 18,
       "every weight is in the decayed part");
    ok(model_flops(m) > 0.0, "flops per image: %.0f", model_flops(m));
    is_int(model_threads(m), ==, 1);

    /* A checkpoint is the parameter block: restoring it restores the
     * function. */
    float *x = frand(4 * 2 * 8 * 8, 0.0f, 1.0f), l1[12], l2[12];
    float *saved = fnew(np);
    memcpy(l1, model_forward(m, x, 4, 0), sizeof(l1));
    memcpy(saved, p, sizeof(float) * np);
    model_init(m, &rng);
    memcpy(l2, model_forward(m, x, 4, 0), sizeof(l2));
    ok(memcmp(l1, l2, sizeof(l1)) != 0, "a fresh init changes the outputs");
    memcpy(p, saved, sizeof(float) * np);
    memcpy(l2, model_forward(m, x, 4, 0), sizeof(l2));
    ok(memcmp(l1, l2, sizeof(l1)) == 0,
       "restoring the parameter block restores the outputs");
    memcpy(l2, model_forward(m, x, 3, 0), sizeof(float) * 9);
    ok(memcmp(l1, l2, sizeof(float) * 9) == 0,
       "eval outputs do not depend on the batch size");
    free(x);
    free(saved);
    model_free(m);
    model_free(NULL);
}

int
main(void)
{
    rng_seed(&rng, 2024);
    gemm_set_threads(1);

    test_conv_geom();
    test_conv_grad(2, 3, 7, 6, 4, 3, 2, 1);        /* stride and padding */
    test_conv_grad(3, 2, 5, 5, 3, 3, 1, 1);        /* same size, grouped */
    test_conv_grad(2, 2, 6, 5, 3, 3, 1, 0);        /* valid, stride 1 */
    test_conv_grad(2, 3, 4, 4, 2, 1, 1, 0);        /* 1x1 */
    test_conv_reference(5, 3, 16, 16, 4, 3, 1, 1); /* groups of 4, then 1 */
    test_conv_reference(2, 1, 64, 64, 2, 3, 1, 1); /* one image a product */
    test_conv_reference(3, 3, 9, 9, 5, 3, 2, 1);   /* general im2col */
    test_conv_reference(2, 2, 8, 19, 3, 5, 1, 2);  /* same size, 5x5 */

    test_batchnorm_grad(2, 3, 20, 0);
    test_batchnorm_grad(2, 3, 20, 1);
    test_batchnorm_grad(3, 2, 5, 1);
    test_batchnorm_stats();
    test_batchnorm_phases(0);
    test_batchnorm_phases(1);

    test_relu();
    test_maxpool(2, 2, 5, 7);
    test_maxpool(1, 2, 4, 36);
    test_maxpool_ties();
    test_avgpool();
    test_linear();
    test_softmax_xent();

    test_rng();
    test_he_init();
    test_optim();
    test_par();

    test_model_api();
    test_model_grad();
    test_model_train();
    return done_testing();
}
