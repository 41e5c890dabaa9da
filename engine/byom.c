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
#include "engine/knn.h"
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
    free(rows);
    scores_result_fini(&res);
    return rc;
}
