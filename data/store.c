#include "config.h"

#include "data/store.h"

/* data/store.c: the project file on SQLite.
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
 * some whole version. Adding a version is adding one entry.
 *
 * Statements are prepared once per connection, on first use, from the
 * table store_sql, and reset after each use. A write function runs in the
 * caller's transaction or, when there is none, opens its own; a failure
 * rolls back whichever it ran in, so a half-applied call never commits (an
 * explicit transaction that failed makes store_commit fail).
 *
 * Pixels are kept zlib-compressed at level 1: fast to write, and small for
 * the flat backgrounds of digit datasets. */

#include <errno.h>
#include <math.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "data/image.h"
#include "data/store_internal.h"

/* "WNNW" as a big-endian integer; written in decimal because PRAGMA
 * application_id does not parse hex. */
#define STORE_APP_ID     1464749655
#define STORE_APP_ID_STR "1464749655"
_Static_assert(STORE_APP_ID == 0x574E4E57, "application id is WNNW");

#define STORE_STR2(x) #x
#define STORE_STR(x)  STORE_STR2(x)

#define STORE_CAUSE_BUSY     "project is busy: another winnow is writing to it"
#define STORE_CAUSE_READONLY "read-only project file"
#define STORE_CAUSE_READONLY_DIR                                              \
    "read-only folder (the project file needs its -wal and -shm files "      \
    "beside it)"
#define STORE_CAUSE_FOREIGN  "not a winnow project file"
#define STORE_CAUSE_FULL     "disk full (no space left on device)"
#define STORE_CAUSE_FBIG                                                       \
    "file too large: the project would pass the file size limit (ulimit -f)"
#define STORE_CAUSE_NOTADB   STORE_CAUSE_FOREIGN " (not an SQLite database)"

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
};

_Static_assert(WN_ARRAY_LEN(store_migrations) == STORE_SCHEMA_VERSION,
               "one migration per schema version");

/* The latest event of every sample, as (sample_id, label, source). A join
 * on max(id) per sample reads the (sample_id, id) index once instead of
 * seeking per sample. */
#define STORE_CURRENT_SQL                                                      \
    "SELECT e.sample_id AS sample_id, e.new_label AS label,"                   \
    " e.source AS source, e.undoes AS undoes FROM label_events e"              \
    " JOIN (SELECT max(id) AS mid FROM label_events GROUP BY sample_id) m"     \
    " ON e.id = m.mid"

enum store_stmt_id {
    ST_BEGIN,
    ST_BEGIN_READ,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_CLASS_COUNT,
    ST_CLASS_FIND,
    ST_CLASS_INSERT,
    ST_CLASS_NAMES,
    ST_SOURCE_FIND,
    ST_SOURCE_INSERT,
    ST_IMPORT_INSERT,
    ST_SAMPLE_EXISTS,
    ST_SAMPLE_FIND_HASH,
    ST_SAMPLE_INSERT,
    ST_EVENT_INSERT,
    ST_SAMPLE_WALK,
    ST_LABEL_CURRENT,
    ST_SUM_SAMPLES,
    ST_SUM_CURRENT,
    ST_SUM_GIVEN,
    ST_SUM_SIZES,
    ST_SUM_DUPS,
    ST_SUM_CONFLICTS,
    ST_SUM_SOURCES,
    ST_SUM_RUNS,
    ST_SUM_HUMAN,
    ST_COUNT
};

static const char *const store_sql[ST_COUNT] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_BEGIN_READ] = "BEGIN",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_CLASS_COUNT] = "SELECT count(*) FROM classes",
    [ST_CLASS_FIND] = "SELECT id FROM classes WHERE name = ?1",
    [ST_CLASS_INSERT] = "INSERT INTO classes (id, name) VALUES (?1, ?2)",
    [ST_CLASS_NAMES] = "SELECT id, name FROM classes ORDER BY id",
    [ST_SOURCE_FIND] = "SELECT id FROM sources WHERE kind = ?1 AND "
                       "location = ?2",
    [ST_SOURCE_INSERT] = "INSERT INTO sources (kind, location, created) "
                         "VALUES (?1, ?2, ?3)",
    [ST_IMPORT_INSERT] = "INSERT INTO imports (source_id, time, imported, "
                         "existing, skipped, duplicates) "
                         "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [ST_SAMPLE_EXISTS] = "SELECT 1 FROM samples WHERE source_id = ?1 AND "
                         "path = ?2",
    [ST_SAMPLE_FIND_HASH] = "SELECT id FROM samples WHERE hash = ?1 "
                            "ORDER BY id LIMIT 1",
    [ST_SAMPLE_INSERT] =
        "INSERT INTO samples (source_id, path, hash, width, height, "
        "channels, stored_width, stored_height, pixels, given_label) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    [ST_EVENT_INSERT] =
        "INSERT INTO label_events (sample_id, old_label, new_label, source, "
        "time, run_id, score, note, undoes) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    [ST_SAMPLE_WALK] =
        "SELECT s.id, s.path, s.width, s.height, s.channels, "
        "s.stored_width, s.stored_height, s.pixels, s.given_label, "
        "coalesce(c.label, s.given_label), "
        /* An undo is a person's event but not a decision: the label it
         * restores is trusted only as much as it was before. */
        "c.source = 'human' AND c.undoes IS NULL "
        "FROM samples s LEFT JOIN (" STORE_CURRENT_SQL ") c "
        "ON c.sample_id = s.id ORDER BY s.id",
    [ST_LABEL_CURRENT] = "SELECT new_label FROM label_events "
                         "WHERE sample_id = ?1 ORDER BY id DESC LIMIT 1",
    [ST_SUM_SAMPLES] = "SELECT count(*) FROM samples",
    [ST_SUM_CURRENT] =
        "SELECT label, count(*) FROM (" STORE_CURRENT_SQL ") GROUP BY label",
    [ST_SUM_GIVEN] = "SELECT given_label, count(*) FROM samples "
                     "GROUP BY given_label",
    [ST_SUM_SIZES] = "SELECT width, height, channels, count(*) AS n "
                     "FROM samples GROUP BY width, height, channels "
                     "ORDER BY n DESC, width, height, channels",
    [ST_SUM_DUPS] = "SELECT count(*), coalesce(sum(n), 0) FROM "
                    "(SELECT count(*) AS n FROM samples GROUP BY hash "
                    "HAVING n >= 2)",
    [ST_SUM_CONFLICTS] =
        "SELECT count(*) FROM (SELECT s.hash FROM samples s JOIN "
        "(" STORE_CURRENT_SQL ") c ON c.sample_id = s.id GROUP BY s.hash "
        "HAVING count(*) >= 2 AND min(c.label) <> max(c.label))",
    [ST_SUM_SOURCES] =
        "SELECT src.kind, src.location, "
        "(SELECT count(*) FROM samples WHERE source_id = src.id), "
        "(SELECT coalesce(max(time), 0) FROM imports "
        "WHERE source_id = src.id), "
        "(SELECT count(*) FROM imports WHERE source_id = src.id) "
        "FROM sources src ORDER BY src.id",
    [ST_SUM_RUNS] = "SELECT id, status, started, coalesce(finished, 0) "
                    "FROM runs ORDER BY started DESC, id DESC",
    [ST_SUM_HUMAN] = "SELECT count(*) FROM label_events "
                     "WHERE source = 'human'",
};

/* ---- errors ---- */

/* Room within which a write that failed is taken to have run out of it:
 * SQLite writes a page, a WAL frame or a 32 KiB piece of the -shm at a
 * time. */
#define STORE_IO_SLACK ((uintmax_t)1 << 20)

/* Whether the project file or one of its companions is within
 * STORE_IO_SLACK of the file size limit. */
static int
store_near_fsize_limit(const char *path)
{
    static const char *const suffix[] = {"", "-wal", "-shm", "-journal"};
    struct rlimit rl;
    if (getrlimit(RLIMIT_FSIZE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
        return 0;
    int near = 0;
    for (size_t i = 0; !near && i < sizeof suffix / sizeof *suffix; i++) {
        char *p = xasprintf("%s%s", path, suffix[i]);
        struct stat st;
        near = stat(p, &st) == 0 &&
               (uintmax_t)st.st_size + STORE_IO_SLACK >= rl.rlim_cur;
        free(p);
    }
    return near;
}

/* Whether the file system holding path has (nearly) no room left. */
static int
store_disk_nearly_full(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash == NULL   ? xstrdup(".")
                : slash == path ? xstrdup("/")
                                : xstrndup(path, (size_t)(slash - path));
    struct statvfs sv;
    int full = statvfs(dir, &sv) == 0 &&
               (uintmax_t)sv.f_bavail * sv.f_frsize < STORE_IO_SLACK;
    free(dir);
    return full;
}

/* An I/O error. SQLite says SQLITE_FULL only for ENOSPC on the database
 * or its WAL; running out of room elsewhere (the -shm file on a full
 * disk, EFBIG under ulimit -f, a quota) comes back as "disk I/O error".
 * sqlite3_system_errno() is errno as it was when SQLite looked, often
 * cleared by then, so the limits themselves are checked as well. */
static int
store_fail_io(sqlite3 *db, int rc, char **cause, const char *what)
{
    int e = db != NULL ? sqlite3_system_errno(db) : 0;
    const char *path = db != NULL ? sqlite3_db_filename(db, "main") : NULL;
    if (e != ENOSPC && e != EFBIG && path != NULL && *path != '\0') {
        if (store_near_fsize_limit(path))
            e = EFBIG;
        else if (store_disk_nearly_full(path))
            e = ENOSPC;
    }
    switch (e) {
    case ENOSPC:
        return wn_fail(cause, STORE_CAUSE_FULL);
#ifdef EDQUOT
    case EDQUOT:
        return wn_fail(cause, "disk quota exceeded");
#endif
    case EFBIG:
        return wn_fail(cause, STORE_CAUSE_FBIG);
    default:
        break;
    }
    if (db != NULL)
        return wn_fail(cause, "%s: %s", what, sqlite3_errmsg(db));
    return wn_fail(cause, "%s: %s", what, sqlite3_errstr(rc));
}

/* Turn an SQLite result into a cause. The conditions a person can act on
 * get fixed words; anything else is "what: sqlite's message". */
static int
store_fail_db(sqlite3 *db, int rc, char **cause, const char *what)
{
    switch (rc & 0xff) {
    case SQLITE_BUSY:
        return wn_fail(cause, STORE_CAUSE_BUSY);
    case SQLITE_READONLY:
        /* SQLite keeps -wal and -shm files beside the project and cannot
         * even read it where it may not create them. */
        if (rc == SQLITE_READONLY_DIRECTORY)
            return wn_fail(cause, STORE_CAUSE_READONLY_DIR);
        return wn_fail(cause, STORE_CAUSE_READONLY);
    case SQLITE_FULL:
        return wn_fail(cause, STORE_CAUSE_FULL);
    case SQLITE_IOERR:
        return store_fail_io(db, rc, cause, what);
    case SQLITE_NOTADB:
        return wn_fail(cause, STORE_CAUSE_NOTADB);
    case SQLITE_CORRUPT:
        return wn_fail(cause, "project file is corrupt");
    case SQLITE_NOMEM:
        /* Not xalloc_die: SQLite also says NOMEM when a corrupt record
         * claims a size beyond its allocation limit (fuzzing found such a
         * file), and then the file is the problem, not the memory. */
        return wn_fail(cause, "%s: out of memory (the project file may be "
                              "corrupt)",
                       what);
    default:
        break;
    }
    if (db != NULL)
        return wn_fail(cause, "%s: %s", what, sqlite3_errmsg(db));
    return wn_fail(cause, "%s: %s", what, sqlite3_errstr(rc));
}

int
store_fail(struct store *s, int rc, char **cause, const char *what)
{
    return store_fail_db(s->db, rc, cause, what);
}

/* ---- statements ---- */

/* Fibonacci hashing: the multiplication spreads every bit of the address
 * into the high half, which picks the slot. */
static size_t
store_stmt_slot_of(const char *const *sql, size_t cap)
{
    uint64_t h = (uint64_t)(uintptr_t)sql * UINT64_C(0x9E3779B97F4A7C15);
    return (size_t)(h >> 32) & (cap - 1);
}

static void
store_stmt_put(struct store_stmt_slot *slots, size_t cap,
               const char *const *sql, sqlite3_stmt *st)
{
    size_t i = store_stmt_slot_of(sql, cap);
    while (slots[i].sql != NULL)
        i = (i + 1) & (cap - 1);
    slots[i].sql = sql;
    slots[i].st = st;
}

/* Double the table (64 slots at first: the module has about 60
 * statements, and a connection uses a few of them). */
static void
store_stmt_grow(struct store *s)
{
    size_t cap = s->stmt_cap != 0 ? s->stmt_cap * 2 : 64;
    struct store_stmt_slot *slots = xcalloc(cap, sizeof *slots);
    for (size_t i = 0; i < s->stmt_cap; i++)
        if (s->stmts[i].sql != NULL)
            store_stmt_put(slots, cap, s->stmts[i].sql, s->stmts[i].st);
    free(s->stmts);
    s->stmts = slots;
    s->stmt_cap = cap;
}

int
store_stmt_get(struct store *s, const char *const *sql, sqlite3_stmt **out,
               char **cause)
{
    if (s->stmt_cap != 0) {
        size_t mask = s->stmt_cap - 1;
        for (size_t i = store_stmt_slot_of(sql, s->stmt_cap);
             s->stmts[i].sql != NULL; i = (i + 1) & mask)
            if (s->stmts[i].sql == sql) {
                *out = s->stmts[i].st;
                return 0;
            }
    }
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v3(s->db, *sql, -1, SQLITE_PREPARE_PERSISTENT,
                                &st, NULL);
    if (rc != SQLITE_OK) {
        sqlite3_finalize(st);
        return store_fail(s, rc, cause, "prepare");
    }
    if ((s->n_stmts + 1) * 2 > s->stmt_cap)
        store_stmt_grow(s);
    store_stmt_put(s->stmts, s->stmt_cap, sql, st);
    s->n_stmts++;
    *out = st;
    return 0;
}

static int
store_stmt(struct store *s, enum store_stmt_id id, sqlite3_stmt **out,
           char **cause)
{
    return store_stmt_get(s, &store_sql[id], out, cause);
}

void
store_done(sqlite3_stmt *st)
{
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

/* Run a statement that returns no rows (or whose rows do not matter). */
int
store_run(struct store *s, sqlite3_stmt *st, char **cause, const char *what)
{
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        ;
    if (rc != SQLITE_DONE) {
        store_fail(s, rc, cause, what);
        store_done(st);
        return -1;
    }
    store_done(st);
    return 0;
}

/* Step to the first row of a query: 1 if there is one (the caller reads it
 * and calls store_done), 0 if none (already reset), -1 on error. */
int
store_row(struct store *s, sqlite3_stmt *st, char **cause, const char *what)
{
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        return 1;
    if (rc != SQLITE_DONE)
        store_fail(s, rc, cause, what);
    store_done(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

int
store_int64(struct store *s, const char *const *sql, int64_t *out,
            char **cause)
{
    sqlite3_stmt *st = NULL;
    if (store_stmt_get(s, sql, &st, cause) != 0)
        return -1;
    int r = store_row(s, st, cause, "query");
    if (r < 0)
        return -1;
    *out = r ? sqlite3_column_int64(st, 0) : 0;
    if (r)
        store_done(st);
    return 0;
}

static int
store_bind_check(struct store *s, sqlite3_stmt *st, int rc, char **cause)
{
    if (rc == SQLITE_OK)
        return 0;
    store_fail(s, rc, cause, "bind");
    store_done(st);
    return -1;
}

int
store_bind_text(struct store *s, sqlite3_stmt *st, int i, const char *text,
                char **cause)
{
    return store_bind_check(
        s, st, sqlite3_bind_text(st, i, text, -1, SQLITE_STATIC), cause);
}

int
store_bind_blob(struct store *s, sqlite3_stmt *st, int i, const void *p,
                size_t n, char **cause)
{
    return store_bind_check(
        s, st, sqlite3_bind_blob64(st, i, p, n, SQLITE_STATIC), cause);
}

/* ---- transactions ---- */

static int
store_exec_id(struct store *s, enum store_stmt_id id, char **cause)
{
    sqlite3_stmt *st = NULL;
    if (store_stmt(s, id, &st, cause) != 0)
        return -1;
    return store_run(s, st, cause, store_sql[id]);
}

/* SQLite rolls back by itself after some errors (SQLITE_FULL, IOERR), so
 * only roll back what is still open. */
static void
store_rollback_db(struct store *s)
{
    if (!sqlite3_get_autocommit(s->db))
        (void)store_exec_id(s, ST_ROLLBACK, NULL);
}

/* Start a write: *own says whether the call opened the transaction itself.
 */
int
store_wbegin(struct store *s, int *own, char **cause)
{
    if (s->readonly)
        return wn_fail(cause, STORE_CAUSE_READONLY);
    if (s->txn == STORE_TXN_ABORTED)
        return wn_fail(cause, "transaction was rolled back after an error");
    *own = s->txn == STORE_TXN_NONE;
    if (*own)
        return store_exec_id(s, ST_BEGIN, cause);
    return 0;
}

/* Finish a write that returned rc (cause already set when rc != 0). */
int
store_wend(struct store *s, int own, int rc, char **cause)
{
    if (rc != 0) {
        store_rollback_db(s);
        if (!own)
            s->txn = STORE_TXN_ABORTED;
        return -1;
    }
    if (own && store_exec_id(s, ST_COMMIT, cause) != 0) {
        store_rollback_db(s);
        return -1;
    }
    return 0;
}

int
store_begin(struct store *s, char **cause)
{
    if (s->readonly)
        return wn_fail(cause, STORE_CAUSE_READONLY);
    if (s->txn != STORE_TXN_NONE)
        return wn_fail(cause, "a transaction is already open");
    if (store_exec_id(s, ST_BEGIN, cause) != 0)
        return -1;
    s->txn = STORE_TXN_OPEN;
    return 0;
}

int
store_commit(struct store *s, char **cause)
{
    if (s->txn == STORE_TXN_NONE)
        return wn_fail(cause, "no transaction is open");
    if (s->txn == STORE_TXN_ABORTED) {
        s->txn = STORE_TXN_NONE;
        return wn_fail(cause, "transaction was rolled back after an error");
    }
    s->txn = STORE_TXN_NONE;
    if (store_exec_id(s, ST_COMMIT, cause) != 0) {
        store_rollback_db(s);
        return -1;
    }
    return 0;
}

void
store_rollback(struct store *s)
{
    if (s == NULL || s->txn == STORE_TXN_NONE)
        return;
    store_rollback_db(s);
    s->txn = STORE_TXN_NONE;
}

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
        store_db_int(db, "SELECT coalesce(max(id), 0) FROM samples",
                     &samples, cause) != 0)
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

/* ---- classes ---- */

int
store_class_count(struct store *s, int *n_out, char **cause)
{
    int64_t n;
    if (store_int64(s, &store_sql[ST_CLASS_COUNT], &n, cause) != 0)
        return -1;
    *n_out = (int)n;
    return 0;
}

int
store_class_find(struct store *s, const char *name, int *id_out, char **cause)
{
    sqlite3_stmt *st = NULL;
    if (store_stmt(s, ST_CLASS_FIND, &st, cause) != 0 ||
        store_bind_text(s, st, 1, name, cause) != 0)
        return -1;
    int r = store_row(s, st, cause, "find class");
    if (r < 0)
        return -1;
    *id_out = r ? sqlite3_column_int(st, 0) : -1;
    if (r)
        store_done(st);
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
        store_stmt(s, ST_CLASS_INSERT, &st, cause) != 0)
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

    if (store_stmt(s, ST_CLASS_NAMES, &st, cause) != 0)
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
    case STORE_SOURCE_FOLDER:
        return "folder";
    case STORE_SOURCE_CSV:
        return "csv";
    case STORE_SOURCE_IDX:
        return "idx";
    }
    return "?";
}

static int
store_source_find(struct store *s, const char *kind, const char *location,
                  int64_t *id_out, char **cause)
{
    sqlite3_stmt *st = NULL;
    if (store_stmt(s, ST_SOURCE_FIND, &st, cause) != 0 ||
        store_bind_text(s, st, 1, kind, cause) != 0 ||
        store_bind_text(s, st, 2, location, cause) != 0)
        return -1;
    int r = store_row(s, st, cause, "find source");
    if (r < 0)
        return -1;
    *id_out = r ? sqlite3_column_int64(st, 0) : 0;
    if (r)
        store_done(st);
    return 0;
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
    if (store_stmt(s, ST_SOURCE_INSERT, &st, cause) != 0 ||
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
    if (store_stmt(s, ST_IMPORT_INSERT, &st, cause) != 0)
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
    if (store_stmt(s, ST_SAMPLE_EXISTS, &st, cause) != 0)
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
    return store_int64(s, &store_sql[ST_SUM_SAMPLES], n_out, cause);
}

int
store_sample_find_hash(struct store *s, const unsigned char *hash,
                       int64_t *id_out, char **cause)
{
    sqlite3_stmt *st = NULL;
    if (store_stmt(s, ST_SAMPLE_FIND_HASH, &st, cause) != 0 ||
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

int
store_event_insert(struct store *s, int64_t sample_id, int old_label,
                   int new_label, enum store_label_source src, int64_t run_id,
                   double score, const char *note, int64_t undoes,
                   int64_t *id_out, char **cause)
{
    sqlite3_stmt *st = NULL;
    if (store_stmt(s, ST_EVENT_INSERT, &st, cause) != 0)
        return -1;
    sqlite3_bind_int64(st, 1, sample_id);
    if (old_label >= 0) /* an import has no old label */
        sqlite3_bind_int(st, 2, old_label);
    sqlite3_bind_int(st, 3, new_label);
    if (store_bind_text(s, st, 4, store_label_source_name(src), cause) != 0)
        return -1;
    sqlite3_bind_int64(st, 5, wn_time_ms());
    if (run_id != 0)
        sqlite3_bind_int64(st, 6, run_id);
    if (!isnan(score))
        sqlite3_bind_double(st, 7, score);
    if (note != NULL && store_bind_text(s, st, 8, note, cause) != 0)
        return -1;
    if (undoes != 0)
        sqlite3_bind_int64(st, 9, undoes);
    if (store_run(s, st, cause, "add label event") != 0)
        return -1;
    if (id_out != NULL)
        *id_out = sqlite3_last_insert_rowid(s->db);
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

    if (store_stmt(s, ST_SAMPLE_INSERT, &st, cause) != 0)
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
    if (store_stmt(s, ST_SAMPLE_WALK, &st, cause) != 0)
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

/* ---- label history ---- */

const char *
store_label_source_name(enum store_label_source src)
{
    switch (src) {
    case STORE_LABEL_IMPORT:
        return "import";
    case STORE_LABEL_HUMAN:
        return "human";
    case STORE_LABEL_AUTO:
        return "auto";
    }
    return "?";
}

int
store_label_current(struct store *s, int64_t sample_id, int *label_out,
                    char **cause)
{
    sqlite3_stmt *st = NULL;
    if (store_stmt(s, ST_LABEL_CURRENT, &st, cause) != 0)
        return -1;
    sqlite3_bind_int64(st, 1, sample_id);
    int r = store_row(s, st, cause, "current label");
    if (r < 0)
        return -1;
    if (r == 0) {
        *label_out = -1;
        return wn_fail(cause, "no such sample: %lld", (long long)sample_id);
    }
    *label_out = sqlite3_column_int(st, 0);
    store_done(st);
    return 0;
}

static int
store_label_insert(struct store *s, int64_t sample_id, int new_label,
                   enum store_label_source src, int64_t run_id, double score,
                   const char *note, char **cause)
{
    int old, n;
    if (store_label_current(s, sample_id, &old, cause) != 0 ||
        store_class_count(s, &n, cause) != 0)
        return -1;
    if (new_label < 0 || new_label >= n)
        return wn_fail(cause, "no such class: %d", new_label);
    return store_event_insert(s, sample_id, old, new_label, src, run_id, score,
                              note, 0, NULL, cause);
}

int
store_label_append(struct store *s, int64_t sample_id, int new_label,
                   enum store_label_source src, int64_t run_id, double score,
                   const char *note, char **cause)
{
    int own;
    if (store_wbegin(s, &own, cause) != 0)
        return -1;
    return store_wend(s, own,
                      store_label_insert(s, sample_id, new_label, src, run_id,
                                         score, note, cause),
                      cause);
}

/* ---- summary ---- */

/* Add n to counts[label] when the label is a class id. */
static int
store_count_by_label(struct store *s, enum store_stmt_id id, int64_t *counts,
                     int n_classes, char **cause)
{
    sqlite3_stmt *st = NULL;
    int rc;
    if (store_stmt(s, id, &st, cause) != 0)
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

    if (store_int64(s, &store_sql[ST_SUM_SAMPLES], &out->n_samples,
                    cause) != 0 ||
        store_class_names(s, &out->class_names, &out->n_classes, cause) != 0)
        return -1;
    size_t nc = (size_t)out->n_classes;
    out->class_counts = xcalloc(nc, sizeof *out->class_counts);
    out->class_given = xcalloc(nc, sizeof *out->class_given);
    if (store_count_by_label(s, ST_SUM_CURRENT, out->class_counts,
                             out->n_classes, cause) != 0 ||
        store_count_by_label(s, ST_SUM_GIVEN, out->class_given, out->n_classes,
                             cause) != 0)
        return -1;

    if (store_stmt(s, ST_SUM_SIZES, &st, cause) != 0)
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

    if (store_stmt(s, ST_SUM_DUPS, &st, cause) != 0)
        return -1;
    if (store_row(s, st, cause, "summary") != 1)
        return -1;
    out->dup_groups = sqlite3_column_int64(st, 0);
    out->dup_samples = sqlite3_column_int64(st, 1);
    store_done(st);
    if (store_int64(s, &store_sql[ST_SUM_CONFLICTS], &out->dup_conflicts,
                    cause) != 0)
        return -1;

    if (store_stmt(s, ST_SUM_SOURCES, &st, cause) != 0)
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

    if (store_stmt(s, ST_SUM_RUNS, &st, cause) != 0)
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

    if (store_int64(s, &store_sql[ST_SUM_HUMAN], &out->n_human_events,
                    cause) != 0)
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
    int own = s->txn == STORE_TXN_NONE && sqlite3_get_autocommit(s->db);
    if (own && store_exec_id(s, ST_BEGIN_READ, cause) != 0)
        return -1;
    int r = store_summary_read(s, out, cause);
    if (own) {
        if (r == 0)
            r = store_exec_id(s, ST_COMMIT, cause);
        store_rollback_db(s);
    }
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
