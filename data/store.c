/* data/store.c: the project file on SQLite: what every other file of the
 * store module builds on. Errors become causes a person can act on,
 * statements are cached per connection, and writes run in transactions.
 *
 * Statements are prepared once per connection, on first use, and reset
 * after each use; each file keeps its SQL in a static table and names a
 * statement by the address of its entry (store_stmt_get). A write function
 * runs in the caller's transaction or, when there is none, opens its own;
 * a failure rolls back whichever it ran in, so a half-applied call never
 * commits (an explicit transaction that failed makes store_commit fail).
 * The other files: store_open.c (opening and the schema), store_samples.c,
 * store_labels.c, store_runs.c, store_review.c, store_summary.c. */
#include "config.h"

#include "data/store.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "data/store_internal.h"

enum core_stmt { CS_BEGIN, CS_BEGIN_READ, CS_COMMIT, CS_ROLLBACK, CS_COUNT };

static const char *const core_sql[CS_COUNT] = {
    [CS_BEGIN] = "BEGIN IMMEDIATE",
    [CS_BEGIN_READ] = "BEGIN",
    [CS_COMMIT] = "COMMIT",
    [CS_ROLLBACK] = "ROLLBACK",
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
    case ENOSPC: return wn_fail(cause, STORE_CAUSE_FULL);
#ifdef EDQUOT
    case EDQUOT: return wn_fail(cause, "disk quota exceeded");
#endif
    case EFBIG: return wn_fail(cause, STORE_CAUSE_FBIG);
    default: break;
    }
    if (db != NULL)
        return wn_fail(cause, "%s: %s", what, sqlite3_errmsg(db));
    return wn_fail(cause, "%s: %s", what, sqlite3_errstr(rc));
}

/* Turn an SQLite result into a cause. The conditions a person can act on
 * get fixed words; anything else is "what: sqlite's message". */
int
store_fail_db(sqlite3 *db, int rc, char **cause, const char *what)
{
    switch (rc & 0xff) {
    case SQLITE_BUSY: return wn_fail(cause, STORE_CAUSE_BUSY);
    case SQLITE_READONLY:
        /* SQLite keeps -wal and -shm files beside the project and cannot
         * even read it where it may not create them. */
        if (rc == SQLITE_READONLY_DIRECTORY)
            return wn_fail(cause, STORE_CAUSE_READONLY_DIR);
        return wn_fail(cause, STORE_CAUSE_READONLY);
    case SQLITE_FULL: return wn_fail(cause, STORE_CAUSE_FULL);
    case SQLITE_IOERR: return store_fail_io(db, rc, cause, what);
    case SQLITE_NOTADB: return wn_fail(cause, STORE_CAUSE_NOTADB);
    case SQLITE_CORRUPT: return wn_fail(cause, "project file is corrupt");
    case SQLITE_NOMEM:
        /* Not xalloc_die: SQLite also says NOMEM when a corrupt record
         * claims a size beyond its allocation limit (fuzzing found such a
         * file), and then the file is the problem, not the memory. */
        return wn_fail(cause,
                       "%s: out of memory (the project file may be "
                       "corrupt)",
                       what);
    default: break;
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
    int rc = sqlite3_prepare_v3(s->db, *sql, -1, SQLITE_PREPARE_PERSISTENT, &st,
                                NULL);
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
store_row_of(struct store *s, sqlite3_stmt *st, const char *what,
             const char *missing, int64_t id, char **cause)
{
    int r = store_row(s, st, cause, what);
    if (r < 0)
        return -1;
    if (r == 0)
        return wn_fail(cause, "%s %lld", missing, (long long)id);
    return 0;
}

int
store_row_int64(struct store *s, sqlite3_stmt *st, const char *what,
                int64_t none, int64_t *out, char **cause)
{
    int r = store_row(s, st, cause, what);
    if (r < 0)
        return -1;
    *out = r ? sqlite3_column_int64(st, 0) : none;
    if (r)
        store_done(st);
    return 0;
}

int
store_int64(struct store *s, const char *const *sql, int64_t *out, char **cause)
{
    sqlite3_stmt *st = NULL;
    if (store_stmt_get(s, sql, &st, cause) != 0)
        return -1;
    return store_row_int64(s, st, "query", 0, out, cause);
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
store_exec_id(struct store *s, enum core_stmt id, char **cause)
{
    sqlite3_stmt *st = NULL;
    if (store_stmt_get(s, &core_sql[id], &st, cause) != 0)
        return -1;
    return store_run(s, st, cause, core_sql[id]);
}

/* SQLite rolls back by itself after some errors (SQLITE_FULL, IOERR), so
 * only roll back what is still open. */
static void
store_rollback_db(struct store *s)
{
    if (!sqlite3_get_autocommit(s->db))
        (void)store_exec_id(s, CS_ROLLBACK, NULL);
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
        return store_exec_id(s, CS_BEGIN, cause);
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
    if (own && store_exec_id(s, CS_COMMIT, cause) != 0) {
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
    if (store_exec_id(s, CS_BEGIN, cause) != 0)
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
    if (store_exec_id(s, CS_COMMIT, cause) != 0) {
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

/* Start a read snapshot unless a transaction is open already (*own: the
 * call opened it), so that several queries see one state of the file. */
int
store_rbegin(struct store *s, int *own, char **cause)
{
    *own = s->txn == STORE_TXN_NONE && sqlite3_get_autocommit(s->db);
    return *own ? store_exec_id(s, CS_BEGIN_READ, cause) : 0;
}

/* End what store_rbegin opened; rc is the result of the reads. */
int
store_rend(struct store *s, int own, int rc, char **cause)
{
    if (own) {
        if (rc == 0)
            rc = store_exec_id(s, CS_COMMIT, cause);
        store_rollback_db(s);
    }
    return rc;
}
