/* The statement cache of the store module (store_stmt_get): a statement
 * is named by the address of its SQL, prepared once, kept through the
 * table's growth, never shared by two names with the same text, and not
 * cached when it fails to prepare; statements of every file of the module
 * work side by side, one file's inside another's walk. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/base.h"
#include "data/image.h"
#include "data/sha256.h"
#include "data/store.h"
#include "data/store_internal.h"
#include "tests/fixtures.h"
#include "tests/tap.h"

#define N_SQL     200 /* past the first table's 64 slots, twice over */
#define N_SAMPLES 6

static const char *const same_text[2] = {"SELECT ?1", "SELECT ?1"};
static const char *const bad_sql[1] = {"SELECT FROM nowhere"};

static void
test_cache(struct store *s)
{
    static const char *sql[N_SQL];
    static char text[N_SQL][24];
    sqlite3_stmt *first[N_SQL];
    char *cause = NULL;
    size_t before = s->n_stmts;

    for (int i = 0; i < N_SQL; i++) {
        snprintf(text[i], sizeof text[i], "SELECT %d", i);
        sql[i] = text[i];
    }
    int prepared = 1;
    for (int i = 0; i < N_SQL; i++)
        prepared &= store_stmt_get(s, &sql[i], &first[i], &cause) == 0;
    ok(prepared, "%d statements prepare", N_SQL);
    is_int(s->n_stmts, ==, before + N_SQL);
    ok(s->stmt_cap >= 2 * s->n_stmts && (s->stmt_cap & (s->stmt_cap - 1)) == 0,
       "the table grew to a power of two at most half full (%zu of %zu)",
       s->n_stmts, s->stmt_cap);

    int same = 1, right = 1;
    for (int i = 0; i < N_SQL; i++) {
        sqlite3_stmt *st;
        same &= store_stmt_get(s, &sql[i], &st, &cause) == 0 && st == first[i];
        right &=
            sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) == i;
        store_done(st);
    }
    ok(same, "each name gives back its statement after the growth");
    ok(right, "and each statement is its own SQL");
    is_int(s->n_stmts, ==, before + N_SQL);

    /* Two names with one text, stepped at once. */
    sqlite3_stmt *a, *b;
    if (store_stmt_get(s, &same_text[0], &a, &cause) != 0 ||
        store_stmt_get(s, &same_text[1], &b, &cause) != 0)
        bail("prepare: %s", cause);
    ok(a != b, "two names with the same text get two statements");
    sqlite3_bind_int(a, 1, 1);
    sqlite3_bind_int(b, 1, 2);
    ok(sqlite3_step(a) == SQLITE_ROW && sqlite3_step(b) == SQLITE_ROW &&
           sqlite3_column_int(a, 0) == 1 && sqlite3_column_int(b, 0) == 2,
       "which step side by side");
    store_done(a);
    store_done(b);

    size_t n = s->n_stmts;
    sqlite3_stmt *st = NULL;
    ok(store_stmt_get(s, &bad_sql[0], &st, &cause) != 0,
       "SQL that does not prepare fails");
    ok(cause != NULL && strncmp(cause, "prepare: ", 9) == 0, "saying so (%s)",
       cause != NULL ? cause : "");
    free(cause);
    cause = NULL;
    ok(s->n_stmts == n && store_stmt_get(s, &bad_sql[0], &st, &cause) != 0,
       "and is not cached: it fails again");
    free(cause);
}

struct walk {
    struct store *s;
    int n, labels_ok, names_ok;
};

/* Statements of store_labels.c and store_samples.c inside the walk of
 * store_samples.c. */
static int
walk_one(void *ctx, const struct store_sample *smp, char **cause)
{
    struct walk *w = ctx;
    int label;
    char **names;
    int n_names;
    if (store_label_current(w->s, smp->id, &label, cause) != 0 ||
        store_class_names(w->s, &names, &n_names, cause) != 0)
        return -1;
    w->labels_ok += label == smp->label;
    w->names_ok += n_names == 2 && label >= 0 && label < n_names;
    store_names_free(names);
    w->n++;
    return 0;
}

static void
test_files(struct store *s)
{
    char *cause = NULL;
    int64_t src, ids[N_SAMPLES];
    int cls;
    if (store_source_ensure(s, STORE_SOURCE_FOLDER, "/x", &src, &cause) ||
        store_class_ensure(s, "a", &cls, &cause) ||
        store_class_ensure(s, "b", &cls, &cause))
        bail("setup: %s", cause);
    struct image im;
    if (image_alloc(&im, 2, 2, 1, &cause) != 0)
        bail("alloc: %s", cause);
    for (int i = 0; i < N_SAMPLES; i++) {
        unsigned char h[SHA256_LEN];
        memset(im.pixels, i, 4);
        sha256(im.pixels, 4, h);
        char path[32];
        snprintf(path, sizeof path, "s%d.png", i);
        struct store_sample_new sn = {.source_id = src,
                                      .path = path,
                                      .hash = h,
                                      .width = 2,
                                      .height = 2,
                                      .channels = 1,
                                      .stored = &im,
                                      .label = i % 2};
        if (store_sample_add(s, &sn, &ids[i], &cause) != 0)
            bail("add: %s", cause);
    }
    image_fini(&im);
    int old;
    int64_t ev;
    ok(store_label_decide(s, ids[0], 1, "b it is", &old, &ev, &cause) == 0,
       "a decision (store_labels.c) after the import (store_samples.c)");

    struct walk w = {s, 0, 0, 0};
    ok(store_foreach_sample(s, walk_one, &w, &cause) == 0,
       "a walk runs other files' statements inside it");
    ok(w.n == N_SAMPLES && w.labels_ok == N_SAMPLES && w.names_ok == N_SAMPLES,
       "and every one answers right (%d of %d)", w.labels_ok, N_SAMPLES);

    int64_t run;
    struct store_run r;
    struct store_summary sum;
    ok(store_run_create(s, 1, "p", "test", &run, &cause) == 0 &&
           store_run_get(s, run, &r, &cause) == 0,
       "a run (store_runs.c)");
    store_run_fini(&r);
    ok(store_summary_get(s, &sum, &cause) == 0 && sum.n_samples == N_SAMPLES &&
           sum.n_runs == 1 && sum.n_human_events == 1,
       "the summary (store_summary.c) sees it all");
    store_summary_fini(&sum);
    struct store_pixels px;
    ok(store_sample_pixels(s, ids[1], &px, &cause) == 0,
       "pixels (store_review.c)");
    store_pixels_fini(&px);
}

int
main(void)
{
    char *dir = fx_tmpdir("cache");
    char *db = fx_path(dir, "p.db");
    struct store *s;
    char *cause = NULL;
    if (store_open(db, STORE_CREATE, &s, &cause) != 0)
        bail("open: %s", cause);

    test_files(s);
    test_cache(s);

    /* store_close finalizes all of it (the sanitizer build checks). */
    store_close(s);
    fx_rmtree(dir);
    free(db);
    free(dir);
    return done_testing();
}
