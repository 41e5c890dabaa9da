/* ui/review_group.c: near-duplicate groups on the review screen, and one
 * decision carried to many samples.
 *
 * Groups are found when the queue is loaded (data/dups.h, at the default
 * threshold, in the same snapshot), so the duplicates view and the offers
 * cost nothing per key. The features of the latest run, for "similar
 * suspects", are read on the first offer that needs them and kept until
 * another run is published.
 *
 * Whatever is carried to other samples goes to the store as events that
 * follow the person's decision (store_label_follow), in one transaction
 * with it or after it, and the session's undo entry for the decision is
 * marked a group: `u` then reverts the decision and all it carried as one
 * step (store_label_revert_all), as `winnow undo` does. The queue is read
 * again after such a step rather than patched item by item: the store
 * knows each sample's review state, and a reload keeps the cursor. */
#include "config.h"

#include "ui/review_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/dups.h"
#include "data/store.h"
#include "ui/queue.h"
#include "ui/text.h"
#include "ui/undo.h"

/* Similar suspects offered at most, and the least cosine similarity of
 * their features to the decided sample's: past these the list stops
 * being "the same mistake" and becomes a second queue. */
#define REVIEW_SIMILAR_MAX 20
#define REVIEW_SIMILAR_MIN 0.5

struct review_groups {
    struct dups_project p; /* every sample, import order */
    struct dups d;
    /* What the groups were found for: the samples and the run whose
     * feature pairs joined them. Labels do not enter (the screen reads
     * them from the queue), so a decision needs no new search. */
    int64_t run;
    size_t n_samples;
    /* The latest run's features, rows in its sample order (ascending
     * ids); read on first need. */
    int64_t feat_run; /* 0: not read */
    float *feat;
    int64_t rows;
    int cols;
    int64_t *feat_ids; /* the sample of each row */
};

void
review_groups_free(struct review_groups *g)
{
    if (g == NULL)
        return;
    dups_project_fini(&g->p);
    dups_fini(&g->d);
    free(g->feat);
    free(g->feat_ids);
    free(g);
}

int
review_groups_load(struct review *rv, int64_t run, size_t n_samples,
                   char **cause)
{
    /* The search is the dearest part of a reload at a million samples
     * (seconds), and decisions reload the queue: do it only when what it
     * depends on changed. */
    if (rv->groups != NULL && rv->groups->run == run &&
        rv->groups->n_samples == n_samples)
        return 0;
    struct review_groups *g = xcalloc(1, sizeof *g);
    if (dups_scan(rv->store, DUPS_DEFAULT_THRESHOLD, &g->p, &g->d, NULL, NULL,
                  cause) != 0) {
        free(g);
        return -1;
    }
    g->run = run;
    g->n_samples = n_samples;
    review_groups_free(rv->groups);
    rv->groups = g;
    return 0;
}

static int
review_id_cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The index of id among ids[0..n) (ascending), or -1. */
static long
review_index_of(const int64_t *ids, size_t n, int64_t id)
{
    const int64_t *hit =
        n > 0 ? bsearch(&id, ids, n, sizeof *ids, review_id_cmp) : NULL;
    return hit == NULL ? -1 : (long)(hit - ids);
}

size_t
review_group_members(const struct review *rv, int64_t id, int64_t *ids,
                     size_t max)
{
    const struct review_groups *g = rv->groups;
    if (g == NULL)
        return 0;
    long i = review_index_of(g->p.ids, g->p.n, id);
    if (i < 0 || g->d.group_of[i] == 0)
        return 0;
    const struct dups_group *grp = &g->d.groups[g->d.group_of[i] - 1];
    for (size_t k = 0; k < grp->n && k < max; k++)
        ids[k] = g->p.ids[g->d.members[grp->first + k]];
    return grp->n;
}

/* ---- offers ---- */

void
review_offer_clear(struct review *rv)
{
    struct review_offer *o = &rv->offer;
    for (int k = 0; k < REVIEW_OFFER_KINDS; k++)
        free(o->items[k]);
    memset(o, 0, sizeof *o);
    if (rv->mode == MODE_OFFER)
        rv->mode = MODE_QUEUE;
}

static void
review_offer_add(struct review_offer *o, enum review_offer_kind k, int64_t id,
                 double sim, size_t *cap)
{
    wn_grow(&o->items[k], sizeof *o->items[k], cap, o->n[k] + 1);
    struct review_offer_item *it = &o->items[k][o->n[k]++];
    it->sample_id = id;
    it->on = 1;
    it->similarity = sim;
}

/* The features of the run the queue shows, if it kept them and they line
 * up with the samples it scored; 0 when there are none to use. */
static int
review_features(struct review *rv)
{
    struct review_groups *g = rv->groups;
    if (g == NULL || rv->run_id == 0)
        return 0;
    if (g->feat_run == rv->run_id)
        return g->feat != NULL;
    free(g->feat);
    free(g->feat_ids);
    g->feat = NULL;
    g->feat_ids = NULL;
    g->feat_run = rv->run_id;
    char *cause = NULL;
    if (store_run_array_get(rv->store, rv->run_id, STORE_ARRAY_FEATURES,
                            &g->feat, &g->rows, &g->cols, &cause) != 0) {
        review_log(rv, "features of run %lld: %s", (long long)rv->run_id,
                   cause);
        free(cause);
        return 0;
    }
    if (g->feat == NULL)
        return 0;
    /* The run's rows are the samples it scored, in import order. */
    size_t n = 0;
    g->feat_ids = xmalloc((g->p.n > 0 ? g->p.n : 1) * sizeof *g->feat_ids);
    for (size_t i = 0; i < g->p.n; i++) {
        const struct queue_item *it = queue_find(rv->q, g->p.ids[i]);
        if (it != NULL && it->scored)
            g->feat_ids[n++] = g->p.ids[i];
    }
    if ((int64_t)n != g->rows) {
        review_log(rv, "features of run %lld: %lld rows for %zu samples",
                   (long long)rv->run_id, (long long)g->rows, n);
        free(g->feat);
        g->feat = NULL;
        return 0;
    }
    return 1;
}

static double
review_cosine(const float *a, const float *b, int d)
{
    double ab = 0, aa = 0, bb = 0;
    for (int i = 0; i < d; i++) {
        double x = a[i], y = b[i];
        ab += x * y;
        aa += x * x;
        bb += y * y;
    }
    return aa > 0 && bb > 0 ? ab / sqrt(aa * bb) : 0.0;
}

static int
review_sim_cmp(const void *a, const void *b)
{
    const struct review_offer_item *x = a, *y = b;
    if (x->similarity != y->similarity)
        return x->similarity < y->similarity ? 1 : -1;
    return (x->sample_id > y->sample_id) - (x->sample_id < y->sample_id);
}

static int
review_pending(const struct queue_item *it)
{
    return !queue_status_decided(it->status);
}

/* Suspects like the decided sample: still to review, the decision's old
 * label, the run suggesting the decision's label; most similar first. */
static void
review_offer_similar(struct review *rv, struct review_offer *o)
{
    if (!review_features(rv))
        return;
    struct review_groups *g = rv->groups;
    long me = review_index_of(g->feat_ids, (size_t)g->rows, o->sample_id);
    if (me < 0)
        return;
    const float *f0 = g->feat + (size_t)me * (size_t)g->cols;
    size_t cap = 0;
    for (int64_t r = 0; r < g->rows; r++) {
        int64_t id = g->feat_ids[r];
        const struct queue_item *it = queue_find(rv->q, id);
        if (id == o->sample_id || it == NULL || !review_pending(it) ||
            it->label != o->old_label || it->suggested != o->label)
            continue;
        int near = 0;
        for (size_t k = 0; k < o->n[OFFER_NEAR]; k++)
            near |= o->items[OFFER_NEAR][k].sample_id == id;
        if (near)
            continue;
        double sim =
            review_cosine(f0, g->feat + (size_t)r * (size_t)g->cols, g->cols);
        if (sim >= REVIEW_SIMILAR_MIN)
            review_offer_add(o, OFFER_SIMILAR, id, sim, &cap);
    }
    if (o->n[OFFER_SIMILAR] > 0)
        qsort(o->items[OFFER_SIMILAR], o->n[OFFER_SIMILAR],
              sizeof *o->items[OFFER_SIMILAR], review_sim_cmp);
    if (o->n[OFFER_SIMILAR] > REVIEW_SIMILAR_MAX)
        o->n[OFFER_SIMILAR] = REVIEW_SIMILAR_MAX;
}

void
review_offer_make(struct review *rv, int64_t sample, int64_t event, int old,
                  int label)
{
    review_offer_clear(rv);
    struct review_offer *o = &rv->offer;
    o->decision = event;
    o->sample_id = sample;
    o->old_label = old;
    o->label = label;
    /* Every member not decided this way already. */
    size_t nm = review_group_members(rv, sample, NULL, 0);
    if (nm > 0) {
        int64_t *ids = xmalloc(nm * sizeof *ids);
        review_group_members(rv, sample, ids, nm);
        size_t cap = 0;
        for (size_t i = 0; i < nm; i++) {
            const struct queue_item *it = queue_find(rv->q, ids[i]);
            if (ids[i] == sample || it == NULL ||
                (it->label == label && !review_pending(it)))
                continue;
            review_offer_add(o, OFFER_NEAR, ids[i], NAN, &cap);
        }
        free(ids);
    }
    review_offer_similar(rv, o);
    size_t nn = o->n[OFFER_NEAR], ns = o->n[OFFER_SIMILAR];
    if (nn == 0 && ns == 0) {
        o->decision = 0;
        return;
    }
    char near[80] = "", sim[80] = "";
    if (nn > 0)
        snprintf(near, sizeof near, "%zu near-duplicate%s (p)", nn,
                 nn == 1 ? "" : "s");
    if (ns > 0)
        snprintf(sim, sizeof sim, "%s%zu similar suspect%s (P)",
                 nn > 0 ? ", " : "", ns, ns == 1 ? "" : "s");
    /* Appended to the decision's own message. */
    size_t len = strlen(rv->msg);
    snprintf(rv->msg + len, sizeof rv->msg - len, "; the same for %s%s?", near,
             sim);
}

void
review_offer_open(struct review *rv, enum review_offer_kind kind)
{
    struct review_offer *o = &rv->offer;
    if (o->decision == 0 || o->n[kind] == 0) {
        review_say(rv, 0, "nothing to offer: the last decision has no %s",
                   kind == OFFER_NEAR ? "near-duplicates left to decide"
                                      : "similar suspects");
        return;
    }
    o->open = kind;
    o->cur = 0;
    rv->mode = MODE_OFFER;
}

/* The decision's undo entry becomes a group: undone with all it carried. */
static void
review_mark_group(struct review *rv, int64_t decision)
{
    struct undo_entry *top = undo_top(rv->u);
    if (top != NULL && top->kind == UNDO_LABEL && top->event_id == decision)
        top->group = 1;
}

static void
review_reload(struct review *rv)
{
    char *cause = NULL;
    if (review_load(rv, &cause) != 0) {
        review_say(rv, 1, "cannot read the project: %s", cause);
        free(cause);
    }
}

void
review_offer_apply(struct review *rv)
{
    struct review_offer *o = &rv->offer;
    enum review_offer_kind k = o->open;
    struct store_follow *f = xcalloc(o->n[k] + 1, sizeof *f);
    size_t n = 0;
    for (size_t i = 0; i < o->n[k]; i++) {
        if (!o->items[k][i].on)
            continue;
        f[n].sample_id = o->items[k][i].sample_id;
        f[n].label = o->label;
        n++;
    }
    rv->mode = MODE_QUEUE;
    if (n == 0) {
        free(f);
        review_say(rv, 0, "nothing applied: every sample was unchecked");
        return;
    }
    char note[96];
    snprintf(note, sizeof note, "as event %lld, %s", (long long)o->decision,
             k == OFFER_NEAR ? "its near-duplicate" : "a similar suspect");
    char *cause = NULL;
    if (store_label_follow(rv->store, o->decision, f, n, note, &cause) != 0) {
        review_say(rv, 1, "not saved: %s", cause);
        free(cause);
        free(f);
        return;
    }
    free(f);
    review_mark_group(rv, o->decision);
    rv->res.decisions += (int64_t)n;
    review_log(rv, "carried event %lld to %zu samples (%s)",
               (long long)o->decision, n, note);
    /* What was applied is no longer on offer; the other list still is. */
    free(o->items[k]);
    o->items[k] = NULL;
    o->n[k] = 0;
    int label = o->label;
    review_reload(rv);
    review_say(rv, 0, "%zu more sample%s labeled %s (u undoes them all)", n,
               n == 1 ? "" : "s", review_class(rv, label));
}

/* ---- the duplicates view ---- */

void
review_dups_open(struct review *rv)
{
    const struct queue_item *it = queue_current(rv->q);
    if (it == NULL)
        return;
    size_t n = review_group_members(rv, it->sample_id, NULL, 0);
    if (n == 0) {
        review_say(rv, 0, "%s has no near-duplicates", it->path);
        return;
    }
    int64_t *ids = xmalloc(n * sizeof *ids);
    review_group_members(rv, it->sample_id, ids, n);
    rv->dups_sel = 0;
    for (size_t i = 0; i < n; i++)
        if (ids[i] == it->sample_id)
            rv->dups_sel = i;
    free(ids);
    rv->dups_of = it->sample_id;
    rv->mode = MODE_DUPS;
}

static int
review_group_write(struct review *rv, const int64_t *ids, size_t n,
                   int keep_one, int64_t chosen, int label, int64_t *event,
                   int *old, size_t *carried, char **cause)
{
    if (store_begin(rv->store, cause) != 0)
        return -1;
    if (store_label_decide(rv->store, chosen, label,
                           keep_one ? "keep one of its duplicates"
                                    : "label its duplicate group",
                           old, event, cause) != 0) {
        store_rollback(rv->store);
        return -1;
    }
    struct store_follow *f = xcalloc(n, sizeof *f);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const struct queue_item *it = queue_find(rv->q, ids[i]);
        if (ids[i] == chosen || it == NULL)
            continue;
        /* Decided this way already: nothing to add, unless it is dropped. */
        if (!keep_one && it->label == label && !review_pending(it))
            continue;
        f[k].sample_id = ids[i];
        f[k].label = keep_one ? it->label : label;
        f[k].excluded = keep_one;
        k++;
    }
    char note[96];
    snprintf(note, sizeof note,
             keep_one ? "duplicate of event %lld: dropped"
                      : "as event %lld, "
                        "its group",
             (long long)*event);
    int rc = store_label_follow(rv->store, *event, f, k, note, cause);
    free(f);
    if (rc != 0) {
        store_rollback(rv->store);
        return -1;
    }
    *carried = k;
    return store_commit(rv->store, cause);
}

void
review_group_decide(struct review *rv, int keep_one)
{
    size_t n = review_group_members(rv, rv->dups_of, NULL, 0);
    if (n == 0)
        return;
    int64_t *ids = xmalloc(n * sizeof *ids);
    review_group_members(rv, rv->dups_of, ids, n);
    int64_t chosen = ids[rv->dups_sel < n ? rv->dups_sel : 0];
    const struct queue_item *it = queue_find(rv->q, chosen);
    if (it == NULL) {
        free(ids);
        return;
    }
    int label = it->label;
    enum queue_status was = it->status;
    int given = it->given;
    int64_t event;
    int old;
    size_t carried = 0;
    char *cause = NULL;
    if (review_group_write(rv, ids, n, keep_one, chosen, label, &event, &old,
                           &carried, &cause) != 0) {
        review_say(rv, 1, "not saved: %s", cause);
        free(cause);
        free(ids);
        return;
    }
    free(ids);
    struct undo_entry e = {
        .kind = UNDO_LABEL,
        .sample_id = chosen,
        .event_id = event,
        .old_label = old,
        .new_label = label,
        .old_status = (int)was,
        .new_status = (int)(label == given ? QUEUE_KEPT : QUEUE_RELABELED),
        .note = keep_one ? "keep one" : "label group",
        .group = 1,
    };
    undo_push(rv->u, &e);
    review_offer_clear(rv);
    rv->mode = MODE_DUPS;
    rv->res.decisions += 1 + (int64_t)carried;
    review_log(rv, "group of sample %lld: event %lld, %zu carried (%s)",
               (long long)chosen, (long long)event, carried, e.note);
    review_reload(rv);
    if (keep_one)
        review_say(rv, 0,
                   "kept as %s; %zu duplicate%s dropped from exports (u "
                   "undoes)",
                   review_class(rv, label), carried, carried == 1 ? "" : "s");
    else
        review_say(rv, 0, "the whole group is %s now (u undoes)",
                   review_class(rv, label));
}
