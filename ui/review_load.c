/* ui/review_load.c: the review queue filled from the project file.
 *
 * Every sample's state and the latest finished run's scores are read in
 * one snapshot (so a run published meanwhile cannot mix in) and merged by
 * sample id into queue items; the queue ranks them. The screen reloads
 * when a run is published, by its engine or by another winnow process.
 * A reload keeps the cursor on the same sample, at the same screen row
 * (only a screen nobody has touched yet jumps to the new top). Kept apart
 * from the loop because it speaks the store's language, not the
 * terminal's. */
#include "config.h"

#include "ui/review_internal.h"

#include <math.h>
#include <stdlib.h>

#include "data/store.h"
#include "ui/queue.h"

struct review_merge {
    const struct store_label_state *states;
    size_t n;
    struct queue_item *items;
    size_t next; /* where the next score's sample should be */
};

static int
review_state_cmp(const void *key, const void *elem)
{
    int64_t k = *(const int64_t *)key;
    int64_t id = ((const struct store_label_state *)elem)->sample_id;
    return (k > id) - (k < id);
}

static int
review_merge_score(void *ctx, const struct store_score *sc, char **cause)
{
    struct review_merge *m = ctx;
    (void)cause;
    /* States and scores both come in sample id order, so the sample is
     * nearly always the next one; a search covers a run that scored
     * samples since left out. */
    const struct store_label_state *st = NULL;
    if (m->next < m->n && m->states[m->next].sample_id == sc->sample_id)
        st = &m->states[m->next];
    else if (m->n > 0)
        st = bsearch(&sc->sample_id, m->states, m->n, sizeof *m->states,
                     review_state_cmp);
    if (st == NULL)
        return 0;
    m->next = (size_t)(st - m->states) + 1;
    struct queue_item *it = &m->items[st - m->states];
    it->scored = 1;
    it->score = sc->score;
    it->trained = sc->label;
    /* NAN stays NAN: the run did not compute it. */
    it->p_trained = 1.0 - sc->self_confidence;
    it->flagged = sc->flagged;
    it->outlier = sc->outlier;
    for (int i = 0; i < 3; i++) {
        it->top[i] = i < STORE_TOP_CLASSES ? sc->top[i] : -1;
        it->top_p[i] = i < STORE_TOP_CLASSES ? sc->top_prob[i] : (double)NAN;
    }
    /* The run's suggestion is the likeliest class other than the label,
     * even when the model agrees with the label: then the label is the
     * model's choice, and what Enter accepts. */
    it->runner_up = sc->suggested;
    it->p_runner_up = sc->suggested_prob;
    it->suggested = sc->suggested;
    it->p_suggested = sc->suggested_prob;
    if (sc->suggested != sc->label && !(sc->suggested_prob > it->p_trained) &&
        !isnan(it->p_trained)) {
        it->suggested = sc->label;
        it->p_suggested = it->p_trained;
    }
    return 0;
}

static enum queue_status
review_status_of(enum store_review r)
{
    switch (r) {
    case STORE_UNREVIEWED: return QUEUE_UNREVIEWED;
    case STORE_KEPT: return QUEUE_KEPT;
    case STORE_RELABELED: return QUEUE_RELABELED;
    case STORE_AUTO: return QUEUE_AUTO;
    }
    return QUEUE_UNREVIEWED;
}

/* Read every sample's state and the latest finished run's scores in one
 * snapshot, and hand them to the queue. */
int
review_load(struct review *rv, char **cause)
{
    struct store_label_state *states = NULL;
    size_t n = 0;
    int64_t run = 0;
    double t0 = wn_monotonic();

    if (store_snapshot_begin(rv->store, cause) != 0)
        return -1;
    if (store_run_newest(rv->store, STORE_RUN_DONE, &run, cause) != 0 ||
        store_label_states(rv->store, &states, &n, cause) != 0)
        goto fail;
    double t1 = wn_monotonic();
    struct queue_item *items = xcalloc(n, sizeof *items);
    for (size_t i = 0; i < n; i++) {
        struct queue_item *it = &items[i];
        it->sample_id = states[i].sample_id;
        it->path = states[i].path;
        states[i].path = NULL;
        it->given = states[i].given;
        it->label = states[i].label;
        it->status = review_status_of(states[i].review);
        it->score = NAN;
        it->outlier = NAN;
        it->suggested = -1;
        it->runner_up = -1;
        it->p_runner_up = NAN;
        it->p_suggested = NAN;
        it->trained = -1;
        it->p_trained = NAN;
    }
    double noise = NAN;
    if (run != 0) {
        struct review_merge m = {states, n, items, 0};
        struct store_run r;
        if (store_foreach_run_score(rv->store, run, review_merge_score, &m,
                                    cause) != 0 ||
            store_run_get(rv->store, run, &r, cause) != 0) {
            for (size_t i = 0; i < n; i++)
                free(items[i].path);
            free(items);
            goto fail;
        }
        noise = r.noise_rate;
        store_run_fini(&r);
    }
    if (review_groups_load(rv, run, n, cause) != 0) {
        for (size_t i = 0; i < n; i++)
            free(items[i].path);
        free(items);
        goto fail;
    }
    store_snapshot_end(rv->store);
    store_states_free(states, n);
    double t2 = wn_monotonic();

    /* Keep the current sample on the same screen row. */
    size_t row =
        queue_cursor(rv->q) >= rv->top ? queue_cursor(rv->q) - rv->top : 0;
    queue_load(rv->q, items, n);
    size_t cur = queue_cursor(rv->q);
    rv->top = cur >= row ? cur - row : 0;
    rv->run_id = run;
    rv->noise_rate = noise;
    rv->last_run_check = wn_monotonic();
    double t3 = wn_monotonic();
    review_log(rv,
               "loaded %zu samples, run %lld, in %.1f ms (labels %.1f, "
               "scores %.1f, ranking %.1f)",
               n, (long long)run, (t3 - t0) * 1000.0, (t1 - t0) * 1000.0,
               (t2 - t1) * 1000.0, (t3 - t2) * 1000.0);
    return 0;
fail:
    store_snapshot_end(rv->store);
    store_states_free(states, n);
    return -1;
}

/* A new run's scores are in the queue. Whoever has started reviewing
 * stays on the sample they are looking at; a screen nobody has touched
 * yet shows the new top of the queue. */
void
review_reranked(struct review *rv, int64_t run)
{
    if (!rv->touched) {
        queue_go(rv->q, 0);
        rv->top = 0;
        review_say(rv, 0,
                   "run %lld finished: the queue is ranked by its "
                   "scores",
                   (long long)run);
        return;
    }
    review_say(rv, 0,
               "run %lld finished: the queue is re-ranked; you stay "
               "on this sample (g: top)",
               (long long)run);
}
