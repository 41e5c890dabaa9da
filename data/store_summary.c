/* data/store_summary.c: what `winnow info` shows of a project: counts
 * by class, image sizes, duplicates, sources, runs and decisions, read in
 * one snapshot. */
#include "config.h"

#include "data/store.h"

#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "data/store_internal.h"

enum summary_stmt {
    SU_SAMPLES,
    SU_CURRENT,
    SU_GIVEN,
    SU_SIZES,
    SU_DUPS,
    SU_CONFLICTS,
    SU_SOURCES,
    SU_RUNS,
    SU_HUMAN,
    SU_OUTLIERS,
    SU_COUNT
};

static const char *const summary_sql[SU_COUNT] = {
    [SU_SAMPLES] = "SELECT count(*) FROM samples",
    [SU_CURRENT] =
        "SELECT label, count(*) FROM (" STORE_CURRENT_SQL ") GROUP BY label",
    [SU_GIVEN] = "SELECT given_label, count(*) FROM samples "
                 "GROUP BY given_label",
    [SU_SIZES] = "SELECT width, height, channels, count(*) AS n "
                 "FROM samples GROUP BY width, height, channels "
                 "ORDER BY n DESC, width, height, channels",
    [SU_DUPS] = "SELECT count(*), coalesce(sum(n), 0) FROM "
                "(SELECT count(*) AS n FROM samples GROUP BY hash "
                "HAVING n >= 2)",
    [SU_CONFLICTS] =
        "SELECT count(*) FROM (SELECT s.hash FROM samples s JOIN "
        "(" STORE_CURRENT_SQL ") c ON c.sample_id = s.id GROUP BY s.hash "
        "HAVING count(*) >= 2 AND min(c.label) <> max(c.label))",
    [SU_SOURCES] = "SELECT src.kind, src.location, "
                   "(SELECT count(*) FROM samples WHERE source_id = src.id), "
                   "(SELECT coalesce(max(time), 0) FROM imports "
                   "WHERE source_id = src.id), "
                   "(SELECT count(*) FROM imports WHERE source_id = src.id) "
                   "FROM sources src ORDER BY src.id",
    [SU_RUNS] = "SELECT id, status, started, coalesce(finished, 0) "
                "FROM runs ORDER BY started DESC, id DESC",
    [SU_HUMAN] = "SELECT count(*) FROM label_events "
                 "WHERE source = 'human'",
    [SU_OUTLIERS] = "SELECT count(*) FROM scores WHERE run_id = (SELECT "
                    "max(id) FROM runs WHERE status = 'done') AND outlier "
                    ">= " STORE_OUTLIER_HIGH_SQL,
};

static int
summary_stmt(struct store *s, enum summary_stmt id, sqlite3_stmt **out,
             char **cause)
{
    return store_stmt_get(s, &summary_sql[id], out, cause);
}

/* Add n to counts[label] when the label is a class id. */
static int
store_count_by_label(struct store *s, enum summary_stmt id, int64_t *counts,
                     int n_classes, char **cause)
{
    sqlite3_stmt *st = NULL;
    int rc;
    if (summary_stmt(s, id, &st, cause) != 0)
        return -1;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t label = sqlite3_column_int64(st, 0);
        if (label >= 0 && label < n_classes)
            counts[label] += sqlite3_column_int64(st, 1);
    }
    store_done(st);
    if (rc != SQLITE_DONE)
        return store_fail(s, rc, cause, "summary");
    return 0;
}

static char *
store_col_strdup(sqlite3_stmt *st, int col)
{
    const char *t = (const char *)sqlite3_column_text(st, col);
    return xstrdup(t != NULL ? t : "");
}

static int
store_summary_read(struct store *s, struct store_summary *out, char **cause)
{
    sqlite3_stmt *st = NULL;
    size_t cap;
    int rc;

    if (store_int64(s, &summary_sql[SU_SAMPLES], &out->n_samples, cause) != 0 ||
        store_class_names(s, &out->class_names, &out->n_classes, cause) != 0)
        return -1;
    size_t nc = (size_t)out->n_classes;
    out->class_counts = xcalloc(nc, sizeof *out->class_counts);
    out->class_given = xcalloc(nc, sizeof *out->class_given);
    if (store_count_by_label(s, SU_CURRENT, out->class_counts, out->n_classes,
                             cause) != 0 ||
        store_count_by_label(s, SU_GIVEN, out->class_given, out->n_classes,
                             cause) != 0)
        return -1;

    if (summary_stmt(s, SU_SIZES, &st, cause) != 0)
        return -1;
    cap = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        wn_grow(&out->sizes, sizeof *out->sizes, &cap, out->n_sizes + 1);
        struct store_size_count *z = &out->sizes[out->n_sizes++];
        z->width = sqlite3_column_int(st, 0);
        z->height = sqlite3_column_int(st, 1);
        z->channels = sqlite3_column_int(st, 2);
        z->count = sqlite3_column_int64(st, 3);
    }
    store_done(st);
    if (rc != SQLITE_DONE)
        return store_fail(s, rc, cause, "summary");

    if (summary_stmt(s, SU_DUPS, &st, cause) != 0)
        return -1;
    if (store_row(s, st, cause, "summary") != 1)
        return -1;
    out->dup_groups = sqlite3_column_int64(st, 0);
    out->dup_samples = sqlite3_column_int64(st, 1);
    store_done(st);
    if (store_int64(s, &summary_sql[SU_CONFLICTS], &out->dup_conflicts,
                    cause) != 0)
        return -1;

    if (summary_stmt(s, SU_SOURCES, &st, cause) != 0)
        return -1;
    cap = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        wn_grow(&out->sources, sizeof *out->sources, &cap, out->n_sources + 1);
        struct store_source_info *src = &out->sources[out->n_sources++];
        src->kind = store_col_strdup(st, 0);
        src->location = store_col_strdup(st, 1);
        src->samples = sqlite3_column_int64(st, 2);
        src->last_import = sqlite3_column_int64(st, 3);
        src->n_imports = sqlite3_column_int(st, 4);
    }
    store_done(st);
    if (rc != SQLITE_DONE)
        return store_fail(s, rc, cause, "summary");

    if (summary_stmt(s, SU_RUNS, &st, cause) != 0)
        return -1;
    cap = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        wn_grow(&out->runs, sizeof *out->runs, &cap, out->n_runs + 1);
        struct store_run_info *run = &out->runs[out->n_runs++];
        run->id = sqlite3_column_int64(st, 0);
        run->status = store_col_strdup(st, 1);
        run->started = sqlite3_column_int64(st, 2);
        run->finished = sqlite3_column_int64(st, 3);
    }
    store_done(st);
    if (rc != SQLITE_DONE)
        return store_fail(s, rc, cause, "summary");

    if (store_int64(s, &summary_sql[SU_HUMAN], &out->n_human_events, cause) !=
            0 ||
        store_int64(s, &summary_sql[SU_OUTLIERS], &out->n_outliers, cause) != 0)
        return -1;

    const char *db_path = sqlite3_db_filename(s->db, "main");
    struct stat fst;
    if (db_path != NULL && *db_path != '\0') {
        if (stat(db_path, &fst) == 0)
            out->file_bytes += (int64_t)fst.st_size;
        const char *wal = sqlite3_filename_wal(db_path);
        if (wal != NULL && stat(wal, &fst) == 0)
            out->file_bytes += (int64_t)fst.st_size;
    }
    return 0;
}

int
store_summary_get(struct store *s, struct store_summary *out, char **cause)
{
    memset(out, 0, sizeof *out);
    /* A read transaction, so the numbers come from one snapshot. */
    int own;
    if (store_rbegin(s, &own, cause) != 0)
        return -1;
    int r = store_rend(s, own, store_summary_read(s, out, cause), cause);
    if (r != 0)
        store_summary_fini(out);
    return r;
}

void
store_summary_fini(struct store_summary *sum)
{
    if (sum == NULL)
        return;
    store_names_free(sum->class_names);
    free(sum->class_counts);
    free(sum->class_given);
    free(sum->sizes);
    for (size_t i = 0; i < sum->n_sources; i++) {
        free(sum->sources[i].kind);
        free(sum->sources[i].location);
    }
    free(sum->sources);
    for (size_t i = 0; i < sum->n_runs; i++)
        free(sum->runs[i].status);
    free(sum->runs);
    memset(sum, 0, sizeof *sum);
}
