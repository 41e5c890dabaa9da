/* engine/scores.h: label-noise scores from what a trained model learned.
 *
 * Pure arithmetic over plain arrays: no BLAS, no store, no threads. The
 * trainer hands over its evidence on each sample (predicted probabilities,
 * ELR running targets, margins summed over epochs); scores_compute turns it
 * into one row of scores per sample and the class-level estimates of
 * confident learning (Northcutt et al. 2021). Every score is "higher = more
 * suspicious". The same input and config give bit-identical output; the
 * cost is O(N K + N log N) time and O(N + K^2) memory.
 *
 * Agreement with cleanlab (2.x), given the same float32 probabilities and
 * labels and no trusted sample: self_confidence = 1 - cleanlab's
 * get_label_quality_scores(method="self_confidence") and margin = 1 -
 * its method="normalized_margin" (adjust_pred_probs False), within 1e-6
 * (winnow computes in double, cleanlab in float32); flagged equals
 * find_label_issues(filter_by="prune_by_noise_rate") with its defaults,
 * sample for sample, including a class no sample is confident in, ties,
 * K = 2 and a class of one sample (engine/cleanlab.h says how, and the
 * one case where numpy's version may matter). Where winnow goes its own
 * way it is on top of that: trusted samples, the combined score, the
 * per_class rank, cl_joint / cl_noise_matrix, which calibrate the same
 * confident joint without cleanlab's rounding to whole counts, and the
 * class noise estimate (noise_matrix, class_noise, noise_rate: what a
 * run stores and shows), which comes from the combined score's
 * distribution within each class (engine/mixture.h says why) rather than
 * from the confident joint. */
#ifndef WINNOW_ENGINE_SCORES_H
#define WINNOW_ENGINE_SCORES_H

#include <stdint.h>

#include "data/base.h"

/* The individual scores, in the order of their weights in
 * scores_config.weight. */
enum scores_kind {
    SCORES_SELF_CONFIDENCE, /* 1 - P[y] */
    SCORES_MARGIN,          /* (max_{k != y} P[k] - P[y] + 1) / 2 */
    SCORES_AUM,             /* minus the area under the margin */
    SCORES_ELR,             /* 1 - T[y], the ELR target's disagreement */
    SCORES_CL,              /* 1 if confident learning flags the sample */
    SCORES_KNN,             /* 1 - the share of the nearest neighbours in
                             * feature space that carry the label */
    SCORES_N_KINDS
};

/* "self_confidence", "margin", "aum", "elr", "cl", "knn": also the column
 * names. */
const char *scores_kind_name(enum scores_kind kind);

enum scores_combine {
    /* Weighted mean of the scores, each in [0, 1]; AUM enters through the
     * logistic function, 1 / (1 + exp(-aum)). */
    SCORES_COMBINE_MEAN,
    /* Weighted mean of their percentile ranks over all samples: (number
     * below + half the number equal, itself included) / N, in (0, 1). */
    SCORES_COMBINE_RANK,
};

struct scores_config { /* plain data; scores_config_default fills it */
    enum scores_combine combine;
    /* Weights, finite and >= 0. A score the input lacks (ELR or AUM) drops
     * out and the others share its weight; a sample none of whose weighted
     * scores exists gets its self-confidence. */
    double weight[SCORES_N_KINDS];
    /* cleanlab's rule: never flag a sample whose most probable class (the
     * first of equal maxima, as numpy's argmax) is its given label,
     * whatever confident learning counted. */
    int cl_keep_argmax;
    /* Weight in [0, 1] of the rank within the given label: the
     * combination's percentile rank u among the samples given the same
     * label, lifted by that label's noise rate as confident learning
     * estimates it (1 - cl_noise_matrix[y][y]), (u + rate) / 2, which
     * passes 1/2 just where the class's estimated share of wrong labels
     * begins. The score is then (1 - w) * the combination + w * that. Raw
     * scores of different classes are not comparable when noise depends
     * on the class: a class that lost many samples to another has
     * uniformly doubtful labels, which outrank the wrong labels of the
     * class that received them. Confident learning's rate, not
     * class_noise: it overcounts hard classes, which is why the default
     * takes half of each, but class_noise undercounts a class whose wrong
     * labels the model partly learned, and ranked by it the
     * class-dependent case lost (BENCHMARKS.md). */
    double per_class;
};

/* The default: the mean of self-confidence and the running target's
 * disagreement (only self-confidence without it), half ranked per class
 * (per_class 0.5), cl_keep_argmax on. */
void scores_config_default(struct scores_config *cfg);

/* Set cfg from a spec such as "mean:self_confidence=1,elr=0.5" or
 * "rank:margin,aum,cl": a combination ("mean:" if absent) then names with
 * optional weights (1 if absent), which replace all the weights; "default"
 * gives scores_config_default. cl_keep_argmax and per_class are left as
 * they were. On a bad
 * spec return -1 with a cause and leave cfg untouched. */
WN_NODISCARD int scores_config_parse(const char *spec,
                                     struct scores_config *cfg, char **cause);

/* What the trainer knows. Every pointer is borrowed and only read during
 * scores_compute. Matrices are row-major. */
struct scores_input {          /* plain data */
    int64_t n;                 /* samples, >= 0 */
    int k;                     /* classes, >= 2 */
    const int32_t *label;      /* (N) given label, in [0, K) */
    const uint8_t *trusted;    /* (N) non-zero: a person confirmed the
                                * label; or NULL for none */
    const float *probs;        /* (N, K) predicted probabilities (out of
                                * sample or ELR-regularised), finite, rows
                                * summing to 1 (not checked) */
    const float *elr_target;   /* (N, K) ELR running targets, or NULL */
    const float *aum;          /* (N) margins logit[y] - max_{k != y}
                                * logit[k] summed over epochs, or NULL */
    const int32_t *aum_epochs; /* (N) epochs in each sum, or NULL when aum
                                * already holds the means */
    const float *knn_votes;    /* (N, K) share of each sample's nearest
                                * neighbours carrying each label (engine/
                                * knn.h), or NULL */
};

struct scores_sample {      /* plain data: one row of scores */
    double self_confidence; /* 1 - P[y], in [0, 1] */
    double margin;          /* (max_{k != y} P[k] - P[y] + 1) / 2, [0, 1] */
    double aum;             /* minus the mean margin over epochs (logit
                             * units, unbounded); NAN without AUM or when
                             * the sample saw no epoch */
    double elr;             /* 1 - T[y], [0, 1]; NAN without ELR */
    double knn;             /* 1 - V[y], [0, 1]; NAN without votes */
    double score;           /* the combination, [0, 1]; 0 when trusted */
    double suggested_prob;  /* P[suggested] */
    int32_t suggested;      /* argmax_{k != y} P[k] (lowest index on a tie):
                             * the model's choice, or its runner-up when
                             * that is y; y itself when trusted */
    uint8_t flagged;        /* confident learning; never when trusted */
};

struct scores_result { /* scores_result_fini frees the arrays */
    int64_t n;
    int k;
    struct scores_sample *sample; /* (N) in input order */
    int64_t *class_count;         /* (K) samples given each label */
    /* (K) t_j, the mean of P[j] over the samples labelled j (a float32
     * mean, as numpy takes it); NAN for a class with no sample, which is
     * then never anyone's confident class. */
    double *threshold;
    /* (K, K) C[i][j]: samples given label i whose confident class is j
     * (raw counts, before calibration). A sample confident in several
     * classes counts in its argmax over all classes, as in cleanlab. */
    int64_t *confident_joint;
    /* (K, K) [i][j]: how many samples given label i confident learning
     * flags as belonging to j (cleanlab's prune_count_matrix, transposed
     * to this orientation). */
    int64_t *prune_count;
    /* (K, K) Q[i][j]: confident learning's joint of given label i and
     * true label j, the confident joint calibrated to the class counts;
     * sums to 1 (all zeros when N is 0). */
    double *cl_joint;
    /* (K, K) confident learning's noise matrix, Q's rows normalised; a
     * class with no sample gets the identity row. It counts the clean
     * samples of a hard class as wrong (engine/mixture.h). */
    double *cl_noise_matrix;
    double cl_noise_rate; /* off-diagonal mass of Q */
    /* (K, K) M[i][j]: estimated fraction of the samples GIVEN label i
     * whose TRUE label is j: M[i][i] = 1 - class_noise[i], and the samples
     * counted as wrong go to their suggested label; rows sum to 1; a class
     * with no sample gets the identity row. */
    double *noise_matrix;
    /* (K) the share of each label's samples counted as wrong: untrusted
     * samples whose combined score the upper of two Gaussians, fitted to
     * the class's scores in log-odds, explains better (engine/mixture.h)
     * and for which the model prefers another class (P[suggested] >
     * P[y]); a trusted sample counts as right. */
    double *class_noise;
    double noise_rate; /* samples counted as wrong / N */
    int64_t n_flagged; /* samples with flagged set */
};

/* Compute every score. cfg NULL means the default. On bad input (a label
 * out of range, a probability that is not finite, K < 2, a bad weight) or
 * when memory runs out, return -1 with a cause and leave out zeroed;
 * otherwise fill out, which the caller then owns. */
WN_NODISCARD int scores_compute(const struct scores_input *in,
                                const struct scores_config *cfg,
                                struct scores_result *out, char **cause);
/* Free the arrays of a result and zero it. NULL is fine. */
void scores_result_fini(struct scores_result *r);

#endif
