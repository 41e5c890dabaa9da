/* data/store_internal.h: what store.c shares with the other files of the
 * store module (store_runs.c, store_labels.c, store_review.c). Not for
 * use outside data/store*.c. */
#ifndef WINNOW_DATA_STORE_INTERNAL_H
#define WINNOW_DATA_STORE_INTERNAL_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>
#define ZLIB_CONST /* const next_in: we never write through it */
#include <zlib.h>

#include "data/store.h"

/* Statements of the other files of the module, prepared on first use into
 * store.ext and finalized by store_close: store_runs.c owns the slots
 * [0, STORE_RUNS_STMTS), store_labels.c the next STORE_LABELS_STMTS,
 * store_review.c the next STORE_REVIEW_STMTS. */
#define STORE_RUNS_STMTS   24
#define STORE_LABELS_STMTS 24
#define STORE_REVIEW_STMTS 8
#define STORE_EXT_STMTS                                                        \
    (STORE_RUNS_STMTS + STORE_LABELS_STMTS + STORE_REVIEW_STMTS)
/* Room for store.c's own statements (enum store_stmt_id). */
#define STORE_CORE_STMTS 40

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
    sqlite3_stmt *stmts[STORE_CORE_STMTS]; /* store.c's statements */
    sqlite3_stmt *ext[STORE_EXT_STMTS]; /* the other files' statements */
    z_stream def, inf; /* kept and reset: a fresh deflate state per
                        * sample costs more than compressing it */
    int def_ready, inf_ready;
    unsigned char *zbuf; /* compressed pixels, reused */
    size_t zcap;
    uint8_t *pix; /* decompressed pixels, reused */
    size_t pixcap;
};


/* Turn an SQLite result into a cause; returns -1. */
int store_fail(struct store *s, int rc, char **cause, const char *what);
/* Reset a statement and clear its bindings. */
void store_done(sqlite3_stmt *st);
/* Step a statement to its end; -1 with a cause on error. */
int store_run(struct store *s, sqlite3_stmt *st, char **cause,
              const char *what);
/* Step to the first row: 1 (caller reads, then store_done), 0 none, -1. */
int store_row(struct store *s, sqlite3_stmt *st, char **cause,
              const char *what);
int store_bind_text(struct store *s, sqlite3_stmt *st, int i,
                    const char *text, char **cause);
int store_bind_blob(struct store *s, sqlite3_stmt *st, int i, const void *p,
                    size_t n, char **cause);
/* Start a write (*own: the call opened the transaction) and finish it with
 * the result rc: commit or roll back. */
int store_wbegin(struct store *s, int *own, char **cause);
int store_wend(struct store *s, int own, int rc, char **cause);

/* Shared by the decision code of store_labels.c and store_review.c. */
/* The latest finished run and the sample's score in it (0 / NAN), as every
 * decision event records them. */
int store_score_now(struct store *s, int64_t sample_id, int64_t *run_out,
                    double *score_out, char **cause);
/* Append one label event (old_label -1, run_id 0, score NAN, note NULL,
 * undoes 0 for none); *id_out gets its id when not NULL. In store.c. */
int store_event_insert(struct store *s, int64_t sample_id, int old_label,
                       int new_label, enum store_label_source src,
                       int64_t run_id, double score, const char *note,
                       int64_t undoes, int64_t *id_out, char **cause);

#endif
