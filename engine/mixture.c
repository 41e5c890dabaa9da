/* engine/mixture.c: expectation-maximisation for two Gaussians in one
 * dimension.
 *
 * The start decides which mode each component takes, so it is fixed by
 * the data alone: the lower component at the 30th percentile, the upper at
 * the 97th (above any plausible share of clean samples, so it starts on
 * the wrong labels' mode when there is one), both as wide as all the
 * values, a fifth of the weight above. Densities are compared in logs,
 * which keeps a sample far out in either tail from dividing zero by zero.
 * Arithmetic runs in index order in double, so the fit is the same on
 * every run. */
#include "config.h"

#include "engine/mixture.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MIXTURE_LOGIT_BOUND  9.2 /* log((1 - 1e-4) / 1e-4), rounded */
#define MIXTURE_LOWER_START  0.30
#define MIXTURE_UPPER_START  0.97
#define MIXTURE_WEIGHT_START 0.2
/* A component narrower than this (in log-odds) would be a spike on the
 * clamped values, whose likelihood grows without bound. */
#define MIXTURE_MIN_SD       1e-3
#define MIXTURE_MAX_ITER     500
/* Stop when an iteration gains less log-likelihood than this per value. */
#define MIXTURE_TOLERANCE    1e-10
/* A component left with less weight than this has vanished. */
#define MIXTURE_MIN_WEIGHT   1e-9
/* Two components are kept only when they beat one Gaussian by the
 * Bayesian information criterion: the log-likelihood gained, doubled,
 * must exceed ln(n) for each of the three parameters added. Without it a
 * single Gaussian of a few hundred values is now and then split in two,
 * counting a tenth of a clean class or more. */
#define MIXTURE_EXTRA_PARAMS 3.0

double
mixture_logit(double p)
{
    if (!(p > 0.0))
        return -MIXTURE_LOGIT_BOUND;
    if (!(p < 1.0))
        return MIXTURE_LOGIT_BOUND;
    double z = log(p / (1.0 - p));
    return z < -MIXTURE_LOGIT_BOUND  ? -MIXTURE_LOGIT_BOUND
           : z > MIXTURE_LOGIT_BOUND ? MIXTURE_LOGIT_BOUND
                                     : z;
}

static int
mixture_cmp(const void *pa, const void *pb)
{
    double a = *(const double *)pa, b = *(const double *)pb;
    return (a > b) - (a < b);
}

/* log(weight * N(x; mean, sd)) without the constant both sides share. */
static double
mixture_log_density(double weight, double mean, double sd, double x)
{
    double t = (x - mean) / sd;
    return log(weight) - log(sd) - 0.5 * t * t;
}

double
mixture_posterior(const struct mixture_fit *fit, double x)
{
    if (!(fit->weight > 0.0))
        return 0.0;
    if (!(fit->weight < 1.0))
        return 1.0;
    double l0 =
        mixture_log_density(1.0 - fit->weight, fit->mean[0], fit->sd[0], x);
    double l1 = mixture_log_density(fit->weight, fit->mean[1], fit->sd[1], x);
    return 1.0 / (1.0 + exp(l0 - l1));
}

void
mixture_fit(const double *x, size_t n, double *scratch, struct mixture_fit *fit)
{
    memset(fit, 0, sizeof *fit);
    fit->sd[0] = fit->sd[1] = 1.0;
    if (n < 2)
        return;
    memcpy(scratch, x, n * sizeof *x);
    qsort(scratch, n, sizeof *scratch, mixture_cmp);
    double lo = scratch[(size_t)(MIXTURE_LOWER_START * (double)(n - 1))];
    double hi = scratch[(size_t)(MIXTURE_UPPER_START * (double)(n - 1))];
    double mean = 0.0, var = 0.0;
    for (size_t i = 0; i < n; i++)
        mean += x[i];
    mean /= (double)n;
    for (size_t i = 0; i < n; i++)
        var += (x[i] - mean) * (x[i] - mean);
    double sd = sqrt(var / (double)n);
    if (!(sd > MIXTURE_MIN_SD) || !(hi > lo))
        return;

    double w = MIXTURE_WEIGHT_START, m[2] = {lo, hi}, s[2] = {sd, sd};
    double last = -HUGE_VAL;
    int iter;
    for (iter = 0; iter < MIXTURE_MAX_ITER; iter++) {
        /* E step: each value's posterior of the upper component, kept in
         * scratch, and the log-likelihood up to a constant. */
        double loglik = 0.0, r_sum = 0.0;
        for (size_t i = 0; i < n; i++) {
            double l0 = mixture_log_density(1.0 - w, m[0], s[0], x[i]);
            double l1 = mixture_log_density(w, m[1], s[1], x[i]);
            double top = l0 > l1 ? l0 : l1;
            loglik += top + log(exp(l0 - top) + exp(l1 - top));
            scratch[i] = 1.0 / (1.0 + exp(l0 - l1));
            r_sum += scratch[i];
        }
        if (loglik - last < MIXTURE_TOLERANCE * (double)n)
            break;
        last = loglik;
        w = r_sum / (double)n;
        if (!(w > MIXTURE_MIN_WEIGHT) || !(w < 1.0 - MIXTURE_MIN_WEIGHT))
            break;
        /* M step: weighted means, then weighted spreads around them. */
        double sum[2] = {0.0, 0.0}, sq[2] = {0.0, 0.0};
        for (size_t i = 0; i < n; i++) {
            sum[0] += (1.0 - scratch[i]) * x[i];
            sum[1] += scratch[i] * x[i];
        }
        m[0] = sum[0] / ((double)n - r_sum);
        m[1] = sum[1] / r_sum;
        for (size_t i = 0; i < n; i++) {
            double d0 = x[i] - m[0], d1 = x[i] - m[1];
            sq[0] += (1.0 - scratch[i]) * d0 * d0;
            sq[1] += scratch[i] * d1 * d1;
        }
        s[0] = sqrt(sq[0] / ((double)n - r_sum)) + MIXTURE_MIN_SD;
        s[1] = sqrt(sq[1] / r_sum) + MIXTURE_MIN_SD;
    }
    fit->iterations = iter;
    /* One Gaussian's log-likelihood, without the constant, as in
     * mixture_log_density. */
    double one = -(double)n * log(sd) - 0.5 * (double)n;
    if (!(w > MIXTURE_MIN_WEIGHT) || !(w < 1.0 - MIXTURE_MIN_WEIGHT) ||
        !(2.0 * (last - one) > MIXTURE_EXTRA_PARAMS * log((double)n))) {
        /* One component took everything, or one explains the values as
         * well as two: there is one mode, the clean. */
        fit->weight = 0.0;
        fit->mean[0] = fit->mean[1] = mean;
        fit->sd[0] = fit->sd[1] = sd;
        return;
    }
    /* The upper component is the one with the larger mean, whichever
     * start it came from. */
    int up = m[1] >= m[0];
    fit->weight = up ? w : 1.0 - w;
    fit->mean[0] = m[!up];
    fit->mean[1] = m[up];
    fit->sd[0] = s[!up];
    fit->sd[1] = s[up];
}
