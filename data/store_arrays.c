/* data/store_arrays.c: a run's probabilities and features, kept whole.
 *
 * A matrix is cut into chunks of whole rows of about STORE_CHUNK_BYTES
 * each, one row of run_arrays apiece: SQLite refuses any value over 1 GB
 * and a reader then needs only a few MB more than the floats it returns.
 * The bytes are little-endian whatever the host, so a file moves between
 * machines and `dtype` reads as numpy's ('<f4', '<f2'). */
#include "config.h"

#include "data/store.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "data/store_internal.h"

#define STORE_CHUNK_BYTES ((size_t)4 << 20)
/* The largest finite float16. */
#define STORE_HALF_MAX    65504.0f

enum array_stmt { AS_DELETE, AS_INSERT, AS_READ, AS_LATEST, AS_SIZE, AS_COUNT };

static const char *const array_sql[AS_COUNT] = {
    [AS_DELETE] = "DELETE FROM run_arrays WHERE run_id = ?1 AND name = ?2",
    [AS_INSERT] = "INSERT INTO run_arrays (run_id, name, first_row, rows, "
                  "cols, dtype, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [AS_READ] = "SELECT first_row, rows, cols, dtype, data FROM run_arrays "
                "WHERE run_id = ?1 AND name = ?2 ORDER BY first_row",
    [AS_LATEST] = "SELECT r.id FROM runs r WHERE r.status = 'done' AND "
                  "EXISTS (SELECT 1 FROM run_arrays a WHERE a.run_id = r.id "
                  "AND a.name = ?1) ORDER BY r.id DESC LIMIT 1",
    [AS_SIZE] = "SELECT coalesce(sum(rows), 0), coalesce(max(cols), 0) "
                "FROM run_arrays WHERE run_id = ?1 AND name = ?2",
};

static const char *const array_names[] = {
    [STORE_ARRAY_PROBS] = "probs",
    [STORE_ARRAY_FEATURES] = "features",
};

const char *
store_array_name(enum store_array which)
{
    if ((unsigned)which >= WN_ARRAY_LEN(array_names))
        return "?";
    return array_names[which];
}

/* float to IEEE half, rounding to nearest even; the caller keeps values
 * within range, so only NaN and infinities map to the top exponent. */
static uint16_t
half_from_float(float f)
{
    uint32_t x;
    memcpy(&x, &f, sizeof x);
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000u);
    uint32_t ax = x & 0x7fffffffu;
    if (ax >= 0x7f800000u)
        return (uint16_t)(sign | 0x7c00u | (ax > 0x7f800000u ? 0x200u : 0));
    if (ax >= 0x477ff000u) /* rounds past 65504 */
        return (uint16_t)(sign | 0x7c00u);
    if (ax < 0x38800000u) { /* below 2^-14: a subnormal half, or zero */
        float a;
        memcpy(&a, &ax, sizeof a);
        return (uint16_t)(sign | (uint16_t)lrintf(a * 16777216.0f));
    }
    /* Rebias the exponent (127 to 15) and round the 13 bits dropped: adding
     * 0xfff plus the lowest kept bit rounds half to even, and a carry out
     * of the mantissa lands in the exponent as it should. */
    uint32_t odd = (ax >> 13) & 1u;
    ax += 0xc8000fffu + odd;
    return (uint16_t)(sign | (uint16_t)(ax >> 13));
}

static float
half_to_float(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t e = (h >> 10) & 0x1fu, m = h & 0x3ffu;
    uint32_t x;
    if (e == 0) {
        float v = ldexpf((float)m, -24);
        return sign ? -v : v;
    }
    if (e == 31)
        x = sign | 0x7f800000u | (m << 13);
    else
        x = sign | ((e + 112u) << 23) | (m << 13);
    float f;
    memcpy(&f, &x, sizeof f);
    return f;
}

static void
put_le32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

/* Encode n floats at esize bytes each (4: float32, 2: float16). */
static void
encode(const float *v, size_t n, size_t esize, unsigned char *out)
{
    for (size_t i = 0; i < n; i++) {
        if (esize == 2) {
            uint16_t h = half_from_float(v[i]);
            out[2 * i] = (unsigned char)h;
            out[2 * i + 1] = (unsigned char)(h >> 8);
        } else {
            uint32_t x;
            memcpy(&x, &v[i], sizeof x);
            put_le32(out + 4 * i, x);
        }
    }
}

static void
decode(const unsigned char *p, size_t n, size_t esize, float *out)
{
    for (size_t i = 0; i < n; i++) {
        if (esize == 2) {
            out[i] = half_to_float(
                (uint16_t)(p[2 * i] | (unsigned)p[2 * i + 1] << 8));
        } else {
            const unsigned char *q = p + 4 * i;
            uint32_t x = (uint32_t)q[0] | (uint32_t)q[1] << 8 |
                         (uint32_t)q[2] << 16 | (uint32_t)q[3] << 24;
            memcpy(&out[i], &x, sizeof x);
        }
    }
}

/* Features go to float16 when every value fits; probabilities never. */
static size_t
choose_esize(enum store_array which, const float *v, size_t n)
{
    if (which == STORE_ARRAY_PROBS)
        return 4;
    for (size_t i = 0; i < n; i++)
        if (!(fabsf(v[i]) <= STORE_HALF_MAX))
            return 4;
    return 2;
}

static int
array_put_rows(struct store *s, int64_t run_id, enum store_array which,
               const float *data, int64_t rows, int cols, char **cause)
{
    sqlite3_stmt *st;
    const char *name = store_array_name(which);
    if (store_stmt_get(s, &array_sql[AS_DELETE], &st, cause) != 0)
        return -1;
    sqlite3_bind_int64(st, 1, run_id);
    if (store_bind_text(s, st, 2, name, cause) != 0 ||
        store_run(s, st, cause, "replace run matrix") != 0)
        return -1;
    size_t total = (size_t)rows * (size_t)cols;
    size_t esize = choose_esize(which, data, total);
    size_t row_bytes = (size_t)cols * esize;
    int64_t chunk = (int64_t)(STORE_CHUNK_BYTES / row_bytes);
    if (chunk < 1)
        chunk = 1;
    unsigned char *buf = xmalloc((size_t)chunk * row_bytes);
    int rc = store_stmt_get(s, &array_sql[AS_INSERT], &st, cause);
    for (int64_t r0 = 0; rc == 0 && r0 < rows; r0 += chunk) {
        int64_t nr = rows - r0 < chunk ? rows - r0 : chunk;
        encode(data + (size_t)r0 * (size_t)cols, (size_t)nr * (size_t)cols,
               esize, buf);
        sqlite3_bind_int64(st, 1, run_id);
        sqlite3_bind_int64(st, 3, r0);
        sqlite3_bind_int64(st, 4, nr);
        sqlite3_bind_int(st, 5, cols);
        rc = store_bind_text(s, st, 2, name, cause);
        if (rc == 0)
            rc = store_bind_text(s, st, 6, esize == 2 ? "<f2" : "<f4", cause);
        if (rc == 0)
            rc = store_bind_blob(s, st, 7, buf, (size_t)nr * row_bytes, cause);
        if (rc == 0)
            rc = store_run(s, st, cause, "write run matrix");
    }
    free(buf);
    return rc;
}

int
store_run_array_put(struct store *s, int64_t run_id, enum store_array which,
                    const float *data, int64_t rows, int cols, char **cause)
{
    if ((unsigned)which >= WN_ARRAY_LEN(array_names) || rows < 0 || cols < 1)
        return wn_fail(cause, "bad run matrix (%lld x %d)", (long long)rows,
                       cols);
    int own;
    if (store_wbegin(s, &own, cause) != 0)
        return -1;
    return store_wend(s, own,
                      array_put_rows(s, run_id, which, data, rows, cols, cause),
                      cause);
}

static int
array_corrupt(int64_t run_id, const char *name, char **cause)
{
    return wn_fail(cause,
                   "project file is corrupt: the %s of run %lld do not "
                   "fit together",
                   name, (long long)run_id);
}

/* A file of schema 1 opened read-only was not migrated: no run there kept
 * its matrices. */
static int
array_table_missing(const struct store *s)
{
    return s->readonly && s->opened_version > 0 && s->opened_version < 3;
}

static int
array_read(struct store *s, int64_t run_id, enum store_array which,
           float **data_out, int64_t *rows_out, int *cols_out, char **cause)
{
    sqlite3_stmt *st;
    const char *name = store_array_name(which);
    /* The size first, so the floats are allocated once: a matrix may be
     * most of the memory there is. */
    if (store_stmt_get(s, &array_sql[AS_SIZE], &st, cause) != 0)
        return -1;
    sqlite3_bind_int64(st, 1, run_id);
    if (store_bind_text(s, st, 2, name, cause) != 0)
        return -1;
    int found = store_row(s, st, cause, "read run matrix");
    if (found < 0)
        return -1;
    int64_t total_rows = found ? sqlite3_column_int64(st, 0) : 0;
    int64_t max_cols = found ? sqlite3_column_int64(st, 1) : 0;
    if (found)
        store_done(st);
    if (total_rows == 0)
        return 0;
    size_t cap;
    if (total_rows > STORE_MAX_SAMPLES || max_cols > INT32_MAX ||
        wn_mul_size((size_t)total_rows, (size_t)max_cols, &cap) != 0)
        return array_corrupt(run_id, name, cause);
    float *data = xmalloc(cap * sizeof *data);
    if (store_stmt_get(s, &array_sql[AS_READ], &st, cause) != 0 ||
        store_bind_text(s, st, 2, name, cause) != 0) {
        free(data);
        return -1;
    }
    sqlite3_bind_int64(st, 1, run_id);
    int64_t rows = 0;
    int cols = 0, r = 0, rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t first = sqlite3_column_int64(st, 0);
        int64_t nr = sqlite3_column_int64(st, 1);
        int nc = sqlite3_column_int(st, 2);
        const char *dtype = (const char *)sqlite3_column_text(st, 3);
        size_t esize = dtype && strcmp(dtype, "<f2") == 0   ? 2
                       : dtype && strcmp(dtype, "<f4") == 0 ? 4
                                                            : 0;
        const void *blob = sqlite3_column_blob(st, 4);
        size_t len = (size_t)sqlite3_column_bytes(st, 4);
        if (cols == 0)
            cols = nc;
        if (esize == 0 || first != rows || nr < 1 || nc < 1 || nc != cols ||
            nr > total_rows - rows || len != (size_t)nr * (size_t)nc * esize) {
            r = array_corrupt(run_id, name, cause);
            break;
        }
        decode(blob, (size_t)nr * (size_t)nc, esize,
               data + (size_t)rows * (size_t)cols);
        rows += nr;
    }
    if (r == 0 && rc != SQLITE_DONE && rc != SQLITE_ROW)
        r = store_fail(s, rc, cause, "read run matrix");
    if (r == 0 && rows != total_rows)
        r = array_corrupt(run_id, name, cause);
    store_done(st);
    if (r != 0) {
        free(data);
        return -1;
    }
    *data_out = data;
    *rows_out = rows;
    *cols_out = cols;
    return 0;
}

int
store_run_array_get(struct store *s, int64_t run_id, enum store_array which,
                    float **data_out, int64_t *rows_out, int *cols_out,
                    char **cause)
{
    *data_out = NULL;
    *rows_out = 0;
    *cols_out = 0;
    if ((unsigned)which >= WN_ARRAY_LEN(array_names))
        return wn_fail(cause, "no such run matrix");
    if (array_table_missing(s))
        return 0;
    int own;
    if (store_rbegin(s, &own, cause) != 0)
        return -1;
    return store_rend(
        s, own,
        array_read(s, run_id, which, data_out, rows_out, cols_out, cause),
        cause);
}

int
store_run_array_latest(struct store *s, enum store_array which,
                       int64_t *run_id_out, char **cause)
{
    *run_id_out = 0;
    if ((unsigned)which >= WN_ARRAY_LEN(array_names))
        return wn_fail(cause, "no such run matrix");
    if (array_table_missing(s))
        return 0;
    sqlite3_stmt *st;
    if (store_stmt_get(s, &array_sql[AS_LATEST], &st, cause) != 0 ||
        store_bind_text(s, st, 1, store_array_name(which), cause) != 0)
        return -1;
    return store_row_int64(s, st, "find run matrix", *run_id_out, run_id_out,
                           cause);
}
