/* tests/unit/t-scores.c: the label-noise scores.
 *
 * A four-sample, three-class case worked out by hand pins every
 * per-sample score, the thresholds, the confident joint, its calibration
 * and the one flag. A synthetic problem (true labels, a known noise
 * matrix, probabilities from a model that is right most of the time, all
 * from a seeded generator) checks that confident learning recovers the
 * noise matrix and finds the flipped labels, that the quickselect pruning
 * flags exactly what a full sort per cell would (ties included), that the
 * output does not depend on the order of the samples, and that trusted
 * samples are never flagged. Then empty classes, many classes, bad input
 * and the config parser. */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data/base.h"
#include "engine/cleanlab.h"
#include "engine/metrics.h"
#include "engine/rng.h"
#include "engine/scores.h"
#include "tests/tap.h"

#define TOL 1e-6

/* ---- the hand-worked case ---- */

/* y:    0                1                2                0
 * P:    .7 .2 .1         .6 .3 .1         .1 .1 .8         .25 .25 .5
 * T:    .9 .05 .05       .5 .4 .1         .2 .2 .6         .3 .3 .4
 * AUM:  2 / 2 epochs     -3 / 3           .5 / 1           4 / 0 epochs */
static const int32_t hand_label[4] = {0, 1, 2, 0};
static const float hand_probs[12] = {
    0.7f, 0.2f, 0.1f, 0.6f, 0.3f, 0.1f, 0.1f, 0.1f, 0.8f, 0.25f, 0.25f, 0.5f,
};
static const float hand_target[12] = {
    0.9f, 0.05f, 0.05f, 0.5f, 0.4f, 0.1f, 0.2f, 0.2f, 0.6f, 0.3f, 0.3f, 0.4f,
};
static const float hand_aum[4] = {2.0f, -3.0f, 0.5f, 4.0f};
static const int32_t hand_epochs[4] = {2, 3, 1, 0};

static void
hand_input(struct scores_input *in)
{
    memset(in, 0, sizeof *in);
    in->n = 4;
    in->k = 3;
    in->label = hand_label;
    in->probs = hand_probs;
    in->elr_target = hand_target;
    in->aum = hand_aum;
    in->aum_epochs = hand_epochs;
}

static int
compute(const struct scores_input *in, const char *spec,
        struct scores_result *r)
{
    struct scores_config cfg;
    char *cause = NULL;

    scores_config_default(&cfg);
    /* The combinations themselves; test_per_class ranks them per class. */
    cfg.per_class = 0;
    if (spec != NULL && scores_config_parse(spec, &cfg, &cause) != 0)
        bail("config %s: %s", spec, cause);
    if (scores_compute(in, &cfg, r, &cause) != 0) {
        diag("scores_compute: %s", cause);
        free(cause);
        return -1;
    }
    return 0;
}

static void
test_hand_scores(void)
{
    struct scores_input in;
    struct scores_result r;
    hand_input(&in);
    if (compute(&in, NULL, &r) != 0)
        bail("hand case failed");

    const double sc[4] = {0.3, 0.7, 0.2, 0.75};
    /* (max other - P[y] + 1) / 2 */
    const double mg[4] = {0.25, 0.65, 0.15, 0.625};
    const double elr[4] = {0.1, 0.6, 0.4, 0.7};
    /* Minus the mean margin; no epoch, no AUM. */
    const double aum[3] = {-1.0, 1.0, -0.5};
    /* Sample 2 ties 0 and 1 for runner-up: the lower index. */
    const int sugg[4] = {1, 0, 0, 2};
    const double sprob[4] = {0.2, 0.6, 0.1, 0.5};
    for (int i = 0; i < 4; i++) {
        const struct scores_sample *s = &r.sample[i];
        is_float(s->self_confidence, sc[i], TOL);
        is_float(s->margin, mg[i], TOL);
        is_float(s->elr, elr[i], TOL);
        is_int(s->suggested, ==, sugg[i]);
        is_float(s->suggested_prob, sprob[i], TOL);
        /* The default: the mean of self-confidence and ELR. */
        is_float(s->score, (sc[i] + elr[i]) / 2.0, TOL);
        if (i < 3)
            is_float(s->aum, aum[i], TOL);
        else
            ok(isnan(s->aum), "no epoch: AUM is NAN");
    }

    /* t0 = (.7 + .25) / 2, t1 = .3, t2 = .8. Sample 0 reaches t0 only;
     * sample 1 reaches t0 and t1 and .6 > .3 counts it as 0; sample 2
     * reaches t2; sample 3 reaches none. */
    is_float(r.threshold[0], 0.475, TOL);
    is_float(r.threshold[1], 0.3, TOL);
    is_float(r.threshold[2], 0.8, TOL);
    const int64_t cj[9] = {1, 0, 0, 1, 0, 0, 0, 0, 1};
    int cj_same = 1;
    for (int c = 0; c < 9; c++)
        cj_same &= r.confident_joint[c] == cj[c];
    ok(cj_same, "confident joint");
    is_int(r.class_count[0], ==, 2);
    is_int(r.class_count[1], ==, 1);
    is_int(r.class_count[2], ==, 1);
    /* Row 0: [1 0 0] scaled to 2 samples. Row 1: [1 0 0] plus the
     * guaranteed diagonal one, [1 1 0], scaled to 1 sample: [.5 .5 0].
     * Row 2: [0 0 1]. Q is that over N = 4. */
    const double q[9] = {0.5, 0, 0, 0.125, 0.125, 0, 0, 0, 0.25};
    const double m[9] = {1, 0, 0, 0.5, 0.5, 0, 0, 0, 1};
    for (int c = 0; c < 9; c++) {
        is_float(r.cl_joint[c], q[c], 1e-12);
        is_float(r.cl_noise_matrix[c], m[c], 1e-12);
    }
    is_float(r.cl_noise_matrix[0], 1.0, 1e-12);
    is_float(r.cl_noise_matrix[4], 0.5, 1e-12);
    is_float(r.cl_noise_rate, 0.125, 1e-12);
    /* cleanlab's integer calibration rounds row 1, [.5 .5 0], half to
     * even to [0 0 0], then gives the lost unit to the largest remainder,
     * the last of the tied .5s in numpy's order: [0 1 0]. So cell (1, 0)
     * asks for no sample; and class 1 has a single sample, which cleanlab
     * never prunes anyway. Nothing is flagged. */
    const int64_t pc[9] = {0, 0, 0, 0, 0, 0, 0, 0, 0};
    int pc_same = 1;
    for (int c = 0; c < 9; c++)
        pc_same &= r.prune_count[c] == pc[c];
    ok(pc_same, "no prune count");
    is_int(r.n_flagged, ==, 0);
    scores_result_fini(&r);
    scores_result_fini(&r); /* zeroed: a second call is harmless */
    scores_result_fini(NULL);

    /* Without ELR the default is self-confidence alone; without AUM every
     * aum is NAN. */
    in.elr_target = NULL;
    in.aum = NULL;
    if (compute(&in, NULL, &r) != 0)
        bail("hand case failed");
    for (int i = 0; i < 4; i++) {
        is_float(r.sample[i].score, sc[i], TOL);
        ok(isnan(r.sample[i].elr) && isnan(r.sample[i].aum),
           "no ELR, no AUM: NAN");
    }
    scores_result_fini(&r);

    /* aum holding means (no epoch counts). */
    hand_input(&in);
    in.aum_epochs = NULL;
    if (compute(&in, NULL, &r) != 0)
        bail("hand case failed");
    is_float(r.sample[1].aum, 3.0, TOL);
    is_float(r.sample[3].aum, -4.0, TOL);
    scores_result_fini(&r);
}

static void
test_hand_combine(void)
{
    struct scores_input in;
    struct scores_result r;
    hand_input(&in);

    /* AUM through the logistic; sample 3 has none and falls back to its
     * self-confidence. */
    if (compute(&in, "mean:aum", &r) != 0)
        bail("mean:aum failed");
    is_float(r.sample[0].score, 1.0 / (1.0 + exp(1.0)), TOL);
    is_float(r.sample[1].score, 1.0 / (1.0 + exp(-1.0)), TOL);
    is_float(r.sample[3].score, 0.75, TOL);
    scores_result_fini(&r);

    /* Weighted: (2 * margin + aum') / 3 for sample 0, and margin alone
     * for sample 3, whose AUM is missing. */
    if (compute(&in, "margin=2,aum", &r) != 0)
        bail("margin=2,aum failed");
    is_float(r.sample[0].score, (2.0 * 0.25 + 1.0 / (1.0 + exp(1.0))) / 3.0,
             TOL);
    is_float(r.sample[3].score, 0.625, TOL);
    scores_result_fini(&r);

    /* Nothing is flagged here (test_hand_scores): cl is 0 throughout. */
    if (compute(&in, "cl", &r) != 0)
        bail("cl failed");
    is_float(r.sample[1].score, 0.0, 0.0);
    is_float(r.sample[0].score, 0.0, 0.0);
    scores_result_fini(&r);

    /* Ranks of self-confidence .3 .7 .2 .75: .2 < .3 < .7 < .75, so
     * (0 + 1/2) / 4, (1 + 1/2) / 4, ... */
    if (compute(&in, "rank:self_confidence", &r) != 0)
        bail("rank failed");
    is_float(r.sample[2].score, 0.125, 1e-12);
    is_float(r.sample[0].score, 0.375, 1e-12);
    is_float(r.sample[1].score, 0.625, 1e-12);
    is_float(r.sample[3].score, 0.875, 1e-12);
    scores_result_fini(&r);

    /* Ranks of AUM over the three samples that have it: -1, 1, -0.5 ->
     * 1/6, 5/6, 1/2; mixed with ranks of the CL flag (four equal zeros:
     * 1/2 each). */
    if (compute(&in, "rank:aum,cl=3", &r) != 0)
        bail("rank:aum,cl failed");
    is_float(r.sample[0].score, (1.0 / 6.0 + 3.0 * 0.5) / 4.0, 1e-12);
    is_float(r.sample[1].score, (5.0 / 6.0 + 3.0 * 0.5) / 4.0, 1e-12);
    is_float(r.sample[3].score, 0.5, 1e-12);
    scores_result_fini(&r);
}

static void
test_hand_trusted(void)
{
    struct scores_input in;
    struct scores_result r;
    const uint8_t trusted[4] = {0, 1, 0, 0};
    hand_input(&in);
    in.trusted = trusted;
    if (compute(&in, NULL, &r) != 0)
        bail("hand case failed");
    /* Still evidence for the estimate, never a candidate. */
    is_float(r.cl_noise_rate, 0.125, 1e-12);
    is_int(r.n_flagged, ==, 0);
    ok(!r.sample[1].flagged, "trusted sample not flagged");
    is_float(r.sample[1].score, 0.0, 0.0);
    is_int(r.sample[1].suggested, ==, 1);
    is_float(r.sample[1].suggested_prob, 0.3, TOL);
    is_float(r.sample[1].self_confidence, 0.7, TOL);
    is_float(r.sample[0].score, 0.2, TOL);
    scores_result_fini(&r);
}

static void
test_keep_argmax(void)
{
    /* t0 = t2 = .9, t1 = (.04 + .4 + .9 + .35) / 4 = .4225. Labelled 1:
     * sample 2 counts as 0, sample 4 as 1, samples 3 and 7 reach no
     * threshold. Row 1, [1 1 0] scaled to 4 samples, asks for 2 in cell
     * (1, 0): by P[0] - P[1], sample 2 (.91) and sample 3 (0, a tie).
     * Sample 3's argmax is 0, the first of its equal maxima (numpy's
     * argmax), not its label 1, so cleanlab keeps its flag. */
    const int32_t label[8] = {0, 0, 1, 1, 1, 2, 2, 1};
    const float probs[24] = {
        0.9f,  0.05f, 0.05f, 0.9f,  0.05f, 0.05f, /* */
        0.95f, 0.04f, 0.01f, 0.4f,  0.4f,  0.2f,  /* */
        0.05f, 0.9f,  0.05f, 0.05f, 0.05f, 0.9f,  /* */
        0.05f, 0.05f, 0.9f,  0.3f,  0.35f, 0.35f,
    };
    struct scores_input in = {.n = 8, .k = 3, .label = label, .probs = probs};
    struct scores_config cfg;
    struct scores_result r;
    char *cause = NULL;

    scores_config_default(&cfg);
    if (scores_compute(&in, &cfg, &r, &cause) != 0)
        bail("keep argmax case: %s", cause);
    is_float(r.threshold[1], 0.4225, TOL);
    is_float(r.cl_joint[1 * 3 + 0] * 8.0, 2.0, 1e-12);
    is_int(r.prune_count[1 * 3 + 0], ==, 2);
    is_int(r.n_flagged, ==, 2);
    ok(r.sample[2].flagged && r.sample[3].flagged,
       "a tie with the given label, another class first, is flagged");
    scores_result_fini(&r);

    cfg.cl_keep_argmax = 0;
    if (scores_compute(&in, &cfg, &r, &cause) != 0)
        bail("keep argmax case: %s", cause);
    is_int(r.n_flagged, ==, 2);
    ok(r.sample[2].flagged && r.sample[3].flagged,
       "without the rule the count decides");
    scores_result_fini(&r);
}

/* ---- the synthetic problem ---- */

struct synth {
    int64_t n;
    int k;
    int32_t *truth, *given;
    uint8_t *noisy;
    float *probs;     /* (N, K) */
    double m_true[9]; /* empirical M[given][true], for K = 3 */
};

/* T[true][given]: the noise process; rows sum to 1. */
static const double synth_t[9] = {
    0.80, 0.15, 0.05, /* */
    0.10, 0.85, 0.05, /* */
    0.05, 0.15, 0.80,
};

/* True labels uniform, given labels drawn from T, probabilities a softmax
 * of a noisy logit vector peaked at the true class: a model that is right
 * most of the time and never sees the noise. quant > 0 rounds the
 * probabilities to multiples of 1/quant (then rows need not sum to 1),
 * which makes many margins tie. */
static void
synth_make(struct synth *s, int64_t n, int k, const double *t, float sharp,
           int quant, uint64_t seed)
{
    struct rng r;
    rng_seed(&r, seed);
    s->n = n;
    s->k = k;
    s->truth = xmalloc(sizeof(int32_t) * (size_t)n);
    s->given = xmalloc(sizeof(int32_t) * (size_t)n);
    s->noisy = xmalloc((size_t)n);
    s->probs = xmalloc(sizeof(float) * (size_t)n * (size_t)k);
    double *z = xmalloc(sizeof(double) * (size_t)k);
    int64_t count[9] = {0}, rows[3] = {0};

    for (int64_t i = 0; i < n; i++) {
        int c = (int)rng_below(&r, (uint32_t)k);
        int g = c;
        if (t != NULL) {
            float u = rng_uniform(&r);
            double acc = 0.0;
            for (g = 0; g < k - 1; g++) {
                acc += t[c * k + g];
                if ((double)u < acc)
                    break;
            }
        }
        s->truth[i] = c;
        s->given[i] = g;
        s->noisy[i] = c != g;
        double zmax = -1e300, sum = 0.0;
        for (int j = 0; j < k; j++) {
            z[j] = (double)rng_normal(&r) + (j == c ? (double)sharp : 0.0);
            if (z[j] > zmax)
                zmax = z[j];
        }
        for (int j = 0; j < k; j++)
            sum += (z[j] = exp(z[j] - zmax));
        float *p = s->probs + i * k;
        for (int j = 0; j < k; j++) {
            p[j] = (float)(z[j] / sum);
            if (quant > 0)
                p[j] = roundf(p[j] * (float)quant) / (float)quant;
        }
        if (k == 3) {
            count[g * 3 + c]++;
            rows[g]++;
        }
    }
    if (k == 3) {
        for (int c = 0; c < 9; c++)
            s->m_true[c] = (double)count[c] / (double)rows[c / 3];
    }
    free(z);
}

static void
synth_free(struct synth *s)
{
    free(s->truth);
    free(s->given);
    free(s->noisy);
    free(s->probs);
}

static void
synth_input(const struct synth *s, struct scores_input *in)
{
    memset(in, 0, sizeof *in);
    in->n = s->n;
    in->k = s->k;
    in->label = s->given;
    in->probs = s->probs;
}

static void
test_synthetic_estimate(void)
{
    struct synth s;
    struct scores_input in;
    struct scores_result r;

    synth_make(&s, 3000, 3, synth_t, 4.0f, 0, 7);
    synth_input(&s, &in);
    if (compute(&in, NULL, &r) != 0)
        bail("synthetic case failed");

    /* The estimate against the empirical noise of this sample. */
    double worst = 0.0, actual = 0.0;
    for (int c = 0; c < 9; c++) {
        double d = fabs(r.cl_noise_matrix[c] - s.m_true[c]);
        if (d > worst)
            worst = d;
    }
    for (int64_t i = 0; i < s.n; i++)
        actual += s.noisy[i];
    actual /= (double)s.n;
    diag("noise matrix: worst error %.4f; noise rate %.4f (actual %.4f)", worst,
         r.cl_noise_rate, actual);
    ok(worst < 0.03, "noise matrix within 0.03 of the truth (%.4f)", worst);
    is_float(r.cl_noise_rate, actual, 0.02);
    for (int i = 0; i < 3; i++) {
        double row = 0.0;
        for (int j = 0; j < 3; j++)
            row += r.cl_noise_matrix[i * 3 + j];
        is_float(row, 1.0, 1e-12);
    }
    double qsum = 0.0;
    for (int c = 0; c < 9; c++)
        qsum += r.cl_joint[c];
    is_float(qsum, 1.0, 1e-12);
    /* The class noise estimate agrees where no class is merely hard. */
    diag("estimated noise rate %.4f", r.noise_rate);
    is_float(r.noise_rate, actual, 0.02);

    /* The flags and the scores against the flipped labels. */
    uint8_t *flag = xmalloc((size_t)s.n);
    double *score = xmalloc(sizeof(double) * (size_t)s.n);
    for (int64_t i = 0; i < s.n; i++) {
        flag[i] = r.sample[i].flagged;
        score[i] = r.sample[i].score;
    }
    struct metrics_flags f;
    metrics_flags(flag, s.noisy, (size_t)s.n, &f);
    diag("flags: %lld, precision %.3f recall %.3f; score AUROC %.4f",
         (long long)r.n_flagged, f.precision, f.recall,
         metrics_auroc(score, s.noisy, (size_t)s.n));
    ok(f.precision > 0.9, "flag precision %.3f > 0.9", f.precision);
    ok(f.recall > 0.9, "flag recall %.3f > 0.9", f.recall);
    ok(metrics_auroc(score, s.noisy, (size_t)s.n) > 0.97,
       "the default score ranks flipped labels first");

    /* Suggestions name the true class of most flipped samples. */
    int64_t right = 0, wrong = 0;
    for (int64_t i = 0; i < s.n; i++) {
        if (!s.noisy[i])
            continue;
        if (r.sample[i].suggested == s.truth[i])
            right++;
        else
            wrong++;
    }
    ok(right > 9 * wrong, "suggestions: %lld right, %lld wrong",
       (long long)right, (long long)wrong);
    free(flag);
    free(score);
    scores_result_fini(&r);
    synth_free(&s);

    /* Clean labels: almost nothing to estimate or flag. */
    synth_make(&s, 3000, 3, NULL, 4.0f, 0, 8);
    synth_input(&s, &in);
    if (compute(&in, NULL, &r) != 0)
        bail("clean case failed");
    ok(r.cl_noise_rate < 0.01, "clean: noise rate %.4f", r.cl_noise_rate);
    ok(r.noise_rate < 0.01, "clean: estimated noise rate %.4f", r.noise_rate);
    ok(r.n_flagged < 30, "clean: %lld flagged", (long long)r.n_flagged);
    scores_result_fini(&r);
    synth_free(&s);
}

static double
hard_sigmoid(double z)
{
    return 1.0 / (1.0 + exp(-z));
}

/* The issue the class noise estimate exists for: three classes, made so
 * that confident learning counts a hard clean class as noisy. Class 0 is
 * easy and a fifth of its labels are wrong (true class 2, which the model
 * has learned: doubt near 1). Class 1 is hard and clean: its doubts spread
 * wide in log-odds, the doubt going to class 2. Class 2 is clean and
 * middling, so its threshold is low enough for many of class 1's samples
 * to pass. The estimate must count class 0's wrong labels and not class
 * 1's hard ones. */
static void
test_hard_or_noisy(void)
{
    enum { PER = 600, N = 3 * PER };
    int32_t *label = xmalloc(sizeof *label * N);
    uint8_t *wrong = xmalloc(N);
    float *probs = xmalloc(sizeof *probs * N * 3);
    struct rng g;
    rng_seed(&g, 11);
    int64_t actual0 = 0;
    for (int i = 0; i < N; i++) {
        int c = i / PER;
        float *p = probs + (size_t)i * 3;
        double z = (double)rng_normal(&g), doubt;
        label[i] = c;
        wrong[i] = c == 0 && i % 5 == 0;
        if (wrong[i])
            doubt = hard_sigmoid(2.0 + 0.6 * z);
        else if (c == 0)
            doubt = hard_sigmoid(-3.0 + 0.7 * z);
        else if (c == 1)
            doubt = hard_sigmoid(0.3 + 1.3 * z);
        else
            doubt = hard_sigmoid(-1.0 + 0.8 * z);
        actual0 += wrong[i];
        /* The doubt goes mostly to the class it is confused with. */
        int other = c == 2 ? 1 : 2, rest = 3 - c - other;
        p[c] = (float)(1.0 - doubt);
        p[other] = (float)(0.9 * doubt);
        p[rest] = (float)(0.1 * doubt);
    }
    struct scores_input in = {.n = N, .k = 3, .label = label, .probs = probs};
    struct scores_config cfg;
    struct scores_result r;
    scores_config_default(&cfg);
    if (scores_compute(&in, &cfg, &r, NULL) != 0)
        bail("hard or noisy case failed");
    double cl1 = 1.0 - r.cl_noise_matrix[1 * 3 + 1];
    double rate0 = (double)actual0 / PER;
    diag("class noise %.3f %.3f %.3f (confident learning: %.3f %.3f %.3f); "
         "rate %.4f",
         r.class_noise[0], r.class_noise[1], r.class_noise[2],
         1.0 - r.cl_noise_matrix[0], cl1, 1.0 - r.cl_noise_matrix[8],
         r.noise_rate);
    ok(cl1 > 0.2, "confident learning takes the hard class for noisy");
    is_float(r.class_noise[0], rate0, 0.04);
    ok(r.class_noise[1] < 0.03, "the hard class is not taken for noisy");
    ok(r.class_noise[2] < 0.03, "the middling class is clean");
    is_float(r.noise_rate, (double)actual0 / N, 0.015);
    /* Class 0's wrong labels go to class 2, where their doubt went. */
    is_float(r.noise_matrix[0 * 3 + 2], r.class_noise[0], 1e-12);
    for (int i = 0; i < 3; i++) {
        double row = 0.0;
        for (int j = 0; j < 3; j++)
            row += r.noise_matrix[i * 3 + j];
        is_float(row, 1.0, 1e-12);
    }
    scores_result_fini(&r);
    free(probs);
    free(wrong);
    free(label);
}

/* Prune by noise rate the slow way, as cleanlab's _prune_by_count writes
 * it: for every cell, numpy's argsort of minus the float32 margins of the
 * whole class, the first prune_count taken; then the argmax rule. */
static void
ref_prune(const struct scores_input *in, const struct scores_result *r,
          uint8_t *flag)
{
    size_t k = (size_t)in->k, n = (size_t)in->n;
    double *neg = xmalloc(sizeof *neg * n);
    int64_t *member = xmalloc(sizeof *member * n);
    int64_t *idx = xmalloc(sizeof *idx * n);
    memset(flag, 0, n);
    for (size_t i = 0; i < k; i++) {
        if (r->class_count[i] <= 1)
            continue;
        for (size_t j = 0; j < k; j++) {
            int64_t want = r->prune_count[i * k + j];
            if (j == i || want < 1)
                continue;
            size_t m = 0;
            for (size_t s = 0; s < n; s++) {
                if ((size_t)in->label[s] != i ||
                    (in->trusted && in->trusted[s]))
                    continue;
                const float *p = in->probs + s * k;
                float margin = p[j] - p[i];
                neg[m] = -(double)margin;
                member[m++] = (int64_t)s;
            }
            cleanlab_argsort(neg, idx, m);
            for (size_t t = 0; t < (size_t)want && t < m; t++)
                flag[member[idx[t]]] = 1;
        }
    }
    for (size_t s = 0; s < n; s++) {
        const float *p = in->probs + s * k;
        size_t argmax = 0;
        for (size_t j = 1; j < k; j++)
            if (p[j] > p[argmax])
                argmax = j;
        if (argmax == (size_t)in->label[s])
            flag[s] = 0;
    }
    free(neg);
    free(member);
    free(idx);
}

static void
test_prune_reference(void)
{
    static const int quants[2] = {0, 8};
    for (int q = 0; q < 2; q++) {
        struct synth s;
        struct scores_input in;
        struct scores_result r;
        synth_make(&s, 3000, 3, synth_t, 2.5f, quants[q], 11 + (uint64_t)q);
        synth_input(&s, &in);
        if (compute(&in, NULL, &r) != 0)
            bail("synthetic case failed");
        uint8_t *flag = xmalloc((size_t)s.n);
        ref_prune(&in, &r, flag);
        int64_t diff = 0, nf = 0;
        for (int64_t i = 0; i < s.n; i++) {
            diff += flag[i] != r.sample[i].flagged;
            nf += flag[i];
        }
        is_int(diff, ==, 0);
        ok(nf > 100, "quant %d: %lld flagged", quants[q], (long long)nf);
        free(flag);
        scores_result_fini(&r);
        synth_free(&s);
    }
}

static void
test_order_and_repeat(void)
{
    struct synth s;
    struct scores_input in;
    struct scores_result r1, r2, rv;
    synth_make(&s, 3000, 3, synth_t, 3.0f, 0, 21);
    synth_input(&s, &in);
    if (compute(&in, "rank:self_confidence,margin,elr,cl", &r1) != 0 ||
        compute(&in, "rank:self_confidence,margin,elr,cl", &r2) != 0)
        bail("synthetic case failed");
    ok(memcmp(r1.sample, r2.sample, sizeof *r1.sample * (size_t)s.n) == 0 &&
           memcmp(r1.cl_joint, r2.cl_joint, sizeof(double) * 9) == 0,
       "the same input gives the same bytes");

    /* Reversed sample order: every score follows its sample (continuous
     * probabilities leave no tie for the index to break). */
    size_t n = (size_t)s.n;
    int32_t *lab = xmalloc(sizeof(int32_t) * n);
    float *pr = xmalloc(sizeof(float) * n * 3);
    for (size_t i = 0; i < n; i++) {
        lab[i] = s.given[n - 1 - i];
        memcpy(pr + i * 3, s.probs + (n - 1 - i) * 3, sizeof(float) * 3);
    }
    in.label = lab;
    in.probs = pr;
    if (compute(&in, "rank:self_confidence,margin,elr,cl", &rv) != 0)
        bail("reversed case failed");
    int64_t diff = 0;
    for (size_t i = 0; i < n; i++) {
        const struct scores_sample *a = &r1.sample[i],
                                   *b = &rv.sample[n - 1 - i];
        diff += a->flagged != b->flagged || a->score != b->score ||
                a->suggested != b->suggested;
    }
    is_int(diff, ==, 0);
    int same_q = 1;
    for (int c = 0; c < 9; c++)
        same_q &= fabs(r1.cl_joint[c] - rv.cl_joint[c]) < 1e-15;
    ok(same_q, "reversed: the same joint");
    free(lab);
    free(pr);
    scores_result_fini(&r1);
    scores_result_fini(&r2);
    scores_result_fini(&rv);
    synth_free(&s);
}

static void
test_trusted(void)
{
    struct synth s;
    struct scores_input in;
    struct scores_result r0, r;
    synth_make(&s, 3000, 3, synth_t, 4.0f, 0, 31);
    synth_input(&s, &in);
    if (compute(&in, NULL, &r0) != 0)
        bail("synthetic case failed");

    /* Trust every third sample, flipped or not: a person's word wins. */
    uint8_t *trusted = xcalloc((size_t)s.n, 1);
    int64_t flagged_before = 0;
    for (int64_t i = 0; i < s.n; i += 3) {
        trusted[i] = 1;
        flagged_before += r0.sample[i].flagged;
    }
    in.trusted = trusted;
    if (compute(&in, NULL, &r) != 0)
        bail("trusted case failed");
    ok(flagged_before > 50, "%lld of them were flagged untrusted",
       (long long)flagged_before);
    int64_t bad = 0;
    for (int64_t i = 0; i < s.n; i += 3) {
        const struct scores_sample *x = &r.sample[i];
        bad += x->flagged || x->score != 0.0 || x->suggested != s.given[i];
    }
    is_int(bad, ==, 0);
    /* Thresholds and joint still use them. */
    for (int j = 0; j < 3; j++)
        is_float(r.threshold[j], r0.threshold[j], 0.0);
    ok(r.n_flagged > r0.n_flagged / 2, "the others are still flagged");
    free(trusted);
    scores_result_fini(&r0);
    scores_result_fini(&r);
    synth_free(&s);
}

static void
test_empty_class(void)
{
    /* Four classes, none labelled 3, though sample 0 puts .9 on it. */
    const int32_t label[4] = {0, 1, 1, 0};
    const float probs[16] = {
        0.05f, 0.02f, 0.03f, 0.9f,  /* */
        0.2f,  0.7f,  0.05f, 0.05f, /* */
        0.1f,  0.8f,  0.05f, 0.05f, /* */
        0.6f,  0.2f,  0.1f,  0.1f,
    };
    struct scores_input in = {.n = 4, .k = 4, .label = label, .probs = probs};
    struct scores_result r;
    if (compute(&in, NULL, &r) != 0)
        bail("empty class case failed");
    ok(isnan(r.threshold[2]) && isnan(r.threshold[3]),
       "no sample, no threshold");
    is_int(r.class_count[3], ==, 0);
    int64_t col = 0;
    for (int i = 0; i < 4; i++)
        col += r.confident_joint[i * 4 + 3] + r.confident_joint[i * 4 + 2];
    is_int(col, ==, 0);
    is_float(r.cl_noise_matrix[3 * 4 + 3], 1.0, 0.0);
    is_float(r.class_noise[3], 0.0, 0.0);
    is_float(r.cl_joint[3 * 4 + 3], 0.0, 0.0);
    /* Sample 0 reaches no threshold (t0 = .325); sample 3 counts as 0;
     * row 0 is [1 0 0 0] scaled to 2: no noise to prune. */
    is_float(r.cl_noise_rate, 0.0, 1e-12);
    is_int(r.n_flagged, ==, 0);
    is_int(r.sample[0].suggested, ==, 3);
    scores_result_fini(&r);

    /* No samples at all. */
    struct scores_input none = {.n = 0, .k = 3};
    if (compute(&none, NULL, &r) != 0)
        bail("empty input failed");
    is_float(r.cl_noise_rate, 0.0, 0.0);
    is_float(r.cl_noise_matrix[4], 1.0, 0.0);
    scores_result_fini(&r);
}

static void
test_many_classes(void)
{
    /* K = 1000, 10 samples a class, 10% flipped uniformly. */
    struct synth s;
    struct scores_input in;
    struct scores_result r;
    const int k = 1000;
    synth_make(&s, 10000, k, NULL, 12.0f, 0, 41);
    struct rng rg;
    rng_seed(&rg, 42);
    for (int64_t i = 0; i < s.n; i++) {
        if (rng_uniform(&rg) < 0.1f) {
            s.given[i] = (s.truth[i] + 1 + (int32_t)rng_below(&rg, 999)) % k;
            s.noisy[i] = 1;
        }
    }
    synth_input(&s, &in);
    double t0 = wn_monotonic();
    if (compute(&in, NULL, &r) != 0)
        bail("many classes failed");
    double secs = wn_monotonic() - t0;
    double qsum = 0.0;
    for (size_t c = 0; c < (size_t)k * k; c++)
        qsum += r.cl_joint[c];
    is_float(qsum, 1.0, 1e-9);
    struct metrics_flags f;
    uint8_t *flag = xmalloc((size_t)s.n);
    for (int64_t i = 0; i < s.n; i++)
        flag[i] = r.sample[i].flagged;
    metrics_flags(flag, s.noisy, (size_t)s.n, &f);
    diag("K 1000: %.3f s, noise rate %.3f, flag precision %.3f recall %.3f",
         secs, r.cl_noise_rate, f.precision, f.recall);
    ok(f.precision > 0.8 && f.recall > 0.8, "K 1000: flags find the flips");
    free(flag);
    scores_result_fini(&r);
    synth_free(&s);
}

static void
test_bad_input(void)
{
    struct scores_input in;
    struct scores_result r;
    struct scores_config cfg;
    char *cause = NULL;
    int32_t label[4] = {0, 1, 2, 0};
    float probs[12];
    memcpy(probs, hand_probs, sizeof probs);

    hand_input(&in);
    in.label = label;
    in.probs = probs;
    label[2] = 3;
    is_int(scores_compute(&in, NULL, &r, &cause), ==, -1);
    is_str(cause, "sample 2: label 3 out of range");
    ok(r.sample == NULL, "nothing returned");
    free(cause);
    label[2] = 2;

    probs[5] = NAN;
    is_int(scores_compute(&in, NULL, &r, &cause), ==, -1);
    is_str(cause, "sample 1: probability not finite");
    free(cause);
    probs[5] = 0.1f;

    in.k = 1;
    is_int(scores_compute(&in, NULL, &r, &cause), ==, -1);
    is_str(cause, "1 classes: need at least 2");
    free(cause);
    in.k = 3;

    scores_config_default(&cfg);
    cfg.weight[SCORES_MARGIN] = -1.0;
    is_int(scores_compute(&in, &cfg, &r, &cause), ==, -1);
    is_str(cause, "bad weight for score 'margin'");
    free(cause);
}

static void
test_parse(void)
{
    struct scores_config cfg;
    char *cause = NULL;

    scores_config_default(&cfg);
    is_int(cfg.combine, ==, SCORES_COMBINE_MEAN);
    is_float(cfg.weight[SCORES_SELF_CONFIDENCE], 1.0, 0.0);
    is_float(cfg.weight[SCORES_ELR], 1.0, 0.0);
    is_float(cfg.weight[SCORES_MARGIN] + cfg.weight[SCORES_AUM] +
                 cfg.weight[SCORES_CL],
             0.0, 0.0);

    is_int(scores_config_parse("rank:margin=2.5,aum,cl=0", &cfg, &cause), ==,
           0);
    is_int(cfg.combine, ==, SCORES_COMBINE_RANK);
    is_float(cfg.weight[SCORES_MARGIN], 2.5, 0.0);
    is_float(cfg.weight[SCORES_AUM], 1.0, 0.0);
    is_float(cfg.weight[SCORES_SELF_CONFIDENCE] + cfg.weight[SCORES_ELR] +
                 cfg.weight[SCORES_CL],
             0.0, 0.0);
    cfg.cl_keep_argmax = 0;
    is_int(scores_config_parse("default", &cfg, &cause), ==, 0);
    is_int(cfg.combine, ==, SCORES_COMBINE_MEAN);
    is_float(cfg.weight[SCORES_MARGIN], 0.0, 0.0);
    is_int(cfg.cl_keep_argmax, ==, 0);

    static const struct {
        const char *spec, *cause;
    } bad[] = {
        {"mean:", "unknown score '' in 'mean:'"},
        {"margin,foo", "unknown score 'foo' in 'margin,foo'"},
        {"margin=-1", "bad weight for 'margin' in 'margin=-1'"},
        {"margin=x", "bad weight for 'margin' in 'margin=x'"},
        {"margin=1e999", "bad weight for 'margin' in 'margin=1e999'"},
        {"aum,aum", "score 'aum' given twice in 'aum,aum'"},
        {"elr=0", "no score has a positive weight in 'elr=0'"},
        {"sum:elr", "unknown score 'sum:elr' in 'sum:elr'"},
    };
    scores_config_default(&cfg);
    for (size_t i = 0; i < WN_ARRAY_LEN(bad); i++) {
        is_int(scores_config_parse(bad[i].spec, &cfg, &cause), ==, -1);
        is_str(cause, bad[i].cause);
        free(cause);
        cause = NULL;
    }
    is_int(cfg.combine, ==, SCORES_COMBINE_MEAN);
    is_float(cfg.weight[SCORES_ELR], 1.0, 0.0);

    for (int k = 0; k < SCORES_N_KINDS; k++) {
        struct scores_config one;
        scores_config_default(&one);
        is_int(scores_config_parse(scores_kind_name(k), &one, &cause), ==, 0);
        is_float(one.weight[k], 1.0, 0.0);
    }
    is_str(scores_kind_name(SCORES_SELF_CONFIDENCE), "self_confidence");
}

/* The default's last step on the hand case: the raw means are .2, .65,
 * .3, .725; class 0 holds samples 0 and 3 (ranks 1/4 and 3/4), classes 1
 * and 2 one sample each (rank 1/2); each is lifted by its class's noise
 * rate as confident learning estimates it. Then a synthetic case where raw scores of a hard
 * class outrank the wrong labels of an easy one and ranking per class
 * puts them right. */
static void
test_per_class(void)
{
    struct scores_input in;
    struct scores_result r;
    struct scores_config cfg;
    hand_input(&in);
    scores_config_default(&cfg);
    cfg.per_class = 1.0;
    if (scores_compute(&in, &cfg, &r, NULL) != 0)
        bail("hand case failed");
    const double u[4] = {0.25, 0.5, 0.5, 0.75};
    const double mean[4] = {0.2, 0.65, 0.3, 0.725};
    double ranked[4];
    for (int i = 0; i < 4; i++) {
        int c = hand_label[i];
        ranked[i] = (u[i] + 1.0 - r.cl_noise_matrix[c * 3 + c]) / 2.0;
        is_float(r.sample[i].score, ranked[i], TOL);
    }
    scores_result_fini(&r);
    /* The default takes half of each. */
    if (scores_compute(&in, NULL, &r, NULL) != 0)
        bail("hand case failed");
    for (int i = 0; i < 4; i++)
        is_float(r.sample[i].score, (mean[i] + ranked[i]) / 2.0, TOL);
    scores_result_fini(&r);
    cfg.per_class = 1.5;
    char *cause = NULL;
    ok(scores_compute(&in, &cfg, &r, &cause) == -1 && cause != NULL,
       "a per-class weight above 1 is refused");
    free(cause);

    /* Class 0 is easy: its 90 right labels have P[y] .95, its 10 wrong
     * ones .35. Class 1 is hard: all 100 labels right, P[y] spread from
     * .2 to .9, so a fifth of them look worse than class 0's wrong
     * ones. */
    enum { N = 200 };
    int32_t label[N];
    float probs[N * 2];
    uint8_t wrong[N];
    for (int i = 0; i < N; i++) {
        int c = i < 100 ? 0 : 1;
        float py = c == 0 ? (i < 10 ? 0.35f : 0.95f)
                          : 0.2f + 0.007f * (float)(i - 100);
        label[i] = c;
        wrong[i] = c == 0 && i < 10;
        probs[i * 2 + c] = py;
        probs[i * 2 + (1 - c)] = 1.0f - py;
    }
    struct scores_input syn = {.n = N, .k = 2, .label = label, .probs = probs};
    scores_config_default(&cfg);
    double raw[N], cls[N];
    cfg.per_class = 0;
    if (scores_compute(&syn, &cfg, &r, NULL) != 0)
        bail("synthetic raw failed");
    for (int i = 0; i < N; i++)
        raw[i] = r.sample[i].score;
    scores_result_fini(&r);
    cfg.per_class = 1.0;
    if (scores_compute(&syn, &cfg, &r, NULL) != 0)
        bail("synthetic per class failed");
    for (int i = 0; i < N; i++)
        cls[i] = r.sample[i].score;
    scores_result_fini(&r);
    double auroc_raw = metrics_auroc(raw, wrong, N);
    double auroc_cls = metrics_auroc(cls, wrong, N);
    diag("AUROC raw %.3f, per class %.3f", auroc_raw, auroc_cls);
    ok(auroc_raw < 0.95, "raw scores put some of the hard class first");
    ok(auroc_cls == 1.0, "per class, the wrong labels come first");
    int bounded = 1;
    for (int i = 0; i < N; i++)
        bounded &= cls[i] > 0.0 && cls[i] < 1.0;
    ok(bounded, "per-class scores stay inside (0, 1)");
}

int
main(void)
{
    test_hand_scores();
    test_per_class();
    test_hand_combine();
    test_hand_trusted();
    test_keep_argmax();
    test_synthetic_estimate();
    test_hard_or_noisy();
    test_prune_reference();
    test_order_and_repeat();
    test_trusted();
    test_empty_class();
    test_many_classes();
    test_bad_input();
    test_parse();
    return done_testing();
}
