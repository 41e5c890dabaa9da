/* data/store_samples.c: classes, sources, imports and samples in the
 * project file, and the walk over every sample that scoring reads.
 *
 * Pixels are kept zlib-compressed at level 1: fast to write, and small for
 * the flat backgrounds of digit datasets. */
#include "config.h"

#include "data/store.h"

#include <math.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "data/image.h"
#include "data/store_internal.h"

enum sample_stmt {
    SS_CLASS_COUNT,
    SS_CLASS_FIND,
    SS_CLASS_INSERT,
    SS_CLASS_NAMES,
    SS_SOURCE_FIND,
    SS_SOURCE_INSERT,
    SS_IMPORT_INSERT,
    SS_SAMPLE_EXISTS,
    SS_SAMPLE_COUNT,
    SS_SAMPLE_FIND_HASH,
    SS_SAMPLE_INSERT,
    SS_SAMPLE_WALK,
    SS_COUNT
};

static const char *const sample_sql[SS_COUNT] = {
    [SS_CLASS_COUNT] = "SELECT count(*) FROM classes",
    [SS_CLASS_FIND] = "SELECT id FROM classes WHERE name = ?1",
    [SS_CLASS_INSERT] = "INSERT INTO classes (id, name) VALUES (?1, ?2)",
    [SS_CLASS_NAMES] = "SELECT id, name FROM classes ORDER BY id",
    [SS_SOURCE_FIND] = "SELECT id FROM sources WHERE kind = ?1 AND "
                       "location = ?2",
    [SS_SOURCE_INSERT] = "INSERT INTO sources (kind, location, created) "
                         "VALUES (?1, ?2, ?3)",
    [SS_IMPORT_INSERT] = "INSERT INTO imports (source_id, time, imported, "
                         "existing, skipped, duplicates) "
                         "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [SS_SAMPLE_EXISTS] = "SELECT 1 FROM samples WHERE source_id = ?1 AND "
                         "path = ?2",
    [SS_SAMPLE_COUNT] = "SELECT count(*) FROM samples",
    [SS_SAMPLE_FIND_HASH] = "SELECT id FROM samples WHERE hash = ?1 "
                            "ORDER BY id LIMIT 1",
    [SS_SAMPLE_INSERT] =
        "INSERT INTO samples (source_id, path, hash, width, height, "
        "channels, stored_width, stored_height, pixels, given_label, "
        "phash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    [SS_SAMPLE_WALK] =
        "SELECT s.id, s.path, s.width, s.height, s.channels, "
        "s.stored_width, s.stored_height, s.pixels, s.given_label, "
        "coalesce(c.label, s.given_label), "
        /* An undo is a person's event but not a decision: the label it
         * restores is trusted only as much as it was before. */
        "c.source = 'human' AND c.undoes IS NULL "
        "FROM samples s LEFT JOIN (" STORE_CURRENT_SQL ") c "
        "ON c.sample_id = s.id ORDER BY s.id",
};

static int
sample_stmt(struct store *s, enum sample_stmt id, sqlite3_stmt **out,
            char **cause)
{
    return store_stmt_get(s, &sample_sql[id], out, cause);
}

/* ---- classes ---- */

int
store_class_count(struct store *s, int *n_out, char **cause)
{
    int64_t n;
    if (store_int64(s, &sample_sql[SS_CLASS_COUNT], &n, cause) != 0)
        return -1;
    *n_out = (int)n;
    return 0;
}

int
store_class_find(struct store *s, const char *name, int *id_out, char **cause)
{
    sqlite3_stmt *st = NULL;
    if (sample_stmt(s, SS_CLASS_FIND, &st, cause) != 0 ||
        store_bind_text(s, st, 1, name, cause) != 0)
        return -1;
    int64_t id;
    if (store_row_int64(s, st, "find class", -1, &id, cause) != 0)
        return -1;
    *id_out = (int)id;
    return 0;
}

static int
store_class_insert(struct store *s, const char *name, int *id_out, char **cause)
{
    int id, n;
    sqlite3_stmt *st = NULL;
    if (store_class_find(s, name, &id, cause) != 0)
        return -1;
    if (id >= 0) {
        *id_out = id;
        return 0;
    }
    /* Dense ids: the new class takes the next one; the write lock we hold
     * keeps another writer from taking it too. */
    if (store_class_count(s, &n, cause) != 0 ||
        store_check_limits((int64_t)n + 1, 0, cause) != 0 ||
        sample_stmt(s, SS_CLASS_INSERT, &st, cause) != 0)
        return -1;
    sqlite3_bind_int(st, 1, n);
    if (store_bind_text(s, st, 2, name, cause) != 0 ||
        store_run(s, st, cause, "add class") != 0)
        return -1;
    *id_out = n;
    return 0;
}

int
store_class_ensure(struct store *s, const char *name, int *id_out, char **cause)
{
    int own;
    if (name == NULL || *name == '\0')
        return wn_fail(cause, "empty class name");
    /* Most calls find the class: do that without taking the write lock. */
    if (s->txn == STORE_TXN_NONE) {
        if (store_class_find(s, name, id_out, cause) != 0)
            return -1;
        if (*id_out >= 0)
            return 0;
    }
    if (store_wbegin(s, &own, cause) != 0)
        return -1;
    return store_wend(s, own, store_class_insert(s, name, id_out, cause),
                      cause);
}

int
store_class_names(struct store *s, char ***names_out, int *n_out, char **cause)
{
    sqlite3_stmt *st = NULL;
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc;

    if (sample_stmt(s, SS_CLASS_NAMES, &st, cause) != 0)
        return -1;
    wn_grow(&names, sizeof *names, &cap, 1);
    names[0] = NULL;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (sqlite3_column_int64(st, 0) != (int64_t)n) {
            store_done(st);
            store_names_free(names);
            return wn_fail(cause, "project file is corrupt: class ids are "
                                  "not dense");
        }
        wn_grow(&names, sizeof *names, &cap, n + 2);
        const char *name = (const char *)sqlite3_column_text(st, 1);
        names[n++] = xstrdup(name != NULL ? name : "");
        names[n] = NULL;
    }
    if (rc != SQLITE_DONE) {
        store_fail(s, rc, cause, "class names");
        store_done(st);
        store_names_free(names);
        return -1;
    }
    store_done(st);
    *names_out = names;
    *n_out = (int)n;
    return 0;
}

void
store_names_free(char **names)
{
    if (names == NULL)
        return;
    for (char **p = names; *p != NULL; p++)
        free(*p);
    free(names);
}

/* ---- sources ---- */

const char *
store_source_kind_name(enum store_source_kind k)
{
    switch (k) {
    case STORE_SOURCE_FOLDER: return "folder";
    case STORE_SOURCE_CSV: return "csv";
    case STORE_SOURCE_IDX: return "idx";
    }
    return "?";
}

static int
store_source_find(struct store *s, const char *kind, const char *location,
                  int64_t *id_out, char **cause)
{
    sqlite3_stmt *st = NULL;
    if (sample_stmt(s, SS_SOURCE_FIND, &st, cause) != 0 ||
        store_bind_text(s, st, 1, kind, cause) != 0 ||
        store_bind_text(s, st, 2, location, cause) != 0)
        return -1;
    return store_row_int64(s, st, "find source", 0, id_out, cause);
}

static int
store_source_insert(struct store *s, const char *kind, const char *location,
                    int64_t *id_out, char **cause)
{
    sqlite3_stmt *st = NULL;
    if (store_source_find(s, kind, location, id_out, cause) != 0)
        return -1;
    if (*id_out != 0)
        return 0;
    if (sample_stmt(s, SS_SOURCE_INSERT, &st, cause) != 0 ||
        store_bind_text(s, st, 1, kind, cause) != 0 ||
        store_bind_text(s, st, 2, location, cause) != 0)
        return -1;
    sqlite3_bind_int64(st, 3, wn_time_ms());
    if (store_run(s, st, cause, "add source") != 0)
        return -1;
    *id_out = sqlite3_last_insert_rowid(s->db);
    return 0;
}

int
store_source_ensure(struct store *s, enum store_source_kind kind,
                    const char *location, int64_t *id_out, char **cause)
{
    const char *k = store_source_kind_name(kind);
    int own;
    if (location == NULL)
        return wn_fail(cause, "source without a location");
    if (s->txn == STORE_TXN_NONE) {
        if (store_source_find(s, k, location, id_out, cause) != 0)
            return -1;
        if (*id_out != 0)
            return 0;
    }
    if (store_wbegin(s, &own, cause) != 0)
        return -1;
    return store_wend(
        s, own, store_source_insert(s, k, location, id_out, cause), cause);
}

static int
store_import_insert(struct store *s, int64_t source_id,
                    const struct store_import_stats *stats, char **cause)
{
    sqlite3_stmt *st = NULL;
    if (sample_stmt(s, SS_IMPORT_INSERT, &st, cause) != 0)
        return -1;
    sqlite3_bind_int64(st, 1, source_id);
    sqlite3_bind_int64(st, 2, wn_time_ms());
    sqlite3_bind_int64(st, 3, stats->imported);
    sqlite3_bind_int64(st, 4, stats->existing);
    sqlite3_bind_int64(st, 5, stats->skipped);
    sqlite3_bind_int64(st, 6, stats->duplicates);
    return store_run(s, st, cause, "record import");
}

int
store_import_record(struct store *s, int64_t source_id,
                    const struct store_import_stats *stats, char **cause)
{
    int own;
    if (store_wbegin(s, &own, cause) != 0)
        return -1;
    return store_wend(s, own, store_import_insert(s, source_id, stats, cause),
                      cause);
}

/* ---- samples ---- */

int
store_sample_exists(struct store *s, int64_t source_id, const char *path,
                    int *exists_out, char **cause)
{
    sqlite3_stmt *st = NULL;
    if (sample_stmt(s, SS_SAMPLE_EXISTS, &st, cause) != 0)
        return -1;
    sqlite3_bind_int64(st, 1, source_id);
    if (store_bind_text(s, st, 2, path, cause) != 0)
        return -1;
    int r = store_row(s, st, cause, "find sample");
    if (r < 0)
        return -1;
    if (r)
        store_done(st);
    *exists_out = r;
    return 0;
}

int
store_sample_count(struct store *s, int64_t *n_out, char **cause)
{
    return store_int64(s, &sample_sql[SS_SAMPLE_COUNT], n_out, cause);
}

int
store_sample_find_hash(struct store *s, const unsigned char *hash,
                       int64_t *id_out, char **cause)
{
    sqlite3_stmt *st = NULL;
    if (sample_stmt(s, SS_SAMPLE_FIND_HASH, &st, cause) != 0 ||
        store_bind_blob(s, st, 1, hash, SHA256_LEN, cause) != 0)
        return -1;
    int r = store_row(s, st, cause, "find hash");
    if (r < 0)
        return -1;
    *id_out = r ? sqlite3_column_int64(st, 0) : 0;
    if (r)
        store_done(st);
    return 0;
}

/* Bytes of a stored copy, checked; -1 for sizes no image can have. */
static int
store_pixel_bytes(int w, int h, int c, size_t *out)
{
    size_t n;
    if (w <= 0 || h <= 0 || (c != 1 && c != 3) || w > IMAGE_MAX_SIDE ||
        h > IMAGE_MAX_SIDE)
        return -1;
    if (wn_mul_size((size_t)w, (size_t)h, &n) != 0 ||
        wn_mul_size(n, (size_t)c, out) != 0 || *out > (size_t)UINT32_MAX)
        return -1;
    return 0;
}

/* Compress raw bytes of pixels into s->zbuf as one zlib stream. Level 1
 * and a small hash table (memLevel 5: deflateReset clears it every time)
 * keep this well below the cost of the inserts. */
static int
store_pack(struct store *s, const uint8_t *pixels, size_t raw, size_t *zlen_out,
           char **cause)
{
    if (!s->def_ready) {
        memset(&s->def, 0, sizeof s->def);
        int zr =
            deflateInit2(&s->def, 1, Z_DEFLATED, 15, 5, Z_DEFAULT_STRATEGY);
        if (zr == Z_MEM_ERROR)
            xalloc_die();
        if (zr != Z_OK)
            return wn_fail(cause, "cannot set up compression");
        s->def_ready = 1;
    } else if (deflateReset(&s->def) != Z_OK) {
        return wn_fail(cause, "cannot reset compression");
    }
    size_t need = (size_t)deflateBound(&s->def, (uLong)raw);
    if (need > s->zcap) {
        free(s->zbuf);
        s->zbuf = malloc(need);
        s->zcap = s->zbuf != NULL ? need : 0;
        if (s->zbuf == NULL)
            return wn_fail(cause, "out of memory for %zu bytes", need);
    }
    s->def.next_in = pixels;
    s->def.avail_in = (uInt)raw;
    s->def.next_out = s->zbuf;
    s->def.avail_out = (uInt)s->zcap;
    if (deflate(&s->def, Z_FINISH) != Z_STREAM_END)
        return wn_fail(cause, "cannot compress pixels");
    *zlen_out = (size_t)s->def.total_out;
    return 0;
}

static int
store_sample_insert(struct store *s, const struct store_sample_new *in,
                    size_t raw, int64_t *id_out, char **cause)
{
    sqlite3_stmt *st = NULL;
    size_t zlen = 0;

    if (store_pack(s, in->stored->pixels, raw, &zlen, cause) != 0)
        return -1;

    if (sample_stmt(s, SS_SAMPLE_INSERT, &st, cause) != 0)
        return -1;
    sqlite3_bind_int64(st, 1, in->source_id);
    if (store_bind_text(s, st, 2, in->path, cause) != 0 ||
        store_bind_blob(s, st, 3, in->hash, SHA256_LEN, cause) != 0)
        return -1;
    sqlite3_bind_int(st, 4, in->width);
    sqlite3_bind_int(st, 5, in->height);
    sqlite3_bind_int(st, 6, in->channels);
    sqlite3_bind_int(st, 7, in->stored->width);
    sqlite3_bind_int(st, 8, in->stored->height);
    if (store_bind_blob(s, st, 9, s->zbuf, zlen, cause) != 0)
        return -1;
    sqlite3_bind_int(st, 10, in->label);
    if (in->has_phash) /* unsigned bits in SQLite's signed integer */
        sqlite3_bind_int64(st, 11, (sqlite3_int64)in->phash);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_DONE) {
        if (rc == SQLITE_CONSTRAINT_UNIQUE)
            wn_fail(cause, "%s: already in the project", in->path);
        else if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
            wn_fail(cause, "%s: no such source or class", in->path);
        else
            store_fail(s, rc, cause, in->path);
        store_done(st);
        return -1;
    }
    store_done(st);
    *id_out = sqlite3_last_insert_rowid(s->db);
    return store_event_insert(s, *id_out, -1, in->label, STORE_LABEL_IMPORT, 0,
                              NAN, NULL, 0, NULL, cause);
}

int
store_sample_add(struct store *s, const struct store_sample_new *in,
                 int64_t *id_out, char **cause)
{
    size_t raw;
    int own;
    const struct image *im = in->stored;

    if (in->path == NULL || in->hash == NULL || im == NULL ||
        im->pixels == NULL)
        return wn_fail(cause, "incomplete sample");
    if (store_pixel_bytes(im->width, im->height, im->channels, &raw) != 0 ||
        im->channels != in->channels || in->width <= 0 || in->height <= 0)
        return wn_fail(cause, "%s: bad stored size %dx%dx%d", in->path,
                       im->width, im->height, im->channels);
    if (store_wbegin(s, &own, cause) != 0)
        return -1;
    return store_wend(s, own, store_sample_insert(s, in, raw, id_out, cause),
                      cause);
}

/* Decompress one row's pixels into s->pix, checking that they are exactly
 * the size the row claims. */
static int
store_unpack(struct store *s, int64_t id, int w, int h, int c, const void *blob,
             int blob_len, char **cause)
{
    size_t raw;
    if (blob == NULL || blob_len <= 0 || store_pixel_bytes(w, h, c, &raw) != 0)
        return wn_fail(cause, "sample %lld: corrupt pixel data", (long long)id);
    if (raw > s->pixcap) {
        free(s->pix);
        s->pix = malloc(raw);
        s->pixcap = s->pix != NULL ? raw : 0;
        if (s->pix == NULL)
            return wn_fail(cause, "sample %lld: out of memory for %zu bytes",
                           (long long)id, raw);
    }
    int zr;
    if (!s->inf_ready) {
        memset(&s->inf, 0, sizeof s->inf);
        zr = inflateInit(&s->inf);
        if (zr == Z_MEM_ERROR)
            xalloc_die();
        if (zr != Z_OK)
            return wn_fail(cause, "cannot set up decompression");
        s->inf_ready = 1;
    } else if (inflateReset(&s->inf) != Z_OK) {
        return wn_fail(cause, "cannot reset decompression");
    }
    s->inf.next_in = blob;
    s->inf.avail_in = (uInt)blob_len;
    s->inf.next_out = s->pix;
    s->inf.avail_out = (uInt)raw;
    /* Exactly raw bytes and the end of the stream, or it is not ours. */
    zr = inflate(&s->inf, Z_FINISH);
    if (zr == Z_MEM_ERROR)
        xalloc_die();
    if (zr != Z_STREAM_END || s->inf.total_out != raw)
        return wn_fail(cause, "sample %lld: corrupt pixel data", (long long)id);
    return 0;
}

int
store_foreach_sample(struct store *s, store_sample_fn fn, void *ctx,
                     char **cause)
{
    sqlite3_stmt *st = NULL;
    int rc, r = 0;

    /* One statement serves the walk: a nested walk would reset it. */
    if (s->walking)
        return wn_fail(cause, "sample walks do not nest");
    if (sample_stmt(s, SS_SAMPLE_WALK, &st, cause) != 0)
        return -1;
    s->walking = 1;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_sample smp;
        smp.id = sqlite3_column_int64(st, 0);
        smp.path = (const char *)sqlite3_column_text(st, 1);
        smp.width = sqlite3_column_int(st, 2);
        smp.height = sqlite3_column_int(st, 3);
        smp.channels = sqlite3_column_int(st, 4);
        smp.stored_width = sqlite3_column_int(st, 5);
        smp.stored_height = sqlite3_column_int(st, 6);
        const void *blob = sqlite3_column_blob(st, 7);
        int blob_len = sqlite3_column_bytes(st, 7);
        smp.given_label = sqlite3_column_int(st, 8);
        smp.label = sqlite3_column_int(st, 9);
        smp.human = sqlite3_column_int(st, 10);
        if (smp.path == NULL)
            smp.path = "";
        if (store_unpack(s, smp.id, smp.stored_width, smp.stored_height,
                         smp.channels, blob, blob_len, cause) != 0) {
            r = -1;
            break;
        }
        smp.pixels = s->pix;
        r = fn(ctx, &smp, cause);
        if (r != 0)
            break;
    }
    if (r == 0 && rc != SQLITE_DONE)
        r = store_fail(s, rc, cause, "read samples");
    store_done(st);
    s->walking = 0;
    return r;
}
