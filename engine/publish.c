/* engine/publish.c: the rows of a run and its one publishing transaction
 * (publish.h says why they are shared). */
#include "config.h"

#include "engine/publish.h"

#include <math.h>
#include <stdlib.h>

#include "data/store.h"
#include "engine/scores.h"

/* The STORE_TOP_CLASSES likeliest classes of a row, best first, the lower
 * id first on a tie; one pass keeps the list sorted as it goes. */
static void
publish_top(const float *p, int k, struct store_score *r)
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

struct store_score *
publish_rows(const struct publish_input *in, const struct scores_result *res)
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
        publish_top(in->probs + (size_t)i * (size_t)in->k, in->k, r);
    }
    return rows;
}

int
publish_run(struct store *s, int64_t run_id, const struct publish_input *in,
            const struct store_score *rows, const struct scores_result *res,
            double seconds, char **cause)
{
    if (store_begin(s, cause) != 0)
        return -1;
    int rc = store_run_array_put(s, run_id, STORE_ARRAY_PROBS, in->probs, in->n,
                                 in->k, cause);
    if (rc == 0 && in->features != NULL)
        rc = store_run_array_put(s, run_id, STORE_ARRAY_FEATURES, in->features,
                                 in->n, in->dim, cause);
    if (rc == 0)
        rc =
            store_run_publish(s, run_id, rows, (size_t)in->n, res->noise_matrix,
                              res->k, res->noise_rate, seconds, cause);
    if (rc == 0)
        return store_commit(s, cause);
    store_rollback(s);
    return -1;
}
