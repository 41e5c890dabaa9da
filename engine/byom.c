/* engine/byom.c: a run from someone else's probabilities.
 *
 * What needs no training is computed as the engine computes it (engine/
 * scores.h): self-confidence, margin, confident learning, the suggestion,
 * neighbour votes when features come along, and the combination of what
 * is there (AUM and ELR drop out and leave their weight to the others).
 * The run is claimed only once the scores exist, so a bad input never
 * leaves a run behind. */
#include "config.h"

#include "engine/byom.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data/store.h"
#include "engine/featpairs.h"
#include "engine/knn.h"
#include "engine/outlier.h"
#include "engine/scores.h"

/* As the engine's (engine/engine.c): a running run whose process lives
 * blocks a claim until its heartbeat is this old. */
#define BYOM_STALE_MS ((int64_t)600 * 1000)

/* The STORE_TOP_CLASSES likeliest classes of a row, best first, the lower
 * id first on a tie; one pass keeps the list sorted as it goes. */
static void
byom_top(const float *p, int k, struct store_score *r)
{
    int n = 0;
    for (int j = 0; j < k; j++) {
        int at = n;
        while (at > 0 && p[j] > p[r->top[at - 1]])
            at--;
        if (at >= STORE_TOP_CLASSES)
            continue;
        int last = n < STORE_TOP_CLASSES ? n : STORE_TOP_CLASSES - 1;
        for (int u = last; u > at; u--)
            r->top[u] = r->top[u - 1];
        r->top[at] = j;
        if (n < STORE_TOP_CLASSES)
            n++;
    }
    for (int t = 0; t < STORE_TOP_CLASSES; t++) {
        if (t >= n)
            r->top[t] = -1;
        r->top_prob[t] = t < n ? (double)p[r->top[t]] : (double)NAN;
    }
}

static int
byom_score(const struct byom_input *in, struct scores_result *res, char **cause)
{
    float *votes = NULL;
    if (in->features != NULL) {
        struct knn_config kc;
        knn_config_default(&kc);
        kc.seed = in->seed;
        kc.threads = in->threads;
        struct knn_input ki = {
            .n = in->n,
            .dim = in->dim,
            .classes = in->k,
            .features = in->features,
            .label = in->label,
            .group = NULL,
        };
        votes = xcalloc((size_t)in->n * (size_t)in->k, sizeof *votes);
        if (knn_votes(&ki, &kc, votes, cause) != 0) {
            free(votes);
            return -1;
        }
    }
    struct scores_input si = {
        .n = in->n,
        .k = in->k,
        .label = in->label,
        .trusted = in->trusted,
        .probs = in->probs,
        .knn_votes = votes,
    };
    int rc = scores_compute(&si, NULL, res, cause);
    free(votes);
    return rc;
}

static struct store_score *
byom_rows(const struct byom_input *in, const struct scores_result *res)
{
    struct store_score *rows = xcalloc((size_t)in->n, sizeof *rows);
    for (int64_t i = 0; i < in->n; i++) {
        const struct scores_sample *x = &res->sample[i];
        struct store_score *r = &rows[i];
        r->sample_id = in->sample_id[i];
        r->score = x->score;
        r->self_confidence = x->self_confidence;
        r->margin = x->margin;
        r->cl_flag = x->flagged;
        r->aum = x->aum;
        r->elr = x->elr;
        r->knn = x->knn;
        r->label = in->label[i];
        r->suggested = x->suggested;
        r->suggested_prob = x->suggested_prob;
        r->flagged = x->flagged;
        r->outlier = NAN;
        byom_top(in->probs + (size_t)i * (size_t)in->k, in->k, r);
    }
    return rows;
}

/* What the features say besides the votes: outliers (features alone,
 * the pixels are not at hand) and near-duplicates, as sample ids. */
static int
byom_features(const struct byom_input *in, struct store_score *rows,
              struct store_pair **pairs_out, size_t *n_out, char **cause)
{
    *pairs_out = NULL;
    *n_out = 0;
    if (in->features == NULL)
        return 0;
    struct outlier_input oi = {
        .n = in->n,
        .dim = in->dim,
        .classes = in->k,
        .features = in->features,
        .label = in->label,
    };
    double *o = xmalloc(((size_t)in->n + 1) * sizeof *o);
    if (outlier_scores(&oi, o, cause) != 0) {
        free(o);
        return -1;
    }
    for (int64_t i = 0; i < in->n; i++)
        rows[i].outlier = o[i];
    free(o);
    struct featpairs_pair *fp;
    size_t n;
    int truncated;
    if (featpairs_find(in->features, in->n, in->dim, FEATPAIRS_DEFAULT_MIN, 0,
                       &fp, &n, &truncated, cause) != 0)
        return -1;
    n = featpairs_rare(fp, n, in->n, FEATPAIRS_MAX_PARTNERS);
    struct store_pair *p = xcalloc(n + 1, sizeof *p);
    for (size_t i = 0; i < n; i++) {
        p[i].a = in->sample_id[fp[i].a];
        p[i].b = in->sample_id[fp[i].b];
        p[i].similarity = (double)fp[i].similarity;
    }
    free(fp);
    *pairs_out = p;
    *n_out = n;
    return 0;
}

static int
byom_publish(struct store *s, const struct byom_input *in, int64_t run_id,
             const struct store_score *rows, const struct scores_result *res,
             const struct store_pair *pairs, size_t n_pairs, double seconds,
             char **cause)
{
    if (store_begin(s, cause) != 0)
        return -1;
    int rc = store_run_array_put(s, run_id, STORE_ARRAY_PROBS, in->probs, in->n,
                                 in->k, cause);
    if (rc == 0 && in->features != NULL)
        rc = store_run_array_put(s, run_id, STORE_ARRAY_FEATURES, in->features,
                                 in->n, in->dim, cause);
    if (rc == 0 && n_pairs > 0)
        rc = store_run_pairs_put(s, run_id, pairs, n_pairs, cause);
    if (rc == 0)
        rc =
            store_run_publish(s, run_id, rows, (size_t)in->n, res->noise_matrix,
                              res->k, res->noise_rate, seconds, cause);
    if (rc == 0)
        return store_commit(s, cause);
    store_rollback(s);
    return -1;
}

int
byom_run(struct store *s, const struct byom_input *in, struct byom_result *out,
         char **cause)
{
    double t0 = wn_monotonic();
    memset(out, 0, sizeof *out);
    struct scores_result res;
    if (byom_score(in, &res, cause) != 0)
        return -1;
    struct store_score *rows = byom_rows(in, &res);
    struct store_pair *pairs;
    size_t n_pairs;
    if (byom_features(in, rows, &pairs, &n_pairs, cause) != 0) {
        free(rows);
        scores_result_fini(&res);
        return -1;
    }
    struct store_run_request req = {
        .seed = in->seed,
        .params = in->params,
        .version = PACKAGE_VERSION,
        .resume = 0,
        .stale_ms = BYOM_STALE_MS,
    };
    void *resume = NULL;
    size_t resume_len = 0;
    int64_t run_id = 0;
    int rc = store_run_claim(s, &req, &run_id, &resume, &resume_len, cause);
    free(resume);
    if (rc == 0) {
        rc = byom_publish(s, in, run_id, rows, &res, pairs, n_pairs,
                          wn_monotonic() - t0, cause);
        if (rc != 0) {
            char *c2 = NULL;
            if (store_run_mark(s, run_id, STORE_RUN_FAILED, *cause, &c2) != 0)
                free(c2);
        }
    }
    if (rc == 0) {
        out->run_id = run_id;
        out->noise_rate = res.noise_rate;
        out->n_flagged = res.n_flagged;
    }
    free(pairs);
    free(rows);
    scores_result_fini(&res);
    return rc;
}
