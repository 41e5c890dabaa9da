/* ui/queue.h: the review queue. Every sample of the project with its
 * labels, review state and latest scores, ranked by noise score (highest
 * first, unscored samples last in import order); a filtered view of it;
 * and a cursor that stays on the sample a person is looking at when the
 * queue is re-ranked or refiltered.
 *
 * The current sample always belongs to the view, even when the filter
 * would leave it out (a sample just decided no longer matches "to
 * review"): it is pinned there until the cursor leaves it. Plain C with no
 * terminal, so the tests drive it directly; main thread only. */
#ifndef WINNOW_UI_QUEUE_H
#define WINNOW_UI_QUEUE_H

#include <stddef.h>
#include <stdint.h>

enum queue_status {
    QUEUE_UNREVIEWED,
    QUEUE_KEPT,      /* a person confirmed the imported label */
    QUEUE_RELABELED, /* a person chose another label */
    QUEUE_AUTO,      /* an export accepted the suggestion: still to review */
    QUEUE_SKIPPED,   /* passed over in this session (never stored) */
};
const char *queue_status_name(enum queue_status st); /* "kept" */
/* Whether a person has decided: the sample left the "to review" queue. */
int queue_status_decided(enum queue_status st);

struct queue_item {    /* plain data, but path is owned by the queue */
    int64_t sample_id; /* ascending ids are import order */
    char *path;
    int given; /* imported label */
    int label; /* current label */
    enum queue_status status;
    int scored;    /* the run scored this sample; the rest is NAN/-1 */
    double score;  /* noise score: higher = more suspicious */
    int suggested; /* the model's choice: the label when it agrees */
    double p_suggested;
    int runner_up; /* the likeliest class other than the label */
    double p_runner_up;
    int trained;      /* the label the run trained against */
    double p_trained; /* the model's probability of it */
    int flagged;
    int top[3]; /* the model's likeliest classes, best first, or -1 */
    double top_p[3];
    double outlier; /* unlike any class (engine/outlier.h); NAN if none */
    double key;     /* what the ranking sorts by (set by the queue) */
    size_t rank;    /* 1-based place in the full ranking (set by load) */
};

enum queue_show {
    QUEUE_SHOW_PENDING, /* unreviewed and auto */
    QUEUE_SHOW_DONE,    /* kept and relabeled */
    QUEUE_SHOW_SKIPPED,
    QUEUE_SHOW_ALL,
};
#define QUEUE_SHOW_COUNT 4
const char *queue_show_name(enum queue_show s); /* "to review" */

struct queue_filter { /* plain data */
    enum queue_show show;
    int cls;          /* current label; -1: any */
    double min_score; /* scored samples at or above it; NAN: no limit */
};

struct queue;

struct queue *queue_new(void);
void queue_free(struct queue *q);

/* Replace every item with items[0..n) (the queue takes ownership of the
 * array and of each path), rank them and rebuild the view. The cursor
 * stays on the sample it was on; a sample still unreviewed keeps the
 * session's "skipped". */
void queue_load(struct queue *q, struct queue_item *items, size_t n);

/* What the ranking puts first: the likeliest wrong labels (the noise
 * score, the default) or the likeliest outliers. Kept across loads; the
 * cursor stays on its sample. */
enum queue_order {
    QUEUE_BY_SCORE,
    QUEUE_BY_OUTLIER,
};
void queue_set_order(struct queue *q, enum queue_order order);
enum queue_order queue_get_order(const struct queue *q);

size_t queue_size(const struct queue *q);  /* every item */
size_t queue_count(const struct queue *q); /* items in the view */
/* The i-th item of the view, or NULL past its end. */
const struct queue_item *queue_at(const struct queue *q, size_t i);
/* The item under the cursor, NULL when the view is empty. */
const struct queue_item *queue_current(const struct queue *q);
size_t queue_cursor(const struct queue *q);
const struct queue_item *queue_find(const struct queue *q, int64_t id);

/* Move the cursor by delta items of the view (clamped), or to index i. */
void queue_move(struct queue *q, long delta);
void queue_go(struct queue *q, size_t i);
/* Put the cursor on a sample, pinning it into the view if the filter
 * leaves it out; -1 if there is no such sample. */
int queue_select(struct queue *q, int64_t id);

/* A sample's label and status changed (a decision, a skip, an undo). */
void queue_set(struct queue *q, int64_t id, int label, enum queue_status st);
/* After a decision on the current item: move to the next item of the view
 * (or the previous one at the end), so that the decided one, no longer
 * current, leaves a view that does not show it. */
void queue_advance(struct queue *q);

/* The cursor stays on its sample if the new filter shows it, else goes
 * to the first item shown. */
void queue_set_filter(struct queue *q, const struct queue_filter *f);
void queue_get_filter(const struct queue *q, struct queue_filter *out);

struct queue_counts { /* plain data */
    size_t total, unreviewed, kept, relabeled, autos, skipped;
    size_t scored, flagged;
};
void queue_counts(const struct queue *q, struct queue_counts *out);

/* Up to max samples whose current label is cls and whose labels look
 * right: lowest noise score first (import order when unscored), never
 * `exclude`. Returns how many were written to ids. */
size_t queue_examples(struct queue *q, int cls, int64_t exclude, int64_t *ids,
                      size_t max);

#endif
