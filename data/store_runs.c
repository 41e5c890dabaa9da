/* data/store_runs.c: scoring runs and their scores in the project file.
 *
 * A run is created "running" when a job starts, keeps a heartbeat while it
 * trains, and ends "done" (with scores), "interrupted" (with a checkpoint)
 * or "failed" (with a message). Scores are written only by
 * store_run_publish, in the same transaction that marks the run done, so
 * the newest done run is always complete: readers pick it and never see a
 * run half written.
 *
 * The status names are written only from run_status_names: the SQL binds
 * them, so the names old project files hold stay the one place to look.
 * A job takes its run with store_run_claim, which also settles the runs
 * of processes that died. */
#include "config.h"

#include "data/store.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data/store_internal.h"

enum run_stmt {
    RS_CREATE,
    RS_STATUS,
    RS_INTERRUPT,
    RS_CHECKPOINT,
    RS_SAVE_CHECKPOINT,
    RS_LATEST,
    RS_LATEST_ANY,
    RS_GET,
    RS_SCORE_INSERT,
    RS_NOISE_INSERT,
    RS_DONE,
    RS_NOISE_READ,
    RS_SCORE_WALK,
    RS_SCORE_SCAN,
    RS_COUNT
};

static const char *const run_sql[RS_COUNT] = {
    [RS_CREATE] = "INSERT INTO runs (status, started, seed, params, version, "
                  "pid, heartbeat) VALUES (?6, ?1, ?2, ?3, ?4, ?5, ?1)",
    /* ?6: the new status is running. */
    [RS_STATUS] = "UPDATE runs SET status = ?2, message = coalesce(?3, "
                  "message), heartbeat = ?4, finished = CASE WHEN ?6 "
                  "THEN NULL ELSE ?4 END, pid = CASE WHEN ?6 THEN ?5 "
                  "ELSE pid END WHERE id = ?1",
    [RS_INTERRUPT] = "UPDATE runs SET status = ?4, checkpoint = ?2, "
                     "finished = ?3, heartbeat = ?3 WHERE id = ?1",
    [RS_CHECKPOINT] = "SELECT checkpoint FROM runs WHERE id = ?1",
    [RS_SAVE_CHECKPOINT] = "UPDATE runs SET checkpoint = ?2, heartbeat = ?3 "
                           "WHERE id = ?1 AND status = ?4",
    [RS_LATEST] = "SELECT id FROM runs WHERE status = ?1 ORDER BY id DESC "
                  "LIMIT 1",
    [RS_LATEST_ANY] = "SELECT id FROM runs ORDER BY id DESC LIMIT 1",
    [RS_GET] = "SELECT id, status, started, coalesce(finished, 0), seed, "
               "params, version, message, coalesce(pid, 0), "
               "coalesce(heartbeat, 0), coalesce(n_samples, 0), "
               "coalesce(n_classes, 0), seconds, noise_rate "
               "FROM runs WHERE id = ?1",
    [RS_SCORE_INSERT] =
        "INSERT INTO scores (run_id, sample_id, score, self_confidence, "
        "margin, cl_flag, aum, elr, knn, label, suggested, suggested_prob, "
        "flagged, top, outlier) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
        "?10, ?11, ?12, ?13, ?14, ?15)",
    [RS_NOISE_INSERT] = "INSERT INTO class_noise (run_id, given, true_label, "
                        "rate) VALUES (?1, ?2, ?3, ?4)",
    [RS_DONE] = "UPDATE runs SET status = ?7, finished = ?2, heartbeat "
                "= ?2, n_samples = ?3, n_classes = ?4, seconds = ?5, "
                "noise_rate = ?6, checkpoint = NULL, message = NULL "
                "WHERE id = ?1",
    [RS_NOISE_READ] = "SELECT given, true_label, rate FROM class_noise "
                      "WHERE run_id = ?1",
    [RS_SCORE_WALK] =
        "SELECT s.path, s.given_label, coalesce(c.label, s.given_label), "
        "coalesce(c.source = 'human', 0), sc.sample_id, sc.score, "
        "sc.self_confidence, sc.margin, sc.cl_flag, sc.aum, sc.elr, sc.knn, "
        "sc.label, sc.suggested, sc.suggested_prob, sc.flagged, sc.top, "
        "sc.outlier "
        "FROM scores sc JOIN samples s ON s.id = sc.sample_id "
        "LEFT JOIN (SELECT e.sample_id, e.new_label AS label, e.source "
        "FROM label_events e JOIN (SELECT max(id) AS mid FROM label_events "
        "GROUP BY sample_id) m ON e.id = m.mid) c ON c.sample_id = s.id "
        "WHERE sc.run_id = ?1 ORDER BY sc.score DESC, sc.sample_id",
    /* The table's own order, (run_id, sample_id): one sequential read,
     * with the columns in RS_SCORE_WALK's places from sc.sample_id on. */
    [RS_SCORE_SCAN] =
        "SELECT NULL, NULL, NULL, NULL, sample_id, score, self_confidence, "
        "margin, cl_flag, aum, elr, knn, label, suggested, suggested_prob, "
        "flagged, top, outlier FROM scores WHERE run_id = ?1 "
        "ORDER BY sample_id",
};

/* The names the runs table stores, and its CHECK constraint allows. */
static const char *const run_status_names[STORE_RUN_STATUSES] = {
    [STORE_RUN_RUNNING] = "running",
    [STORE_RUN_INTERRUPTED] = "interrupted",
    [STORE_RUN_FAILED] = "failed",
    [STORE_RUN_DONE] = "done",
};

const char *
store_run_status_name(enum store_run_status st)
{
    if ((unsigned)st >= STORE_RUN_STATUSES)
        return "?";
    return run_status_names[st];
}

int
store_run_status_parse(const char *name, enum store_run_status *out,
                       char **cause)
{
    for (int i = 0; name != NULL && i < STORE_RUN_STATUSES; i++)
        if (strcmp(name, run_status_names[i]) == 0) {
            *out = (enum store_run_status)i;
            return 0;
        }
    return wn_fail(cause, "no such run status: '%s'", name != NULL ? name : "");
}

static int
run_stmt(struct store *s, enum run_stmt id, sqlite3_stmt **out, char **cause)
{
    return store_stmt_get(s, &run_sql[id], out, cause);
}

/* NAN is stored as NULL: SQLite has no NaN, and NULL reads as "not
 * computed". */
static void
bind_real(sqlite3_stmt *st, int i, double v)
{
    if (isnan(v))
        sqlite3_bind_null(st, i);
    else
        sqlite3_bind_double(st, i, v);
}

static double
column_real(sqlite3_stmt *st, int col)
{
    if (sqlite3_column_type(st, col) == SQLITE_NULL)
        return NAN;
    return sqlite3_column_double(st, col);
}

int
store_run_create(struct store *s, uint64_t seed, const char *params,
                 const char *version, int64_t *id_out, char **cause)
{
    int own;
    if (store_wbegin(s, &own, cause) != 0)
        return -1;
    sqlite3_stmt *st;
    int rc = run_stmt(s, RS_CREATE, &st, cause);
    if (rc == 0) {
        sqlite3_bind_int64(st, 1, wn_time_ms());
        /* SQLite integers are signed: keep the bits, read them back. */
        sqlite3_bind_int64(st, 2, (sqlite3_int64)seed);
        rc = store_bind_text(s, st, 3, params, cause);
        if (rc == 0)
            rc = store_bind_text(s, st, 4, version, cause);
        if (rc == 0)
            rc = store_bind_text(
                s, st, 6, store_run_status_name(STORE_RUN_RUNNING), cause);
        if (rc == 0) {
            sqlite3_bind_int64(st, 5, (sqlite3_int64)getpid());
            rc = store_run(s, st, cause, "create run");
        }
    }
    if (rc == 0)
        *id_out = sqlite3_last_insert_rowid(s->db);
    return store_wend(s, own, rc, cause);
}

int
store_run_mark(struct store *s, int64_t run_id, enum store_run_status status,
               const char *message, char **cause)
{
    if ((unsigned)status >= STORE_RUN_STATUSES)
        return wn_fail(cause, "no such run status: %d", (int)status);
    int own;
    if (store_wbegin(s, &own, cause) != 0)
        return -1;
    sqlite3_stmt *st;
    int rc = run_stmt(s, RS_STATUS, &st, cause);
    if (rc == 0) {
        sqlite3_bind_int64(st, 1, run_id);
        rc = store_bind_text(s, st, 2, store_run_status_name(status), cause);
        if (rc == 0 && message != NULL)
            rc = store_bind_text(s, st, 3, message, cause);
        if (rc == 0) {
            sqlite3_bind_int64(st, 4, wn_time_ms());
            sqlite3_bind_int64(st, 5, (sqlite3_int64)getpid());
            sqlite3_bind_int(st, 6, status == STORE_RUN_RUNNING);
            rc = store_run(s, st, cause, "update run");
        }
    }
    return store_wend(s, own, rc, cause);
}

int
store_run_set_status(struct store *s, int64_t run_id, const char *status,
                     const char *message, char **cause)
{
    enum store_run_status st;
    if (store_run_status_parse(status, &st, cause) != 0)
        return -1;
    return store_run_mark(s, run_id, st, message, cause);
}

/* Write a run's checkpoint (RS_INTERRUPT also marks it interrupted;
 * RS_SAVE_CHECKPOINT leaves a running run running). status is the one
 * the statement writes or requires. */
static int
run_put_checkpoint(struct store *s, enum run_stmt which,
                   enum store_run_status status, int64_t run_id,
                   const void *checkpoint, size_t len, char **cause)
{
    int own;
    if (store_wbegin(s, &own, cause) != 0)
        return -1;
    sqlite3_stmt *st;
    int rc = run_stmt(s, which, &st, cause);
    if (rc == 0) {
        sqlite3_bind_int64(st, 1, run_id);
        if (checkpoint != NULL && len > 0)
            rc = store_bind_blob(s, st, 2, checkpoint, len, cause);
        if (rc == 0)
            rc =
                store_bind_text(s, st, 4, store_run_status_name(status), cause);
        if (rc == 0) {
            sqlite3_bind_int64(st, 3, wn_time_ms());
            rc = store_run(s, st, cause, "save checkpoint");
        }
    }
    return store_wend(s, own, rc, cause);
}

int
store_run_interrupt(struct store *s, int64_t run_id, const void *checkpoint,
                    size_t len, char **cause)
{
    return run_put_checkpoint(s, RS_INTERRUPT, STORE_RUN_INTERRUPTED, run_id,
                              checkpoint, len, cause);
}

int
store_run_save_checkpoint(struct store *s, int64_t run_id,
                          const void *checkpoint, size_t len, char **cause)
{
    return run_put_checkpoint(s, RS_SAVE_CHECKPOINT, STORE_RUN_RUNNING, run_id,
                              checkpoint, len, cause);
}

int
store_run_checkpoint(struct store *s, int64_t run_id, void **blob_out,
                     size_t *len_out, char **cause)
{
    sqlite3_stmt *st;
    *blob_out = NULL;
    *len_out = 0;
    if (run_stmt(s, RS_CHECKPOINT, &st, cause) != 0)
        return -1;
    sqlite3_bind_int64(st, 1, run_id);
    if (store_row_of(s, st, "read checkpoint", "no run", run_id, cause) != 0)
        return -1;
    int n = sqlite3_column_bytes(st, 0);
    if (n > 0) {
        *blob_out = xmalloc((size_t)n);
        memcpy(*blob_out, sqlite3_column_blob(st, 0), (size_t)n);
        *len_out = (size_t)n;
    }
    store_done(st);
    return 0;
}

/* The newest run whose status is named status (NULL: any). */
static int
run_newest(struct store *s, const char *status, int64_t *id_out, char **cause)
{
    sqlite3_stmt *st;
    if (run_stmt(s, status ? RS_LATEST : RS_LATEST_ANY, &st, cause) != 0)
        return -1;
    if (status != NULL && store_bind_text(s, st, 1, status, cause) != 0)
        return -1;
    return store_row_int64(s, st, "find run", *id_out, id_out, cause);
}

int
store_run_newest(struct store *s, enum store_run_status status, int64_t *id_out,
                 char **cause)
{
    *id_out = 0;
    if ((unsigned)status >= STORE_RUN_STATUSES)
        return wn_fail(cause, "no such run status: %d", (int)status);
    return run_newest(s, store_run_status_name(status), id_out, cause);
}

int
store_run_latest(struct store *s, const char *status, int64_t *id_out,
                 char **cause)
{
    enum store_run_status st;
    *id_out = 0;
    if (status != NULL && store_run_status_parse(status, &st, cause) != 0)
        return -1;
    return run_newest(s, status, id_out, cause);
}

static char *
column_strdup(sqlite3_stmt *st, int col)
{
    const char *t = (const char *)sqlite3_column_text(st, col);
    return t != NULL ? xstrdup(t) : NULL;
}

int
store_run_get(struct store *s, int64_t run_id, struct store_run *out,
              char **cause)
{
    sqlite3_stmt *st;
    memset(out, 0, sizeof *out);
    if (run_stmt(s, RS_GET, &st, cause) != 0)
        return -1;
    sqlite3_bind_int64(st, 1, run_id);
    if (store_row_of(s, st, "read run", "no run", run_id, cause) != 0)
        return -1;
    out->id = sqlite3_column_int64(st, 0);
    const char *status = (const char *)sqlite3_column_text(st, 1);
    if (store_run_status_parse(status, &out->state, NULL) != 0) {
        wn_fail(cause, "project file is corrupt: run %lld has status '%s'",
                (long long)run_id, status != NULL ? status : "");
        store_done(st);
        return -1;
    }
    out->status = store_run_status_name(out->state);
    out->started = sqlite3_column_int64(st, 2);
    out->finished = sqlite3_column_int64(st, 3);
    out->seed = (uint64_t)sqlite3_column_int64(st, 4);
    out->params = column_strdup(st, 5);
    out->version = column_strdup(st, 6);
    out->message = column_strdup(st, 7);
    out->pid = sqlite3_column_int64(st, 8);
    out->heartbeat = sqlite3_column_int64(st, 9);
    out->n_samples = sqlite3_column_int64(st, 10);
    out->n_classes = sqlite3_column_int(st, 11);
    out->seconds = column_real(st, 12);
    out->noise_rate = column_real(st, 13);
    store_done(st);
    return 0;
}

void
store_run_fini(struct store_run *r)
{
    if (r == NULL)
        return;
    free(r->params);
    free(r->version);
    free(r->message);
    memset(r, 0, sizeof *r);
}

/* A run marked running is either alive (its process exists and its
 * heartbeat is fresh) or orphaned by a crash or kill -9. A live one makes
 * the claim refuse to race it; an orphaned one is marked interrupted, as a
 * stopped one would be, so that --resume continues it: from the checkpoint
 * it kept, or from the start under the same id and settings. */
static int
claim_check_busy(struct store *s, int64_t stale_ms, char **cause)
{
    for (;;) {
        int64_t id;
        if (store_run_newest(s, STORE_RUN_RUNNING, &id, cause) != 0)
            return -1;
        if (id == 0)
            return 0;
        struct store_run r;
        if (store_run_get(s, id, &r, cause) != 0)
            return -1;
        int alive = r.pid > 0 && r.pid != (int64_t)getpid() &&
                    (kill((pid_t)r.pid, 0) == 0 || errno == EPERM);
        /* The heartbeat comes every few seconds, but one step between
         * beats (the neighbour votes of a very large set, a publication
         * waiting for the write lock) can take minutes; a live process
         * with a beat that old is still taken for the run's owner, and
         * only a process that is gone, or a beat older than stale_ms,
         * frees the run. */
        int fresh = wn_time_ms() - r.heartbeat < stale_ms;
        int64_t pid = r.pid;
        store_run_fini(&r);
        if (alive && fresh)
            return wn_fail(cause,
                           "project is busy: run %lld is being scored by "
                           "process %lld",
                           (long long)id, (long long)pid);
        if (store_run_mark(s, id, STORE_RUN_INTERRUPTED,
                           "the process scoring it ended without "
                           "finishing",
                           cause) != 0)
            return -1;
    }
}

/* The newest interrupted run, if it was started with these settings;
 * running again from here. */
static int
claim_resume(struct store *s, const struct store_run_request *req,
             int64_t *id_out, void **resume_out, size_t *resume_len_out,
             char **cause)
{
    int64_t id;
    if (store_run_newest(s, STORE_RUN_INTERRUPTED, &id, cause) != 0)
        return -1;
    if (id == 0)
        return wn_fail(cause, "no interrupted run to resume");
    struct store_run r;
    if (store_run_get(s, id, &r, cause) != 0)
        return -1;
    int same = r.params != NULL && req->params != NULL &&
               strcmp(r.params, req->params) == 0 && r.seed == req->seed;
    store_run_fini(&r);
    if (!same)
        return wn_fail(cause,
                       "run %lld was started with other settings or "
                       "samples; start a new run instead",
                       (long long)id);
    if (store_run_checkpoint(s, id, resume_out, resume_len_out, cause) != 0 ||
        store_run_mark(s, id, STORE_RUN_RUNNING, NULL, cause) != 0)
        return -1;
    *id_out = id;
    return 0;
}

int
store_run_claim(struct store *s, const struct store_run_request *req,
                int64_t *id_out, void **resume_out, size_t *resume_len_out,
                char **cause)
{
    *id_out = 0;
    *resume_out = NULL;
    *resume_len_out = 0;
    if (store_begin(s, cause) != 0)
        return -1;
    int rc = claim_check_busy(s, req->stale_ms, cause);
    if (rc == 0 && req->resume)
        rc = claim_resume(s, req, id_out, resume_out, resume_len_out, cause);
    else if (rc == 0)
        rc = store_run_create(s, req->seed, req->params, req->version, id_out,
                              cause);
    if (rc == 0 && store_commit(s, cause) == 0)
        return 0;
    store_rollback(s);
    free(*resume_out);
    *resume_out = NULL;
    *resume_len_out = 0;
    *id_out = 0;
    return -1;
}

/* The top classes travel as text, "3:0.912,5:0.051,1:0.020": short,
 * readable in the sqlite3 shell, and free to grow to more classes. */
static void
top_format(const struct store_score *x, char *buf, size_t len)
{
    size_t o = 0;
    buf[0] = '\0';
    for (int i = 0; i < STORE_TOP_CLASSES && x->top[i] >= 0; i++) {
        int w = snprintf(buf + o, len - o, "%s%d:%.4f", i ? "," : "", x->top[i],
                         x->top_prob[i]);
        if (w < 0 || (size_t)w >= len - o)
            break;
        o += (size_t)w;
    }
}

static void
top_parse(const char *text, struct store_score *x)
{
    for (int i = 0; i < STORE_TOP_CLASSES; i++) {
        x->top[i] = -1;
        x->top_prob[i] = NAN;
    }
    for (int i = 0; text != NULL && *text && i < STORE_TOP_CLASSES; i++) {
        char *end;
        long c = strtol(text, &end, 10);
        if (*end != ':')
            return;
        double p = strtod(end + 1, &end);
        x->top[i] = (int)c;
        x->top_prob[i] = p;
        text = *end == ',' ? end + 1 : end;
    }
}

static int
publish_rows(struct store *s, int64_t run_id, const struct store_score *sc,
             size_t n, const double *matrix, int k, double noise_rate,
             double seconds, char **cause)
{
    sqlite3_stmt *st;
    if (run_stmt(s, RS_SCORE_INSERT, &st, cause) != 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const struct store_score *x = &sc[i];
        sqlite3_bind_int64(st, 1, run_id);
        sqlite3_bind_int64(st, 2, x->sample_id);
        sqlite3_bind_double(st, 3, isnan(x->score) ? 0.0 : x->score);
        bind_real(st, 4, x->self_confidence);
        bind_real(st, 5, x->margin);
        sqlite3_bind_int(st, 6, x->cl_flag);
        bind_real(st, 7, x->aum);
        bind_real(st, 8, x->elr);
        bind_real(st, 9, x->knn);
        sqlite3_bind_int(st, 10, x->label);
        if (x->suggested >= 0)
            sqlite3_bind_int(st, 11, x->suggested);
        else
            sqlite3_bind_null(st, 11);
        bind_real(st, 12, x->suggested_prob);
        sqlite3_bind_int(st, 13, x->flagged);
        bind_real(st, 15, x->outlier);
        char top[STORE_TOP_CLASSES * 32];
        top_format(x, top, sizeof top);
        if (top[0] != '\0' && store_bind_text(s, st, 14, top, cause) != 0)
            return -1;
        if (store_run(s, st, cause, "write scores") != 0)
            return -1;
    }
    if (matrix != NULL) {
        if (run_stmt(s, RS_NOISE_INSERT, &st, cause) != 0)
            return -1;
        for (int g = 0; g < k; g++)
            for (int t = 0; t < k; t++) {
                double v = matrix[(size_t)g * (size_t)k + (size_t)t];
                /* The matrix is mostly zeros for many classes: keep only
                 * what carries information. */
                if (v == 0.0 && g != t)
                    continue;
                sqlite3_bind_int64(st, 1, run_id);
                sqlite3_bind_int(st, 2, g);
                sqlite3_bind_int(st, 3, t);
                sqlite3_bind_double(st, 4, v);
                if (store_run(s, st, cause, "write noise matrix") != 0)
                    return -1;
            }
    }
    if (run_stmt(s, RS_DONE, &st, cause) != 0)
        return -1;
    sqlite3_bind_int64(st, 1, run_id);
    sqlite3_bind_int64(st, 2, wn_time_ms());
    sqlite3_bind_int64(st, 3, (sqlite3_int64)n);
    sqlite3_bind_int(st, 4, k);
    bind_real(st, 5, seconds);
    bind_real(st, 6, noise_rate);
    if (store_bind_text(s, st, 7, store_run_status_name(STORE_RUN_DONE),
                        cause) != 0)
        return -1;
    return store_run(s, st, cause, "finish run");
}

int
store_run_publish(struct store *s, int64_t run_id,
                  const struct store_score *scores, size_t n,
                  const double *noise_matrix, int k, double noise_rate,
                  double seconds, char **cause)
{
    int own;
    if (store_wbegin(s, &own, cause) != 0)
        return -1;
    return store_wend(s, own,
                      publish_rows(s, run_id, scores, n, noise_matrix, k,
                                   noise_rate, seconds, cause),
                      cause);
}

int
store_run_noise(struct store *s, int64_t run_id, double **matrix_out,
                int *k_out, char **cause)
{
    struct store_run r;
    if (store_run_get(s, run_id, &r, cause) != 0)
        return -1;
    int k = r.n_classes;
    store_run_fini(&r);
    *matrix_out = NULL;
    *k_out = k;
    if (k <= 0)
        return wn_fail(cause, "run %lld has no noise estimate",
                       (long long)run_id);
    double *m = xcalloc((size_t)k * (size_t)k, sizeof *m);
    sqlite3_stmt *st;
    if (run_stmt(s, RS_NOISE_READ, &st, cause) != 0) {
        free(m);
        return -1;
    }
    sqlite3_bind_int64(st, 1, run_id);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int g = sqlite3_column_int(st, 0), t = sqlite3_column_int(st, 1);
        if (g >= 0 && g < k && t >= 0 && t < k)
            m[(size_t)g * (size_t)k + (size_t)t] = sqlite3_column_double(st, 2);
    }
    if (rc != SQLITE_DONE) {
        store_fail(s, rc, cause, "read noise matrix");
        store_done(st);
        free(m);
        return -1;
    }
    store_done(st);
    *matrix_out = m;
    return 0;
}

/* The score columns of RS_SCORE_WALK and RS_SCORE_SCAN, from column 4. */
static void
score_columns(sqlite3_stmt *st, struct store_score *sc)
{
    sc->sample_id = sqlite3_column_int64(st, 4);
    sc->score = sqlite3_column_double(st, 5);
    sc->self_confidence = column_real(st, 6);
    sc->margin = column_real(st, 7);
    sc->cl_flag = sqlite3_column_int(st, 8);
    sc->aum = column_real(st, 9);
    sc->elr = column_real(st, 10);
    sc->knn = column_real(st, 11);
    sc->label = sqlite3_column_int(st, 12);
    sc->suggested = sqlite3_column_type(st, 13) == SQLITE_NULL
                        ? -1
                        : sqlite3_column_int(st, 13);
    sc->suggested_prob = column_real(st, 14);
    sc->flagged = sqlite3_column_int(st, 15);
    top_parse((const char *)sqlite3_column_text(st, 16), sc);
    sc->outlier = column_real(st, 17);
}

int
store_foreach_score(struct store *s, int64_t run_id, store_scored_fn fn,
                    void *ctx, char **cause)
{
    sqlite3_stmt *st;
    if (run_stmt(s, RS_SCORE_WALK, &st, cause) != 0)
        return -1;
    sqlite3_bind_int64(st, 1, run_id);
    int rc, r = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_scored row;
        row.path = (const char *)sqlite3_column_text(st, 0);
        if (row.path == NULL)
            row.path = "";
        row.given_label = sqlite3_column_int(st, 1);
        row.label = sqlite3_column_int(st, 2);
        row.human = sqlite3_column_int(st, 3);
        score_columns(st, &row.sc);
        r = fn(ctx, &row, cause);
        if (r != 0)
            break;
    }
    if (r == 0 && rc != SQLITE_DONE && rc != SQLITE_ROW)
        r = store_fail(s, rc, cause, "read scores");
    store_done(st);
    return r;
}

int
store_foreach_run_score(struct store *s, int64_t run_id, store_score_fn fn,
                        void *ctx, char **cause)
{
    sqlite3_stmt *st;
    if (run_stmt(s, RS_SCORE_SCAN, &st, cause) != 0)
        return -1;
    sqlite3_bind_int64(st, 1, run_id);
    int rc, r = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_score sc;
        score_columns(st, &sc);
        r = fn(ctx, &sc, cause);
        if (r != 0)
            break;
    }
    if (r == 0 && rc != SQLITE_DONE && rc != SQLITE_ROW)
        r = store_fail(s, rc, cause, "read scores");
    store_done(st);
    return r;
}
