/* ui/queue.c: the ranked queue, its filtered view and the cursor.
 *
 * Items live in one array in rank order; a second array of indices sorted
 * by sample id finds an item by id in O(log n). The view is an array of
 * indices into the items, rebuilt in O(n) whenever the filter or a status
 * changes: at 50,000 samples that is a fraction of a millisecond, well
 * inside a key press, and much simpler than patching it in place. The
 * cursor is kept as a sample id, and its index in the view is recomputed
 * after each rebuild; that is what keeps a person on their sample when a
 * new run re-ranks everything under them.
 *
 * Comparison examples are cached per class, since a class's most
 * confidently labeled samples change only when labels or scores do; a
 * decision clears only the classes it touches, and a class's examples are
 * found from the end of the ranking, where the lowest scores are, so a
 * refill reads a few items, not all of them. The counts the status line
 * shows on every draw are kept up to date as statuses change, for the
 * same reason: at a million samples a pass over the items costs a good
 * part of a key's 30 ms. */
#include "config.h"

#include "ui/queue.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data/base.h"

/* Examples kept per class; callers ask for fewer. */
#define QUEUE_EXAMPLES 16

struct queue_examples {
    int valid;
    size_t n;
    int64_t ids[QUEUE_EXAMPLES + 1];
};

struct queue {
    struct queue_item *items; /* rank order */
    size_t n;
    size_t *by_id; /* indices of items, by ascending sample id */
    size_t *view;  /* indices of items in the view, rank order */
    size_t nview;
    size_t cur;     /* index into view */
    int64_t cur_id; /* the current sample; 0 before there is one */
    struct queue_filter f;
    struct queue_examples *ex; /* by class id */
    size_t nex;
    size_t n_scored; /* items[0..n_scored) are the scored ones */
    struct queue_counts counts;
    enum queue_order order;
};

const char *
queue_status_name(enum queue_status st)
{
    switch (st) {
    case QUEUE_UNREVIEWED: return "unreviewed";
    case QUEUE_KEPT: return "kept";
    case QUEUE_RELABELED: return "relabeled";
    case QUEUE_AUTO: return "auto";
    case QUEUE_SKIPPED: return "skipped";
    }
    return "?";
}

int
queue_status_decided(enum queue_status st)
{
    return st == QUEUE_KEPT || st == QUEUE_RELABELED;
}

const char *
queue_show_name(enum queue_show s)
{
    switch (s) {
    case QUEUE_SHOW_PENDING: return "to review";
    case QUEUE_SHOW_DONE: return "decided";
    case QUEUE_SHOW_SKIPPED: return "skipped";
    case QUEUE_SHOW_ALL: return "all";
    }
    return "?";
}

struct queue *
queue_new(void)
{
    struct queue *q = xcalloc(1, sizeof *q);
    q->f.show = QUEUE_SHOW_PENDING;
    q->f.cls = -1;
    q->f.min_score = NAN;
    return q;
}

static void
queue_items_free(struct queue_item *items, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(items[i].path);
    free(items);
}

void
queue_free(struct queue *q)
{
    if (q == NULL)
        return;
    queue_items_free(q->items, q->n);
    free(q->by_id);
    free(q->view);
    free(q->ex);
    free(q);
}

static int
queue_passes(const struct queue *q, const struct queue_item *it)
{
    switch (q->f.show) {
    case QUEUE_SHOW_PENDING:
        if (it->status != QUEUE_UNREVIEWED && it->status != QUEUE_AUTO)
            return 0;
        break;
    case QUEUE_SHOW_DONE:
        if (!queue_status_decided(it->status))
            return 0;
        break;
    case QUEUE_SHOW_SKIPPED:
        if (it->status != QUEUE_SKIPPED)
            return 0;
        break;
    case QUEUE_SHOW_ALL: break;
    }
    if (q->f.cls >= 0 && it->label != q->f.cls)
        return 0;
    if (!isnan(q->f.min_score) &&
        (!it->scored || !(it->score >= q->f.min_score)))
        return 0;
    return 1;
}

/* Rebuild the view around q->cur_id: the items the filter admits, plus
 * the current one wherever it ranks. */
static void
queue_rebuild(struct queue *q)
{
    q->nview = 0;
    q->cur = 0;
    int found = 0;
    for (size_t i = 0; i < q->n; i++) {
        const struct queue_item *it = &q->items[i];
        int is_cur = q->cur_id != 0 && it->sample_id == q->cur_id;
        if (!is_cur && !queue_passes(q, it))
            continue;
        if (is_cur) {
            q->cur = q->nview;
            found = 1;
        }
        q->view[q->nview++] = i;
    }
    if (!found)
        q->cur_id = q->nview > 0 ? q->items[q->view[0]].sample_id : 0;
}

/* An item's sample id beside its index: by_id is sorted as an array of
 * these, so the comparison reads its keys from the elements themselves
 * and needs no pointer to the items on the side (a file-scope one would
 * make two queues sorting at once, on two threads, trample each other). */
struct queue_id_key {
    int64_t id;
    size_t index;
};

static int
queue_cmp_id(const void *a, const void *b)
{
    const struct queue_id_key *x = a, *y = b;
    if (x->id != y->id)
        return (x->id > y->id) - (x->id < y->id);
    /* Equal ids (a store never has them) stay in rank order, as glibc's
     * merge sort left them, rather than in whatever order a sort
     * chooses. */
    return (x->index > y->index) - (x->index < y->index);
}

/* What ranks an item, beside its index: sorting these and then moving
 * each item once costs a fraction of sorting the items themselves, which
 * copies 144 bytes per move (half the start-up at a million samples). */
struct queue_rank_key {
    int scored;
    double key; /* the order's: the noise score or the outlier score */
    int64_t sample_id;
    size_t index;
};

static int
queue_cmp_rank(const void *a, const void *b)
{
    const struct queue_rank_key *x = a, *y = b;
    if (x->scored != y->scored)
        return x->scored ? -1 : 1;
    if (x->scored && x->key != y->key) {
        if (isnan(x->key) || isnan(y->key))
            return isnan(x->key) ? 1 : -1;
        return x->key > y->key ? -1 : 1;
    }
    return (x->sample_id > y->sample_id) - (x->sample_id < y->sample_id);
}

static size_t
queue_index_of(const struct queue *q, int64_t id)
{
    size_t lo = 0, hi = q->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int64_t m = q->items[q->by_id[mid]].sample_id;
        if (m == id)
            return q->by_id[mid];
        if (m < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (size_t)-1;
}

static void
queue_examples_reset(struct queue *q)
{
    for (size_t i = 0; i < q->nex; i++)
        q->ex[i].valid = 0;
}

static void
queue_examples_reset_class(struct queue *q, int cls)
{
    if (cls >= 0 && (size_t)cls < q->nex)
        q->ex[cls].valid = 0;
}

/* Add d (1 or -1) items of status st to the counts. */
static void
queue_count_status(struct queue_counts *c, enum queue_status st, int d)
{
    switch (st) {
    case QUEUE_UNREVIEWED: c->unreviewed += (size_t)d; break;
    case QUEUE_KEPT: c->kept += (size_t)d; break;
    case QUEUE_RELABELED: c->relabeled += (size_t)d; break;
    case QUEUE_AUTO: c->autos += (size_t)d; break;
    case QUEUE_SKIPPED: c->skipped += (size_t)d; break;
    }
}

/* Reorder items so that items[j] is the one rk[j] names, in place: each
 * cycle of the permutation is followed once with one item in hand. The
 * indices in rk are spent as marks of what has moved. */
static void
queue_permute(struct queue_item *items, struct queue_rank_key *rk, size_t n)
{
    for (size_t j = 0; j < n; j++) {
        if (rk[j].index == j)
            continue;
        struct queue_item held = items[j];
        size_t k = j;
        for (;;) {
            size_t from = rk[k].index;
            rk[k].index = k;
            if (from == j) {
                items[k] = held;
                break;
            }
            items[k] = items[from];
            k = from;
        }
    }
}
static void queue_rank(struct queue *q);

void
queue_load(struct queue *q, struct queue_item *items, size_t n)
{
    /* Skipping lives only in this session: carry it over. */
    for (size_t i = 0; i < n; i++) {
        if (items[i].status != QUEUE_UNREVIEWED)
            continue;
        const struct queue_item *old = queue_find(q, items[i].sample_id);
        if (old != NULL && old->status == QUEUE_SKIPPED)
            items[i].status = QUEUE_SKIPPED;
    }
    queue_items_free(q->items, q->n);
    q->items = items;
    q->n = n;
    queue_rank(q);
}

void
queue_set_order(struct queue *q, enum queue_order order)
{
    q->order = order;
    queue_rank(q);
}

enum queue_order
queue_get_order(const struct queue *q)
{
    return q->order;
}

/* Sort the items by the order's key and rebuild the indices and view. */
static void
queue_rank(struct queue *q)
{
    struct queue_item *items = q->items;
    size_t n = q->n;
    free(q->by_id);
    free(q->view);
    int by_id_order = 1;
    struct queue_rank_key *rk = xcalloc(n + 1, sizeof *rk);
    for (size_t i = 0; i < n; i++) {
        rk[i].scored = items[i].scored;
        items[i].key =
            q->order == QUEUE_BY_OUTLIER ? items[i].outlier : items[i].score;
        rk[i].key = items[i].key;
        rk[i].sample_id = items[i].sample_id;
        rk[i].index = i;
        if (i > 0 && items[i - 1].sample_id >= items[i].sample_id)
            by_id_order = 0;
    }
    qsort(rk, n, sizeof *rk, queue_cmp_rank);
    q->by_id = xcalloc(n, sizeof *q->by_id);
    if (by_id_order) {
        /* Items given in id order (as review_load gives them): the i-th
         * by id is where item i ranks. */
        for (size_t j = 0; j < n; j++)
            q->by_id[rk[j].index] = j;
    }
    queue_permute(items, rk, n);
    free(rk);
    for (size_t i = 0; i < n; i++)
        items[i].rank = i + 1;
    q->items = items;
    q->n = n;
    if (!by_id_order) {
        struct queue_id_key *keys = xcalloc(n, sizeof *keys);
        for (size_t i = 0; i < n; i++) {
            keys[i].id = items[i].sample_id;
            keys[i].index = i;
        }
        qsort(keys, n, sizeof *keys, queue_cmp_id);
        for (size_t i = 0; i < n; i++)
            q->by_id[i] = keys[i].index;
        free(keys);
    }
    q->view = xcalloc(n, sizeof *q->view);
    memset(&q->counts, 0, sizeof q->counts);
    q->counts.total = n;
    q->n_scored = 0;
    for (size_t i = 0; i < n; i++) {
        queue_count_status(&q->counts, items[i].status, 1);
        q->n_scored += items[i].scored != 0;
        q->counts.flagged += items[i].flagged != 0;
    }
    q->counts.scored = q->n_scored;
    queue_examples_reset(q);
    queue_rebuild(q);
}

size_t
queue_size(const struct queue *q)
{
    return q->n;
}

size_t
queue_count(const struct queue *q)
{
    return q->nview;
}

const struct queue_item *
queue_at(const struct queue *q, size_t i)
{
    return i < q->nview ? &q->items[q->view[i]] : NULL;
}

const struct queue_item *
queue_current(const struct queue *q)
{
    return queue_at(q, q->cur);
}

size_t
queue_cursor(const struct queue *q)
{
    return q->cur;
}

const struct queue_item *
queue_find(const struct queue *q, int64_t id)
{
    size_t i = queue_index_of(q, id);
    return i == (size_t)-1 ? NULL : &q->items[i];
}

void
queue_go(struct queue *q, size_t i)
{
    if (q->nview == 0)
        return;
    if (i >= q->nview)
        i = q->nview - 1;
    const struct queue_item *old = queue_current(q);
    q->cur_id = q->items[q->view[i]].sample_id;
    q->cur = i;
    /* A pinned item leaves the view once the cursor is off it. */
    if (old != NULL && old->sample_id != q->cur_id && !queue_passes(q, old))
        queue_rebuild(q);
}

void
queue_move(struct queue *q, long delta)
{
    if (q->nview == 0)
        return;
    long i = (long)q->cur + delta;
    if (i < 0)
        i = 0;
    queue_go(q, (size_t)i);
}

int
queue_select(struct queue *q, int64_t id)
{
    if (queue_find(q, id) == NULL)
        return -1;
    q->cur_id = id;
    queue_rebuild(q);
    return 0;
}

void
queue_set(struct queue *q, int64_t id, int label, enum queue_status st)
{
    size_t i = queue_index_of(q, id);
    if (i == (size_t)-1)
        return;
    queue_count_status(&q->counts, q->items[i].status, -1);
    queue_count_status(&q->counts, st, 1);
    /* Only the classes it leaves and joins can see their examples change
     * (a skip leaves its class's examples too). */
    queue_examples_reset_class(q, q->items[i].label);
    queue_examples_reset_class(q, label);
    q->items[i].label = label;
    q->items[i].status = st;
    /* The current item stays where it is; any other may enter or leave. */
    if (id != q->cur_id)
        queue_rebuild(q);
}

void
queue_advance(struct queue *q)
{
    if (q->nview == 0)
        return;
    if (q->cur + 1 < q->nview)
        queue_go(q, q->cur + 1);
    else if (q->cur > 0)
        queue_go(q, q->cur - 1);
}

void
queue_set_filter(struct queue *q, const struct queue_filter *f)
{
    q->f = *f;
    /* A new filter starts from its own first item unless the current one
     * matches it: nothing stays pinned across a change of filter. */
    const struct queue_item *it = queue_find(q, q->cur_id);
    if (it != NULL && !queue_passes(q, it))
        q->cur_id = 0;
    queue_rebuild(q);
}

void
queue_get_filter(const struct queue *q, struct queue_filter *out)
{
    *out = q->f;
}

void
queue_counts(const struct queue *q, struct queue_counts *out)
{
    *out = q->counts;
}

/* Whether a should come before b as an example: scored before unscored,
 * then lower score, then import order. */
static int
queue_better_example(const struct queue_item *a, const struct queue_item *b)
{
    if (a->scored != b->scored)
        return a->scored;
    if (a->scored && a->score != b->score)
        return a->score < b->score;
    return a->sample_id < b->sample_id;
}

/* Offer it to the best-so-far list best[0..*n), kept in order. */
static void
queue_examples_offer(const struct queue_item **best, size_t *n,
                     const struct queue_item *it)
{
    if (*n == QUEUE_EXAMPLES + 1 &&
        !queue_better_example(it, best[QUEUE_EXAMPLES]))
        return;
    size_t j = *n < QUEUE_EXAMPLES + 1 ? (*n)++ : QUEUE_EXAMPLES;
    while (j > 0 && queue_better_example(it, best[j - 1])) {
        best[j] = best[j - 1];
        j--;
    }
    best[j] = it;
}

static void
queue_examples_fill(struct queue *q, int cls, struct queue_examples *ex)
{
    const struct queue_item *best[QUEUE_EXAMPLES + 1];
    size_t n = 0;
    /* The scored items from the lowest score up: once the list is full, an
     * item scoring above its last cannot enter, nor can any before it. */
    for (size_t i = q->n_scored; i-- > 0;) {
        const struct queue_item *it = &q->items[i];
        if (n == QUEUE_EXAMPLES + 1 && !isnan(it->score) &&
            !isnan(best[QUEUE_EXAMPLES]->score) &&
            it->score > best[QUEUE_EXAMPLES]->score)
            break;
        if (it->label != cls || it->flagged || it->status == QUEUE_SKIPPED)
            continue;
        queue_examples_offer(best, &n, it);
    }
    /* Then the unscored, in import order, while there is room. */
    for (size_t i = q->n_scored; i < q->n && n < QUEUE_EXAMPLES + 1; i++) {
        const struct queue_item *it = &q->items[i];
        if (it->label != cls || it->flagged || it->status == QUEUE_SKIPPED)
            continue;
        queue_examples_offer(best, &n, it);
    }
    for (size_t i = 0; i < n; i++)
        ex->ids[i] = best[i]->sample_id;
    ex->n = n;
    ex->valid = 1;
}

size_t
queue_examples(struct queue *q, int cls, int64_t exclude, int64_t *ids,
               size_t max)
{
    if (cls < 0)
        return 0;
    if ((size_t)cls >= q->nex) {
        size_t cap = q->nex;
        wn_grow(&q->ex, sizeof *q->ex, &cap, (size_t)cls + 1);
        memset(q->ex + q->nex, 0, (cap - q->nex) * sizeof *q->ex);
        q->nex = cap;
    }
    struct queue_examples *ex = &q->ex[cls];
    if (!ex->valid)
        queue_examples_fill(q, cls, ex);
    size_t k = 0;
    for (size_t i = 0; i < ex->n && k < max; i++)
        if (ex->ids[i] != exclude)
            ids[k++] = ex->ids[i];
    return k;
}
