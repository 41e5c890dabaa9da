/* data/store_phash.c: the perceptual hashes of samples in the project
 * file, and what near-duplicate grouping reads.
 *
 * Import keeps each sample's hash beside its pixels (samples.phash, a
 * 64-bit pattern in SQLite's signed integer). A project made before the
 * column existed has NULL there; the hashes are computed from the stored
 * pixels, which is also what import hashes, so a hash is the same however
 * it came to be. */
#include "config.h"

#include "data/store.h"

#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "data/phash.h"
#include "data/store_internal.h"

/* How many hashes between two progress reports. */
#define STORE_PHASH_REPORT 1000

enum phash_stmt { PH_ROWS, PH_MISSING, PH_SET, PH_COUNT };

static const char *const phash_sql[PH_COUNT] = {
    /* The exact twin is found by the samples_hash index, one seek a
     * row. */
    [PH_ROWS] = "SELECT s.id, s.path, coalesce(c.label, s.given_label), "
                "s.phash, (SELECT min(t.id) FROM samples t "
                "WHERE t.hash = s.hash) "
                "FROM samples s LEFT JOIN (" STORE_CURRENT_SQL ") c "
                "ON c.sample_id = s.id ORDER BY s.id",
    [PH_MISSING] = "SELECT id FROM samples WHERE phash IS NULL ORDER BY id",
    [PH_SET] = "UPDATE samples SET phash = ?2 WHERE id = ?1",
};

static int
phash_stmt(struct store *s, enum phash_stmt id, sqlite3_stmt **out,
           char **cause)
{
    return store_stmt_get(s, &phash_sql[id], out, cause);
}

int
store_dup_rows(struct store *s, struct store_dup_row **out, size_t *n_out,
               char **cause)
{
    sqlite3_stmt *st;
    struct store_dup_row *v = NULL;
    size_t n = 0, cap = 0;
    int own, rc;
    *out = NULL;
    *n_out = 0;
    if (store_rbegin(s, &own, cause) != 0)
        return -1;
    if (phash_stmt(s, PH_ROWS, &st, cause) != 0)
        return store_rend(s, own, -1, cause);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        wn_grow(&v, sizeof *v, &cap, n + 1);
        struct store_dup_row *r = &v[n++];
        const char *path = (const char *)sqlite3_column_text(st, 1);
        r->id = sqlite3_column_int64(st, 0);
        r->path = xstrdup(path != NULL ? path : "");
        r->label = sqlite3_column_int(st, 2);
        r->has_phash = sqlite3_column_type(st, 3) != SQLITE_NULL;
        r->phash = (uint64_t)sqlite3_column_int64(st, 3);
        r->exact_id = sqlite3_column_int64(st, 4);
    }
    int r = 0;
    if (rc != SQLITE_DONE)
        r = store_fail(s, rc, cause, "read samples");
    store_done(st);
    if (store_rend(s, own, r, cause) != 0) {
        store_dup_rows_free(v, n);
        return -1;
    }
    *out = v;
    *n_out = n;
    return 0;
}

void
store_dup_rows_free(struct store_dup_row *rows, size_t n)
{
    if (rows == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        free(rows[i].path);
    free(rows);
}

int
store_phash_compute(struct store *s, int64_t sample_id, uint64_t *out,
                    char **cause)
{
    struct store_pixels px;
    if (store_sample_pixels(s, sample_id, &px, cause) != 0)
        return -1;
    *out =
        phash_pixels(px.pixels, px.stored_width, px.stored_height, px.channels);
    store_pixels_fini(&px);
    return 0;
}

/* The ids of samples without a hash (malloc'd). */
static int
phash_missing(struct store *s, int64_t **ids_out, size_t *n_out, char **cause)
{
    sqlite3_stmt *st;
    int64_t *ids = NULL;
    size_t n = 0, cap = 0;
    int rc;
    if (phash_stmt(s, PH_MISSING, &st, cause) != 0)
        return -1;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        wn_grow(&ids, sizeof *ids, &cap, n + 1);
        ids[n++] = sqlite3_column_int64(st, 0);
    }
    store_done(st);
    if (rc != SQLITE_DONE) {
        free(ids);
        return store_fail(s, rc, cause, "read samples");
    }
    *ids_out = ids;
    *n_out = n;
    return 0;
}

static int
phash_fill_ids(struct store *s, const int64_t *ids, size_t n,
               store_progress_fn fn, void *ctx, char **cause)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t h;
        sqlite3_stmt *st;
        if (store_phash_compute(s, ids[i], &h, cause) != 0 ||
            phash_stmt(s, PH_SET, &st, cause) != 0)
            return -1;
        sqlite3_bind_int64(st, 1, ids[i]);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)h);
        if (store_run(s, st, cause, "keep hashes") != 0)
            return -1;
        if (fn != NULL && ((i + 1) % STORE_PHASH_REPORT == 0 || i + 1 == n))
            fn(ctx, (int64_t)(i + 1), (int64_t)n);
    }
    return 0;
}

int
store_phash_fill(struct store *s, store_progress_fn fn, void *ctx,
                 int64_t *n_out, char **cause)
{
    int64_t *ids = NULL;
    size_t n = 0;
    int own;
    if (n_out != NULL)
        *n_out = 0;
    /* Most calls find nothing to do: look before taking the write lock. */
    if (s->txn == STORE_TXN_NONE) {
        if (phash_missing(s, &ids, &n, cause) != 0)
            return -1;
        free(ids);
        ids = NULL;
        if (n == 0)
            return 0;
    }
    if (store_wbegin(s, &own, cause) != 0)
        return -1;
    /* Again under the lock: another winnow may have filled them. */
    int rc = phash_missing(s, &ids, &n, cause);
    if (rc == 0)
        rc = phash_fill_ids(s, ids, n, fn, ctx, cause);
    free(ids);
    if (store_wend(s, own, rc, cause) != 0)
        return -1;
    if (n_out != NULL)
        *n_out = (int64_t)n;
    return 0;
}
