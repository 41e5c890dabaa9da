#include "config.h"

/* tests/unit/t-store.c: the project file. Opening (create, reopen, refusal
 * of foreign and newer files, which must stay byte-for-byte unchanged),
 * classes, sources, samples, the label history, transactions, the sample
 * walk, the summary, two connections contending, and corrupt pixel data.
 * A raw sqlite3 connection checks what the store wrote and plants damage. */

#include <errno.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "data/base.h"
#include "data/image.h"
#include "data/store.h"
#include "tests/fixtures.h"
#include "tests/tap.h"

#define APP_ID 0x574E4E57

static char *tmp;

/* ---- helpers ---- */

static int
file_exists(const char *path)
{
    return access(path, F_OK) == 0;
}

static char *
slurp(const char *path, size_t *len)
{
    unsigned char *buf;
    char *cause = NULL;
    if (wn_read_file(path, 1u << 26, &buf, len, &cause) != 0)
        bail("%s", cause);
    return (char *)buf;
}

/* Sidecar files SQLite would leave if it had touched a file. */
static int
has_sidecars(const char *path)
{
    static const char *const ext[] = {"-wal", "-shm", "-journal"};
    for (size_t i = 0; i < WN_ARRAY_LEN(ext); i++) {
        char *p = xasprintf("%s%s", path, ext[i]);
        int e = file_exists(p);
        free(p);
        if (e)
            return 1;
    }
    return 0;
}

static sqlite3 *
raw_open(const char *path)
{
    sqlite3 *db;
    if (sqlite3_open(path, &db) != SQLITE_OK)
        bail("raw open %s: %s", path, sqlite3_errmsg(db));
    return db;
}

static void
raw_exec(sqlite3 *db, const char *sql)
{
    char *err = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
        bail("raw exec %s: %s", sql, err);
}

static int64_t
raw_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    int64_t v = -12345;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        bail("raw prepare %s: %s", sql, sqlite3_errmsg(db));
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_type(st, 0) == SQLITE_NULL
                ? -1
                : sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static char *
raw_text(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    char *v = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        bail("raw prepare %s: %s", sql, sqlite3_errmsg(db));
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
        v = xstrdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return v != NULL ? v : xstrdup("(null)");
}

/* Open must fail with a cause containing want, and leave the file as it
 * was, with no sidecar files. */
static void
refused(const char *path, int flags, const char *want, const char *what)
{
    size_t len0, len1;
    char *before = slurp(path, &len0);
    struct store *s = NULL;
    char *cause = NULL;
    int r = store_open(path, flags, &s, &cause);
    ok(r == -1 && s == NULL, "%s: refused", what);
    ok(cause != NULL && strstr(cause, want) != NULL, "%s: cause '%s'", what,
       cause ? cause : "(none)");
    char *after = slurp(path, &len1);
    ok(len0 == len1 && memcmp(before, after, len0) == 0, "%s: file unchanged",
       what);
    ok(!has_sidecars(path), "%s: no -wal/-shm/-journal left", what);
    free(before);
    free(after);
    free(cause);
    store_close(s);
}

static struct store *
must_open(const char *path, int flags)
{
    struct store *s;
    char *cause = NULL;
    if (store_open(path, flags, &s, &cause) != 0)
        bail("open %s: %s", path, cause);
    return s;
}

static void
fake_hash(unsigned char *h, uint32_t seed)
{
    for (int i = 0; i < SHA256_LEN; i++)
        h[i] = (unsigned char)(seed * 131u + (uint32_t)i * 7u);
}

/* Add a sample whose pixels are fx_pixels(seed) and hash fake_hash(hseed).
 * Returns the id, or -1 with *cause set. */
static int64_t
add(struct store *s, int64_t src, const char *path, int w, int h, int c,
    uint32_t seed, uint32_t hseed, int label, char **cause)
{
    unsigned char hash[SHA256_LEN];
    struct image im = {w, h, c, xmalloc((size_t)w * (size_t)h * (size_t)c)};
    fx_pixels(im.pixels, w, h, c, seed);
    fake_hash(hash, hseed);
    struct store_sample_new in = {
        .source_id = src,
        .path = path,
        .hash = hash,
        .width = w * 2,
        .height = h * 2,
        .channels = c,
        .stored = &im,
        .label = label,
    };
    int64_t id = -1;
    if (store_sample_add(s, &in, &id, cause) != 0)
        id = -1;
    free(im.pixels);
    return id;
}

static int64_t
must_add(struct store *s, int64_t src, const char *path, int w, int h, int c,
         uint32_t seed, uint32_t hseed, int label)
{
    char *cause = NULL;
    int64_t id = add(s, src, path, w, h, c, seed, hseed, label, &cause);
    if (id < 0)
        bail("add %s: %s", path, cause);
    return id;
}

/* ---- opening ---- */

static void
test_create(void)
{
    char *path = fx_path(tmp, "a.db");
    char *cause = NULL;
    struct store *s = NULL;

    ok(store_open(path, 0, &s, &cause) == -1 && s == NULL,
       "missing file without STORE_CREATE fails");
    is_str(cause, "no such file");
    ok(!file_exists(path) && !has_sidecars(path), "and creates nothing");
    free(cause);
    cause = NULL;
    ok(store_open(path, STORE_READONLY | STORE_CREATE, &s, &cause) == -1 &&
           !file_exists(path),
       "read-only never creates");
    free(cause);
    cause = NULL;

    char *deep = fx_path(tmp, "nodir/sub/x.db");
    ok(store_open(deep, STORE_CREATE, &s, &cause) == -1,
       "create in a missing directory fails");
    ok(cause != NULL && strstr(cause, "cannot create") != NULL &&
           strstr(cause, "nodir") != NULL,
       "cause names the directory: %s", cause ? cause : "");
    free(cause);
    cause = NULL;
    free(deep);

    s = must_open(path, STORE_CREATE);
    is_int(store_opened_version(s), ==, 0);
    store_close(s);
    s = must_open(path, 0);
    is_int(store_opened_version(s), ==, STORE_SCHEMA_VERSION);
    store_close(s);
    s = must_open(path, STORE_CREATE); /* existing: just opens */
    is_int(store_opened_version(s), ==, STORE_SCHEMA_VERSION);
    store_close(s);

    sqlite3 *db = raw_open(path);
    is_int(raw_int(db, "PRAGMA user_version"), ==, STORE_SCHEMA_VERSION);
    is_int(raw_int(db, "PRAGMA application_id"), ==, APP_ID);
    char *mode = raw_text(db, "PRAGMA journal_mode");
    is_str(mode, "wal");
    free(mode);
    is_int(raw_int(db, "SELECT count(*) FROM pragma_table_list "
                       "WHERE schema = 'main' AND type = 'table' AND "
                       "name NOT LIKE 'sqlite_%' AND strict = 0"),
           ==, 0);
    is_int(raw_int(db, "SELECT count(*) FROM sqlite_master WHERE type = "
                       "'table' AND name IN ('classes', 'sources', "
                       "'imports', 'samples', 'label_events', 'runs', "
                       "'scores')"),
           ==, 7);
    is_int(raw_int(db, "SELECT count(*) FROM sqlite_master WHERE type = "
                       "'index' AND name IN ('samples_hash', "
                       "'label_events_sample')"),
           ==, 2);
    sqlite3_close(db);
    free(path);
}

static void
test_migrate_v0(void)
{
    /* An empty file is a v0 database. */
    char *path = fx_path(tmp, "empty.db");
    fx_write(path, "", 0);
    struct store *s = NULL;
    char *cause = NULL;
    ok(store_open(path, STORE_READONLY, &s, &cause) == -1,
       "read-only open of an empty file fails");
    is_str(cause, "project file is empty");
    free(cause);
    s = must_open(path, 0);
    is_int(store_opened_version(s), ==, 0);
    int id = -1;
    cause = NULL;
    ok(store_class_ensure(s, "x", &id, &cause) == 0 && id == 0,
       "migrated v0 file is usable");
    store_close(s);
    sqlite3 *db = raw_open(path);
    is_int(raw_int(db, "PRAGMA user_version"), ==, STORE_SCHEMA_VERSION);
    is_int(raw_int(db, "PRAGMA application_id"), ==, APP_ID);
    sqlite3_close(db);
    free(path);

    /* An SQLite file with nothing in it (and no id) is v0 too. */
    path = fx_path(tmp, "bare.db");
    db = raw_open(path);
    raw_exec(db, "CREATE TABLE t (x); DROP TABLE t;");
    sqlite3_close(db);
    s = must_open(path, 0);
    is_int(store_opened_version(s), ==, 0);
    store_close(s);
    db = raw_open(path);
    is_int(raw_int(db, "SELECT count(*) FROM classes"), ==, 0);
    sqlite3_close(db);
    free(path);
}

static void
test_refuse(void)
{
    sqlite3 *db;
    char *path = fx_path(tmp, "foreign.db");
    db = raw_open(path);
    raw_exec(db, "CREATE TABLE people (name TEXT); "
                 "INSERT INTO people VALUES ('ada'), ('grace');");
    sqlite3_close(db);
    refused(path, 0, "not a winnow project file", "foreign sqlite");
    refused(path, STORE_CREATE, "not a winnow project file",
            "foreign sqlite, create");
    refused(path, STORE_READONLY, "not a winnow project file",
            "foreign sqlite, read-only");
    free(path);

    path = fx_path(tmp, "other-app.db");
    db = raw_open(path);
    raw_exec(db, "PRAGMA application_id = 42;");
    sqlite3_close(db);
    refused(path, 0, "not a winnow project file", "other application id");
    free(path);

    path = fx_path(tmp, "foreign-wal.db");
    db = raw_open(path);
    raw_exec(db, "PRAGMA journal_mode = WAL; CREATE TABLE t (x); "
                 "INSERT INTO t VALUES (1);");
    sqlite3_close(db);
    refused(path, 0, "not a winnow project file", "foreign WAL sqlite");
    free(path);

    /* A foreign WAL database whose last commits are still only in its
     * -wal (as after a crash): opening it with SQLite would checkpoint
     * them into the main file. */
    path = fx_path(tmp, "live-wal.db");
    db = raw_open(path);
    raw_exec(db, "PRAGMA journal_mode = WAL; CREATE TABLE t (x); "
                 "INSERT INTO t VALUES (1);");
    sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, (int *)NULL);
    raw_exec(db, "INSERT INTO t VALUES (2);");
    sqlite3_close(db);
    {
        char *walp = xasprintf("%s-wal", path);
        size_t l0, l1, w0, w1;
        char *m0 = slurp(path, &l0), *x0 = slurp(walp, &w0);
        struct store *fs = NULL;
        char *fc = NULL;
        ok(w0 > 0, "live WAL: the -wal holds commits");
        ok(store_open(path, 0, &fs, &fc) == -1 && fs == NULL,
           "live WAL: refused");
        is_str(fc, "not a winnow project file");
        ok(file_exists(walp), "live WAL: -wal still there");
        char *m1 = slurp(path, &l1);
        char *x1 = file_exists(walp) ? slurp(walp, &w1) : xstrdup("");
        if (!file_exists(walp))
            w1 = 0;
        ok(l0 == l1 && memcmp(m0, m1, l0) == 0 && w0 == w1 &&
               memcmp(x0, x1, w0) == 0,
           "live WAL: file and its -wal unchanged");
        free(m0);
        free(m1);
        free(x0);
        free(x1);
        free(fc);
        free(walp);
    }
    free(path);

    path = fx_path(tmp, "notes.txt");
    const char *text = "these are not the pixels you are looking for\n";
    fx_write(path, text, strlen(text));
    refused(path, 0, "not a winnow project file (not an SQLite database)",
            "short text file");
    free(path);

    path = fx_path(tmp, "long.txt");
    char big[5000];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (char)('a' + i % 26);
    fx_write(path, big, sizeof big);
    refused(path, STORE_CREATE,
            "not a winnow project file (not an SQLite database)",
            "long text file");
    free(path);

    /* A project from a newer winnow. */
    path = fx_path(tmp, "newer.db");
    struct store *s = must_open(path, STORE_CREATE);
    store_close(s);
    db = raw_open(path);
    raw_exec(db, "PRAGMA user_version = 99; PRAGMA journal_mode = DELETE;");
    sqlite3_close(db);
    char *want = xasprintf("project file is from a newer winnow (schema 99, "
                           "this build knows %d)",
                           STORE_SCHEMA_VERSION);
    refused(path, 0, want, "newer schema");
    refused(path, STORE_READONLY, want, "newer schema, read-only");
    free(want);
    free(path);
}

/* ---- classes and sources ---- */

static void
test_classes(struct store *s)
{
    char *cause = NULL;
    int id = -7, n = -1;
    ok(store_class_count(s, &n, &cause) == 0 && n == 0, "no classes yet");
    ok(store_class_ensure(s, "cat", &id, &cause) == 0 && id == 0, "cat 0");
    ok(store_class_ensure(s, "dog", &id, &cause) == 0 && id == 1, "dog 1");
    ok(store_class_ensure(s, "cat", &id, &cause) == 0 && id == 0,
       "cat again 0");
    ok(store_class_ensure(s, "emu", &id, &cause) == 0 && id == 2, "emu 2");
    ok(store_class_find(s, "dog", &id, &cause) == 0 && id == 1, "find dog");
    ok(store_class_find(s, "cow", &id, &cause) == 0 && id == -1,
       "find cow: -1");
    ok(store_class_count(s, &n, &cause) == 0 && n == 3, "3 classes");
    ok(store_class_ensure(s, "", &id, &cause) == -1, "empty name refused");
    free(cause);
    cause = NULL;

    char **names = NULL;
    ok(store_class_names(s, &names, &n, &cause) == 0 && n == 3, "class names");
    if (names != NULL) {
        is_str(names[0], "cat");
        is_str(names[1], "dog");
        is_str(names[2], "emu");
        ok(names[3] == NULL, "names NULL-terminated");
    }
    store_names_free(names);
}

static void
test_sources(struct store *s, int64_t *folder, int64_t *csv)
{
    char *cause = NULL;
    int64_t id = 0;
    is_str(store_source_kind_name(STORE_SOURCE_FOLDER), "folder");
    is_str(store_source_kind_name(STORE_SOURCE_CSV), "csv");
    is_str(store_source_kind_name(STORE_SOURCE_IDX), "idx");
    ok(store_source_ensure(s, STORE_SOURCE_FOLDER, "/data/a", folder, &cause) ==
               0 &&
           *folder > 0,
       "folder source");
    ok(store_source_ensure(s, STORE_SOURCE_FOLDER, "/data/a", &id, &cause) ==
               0 &&
           id == *folder,
       "same source again, same id");
    ok(store_source_ensure(s, STORE_SOURCE_CSV, "/data/a", csv, &cause) == 0 &&
           *csv != *folder,
       "other kind, other source");
    free(cause);
}

/* ---- samples and labels ---- */

struct walk {
    int64_t ids[64];
    int labels[64], given[64], human[64];
    int ok_pixels;
    int n;
    int stop_at;
};

static int
walk_fn(void *ctx, const struct store_sample *smp, char **cause)
{
    struct walk *w = ctx;
    if (w->n == w->stop_at)
        return wn_fail(cause, "stopped at %d", w->n);
    if (w->n < 64) {
        w->ids[w->n] = smp->id;
        w->labels[w->n] = smp->label;
        w->given[w->n] = smp->given_label;
        w->human[w->n] = smp->human;
        /* The tests' samples use seed = id + 100. */
        size_t n = (size_t)smp->stored_width * (size_t)smp->stored_height *
                   (size_t)smp->channels;
        uint8_t *want = xmalloc(n);
        fx_pixels(want, smp->stored_width, smp->stored_height, smp->channels,
                  (uint32_t)smp->id + 100u);
        if (memcmp(want, smp->pixels, n) == 0 &&
            smp->width == smp->stored_width * 2 &&
            smp->height == smp->stored_height * 2)
            w->ok_pixels++;
        free(want);
    }
    w->n++;
    return 0;
}

static void
test_samples(struct store *s, int64_t src, int64_t src2)
{
    char *cause = NULL;
    int exists = -1, label = -1;
    int64_t id, hid = -1;

    id = must_add(s, src, "cat/1.png", 28, 28, 1, 101, 1, 0);
    is_int(id, ==, 1);
    ok(store_sample_exists(s, src, "cat/1.png", &exists, &cause) == 0 &&
           exists == 1,
       "exists");
    ok(store_sample_exists(s, src2, "cat/1.png", &exists, &cause) == 0 &&
           exists == 0,
       "not in the other source");
    ok(store_sample_exists(s, src, "cat/2.png", &exists, &cause) == 0 &&
           exists == 0,
       "other path does not exist");
    ok(store_label_current(s, id, &label, &cause) == 0 && label == 0,
       "current label is the given one");

    unsigned char h[SHA256_LEN];
    fake_hash(h, 1);
    ok(store_sample_find_hash(s, h, &hid, &cause) == 0 && hid == id,
       "find by hash");
    fake_hash(h, 999);
    ok(store_sample_find_hash(s, h, &hid, &cause) == 0 && hid == 0,
       "unknown hash: 0");

    /* Same hash, later sample: find_hash keeps the earlier one. */
    int64_t id2 = must_add(s, src, "dog/2.png", 14, 10, 3, 102, 1, 1);
    is_int(id2, ==, 2);
    fake_hash(h, 1);
    ok(store_sample_find_hash(s, h, &hid, &cause) == 0 && hid == id,
       "find_hash gives the earliest");

    ok(add(s, src, "cat/1.png", 28, 28, 1, 1, 5, 0, &cause) == -1,
       "same (source, path) refused");
    ok(cause && strstr(cause, "already in the project"), "cause: %s",
       cause ? cause : "");
    free(cause);
    cause = NULL;
    ok(add(s, src, "bad/label.png", 4, 4, 1, 1, 5, 42, &cause) == -1,
       "label that is no class refused");
    free(cause);
    cause = NULL;
    ok(add(s, 777, "bad/source.png", 4, 4, 1, 1, 5, 0, &cause) == -1,
       "unknown source refused (foreign keys are on)");
    free(cause);
    cause = NULL;
    ok(store_sample_exists(s, src, "bad/label.png", &exists, &cause) == 0 &&
           exists == 0,
       "failed add left nothing");

    /* The history: import, then a person, then the engine. */
    ok(store_label_append(s, id, 2, STORE_LABEL_HUMAN, 0, NAN, "looks emu",
                          &cause) == 0,
       "append human");
    ok(store_label_current(s, id, &label, &cause) == 0 && label == 2,
       "current is the human label");
    ok(store_label_append(s, id, 1, STORE_LABEL_AUTO, 0, 0.75, NULL, &cause) ==
           0,
       "append auto");
    ok(store_label_current(s, id, &label, &cause) == 0 && label == 1,
       "current is the latest");
    ok(store_label_append(s, id, 2, STORE_LABEL_HUMAN, 0, NAN, NULL, &cause) ==
           0,
       "append human again");
    ok(store_label_append(s, id, 9, STORE_LABEL_HUMAN, 0, NAN, NULL, &cause) ==
           -1,
       "append to no class fails");
    free(cause);
    cause = NULL;
    ok(store_label_append(s, 12345, 0, STORE_LABEL_HUMAN, 0, NAN, NULL,
                          &cause) == -1,
       "append to no sample fails");
    free(cause);
    cause = NULL;
    ok(store_label_current(s, 12345, &label, &cause) == -1 && label == -1,
       "current of no sample fails");
    is_str(cause, "no such sample: 12345");
    free(cause);
    cause = NULL;
    is_str(store_label_source_name(STORE_LABEL_IMPORT), "import");
    is_str(store_label_source_name(STORE_LABEL_HUMAN), "human");
    is_str(store_label_source_name(STORE_LABEL_AUTO), "auto");

    /* Rollback discards; a failed call inside a transaction discards it
     * all and makes commit fail. */
    ok(store_begin(s, &cause) == 0, "begin");
    ok(store_begin(s, &cause) == -1, "begin does not nest");
    free(cause);
    cause = NULL;
    must_add(s, src, "tmp/1.png", 4, 4, 1, 1, 77, 0);
    int cid;
    ok(store_class_ensure(s, "ghost", &cid, &cause) == 0 && cid == 3,
       "class in a transaction");
    store_rollback(s);
    ok(store_sample_exists(s, src, "tmp/1.png", &exists, &cause) == 0 &&
           exists == 0,
       "rolled-back sample is gone");
    ok(store_class_find(s, "ghost", &cid, &cause) == 0 && cid == -1,
       "rolled-back class is gone");

    ok(store_begin(s, &cause) == 0, "begin");
    must_add(s, src, "tmp/2.png", 4, 4, 1, 1, 78, 0);
    ok(add(s, src, "tmp/3.png", 4, 4, 1, 1, 79, 50, &cause) == -1,
       "failing add inside a transaction");
    free(cause);
    cause = NULL;
    ok(store_commit(s, &cause) == -1, "commit after a failure fails");
    free(cause);
    cause = NULL;
    ok(store_sample_exists(s, src, "tmp/2.png", &exists, &cause) == 0 &&
           exists == 0,
       "the good add before the failure is gone too");
    ok(store_commit(s, &cause) == -1, "no transaction left to commit");
    free(cause);
    cause = NULL;

    ok(store_begin(s, &cause) == 0, "begin");
    /* Rolled-back rows took no ids, so this is sample 3 (seed id + 100). */
    int64_t id3 = must_add(s, src2, "x#0", 5, 7, 1, 103, 3, 1);
    is_int(id3, ==, 3);
    ok(store_commit(s, &cause) == 0, "commit");
    ok(store_sample_exists(s, src2, "x#0", &exists, &cause) == 0 && exists == 1,
       "committed sample is there");
}

static void
test_history_rows(const char *path)
{
    sqlite3 *db = raw_open(path);
    is_int(raw_int(db, "SELECT count(*) FROM label_events WHERE sample_id = "
                       "1"),
           ==, 4);
    is_int(raw_int(db, "SELECT old_label FROM label_events WHERE sample_id "
                       "= 1 ORDER BY id LIMIT 1"),
           ==, -1); /* NULL */
    char *srcs = raw_text(db, "SELECT group_concat(source || ':' || "
                              "coalesce(old_label, 'null') || '>' || "
                              "new_label, ' ') FROM (SELECT * FROM "
                              "label_events WHERE sample_id = 1 ORDER BY "
                              "id)");
    is_str(srcs, "import:null>0 human:0>2 auto:2>1 human:1>2");
    free(srcs);
    char *note = raw_text(db, "SELECT note FROM label_events WHERE "
                              "sample_id = 1 AND source = 'human' ORDER BY "
                              "id LIMIT 1");
    is_str(note, "looks emu");
    free(note);
    is_int(raw_int(db, "SELECT count(*) FROM label_events WHERE sample_id = "
                       "1 AND score IS NULL AND run_id IS NULL"),
           ==, 3);
    sqlite3_stmt *st;
    double score = -1.0;
    if (sqlite3_prepare_v2(db,
                           "SELECT score FROM label_events WHERE source "
                           "= 'auto'",
                           -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        score = sqlite3_column_double(st, 0);
    sqlite3_finalize(st);
    is_float(score, 0.75, 1e-12);
    is_int(raw_int(db, "SELECT max(time) - min(time) FROM label_events"), <,
           60000);
    is_int(raw_int(db, "SELECT min(time) FROM label_events"), >, 1600000000000);
    sqlite3_close(db);
}

static void
test_walk(const char *path)
{
    struct store *s = must_open(path, 0);
    struct walk w = {.stop_at = -1};
    char *cause = NULL;
    /* Samples 1 (relabeled 0 -> 2 -> 1 -> 2, last by a person), 2 and 3
     * (1, as imported). */
    ok(store_foreach_sample(s, walk_fn, &w, &cause) == 0, "walk");
    is_int(w.n, ==, 3);
    ok(w.ids[0] == 1 && w.ids[1] == 2 && w.ids[2] == 3, "import order");
    is_int(w.labels[0], ==, 2);
    is_int(w.given[0], ==, 0);
    is_int(w.human[0], ==, 1);
    is_int(w.labels[1], ==, 1);
    is_int(w.human[1], ==, 0);
    is_int(w.labels[2], ==, 1);
    is_int(w.ok_pixels, ==, 3);

    struct walk w2 = {.stop_at = 1};
    ok(store_foreach_sample(s, walk_fn, &w2, &cause) == -1,
       "callback failure stops the walk");
    is_str(cause, "stopped at 1");
    free(cause);
    is_int(w2.n, ==, 1);
    store_close(s);
}

/* ---- summary ---- */

static void
test_summary(void)
{
    char *path = fx_path(tmp, "sum.db");
    struct store *s = must_open(path, STORE_CREATE);
    char *cause = NULL;
    int a, b, c;
    int64_t f, q;
    if (store_class_ensure(s, "a", &a, &cause) ||
        store_class_ensure(s, "b", &b, &cause) ||
        store_class_ensure(s, "c", &c, &cause) ||
        store_source_ensure(s, STORE_SOURCE_FOLDER, "/f", &f, &cause) ||
        store_source_ensure(s, STORE_SOURCE_IDX, "/q", &q, &cause))
        bail("setup: %s", cause);

    /* Sizes: 4 of 28x28x1 (2x stored 14x14), 2 of 8x6x3, 3 of 4x4x1. Hash
     * groups: 10 x2 (same label until a person changes one), 20 x3 (mixed
     * labels), 40 x2 (same label). */
    ok(store_begin(s, &cause) == 0, "begin");
    must_add(s, f, "1", 14, 14, 1, 101, 10, a);
    must_add(s, f, "2", 14, 14, 1, 102, 10, a);
    must_add(s, f, "3", 14, 14, 1, 103, 20, a);
    must_add(s, f, "4", 14, 14, 1, 104, 20, b);
    must_add(s, q, "q#0", 4, 3, 3, 105, 20, a);
    must_add(s, q, "q#1", 4, 3, 3, 106, 30, c);
    must_add(s, q, "q#2", 2, 2, 1, 107, 40, c);
    must_add(s, q, "q#3", 2, 2, 1, 108, 40, c);
    must_add(s, q, "q#4", 2, 2, 1, 109, 50, b);
    ok(store_commit(s, &cause) == 0, "commit");
    struct store_import_stats st1 = {4, 0, 1, 1}, st2 = {3, 0, 0, 0};
    ok(store_import_record(s, f, &st1, &cause) == 0, "record import");
    ok(store_import_record(s, f, &st1, &cause) == 0, "record import again");
    ok(store_import_record(s, q, &st2, &cause) == 0, "record import q");
    ok(store_label_append(s, 2, b, STORE_LABEL_HUMAN, 0, NAN, NULL, &cause) ==
           0,
       "relabel: group 10 now disagrees");
    ok(store_label_append(s, 6, a, STORE_LABEL_AUTO, 0, NAN, NULL, &cause) == 0,
       "auto relabel (no group)");
    store_close(s);

    sqlite3 *db = raw_open(path);
    raw_exec(db, "INSERT INTO runs (status, started, finished) VALUES "
                 "('done', 1000, 2000), ('running', 3000, NULL)");
    sqlite3_close(db);

    s = must_open(path, STORE_READONLY);
    struct store_summary sum;
    ok(store_summary_get(s, &sum, &cause) == 0, "summary");
    is_int(sum.n_samples, ==, 9);
    is_int(sum.n_classes, ==, 3);
    if (sum.n_classes == 3) {
        is_str(sum.class_names[2], "c");
        is_int(sum.class_counts[0], ==, 4); /* 1 3 5 6 */
        is_int(sum.class_counts[1], ==, 3); /* 2 4 9 */
        is_int(sum.class_counts[2], ==, 2); /* 7 8 */
        is_int(sum.class_given[0], ==, 4);  /* 1 2 3 5 */
        is_int(sum.class_given[1], ==, 2);  /* 4 9 */
        is_int(sum.class_given[2], ==, 3);  /* 6 7 8 */
    }
    is_int((int64_t)sum.n_sizes, ==, 3);
    if (sum.n_sizes == 3) {
        ok(sum.sizes[0].width == 28 && sum.sizes[0].height == 28 &&
               sum.sizes[0].channels == 1 && sum.sizes[0].count == 4,
           "most common size first");
        ok(sum.sizes[1].width == 4 && sum.sizes[1].height == 4 &&
               sum.sizes[1].channels == 1 && sum.sizes[1].count == 3,
           "then the next");
        ok(sum.sizes[2].width == 8 && sum.sizes[2].height == 6 &&
               sum.sizes[2].channels == 3 && sum.sizes[2].count == 2,
           "then the least");
    }
    is_int(sum.dup_groups, ==, 3);
    is_int(sum.dup_samples, ==, 7);
    is_int(sum.dup_conflicts, ==, 2);
    is_int((int64_t)sum.n_sources, ==, 2);
    if (sum.n_sources == 2) {
        is_str(sum.sources[0].kind, "folder");
        is_str(sum.sources[0].location, "/f");
        is_int(sum.sources[0].samples, ==, 4);
        is_int(sum.sources[0].n_imports, ==, 2);
        is_int(sum.sources[0].last_import, >, 1600000000000);
        is_str(sum.sources[1].kind, "idx");
        is_int(sum.sources[1].samples, ==, 5);
        is_int(sum.sources[1].n_imports, ==, 1);
    }
    is_int((int64_t)sum.n_runs, ==, 2);
    if (sum.n_runs == 2) {
        is_str(sum.runs[0].status, "running");
        is_int(sum.runs[0].finished, ==, 0);
        is_int(sum.runs[1].started, ==, 1000);
        is_int(sum.runs[1].finished, ==, 2000);
    }
    is_int(sum.n_human_events, ==, 1);
    struct stat fst;
    int64_t bytes = 0;
    if (stat(path, &fst) == 0)
        bytes += fst.st_size;
    char *wal = xasprintf("%s-wal", path);
    if (stat(wal, &fst) == 0)
        bytes += fst.st_size;
    free(wal);
    ok(sum.file_bytes == bytes && bytes > 0, "file bytes %lld (want %lld)",
       (long long)sum.file_bytes, (long long)bytes);
    store_summary_fini(&sum);
    ok(sum.class_names == NULL && sum.n_sources == 0, "fini clears");
    store_summary_fini(&sum); /* twice is harmless */

    /* Read-only: reads work, writes fail with the read-only cause. */
    int id = -1;
    ok(store_class_find(s, "b", &id, &cause) == 0 && id == 1,
       "read-only store reads");
    ok(store_class_ensure(s, "new", &id, &cause) == -1,
       "read-only store refuses a write");
    is_str(cause, "read-only project file");
    free(cause);
    cause = NULL;
    ok(store_begin(s, &cause) == -1, "read-only store refuses begin");
    is_str(cause, "read-only project file");
    free(cause);
    store_close(s);
    free(path);
}

/* ---- two connections ---- */

static void
test_busy(void)
{
    char *path = fx_path(tmp, "busy.db");
    struct store *a = must_open(path, STORE_CREATE);
    char *cause = NULL;
    int id = -1;
    ok(store_begin(a, &cause) == 0, "a: begin immediate");
    ok(store_class_ensure(a, "held", &id, &cause) == 0, "a: write");

    struct store *b = NULL;
    ok(store_open(path, 0, &b, &cause) == 0,
       "b: opens while a holds the write lock");
    if (b == NULL)
        bail("cannot go on: %s", cause);
    store_set_busy_timeout(b, 150);
    int n = -1;
    ok(store_class_count(b, &n, &cause) == 0 && n == 0,
       "b: reads the last commit meanwhile");
    double t0 = wn_monotonic();
    ok(store_class_ensure(b, "other", &id, &cause) == -1, "b: write fails");
    double dt = wn_monotonic() - t0;
    is_str(cause, "project is busy: another winnow is writing to it");
    free(cause);
    cause = NULL;
    ok(dt >= 0.12 && dt < 3.0, "b waited for its timeout (%.3f s)", dt);

    ok(store_commit(a, &cause) == 0, "a: commit");
    ok(store_class_ensure(b, "other", &id, &cause) == 0 && id == 1,
       "b: writes after a commits, next dense id");
    store_close(a);
    store_close(b);
    free(path);
}

/* ---- corrupt pixels ---- */

static void
test_corrupt(void)
{
    char *path = fx_path(tmp, "corrupt.db");
    struct store *s = must_open(path, STORE_CREATE);
    char *cause = NULL;
    int c0;
    int64_t src;
    if (store_class_ensure(s, "z", &c0, &cause) ||
        store_source_ensure(s, STORE_SOURCE_CSV, "/c", &src, &cause))
        bail("setup: %s", cause);
    must_add(s, src, "p1", 6, 6, 1, 101, 1, c0);
    must_add(s, src, "p2", 6, 6, 1, 102, 2, c0);
    store_close(s);

    static const char *const damage[] = {
        /* not zlib at all */
        "UPDATE samples SET pixels = x'00112233445566' WHERE id = 2",
        /* valid zlib of the wrong size (10 bytes, not 36) */
        "UPDATE samples SET pixels = x'78016360800100000a0001' "
        "WHERE id = 2",
        /* a stored size that is no image */
        "UPDATE samples SET stored_width = -5 WHERE id = 2",
    };
    for (size_t i = 0; i < WN_ARRAY_LEN(damage); i++) {
        sqlite3 *db = raw_open(path);
        /* Start from a fresh good copy of sample 1's row each time. */
        raw_exec(db, "UPDATE samples SET pixels = (SELECT pixels FROM "
                     "samples WHERE id = 1), stored_width = 6 WHERE id = 2");
        raw_exec(db, damage[i]);
        sqlite3_close(db);
        s = must_open(path, 0);
        struct walk w = {.stop_at = -1};
        ok(store_foreach_sample(s, walk_fn, &w, &cause) == -1,
           "damage %zu: walk fails", i);
        is_str(cause, "sample 2: corrupt pixel data");
        free(cause);
        cause = NULL;
        is_int(w.n, ==, 1);
        store_close(s);
    }
    free(path);
}

int
main(void)
{
    tmp = fx_tmpdir("store");
    test_create();
    test_migrate_v0();
    test_refuse();

    char *path = fx_path(tmp, "main.db");
    struct store *s = must_open(path, STORE_CREATE);
    int64_t src, src2;
    test_classes(s);
    test_sources(s, &src, &src2);
    test_samples(s, src, src2);
    store_close(s);
    test_history_rows(path);
    test_walk(path);
    free(path);

    test_summary();
    test_busy();
    test_corrupt();

    fx_rmtree(tmp);
    free(tmp);
    return done_testing();
}
