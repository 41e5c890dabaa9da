/* t-optim: the optimizer (engine/optim.c) and the model's step over it.
 *
 * One SGD step with Nesterov momentum and weight decay, from values worked
 * out by hand in the comments; then model_sgd_step on a real parameter
 * block, where the weights must take the decay and the batch-norm
 * parameters and biases must not, and the running statistics must not
 * move at all; then the learning rate through warm-up and the cosine. */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/gemm.h"
#include "engine/model.h"
#include "engine/optim.h"
#include "engine/rng.h"
#include "tests/tap.h"

static void
test_step_by_hand(void)
{
    /* lr 0.5, momentum 0.9, weight decay 0.1, Nesterov.
     * p = 2, grad = 0.3, v = 0.4:
     *   g = 0.3 + 0.1 * 2 = 0.5
     *   v = 0.9 * 0.4 + 0.5 = 0.86
     *   p = 2 - 0.5 * (0.5 + 0.9 * 0.86) = 2 - 0.5 * 1.274 = 1.363
     * p = -1, grad = 0, v = 0 (decay alone):
     *   g = -0.1; v = -0.1; p = -1 - 0.5 * (-0.1 - 0.09) = -0.905 */
    float p[2] = {2.0f, -1.0f}, g[2] = {0.3f, 0.0f}, v[2] = {0.4f, 0.0f};
    optim_sgd_step(2, p, g, v, 0.5f, 0.9f, 0.1f, 1);
    is_float(v[0], 0.86, 1e-6);
    is_float(p[0], 1.363, 1e-6);
    is_float(v[1], -0.1, 1e-6);
    is_float(p[1], -0.905, 1e-6);
    ok(g[0] == 0.3f && g[1] == 0.0f, "the gradient is only read");

    /* The same without decay (what BN parameters and biases get):
     *   g = 0.3; v = 0.36 + 0.3 = 0.66; p = 2 - 0.5 * (0.3 + 0.594)
     *   = 2 - 0.447 = 1.553 */
    float q[1] = {2.0f}, h[1] = {0.3f}, u[1] = {0.4f};
    optim_sgd_step(1, q, h, u, 0.5f, 0.9f, 0.0f, 1);
    is_float(u[0], 0.66, 1e-6);
    is_float(q[0], 1.553, 1e-6);

    /* Plain momentum: p -= lr * v = 2 - 0.5 * 0.86 = 1.57. */
    float r[1] = {2.0f}, k[1] = {0.3f}, w[1] = {0.4f};
    optim_sgd_step(1, r, k, w, 0.5f, 0.9f, 0.1f, 0);
    is_float(r[0], 1.57, 1e-6);

    /* No momentum: plain SGD, p = 2 - 0.5 * 0.5 = 1.75. */
    float s[1] = {2.0f}, l[1] = {0.3f}, x[1] = {0.0f};
    optim_sgd_step(1, s, l, x, 0.5f, 0.0f, 0.1f, 1);
    is_float(s[0], 1.75, 1e-6);
}

/* model_sgd_step on a small model's blocks, against the update computed
 * here in double for each element, with or without decay by its place. */
static void
test_model_step(void)
{
    struct model_config cfg;
    struct model *m;
    struct rng r;
    char *cause = NULL;
    size_t np, ng, nv;

    gemm_set_threads(1);
    model_config_default(&cfg, 1, 4, 4, 3, 2);
    cfg.stages = 1;
    cfg.widths[0] = 2;
    if (model_new(&cfg, &m, &cause) != 0)
        bail("model_new: %s", cause);
    rng_seed(&r, 3);
    model_init(m, &r);
    float *p = model_params(m, &np), *g = model_grads(m, &ng);
    float *v = model_velocity(m, &nv);
    size_t n_decay = model_n_decay(m), n_train = model_n_trainable(m);
    ok(n_decay > 0 && n_decay < n_train && n_train < np && ng == n_train &&
           nv == n_train,
       "blocks: %zu decayed, %zu trainable, %zu in all", n_decay, n_train, np);
    for (size_t i = 0; i < np; i++)
        p[i] = rng_normal(&r);
    for (size_t i = 0; i < n_train; i++) {
        g[i] = rng_normal(&r);
        v[i] = rng_normal(&r);
    }
    float *p0 = malloc(np * sizeof *p0), *v0 = malloc(nv * sizeof *v0);
    if (p0 == NULL || v0 == NULL)
        bail("out of memory");
    memcpy(p0, p, np * sizeof *p0);
    memcpy(v0, v, nv * sizeof *v0);

    const double lr = 0.25, mu = 0.9, wd = 0.01;
    struct optim_sgd opt = {
        .momentum = (float)mu, .weight_decay = (float)wd, .nesterov = 1};
    model_sgd_step(m, &opt, (float)lr);
    double worst_decay = 0.0, worst_plain = 0.0;
    for (size_t i = 0; i < n_train; i++) {
        double decay = i < n_decay ? wd : 0.0;
        double gi = (double)g[i] + decay * (double)p0[i];
        double vi = mu * (double)v0[i] + gi;
        double pi = (double)p0[i] - lr * (gi + mu * vi);
        double e = fmax(fabs(pi - (double)p[i]), fabs(vi - (double)v[i]));
        if (i < n_decay)
            worst_decay = fmax(worst_decay, e);
        else
            worst_plain = fmax(worst_plain, e);
    }
    ok(worst_decay < 1e-5,
       "weights step with decay (worst error %.1e over %zu)", worst_decay,
       n_decay);
    ok(worst_plain < 1e-5,
       "BN parameters and biases step without it (worst %.1e over %zu)",
       worst_plain, n_train - n_decay);
    /* Had they taken decay, the difference would show: */
    double shown = 0.0;
    for (size_t i = n_decay; i < n_train; i++)
        shown = fmax(shown, lr * (1.0 + mu) * wd * fabs((double)p0[i]));
    ok(shown > 1e-4, "(decay would have moved them by up to %.1e)", shown);
    ok(memcmp(p + n_train, p0 + n_train, (np - n_train) * sizeof *p) == 0,
       "the running statistics do not move");
    free(p0);
    free(v0);
    model_free(m);
}

static void
test_schedule(void)
{
    /* Peak 0.1, no floor, 100 steps of which 10 warm up. */
    is_float(optim_lr_cosine(0, 100, 10, 0.1f, 0.0f), 0.01, 1e-7);
    is_float(optim_lr_cosine(4, 100, 10, 0.1f, 0.0f), 0.05, 1e-7);
    is_float(optim_lr_cosine(9, 100, 10, 0.1f, 0.0f), 0.1, 1e-7);
    /* The cosine starts at the peak... */
    is_float(optim_lr_cosine(10, 100, 10, 0.1f, 0.0f), 0.1, 1e-7);
    /* ... a third of the way, cos(pi/3) = 1/2: 0.1 * (1 + 1/2) / 2 ... */
    is_float(optim_lr_cosine(40, 100, 10, 0.1f, 0.0f), 0.075, 1e-7);
    /* ... half way, cos(pi/2) = 0: half the peak ... */
    is_float(optim_lr_cosine(55, 100, 10, 0.1f, 0.0f), 0.05, 1e-7);
    /* ... two thirds, cos(2pi/3) = -1/2: a quarter ... */
    is_float(optim_lr_cosine(70, 100, 10, 0.1f, 0.0f), 0.025, 1e-7);
    /* ... and the floor at the end and beyond. */
    is_float(optim_lr_cosine(100, 100, 10, 0.1f, 0.0f), 0.0, 1e-9);
    is_float(optim_lr_cosine(5000, 100, 10, 0.1f, 0.0f), 0.0, 1e-9);
    /* With a floor of 0.02 the half-way point is (0.1 + 0.02) / 2. */
    is_float(optim_lr_cosine(55, 100, 10, 0.1f, 0.02f), 0.06, 1e-7);
    /* A negative step counts as the first. */
    is_float(optim_lr_cosine(-3, 100, 10, 0.1f, 0.0f), 0.01, 1e-7);
    /* No warm-up: the cosine from step 0. */
    is_float(optim_lr_cosine(0, 100, 0, 0.1f, 0.0f), 0.1, 1e-7);
    is_float(optim_lr_cosine(50, 100, 0, 0.1f, 0.0f), 0.05, 1e-7);
    /* All warm-up: the floor once it is over. */
    is_float(optim_lr_cosine(9, 10, 10, 0.1f, 0.0f), 0.1, 1e-7);
    is_float(optim_lr_cosine(10, 10, 10, 0.1f, 0.0f), 0.0, 1e-9);

    /* The whole curve: rising through the warm-up, then never rising. */
    int shape = 1;
    float last = 0.0f;
    for (long s = 0; s < 1000; s++) {
        float lr = optim_lr_cosine(s, 1000, 50, 0.1f, 0.0f);
        shape &= s < 50 ? lr > last : lr <= last;
        shape &= lr >= 0.0f && lr <= 0.1f;
        last = lr;
    }
    ok(shape, "the rate rises through the warm-up and then only falls");
}

int
main(void)
{
    test_step_by_hand();
    test_model_step();
    test_schedule();
    return done_testing();
}
