/* data/store_pairs.c: the near-duplicate pairs a run found by its
 * features (engine/featpairs.h), kept with the run so that grouping
 * (data/dups.h) joins them to the hash's pairs without the features. */
#include "config.h"

#include "data/store.h"

#include <stdlib.h>

#include "data/store_internal.h"

enum pairs_stmt { PS_DELETE, PS_INSERT, PS_READ, PS_COUNT };

static const char *const pairs_sql[PS_COUNT] = {
    [PS_DELETE] = "DELETE FROM run_pairs WHERE run_id = ?1",
    [PS_INSERT] = "INSERT INTO run_pairs (run_id, a, b, similarity) "
                  "VALUES (?1, ?2, ?3, ?4)",
    [PS_READ] = "SELECT a, b, similarity FROM run_pairs WHERE run_id = ?1 "
                "ORDER BY a, b",
};

static int
pairs_stmt(struct store *s, enum pairs_stmt id, sqlite3_stmt **out,
           char **cause)
{
    return store_stmt_get(s, &pairs_sql[id], out, cause);
}

static int
pairs_put(struct store *s, int64_t run_id, const struct store_pair *p, size_t n,
          char **cause)
{
    sqlite3_stmt *st;
    if (pairs_stmt(s, PS_DELETE, &st, cause) != 0)
        return -1;
    sqlite3_bind_int64(st, 1, run_id);
    if (store_run(s, st, cause, "write pairs") != 0 ||
        pairs_stmt(s, PS_INSERT, &st, cause) != 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        sqlite3_bind_int64(st, 1, run_id);
        sqlite3_bind_int64(st, 2, p[i].a < p[i].b ? p[i].a : p[i].b);
        sqlite3_bind_int64(st, 3, p[i].a < p[i].b ? p[i].b : p[i].a);
        sqlite3_bind_double(st, 4, p[i].similarity);
        if (store_run(s, st, cause, "write pairs") != 0)
            return -1;
    }
    return 0;
}

int
store_run_pairs_put(struct store *s, int64_t run_id, const struct store_pair *p,
                    size_t n, char **cause)
{
    int own;
    if (store_wbegin(s, &own, cause) != 0)
        return -1;
    return store_wend(s, own, pairs_put(s, run_id, p, n, cause), cause);
}

int
store_run_pairs_get(struct store *s, int64_t run_id, struct store_pair **out,
                    size_t *n_out, char **cause)
{
    sqlite3_stmt *st;
    *out = NULL;
    *n_out = 0;
    if (pairs_stmt(s, PS_READ, &st, cause) != 0)
        return -1;
    sqlite3_bind_int64(st, 1, run_id);
    struct store_pair *v = NULL;
    size_t n = 0, cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        wn_grow(&v, sizeof *v, &cap, n + 1);
        v[n].a = sqlite3_column_int64(st, 0);
        v[n].b = sqlite3_column_int64(st, 1);
        v[n].similarity = sqlite3_column_double(st, 2);
        n++;
    }
    store_done(st);
    if (rc != SQLITE_DONE) {
        free(v);
        return store_fail(s, rc, cause, "read pairs");
    }
    *out = v;
    *n_out = n;
    return 0;
}
