/* data/store_follow.c: one decision carried to many samples.
 *
 * A person's decision may be applied to other samples at once: its
 * near-duplicates, its most similar suspects, the rest of a duplicate
 * group (data/store.h, "decisions that follow"). Each sample gets its own
 * human event, so the history and the engine see an ordinary decision,
 * and each names the decision it followed in `follows`. That column is
 * what makes the whole set one step for an undo: the decision and every
 * event that follows it and is still in force are reverted together,
 * newest first, in one transaction. */
#include "config.h"

#include "data/store.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data/store_internal.h"

enum follow_stmt { FS_DECISION, FS_GROUP, FS_INSERT, FS_COUNT };

static const char *const follow_sql[FS_COUNT] = {
    [FS_DECISION] = "SELECT coalesce(follows, id) FROM label_events "
                    "WHERE id = ?1",
    /* The undo events of a set are few (they name it), so the NOT IN list
     * stays small. */
    [FS_GROUP] = "SELECT id FROM label_events e WHERE (id = ?1 OR follows = "
                 "?1) AND source = 'human' AND undoes IS NULL AND NOT EXISTS "
                 "(SELECT 1 FROM label_events u WHERE u.sample_id = "
                 "e.sample_id AND u.undoes = e.id) ORDER BY id DESC",
    [FS_INSERT] =
        "INSERT INTO label_events (sample_id, old_label, new_label, source, "
        "time, run_id, score, note, follows, excluded) "
        "VALUES (?1, ?2, ?3, 'human', ?4, ?5, ?6, ?7, ?8, ?9)",
};

static int
follow_stmt(struct store *s, enum follow_stmt id, sqlite3_stmt **out,
            char **cause)
{
    return store_stmt_get(s, &follow_sql[id], out, cause);
}

int
store_event_group(struct store *s, int64_t event_id, int64_t **ids_out,
                  size_t *n_out, char **cause)
{
    sqlite3_stmt *st;
    *ids_out = NULL;
    *n_out = 0;
    if (follow_stmt(s, FS_DECISION, &st, cause) != 0)
        return -1;
    sqlite3_bind_int64(st, 1, event_id);
    if (store_row_of(s, st, "read label event", "no label event", event_id,
                     cause) != 0)
        return -1;
    int64_t root = sqlite3_column_int64(st, 0);
    store_done(st);

    if (follow_stmt(s, FS_GROUP, &st, cause) != 0)
        return -1;
    sqlite3_bind_int64(st, 1, root);
    int64_t *ids = NULL;
    size_t n = 0, cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        wn_grow(&ids, sizeof *ids, &cap, n + 1);
        ids[n++] = sqlite3_column_int64(st, 0);
    }
    store_done(st);
    if (rc != SQLITE_DONE) {
        free(ids);
        return store_fail(s, rc, cause, "read label events");
    }
    *ids_out = ids;
    *n_out = n;
    return 0;
}

static int
follow_rows(struct store *s, int64_t decision, const struct store_follow *f,
            size_t n, const char *note, char **cause)
{
    int n_classes;
    if (store_class_count(s, &n_classes, cause) != 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        int old;
        int64_t run;
        double score;
        if (f[i].label < 0 || f[i].label >= n_classes)
            return wn_fail(cause, "no such class: %d", f[i].label);
        if (store_label_current(s, f[i].sample_id, &old, cause) != 0 ||
            store_score_now(s, f[i].sample_id, &run, &score, cause) != 0)
            return -1;
        sqlite3_stmt *st;
        if (follow_stmt(s, FS_INSERT, &st, cause) != 0)
            return -1;
        sqlite3_bind_int64(st, 1, f[i].sample_id);
        sqlite3_bind_int(st, 2, old);
        sqlite3_bind_int(st, 3, f[i].label);
        sqlite3_bind_int64(st, 4, wn_time_ms());
        if (run != 0)
            sqlite3_bind_int64(st, 5, run);
        if (!isnan(score))
            sqlite3_bind_double(st, 6, score);
        if (note != NULL && store_bind_text(s, st, 7, note, cause) != 0)
            return -1;
        sqlite3_bind_int64(st, 8, decision);
        sqlite3_bind_int(st, 9, f[i].excluded != 0);
        if (store_run(s, st, cause, "add label event") != 0)
            return -1;
    }
    return 0;
}

int
store_label_follow(struct store *s, int64_t decision,
                   const struct store_follow *f, size_t n, const char *note,
                   char **cause)
{
    int own;
    if (n == 0)
        return 0;
    if (store_wbegin(s, &own, cause) != 0)
        return -1;
    return store_wend(s, own, follow_rows(s, decision, f, n, note, cause),
                      cause);
}

static int
revert_all(struct store *s, int64_t event_id, struct store_reverted **out,
           size_t *n_out, char **cause)
{
    int64_t *ids;
    size_t n;
    if (store_event_group(s, event_id, &ids, &n, cause) != 0)
        return -1;
    if (n == 0)
        return wn_fail(cause, "that decision is undone already");
    struct store_reverted *v = xcalloc(n, sizeof *v);
    for (size_t i = 0; i < n; i++) {
        v[i].undone_id = ids[i];
        if (store_revert_event(s, ids[i], &v[i].sample_id, &v[i].label,
                               &v[i].event_id, cause) != 0) {
            free(ids);
            free(v);
            return -1;
        }
    }
    free(ids);
    *out = v;
    *n_out = n;
    return 0;
}

int
store_label_revert_all(struct store *s, int64_t event_id,
                       struct store_reverted **out, size_t *n_out, char **cause)
{
    int own;
    *out = NULL;
    *n_out = 0;
    if (store_wbegin(s, &own, cause) != 0)
        return -1;
    return store_wend(s, own, revert_all(s, event_id, out, n_out, cause),
                      cause);
}
