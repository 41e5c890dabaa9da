/* The review queue without a terminal: ranking, filters, the cursor kept
 * on its sample through re-ranking and decisions, skips that survive a
 * reload, counts, and the comparison examples. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/base.h"
#include "tests/tap.h"
#include "ui/queue.h"

/* n items: sample ids 1..n, label id % 3, scored when score >= 0. */
static struct queue_item *
make_items(size_t n, const double *scores)
{
    struct queue_item *v = xcalloc(n, sizeof *v);
    for (size_t i = 0; i < n; i++) {
        struct queue_item *it = &v[i];
        it->sample_id = (int64_t)i + 1;
        it->path = xasprintf("s%02zu.png", i + 1);
        it->given = (int)((i + 1) % 3);
        it->label = it->given;
        it->status = QUEUE_UNREVIEWED;
        it->scored = scores[i] >= 0;
        it->score = it->scored ? scores[i] : (double)NAN;
        it->suggested = it->scored ? (it->label + 1) % 3 : -1;
        it->p_suggested = NAN;
        it->runner_up = it->suggested;
        it->p_runner_up = NAN;
        it->trained = it->label;
        it->p_trained = NAN;
    }
    return v;
}

static int64_t
cur_id(const struct queue *q)
{
    const struct queue_item *it = queue_current(q);
    return it != NULL ? it->sample_id : -1;
}

static int64_t
at_id(const struct queue *q, size_t i)
{
    const struct queue_item *it = queue_at(q, i);
    return it != NULL ? it->sample_id : -1;
}

static void
test_rank(void)
{
    /* ids 1..6; 3 and 6 unscored; 2 and 5 tie. */
    double s[] = {0.2, 0.5, -1, 0.9, 0.5, -1};
    struct queue *q = queue_new();
    queue_load(q, make_items(6, s), 6);
    is_int(queue_size(q), ==, 6);
    is_int(queue_count(q), ==, 6);
    int64_t want[] = {4, 2, 5, 1, 3, 6};
    int good = 1;
    for (size_t i = 0; i < 6; i++)
        good &= at_id(q, i) == want[i];
    ok(good, "highest score first, ties and unscored by import order");
    is_int(queue_find(q, 4)->rank, ==, 1);
    is_int(queue_find(q, 6)->rank, ==, 6);
    is_int(cur_id(q), ==, 4);
    ok(queue_at(q, 6) == NULL, "past the end is NULL");
    /* The list's score column shows the key the queue ranks by. */
    ok(queue_find(q, 4)->key == 0.9 && queue_find(q, 1)->key == 0.2,
       "each scored item's key is its score");
    queue_free(q);
}

static void
test_moves(void)
{
    double s[] = {0.9, 0.8, 0.7, 0.6, 0.5};
    struct queue *q = queue_new();
    queue_load(q, make_items(5, s), 5);
    queue_move(q, 2);
    is_int(cur_id(q), ==, 3);
    queue_move(q, -10);
    is_int(cur_id(q), ==, 1);
    queue_move(q, 100);
    is_int(cur_id(q), ==, 5);
    queue_go(q, 1);
    is_int(cur_id(q), ==, 2);
    ok(queue_select(q, 4) == 0 && cur_id(q) == 4, "select by id");
    ok(queue_select(q, 99) == -1 && cur_id(q) == 4,
       "selecting a missing id fails and moves nothing");
    queue_free(q);
}

static void
test_rerank_keeps_cursor(void)
{
    double s1[] = {0.9, 0.8, 0.7, 0.6, 0.5};
    struct queue *q = queue_new();
    queue_load(q, make_items(5, s1), 5);
    queue_select(q, 3);
    /* A new run reverses the order: sample 3 moves, the cursor with it. */
    double s2[] = {0.1, 0.2, 0.3, 0.4, 0.5};
    queue_load(q, make_items(5, s2), 5);
    is_int(cur_id(q), ==, 3);
    is_int(at_id(q, 0), ==, 5);
    is_int(queue_cursor(q), ==, 2);
    is_int(queue_find(q, 3)->rank, ==, 3);
    queue_free(q);
}

static void
test_decisions_leave_todo(void)
{
    double s[] = {0.9, 0.8, 0.7, 0.6};
    struct queue *q = queue_new();
    queue_load(q, make_items(4, s), 4);
    /* Decide on sample 1 (the current one): it stays until the cursor
     * moves on, then leaves "to review". */
    queue_set(q, 1, 2, QUEUE_RELABELED);
    is_int(queue_count(q), ==, 4);
    is_int(cur_id(q), ==, 1);
    is_int(queue_find(q, 1)->label, ==, 2);
    queue_advance(q);
    is_int(cur_id(q), ==, 2);
    is_int(queue_count(q), ==, 3);
    is_int(at_id(q, 0), ==, 2);
    /* The decided sample is still browsable. */
    struct queue_filter f;
    queue_get_filter(q, &f);
    f.show = QUEUE_SHOW_DONE;
    queue_set_filter(q, &f);
    is_int(queue_count(q), ==, 1);
    is_int(cur_id(q), ==, 1);
    f.show = QUEUE_SHOW_ALL;
    queue_set_filter(q, &f);
    is_int(queue_count(q), ==, 4);
    is_int(cur_id(q), ==, 1);
    /* Deciding on the last one of the view moves back, not past it. */
    f.show = QUEUE_SHOW_PENDING;
    queue_set_filter(q, &f);
    queue_go(q, queue_count(q) - 1);
    is_int(cur_id(q), ==, 4);
    queue_set(q, 4, 1, QUEUE_KEPT);
    queue_advance(q);
    is_int(cur_id(q), ==, 3);
    is_int(queue_count(q), ==, 2);
    /* The last one to review stays current (pinned) once decided. */
    queue_set(q, 3, 0, QUEUE_KEPT);
    queue_advance(q);
    queue_set(q, cur_id(q), 0, QUEUE_KEPT);
    queue_advance(q);
    is_int(queue_count(q), ==, 1);
    ok(queue_current(q) != NULL &&
           queue_status_decided(queue_current(q)->status),
       "a decided last sample stays in view while current");
    queue_move(q, 1);
    is_int(queue_count(q), ==, 1);
    queue_free(q);
}

static void
test_undo_brings_back(void)
{
    double s[] = {0.9, 0.8, 0.7};
    struct queue *q = queue_new();
    queue_load(q, make_items(3, s), 3);
    queue_set(q, 1, 0, QUEUE_KEPT);
    queue_advance(q);
    is_int(queue_count(q), ==, 2);
    /* An undo puts the sample back and the cursor on it. */
    queue_set(q, 1, 1, QUEUE_UNREVIEWED);
    ok(queue_select(q, 1) == 0, "select the undone sample");
    is_int(queue_count(q), ==, 3);
    is_int(cur_id(q), ==, 1);
    is_int(queue_cursor(q), ==, 0);
    queue_free(q);
}

static void
test_filters(void)
{
    double s[] = {0.9, 0.8, 0.7, 0.6, 0.5, -1};
    struct queue *q = queue_new();
    queue_load(q, make_items(6, s), 6);
    struct queue_filter f;
    queue_get_filter(q, &f);
    ok(f.show == QUEUE_SHOW_PENDING && f.cls == -1 && isnan(f.min_score),
       "the default filter: to review, any class, no threshold");
    f.cls = 1; /* ids 1 and 4 */
    queue_set_filter(q, &f);
    is_int(queue_count(q), ==, 2);
    is_int(at_id(q, 0), ==, 1);
    is_int(at_id(q, 1), ==, 4);
    f.cls = -1;
    f.min_score = 0.7;
    queue_set_filter(q, &f);
    is_int(queue_count(q), ==, 3);
    is_int(at_id(q, 2), ==, 3);
    /* A current sample the filter leaves out gives way to the first. */
    queue_select(q, 5);
    is_int(cur_id(q), ==, 5);
    is_int(queue_count(q), ==, 4);
    queue_set_filter(q, &f);
    is_int(cur_id(q), ==, 1);
    is_int(queue_count(q), ==, 3);
    f.min_score = NAN;
    f.show = QUEUE_SHOW_SKIPPED;
    queue_set_filter(q, &f);
    is_int(queue_count(q), ==, 0);
    ok(queue_current(q) == NULL, "an empty view has no current item");
    queue_move(q, 1); /* must not crash */
    queue_advance(q);
    queue_free(q);
}

static void
test_skips_survive_reload(void)
{
    double s[] = {0.9, 0.8, 0.7};
    struct queue *q = queue_new();
    queue_load(q, make_items(3, s), 3);
    queue_set(q, 1, 1, QUEUE_SKIPPED);
    queue_set(q, 2, 2, QUEUE_SKIPPED);
    /* The store knows nothing of skips; sample 2 was decided meanwhile
     * (by another process), so the store's word wins there. */
    struct queue_item *items = make_items(3, s);
    items[1].status = QUEUE_KEPT;
    queue_load(q, items, 3);
    is_int(queue_find(q, 1)->status, ==, QUEUE_SKIPPED);
    is_int(queue_find(q, 2)->status, ==, QUEUE_KEPT);
    is_int(queue_find(q, 3)->status, ==, QUEUE_UNREVIEWED);
    struct queue_counts c;
    queue_counts(q, &c);
    is_int(c.total, ==, 3);
    is_int(c.skipped, ==, 1);
    is_int(c.kept, ==, 1);
    is_int(c.unreviewed, ==, 1);
    is_int(c.scored, ==, 3);
    queue_free(q);
}

static void
test_examples(void)
{
    /* label = id % 3: class 0 holds ids 3, 6, 9, 12. */
    double s[] = {0.5, 0.5, 0.9, 0.5, 0.5, 0.1, 0.5, 0.5, 0.4, 0.5, 0.5, -1};
    struct queue *q = queue_new();
    struct queue_item *items = make_items(12, s);
    items[5].flagged = 1; /* id 6: flagged, never an example */
    queue_load(q, items, 12);
    int64_t ids[8];
    size_t n = queue_examples(q, 0, 0, ids, 8);
    is_int(n, ==, 3);
    ok(n == 3 && ids[0] == 9 && ids[1] == 3 && ids[2] == 12,
       "lowest score first, unscored last, flagged left out");
    n = queue_examples(q, 0, 9, ids, 1);
    ok(n == 1 && ids[0] == 3, "the excluded sample is passed over");
    /* A relabel moves a sample into the class. */
    queue_set(q, 1, 0, QUEUE_RELABELED);
    n = queue_examples(q, 0, 0, ids, 8);
    is_int(n, ==, 4);
    is_int(queue_examples(q, 7, 0, ids, 8), ==, 0);
    is_int(queue_examples(q, -1, 0, ids, 8), ==, 0);
    queue_free(q);
}

/* The examples of a class by their definition: every item of the class,
 * not flagged, not skipped; scored before unscored, then lower score,
 * then lower id. */
static size_t
brute_examples(const struct queue_item *v, size_t n, int cls, int64_t *ids,
               size_t max)
{
    size_t k = 0;
    while (k < max) {
        const struct queue_item *best = NULL;
        for (size_t i = 0; i < n; i++) {
            const struct queue_item *it = &v[i];
            if (it->label != cls || it->flagged || it->status == QUEUE_SKIPPED)
                continue;
            int taken = 0;
            for (size_t j = 0; j < k; j++)
                taken |= ids[j] == it->sample_id;
            if (taken)
                continue;
            if (best == NULL || (it->scored && !best->scored) ||
                (it->scored == best->scored && it->scored &&
                 it->score < best->score) ||
                (it->scored == best->scored &&
                 (!it->scored || it->score == best->score) &&
                 it->sample_id < best->sample_id))
                best = it;
        }
        if (best == NULL)
            break;
        ids[k++] = best->sample_id;
    }
    return k;
}

static void
test_examples_and_counts_random(void)
{
    /* Ties, unscored samples, flags, skips and relabels, checked against
     * a pass over every item after each change. */
    size_t n = 3000;
    double *s = xcalloc(n, sizeof *s);
    uint32_t r = 12345;
    for (size_t i = 0; i < n; i++) {
        r = r * 1103515245u + 12345u;
        s[i] = (r >> 16) % 7 == 0 ? -1 : (double)((r >> 8) % 40) / 40.0;
    }
    struct queue_item *items = make_items(n, s);
    struct queue_item *mirror = xcalloc(n, sizeof *mirror);
    for (size_t i = 0; i < n; i++) {
        items[i].flagged = i % 9 == 0;
        mirror[i] = items[i];
    }
    struct queue *q = queue_new();
    queue_load(q, items, n);
    int bad_ex = 0, bad_counts = 0;
    for (int step = 0; step < 300; step++) {
        r = r * 1103515245u + 12345u;
        size_t i = (r >> 8) % n;
        int label = (int)((r >> 4) % 3);
        enum queue_status st = (enum queue_status)((r >> 20) % 5);
        queue_set(q, mirror[i].sample_id, label, st);
        mirror[i].label = label;
        mirror[i].status = st;
        for (int c = 0; c < 3; c++) {
            int64_t a[16], b[16];
            size_t na = queue_examples(q, c, 0, a, 16);
            size_t nb = brute_examples(mirror, n, c, b, 16);
            bad_ex += na != nb || memcmp(a, b, na * sizeof *a) != 0;
        }
        struct queue_counts qc, bc;
        queue_counts(q, &qc);
        memset(&bc, 0, sizeof bc);
        bc.total = n;
        for (size_t j = 0; j < n; j++) {
            bc.unreviewed += mirror[j].status == QUEUE_UNREVIEWED;
            bc.kept += mirror[j].status == QUEUE_KEPT;
            bc.relabeled += mirror[j].status == QUEUE_RELABELED;
            bc.autos += mirror[j].status == QUEUE_AUTO;
            bc.skipped += mirror[j].status == QUEUE_SKIPPED;
            bc.scored += mirror[j].scored != 0;
            bc.flagged += mirror[j].flagged != 0;
        }
        bad_counts += memcmp(&qc, &bc, sizeof qc) != 0;
    }
    is_int(bad_ex, ==, 0);
    is_int(bad_counts, ==, 0);
    queue_free(q);
    free(mirror);
    free(s);
}

static void
show_all(struct queue *q)
{
    struct queue_filter f = {QUEUE_SHOW_ALL, -1, NAN};
    queue_set_filter(q, &f);
}

static void
test_any_input_order(void)
{
    /* The same items given in id order and reversed rank the same, and
     * each is found by its id either way. */
    size_t n = 500;
    double *s = xcalloc(n, sizeof *s);
    for (size_t i = 0; i < n; i++)
        s[i] = i % 11 == 0 ? -1 : (double)((i * 31) % 17) / 17.0;
    struct queue_item *a = make_items(n, s), *b = make_items(n, s);
    for (size_t i = 0; i < n / 2; i++) {
        struct queue_item t = b[i];
        b[i] = b[n - 1 - i];
        b[n - 1 - i] = t;
    }
    struct queue *qa = queue_new(), *qb = queue_new();
    show_all(qa);
    show_all(qb);
    queue_load(qa, a, n);
    queue_load(qb, b, n);
    int same = queue_count(qa) == n && queue_count(qb) == n;
    for (size_t i = 0; i < n && same; i++) {
        same = at_id(qa, i) == at_id(qb, i);
        const struct queue_item *x = queue_find(qb, (int64_t)i + 1);
        same = same && x != NULL && x->sample_id == (int64_t)i + 1 &&
               queue_find(qa, (int64_t)i + 1)->rank == x->rank;
    }
    ok(same, "items in any order rank alike and are found by id");
    queue_free(qa);
    queue_free(qb);
    free(s);
}

static void
test_large(void)
{
    /* 50,000 samples: loading and a full rebuild stay cheap enough for a
     * key press (checked loosely: a rebuild per move). */
    size_t n = 50000;
    double *s = xcalloc(n, sizeof *s);
    for (size_t i = 0; i < n; i++)
        s[i] = (double)((i * 7919) % n) / (double)n;
    struct queue *q = queue_new();
    double t0 = wn_monotonic();
    queue_load(q, make_items(n, s), n);
    double t1 = wn_monotonic();
    for (int i = 0; i < 200; i++) {
        queue_set(q, cur_id(q), 0, QUEUE_KEPT);
        queue_advance(q);
    }
    double t2 = wn_monotonic();
    is_int(queue_count(q), ==, n - 200);
    diag("load %.1f ms, 200 decisions %.1f ms", (t1 - t0) * 1e3,
         (t2 - t1) * 1e3);
    ok((t2 - t1) / 200 < 0.02, "a decision costs under 20 ms at 50,000");
    queue_free(q);
    free(s);
}

int
main(void)
{
    test_rank();
    test_moves();
    test_rerank_keeps_cursor();
    test_decisions_leave_todo();
    test_undo_brings_back();
    test_filters();
    test_skips_survive_reload();
    test_examples();
    test_examples_and_counts_random();
    test_any_input_order();
    test_large();
    ok(strcmp(queue_status_name(QUEUE_RELABELED), "relabeled") == 0 &&
           strcmp(queue_show_name(QUEUE_SHOW_PENDING), "to review") == 0,
       "names");
    return done_testing();
}
