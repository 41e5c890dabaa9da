/* The set-based reads of the review state and of a run's scores against
 * their per-sample definitions: store_label_states against a max(id)
 * subquery per sample and a decision-in-force subquery per sample, and
 * store_foreach_run_score against store_foreach_score, on a project with
 * human decisions, undos, accepted suggestions, two sources whose index
 * order is not import order, a gap in the ids, a sample without events and
 * one whose history lacks its import event (the last three made by hand). */
#include "config.h"

#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/base.h"
#include "data/image.h"
#include "data/sha256.h"
#include "data/store.h"
#include "tests/fixtures.h"
#include "tests/tap.h"

#define N 300
#define K 4

static int64_t ids[N];

static void
add(struct store *s, int64_t src, int i, int label)
{
    char *cause = NULL;
    struct image im;
    if (image_alloc(&im, 2, 2, 1, &cause) != 0)
        bail("alloc: %s", cause);
    memcpy(im.pixels, &i, 4);
    unsigned char h[SHA256_LEN];
    sha256(im.pixels, 4, h);
    char path[32];
    /* Paths that sort against import order, so the (source_id, path)
     * index gives the samples out of id order. */
    snprintf(path, sizeof path, "%c/%d.png", 'z' - i % 26, i);
    struct store_sample_new sn = {.source_id = src,
                                  .path = path,
                                  .hash = h,
                                  .width = 2,
                                  .height = 2,
                                  .channels = 1,
                                  .stored = &im,
                                  .label = label};
    if (store_sample_add(s, &sn, &ids[i], &cause) != 0)
        bail("add %s: %s", path, cause);
    image_fini(&im);
}

static void
make_project(struct store *s, int64_t *run)
{
    char *cause = NULL;
    int64_t src[2];
    int c;
    if (store_source_ensure(s, STORE_SOURCE_CSV, "/m/list.csv", &src[0],
                            &cause) ||
        store_source_ensure(s, STORE_SOURCE_FOLDER, "/root", &src[1], &cause))
        bail("sources: %s", cause);
    for (int k = 0; k < K; k++) {
        char name[8];
        snprintf(name, sizeof name, "c%d", k);
        if (store_class_ensure(s, name, &c, &cause) != 0)
            bail("class: %s", cause);
    }
    for (int i = 0; i < N; i++)
        add(s, src[(i / 7) % 2], i, i % K);

    struct store_score sc[N];
    memset(sc, 0, sizeof sc);
    for (int i = 0; i < N; i++) {
        sc[i].sample_id = ids[i];
        /* Ties on purpose: every score comes twice or more. */
        sc[i].score = (double)((i * 37) % 50) / 50.0;
        sc[i].self_confidence = 0.5;
        sc[i].margin = sc[i].aum = sc[i].elr = sc[i].knn = NAN;
        sc[i].label = i % K;
        sc[i].suggested = (i + 1) % K;
        sc[i].suggested_prob = 0.25;
        sc[i].flagged = i % 5 == 0;
        sc[i].top[0] = (i + 1) % K;
        sc[i].top[1] = i % K;
        sc[i].top[2] = -1;
        sc[i].top_prob[0] = 0.6;
        sc[i].top_prob[1] = 0.4;
        sc[i].top_prob[2] = NAN;
    }
    double m[K * K] = {0};
    for (int k = 0; k < K; k++)
        m[k * K + k] = 1;
    if (store_run_create(s, 1, "", "test", run, &cause) != 0 ||
        store_run_publish(s, *run, sc, N, m, K, 0.1, 1.0, &cause) != 0)
        bail("run: %s", cause);

    /* Accepted suggestions on every 11th sample (its import is its only
     * event, with the sample's id), then decisions on every 3rd, some on
     * the same samples, undone now and then, one reverted by name. */
    struct store_auto_label al[N / 11 + 1];
    size_t na = 0;
    for (int i = 0; i < N; i += 11)
        al[na++] =
            (struct store_auto_label){ids[i], ids[i], (i + 2) % K, *run, 0.5};
    if (store_label_auto(s, al, na, &cause) != 0)
        bail("auto: %s", cause);
    int64_t last = 0;
    for (int i = 0; i < N; i += 3) {
        if (store_label_decide(s, ids[i], (i / 3) % K, NULL, NULL, &last,
                               &cause) != 0)
            bail("decide: %s", cause);
        if (i % 30 == 0) {
            struct store_undo *u;
            size_t nu;
            if (store_label_undo(s, 2, &u, &nu, &cause) != 0)
                bail("undo: %s", cause);
            store_undos_free(u, nu);
        }
    }
    if (store_label_revert(s, last, NULL, NULL, &cause) != 0)
        bail("revert: %s", cause);
    for (int i = 1; i < N; i += 13)
        if (store_label_decide(s, ids[i], i % K, NULL, NULL, NULL, &cause))
            bail("decide: %s", cause);
}

/* What store_open's checks and the API cannot make: a gap in the ids, a
 * sample without events, one without its import event. */
static void
make_by_hand(const char *path)
{
    sqlite3 *db;
    if (sqlite3_open(path, &db) != SQLITE_OK)
        bail("open %s", path);
    const char *sql =
        "INSERT INTO samples (id, source_id, path, hash, width, height, "
        "channels, stored_width, stored_height, pixels, given_label) "
        "SELECT 1000, source_id, 'gap.png', hash, width, height, channels, "
        "stored_width, stored_height, pixels, 1 FROM samples WHERE id = 1;"
        "INSERT INTO label_events (sample_id, new_label, source, time) "
        "VALUES (1000, 1, 'import', 0);"
        "INSERT INTO samples (id, source_id, path, hash, width, height, "
        "channels, stored_width, stored_height, pixels, given_label) "
        "SELECT 1001, source_id, 'none.png', hash, width, height, channels, "
        "stored_width, stored_height, pixels, 2 FROM samples WHERE id = 1;"
        "INSERT INTO samples (id, source_id, path, hash, width, height, "
        "channels, stored_width, stored_height, pixels, given_label) "
        "SELECT 1002, source_id, 'noimport.png', hash, width, height, "
        "channels, stored_width, stored_height, pixels, 3 "
        "FROM samples WHERE id = 1;"
        "INSERT INTO label_events (sample_id, old_label, new_label, source, "
        "time) VALUES (1002, 3, 0, 'human', 0);";
    char *err = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
        bail("by hand: %s", err);
    sqlite3_close(db);
}

/* The old query, one max(id) subquery per sample, and the decision in
 * force per sample in SQL: the latest event that is no import, no undo
 * and not undone. */
static const char *const old_sql =
    "SELECT s.id, s.source_id, src.kind, s.path, s.given_label, "
    "e.new_label, e.id, (SELECT d.source FROM label_events d "
    "WHERE d.sample_id = s.id AND d.source <> 'import' AND d.undoes IS NULL "
    "AND d.id NOT IN (SELECT undoes FROM label_events "
    "WHERE undoes IS NOT NULL) ORDER BY d.id DESC LIMIT 1) "
    "FROM samples s JOIN sources src ON src.id = s.source_id "
    "JOIN label_events e ON e.id = (SELECT max(id) FROM label_events "
    "WHERE sample_id = s.id) ORDER BY s.id";

static void
test_states(struct store *s, const char *path)
{
    char *cause = NULL;
    struct store_label_state *st;
    size_t n;
    ok(store_label_states(s, &st, &n, &cause) == 0, "states read");
    sqlite3 *db;
    sqlite3_stmt *q;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, old_sql, -1, &q, NULL) != SQLITE_OK)
        bail("old query: %s", sqlite3_errmsg(db));
    size_t i = 0, bad = 0, counts[4] = {0};
    const char *kinds[] = {"folder", "csv", "idx"};
    while (sqlite3_step(q) == SQLITE_ROW) {
        if (i >= n) {
            i++;
            continue;
        }
        const struct store_label_state *x = &st[i++];
        const char *d = (const char *)sqlite3_column_text(q, 7);
        enum store_review r = STORE_UNREVIEWED;
        if (d != NULL && strcmp(d, "auto") == 0)
            r = STORE_AUTO;
        else if (d != NULL)
            r = x->label == sqlite3_column_int(q, 4) ? STORE_KEPT
                                                     : STORE_RELABELED;
        counts[r]++;
        if (x->sample_id != sqlite3_column_int64(q, 0) ||
            x->source_id != sqlite3_column_int64(q, 1) ||
            strcmp(kinds[x->source_kind],
                   (const char *)sqlite3_column_text(q, 2)) != 0 ||
            strcmp(x->path, (const char *)sqlite3_column_text(q, 3)) != 0 ||
            x->given != sqlite3_column_int(q, 4) ||
            x->label != sqlite3_column_int(q, 5) ||
            x->last_event != sqlite3_column_int64(q, 6) || x->review != r) {
            if (bad++ < 5)
                diag("sample %lld differs", (long long)x->sample_id);
        }
    }
    sqlite3_finalize(q);
    sqlite3_close(db);
    is_int((int64_t)i, ==, (int64_t)n);
    is_int((int64_t)bad, ==, 0);
    ok(counts[STORE_UNREVIEWED] > 0 && counts[STORE_KEPT] > 0 &&
           counts[STORE_RELABELED] > 0 && counts[STORE_AUTO] > 0,
       "the project has every review state: %zu %zu %zu %zu", counts[0],
       counts[1], counts[2], counts[3]);
    ok(n == N + 2 && st[N].sample_id == 1000 && st[N + 1].sample_id == 1002,
       "the sample after the gap is there, the one without events is not");
    ok(n == N + 2 && st[N + 1].given == 3 && st[N + 1].label == 0 &&
           st[N + 1].review == STORE_RELABELED,
       "without an import event the given label is the row's");
    store_states_free(st, n);
}

struct walk {
    struct store_score *v;
    size_t n;
};

static int
walk_scored(void *ctx, const struct store_scored *row, char **cause)
{
    (void)cause;
    struct walk *w = ctx;
    w->v = xreallocarray(w->v, w->n + 1, sizeof *w->v);
    w->v[w->n++] = row->sc;
    return 0;
}

static int
walk_score(void *ctx, const struct store_score *sc, char **cause)
{
    (void)cause;
    struct walk *w = ctx;
    w->v = xreallocarray(w->v, w->n + 1, sizeof *w->v);
    w->v[w->n++] = *sc;
    return 0;
}

static int
score_cmp_id(const void *a, const void *b)
{
    int64_t x = ((const struct store_score *)a)->sample_id;
    int64_t y = ((const struct store_score *)b)->sample_id;
    return (x > y) - (x < y);
}

static int
same_real(double a, double b)
{
    return (isnan(a) && isnan(b)) || a == b;
}

static void
test_scores(struct store *s, int64_t run)
{
    char *cause = NULL;
    struct walk a = {NULL, 0}, b = {NULL, 0};
    ok(store_foreach_score(s, run, walk_scored, &a, &cause) == 0 &&
           store_foreach_run_score(s, run, walk_score, &b, &cause) == 0,
       "both walks read the run");
    is_int((int64_t)a.n, ==, (int64_t)b.n);
    int ordered = 1;
    for (size_t i = 1; i < b.n; i++)
        ordered &= b.v[i - 1].sample_id < b.v[i].sample_id;
    ok(ordered, "the scan is in sample id order");
    qsort(a.v, a.n, sizeof *a.v, score_cmp_id);
    size_t bad = 0;
    for (size_t i = 0; i < a.n && i < b.n; i++) {
        const struct store_score *x = &a.v[i], *y = &b.v[i];
        int same = x->sample_id == y->sample_id && x->score == y->score &&
                   same_real(x->self_confidence, y->self_confidence) &&
                   same_real(x->margin, y->margin) &&
                   x->cl_flag == y->cl_flag && same_real(x->aum, y->aum) &&
                   same_real(x->elr, y->elr) && same_real(x->knn, y->knn) &&
                   x->label == y->label && x->suggested == y->suggested &&
                   same_real(x->suggested_prob, y->suggested_prob) &&
                   x->flagged == y->flagged;
        for (int t = 0; t < STORE_TOP_CLASSES; t++)
            same = same && x->top[t] == y->top[t] &&
                   same_real(x->top_prob[t], y->top_prob[t]);
        bad += !same;
    }
    is_int((int64_t)bad, ==, 0);
    free(a.v);
    free(b.v);
}

int
main(void)
{
    char *dir = fx_tmpdir("store-states");
    char *path = fx_path(dir, "p.db");
    char *cause = NULL;
    struct store *s;
    int64_t run;
    if (store_open(path, STORE_CREATE, &s, &cause) != 0)
        bail("open: %s", cause);
    make_project(s, &run);
    store_close(s);
    make_by_hand(path);
    if (store_open(path, 0, &s, &cause) != 0)
        bail("reopen: %s", cause);
    test_states(s, path);
    test_scores(s, run);
    store_close(s);
    fx_rmtree(dir);
    free(path);
    free(dir);
    return done_testing();
}
