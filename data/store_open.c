/* data/store_open.c: opening a project file, and its schema.
 *
 * Opening is careful before it is bold. A file that exists is first sniffed
 * with a plain read of its header: not SQLite, or SQLite with another
 * application's id, or a WAL-mode file without our id (we stamp the id
 * before switching to WAL, so none of ours looks like that) is refused
 * before SQLite touches it.
 * The rest is opened and probed with reads only (application_id,
 * user_version, sqlite_master); only a file known to be ours, or an empty
 * one, is then switched to WAL and migrated.
 *
 * The schema is the array store_migrations: entry i takes a file from
 * version i to i + 1, and all pending entries run in one BEGIN IMMEDIATE
 * transaction that ends by setting user_version, so a file is always at
 * some whole version. Adding a version is adding one entry. */
#include "config.h"

#include "data/store.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "data/store_internal.h"

/* "WNNW" as a big-endian integer; written in decimal because PRAGMA
 * application_id does not parse hex. */
#define STORE_APP_ID     1464749655
#define STORE_APP_ID_STR "1464749655"
_Static_assert(STORE_APP_ID == 0x574E4E57, "application id is WNNW");

#define STORE_STR2(x) #x
#define STORE_STR(x)  STORE_STR2(x)

struct store_migration {
    const char *sql; /* takes the schema from version i to i + 1 */
};

static const struct store_migration store_migrations[] = {
    /* 0 -> 1: the first schema. label_events is append-only; the current
     * label of a sample is its event with the greatest id. */
    {"CREATE TABLE classes (\n"
     "    id INTEGER PRIMARY KEY, -- dense, 0..n-1\n"
     "    name TEXT UNIQUE NOT NULL\n"
     ") STRICT;\n"
     "CREATE TABLE sources (\n"
     "    id INTEGER PRIMARY KEY,\n"
     "    kind TEXT NOT NULL CHECK (kind IN ('folder', 'csv', 'idx')),\n"
     "    location TEXT NOT NULL,\n"
     "    created INTEGER NOT NULL, -- ms since the epoch\n"
     "    UNIQUE (kind, location)\n"
     ") STRICT;\n"
     "CREATE TABLE imports (\n"
     "    id INTEGER PRIMARY KEY,\n"
     "    source_id INTEGER NOT NULL REFERENCES sources (id),\n"
     "    time INTEGER NOT NULL,\n"
     "    imported INTEGER NOT NULL,\n"
     "    existing INTEGER NOT NULL,\n"
     "    skipped INTEGER NOT NULL,\n"
     "    duplicates INTEGER NOT NULL\n"
     ") STRICT;\n"
     "CREATE INDEX imports_source ON imports (source_id);\n"
     "CREATE TABLE samples (\n"
     "    id INTEGER PRIMARY KEY,\n"
     "    source_id INTEGER NOT NULL REFERENCES sources (id),\n"
     "    path TEXT NOT NULL,\n"
     "    hash BLOB NOT NULL CHECK (length(hash) = 32),\n"
     "    width INTEGER NOT NULL,\n"
     "    height INTEGER NOT NULL,\n"
     "    channels INTEGER NOT NULL,\n"
     "    stored_width INTEGER NOT NULL,\n"
     "    stored_height INTEGER NOT NULL,\n"
     "    pixels BLOB NOT NULL, -- zlib of stored_width*height*channels\n"
     "    given_label INTEGER NOT NULL REFERENCES classes (id),\n"
     "    UNIQUE (source_id, path)\n"
     ") STRICT;\n"
     "CREATE INDEX samples_hash ON samples (hash);\n"
     "CREATE TABLE runs (\n"
     "    id INTEGER PRIMARY KEY,\n"
     "    status TEXT NOT NULL\n"
     "        CHECK (status IN ('running', 'interrupted', 'failed', 'done')),\n"
     "    started INTEGER NOT NULL,\n"
     "    finished INTEGER,\n"
     "    seed INTEGER,\n"
     "    params TEXT,\n"
     "    version TEXT,\n"
     "    message TEXT,\n"
     "    pid INTEGER, -- of the process running it\n"
     "    heartbeat INTEGER, -- ms since the epoch, while running\n"
     "    n_samples INTEGER,\n"
     "    n_classes INTEGER,\n"
     "    seconds REAL, -- training and scoring time\n"
     "    noise_rate REAL, -- estimated fraction of wrong labels\n"
     "    checkpoint BLOB -- training state of an interrupted run\n"
     ") STRICT;\n"
     "CREATE TABLE label_events (\n"
     "    id INTEGER PRIMARY KEY,\n"
     "    sample_id INTEGER NOT NULL REFERENCES samples (id),\n"
     "    old_label INTEGER REFERENCES classes (id), -- NULL for import\n"
     "    new_label INTEGER NOT NULL REFERENCES classes (id),\n"
     "    source TEXT NOT NULL CHECK (source IN ('import', 'human', 'auto')),\n"
     "    time INTEGER NOT NULL,\n"
     "    run_id INTEGER REFERENCES runs (id),\n"
     "    score REAL,\n"
     "    note TEXT,\n"
     "    -- set on an event that reverts an earlier one (winnow undo, u)\n"
     "    undoes INTEGER REFERENCES label_events (id)\n"
     ") STRICT;\n"
     "CREATE INDEX label_events_sample ON label_events (sample_id, id);\n"
     "CREATE TABLE scores (\n"
     "    run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,\n"
     "    sample_id INTEGER NOT NULL REFERENCES samples (id),\n"
     "    score REAL NOT NULL, -- combined; higher = more suspicious\n"
     "    self_confidence REAL,\n"
     "    margin REAL,\n"
     "    cl_flag INTEGER,\n"
     "    aum REAL,\n"
     "    elr REAL,\n"
     "    knn REAL,\n"
     "    label INTEGER REFERENCES classes (id), -- trained against\n"
     "    suggested INTEGER REFERENCES classes (id),\n"
     "    suggested_prob REAL,\n"
     "    flagged INTEGER NOT NULL DEFAULT 0,\n"
     "    top TEXT, -- 'class:probability' of the likeliest, best first\n"
     "    PRIMARY KEY (run_id, sample_id)\n"
     ") STRICT, WITHOUT ROWID;\n"
     "CREATE INDEX scores_rank ON scores (run_id, score DESC);\n"
     "CREATE TABLE class_noise (\n"
     "    run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,\n"
     "    given INTEGER NOT NULL REFERENCES classes (id),\n"
     "    true_label INTEGER NOT NULL REFERENCES classes (id),\n"
     "    -- estimated fraction of samples given `given` whose true class\n"
     "    -- is `true_label`; each row sums to 1\n"
     "    rate REAL NOT NULL,\n"
     "    PRIMARY KEY (run_id, given, true_label)\n"
     ") STRICT, WITHOUT ROWID;\n"},
    /* 1 -> 2: the perceptual hash of each sample's stored pixels
     * (data/phash.h), for near-duplicates. A file from version 1 has
     * none: they are computed on first need (store_phash_fill). */
    {"ALTER TABLE samples ADD COLUMN phash INTEGER; -- NULL: not yet\n"},
    /* 2 -> 3: every run keeps its whole N x K probabilities and its
     * features (store_arrays.c), in chunks of a few MB each: SQLite
     * refuses a value over 1 GB, and 1,000 classes x 1,000,000 samples
     * in float32 are 4 GB. The views are the file's interface for
     * readers (winnow-project(5)): stable names, class names instead of
     * ids, the current label, the newest done run. */
    {"CREATE TABLE run_arrays (\n"
     "    id INTEGER PRIMARY KEY,\n"
     "    run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,\n"
     "    name TEXT NOT NULL CHECK (name IN ('probs', 'features')),\n"
     "    first_row INTEGER NOT NULL, -- in the run's sample order\n"
     "    rows INTEGER NOT NULL,\n"
     "    cols INTEGER NOT NULL,\n"
     "    dtype TEXT NOT NULL CHECK (dtype IN ('<f4', '<f2')),\n"
     "    data BLOB NOT NULL, -- rows x cols, row-major, little-endian\n"
     "    UNIQUE (run_id, name, first_row)\n"
     ") STRICT;\n"
     "CREATE VIEW runs_v AS SELECT id AS run_id, status, started, finished,\n"
     "    seed, params, version, message, n_samples, n_classes, seconds,\n"
     "    noise_rate FROM runs;\n"
     "CREATE VIEW samples_v AS SELECT s.id AS sample_id, s.source_id,\n"
     "    src.kind AS source_kind, s.path, s.width, s.height, s.channels,\n"
     "    g.name AS given_label, c.name AS label, e.source AS label_source\n"
     "    FROM samples s JOIN sources src ON src.id = s.source_id\n"
     "    JOIN classes g ON g.id = s.given_label\n"
     "    JOIN label_events e ON e.id = (SELECT max(id) FROM label_events\n"
     "        WHERE sample_id = s.id)\n"
     "    JOIN classes c ON c.id = e.new_label;\n"
     "CREATE VIEW labels_v AS SELECT e.id AS event_id, e.sample_id,\n"
     "    s.path, o.name AS old_label, n.name AS new_label, e.source,\n"
     "    e.time, e.run_id, e.score, e.note, e.undoes\n"
     "    FROM label_events e JOIN samples s ON s.id = e.sample_id\n"
     "    LEFT JOIN classes o ON o.id = e.old_label\n"
     "    JOIN classes n ON n.id = e.new_label;\n"
     "CREATE VIEW scores_v AS SELECT sc.run_id, sc.sample_id, v.path,\n"
     "    v.given_label, v.label, v.label_source, t.name AS scored_label,\n"
     "    sc.score, sc.flagged, sc.self_confidence, sc.margin, sc.cl_flag,\n"
     "    sc.aum, sc.elr, sc.knn, u.name AS suggested_label,\n"
     "    sc.suggested_prob\n"
     "    FROM scores sc JOIN samples_v v ON v.sample_id = sc.sample_id\n"
     "    LEFT JOIN classes t ON t.id = sc.label\n"
     "    LEFT JOIN classes u ON u.id = sc.suggested\n"
     "    WHERE sc.run_id = (SELECT max(id) FROM runs\n"
     "        WHERE status = 'done');\n"
     "CREATE VIEW class_noise_v AS SELECT n.run_id, g.name AS given_label,\n"
     "    t.name AS true_label, n.rate\n"
     "    FROM class_noise n JOIN classes g ON g.id = n.given\n"
     "    JOIN classes t ON t.id = n.true_label\n"
     "    WHERE n.run_id = (SELECT max(id) FROM runs\n"
     "        WHERE status = 'done');\n"},
    /* 3 -> 4: one decision, many samples. An event a person's decision
     * carried to other samples (its near-duplicates, similar suspects, the
     * rest of a group) names that decision in `follows`, so an undo takes
     * the decision and all it carried back as one step. `excluded` marks
     * a decision that drops its sample from exports as a duplicate of a
     * kept one; the next event on the sample (an undo included) ends it.
     * scores.outlier: how little a sample looks like any class.
     * run_pairs: near-duplicates by the run's features (engine/featpairs.h),
     * found where a perceptual hash cannot see them (flips, crops). The
     * views gain the columns at their ends. */
    {"ALTER TABLE label_events ADD COLUMN\n"
     "    follows INTEGER; -- a label_events id\n"
     "ALTER TABLE label_events ADD COLUMN\n"
     "    excluded INTEGER NOT NULL DEFAULT 0 CHECK (excluded IN (0, 1));\n"
     "CREATE INDEX label_events_follows ON label_events (follows)\n"
     "    WHERE follows IS NOT NULL;\n"
     "ALTER TABLE scores ADD COLUMN outlier REAL;\n"
     "CREATE TABLE run_pairs (\n"
     "    run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,\n"
     "    a INTEGER NOT NULL REFERENCES samples (id),\n"
     "    b INTEGER NOT NULL REFERENCES samples (id), -- a < b\n"
     "    similarity REAL NOT NULL, -- cosine of the run's features\n"
     "    PRIMARY KEY (run_id, a, b)\n"
     ") STRICT, WITHOUT ROWID;\n"
     "DROP VIEW labels_v;\n"
     "CREATE VIEW labels_v AS SELECT e.id AS event_id, e.sample_id,\n"
     "    s.path, o.name AS old_label, n.name AS new_label, e.source,\n"
     "    e.time, e.run_id, e.score, e.note, e.undoes, e.follows,\n"
     "    e.excluded\n"
     "    FROM label_events e JOIN samples s ON s.id = e.sample_id\n"
     "    LEFT JOIN classes o ON o.id = e.old_label\n"
     "    JOIN classes n ON n.id = e.new_label;\n"
     "DROP VIEW scores_v;\n"
     "CREATE VIEW scores_v AS SELECT sc.run_id, sc.sample_id, v.path,\n"
     "    v.given_label, v.label, v.label_source, t.name AS scored_label,\n"
     "    sc.score, sc.flagged, sc.self_confidence, sc.margin, sc.cl_flag,\n"
     "    sc.aum, sc.elr, sc.knn, u.name AS suggested_label,\n"
     "    sc.suggested_prob, sc.outlier\n"
     "    FROM scores sc JOIN samples_v v ON v.sample_id = sc.sample_id\n"
     "    LEFT JOIN classes t ON t.id = sc.label\n"
     "    LEFT JOIN classes u ON u.id = sc.suggested\n"
     "    WHERE sc.run_id = (SELECT max(id) FROM runs\n"
     "        WHERE status = 'done');\n"},
};

_Static_assert(WN_ARRAY_LEN(store_migrations) == STORE_SCHEMA_VERSION,
               "one migration per schema version");

/* ---- opening ---- */

static int
store_be32(const unsigned char *p)
{
    return (int)(((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
                 ((uint32_t)p[2] << 8) | (uint32_t)p[3]);
}

/* Look at the 100-byte SQLite header before SQLite opens the file, so
 * that files that are plainly not ours are refused first (it could
 * otherwise create -wal/-shm files or checkpoint a foreign WAL). An empty
 * file is an empty database.
 *
 * The header is read through SQLite's VFS, not open(2) and close(2):
 * closing any descriptor of a file drops every POSIX lock the process
 * holds on it, the locks of connections other threads have open included.
 * The review screen's connection would then hold no lock on the project
 * once the engine thread opened its own, and another winnow closing the
 * file would take it for the last user and delete the WAL under us:
 * writes made since would go to an unlinked file and be lost. The unix
 * VFS knows the locks of the process and defers such a close. */
static int
store_sniff(const char *path, char **cause)
{
    unsigned char h[100];
    sqlite3_vfs *vfs = sqlite3_vfs_find(NULL);
    if (vfs == NULL)
        return wn_fail(cause, "no SQLite file system");
    char *full = xmalloc((size_t)vfs->mxPathname + 1);
    sqlite3_file *f = xcalloc(1, (size_t)vfs->szOsFile);
    sqlite3_int64 size = 0;
    int r = 0, opened = 0, flags;
    int rc = vfs->xFullPathname(vfs, path, vfs->mxPathname + 1, full);
    if (rc == SQLITE_OK)
        rc = vfs->xOpen(vfs, full, f,
                        SQLITE_OPEN_READONLY | SQLITE_OPEN_MAIN_DB, &flags);
    if (rc != SQLITE_OK) {
        /* The unix VFS reports open(2)'s errno here. */
        int e = vfs->xGetLastError(vfs, 0, NULL);
        r = e > 0 ? wn_fail(cause, "%s", strerror(e))
                  : store_fail_db(NULL, rc, cause, "open");
        goto done;
    }
    opened = 1;
    if ((rc = f->pMethods->xFileSize(f, &size)) != SQLITE_OK) {
        r = store_fail_db(NULL, rc, cause, "read");
        goto done;
    }
    if (size == 0)
        goto done;
    if (size < (sqlite3_int64)sizeof h) {
        r = wn_fail(cause, STORE_CAUSE_NOTADB);
        goto done;
    }
    if ((rc = f->pMethods->xRead(f, h, (int)sizeof h, 0)) != SQLITE_OK) {
        r = store_fail_db(NULL, rc, cause, "read");
        goto done;
    }
    if (memcmp(h, "SQLite format 3", 16) != 0) {
        r = wn_fail(cause, STORE_CAUSE_NOTADB);
        goto done;
    }
    int app_id = store_be32(h + 68);
    if (app_id != 0 && app_id != STORE_APP_ID)
        r = wn_fail(cause, STORE_CAUSE_FOREIGN);
    /* Bytes 18 and 19 are 2 in WAL mode; ours have the id before that. */
    else if (app_id == 0 && (h[18] == 2 || h[19] == 2))
        r = wn_fail(cause, STORE_CAUSE_FOREIGN);
done:
    if (opened)
        f->pMethods->xClose(f);
    free(f);
    free(full);
    return r;
}

/* Fail unless the directory that would hold path exists. */
static int
store_check_parent(const char *path, char **cause)
{
    const char *slash = strrchr(path, '/');
    if (slash == NULL)
        return 0;
    char *dir =
        slash == path ? xstrdup("/") : xstrndup(path, (size_t)(slash - path));
    struct stat st;
    int r = 0;
    if (stat(dir, &st) != 0)
        r = wn_fail(cause, "cannot create: directory %s: %s", dir,
                    strerror(errno));
    else if (!S_ISDIR(st.st_mode))
        r = wn_fail(cause, "cannot create: %s is not a directory", dir);
    free(dir);
    return r;
}

/* One integer from static SQL on a connection without a store yet (the
 * probes and pragmas of store_open, each run once). */
static int
store_db_int(sqlite3 *db, const char *sql, int64_t *out, char **cause)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return store_fail_db(db, rc, cause, "open");
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *out = sqlite3_column_int64(st, 0);
        rc = SQLITE_DONE;
    } else if (rc == SQLITE_DONE) {
        *out = 0;
    }
    if (rc != SQLITE_DONE) {
        store_fail_db(db, rc, cause, "open");
        sqlite3_finalize(st);
        return -1;
    }
    sqlite3_finalize(st);
    return 0;
}

static int
store_db_exec(sqlite3 *db, const char *sql, char **cause, const char *what)
{
    int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return store_fail_db(db, rc, cause, what);
    return 0;
}

struct store_probe {
    int64_t app_id, version, n_objects;
};

static int
store_probe(sqlite3 *db, struct store_probe *p, char **cause)
{
    if (store_db_int(db, "PRAGMA application_id", &p->app_id, cause) != 0 ||
        store_db_int(db, "PRAGMA user_version", &p->version, cause) != 0 ||
        store_db_int(db, "SELECT count(*) FROM sqlite_master", &p->n_objects,
                     cause) != 0)
        return -1;
    return 0;
}

/* Ours: our id, or no id and nothing in it (new, or the v0 of a file whose
 * creation stopped before the id was written). */
static int
store_probe_check(const struct store_probe *p, char **cause)
{
    if (p->app_id == STORE_APP_ID) {
        if (p->version > STORE_SCHEMA_VERSION)
            return wn_fail(cause,
                           "project file is from a newer winnow "
                           "(schema %lld, this build knows %d)",
                           (long long)p->version, STORE_SCHEMA_VERSION);
        if (p->version < 0)
            return wn_fail(cause,
                           "project file has a bad schema version "
                           "(%lld)",
                           (long long)p->version);
        return 0;
    }
    if (p->app_id == 0 && p->n_objects == 0 && p->version == 0)
        return 0;
    return wn_fail(cause, STORE_CAUSE_FOREIGN);
}

/* A file past the limits (made by hand, or by a build with larger ones) is
 * refused at open rather than failing later in the engine or the screen.
 * max(id) stands for the sample count: samples are never deleted, and it
 * costs one b-tree descent where count(*) reads the whole table. */
static int
store_probe_limits(sqlite3 *db, char **cause)
{
    int64_t classes, samples;
    if (store_db_int(db, "SELECT count(*) FROM classes", &classes, cause) !=
            0 ||
        store_db_int(db, "SELECT coalesce(max(id), 0) FROM samples", &samples,
                     cause) != 0)
        return -1;
    return store_check_limits(classes, samples, cause);
}

/* Stamp a new file with our id while it is still in rollback-journal mode,
 * so the id is in the main file before anything goes to a WAL. Re-checks
 * under the write lock in case another winnow is creating it too. */
static int
store_stamp(sqlite3 *db, char **cause)
{
    /* 16 KiB pages before anything is written (a no-op on a file with
     * content): a sample row of a 32x32 RGB image is ~3 KB, and 4 KiB pages
     * would hold one row each, wasting a third of the file. */
    if (store_db_exec(db, "PRAGMA page_size = 16384", cause, "create") != 0)
        return -1;
    if (store_db_exec(db, "BEGIN IMMEDIATE", cause, "create") != 0)
        return -1;
    struct store_probe p;
    if (store_probe(db, &p, cause) != 0 || store_probe_check(&p, cause) != 0)
        goto fail;
    if (p.app_id == 0 &&
        store_db_exec(db, "PRAGMA application_id = " STORE_APP_ID_STR, cause,
                      "create") != 0)
        goto fail;
    if (store_db_exec(db, "COMMIT", cause, "create") != 0)
        goto fail;
    return 0;
fail:
    if (!sqlite3_get_autocommit(db))
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return -1;
}

/* Apply the pending migrations in one transaction. The version is read
 * again under the write lock: another winnow may have migrated meanwhile. */
static int
store_migrate(sqlite3 *db, char **cause)
{
    if (store_db_exec(db, "BEGIN IMMEDIATE", cause, "migrate") != 0)
        return -1;
    int64_t v;
    if (store_db_int(db, "PRAGMA user_version", &v, cause) != 0)
        goto fail;
    if (v > STORE_SCHEMA_VERSION) {
        wn_fail(cause,
                "project file is from a newer winnow (schema %lld, this "
                "build knows %d)",
                (long long)v, STORE_SCHEMA_VERSION);
        goto fail;
    }
    for (int64_t i = v; i < STORE_SCHEMA_VERSION; i++) {
        if (store_db_exec(db, store_migrations[i].sql, cause, "migrate") != 0)
            goto fail;
    }
    if (v < STORE_SCHEMA_VERSION &&
        store_db_exec(db,
                      "PRAGMA user_version = " STORE_STR(STORE_SCHEMA_VERSION),
                      cause, "migrate") != 0)
        goto fail;
    if (store_db_exec(db, "COMMIT", cause, "migrate") != 0)
        goto fail;
    return 0;
fail:
    if (!sqlite3_get_autocommit(db))
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return -1;
}

int
store_open(const char *path, int flags, struct store **out, char **cause)
{
    int readonly = (flags & STORE_READONLY) != 0;
    int create = (flags & STORE_CREATE) != 0 && !readonly;
    int exists = 1;
    sqlite3 *db = NULL;
    struct stat st;

    *out = NULL;
    if (stat(path, &st) != 0) {
        if (errno != ENOENT || !create)
            return wn_fail(cause, "%s",
                           errno == ENOENT ? "no such file" : strerror(errno));
        if (store_check_parent(path, cause) != 0)
            return -1;
        exists = 0;
    } else if (S_ISDIR(st.st_mode)) {
        return wn_fail(cause, "is a directory");
    }
    if (exists && store_sniff(path, cause) != 0)
        return -1;

    int oflags = readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
    if (!exists)
        oflags |= SQLITE_OPEN_CREATE;
    int rc = sqlite3_open_v2(path, &db, oflags | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        if (db == NULL)
            xalloc_die();
        if ((rc & 0xff) == SQLITE_CANTOPEN)
            wn_fail(cause, "cannot open: %s", sqlite3_errmsg(db));
        else
            store_fail_db(db, rc, cause, "open");
        sqlite3_close(db);
        return -1;
    }
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, STORE_BUSY_TIMEOUT_MS);

    /* Connection settings only; nothing below writes until the probe says
     * the file is ours. */
    struct store_probe p;
    if (store_db_exec(db, "PRAGMA foreign_keys = ON", cause, "open") != 0 ||
        store_probe(db, &p, cause) != 0 || store_probe_check(&p, cause) != 0)
        goto fail;
    if (p.version >= 1 && store_probe_limits(db, cause) != 0)
        goto fail;

    if (readonly) {
        if (p.version == 0) {
            wn_fail(cause, "project file is empty");
            goto fail;
        }
        if (p.version < STORE_SCHEMA_VERSION) {
            wn_fail(cause,
                    "project file is from an older winnow (schema %lld, this "
                    "build knows %d): open it once for writing to upgrade",
                    (long long)p.version, STORE_SCHEMA_VERSION);
            goto fail;
        }
    } else {
        /* SQLite opens a file it may not write read-only without a word;
         * say so now rather than at the first decision of a review. */
        if (sqlite3_db_readonly(db, "main") == 1) {
            wn_fail(cause, STORE_CAUSE_READONLY);
            goto fail;
        }
        if (p.app_id == 0 && store_stamp(db, cause) != 0)
            goto fail;
        sqlite3_stmt *jm;
        rc = sqlite3_prepare_v2(db, "PRAGMA journal_mode = WAL", -1, &jm, NULL);
        if (rc != SQLITE_OK) {
            store_fail_db(db, rc, cause, "open");
            goto fail;
        }
        rc = sqlite3_step(jm);
        int wal = rc == SQLITE_ROW &&
                  sqlite3_stricmp((const char *)sqlite3_column_text(jm, 0),
                                  "wal") == 0;
        if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
            store_fail_db(db, rc, cause, "open");
            sqlite3_finalize(jm);
            goto fail;
        }
        sqlite3_finalize(jm);
        if (!wal) {
            wn_fail(cause, "cannot switch the project file to WAL mode");
            goto fail;
        }
        if (store_db_exec(db, "PRAGMA synchronous = NORMAL", cause, "open") !=
            0)
            goto fail;
        if (p.version < STORE_SCHEMA_VERSION && store_migrate(db, cause) != 0)
            goto fail;
    }

    struct store *s = xcalloc(1, sizeof *s);
    s->db = db;
    s->readonly = readonly;
    s->opened_version = (int)p.version;
    *out = s;
    return 0;
fail:
    sqlite3_close(db);
    return -1;
}

void
store_close(struct store *s)
{
    if (s == NULL)
        return;
    store_rollback(s);
    for (size_t i = 0; i < s->stmt_cap; i++)
        sqlite3_finalize(s->stmts[i].st);
    free(s->stmts);
    sqlite3_close(s->db);
    if (s->def_ready)
        deflateEnd(&s->def);
    if (s->inf_ready)
        inflateEnd(&s->inf);
    free(s->zbuf);
    free(s->pix);
    free(s);
}

int
store_opened_version(const struct store *s)
{
    return s->opened_version;
}

void
store_set_busy_timeout(struct store *s, int ms)
{
    sqlite3_busy_timeout(s->db, ms);
}

/* ---- limits ---- */

int
store_check_limits(int64_t n_classes, int64_t n_samples, char **cause)
{
    if (n_classes > STORE_MAX_CLASSES)
        return wn_fail(cause, "too many classes: %lld (max %d)",
                       (long long)n_classes, STORE_MAX_CLASSES);
    if (n_samples > STORE_MAX_SAMPLES)
        return wn_fail(cause, "too many samples: %lld (max %d)",
                       (long long)n_samples, STORE_MAX_SAMPLES);
    return 0;
}
