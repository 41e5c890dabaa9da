/* Run statuses and claiming a run: the name table round trip and the
 * names the file holds, and store_run_claim refusing a live run, marking
 * an orphaned one interrupted, resuming one and creating a fresh one. A
 * raw sqlite3 connection plays the other process's part. */
#include "config.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "data/base.h"
#include "data/store.h"
#include "tests/fixtures.h"
#include "tests/tap.h"

#define STALE_MS 60000

static sqlite3 *
raw_open(const char *path)
{
    sqlite3 *db;
    if (sqlite3_open(path, &db) != SQLITE_OK)
        bail("raw open %s: %s", path, sqlite3_errmsg(db));
    sqlite3_busy_timeout(db, 5000);
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
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* The text of the first column of the first row, malloc'd ("" if none). */
static char *
raw_text(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    char *v = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        bail("raw prepare %s: %s", sql, sqlite3_errmsg(db));
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0) != NULL)
        v = xstrdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return v != NULL ? v : xstrdup("");
}

/* Make run id look like another process's: pid and heartbeat age. */
static void
raw_own(sqlite3 *db, int64_t id, long pid, int64_t age_ms)
{
    char sql[160];
    snprintf(sql, sizeof sql,
             "UPDATE runs SET pid = %ld, heartbeat = %lld WHERE id = %lld", pid,
             (long long)(wn_time_ms() - age_ms), (long long)id);
    raw_exec(db, sql);
}

/* A pid no process has: a child that has exited and been reaped. */
static long
dead_pid(void)
{
    pid_t p = fork();
    if (p < 0)
        bail("fork failed");
    if (p == 0)
        _exit(0);
    waitpid(p, NULL, 0);
    return (long)p;
}

static void
test_names(sqlite3 *raw, struct store *s)
{
    static const char *const stored[STORE_RUN_STATUSES] = {
        [STORE_RUN_RUNNING] = "running",
        [STORE_RUN_INTERRUPTED] = "interrupted",
        [STORE_RUN_FAILED] = "failed",
        [STORE_RUN_DONE] = "done",
    };
    char *cause = NULL;
    int round = 1;
    for (int i = 0; i < STORE_RUN_STATUSES; i++) {
        enum store_run_status st = (enum store_run_status)i;
        enum store_run_status back;
        const char *name = store_run_status_name(st);
        round &= strcmp(name, stored[i]) == 0 &&
                 store_run_status_parse(name, &back, &cause) == 0 && back == st;
    }
    ok(round, "every status has the name old files hold, and parses back");
    enum store_run_status back;
    ok(store_run_status_parse("Done", &back, &cause) != 0,
       "names are matched exactly");
    is_str(cause, "no such run status: 'Done'");
    free(cause);
    cause = NULL;
    is_str(store_run_status_name((enum store_run_status)STORE_RUN_STATUSES),
           "?");

    /* What the file holds through each status, as the schema allows. */
    int64_t id;
    if (store_run_create(s, 1, "p", "test", &id, &cause) != 0)
        bail("create: %s", cause);
    char sql[80];
    snprintf(sql, sizeof sql, "SELECT status FROM runs WHERE id = %lld",
             (long long)id);
    int stored_ok = 1;
    for (int i = STORE_RUN_STATUSES - 1; i >= 0; i--) {
        enum store_run_status st = (enum store_run_status)i;
        struct store_run r;
        if (store_run_mark(s, id, st, NULL, &cause) != 0 ||
            store_run_get(s, id, &r, &cause) != 0)
            bail("mark %s: %s", stored[i], cause);
        char *text = raw_text(raw, sql);
        stored_ok &= strcmp(text, stored[i]) == 0 && r.state == st &&
                     strcmp(r.status, stored[i]) == 0;
        free(text);
        store_run_fini(&r);
    }
    ok(stored_ok, "store_run_mark writes each name; store_run_get reads it");
    int64_t newest;
    ok(store_run_newest(s, STORE_RUN_RUNNING, &newest, &cause) == 0 &&
           newest == id,
       "store_run_newest finds the run by its status");
    ok(store_run_newest(s, STORE_RUN_DONE, &newest, &cause) == 0 && newest == 0,
       "and nothing for a status no run has");
    ok(store_run_latest(s, "bogus", &newest, &cause) != 0,
       "a name that is no status is refused");
    free(cause);
    cause = NULL;

    raw_exec(raw, "PRAGMA ignore_check_constraints = ON");
    snprintf(sql, sizeof sql,
             "UPDATE runs SET status = 'zombie' WHERE id = %lld",
             (long long)id);
    raw_exec(raw, sql);
    struct store_run r;
    ok(store_run_get(s, id, &r, &cause) != 0,
       "a run with a status the table does not know fails to read");
    char want[80];
    snprintf(want, sizeof want,
             "project file is corrupt: run %lld has status 'zombie'",
             (long long)id);
    is_str(cause, want);
    free(cause);
    cause = NULL;
    raw_exec(raw, "DELETE FROM runs");
}

static void
test_claim(sqlite3 *raw, struct store *s)
{
    char *cause = NULL;
    void *resume = (void *)1;
    size_t resume_len = 99;
    int64_t id = -1, first;
    struct store_run_request req = {.seed = 7,
                                    .params = "epochs=3",
                                    .version = "test",
                                    .resume = 0,
                                    .stale_ms = STALE_MS};
    struct store_run r;

    ok(store_run_claim(s, &req, &id, &resume, &resume_len, &cause) == 0 &&
           id > 0,
       "a fresh claim creates a run");
    ok(resume == NULL && resume_len == 0, "with nothing to resume");
    if (store_run_get(s, id, &r, &cause) != 0)
        bail("get: %s", cause);
    ok(r.state == STORE_RUN_RUNNING && r.pid == (int64_t)getpid() &&
           r.seed == 7 && strcmp(r.params, "epochs=3") == 0,
       "running, owned by this process, with its settings");
    store_run_fini(&r);
    first = id;

    /* Another live process (our parent) scoring it, heartbeat fresh. */
    raw_own(raw, first, (long)getppid(), 0);
    ok(store_run_claim(s, &req, &id, &resume, &resume_len, &cause) != 0,
       "a run another live process is scoring refuses the claim");
    char want[120];
    snprintf(want, sizeof want,
             "project is busy: run %lld is being scored by process %ld",
             (long long)first, (long)getppid());
    is_str(cause, want);
    free(cause);
    cause = NULL;
    ok(id == 0 && resume == NULL, "leaving no run id behind");
    is_int(raw_int(raw, "SELECT count(*) FROM runs"), ==, 1);
    is_int(raw_int(raw, "SELECT count(*) FROM runs WHERE status = "
                        "'running'"),
           ==, 1);

    /* The same process, its heartbeat past the limit: taken for gone. */
    raw_own(raw, first, (long)getppid(), STALE_MS + 1000);
    ok(store_run_claim(s, &req, &id, &resume, &resume_len, &cause) == 0 &&
           id > first,
       "a live process silent past the limit does not hold the run");
    if (store_run_get(s, first, &r, &cause) != 0)
        bail("get: %s", cause);
    ok(r.state == STORE_RUN_INTERRUPTED && r.message != NULL &&
           strcmp(r.message, "the process scoring it ended without "
                             "finishing") == 0,
       "its run is marked interrupted, saying why");
    store_run_fini(&r);
    int64_t second = id;

    /* A dead process's run, however fresh its heartbeat. */
    raw_own(raw, second, dead_pid(), 0);
    ok(store_run_claim(s, &req, &id, &resume, &resume_len, &cause) == 0 &&
           id > second,
       "the run of a process that is gone is no obstacle");
    ok(store_run_get(s, second, &r, &cause) == 0 &&
           r.state == STORE_RUN_INTERRUPTED,
       "it is marked interrupted (an orphan)");
    store_run_fini(&r);
    int64_t third = id;

    /* Resume: the newest interrupted run, with its checkpoint. */
    const char blob[] = "training state";
    if (store_run_interrupt(s, third, blob, sizeof blob, &cause) != 0)
        bail("interrupt: %s", cause);
    req.resume = 1;
    req.params = "epochs=4";
    ok(store_run_claim(s, &req, &id, &resume, &resume_len, &cause) != 0 &&
           id == 0,
       "a resume with other settings is refused");
    snprintf(want, sizeof want,
             "run %lld was started with other settings or samples; start "
             "a new run instead",
             (long long)third);
    is_str(cause, want);
    free(cause);
    cause = NULL;
    ok(store_run_get(s, third, &r, &cause) == 0 &&
           r.state == STORE_RUN_INTERRUPTED,
       "and the interrupted run stays as it was");
    store_run_fini(&r);
    req.params = "epochs=3";
    ok(store_run_claim(s, &req, &id, &resume, &resume_len, &cause) == 0 &&
           id == third,
       "a resume takes the newest interrupted run");
    ok(resume != NULL && resume_len == sizeof blob &&
           memcmp(resume, blob, resume_len) == 0,
       "with its checkpoint");
    free(resume);
    resume = NULL;
    ok(store_run_get(s, third, &r, &cause) == 0 &&
           r.state == STORE_RUN_RUNNING && r.pid == (int64_t)getpid(),
       "running again, under this process");
    store_run_fini(&r);

    /* Ours and running: our own pid does not make it alive, so it becomes
     * interrupted, and the resume takes it. */
    ok(store_run_claim(s, &req, &id, &resume, &resume_len, &cause) == 0 &&
           id == third,
       "a run this process left running is resumed too");
    free(resume);
    resume = NULL;
    if (store_run_mark(s, third, STORE_RUN_DONE, NULL, &cause) != 0)
        bail("mark: %s", cause);
    raw_exec(raw, "UPDATE runs SET status = 'done' WHERE status = "
                  "'interrupted'");
    ok(store_run_claim(s, &req, &id, &resume, &resume_len, &cause) != 0 &&
           id == 0,
       "a resume with no interrupted run fails");
    is_str(cause, "no interrupted run to resume");
    free(cause);
    cause = NULL;

    if (store_begin(s, &cause) != 0)
        bail("begin: %s", cause);
    req.resume = 0;
    ok(store_run_claim(s, &req, &id, &resume, &resume_len, &cause) != 0,
       "a claim needs a transaction of its own");
    free(cause);
    cause = NULL;
    store_rollback(s);
}

int
main(void)
{
    char *dir = fx_tmpdir("claim");
    char *db = fx_path(dir, "p.db");
    struct store *s;
    char *cause = NULL;
    if (store_open(db, STORE_CREATE, &s, &cause) != 0)
        bail("open: %s", cause);
    sqlite3 *raw = raw_open(db);

    test_names(raw, s);
    test_claim(raw, s);

    sqlite3_close(raw);
    store_close(s);
    fx_rmtree(dir);
    free(db);
    free(dir);
    return done_testing();
}
