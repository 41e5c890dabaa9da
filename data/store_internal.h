/* data/store_internal.h: what the files of the store module share: the
 * connection, the statement cache, errors and transactions (store.c), and
 * the pieces of SQL and decision code several files use. Not for use
 * outside data/store*.c. */
#ifndef WINNOW_DATA_STORE_INTERNAL_H
#define WINNOW_DATA_STORE_INTERNAL_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>
#define ZLIB_CONST /* const next_in: we never write through it */
#include <zlib.h>

#include "data/store.h"

#define STORE_CAUSE_BUSY     "project is busy: another winnow is writing to it"
#define STORE_CAUSE_READONLY "read-only project file"
#define STORE_CAUSE_READONLY_DIR                                               \
    "read-only folder (the project file needs its -wal and -shm files "        \
    "beside it)"
#define STORE_CAUSE_FOREIGN "not a winnow project file"
#define STORE_CAUSE_FULL    "disk full (no space left on device)"
#define STORE_CAUSE_FBIG                                                       \
    "file too large: the project would pass the file size limit (ulimit -f)"
#define STORE_CAUSE_NOTADB STORE_CAUSE_FOREIGN " (not an SQLite database)"

/* The latest event of every sample, as (sample_id, label, source). A join
 * on max(id) per sample reads the (sample_id, id) index once instead of
 * seeking per sample. */
#define STORE_CURRENT_SQL                                                      \
    "SELECT e.sample_id AS sample_id, e.new_label AS label,"                   \
    " e.source AS source, e.undoes AS undoes FROM label_events e"              \
    " JOIN (SELECT max(id) AS mid FROM label_events GROUP BY sample_id) m"     \
    " ON e.id = m.mid"

/* One prepared statement; sql NULL marks a free slot. */
struct store_stmt_slot {
    const char *const *sql;
    sqlite3_stmt *st;
};

enum store_txn {
    STORE_TXN_NONE,
    STORE_TXN_OPEN,    /* store_begin succeeded */
    STORE_TXN_ABORTED, /* rolled back by a failed call; commit must fail */
};

struct store {
    sqlite3 *db;
    int readonly; /* STORE_READONLY: writes fail before any SQL */
    int opened_version;
    enum store_txn txn;
    int walking; /* store_foreach_sample is running */
    /* Prepared statements, an open-addressing table keyed by the address
     * of each statement's SQL (see store_stmt_get); stmt_cap is 0 or a
     * power of two, and at most half the slots are taken. */
    struct store_stmt_slot *stmts;
    size_t n_stmts, stmt_cap;
    z_stream def, inf; /* kept and reset: a fresh deflate state per
                        * sample costs more than compressing it */
    int def_ready, inf_ready;
    unsigned char *zbuf; /* compressed pixels, reused */
    size_t zcap;
    uint8_t *pix; /* decompressed pixels, reused */
    size_t pixcap;
};

/* The statement whose SQL is *sql, prepared on first use and finalized by
 * store_close. Every file of the module keeps its SQL in a static table
 * and passes the address of an entry: the address, not the text, names
 * the statement, so two files may hold the same text without sharing a
 * statement one of them may be stepping. Adding a file or a statement
 * needs no room reserved anywhere. */
int store_stmt_get(struct store *s, const char *const *sql, sqlite3_stmt **out,
                   char **cause);
/* A single integer from a query without parameters; 0 when no rows. */
int store_int64(struct store *s, const char *const *sql, int64_t *out,
                char **cause);

/* Turn an SQLite result into a cause; returns -1. */
int store_fail(struct store *s, int rc, char **cause, const char *what);
/* The same on a bare connection (db may be NULL: rc alone then). */
int store_fail_db(sqlite3 *db, int rc, char **cause, const char *what);
/* Reset a statement and clear its bindings. */
void store_done(sqlite3_stmt *st);
/* Step a statement to its end; -1 with a cause on error. */
int store_run(struct store *s, sqlite3_stmt *st, char **cause,
              const char *what);
/* Step to the first row: 1 (caller reads, then store_done), 0 none, -1. */
int store_row(struct store *s, sqlite3_stmt *st, char **cause,
              const char *what);
/* Step to a row that must exist: 0 (the caller reads it, then
 * store_done), or -1 with a cause: the step's error, or "MISSING ID"
 * ("no such sample: 12", "no run 3") when there is no row. */
int store_row_of(struct store *s, sqlite3_stmt *st, const char *what,
                 const char *missing, int64_t id, char **cause);
/* The first column of the first row as an integer (an id, a count), or
 * none when there is no row; the statement is reset either way. 0, or -1
 * with a cause. */
int store_row_int64(struct store *s, sqlite3_stmt *st, const char *what,
                    int64_t none, int64_t *out, char **cause);
int store_bind_text(struct store *s, sqlite3_stmt *st, int i, const char *text,
                    char **cause);
int store_bind_blob(struct store *s, sqlite3_stmt *st, int i, const void *p,
                    size_t n, char **cause);
/* Start a write (*own: the call opened the transaction) and finish it with
 * the result rc: commit or roll back. */
int store_wbegin(struct store *s, int *own, char **cause);
int store_wend(struct store *s, int own, int rc, char **cause);
/* The same for reads: one snapshot unless a transaction is open already. */
int store_rbegin(struct store *s, int *own, char **cause);
int store_rend(struct store *s, int own, int rc, char **cause);

/* Shared by the decision code of store_labels.c and store_review.c. */
/* The latest finished run and the sample's score in it (0 / NAN), as every
 * decision event records them. */
int store_score_now(struct store *s, int64_t sample_id, int64_t *run_out,
                    double *score_out, char **cause);
/* Append one label event (old_label -1, run_id 0, score NAN, note NULL,
 * undoes 0 for none); *id_out gets its id when not NULL. In
 * store_labels.c. */
int store_event_insert(struct store *s, int64_t sample_id, int old_label,
                       int new_label, enum store_label_source src,
                       int64_t run_id, double score, const char *note,
                       int64_t undoes, int64_t *id_out, char **cause);
/* Revert one person's decision (store_label_revert's work, inside the
 * caller's transaction); *sample_out, *label_out (the label restored) and
 * *event_out may be NULL. In store_review.c. */
int store_revert_event(struct store *s, int64_t event_id, int64_t *sample_out,
                       int *label_out, int64_t *event_out, char **cause);
/* The events that are one step for an undo with event_id: the decision it
 * belongs to (itself, or the one it follows) and every event following
 * that decision, those still in force, newest first (malloc'd; none when
 * all are undone). In store_follow.c. */
int store_event_group(struct store *s, int64_t event_id, int64_t **ids_out,
                      size_t *n_out, char **cause);

#endif
