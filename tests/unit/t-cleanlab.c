/* tests/unit/t-cleanlab.c: agreement with cleanlab, worked out by hand.
 *
 * Each case follows cleanlab 2.x's find_label_issues(filter_by=
 * "prune_by_noise_rate") with its defaults step by step in the comments
 * (engine/cleanlab.c lists the steps): thresholds, confident joint,
 * calibrated counts, prune counts, the samples pruned, the argmax rule.
 * Probabilities are sums of powers of two, so every mean and margin is
 * exact in float32 and the hand arithmetic is the machine's.
 *
 * winnow's scores are "higher = more suspicious": self_confidence is 1 -
 * cleanlab's get_label_quality_scores(method="self_confidence") and
 * margin is 1 - its method="normalized_margin"; flagged is
 * find_label_issues' mask. */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data/base.h"
#include "engine/scores.h"
#include "tests/tap.h"

struct cl_case {
    const char *name;
    int64_t n;
    int k;
    const int32_t *label;
    const float *probs;
};

static void
run(const struct cl_case *c, int keep_argmax, struct scores_result *r)
{
    struct scores_input in = {
        .n = c->n, .k = c->k, .label = c->label, .probs = c->probs};
    struct scores_config cfg;
    char *cause = NULL;
    scores_config_default(&cfg);
    cfg.cl_keep_argmax = keep_argmax;
    if (scores_compute(&in, &cfg, r, &cause) != 0)
        bail("%s: %s", c->name, cause);
}

/* The flagged samples as "2 11", and the K x K matrix m as "2 1 0 / ...". */
static char *
flags(const struct scores_result *r)
{
    char *s = xstrdup("");
    for (int64_t i = 0; i < r->n; i++) {
        if (!r->sample[i].flagged)
            continue;
        char *t = xasprintf("%s%s%lld", s, *s ? " " : "", (long long)i);
        free(s);
        s = t;
    }
    return s;
}

static char *
matrix(const int64_t *m, int k)
{
    char *s = xstrdup("");
    for (int i = 0; i < k * k; i++) {
        const char *sep = i == 0 ? "" : i % k == 0 ? " / " : " ";
        char *t = xasprintf("%s%s%lld", s, sep, (long long)m[i]);
        free(s);
        s = t;
    }
    return s;
}

static void
expect(const struct cl_case *c, int keep_argmax, const char *cj,
       const char *prune, const char *flagged)
{
    struct scores_result r;
    run(c, keep_argmax, &r);
    char *a = matrix(r.confident_joint, c->k);
    char *b = matrix(r.prune_count, c->k);
    char *f = flags(&r);
    ok(strcmp(a, cj) == 0, "%s: confident joint %s (want %s)", c->name, a, cj);
    ok(strcmp(b, prune) == 0, "%s: prune counts %s (want %s)", c->name, b,
       prune);
    ok(strcmp(f, flagged) == 0, "%s%s: flagged '%s' (want '%s')", c->name,
       keep_argmax ? "" : " without the argmax rule", f, flagged);
    free(a);
    free(b);
    free(f);
    scores_result_fini(&r);
}

/* A plain case. t0 = (.75 + .75 + .125) / 3, t1 = (.75 + .75 + .5) / 3 =
 * 2/3, t2 = .75. Samples 0, 1 are confident in 0; 2, 3, 4 in 1 (2 is
 * labelled 0); 5 reaches no threshold (.5 < 2/3); 6, 7 in 2.
 * Confident joint [2 1 0 / 0 2 0 / 0 0 2]; calibrated to the class
 * counts 3, 3, 2: [2 1 0 / 0 3 0 / 0 0 2]. One sample labelled 0 is to go
 * to 1: the largest P[1] - P[0] among samples 0, 1, 2 is sample 2's. */
static const int32_t plain_label[8] = {0, 0, 0, 1, 1, 1, 2, 2};
static const float plain_probs[24] = {
    .75f,  .125f, .125f, .75f,  .125f, .125f, .125f, .75f,
    .125f, .125f, .75f,  .125f, .125f, .75f,  .125f, .25f,
    .5f,   .25f,  .125f, .125f, .75f,  .125f, .125f, .75f,
};

static void
test_plain(void)
{
    struct cl_case c = {"plain", 8, 3, plain_label, plain_probs};
    expect(&c, 1, "2 1 0 / 0 2 0 / 0 0 2", "0 1 0 / 0 0 0 / 0 0 0", "2");

    /* The per-sample scores: sample 5, labelled 1, P = .25 .5 .25:
     * cleanlab's self-confidence .5 and normalised margin (.5 - .25 + 1) /
     * 2 = .625; winnow's are 1 minus those. */
    struct scores_result r;
    run(&c, 1, &r);
    is_float(r.sample[5].self_confidence, 1.0 - 0.5, 1e-6);
    is_float(r.sample[5].margin, 1.0 - 0.625, 1e-6);
    /* Sample 2, labelled 0, P = .125 .75 .125: (.125 - .75 + 1) / 2. */
    is_float(r.sample[2].self_confidence, 1.0 - 0.125, 1e-6);
    is_float(r.sample[2].margin, 1.0 - 0.1875, 1e-6);
    is_float(r.threshold[1], 2.0 / 3.0, 1e-7);
    scores_result_fini(&r);
}

/* A class no sample is confident in, and a tie at the cut. t0 = (.75 +
 * .75 + .5) / 3 = 2/3, t1 = .75, t2 = .25. Samples 6 and 7 (labelled 2)
 * reach t2 exactly and t0 too: with several confident classes cleanlab
 * takes the argmax over all classes, 0. Sample 2 reaches none. So column
 * 2 is empty: confident joint [2 0 0 / 0 3 0 / 2 0 0]. Calibration clips
 * the diagonal to 1, [2 0 1], scales it to class 2's two samples, [4/3 0
 * 2/3], and rounds to [1 0 1]. One sample labelled 2 is to go to 0: P[0]
 * - P[2] is .5 for both 6 and 7, and numpy's argsort keeps the first. */
static const int32_t none_label[8] = {0, 0, 0, 1, 1, 1, 2, 2};
static const float none_probs[24] = {
    .75f, .25f, 0, .75f, .25f, 0, .5f,  .5f, 0,    .25f, .75f, 0,
    .25f, .75f, 0, .25f, .75f, 0, .75f, 0,   .25f, .75f, 0,    .25f,
};

static void
test_no_confident(void)
{
    struct cl_case c = {"no confident sample", 8, 3, none_label, none_probs};
    expect(&c, 1, "2 0 0 / 0 3 0 / 2 0 0", "0 0 0 / 0 0 0 / 1 0 0", "6");
}

/* Ties at the thresholds and in the argmax. a = 2^-21 (4.8e-7, inside
 * cleanlab's 1e-6 slack), b = 2^-19 (1.9e-6, outside). t1 = (.75 + .75 +
 * .5 + 1) / 4 = .75, t0 = (.5 + .5 + .5 + .25) / 4 = .4375, t2 = (.75 +
 * .75 - a + .75 - b + .75 + a + b) / 4 = .75.
 *   labelled 1: 0, 1 (.75 = t1), 3 confident in 1; 2 (.5 .5 0) reaches
 *     t0 only: counted as 0.
 *   labelled 0: 4 (.5 .5 0), 5 (.5 .25 .25), 6 (.5 0 .5) reach t0 only;
 *     7 (.25 .75 0) reaches t1: counted as 1.
 *   labelled 2: 8 (P[2] = t2) and 9 (t2 - a) confident in 2, 10 (t2 - b)
 *     in nothing, 11 (t2 + a + b) in 2.
 * Confident joint [3 1 0 / 1 3 0 / 0 0 3]; calibrated the same but row
 * 2, scaled to 4 samples: [0 0 4]. Cell (0, 1) takes sample 7 (P[1] -
 * P[0] = .5; sample 4's is 0); cell (1, 0) takes sample 2 (0, against
 * -.75 and -1). Sample 2's P is .5 .5 0: its argmax, the first of equal
 * maxima, is 0, not its label, so the flag stays. */
#define A_ (1.0f / 2097152.0f)
#define B_ (1.0f / 524288.0f)
static const int32_t tie_label[12] = {1, 1, 1, 1, 0, 0, 0, 0, 2, 2, 2, 2};
static const float tie_probs[36] = {
    0,
    .75f,
    .25f,
    0,
    .75f,
    .25f,
    .5f,
    .5f,
    0,
    0,
    1,
    0,
    .5f,
    .5f,
    0,
    .5f,
    .25f,
    .25f,
    .5f,
    0,
    .5f,
    .25f,
    .75f,
    0,
    0,
    .25f,
    .75f,
    0,
    .25f + A_,
    .75f - A_,
    0,
    .25f + B_,
    .75f - B_,
    0,
    .25f - A_ - B_,
    .75f + A_ + B_,
};

static void
test_ties(void)
{
    struct cl_case c = {"ties", 12, 3, tie_label, tie_probs};
    expect(&c, 1, "3 1 0 / 1 3 0 / 0 0 3", "0 1 0 / 1 0 0 / 0 0 0", "2 7");
    struct scores_result r;
    run(&c, 1, &r);
    is_float(r.threshold[2], 0.75, 0.0);
    scores_result_fini(&r);
}

/* K = 2, and the argmax rule on a tie with the label first. t0 = (0 + 3 +
 * .5 + 3 * .625) / 8 = .671875, t1 = (1 + 1 + .5 + 0) / 4 = .625.
 *   labelled 0: 0 (0 1) confident in 1; 1-3 (1 0) in 0; 4 (.5 .5) and
 *     5-7 (.625 .375) in nothing (.625 < t0).
 *   labelled 1: 8, 9 (0 1) in 1; 10 (.5 .5) in nothing; 11 (1 0) in 0.
 * Confident joint [3 1 / 1 2]; calibrated to 8 and 4 samples: [6 2 /
 * 4/3 8/3] -> [6 2 / 1 3]. Cell (0, 1) takes the two largest P[1] - P[0]
 * of class 0: sample 0 (1) and sample 4 (0); cell (1, 0) takes sample 11.
 * Sample 4's argmax is 0, its label (the first of .5 .5): unflagged. */
static const int32_t two_label[12] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1};
static const float two_probs[24] = {
    0,     1,     1,     0,     1, 0, 1, 0, .5f, .5f, .625f, .375f,
    .625f, .375f, .625f, .375f, 0, 1, 0, 1, .5f, .5f, 1,     0,
};

static void
test_two_classes(void)
{
    struct cl_case c = {"K = 2", 12, 2, two_label, two_probs};
    expect(&c, 1, "3 1 / 1 2", "0 2 / 1 0", "0 11");
    expect(&c, 0, "3 1 / 1 2", "0 2 / 1 0", "0 4 11");
}

/* A class with one sample. t0 = 2/3, t1 = 1, t2 = 0 clipped to 2e-6.
 * Samples 0, 1 confident in 0; 2, 3, 4 in 1; 5 (labelled 2) in 0.
 * Confident joint [2 1 0 / 0 2 0 / 1 0 0]; row 2 clipped to [1 0 1] and
 * scaled to its one sample, [.5 0 .5], rounds half to even to [0 0 0],
 * one short of 1: the unit goes to the largest remainder, and of the
 * equal .5s numpy's argsort puts index 2 last, so [0 0 1]. Sample 5 is
 * not flagged, although every other class would call it 0: a class of one
 * sample is never pruned (min_examples_per_class = 1), and its row cannot
 * ask for a prune anyway. Sample 2 goes to 1. */
static const int32_t one_label[6] = {0, 0, 0, 1, 1, 2};
static const float one_probs[18] = {
    1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 1, 0, 0,
};

static void
test_one_sample(void)
{
    struct cl_case c = {"one sample", 6, 3, one_label, one_probs};
    expect(&c, 1, "2 1 0 / 0 2 0 / 1 0 0", "0 1 0 / 0 0 0 / 0 0 0", "2");
}

int
main(void)
{
    test_plain();
    test_no_confident();
    test_ties();
    test_two_classes();
    test_one_sample();
    return done_testing();
}
