/* ui/review_internal.h: what the files of the review screen share, the
 * way data/store_internal.h serves the store's files. Not for use outside
 * ui/review*.c.
 *
 * One struct review holds a session's whole state; each file owns one
 * subject over it. review.c runs the loop and owns the lifetime: the
 * terminal, signals, the engine. review_load.c fills the queue from the
 * store. review_keys.c turns keys into state changes and decisions.
 * review_draw.c draws a frame from the state and changes nothing but the
 * scroll position, the layout and its caches. A new view is a mode
 * below, its keys in review_keys.c and its drawing in review_draw.c; the
 * loop stays as it is. */
#ifndef WINNOW_UI_REVIEW_INTERNAL_H
#define WINNOW_UI_REVIEW_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "data/base.h"
#include "engine/engine.h"
#include "ui/review.h"

struct cells_cache;
struct cells_renderer;
struct picker;
struct queue;
struct review_groups;
struct store;
struct undo;

enum review_flags {
    REVIEW_REDRAW = 1 << 0,
    REVIEW_QUIT = 1 << 1,
};

enum review_mode {
    MODE_QUEUE,
    MODE_HELP,
    MODE_PICK_LABEL,
    MODE_PICK_FILTER,
    MODE_PROMPT_SCORE,
    MODE_DUPS,  /* a near-duplicate group side by side */
    MODE_OFFER, /* a decision's offer, as a list to apply or edit */
};

/* The last decision, offered for more samples (ui/review_group.c). */
enum review_offer_kind {
    OFFER_NEAR,    /* its near-duplicates */
    OFFER_SIMILAR, /* the most similar suspects with the same old label
                    * whose suggestion is the decision */
};
#define REVIEW_OFFER_KINDS 2

struct review_offer_item { /* plain data */
    int64_t sample_id;
    int on;            /* applied when the offer is accepted */
    double similarity; /* cosine of the features; NAN for near-duplicates */
};

struct review_offer {  /* items owned: review_offer_clear */
    int64_t decision;  /* the label event offered on; 0: no offer */
    int64_t sample_id; /* its sample */
    int old_label, label;
    struct review_offer_item *items[REVIEW_OFFER_KINDS];
    size_t n[REVIEW_OFFER_KINDS];
    enum review_offer_kind open; /* the list MODE_OFFER shows */
    size_t cur;                  /* its cursor */
};

/* Where things are this frame; computed from the terminal size. */
struct review_layout {
    int qx, qy, qw, qh; /* the queue list, header row included */
    int sx, sy, sw, sh; /* the sample pane */
    int ix, iy, iw, ih; /* the image box */
    int nx, ny, nw, nh; /* the info column */
    int tx, ty, tw, th; /* the comparison strip, caption included */
};

struct review {
    const char *db_path;
    const struct review_options *opt;
    struct store *store;
    char **classes;
    int n_classes;

    int64_t run_id; /* the finished run the queue shows, 0 if none */
    double noise_rate;
    int64_t interrupted; /* the newest run, when it was interrupted */
    double last_run_check;
    struct queue *q;
    struct undo *u;
    struct review_result res;

    struct engine *eng;
    struct engine_progress snap;
    int eng_resuming; /* the running job resumes a checkpoint */
    int eng_stopping; /* T was pressed */

    struct cells_renderer *rend;
    struct cells_cache *cache;
    int color;

    enum review_mode mode;
    struct picker *picker;
    struct review_groups *groups; /* near-duplicates and features */
    struct review_offer offer;
    int64_t dups_of; /* MODE_DUPS: the sample whose group is shown */
    size_t dups_sel; /* the member chosen in it */
    char prompt[16];
    size_t plen;

    char msg[320];
    int msg_error;
    double msg_until;

    size_t top;  /* first view index shown in the queue list */
    int touched; /* a key has done something since the screen opened */
    struct {     /* the source size of the sample shown, read once */
        int64_t id;
        int width, height, channels;
    } size;
    struct review_layout lay;
    FILE *timing;
    FILE *debug;
};

/* review.c: messages, the log, the engine. */
/* Append a line to the --debug log, if there is one. */
WN_PRINTF(2, 3)
void review_log(struct review *rv, const char *fmt, ...);
/* Show a message on the bottom line for a few seconds (and log it). */
WN_PRINTF(3, 4)
void review_say(struct review *rv, int error, const char *fmt, ...);
/* A class's name, "?" for an id out of range; owned by rv. */
const char *review_class(const struct review *rv, int id);
/* t: start or resume scoring, or pause and resume a running engine. */
void review_engine_toggle(struct review *rv);
/* T: stop the engine at its next batch, with a checkpoint. */
void review_engine_stop(struct review *rv);

/* review_load.c: the queue from the store. */
/* Read every sample's state and the latest finished run's scores into
 * the queue, keeping the cursor on its sample and screen row; -1 with a
 * cause. */
int review_load(struct review *rv, char **cause);
/* After review_load brought in run's scores: a screen nobody has touched
 * goes to the new top; say what happened. */
void review_reranked(struct review *rv, int64_t run);

/* review_group.c: duplicate groups and decisions carried to many. */
/* Find the project's near-duplicate groups for its n_samples samples and
 * the newest done run (review_load calls it inside its snapshot); kept
 * as they are while neither changes. -1 with a cause. */
int review_groups_load(struct review *rv, int64_t run, size_t n_samples,
                       char **cause);
void review_groups_free(struct review_groups *g);
/* The members of id's near-duplicate group, import order, into ids (at
 * most max); how many there are, 0 when id is in none. */
size_t review_group_members(const struct review *rv, int64_t id, int64_t *ids,
                            size_t max);
/* A decision was made (event, on sample, old -> label): work out what to
 * offer for it and say so. */
void review_offer_make(struct review *rv, int64_t sample, int64_t event,
                       int old, int label);
void review_offer_clear(struct review *rv);
/* p, P: show an offer's list (MODE_OFFER). */
void review_offer_open(struct review *rv, enum review_offer_kind kind);
/* Apply the items of the open list that are on, as one step for undo. */
void review_offer_apply(struct review *rv);
/* d: the current sample's group side by side (MODE_DUPS). */
void review_dups_open(struct review *rv);
/* In MODE_DUPS: every member takes the chosen member's label (keep_one
 * 0), or the chosen member is kept and the rest are dropped from exports
 * as its duplicates (keep_one 1); one step for undo. */
void review_group_decide(struct review *rv, int keep_one);

/* review_keys.c: keys and decisions. */
/* Handle every key waiting; returns REVIEW_* flags and counts the keys
 * in *nkeys. */
int review_keys(struct review *rv, int *nkeys);

/* review_draw.c: the screen. */
/* Define the UI's colour pairs (after newterm); sets rv->color. */
void review_colors(struct review *rv);
/* The terminal is below the size the layout is made for. */
int review_too_small(void);
/* Draw one frame from the state (lays it out for the terminal's size). */
void review_draw(struct review *rv);
/* Say on the status line that quitting waits for the engine. */
void review_draw_stopping(struct review *rv);

#endif
