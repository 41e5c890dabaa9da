/* tests/unit/t-mixture.c: two Gaussians fitted to one class's doubts.
 *
 * Made samples where the answer is known: a clean spread with a separate
 * mode of a tenth above it (the weight and the samples counted are
 * found), one Gaussian alone (hardly anything is counted), values too few
 * or all alike (nothing is), the same fit on every run, and the log-odds'
 * clamp. */
#include "config.h"

#include <math.h>
#include <stdlib.h>

#include "data/base.h"
#include "engine/mixture.h"
#include "engine/rng.h"
#include "tests/tap.h"

enum { N = 4000 };

/* The share of x[0..n) that the upper component explains better. */
static double
counted(const struct mixture_fit *fit, const double *x, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += mixture_posterior(fit, x[i]) > 0.5;
    return (double)c / (double)n;
}

static void
test_two_modes(void)
{
    static double x[N], scratch[N];
    struct rng r;
    rng_seed(&r, 3);
    /* Every tenth sample from the upper mode, four widths away. */
    for (size_t i = 0; i < N; i++)
        x[i] = i % 10 == 0 ? 4.0 + 0.5 * (double)rng_normal(&r)
                           : (double)rng_normal(&r);
    struct mixture_fit fit;
    mixture_fit(x, N, scratch, &fit);
    diag("weight %.4f, means %.3f %.3f, sds %.3f %.3f, %d iterations",
         fit.weight, fit.mean[0], fit.mean[1], fit.sd[0], fit.sd[1],
         fit.iterations);
    is_float(fit.weight, 0.1, 0.01);
    is_float(fit.mean[0], 0.0, 0.1);
    is_float(fit.mean[1], 4.0, 0.1);
    is_float(counted(&fit, x, N), 0.1, 0.01);
    ok(mixture_posterior(&fit, 5.0) > 0.99, "far above: the upper mode");
    ok(mixture_posterior(&fit, -1.0) < 0.01, "below: the clean spread");

    /* The order of the values does not matter to the result. */
    static double rev[N];
    for (size_t i = 0; i < N; i++)
        rev[i] = x[N - 1 - i];
    struct mixture_fit again;
    mixture_fit(rev, N, scratch, &again);
    is_float(again.weight, fit.weight, 1e-9);
    /* The same values give the same fit, bit for bit. */
    mixture_fit(x, N, scratch, &again);
    ok(again.weight == fit.weight && again.mean[1] == fit.mean[1] &&
           again.sd[0] == fit.sd[0] && again.iterations == fit.iterations,
       "the same fit twice");
}

static void
test_one_mode(void)
{
    static double x[N], scratch[N];
    struct rng r;
    rng_seed(&r, 4);
    for (size_t i = 0; i < N; i++)
        x[i] = (double)rng_normal(&r);
    struct mixture_fit fit;
    mixture_fit(x, N, scratch, &fit);
    diag("one Gaussian: weight %.4f", fit.weight);
    is_float(fit.weight, 0.0, 0.0);
    is_float(counted(&fit, x, N), 0.0, 0.0);
    /* Smaller samples, where two Gaussians would now and then split
     * one: the information criterion keeps them whole. */
    int whole = 0;
    for (int t = 0; t < 20; t++) {
        for (size_t i = 0; i < 600; i++)
            x[i] = 0.3 + 1.3 * (double)rng_normal(&r);
        mixture_fit(x, 600, scratch, &fit);
        whole += fit.weight == 0.0;
    }
    ok(whole >= 19, "600 values of one Gaussian: %d of 20 kept whole", whole);
}

static void
test_degenerate(void)
{
    double x[3] = {1.0, 1.0, 1.0}, scratch[3];
    struct mixture_fit fit;
    mixture_fit(x, 3, scratch, &fit);
    is_float(fit.weight, 0.0, 0.0);
    is_float(mixture_posterior(&fit, 9.0), 0.0, 0.0);
    mixture_fit(x, 1, scratch, &fit);
    is_float(fit.weight, 0.0, 0.0);
    mixture_fit(x, 0, scratch, &fit);
    is_float(fit.weight, 0.0, 0.0);
    /* Two values: one per component at most, never a crash. */
    x[1] = 2.0;
    mixture_fit(x, 2, scratch, &fit);
    ok(fit.weight >= 0.0 && fit.weight <= 1.0, "two values: weight %.3f",
       fit.weight);
}

static void
test_logit(void)
{
    is_float(mixture_logit(0.5), 0.0, 1e-15);
    is_float(mixture_logit(0.75), log(3.0), 1e-15);
    is_float(mixture_logit(0.0), -9.2, 0.0);
    is_float(mixture_logit(1.0), 9.2, 0.0);
    is_float(mixture_logit(1e-9), -9.2, 0.0);
    is_float(mixture_logit(1.0 - 1e-9), 9.2, 0.0);
    is_float(mixture_logit(NAN), -9.2, 0.0);
}

int
main(void)
{
    test_two_modes();
    test_one_mode();
    test_degenerate();
    test_logit();
    return done_testing();
}
