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
#include "engine/publish.h"
#include "engine/scores.h"

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

int
byom_run(struct store *s, const struct byom_input *in, struct byom_result *out,
         char **cause)
{
    double t0 = wn_monotonic();
    memset(out, 0, sizeof *out);
    struct scores_result res;
    if (byom_score(in, &res, cause) != 0)
        return -1;
    struct publish_input pin = {
        .n = in->n,
        .k = in->k,
        .sample_id = in->sample_id,
        .label = in->label,
        .probs = in->probs,
        .features = in->features,
        .dim = in->dim,
    };
    struct store_score *rows = publish_rows(&pin, &res);
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
        .stale_ms = PUBLISH_STALE_MS,
    };
    void *resume = NULL;
    size_t resume_len = 0;
    int64_t run_id = 0;
    int rc = store_run_claim(s, &req, &run_id, &resume, &resume_len, cause);
    free(resume);
    if (rc == 0) {
        pin.pairs = pairs;
        pin.n_pairs = n_pairs;
        rc = publish_run(s, run_id, &pin, rows, &res, wn_monotonic() - t0,
                         cause);
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
