/* engine/mixture.h: two Gaussians fitted to one class's doubts, to tell
 * a class that is merely hard from one that holds wrong labels.
 *
 * Confident learning counts a sample as wrongly labelled when another
 * class passes its threshold. A class the model finds hard has many clean
 * samples like that, so its count runs high (BENCHMARKS.md: 0.33-0.36 for
 * cat and dog under 20% noise, 44% on the 10% demo). Wrong labels are
 * different in kind rather than in degree: their doubt is high because
 * the model has learned their true class, and they gather in a mode of
 * their own above the clean samples' spread, however wide that spread is.
 * So each class's doubts, as log-odds, are fitted with two Gaussians (the
 * clean spread and that mode) by expectation-maximisation, and a sample
 * counts as wrongly labelled when the upper component explains it better
 * than the lower. A class whose doubts one Gaussian explains as well
 * (by the Bayesian information criterion) has no such mode and counts
 * nothing; a wide or skewed clean spread can still be split in two, which
 * is why engine/scores.c also asks that the model prefer another class
 * before it counts a sample as wrong.
 *
 * Leaf module: data/base.h and the C library only. Deterministic: the
 * same values in the same order give the same fit, bit for bit. */
#ifndef WINNOW_ENGINE_MIXTURE_H
#define WINNOW_ENGINE_MIXTURE_H

#include <stddef.h>

#include "data/base.h"

struct mixture_fit { /* plain data */
    /* Share of the upper component, [0, 1]; 0 when the values do not
     * support two components (fewer than two, all alike, or one Gaussian
     * explains them as well). */
    double weight;
    double mean[2]; /* [0] the lower (clean), [1] the upper (doubtful) */
    double sd[2];   /* > 0 */
    int iterations;
};

/* The log-odds of a doubt p in [0, 1], clamped to [-9.2, 9.2] (p within
 * 1e-4 of 0 or 1): a float32 probability that close to certainty carries
 * rounding rather than evidence, and would stretch the clean component. */
double mixture_logit(double p);

/* Fit x[0..n) (log-odds of doubts, finite). Needs n doubles of scratch
 * (the caller's, to keep the module free of allocation); x itself is not
 * changed. */
void mixture_fit(const double *x, size_t n, double *scratch,
                 struct mixture_fit *fit);

/* The probability that x came from the upper component, [0, 1]. */
double mixture_posterior(const struct mixture_fit *fit, double x);

#endif
