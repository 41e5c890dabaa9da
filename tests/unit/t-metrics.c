/* tests/unit/t-metrics.c: the evaluation metrics on lists small enough to
 * work out by hand (every expected number below is derived in a comment),
 * scikit-learn's documented example (roc_auc_score and
 * average_precision_score on y = [0, 0, 1, 1], s = [0.1, 0.4, 0.35, 0.8]
 * give 0.75 and 0.8333), and, on a larger random list with many ties,
 * against brute-force definitions: AUROC as the fraction of
 * (positive, negative) pairs ordered correctly, ties one half, and AP from
 * precision and recall recomputed at every distinct threshold. */
#include "config.h"

#include <math.h>
#include <stdlib.h>

#include "engine/metrics.h"
#include "engine/rng.h"
#include "tests/tap.h"

#define TOL 1e-12

static void
test_sklearn_example(void)
{
    const double s[] = {0.1, 0.4, 0.35, 0.8};
    const float sf[] = {0.1f, 0.4f, 0.35f, 0.8f};
    const uint8_t y[] = {0, 0, 1, 1};

    is_float(metrics_auroc(s, y, 4), 0.75, TOL);
    /* From the top: 0.8 (+) P 1 R 1/2; 0.4 (-); 0.35 (+) P 2/3 R 1.
     * AP = 1/2 * 1 + 1/2 * 2/3 = 5/6. */
    is_float(metrics_average_precision(s, y, 4), 5.0 / 6.0, TOL);
    is_float(metrics_auroc_f(sf, y, 4), 0.75, TOL);
    is_float(metrics_average_precision_f(sf, y, 4), 5.0 / 6.0, TOL);
}

static void
test_extremes(void)
{
    const double up[] = {0.1, 0.2, 0.8, 0.9};
    const double down[] = {0.9, 0.8, 0.2, 0.1};
    const double flat[] = {0.5, 0.5, 0.5, 0.5};
    const uint8_t y[] = {0, 0, 1, 1};
    const uint8_t y2[] = {0, 1, 0, 1};

    is_float(metrics_auroc(up, y, 4), 1.0, TOL);
    is_float(metrics_average_precision(up, y, 4), 1.0, TOL);
    is_float(metrics_auroc(down, y, 4), 0.0, TOL);
    /* 0.9 (-), 0.8 (-), 0.2 (+) P 1/3 R 1/2, 0.1 (+) P 2/4 R 1:
     * 1/2 * 1/3 + 1/2 * 1/2 = 5/12. */
    is_float(metrics_average_precision(down, y, 4), 5.0 / 12.0, TOL);
    /* One group: every pair a tie; one step to R 1 at P 1/2. */
    is_float(metrics_auroc(flat, y2, 4), 0.5, TOL);
    is_float(metrics_average_precision(flat, y2, 4), 0.5, TOL);

    /* Truth values other than 1 count as positive. */
    const uint8_t y255[] = {0, 0, 255, 7};
    is_float(metrics_auroc(up, y255, 4), 1.0, TOL);
}

static void
test_ties(void)
{
    const double s[] = {0.9, 0.9, 0.5, 0.5, 0.1};
    const uint8_t y[] = {1, 0, 1, 0, 0};

    /* Positive 0.9 against 0.9, 0.5, 0.1: 1/2 + 1 + 1; positive 0.5:
     * 0 + 1/2 + 1. (2.5 + 1.5) / 6 = 2/3. */
    is_float(metrics_auroc(s, y, 5), 2.0 / 3.0, TOL);
    /* Group 0.9: R 1/2 at P 1/2; group 0.5: R 1 at P 2/4. AP = 1/2. Had
     * the tie been broken positive-first it would be 1/2 + 1/2 * 2/3. */
    is_float(metrics_average_precision(s, y, 5), 0.5, TOL);

    /* A NaN score ranks below everything. */
    const double sn[] = {NAN, 0.2, -1e300};
    const uint8_t yn[] = {1, 0, 0};
    is_float(metrics_auroc(sn, yn, 3), 0.0, TOL);
    const float snf[] = {0.2f, NAN};
    const uint8_t ynf[] = {1, 0};
    is_float(metrics_auroc_f(snf, ynf, 2), 1.0, TOL);
}

static void
test_undefined(void)
{
    const double s[] = {0.3, 0.7};
    const uint8_t none[] = {0, 0}, all[] = {1, 1};

    ok(isnan(metrics_auroc(s, none, 2)), "auroc without positives is NAN");
    ok(isnan(metrics_auroc(s, all, 2)), "auroc without negatives is NAN");
    ok(isnan(metrics_average_precision(s, none, 2)),
       "AP without positives is NAN");
    is_float(metrics_average_precision(s, all, 2), 1.0, TOL);
    ok(isnan(metrics_auroc(NULL, NULL, 0)), "auroc of nothing is NAN");
}

static void
test_at_k(void)
{
    const double s[] = {0.9, 0.8, 0.8, 0.1, 0.5};
    const float sf[] = {0.9f, 0.8f, 0.8f, 0.1f, 0.5f};
    const uint8_t y[] = {1, 0, 1, 0, 1};
    struct metrics_at_k r;

    /* Top 2: index 0, then index 1 wins the 0.8 tie: one hit. */
    metrics_at_k(s, y, 5, 2, &r);
    is_int(r.k, ==, 2);
    is_int(r.hits, ==, 1);
    is_float(r.precision, 0.5, TOL);
    is_float(r.recall, 1.0 / 3.0, TOL);
    metrics_at_k(s, y, 5, 3, &r);
    is_int(r.hits, ==, 2);
    is_float(r.precision, 2.0 / 3.0, TOL);
    is_float(r.recall, 2.0 / 3.0, TOL);
    metrics_at_k_f(sf, y, 5, 4, &r);
    is_int(r.hits, ==, 3);
    is_float(r.precision, 0.75, TOL);
    is_float(r.recall, 1.0, TOL);
    metrics_at_k(s, y, 5, 10, &r);
    is_int(r.k, ==, 5);
    is_float(r.precision, 0.6, TOL);
    metrics_at_k(s, y, 5, 0, &r);
    ok(isnan(r.precision), "precision at 0 is NAN");
    is_float(r.recall, 0.0, TOL);
}

static void
test_flags(void)
{
    const uint8_t pred[] = {1, 1, 0, 0, 1, 0};
    const uint8_t truth[] = {1, 0, 1, 0, 2, 0};
    const uint8_t nothing[] = {0, 0, 0, 0, 0, 0};
    struct metrics_flags f;

    metrics_flags(pred, truth, 6, &f);
    is_int(f.tp, ==, 2);
    is_int(f.fp, ==, 1);
    is_int(f.fn, ==, 1);
    is_int(f.tn, ==, 2);
    is_float(f.precision, 2.0 / 3.0, TOL);
    is_float(f.recall, 2.0 / 3.0, TOL);
    is_float(f.f1, 2.0 / 3.0, TOL);

    const uint8_t pred2[] = {1, 0, 0, 0, 0, 0};
    metrics_flags(pred2, truth, 6, &f);
    /* P 1, R 1/3: F1 = 2 * 1/3 / (4/3) = 1/2. */
    is_float(f.f1, 0.5, TOL);

    metrics_flags(nothing, truth, 6, &f);
    is_float(f.precision, 0.0, TOL);
    is_float(f.recall, 0.0, TOL);
    is_float(f.f1, 0.0, TOL);

    const int32_t given[] = {0, 1, 2, 2}, clean[] = {0, 2, 2, 1};
    uint8_t mask[4];
    is_int(metrics_noise_mask(given, clean, 4, mask), ==, 2);
    ok(!mask[0] && mask[1] && !mask[2] && mask[3], "noise mask");
}

/* Brute force over a random list with coarse scores (many ties). */
static void
test_brute_force(void)
{
    enum { N = 400 };
    double s[N];
    uint8_t y[N];
    struct rng r;
    rng_seed(&r, 42);
    for (int i = 0; i < N; i++) {
        y[i] = rng_uniform(&r) < 0.3f;
        /* Positives score higher on average; 20 levels force ties. */
        s[i] = (double)rng_below(&r, 20) + (y[i] ? 4.0 : 0.0);
    }

    double pairs = 0.0, good = 0.0;
    for (int i = 0; i < N; i++) {
        for (int j = 0; j < N; j++) {
            if (!y[i] || y[j])
                continue;
            pairs += 1.0;
            good += s[i] > s[j] ? 1.0 : s[i] == s[j] ? 0.5 : 0.0;
        }
    }
    double auc = metrics_auroc(s, y, N);
    is_float(auc, good / pairs, 1e-12);
    ok(auc > 0.6 && auc < 0.95, "auroc %.3f is informative", auc);

    /* AP: walk thresholds from the highest distinct score down. */
    int pos = 0;
    for (int i = 0; i < N; i++)
        pos += y[i];
    double ap = 0.0, prev_recall = 0.0;
    for (double t = 30.0; t >= 0.0; t -= 1.0) {
        int tp = 0, flagged = 0, present = 0;
        for (int i = 0; i < N; i++) {
            present |= s[i] == t;
            if (s[i] >= t) {
                flagged++;
                tp += y[i];
            }
        }
        if (!present)
            continue;
        double recall = (double)tp / pos;
        ap += (recall - prev_recall) * tp / flagged;
        prev_recall = recall;
    }
    is_float(metrics_average_precision(s, y, N), ap, 1e-12);

    /* Scores negated turn the AUROC around. */
    for (int i = 0; i < N; i++)
        s[i] = -s[i];
    is_float(metrics_auroc(s, y, N), 1.0 - good / pairs, 1e-12);
}

int
main(void)
{
    test_sklearn_example();
    test_extremes();
    test_ties();
    test_undefined();
    test_at_k();
    test_flags();
    test_brute_force();
    return done_testing();
}
