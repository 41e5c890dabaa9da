/* data/store.h: the project file, one SQLite database per dataset.
 *
 * A store belongs to one thread; each thread opens its own. Every write runs
 * inside a transaction (store_begin .. store_commit, or one the function
 * opens itself when none is open). The label of a sample is never stored in
 * place: label_events is an append-only history and the current label is its
 * latest event. sqlite3.h stays in store.c. */
#ifndef WINNOW_DATA_STORE_H
#define WINNOW_DATA_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "data/base.h"
#include "data/sha256.h"

struct image;
struct store; /* opaque */

/* Newest schema this build knows. */
#define STORE_SCHEMA_VERSION 4

enum store_open_flags {
    STORE_CREATE = 1 << 0,   /* create the file if missing */
    STORE_READONLY = 1 << 1, /* never write (info, export) */
};

/* What a project may hold; importing past either is an error, and a file
 * past them (made by hand, or by a build with other limits) is refused at
 * open. Class ids are ints and the noise estimates are (K, K) matrices,
 * so classes stay few; the engine indexes samples with int32 and holds
 * them all in memory (see LIMITS in winnow(1) for what that costs). */
#define STORE_MAX_CLASSES 1000
#define STORE_MAX_SAMPLES 10000000

/* Whether a project of n_classes classes and n_samples samples is within
 * the limits; if not, -1 with the cause "too many classes: N (max M)" (or
 * samples). Touches no file. */
WN_NODISCARD int store_check_limits(int64_t n_classes, int64_t n_samples,
                                    char **cause);

/* How long a writer waits for another process's transaction before failing
 * with "project is busy". */
#define STORE_BUSY_TIMEOUT_MS 10000

/* Open (or with STORE_CREATE create) a project file and migrate it to the
 * newest schema. A file that is not a winnow project, or one written by a
 * newer winnow, fails and is left untouched: nothing is written before the
 * file is known to be ours. Without STORE_READONLY, a file this process
 * may not write fails too ("read-only project file"), before any work is
 * done that could not be saved; so does a file past the limits above. The
 * cause does not repeat the path. */
WN_NODISCARD int store_open(const char *path, int flags, struct store **out,
                            char **cause);
void store_close(struct store *s);
/* Schema version found in the file when it was opened (0 = new file). */
int store_opened_version(const struct store *s);
/* Replace STORE_BUSY_TIMEOUT_MS for this connection (tests use a short
 * one). */
void store_set_busy_timeout(struct store *s, int ms);

/* Explicit transactions (BEGIN IMMEDIATE; not nestable). A write function
 * that fails inside one rolls the whole transaction back; store_commit then
 * fails and store_rollback just clears it. */
WN_NODISCARD int store_begin(struct store *s, char **cause);
WN_NODISCARD int store_commit(struct store *s, char **cause);
void store_rollback(struct store *s);

/* ---- classes: ids are dense, 0..n-1, in order of creation ---- */

WN_NODISCARD int store_class_count(struct store *s, int *n_out, char **cause);
/* *id_out = -1 when there is no such class. */
WN_NODISCARD int store_class_find(struct store *s, const char *name,
                                  int *id_out, char **cause);
/* Find or create. */
WN_NODISCARD int store_class_ensure(struct store *s, const char *name,
                                    int *id_out, char **cause);
/* All names, indexed by class id: a NULL-terminated array the caller frees
 * with store_names_free. */
WN_NODISCARD int store_class_names(struct store *s, char ***names_out,
                                   int *n_out, char **cause);
void store_names_free(char **names);

/* ---- sources: where samples came from ---- */

enum store_source_kind {
    STORE_SOURCE_FOLDER,
    STORE_SOURCE_CSV,
    STORE_SOURCE_IDX
};
const char *store_source_kind_name(enum store_source_kind k); /* "folder" */

/* Find or create the source (kind, location); location is an absolute path
 * (for IDX: the images file). */
WN_NODISCARD int store_source_ensure(struct store *s,
                                     enum store_source_kind kind,
                                     const char *location, int64_t *id_out,
                                     char **cause);

struct store_import_stats { /* plain data */
    int64_t imported;       /* new samples */
    int64_t existing;       /* already in the project from this source */
    int64_t skipped;        /* bad files */
    int64_t duplicates; /* new samples whose pixels equal an earlier one's */
};
/* Record one import of a source (time, counts) for `winnow info`. */
WN_NODISCARD int store_import_record(struct store *s, int64_t source_id,
                                     const struct store_import_stats *st,
                                     char **cause);

/* ---- samples ---- */

struct store_sample_new { /* plain data, all borrowed */
    int64_t source_id;
    const char *path; /* as imported: relative, or "file#index" for IDX */
    const unsigned char *hash;   /* SHA256_LEN bytes of the decoded pixels */
    int width, height, channels; /* of the source image */
    const struct image *stored;  /* the (possibly shrunk) copy kept */
    int label;                   /* class id */
    /* phash_image of stored, when has_phash; without it the hash is
     * computed on first need. */
    uint64_t phash;
    int has_phash;
};

/* Whether (source, path) is in the project already. */
WN_NODISCARD int store_sample_exists(struct store *s, int64_t source_id,
                                     const char *path, int *exists_out,
                                     char **cause);
/* Number of samples in the project. */
WN_NODISCARD int store_sample_count(struct store *s, int64_t *n_out,
                                    char **cause);
/* Id of an earlier sample with this content hash, or 0. */
WN_NODISCARD int store_sample_find_hash(struct store *s,
                                        const unsigned char *hash,
                                        int64_t *id_out, char **cause);
/* Insert a sample and its first label event (source import). */
WN_NODISCARD int store_sample_add(struct store *s,
                                  const struct store_sample_new *in,
                                  int64_t *id_out, char **cause);

/* One sample as the engine and the UI read it. Pointers are valid only
 * during the callback. */
struct store_sample { /* plain data */
    int64_t id;
    const char *path;
    int width, height, channels;     /* source size */
    int stored_width, stored_height; /* size of pixels */
    const uint8_t *pixels;           /* stored copy, channels deep */
    int given_label;                 /* as imported */
    int label;                       /* current: latest label event */
    int human;                       /* latest event is a person's */
};
typedef int (*store_sample_fn)(void *ctx, const struct store_sample *smp,
                               char **cause);
/* Call fn for every sample in import order; a non-zero return from fn stops
 * the walk and is returned (with fn's cause). */
WN_NODISCARD int store_foreach_sample(struct store *s, store_sample_fn fn,
                                      void *ctx, char **cause);

/* ---- label history ---- */

enum store_label_source {
    STORE_LABEL_IMPORT,
    STORE_LABEL_HUMAN,
    STORE_LABEL_AUTO,
};
const char *store_label_source_name(enum store_label_source src);

/* Append a label event for a sample; old label is the current one. run_id
 * and score (the sample's score then) are 0 / NAN when unknown. */
WN_NODISCARD int store_label_append(struct store *s, int64_t sample_id,
                                    int new_label, enum store_label_source src,
                                    int64_t run_id, double score,
                                    const char *note, char **cause);
/* Current label of one sample, or -1 with a cause if there is no sample. */
WN_NODISCARD int store_label_current(struct store *s, int64_t sample_id,
                                     int *label_out, char **cause);

/* ---- runs and scores ---- */

#define STORE_TOP_CLASSES 3

/* The individual scores of a sample in one run; every score is "higher =
 * more suspicious". A score the run did not compute is NAN. */
struct store_score { /* plain data */
    int64_t sample_id;
    double score;           /* combined: what the review queue ranks by */
    double self_confidence; /* 1 - p(given label) */
    double margin;          /* (max other p - p(given) + 1) / 2 */
    int cl_flag;            /* confident learning: pruned by noise rate */
    double aum;             /* negated area under the margin */
    double elr;             /* 1 - ELR target mass on the given label */
    double knn;             /* disagreement of the nearest neighbours */
    int label;              /* the label trained against */
    int suggested;          /* class id */
    double suggested_prob;
    int flagged; /* the run's verdict: probably mislabeled */
    /* The model's most probable classes, best first (-1 past the number of
     * classes), with their probabilities. */
    int top[STORE_TOP_CLASSES];
    double top_prob[STORE_TOP_CLASSES];
    /* Unlike any class (engine/outlier.h); NAN when not computed. */
    double outlier;
};

/* The lifecycle of a run: created running; running ends done, interrupted
 * or failed; an interrupted run may run again (--resume). */
enum store_run_status {
    STORE_RUN_RUNNING,
    STORE_RUN_INTERRUPTED,
    STORE_RUN_FAILED,
    STORE_RUN_DONE,
};
#define STORE_RUN_STATUSES 4

/* The name the runs table stores ("running", ...); "?" out of range. */
const char *store_run_status_name(enum store_run_status st);
/* The status of a stored name: 0, or -1 with a cause naming it. */
WN_NODISCARD int store_run_status_parse(const char *name,
                                        enum store_run_status *out,
                                        char **cause);

struct store_run { /* store_run_fini frees the strings */
    int64_t id;
    enum store_run_status state;
    const char *status;        /* state's name, for messages */
    int64_t started, finished; /* ms since the epoch; finished 0 if not */
    uint64_t seed;
    char *params, *version, *message;
    int64_t pid, heartbeat;
    int64_t n_samples;
    int n_classes;
    double seconds, noise_rate; /* NAN until done */
};

/* A new run, status running, owned by this process. */
WN_NODISCARD int store_run_create(struct store *s, uint64_t seed,
                                  const char *params, const char *version,
                                  int64_t *id_out, char **cause);
/* Set the status (and a message, may be NULL); running refreshes the
 * heartbeat and makes this process the run's owner. */
WN_NODISCARD int store_run_mark(struct store *s, int64_t run_id,
                                enum store_run_status status,
                                const char *message, char **cause);
/* store_run_mark by the status's name. */
WN_NODISCARD int store_run_set_status(struct store *s, int64_t run_id,
                                      const char *status, const char *message,
                                      char **cause);
/* What a scoring job asks of store_run_claim. */
struct store_run_request {
    uint64_t seed;
    const char *params;  /* the settings, as text: a resume must match */
    const char *version; /* of the winnow taking the run */
    int resume;          /* continue the newest interrupted run */
    /* A running run whose process still exists is taken for alive until
     * its heartbeat is this old (a recycled pid blocks at most this
     * long). */
    int64_t stale_ms;
};

/* Take a run for a scoring job, in one write transaction, so that two
 * jobs starting at once cannot both go ahead. A run another live process
 * is scoring refuses the claim ("project is busy"); a running run whose
 * process is gone (a crash, kill -9) or silent past stale_ms is marked
 * interrupted. Then the newest interrupted run is resumed (same params and
 * seed; its checkpoint in *resume_out, malloc'd, NULL if none) or a new
 * one is created, owned by this process. *id_out is 0 on failure. */
WN_NODISCARD int store_run_claim(struct store *s,
                                 const struct store_run_request *req,
                                 int64_t *id_out, void **resume_out,
                                 size_t *resume_len_out, char **cause);
/* Mark interrupted and keep the training state to resume from. */
WN_NODISCARD int store_run_interrupt(struct store *s, int64_t run_id,
                                     const void *checkpoint, size_t len,
                                     char **cause);
/* Keep a checkpoint of a run that goes on running (a crash then loses
 * only what came after it); refreshes the heartbeat. */
WN_NODISCARD int store_run_save_checkpoint(struct store *s, int64_t run_id,
                                           const void *checkpoint, size_t len,
                                           char **cause);
/* The checkpoint of an interrupted run (malloc'd); *len_out 0 if none. */
WN_NODISCARD int store_run_checkpoint(struct store *s, int64_t run_id,
                                      void **blob_out, size_t *len_out,
                                      char **cause);
/* Id of the newest run with this status, or 0. */
WN_NODISCARD int store_run_newest(struct store *s, enum store_run_status status,
                                  int64_t *id_out, char **cause);
/* The same by the status's name; NULL: the newest run of any status. */
WN_NODISCARD int store_run_latest(struct store *s, const char *status,
                                  int64_t *id_out, char **cause);
WN_NODISCARD int store_run_get(struct store *s, int64_t run_id,
                               struct store_run *out, char **cause);
void store_run_fini(struct store_run *r);

/* Publish a finished run in one transaction: every sample's scores, the
 * estimated noise matrix (k x k, row = given label, column = true label,
 * rows summing to 1), the run's totals, status done. A reader sees the
 * previous run or this one, never a mix. */
WN_NODISCARD int store_run_publish(struct store *s, int64_t run_id,
                                   const struct store_score *scores, size_t n,
                                   const double *noise_matrix, int k,
                                   double noise_rate, double seconds,
                                   char **cause);
/* The noise matrix of a run: k*k doubles (malloc'd), row-major. */
WN_NODISCARD int store_run_noise(struct store *s, int64_t run_id,
                                 double **matrix_out, int *k_out, char **cause);

/* One scored sample as export and review read it; pointers valid only
 * during the callback. */
struct store_scored {
    const char *path;
    int given_label; /* imported */
    int label;       /* current (latest event) */
    int human;       /* latest event is a person's */
    struct store_score sc;
};
typedef int (*store_scored_fn)(void *ctx, const struct store_scored *row,
                               char **cause);
/* Walk a run's scores, highest score first (ties by import order). Each
 * row reads its sample's row too, in score order: seconds at a million
 * samples. A caller that has the label states already wants the next. */
WN_NODISCARD int store_foreach_score(struct store *s, int64_t run_id,
                                     store_scored_fn fn, void *ctx,
                                     char **cause);
typedef int (*store_score_fn)(void *ctx, const struct store_score *sc,
                              char **cause);
/* Walk a run's scores in import (sample id) order, reading the scores and
 * nothing else: one sequential pass. */
WN_NODISCARD int store_foreach_run_score(struct store *s, int64_t run_id,
                                         store_score_fn fn, void *ctx,
                                         char **cause);

/* ---- a run's matrices (store_arrays.c) ----
 *
 * A run keeps its N x K predicted probabilities and its N x D features,
 * rows in the run's sample order (import order, the samples the run
 * scored). Probabilities are kept as float32, exactly as scored, so that
 * what `export --probs` hands to cleanlab gives cleanlab's own verdicts;
 * features as float16 (relative error at most 2^-11), unless a value is
 * past float16's range (65504), when the matrix is kept as float32. */
enum store_array {
    STORE_ARRAY_PROBS,
    STORE_ARRAY_FEATURES,
};
const char *store_array_name(enum store_array which); /* "probs" */

/* Keep rows x cols values (row-major) for a run; the run's earlier matrix
 * of that name is replaced. In one transaction, or inside the caller's. */
WN_NODISCARD int store_run_array_put(struct store *s, int64_t run_id,
                                     enum store_array which, const float *data,
                                     int64_t rows, int cols, char **cause);
/* Read one back as floats (malloc'd, the caller frees); *data_out NULL
 * and *rows_out 0 when the run has none. */
WN_NODISCARD int store_run_array_get(struct store *s, int64_t run_id,
                                     enum store_array which, float **data_out,
                                     int64_t *rows_out, int *cols_out,
                                     char **cause);
/* The newest done run that kept this matrix, or 0. */
WN_NODISCARD int store_run_array_latest(struct store *s, enum store_array which,
                                        int64_t *run_id_out, char **cause);

/* ---- a run's near-duplicate pairs by features (store_pairs.c) ---- */

struct store_pair { /* plain data */
    int64_t a, b;   /* sample ids, a < b */
    double similarity;
};
/* Keep a run's pairs (replacing any it had); in one transaction or the
 * caller's. */
WN_NODISCARD int store_run_pairs_put(struct store *s, int64_t run_id,
                                     const struct store_pair *p, size_t n,
                                     char **cause);
/* A run's pairs (malloc'd, by a then b); none for a run that kept none. */
WN_NODISCARD int store_run_pairs_get(struct store *s, int64_t run_id,
                                     struct store_pair **out, size_t *n_out,
                                     char **cause);

/* ---- summary for `winnow info` ---- */

struct store_size_count {
    int width, height, channels;
    int64_t count;
};
struct store_source_info {
    char *kind, *location;
    int64_t samples;     /* samples from this source now */
    int64_t last_import; /* ms since epoch */
    int n_imports;
};
struct store_run_info {
    int64_t id;
    char *status;
    int64_t started, finished; /* ms since epoch, 0 if not finished */
};
struct store_summary { /* owned arrays: store_summary_fini */
    int64_t n_samples;
    int n_classes;
    char **class_names;             /* n_classes */
    int64_t *class_counts;          /* current labels, by class id */
    int64_t *class_given;           /* imported labels, by class id */
    struct store_size_count *sizes; /* most common first */
    size_t n_sizes;
    int64_t dup_groups;    /* hashes shared by 2+ samples */
    int64_t dup_samples;   /* samples in such groups */
    int64_t dup_conflicts; /* groups whose samples disagree on label */
    struct store_source_info *sources;
    size_t n_sources;
    struct store_run_info *runs; /* newest first */
    size_t n_runs;
    int64_t n_human_events;
    /* Samples of the newest finished run with an outlier score of at
     * least STORE_OUTLIER_HIGH. */
    int64_t n_outliers;
    int64_t file_bytes;
};
/* An outlier score this high is far from every class, a blank frame or a
 * nearly black or white one (engine/outlier.h): what `info` counts. */
#define STORE_OUTLIER_HIGH     0.8
#define STORE_OUTLIER_HIGH_SQL "0.8"
WN_NODISCARD int store_summary_get(struct store *s, struct store_summary *out,
                                   char **cause);
void store_summary_fini(struct store_summary *sum);

/* ---- perceptual hashes, for near-duplicates (store_phash.c) ---- */

/* One sample as near-duplicate grouping reads it, in import order. */
struct store_dup_row { /* path owned: store_dup_rows_free */
    int64_t id;
    char *path;
    int label;     /* current */
    int has_phash; /* 0: not computed yet (a project from schema 1) */
    uint64_t phash;
    int64_t exact_id; /* first sample with the same pixels (id itself if
                       * none before it) */
};
WN_NODISCARD int store_dup_rows(struct store *s, struct store_dup_row **out,
                                size_t *n_out, char **cause);
void store_dup_rows_free(struct store_dup_row *rows, size_t n);
/* The hash of one sample's stored pixels, computed now. */
WN_NODISCARD int store_phash_compute(struct store *s, int64_t sample_id,
                                     uint64_t *out, char **cause);
/* Compute and keep every missing hash, in one transaction; fn (may be
 * NULL) hears of the progress now and then. *n_out (may be NULL): how
 * many were missing. Nothing is written when none are. */
typedef void (*store_progress_fn)(void *ctx, int64_t done, int64_t total);
WN_NODISCARD int store_phash_fill(struct store *s, store_progress_fn fn,
                                  void *ctx, int64_t *n_out, char **cause);

/* ---- decisions, history and review state (store_labels.c) ----
 *
 * A decision is a label event: "human" from a person (winnow set, the
 * review UI), "auto" when an export accepted the engine's suggestion. An
 * undo is one more human event that sets the label back and names the
 * event it reverts (undoes); the reverted event counts as undone from then
 * on. Nothing is ever removed. */

/* Where a sample stands with respect to review. */
enum store_review {
    STORE_UNREVIEWED, /* no decision in force */
    STORE_KEPT,       /* a person decided; the label is the imported one */
    STORE_RELABELED,  /* a person decided; the label differs from it */
    STORE_AUTO,       /* the latest decision in force was accepted from a
                       * suggestion by an export */
};
const char *store_review_name(enum store_review r); /* "unreviewed", ... */

/* Read a consistent snapshot: every read between begin and end sees the
 * same state of the file, however other processes write meanwhile. No
 * writes on this connection until store_snapshot_end. */
WN_NODISCARD int store_snapshot_begin(struct store *s, char **cause);
void store_snapshot_end(struct store *s);

/* Find a sample by the path it was imported under, or by "SOURCE:PATH"
 * (SOURCE a source's number) when several sources have that path; an exact
 * path wins over the SOURCE: reading. Causes name the path: "no sample
 * 'x.png' in the project", "'x.png' is in 2 sources: say which, as
 * 1:x.png (folder /data/a) or 2:x.png (csv /data/m.csv)". */
WN_NODISCARD int store_sample_lookup(struct store *s, const char *spec,
                                     int64_t *id_out, char **cause);
/* The file a sample was imported from: an absolute path (malloc'd) built
 * from its source (folder: ROOT/path; CSV: the manifest's folder/path), or
 * NULL for an IDX sample, which has no file of its own. The file may since
 * have moved. */
WN_NODISCARD int store_sample_source_file(struct store *s, int64_t sample_id,
                                          char **path_out, char **cause);

/* Every sample's labels and review state, in import order. */
struct store_label_state { /* plain data but path: store_states_free */
    int64_t sample_id;
    int64_t source_id;
    enum store_source_kind source_kind;
    char *path;         /* as imported */
    int given;          /* imported label */
    int label;          /* current label: the latest event */
    int64_t last_event; /* id of the latest event */
    enum store_review review;
    int excluded; /* a person dropped it as a duplicate (store_follow) */
};
WN_NODISCARD int store_label_states(struct store *s,
                                    struct store_label_state **states_out,
                                    size_t *n_out, char **cause);
void store_states_free(struct store_label_state *states, size_t n);

/* Label events, oldest first: of one sample (sample_id > 0) or all; import
 * events only with with_import. */
struct store_event { /* strings owned: store_events_free */
    int64_t id;
    int64_t sample_id;
    char *path;    /* the sample's */
    int old_label; /* -1 for an import event */
    int new_label;
    enum store_label_source source;
    int64_t time;    /* ms since the epoch */
    int64_t run_id;  /* latest finished run then, 0 if none */
    double score;    /* the sample's score in that run, NAN if none */
    char *note;      /* NULL if none */
    int64_t undoes;  /* the event this one reverts, 0 if none */
    int undone;      /* a later event reverts this one */
    int64_t follows; /* the decision this one was carried from, 0 if none */
    int excluded;    /* drops the sample from exports (store_follow) */
};
WN_NODISCARD int store_events_get(struct store *s, int64_t sample_id,
                                  int with_import, struct store_event **out,
                                  size_t *n_out, char **cause);
void store_events_free(struct store_event *ev, size_t n);

/* A person's decision: append a human event setting the sample's label
 * (the current label again records a verification). The event carries the
 * latest finished run and the sample's score in it. *old_out (the label
 * before) and *event_out may be NULL. */
WN_NODISCARD int store_label_decide(struct store *s, int64_t sample_id,
                                    int label, const char *note, int *old_out,
                                    int64_t *event_out, char **cause);

/* Undo the last n decisions of a person, newest first, in one transaction:
 * each gets an event setting its sample back to the label it had before
 * that decision. A decision carried to other samples (store_label_follow)
 * is one decision here: all its events are undone together. Decisions already undone and undo events themselves are
 * passed over, so each call reaches further back. Fewer than n when fewer
 * are left (*n_out 0: nothing to undo). */
struct store_undo {    /* path owned: store_undos_free */
    int64_t event_id;  /* the new event */
    int64_t undone_id; /* the decision it reverts */
    int64_t sample_id;
    char *path;
    int from, to; /* labels */
    int step;     /* which of the n undos it belongs to, 0 the first */
};
WN_NODISCARD int store_label_undo(struct store *s, int n,
                                  struct store_undo **out, size_t *n_out,
                                  char **cause);
void store_undos_free(struct store_undo *u, size_t n);

/* Suggestions accepted by an export, recorded as "auto" events in one
 * transaction, all or none. Each names the latest event the export saw for
 * its sample: if another event came since (a person decided meanwhile),
 * nothing is written and the call fails. */
struct store_auto_label { /* plain data */
    int64_t sample_id;
    int64_t seen_event;
    int label;
    int64_t run_id;
    double score;
};
WN_NODISCARD int store_label_auto(struct store *s,
                                  const struct store_auto_label *a, size_t n,
                                  char **cause);

/* ---- review: what the review UI needs besides the above
 * (store_review.c) ---- */

/* One sample's stored copy and the size of the image it came from. */
struct store_pixels {                /* store_pixels_fini frees pixels */
    int width, height;               /* of the source image */
    int stored_width, stored_height; /* of pixels */
    int channels;                    /* 1 or 3 */
    uint8_t *pixels;                 /* stored_height rows, tightly packed */
};
WN_NODISCARD int store_sample_pixels(struct store *s, int64_t sample_id,
                                     struct store_pixels *out, char **cause);
void store_pixels_fini(struct store_pixels *p);

/* Undo one named decision: append a human event that sets its sample back
 * to the label it had before event_id, naming it in undoes (the event
 * store_label_undo writes). Writes nothing and fails when event_id is not
 * a person's decision, is undone already, or when a later decision on its
 * sample is still in force (the label changed since, perhaps in another
 * process; later decisions that were undone do not count). *label_out
 * (the label restored) and *event_out may be NULL. */
WN_NODISCARD int store_label_revert(struct store *s, int64_t event_id,
                                    int *label_out, int64_t *event_out,
                                    char **cause);

/* ---- decisions that follow another (store_follow.c) ----
 *
 * A decision carried to other samples: each gets its own human event
 * naming the decision in `follows`. An undo (store_label_undo, `u` in the
 * review screen through store_label_revert_all) takes the decision and
 * everything that follows it back as one step. */
struct store_follow { /* plain data */
    int64_t sample_id;
    int label;
    /* Drop the sample from exports as a duplicate of the decision's
     * sample, until another event on it. */
    int excluded;
};
/* Append one event per entry following the event decision, with note (may
 * be NULL), in one transaction (or the caller's). */
WN_NODISCARD int store_label_follow(struct store *s, int64_t decision,
                                    const struct store_follow *f, size_t n,
                                    const char *note, char **cause);
/* Revert event_id's decision and every event following it that is still
 * in force, newest first, in one transaction, all or none (each as
 * store_label_revert would). *out (malloc'd) says what each revert did. */
struct store_reverted { /* plain data */
    int64_t undone_id;  /* the event reverted */
    int64_t event_id;   /* the new event */
    int64_t sample_id;
    int label; /* restored */
};
WN_NODISCARD int store_label_revert_all(struct store *s, int64_t event_id,
                                        struct store_reverted **out,
                                        size_t *n_out, char **cause);

#endif
