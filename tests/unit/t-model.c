/* t-model: the whole network (engine/model.c) against finite differences.
 *
 * A tiny network (2 stages of 2 convolutions, 3 and 4 channels, 6x6 input
 * so the second pool drops a row and a column, 3 classes) in training
 * mode on 3 samples; the loss is the mean cross-entropy, taken in double
 * from the logits. Every trainable parameter is moved by +-H and the
 * central difference compared with model_backward's gradient:
 *     |numeric - analytic| <= TOL * max(|numeric|, |analytic|) + FLOOR
 * with FLOOR a thousandth of the largest gradient (the loss's float
 * rounding over 2H is below that).
 *
 * A difference that straddles a ReLU or max-pool kink is not a gradient:
 * such a parameter is recognised by its one-sided differences disagreeing
 * (the loss bends sharply inside the step) and skipped, and at most
 * MAX_KINKED of the parameters may be. Every other parameter must pass: no
 * fraction of failures is allowed, so one wrong element fails the test,
 * and the test checks that of itself by negating single elements of the
 * analytic gradient.
 *
 * The input has no gradient to check: model_backward stops at the first
 * convolution's weights (nothing upstream needs d input). The check runs
 * with one thread and with a team of two, whose members' weight gradients
 * are summed at the end. */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/gemm.h"
#include "engine/model.h"
#include "engine/rng.h"
#include "tests/tap.h"

#define TOL        1e-2
#define FLOOR_FRAC 1e-3
#define H          2e-3f
#define MAX_KINKED 0.05

enum { B = 3, C = 2, S = 6, K = 3 };

struct net {
    struct model *m;
    float x[B * C * S * S];
    int labels[B];
};

/* Mean cross-entropy of the batch, in double from the float logits; its
 * gradient with respect to the logits in dlogits when that is not NULL. */
static double
net_loss(struct net *t, float *dlogits)
{
    const float *z = model_forward(t->m, t->x, B, 1);
    double loss = 0.0;
    for (int b = 0; b < B; b++) {
        const float *zb = z + b * K;
        double top = (double)zb[0], sum = 0.0;
        for (int j = 1; j < K; j++)
            top = fmax(top, (double)zb[j]);
        for (int j = 0; j < K; j++)
            sum += exp((double)zb[j] - top);
        loss += log(sum) + top - (double)zb[t->labels[b]];
        if (dlogits == NULL)
            continue;
        for (int j = 0; j < K; j++) {
            double p = exp((double)zb[j] - top) / sum;
            dlogits[b * K + j] = (float)((p - (j == t->labels[b])) / B);
        }
    }
    return loss / B;
}

/* Central and one-sided differences of every trainable parameter. */
struct diffs {
    size_t n;
    double *num; /* central */
    int *kinked; /* one-sided differences disagree */
};

static void
take_diffs(struct net *t, struct diffs *d)
{
    size_t np;
    float *p = model_params(t->m, &np);
    d->n = model_n_trainable(t->m);
    d->num = calloc(d->n, sizeof *d->num);
    d->kinked = calloc(d->n, sizeof *d->kinked);
    if (d->num == NULL || d->kinked == NULL)
        bail("out of memory");
    double l0 = net_loss(t, NULL);
    for (size_t i = 0; i < d->n; i++) {
        float orig = p[i];
        float up = orig + H, down = orig - H;
        p[i] = up;
        double lp = net_loss(t, NULL);
        p[i] = down;
        double lm = net_loss(t, NULL);
        p[i] = orig;
        double hu = (double)up - (double)orig, hd = (double)orig - (double)down;
        double fwd = (lp - l0) / hu, bwd = (l0 - lm) / hd;
        d->num[i] = (lp - lm) / (hu + hd);
        /* Smooth, the two agree to O(H * curvature); across a kink they
         * differ by the jump in slope. */
        d->kinked[i] =
            fabs(fwd - bwd) > 0.05 * fmax(fabs(fwd), fabs(bwd)) + 1e-4;
    }
}

struct verdict {
    size_t checked, kinked, bad, worst_i;
    double worst, gmax;
};

static struct verdict
judge(const struct diffs *d, const float *analytic)
{
    struct verdict v = {0};
    for (size_t i = 0; i < d->n; i++)
        v.gmax = fmax(v.gmax, fabs((double)analytic[i]));
    double floor = FLOOR_FRAC * v.gmax;
    for (size_t i = 0; i < d->n; i++) {
        if (d->kinked[i]) {
            v.kinked++;
            continue;
        }
        double a = (double)analytic[i], num = d->num[i];
        double err = fabs(num - a) - TOL * fmax(fabs(num), fabs(a));
        v.checked++;
        if (err > floor)
            v.bad++;
        double rel = fabs(num - a) / (fmax(fabs(num), fabs(a)) + floor);
        if (rel > v.worst) {
            v.worst = rel;
            v.worst_i = i;
        }
    }
    return v;
}

static void
net_init(struct net *t, int threads, uint64_t seed)
{
    struct model_config cfg;
    struct rng r;
    char *cause = NULL;
    gemm_set_threads(threads);
    model_config_default(&cfg, C, S, S, K, B);
    cfg.stages = 2;
    cfg.widths[0] = 3;
    cfg.widths[1] = 4;
    cfg.convs_per_stage = 2;
    if (model_new(&cfg, &t->m, &cause) != 0)
        bail("model_new: %s", cause);
    rng_seed(&r, seed);
    model_init(t->m, &r);
    /* Batch norm's scale and shift away from 1 and 0, so that their
     * gradients are not special cases. */
    size_t np;
    float *p = model_params(t->m, &np);
    for (size_t i = model_n_decay(t->m); i < model_n_trainable(t->m); i++)
        p[i] += 0.3f * rng_normal(&r);
    for (size_t i = 0; i < WN_ARRAY_LEN(t->x); i++)
        t->x[i] = rng_normal(&r);
    for (int b = 0; b < B; b++)
        t->labels[b] = (int)rng_below(&r, K);
}

/* Index of the largest |g[i]| for i in [lo, hi). */
static size_t
largest(const float *g, size_t lo, size_t hi)
{
    size_t best = lo;
    for (size_t i = lo; i < hi; i++)
        if (fabsf(g[i]) > fabsf(g[best]))
            best = i;
    return best;
}

static void
test_gradients(int threads)
{
    struct net t;
    struct diffs d;
    float dlogits[B * K];
    size_t ng;

    net_init(&t, threads, 42);
    ok(model_threads(t.m) == threads, "a team of %d", threads);
    net_loss(&t, dlogits);
    model_backward(t.m, dlogits);
    const float *g = model_grads(t.m, &ng);
    float *analytic = malloc(ng * sizeof *analytic);
    if (analytic == NULL)
        bail("out of memory");
    memcpy(analytic, g, ng * sizeof *analytic);
    take_diffs(&t, &d);

    struct verdict v = judge(&d, analytic);
    ok(v.bad == 0 && v.gmax > 0.0 && v.checked > 0,
       "%d thread(s): %zu of %zu parameter gradients match the differences, "
       "%zu over (worst rel err %.1e at %zu, largest |grad| %.3g)",
       threads, v.checked - v.bad, v.checked, v.bad, v.worst, v.worst_i,
       v.gmax);
    ok((double)v.kinked <= MAX_KINKED * (double)d.n,
       "%d thread(s): %zu of %zu differences straddle a kink (at most %.0f%%)",
       threads, v.kinked, d.n, 100.0 * MAX_KINKED);
    /* Each part of the block has gradients: the decayed weights
     * (convolutions, classifier) and the rest (batch norm, bias). */
    size_t n_decay = model_n_decay(t.m);
    size_t w = largest(analytic, 0, n_decay);
    size_t bn = largest(analytic, n_decay, ng);
    ok(fabsf(analytic[w]) > 1e-3f && fabsf(analytic[bn]) > 1e-3f,
       "%d thread(s): weights and BN/bias parameters have gradients "
       "(%.3g, %.3g)",
       threads, (double)analytic[w], (double)analytic[bn]);

    /* The check catches one wrong element: the largest of each part
     * negated, and a middling one of the weights scaled by 1.1. */
    size_t pick[3] = {w, bn, 0};
    for (size_t i = 0; i < n_decay; i++)
        if (!d.kinked[i] && fabsf(analytic[i]) > 0.05f * fabsf(analytic[w]) &&
            fabsf(analytic[i]) < 0.5f * fabsf(analytic[w])) {
            pick[2] = i;
            break;
        }
    for (int k = 0; k < 3; k++) {
        float keep = analytic[pick[k]];
        analytic[pick[k]] = k < 2 ? -keep : 1.1f * keep;
        struct verdict broken = judge(&d, analytic);
        analytic[pick[k]] = keep;
        ok(broken.bad >= 1 || d.kinked[pick[k]],
           "%d thread(s): %s gradient %zu (%.3g) is caught", threads,
           k < 2 ? "a negated" : "a 10% too large", pick[k], (double)keep);
    }
    free(d.num);
    free(d.kinked);
    free(analytic);
    model_free(t.m);
}

/* The team's split changes only the order of the weight gradients' sums. */
static void
test_team_agrees(void)
{
    struct net a, b;
    float dl[B * K];
    size_t n1, n2;
    net_init(&a, 1, 7);
    net_init(&b, 2, 7);
    double la = net_loss(&a, dl);
    model_backward(a.m, dl);
    double lb = net_loss(&b, dl);
    model_backward(b.m, dl);
    const float *ga = model_grads(a.m, &n1), *gb = model_grads(b.m, &n2);
    double worst = 0.0, gmax = 0.0;
    for (size_t i = 0; i < n1 && n1 == n2; i++) {
        worst = fmax(worst, fabs((double)ga[i] - (double)gb[i]));
        gmax = fmax(gmax, fabs((double)ga[i]));
    }
    ok(la == lb, "one and two threads give the same loss (%.9g)", la);
    ok(n1 == n2 && worst <= 1e-5 * gmax,
       "and the same gradients up to rounding (%.1e of %.2g)", worst, gmax);
    model_free(a.m);
    model_free(b.m);
}

/* The profile counts the training steps and names every layer, and
 * timing a team of three (whose members sum their gradients by runs of
 * the parameters) changes none of its bits. */
static void
test_profile(void)
{
    struct net a, b;
    float dl[B * K];
    size_t n1, n2, len = 0;
    char *text = NULL;
    FILE *f;

    net_init(&a, 3, 7);
    net_init(&b, 3, 7);
    model_profile_start(a.m);
    for (int step = 0; step < 2; step++) {
        net_loss(&a, dl);
        model_backward(a.m, dl);
        net_loss(&b, dl);
        model_backward(b.m, dl);
    }
    const float *ga = model_grads(a.m, &n1), *gb = model_grads(b.m, &n2);
    ok(n1 == n2 && memcmp(ga, gb, sizeof(float) * n1) == 0,
       "a timed team of 3 computes the same bits as an untimed one");
    f = open_memstream(&text, &len);
    if (f == NULL)
        bail("open_memstream failed");
    model_profile_print(a.m, f);
    fclose(f);
    ok(strstr(text, "profile: 2 training steps, 3 images each") != NULL &&
           strstr(text, "conv3 bwd") != NULL &&
           strstr(text, "whole step") != NULL,
       "the profile counts the steps and has a row per layer");
    free(text);
    model_free(a.m);
    model_free(b.m);
}

int
main(void)
{
    test_gradients(1);
    test_gradients(2);
    test_team_agrees();
    test_profile();
    gemm_set_threads(1);
    return done_testing();
}
