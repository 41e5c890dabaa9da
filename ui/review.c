/* ui/review.c: the review screen and its loop.
 *
 * One thread, one loop: poll() waits on the keyboard, a self-pipe that
 * the signal handlers write to, and the engine's progress descriptor,
 * with a short timeout; then every pending key is handled, and the screen
 * is drawn once. Key handlers only change state and return flags
 * (REVIEW_REDRAW, REVIEW_QUIT); drawing reads the state and nothing else.
 * A frame is drawn in full into stdscr (ncurses sends only what changed)
 * from cached cell grids, so a frame costs a few hundred microseconds
 * beyond what the terminal takes to show it.
 *
 * Signal handlers only set flags and write a byte to the self-pipe: curses
 * is never touched from a handler. SIGWINCH is ours too (installed after
 * newterm, replacing ncurses' handler), so a resize wakes poll() at once
 * and the loop calls resizeterm itself.
 *
 * Decisions go to the store the moment a key is pressed, each in its own
 * transaction (store_label_decide, source human); skipping is the one
 * action kept only in this session. The engine runs in its own thread with
 * its own connection; the UI reads its snapshot when the pipe says so, and
 * reloads the queue when a run is published, by the engine or by another
 * winnow process (the latest finished run is checked every few seconds).
 * A reload keeps the cursor on the same sample, at the same screen row
 * (only a screen nobody has touched yet jumps to the new top). */
#include "config.h"

#include "ui/review.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <curses.h>

#include "data/store.h"
#include "engine/engine.h"
#include "ui/cells.h"
#include "ui/help.h"
#include "ui/keymap.h"
#include "ui/picker.h"
#include "ui/queue.h"
#include "ui/text.h"
#include "ui/undo.h"

/* The smallest terminal the layout is made for. */
#define REVIEW_MIN_COLS  80
#define REVIEW_MIN_LINES 24
/* Colour pairs below this are the UI's; the image renderer takes the
 * rest. */
#define REVIEW_FIRST_IMAGE_PAIR 16
/* Rendered images kept: the current sample at one size, thumbnails at
 * another, and a few hundred of both for going back and forth. */
#define REVIEW_CACHE_ENTRIES 512
/* How long a message stays on the bottom line. */
#define REVIEW_MESSAGE_SECONDS 6.0
/* How often to look for a run published by another process. */
#define REVIEW_RUN_CHECK_SECONDS 3.0
/* Thumbnails per class in the comparison strip, at most. */
#define REVIEW_MAX_THUMBS 12

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
};

enum review_pair {
    PAIR_TITLE = 1,
    PAIR_STATUS,
    PAIR_KEPT,
    PAIR_RELABELED,
    PAIR_FLAGGED,
    PAIR_BAR,
    PAIR_ERROR,
    PAIR_DIM,
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

/* ---- signals ---- */

/* Set while curses owns the terminal: an exit from deep below (an
 * allocation that fails dies with a message) restores it first. */
static int review_screen_up;

static void
review_at_exit(void)
{
    if (review_screen_up && !isendwin())
        endwin();
}

static volatile sig_atomic_t review_sig_quit;
static volatile sig_atomic_t review_sig_winch;
static int review_sig_fd = -1;

static void
review_on_signal(int sig)
{
    int saved = errno;
    if (sig == SIGWINCH)
        review_sig_winch = 1;
    else if (review_sig_quit < 100)
        review_sig_quit++;
    if (review_sig_fd >= 0) {
        char b = (char)sig;
        ssize_t w = write(review_sig_fd, &b, 1);
        (void)w; /* a full pipe already says "look" */
    }
    errno = saved;
}

/* ---- messages and the log ---- */

WN_PRINTF(2, 3)
static void
review_log(struct review *rv, const char *fmt, ...)
{
    if (rv->debug == NULL)
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(rv->debug, "%.3f ", wn_monotonic());
    vfprintf(rv->debug, fmt, ap);
    fputc('\n', rv->debug);
    fflush(rv->debug);
    va_end(ap);
}

WN_PRINTF(3, 4)
static void
review_say(struct review *rv, int error, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rv->msg, sizeof rv->msg, fmt, ap);
    va_end(ap);
    rv->msg_error = error;
    rv->msg_until = wn_monotonic() + REVIEW_MESSAGE_SECONDS;
    review_log(rv, "say: %s", rv->msg);
}

static const char *
review_class(const struct review *rv, int id)
{
    if (id >= 0 && id < rv->n_classes)
        return rv->classes[id];
    return "?";
}

/* ---- loading the queue ---- */

struct review_merge {
    const struct store_label_state *states;
    size_t n;
    struct queue_item *items;
};

static int
review_state_cmp(const void *key, const void *elem)
{
    int64_t k = *(const int64_t *)key;
    int64_t id = ((const struct store_label_state *)elem)->sample_id;
    return (k > id) - (k < id);
}

static int
review_merge_score(void *ctx, const struct store_scored *row, char **cause)
{
    struct review_merge *m = ctx;
    (void)cause;
    const struct store_label_state *st =
        m->n > 0 ? bsearch(&row->sc.sample_id, m->states, m->n,
                           sizeof *m->states, review_state_cmp)
                 : NULL;
    if (st == NULL)
        return 0;
    struct queue_item *it = &m->items[st - m->states];
    it->scored = 1;
    it->score = row->sc.score;
    it->trained = row->sc.label;
    /* NAN stays NAN: the run did not compute it. */
    it->p_trained = 1.0 - row->sc.self_confidence;
    it->flagged = row->sc.flagged;
    for (int i = 0; i < 3; i++) {
        it->top[i] = i < STORE_TOP_CLASSES ? row->sc.top[i] : -1;
        it->top_p[i] = i < STORE_TOP_CLASSES ? row->sc.top_prob[i] : (double)NAN;
    }
    /* The run's suggestion is the likeliest class other than the label,
     * even when the model agrees with the label: then the label is the
     * model's choice, and what Enter accepts. */
    it->runner_up = row->sc.suggested;
    it->p_runner_up = row->sc.suggested_prob;
    it->suggested = row->sc.suggested;
    it->p_suggested = row->sc.suggested_prob;
    if (row->sc.suggested != row->sc.label &&
        !(row->sc.suggested_prob > it->p_trained) && !isnan(it->p_trained)) {
        it->suggested = row->sc.label;
        it->p_suggested = it->p_trained;
    }
    return 0;
}

static enum queue_status
review_status_of(enum store_review r)
{
    switch (r) {
    case STORE_UNREVIEWED:
        return QUEUE_UNREVIEWED;
    case STORE_KEPT:
        return QUEUE_KEPT;
    case STORE_RELABELED:
        return QUEUE_RELABELED;
    case STORE_AUTO:
        return QUEUE_AUTO;
    }
    return QUEUE_UNREVIEWED;
}

/* Read every sample's state and the latest finished run's scores in one
 * snapshot, and hand them to the queue. */
static int
review_load(struct review *rv, char **cause)
{
    struct store_label_state *states = NULL;
    size_t n = 0;
    int64_t run = 0;
    double t0 = wn_monotonic();

    if (store_snapshot_begin(rv->store, cause) != 0)
        return -1;
    if (store_run_newest(rv->store, STORE_RUN_DONE, &run, cause) != 0 ||
        store_label_states(rv->store, &states, &n, cause) != 0)
        goto fail;
    struct queue_item *items = xcalloc(n, sizeof *items);
    for (size_t i = 0; i < n; i++) {
        struct queue_item *it = &items[i];
        it->sample_id = states[i].sample_id;
        it->path = states[i].path;
        states[i].path = NULL;
        it->given = states[i].given;
        it->label = states[i].label;
        it->status = review_status_of(states[i].review);
        it->score = NAN;
        it->suggested = -1;
        it->runner_up = -1;
        it->p_runner_up = NAN;
        it->p_suggested = NAN;
        it->trained = -1;
        it->p_trained = NAN;
    }
    double noise = NAN;
    if (run != 0) {
        struct review_merge m = {states, n, items};
        struct store_run r;
        if (store_foreach_score(rv->store, run, review_merge_score, &m,
                                cause) != 0 ||
            store_run_get(rv->store, run, &r, cause) != 0) {
            for (size_t i = 0; i < n; i++)
                free(items[i].path);
            free(items);
            goto fail;
        }
        noise = r.noise_rate;
        store_run_fini(&r);
    }
    store_snapshot_end(rv->store);
    store_states_free(states, n);

    /* Keep the current sample on the same screen row. */
    size_t row =
        queue_cursor(rv->q) >= rv->top ? queue_cursor(rv->q) - rv->top : 0;
    queue_load(rv->q, items, n);
    size_t cur = queue_cursor(rv->q);
    rv->top = cur >= row ? cur - row : 0;
    rv->run_id = run;
    rv->noise_rate = noise;
    rv->last_run_check = wn_monotonic();
    review_log(rv, "loaded %zu samples, run %lld, in %.1f ms", n,
               (long long)run, (wn_monotonic() - t0) * 1000.0);
    return 0;
fail:
    store_snapshot_end(rv->store);
    store_states_free(states, n);
    return -1;
}

/* A new run's scores are in the queue. Whoever has started reviewing
 * stays on the sample they are looking at; a screen nobody has touched
 * yet shows the new top of the queue. */
static void
review_reranked(struct review *rv, int64_t run)
{
    if (!rv->touched) {
        queue_go(rv->q, 0);
        rv->top = 0;
        review_say(rv, 0,
                   "run %lld finished: the queue is ranked by its "
                   "scores",
                   (long long)run);
        return;
    }
    review_say(rv, 0,
               "run %lld finished: the queue is re-ranked; you stay "
               "on this sample (g: top)",
               (long long)run);
}

/* ---- the engine ---- */

/* Note whether the newest run was interrupted: what t would resume. */
static void
review_check_interrupted(struct review *rv)
{
    int64_t latest = 0;
    char *cause = NULL;
    rv->interrupted = 0;
    if (store_run_latest(rv->store, NULL, &latest, &cause) == 0 &&
        latest != 0) {
        struct store_run r;
        if (store_run_get(rv->store, latest, &r, &cause) == 0) {
            if (r.state == STORE_RUN_INTERRUPTED)
                rv->interrupted = latest;
            store_run_fini(&r);
        }
    }
    free(cause);
}

static void
review_engine_start(struct review *rv, int fresh)
{
    char *cause = NULL;
    review_check_interrupted(rv);
    int resume = !fresh && rv->interrupted != 0;

    struct engine_params p;
    engine_params_default(&p);
    p.threads = rv->opt->threads;
    p.epochs = rv->opt->epochs;
    p.resume = resume;
    if (engine_start(rv->db_path, &p, &rv->eng, &cause) != 0) {
        review_say(rv, 1, "cannot start scoring: %s", cause);
        free(cause);
        rv->eng = NULL;
        return;
    }
    rv->eng_resuming = resume;
    rv->eng_stopping = 0;
    engine_progress(rv->eng, &rv->snap);
    review_say(rv, 0,
               resume ? "scoring resumes from its checkpoint"
                      : "scoring started");
}

/* The engine's pipe said something: take the snapshot, and finish up
 * when the job has ended. */
static int
review_engine_update(struct review *rv)
{
    if (rv->eng == NULL)
        return 0;
    engine_ack(rv->eng);
    engine_progress(rv->eng, &rv->snap);
    if (!engine_finished(rv->eng))
        return REVIEW_REDRAW;
    struct engine_progress p = rv->snap;
    int resumed = rv->eng_resuming;
    engine_free(rv->eng);
    rv->eng = NULL;
    review_log(rv, "engine ended: %s %s", engine_phase_name(p.phase),
               p.message);
    review_check_interrupted(rv);
    char *cause = NULL;
    switch (p.phase) {
    case ENGINE_DONE:
        if (review_load(rv, &cause) != 0) {
            review_say(rv, 1, "cannot read the new scores: %s", cause);
            free(cause);
        } else {
            review_reranked(rv, p.run_id);
        }
        break;
    case ENGINE_INTERRUPTED:
        review_say(rv, 0,
                   "scoring stopped; its checkpoint is saved (t "
                   "resumes)");
        break;
    default:
        /* A checkpoint that no longer fits (other settings): start over. */
        if (resumed) {
            review_log(rv, "resume failed (%s); starting afresh", p.message);
            review_engine_start(rv, 1);
        } else {
            review_say(rv, 1, "scoring failed: %s",
                       p.message[0] ? p.message : "unknown error");
        }
        break;
    }
    return REVIEW_REDRAW;
}

static void
review_engine_toggle(struct review *rv)
{
    if (rv->eng == NULL) {
        review_engine_start(rv, 0);
        return;
    }
    if (rv->eng_stopping)
        return;
    struct engine_progress p;
    engine_progress(rv->eng, &p);
    int paused = !p.paused;
    engine_pause(rv->eng, paused);
    review_say(rv, 0,
               paused ? "scoring paused (t resumes)" : "scoring resumed");
}

static void
review_engine_stop(struct review *rv)
{
    if (rv->eng == NULL) {
        review_say(rv, 0, "the engine is not running (t starts it)");
        return;
    }
    engine_request_stop(rv->eng);
    rv->eng_stopping = 1;
    review_say(rv, 0, "stopping at the next batch, with a checkpoint");
}

/* ---- decisions ---- */

static enum queue_status
review_decided_status(const struct queue_item *it, int label)
{
    return label == it->given ? QUEUE_KEPT : QUEUE_RELABELED;
}

static void
review_decide(struct review *rv, int label, const char *note)
{
    const struct queue_item *it = queue_current(rv->q);
    if (it == NULL)
        return;
    char *cause = NULL;
    int old;
    int64_t ev;
    if (store_label_decide(rv->store, it->sample_id, label, note, &old, &ev,
                           &cause) != 0) {
        review_say(rv, 1, "not saved: %s", cause);
        free(cause);
        return;
    }
    int64_t id = it->sample_id;
    enum queue_status st = review_decided_status(it, label);
    struct undo_entry e = {
        .kind = UNDO_LABEL,
        .sample_id = id,
        .event_id = ev,
        .old_label = old,
        .new_label = label,
        .old_status = (int)it->status,
        .new_status = (int)st,
        .note = note,
    };
    undo_push(rv->u, &e);
    rv->res.decisions++;
    if (old == label)
        review_say(rv, 0, "kept %s", review_class(rv, label));
    else
        review_say(rv, 0, "relabeled %s %s %s", review_class(rv, old),
                   text_utf8() ? "\u2192" : "->", review_class(rv, label));
    review_log(rv, "decide sample %lld: %d -> %d (%s), event %lld",
               (long long)id, old, label, note, (long long)ev);
    queue_set(rv->q, id, label, st);
    queue_advance(rv->q);
}

static void
review_skip(struct review *rv)
{
    const struct queue_item *it = queue_current(rv->q);
    if (it == NULL)
        return;
    struct undo_entry e = {
        .kind = UNDO_SKIP,
        .sample_id = it->sample_id,
        .old_label = it->label,
        .new_label = it->label,
        .old_status = (int)it->status,
        .new_status = (int)QUEUE_SKIPPED,
        .note = "skip",
    };
    undo_push(rv->u, &e);
    queue_set(rv->q, it->sample_id, it->label, QUEUE_SKIPPED);
    queue_advance(rv->q);
    review_say(rv, 0, "skipped (f shows skipped samples)");
}

static void
review_undo(struct review *rv)
{
    const struct undo_entry *top = undo_peek(rv->u);
    if (top == NULL) {
        review_say(rv, 0, "nothing to undo");
        return;
    }
    struct undo_entry e = *top;
    int label = e.old_label;
    if (e.kind == UNDO_LABEL) {
        char *cause = NULL;
        int64_t ev;
        if (store_label_revert(rv->store, e.event_id, &label, &ev, &cause) !=
            0) {
            review_say(rv, 1, "cannot undo: %s", cause);
            free(cause);
            undo_drop(rv->u);
            return;
        }
        review_log(rv, "undo event %lld with event %lld", (long long)e.event_id,
                   (long long)ev);
        rv->res.decisions--;
    }
    undo_done(rv->u);
    queue_set(rv->q, e.sample_id, label, (enum queue_status)e.old_status);
    queue_select(rv->q, e.sample_id);
    if (e.kind == UNDO_SKIP)
        review_say(rv, 0, "undone: skip");
    else
        review_say(rv, 0, "undone: %s %s %s (back to %s)",
                   review_class(rv, e.old_label), text_utf8() ? "\u2192" : "->",
                   review_class(rv, e.new_label), review_class(rv, label));
}

static void
review_redo(struct review *rv)
{
    const struct undo_entry *top = undo_peek_redo(rv->u);
    if (top == NULL) {
        review_say(rv, 0, "nothing to redo");
        return;
    }
    struct undo_entry e = *top;
    int64_t ev = 0;
    if (e.kind == UNDO_LABEL) {
        char *cause = NULL;
        if (store_label_decide(rv->store, e.sample_id, e.new_label, "redo",
                               NULL, &ev, &cause) != 0) {
            review_say(rv, 1, "cannot redo: %s", cause);
            free(cause);
            return;
        }
        rv->res.decisions++;
    }
    undo_redone(rv->u, ev);
    queue_set(rv->q, e.sample_id, e.new_label, (enum queue_status)e.new_status);
    queue_select(rv->q, e.sample_id);
    queue_advance(rv->q);
    review_say(rv, 0, "redone: %s",
               e.kind == UNDO_SKIP ? "skip" : review_class(rv, e.new_label));
}

/* ---- keys ---- */

static int
review_page(const struct review *rv)
{
    int rows = rv->lay.qh - 1;
    return rows > 1 ? rows - 1 : 1;
}

static void
review_open_picker(struct review *rv, int filter)
{
    const struct queue_item *it = queue_current(rv->q);
    struct queue_filter f;
    queue_get_filter(rv->q, &f);
    char title[128];
    if (filter)
        snprintf(title, sizeof title, "Show the class:");
    else if (it != NULL)
        snprintf(title, sizeof title,
                 "Label as (now: %s):", review_class(rv, it->label));
    else
        return;
    picker_free(rv->picker);
    rv->picker = picker_new((const char *const *)rv->classes, rv->n_classes,
                            title, filter, filter ? f.cls : it->label);
    rv->mode = filter ? MODE_PICK_FILTER : MODE_PICK_LABEL;
}

static int
review_key_picker(struct review *rv, int key)
{
    enum picker_result r = picker_key(rv->picker, key);
    if (r == PICKER_OPEN)
        return REVIEW_REDRAW;
    enum review_mode was = rv->mode;
    rv->mode = MODE_QUEUE;
    if (r == PICKER_CHOSEN) {
        int c = picker_choice(rv->picker);
        if (was == MODE_PICK_LABEL && c >= 0) {
            const struct queue_item *it = queue_current(rv->q);
            if (it != NULL)
                review_decide(rv, c, c == it->label ? "keep" : "relabel");
        } else if (was == MODE_PICK_FILTER) {
            struct queue_filter f;
            queue_get_filter(rv->q, &f);
            f.cls = c;
            queue_set_filter(rv->q, &f);
            rv->top = 0;
        }
    }
    picker_free(rv->picker);
    rv->picker = NULL;
    return REVIEW_REDRAW;
}

static int
review_key_prompt(struct review *rv, int key)
{
    if (key == 27) {
        rv->mode = MODE_QUEUE;
        return REVIEW_REDRAW;
    }
    if (key == '\r' || key == '\n' || key == KEYMAP_FKEY(KEY_ENTER)) {
        struct queue_filter f;
        queue_get_filter(rv->q, &f);
        char *end;
        double v = strtod(rv->prompt, &end);
        if (rv->plen == 0) {
            f.min_score = NAN;
        } else if (*end != '\0' || !(v >= 0.0 && v <= 1.0)) {
            review_say(rv, 1, "a score is a number from 0 to 1, not '%s'",
                       rv->prompt);
            return REVIEW_REDRAW;
        } else {
            f.min_score = v;
        }
        queue_set_filter(rv->q, &f);
        rv->top = 0;
        rv->mode = MODE_QUEUE;
        return REVIEW_REDRAW;
    }
    if (key == 127 || key == 8 || key == KEYMAP_FKEY(KEY_BACKSPACE)) {
        if (rv->plen > 0)
            rv->prompt[--rv->plen] = '\0';
        return REVIEW_REDRAW;
    }
    if (((key >= '0' && key <= '9') || key == '.') &&
        rv->plen + 1 < sizeof rv->prompt) {
        rv->prompt[rv->plen++] = (char)key;
        rv->prompt[rv->plen] = '\0';
    }
    return REVIEW_REDRAW;
}

static void
review_mouse(struct review *rv)
{
    MEVENT ev;
    if (getmouse(&ev) != OK)
        return;
    if (ev.bstate & BUTTON4_PRESSED) {
        queue_move(rv->q, -3);
        return;
    }
#ifdef BUTTON5_PRESSED
    if (ev.bstate & BUTTON5_PRESSED) {
        queue_move(rv->q, 3);
        return;
    }
#endif
    if (!(ev.bstate & (BUTTON1_PRESSED | BUTTON1_CLICKED)))
        return;
    const struct review_layout *l = &rv->lay;
    int row = ev.y - (l->qy + 1);
    if (ev.x >= l->qx && ev.x < l->qx + l->qw && row >= 0 && row < l->qh - 1 &&
        rv->top + (size_t)row < queue_count(rv->q))
        queue_go(rv->q, rv->top + (size_t)row);
}

static int
review_too_small(void)
{
    return COLS < REVIEW_MIN_COLS || LINES < REVIEW_MIN_LINES;
}

static int
review_key(struct review *rv, int key)
{
    int arg;
    enum keymap_action a = keymap_lookup(key, &arg);
    if (a == KEYMAP_RESIZE || a == KEYMAP_REDRAW) {
        if (a == KEYMAP_REDRAW)
            clearok(curscr, TRUE);
        return REVIEW_REDRAW;
    }
    if (review_too_small())
        return a == KEYMAP_QUIT ? REVIEW_QUIT : 0;
    if (a != KEYMAP_NONE)
        rv->touched = 1;
    switch (rv->mode) {
    case MODE_HELP:
        if (a == KEYMAP_MOUSE)
            return 0;
        rv->mode = MODE_QUEUE;
        return REVIEW_REDRAW;
    case MODE_PICK_LABEL:
    case MODE_PICK_FILTER:
        return a == KEYMAP_MOUSE ? 0 : review_key_picker(rv, key);
    case MODE_PROMPT_SCORE:
        return a == KEYMAP_MOUSE ? 0 : review_key_prompt(rv, key);
    case MODE_QUEUE:
        break;
    }

    const struct queue_item *it = queue_current(rv->q);
    struct queue_filter f;
    switch (a) {
    case KEYMAP_NONE:
        return 0;
    case KEYMAP_DOWN:
        queue_move(rv->q, 1);
        break;
    case KEYMAP_UP:
        queue_move(rv->q, -1);
        break;
    case KEYMAP_PAGE_DOWN:
        queue_move(rv->q, review_page(rv));
        break;
    case KEYMAP_PAGE_UP:
        queue_move(rv->q, -review_page(rv));
        break;
    case KEYMAP_FIRST:
        queue_go(rv->q, 0);
        break;
    case KEYMAP_LAST:
        if (queue_count(rv->q) > 0)
            queue_go(rv->q, queue_count(rv->q) - 1);
        break;
    case KEYMAP_ACCEPT:
        if (it == NULL)
            break;
        if (!it->scored || it->suggested < 0)
            review_say(rv, 0,
                       "no suggestion yet: this sample is not "
                       "scored (t starts the engine)");
        else
            review_decide(rv, it->suggested,
                          it->suggested == it->label ? "keep" : "accept");
        break;
    case KEYMAP_KEEP:
        if (it != NULL)
            review_decide(rv, it->label, "keep");
        break;
    case KEYMAP_PICK:
        review_open_picker(rv, 0);
        break;
    case KEYMAP_CLASS:
        if (it == NULL)
            break;
        if (arg >= rv->n_classes)
            review_say(rv, 1, "there is no class %d (c picks from all %d)",
                       arg + 1, rv->n_classes);
        else
            review_decide(rv, arg, arg == it->label ? "keep" : "relabel");
        break;
    case KEYMAP_SKIP:
        review_skip(rv);
        break;
    case KEYMAP_UNDO:
        review_undo(rv);
        break;
    case KEYMAP_REDO:
        review_redo(rv);
        break;
    case KEYMAP_FILTER_CLASS:
        review_open_picker(rv, 1);
        break;
    case KEYMAP_FILTER_SHOW:
        queue_get_filter(rv->q, &f);
        f.show = (enum queue_show)(((int)f.show + 1) % QUEUE_SHOW_COUNT);
        queue_set_filter(rv->q, &f);
        rv->top = 0;
        review_say(rv, 0, "showing: %s", queue_show_name(f.show));
        break;
    case KEYMAP_FILTER_SCORE:
        queue_get_filter(rv->q, &f);
        if (isnan(f.min_score))
            rv->prompt[0] = '\0';
        else
            snprintf(rv->prompt, sizeof rv->prompt, "%.2f", f.min_score);
        rv->plen = strlen(rv->prompt);
        rv->mode = MODE_PROMPT_SCORE;
        break;
    case KEYMAP_FILTER_CLEAR:
        f.show = QUEUE_SHOW_PENDING;
        f.cls = -1;
        f.min_score = NAN;
        queue_set_filter(rv->q, &f);
        rv->top = 0;
        break;
    case KEYMAP_ENGINE:
        review_engine_toggle(rv);
        break;
    case KEYMAP_ENGINE_STOP:
        review_engine_stop(rv);
        break;
    case KEYMAP_HELP:
        rv->mode = MODE_HELP;
        break;
    case KEYMAP_QUIT:
        return REVIEW_QUIT;
    case KEYMAP_MOUSE:
        review_mouse(rv);
        break;
    case KEYMAP_REDRAW:
    case KEYMAP_RESIZE:
        break;
    }
    return REVIEW_REDRAW;
}

/* ---- drawing ---- */

static void
review_attr_on(const struct review *rv, int pair, attr_t attr)
{
    wattr_on(stdscr, attr, NULL);
    if (rv->color && pair > 0)
        wcolor_set(stdscr, (short)pair, NULL);
}

static void
review_attr_off(void)
{
    wattrset(stdscr, A_NORMAL);
    wcolor_set(stdscr, 0, NULL);
}

static void
review_layout(struct review *rv)
{
    struct review_layout *l = &rv->lay;
    int W = COLS, H = LINES;
    l->qx = 0;
    l->qy = 1;
    l->qw = W * 2 / 5;
    if (l->qw < 32)
        l->qw = 32;
    if (l->qw > 60)
        l->qw = 60;
    l->qh = H - 3;

    l->sx = l->qw + 1;
    l->sy = 1;
    l->sw = W - l->sx;
    l->sh = H - 3;

    /* The strip: a caption and thumbnails about a fifth of the height. */
    int th = l->sh / 5;
    if (th < 5)
        th = 5;
    if (th > 8)
        th = 8;
    l->th = th + 1;
    l->tx = l->sx + 1;
    l->tw = l->sw - 2;
    l->ty = l->sy + l->sh - l->th;

    /* The image: as large as the rest allows, next to the info. */
    int top = l->sy + 1; /* under the path line */
    int avail_h = l->ty - top - 1;
    int info_w = l->sw < 60 ? 20 : 26;
    int img_w = l->sw - 2 - info_w - 2;
    if (img_w > avail_h * 2)
        img_w = avail_h * 2;
    l->ix = l->sx + 1;
    l->iy = top + 1;
    l->iw = img_w;
    l->ih = avail_h - 1;
    l->nx = l->ix + img_w + 2;
    l->ny = top + 1;
    l->nw = l->sx + l->sw - l->nx - 1;
    if (l->nw > 48)
        l->nw = 48;
    l->nh = avail_h - 1;
}

/* A bar of width cells for a fraction v, in eighths where UTF-8 allows. */
static void
review_bar(const struct review *rv, int y, int x, int width, double v)
{
    if (isnan(v))
        return;
    if (v < 0.0)
        v = 0.0;
    if (v > 1.0)
        v = 1.0;
    int eighths = (int)lround(v * width * 8);
    static const wchar_t parts[] = L" \u258f\u258e\u258d\u258c\u258b\u258a"
                                   L"\u2589";
    int utf8 = text_utf8();
    review_attr_on(rv, PAIR_BAR, A_NORMAL);
    wmove(stdscr, y, x);
    for (int i = 0; i < width; i++) {
        int e = eighths - i * 8;
        if (utf8) {
            wchar_t wc = e >= 8 ? L'\u2588' : e > 0 ? parts[e] : L' ';
            if (wc == L' ') {
                review_attr_off();
                wattron(stdscr, A_DIM);
                waddnwstr(stdscr, L"\u00b7", 1);
                wattroff(stdscr, A_DIM);
                review_attr_on(rv, PAIR_BAR, A_NORMAL);
            } else {
                waddnwstr(stdscr, &wc, 1);
            }
        } else {
            waddch(stdscr, e >= 4 ? '#' : '.');
        }
    }
    review_attr_off();
}

/* Draw the rendered image of a sample into a box, centred; render on a
 * cache miss. */
static void
review_image(struct review *rv, int64_t id, int y, int x, int cols, int rows)
{
    if (cols < 2 || rows < 1)
        return;
    const struct cells_image *im = cells_cache_find(rv->cache, id, cols, rows);
    if (im == NULL) {
        struct store_pixels px;
        char *cause = NULL;
        if (store_sample_pixels(rv->store, id, &px, &cause) != 0) {
            review_log(rv, "pixels of %lld: %s", (long long)id, cause);
            free(cause);
            text_put(stdscr, y, x, cols, "(no image)", 0);
            return;
        }
        im = cells_cache_put(rv->cache, id, px.pixels, px.stored_width,
                             px.stored_height, px.channels, cols, rows);
        store_pixels_fini(&px);
        if (im == NULL)
            return;
    }
    int dy = (rows - cells_image_rows(im)) / 2;
    int dx = (cols - cells_image_cols(im)) / 2;
    cells_draw(rv->rend, stdscr, y + dy, x + dx, im);
}

static void
review_draw_title(struct review *rv)
{
    struct queue_filter f;
    queue_get_filter(rv->q, &f);
    const char *base = strrchr(rv->db_path, '/');
    base = base != NULL ? base + 1 : rv->db_path;
    char line[512], cls[160] = "", score[48] = "";
    if (f.cls >= 0)
        snprintf(cls, sizeof cls, "   class: %s", review_class(rv, f.cls));
    if (!isnan(f.min_score))
        snprintf(score, sizeof score, "   score >= %.2f", f.min_score);
    snprintf(line, sizeof line, " winnow  %s   showing: %s (%zu)%s%s", base,
             queue_show_name(f.show), queue_count(rv->q), cls, score);
    review_attr_on(rv, PAIR_TITLE, A_REVERSE | A_BOLD);
    text_blank(stdscr, 0, 0, COLS);
    text_put(stdscr, 0, 0, COLS - 10, line, 0);
    char help[] = "? help ";
    text_put(stdscr, 0, COLS - (int)strlen(help), (int)strlen(help), help, 0);
    review_attr_off();
}

static char
review_status_mark(enum queue_status st)
{
    switch (st) {
    case QUEUE_UNREVIEWED:
        return ' ';
    case QUEUE_KEPT:
        return 'k';
    case QUEUE_RELABELED:
        return 'r';
    case QUEUE_AUTO:
        return 'a';
    case QUEUE_SKIPPED:
        return 's';
    }
    return '?';
}

static int
review_digits(size_t n)
{
    int d = 1;
    while (n >= 10) {
        n /= 10;
        d++;
    }
    return d;
}

static void
review_draw_queue(struct review *rv)
{
    const struct review_layout *l = &rv->lay;
    int rows = l->qh - 1;
    size_t count = queue_count(rv->q), cur = queue_cursor(rv->q);
    if (rows < 1)
        return;
    /* Scroll so that the cursor is visible. */
    if (cur < rv->top)
        rv->top = cur;
    if (cur >= rv->top + (size_t)rows)
        rv->top = cur - (size_t)rows + 1;
    if (count <= (size_t)rows)
        rv->top = 0;
    else if (rv->top > count - (size_t)rows)
        rv->top = count - (size_t)rows;

    int rw = review_digits(queue_size(rv->q));
    if (rw < 4)
        rw = 4;
    /* rank, score, names, status mark: "  12 0.93 cat -> dog  k" */
    int names = l->qw - (1 + rw + 1 + 4 + 1) - 3;
    int nw = (names - 3) / 2;
    const char *arrow = text_utf8() ? "\u2192" : ">";

    char line[256];
    wattron(stdscr, A_BOLD | A_UNDERLINE);
    snprintf(line, sizeof line, " %*s %-4s %-*s", rw, "rank", "scor", names + 2,
             "label  suggestion");
    text_blank(stdscr, l->qy, l->qx, l->qw);
    text_put(stdscr, l->qy, l->qx, l->qw - 1, line, 0);
    wattroff(stdscr, A_BOLD | A_UNDERLINE);

    for (int r = 0; r < rows; r++) {
        const struct queue_item *it = queue_at(rv->q, rv->top + (size_t)r);
        int y = l->qy + 1 + r;
        if (it == NULL) {
            if (r == 0 && count == 0)
                text_put(stdscr, y, l->qx + 2, l->qw - 3,
                         "nothing to show (f, / or Esc change "
                         "what is shown)",
                         0);
            continue;
        }
        int sel = rv->top + (size_t)r == cur;
        if (sel)
            wattron(stdscr, A_REVERSE);
        text_blank(stdscr, y, l->qx, l->qw);
        int x = l->qx;
        char buf[64];
        snprintf(buf, sizeof buf, " %*zu ", rw, it->rank);
        x += text_put(stdscr, y, x, rw + 2, buf, 0);
        if (it->scored) {
            snprintf(buf, sizeof buf, "%.2f", it->score);
            if (it->flagged && !sel)
                review_attr_on(rv, PAIR_FLAGGED, A_BOLD);
            text_put(stdscr, y, x, 4, buf, 0);
            if (it->flagged && !sel) {
                review_attr_off();
            }
        } else {
            text_put(stdscr, y, x, 4, "  - ", 0);
        }
        if (sel)
            wattron(stdscr, A_REVERSE);
        x += 5;
        int arrowed =
            it->scored && it->suggested >= 0 && it->suggested != it->label;
        int used = text_put(stdscr, y, x, arrowed ? nw : names,
                            review_class(rv, it->label), 0);
        if (arrowed) {
            int ax = x + (used < nw ? used : nw) + 1;
            text_put(stdscr, y, ax, 1, arrow, 0);
            text_put(stdscr, y, ax + 2, x + names - (ax + 2),
                     review_class(rv, it->suggested), 0);
        }
        char mark[2] = {review_status_mark(it->status), '\0'};
        int pair = it->status == QUEUE_KEPT        ? PAIR_KEPT
                   : it->status == QUEUE_RELABELED ? PAIR_RELABELED
                                                   : 0;
        if (!sel && pair)
            review_attr_on(rv, pair, A_BOLD);
        text_put(stdscr, y, l->qx + l->qw - 2, 1, mark, 0);
        if (!sel && pair)
            review_attr_off();
        if (sel)
            wattroff(stdscr, A_REVERSE);
    }
}

static void
review_draw_info(struct review *rv, const struct queue_item *it)
{
    const struct review_layout *l = &rv->lay;
    int y = l->ny, x = l->nx, w = l->nw;
    char buf[256];
    if (w < 12)
        return;

    /* Class names carry the number their digit key chooses. */
    char given[160], label[160], sugg[160];
    snprintf(given, sizeof given, "%d %s", it->given + 1,
             review_class(rv, it->given));
    snprintf(label, sizeof label, "%d %s", it->label + 1,
             review_class(rv, it->label));
    if (it->scored && it->suggested >= 0)
        snprintf(sugg, sizeof sugg, "%d %s", it->suggested + 1,
                 review_class(rv, it->suggested));
    else
        snprintf(sugg, sizeof sugg, "(not yet)");
    struct {
        const char *k;
        const char *v;
        int attr;
    } rows[4];
    rows[0].k = "given";
    rows[0].v = given;
    rows[0].attr = 0;
    rows[1].k = "label";
    rows[1].v = label;
    rows[1].attr = it->label != it->given ? A_BOLD : 0;
    rows[2].k = "suggested";
    rows[2].v = sugg;
    rows[2].attr = it->scored && it->suggested != it->label ? A_BOLD : 0;
    rows[3].k = "status";
    rows[3].v = queue_status_name(it->status);
    rows[3].attr = 0;
    for (int i = 0; i < 4 && i < l->nh; i++) {
        wattron(stdscr, A_DIM);
        text_put(stdscr, y + i, x, 10, rows[i].k, 0);
        wattroff(stdscr, A_DIM);
        if (rows[i].attr)
            wattron(stdscr, (attr_t)rows[i].attr);
        text_put(stdscr, y + i, x + 10, w - 10, rows[i].v, 0);
        if (rows[i].attr)
            wattroff(stdscr, (attr_t)rows[i].attr);
    }
    y += 4;
    if (it->scored) {
        wattron(stdscr, A_DIM);
        text_put(stdscr, y, x, 10, "score", 0);
        wattroff(stdscr, A_DIM);
        snprintf(buf, sizeof buf, "%.3f%s", it->score,
                 !it->flagged   ? ""
                 : w - 10 >= 14 ? "  flagged"
                                : " !");
        if (it->flagged)
            review_attr_on(rv, PAIR_FLAGGED, A_BOLD);
        text_put(stdscr, y, x + 10, w - 10, buf, 0);
        review_attr_off();
        y += 2;
        /* The model's likeliest classes as small bars, and the label it
         * was trained against when that is not among them. */
        wattron(stdscr, A_DIM);
        text_put(stdscr, y - 1, x, w, "probability", 0);
        wattroff(stdscr, A_DIM);
        int bw = w - 10 - 6;
        if (bw > 20)
            bw = 20;
        int shown[4];
        double p[4];
        int n = 0, has_label = 0;
        for (int i = 0; i < 3 && it->top[i] >= 0; i++) {
            shown[n] = it->top[i];
            p[n++] = it->top_p[i];
            has_label |= it->top[i] == it->trained;
        }
        if (n == 0) { /* a run from before top classes were kept */
            shown[n] = it->suggested;
            p[n++] = it->p_suggested;
            has_label = it->suggested == it->trained;
        }
        if (!has_label && it->trained >= 0) {
            shown[n] = it->trained;
            p[n++] = it->p_trained;
        }
        for (int i = 0; i < n && y < l->ny + l->nh; i++) {
            /* The label the run judged stands out among the classes. */
            if (shown[i] == it->trained)
                wattron(stdscr, A_BOLD);
            text_put(stdscr, y, x, 9, review_class(rv, shown[i]), 0);
            wattroff(stdscr, A_BOLD);
            if (bw >= 4)
                review_bar(rv, y, x + 10, bw, p[i]);
            snprintf(buf, sizeof buf, " %.2f", p[i]);
            text_put(stdscr, y, x + 10 + (bw >= 4 ? bw : 0), 6, buf, 0);
            y++;
        }
    }
    y++;
    if (rv->size.id != it->sample_id) {
        struct store_pixels px;
        char *cause = NULL;
        rv->size.id = it->sample_id;
        rv->size.width = 0;
        if (store_sample_pixels(rv->store, it->sample_id, &px, &cause) == 0) {
            rv->size.width = px.width;
            rv->size.height = px.height;
            rv->size.channels = px.channels;
            store_pixels_fini(&px);
        } else {
            free(cause);
        }
    }
    if (y < l->ny + l->nh && rv->size.width > 0) {
        snprintf(buf, sizeof buf, "%dx%d %s", rv->size.width, rv->size.height,
                 rv->size.channels == 1 ? "gray" : "RGB");
        wattron(stdscr, A_DIM);
        text_put(stdscr, y, x, w, buf, 0);
        wattroff(stdscr, A_DIM);
    }
}

static void
review_draw_strip(struct review *rv, const struct queue_item *it)
{
    const struct review_layout *l = &rv->lay;
    /* The label's class beside the suggested one, or, when the model
     * agrees with the label, its runner-up. */
    int classes[2] = {it->label, -1};
    int runner = 0;
    if (it->scored && it->suggested >= 0 && it->suggested != it->label) {
        classes[1] = it->suggested;
    } else if (it->scored && it->runner_up >= 0 && it->runner_up != it->label) {
        classes[1] = it->runner_up;
        runner = 1;
    }
    int parts = classes[1] >= 0 ? 2 : 1;
    int partw = (l->tw - (parts - 1) * 2) / parts;
    int th = l->th - 1, tw = th * 2;
    int n = (partw + 1) / (tw + 1);
    if (n > REVIEW_MAX_THUMBS)
        n = REVIEW_MAX_THUMBS;
    char cap[200];
    for (int p = 0; p < parts; p++) {
        int x = l->tx + p * (partw + 2);
        /* "label: 5 deer", then "(typical examples)" where it fits. */
        const char *role = p == 0   ? "label: "
                           : runner ? "runner-up: "
                                    : "suggested: ";
        wattron(stdscr, A_DIM);
        int used = text_put(stdscr, l->ty, x, partw, role, 0);
        wattroff(stdscr, A_DIM);
        snprintf(cap, sizeof cap, "%d %s", classes[p] + 1,
                 review_class(rv, classes[p]));
        wattron(stdscr, A_BOLD);
        used += text_put(stdscr, l->ty, x + used, partw - used, cap, 0);
        wattroff(stdscr, A_BOLD);
        const char *more = " (typical examples)";
        if (used + text_width(more) <= partw) {
            wattron(stdscr, A_DIM);
            text_put(stdscr, l->ty, x + used, partw - used, more, 0);
            wattroff(stdscr, A_DIM);
        }
        int64_t ids[REVIEW_MAX_THUMBS];
        size_t k = queue_examples(rv->q, classes[p], it->sample_id, ids,
                                  (size_t)(n > 0 ? n : 0));
        for (size_t i = 0; i < k; i++)
            review_image(rv, ids[i], l->ty + 1, x + (int)i * (tw + 1), tw, th);
        if (k == 0) {
            wattron(stdscr, A_DIM);
            text_put(stdscr, l->ty + 1, x, partw, "(no examples yet)", 0);
            wattroff(stdscr, A_DIM);
        }
    }
}

static void
review_draw_sample(struct review *rv)
{
    const struct review_layout *l = &rv->lay;
    const struct queue_item *it = queue_current(rv->q);
    if (it == NULL)
        return;
    char buf[512];
    snprintf(buf, sizeof buf, "#%zu of %zu  ", it->rank, queue_size(rv->q));
    wattron(stdscr, A_DIM);
    int used = text_put(stdscr, l->sy, l->sx + 1, l->sw - 2, buf, 0);
    wattroff(stdscr, A_DIM);
    wattron(stdscr, A_BOLD);
    text_put(stdscr, l->sy, l->sx + 1 + used, l->sw - 2 - used, it->path, 1);
    wattroff(stdscr, A_BOLD);
    review_image(rv, it->sample_id, l->iy, l->ix, l->iw, l->ih);
    review_draw_info(rv, it);
    review_draw_strip(rv, it);
}

static void
review_fmt_time(char *buf, size_t len, double s)
{
    if (s < 0 || isnan(s)) {
        snprintf(buf, len, "?");
        return;
    }
    long t = lround(s);
    if (t >= 3600)
        snprintf(buf, len, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(buf, len, "%ld:%02ld", t / 60, t % 60);
}

static void
review_draw_status(struct review *rv)
{
    int y = LINES - 2;
    char left[256], right[200], eta[32];
    const struct engine_progress *p = &rv->snap;
    if (rv->eng != NULL) {
        if (p->phase == ENGINE_TRAINING) {
            double frac = p->images_total > 0
                              ? (double)p->images_done / (double)p->images_total
                              : 0.0;
            review_fmt_time(eta, sizeof eta, p->eta);
            char fold[32] = "";
            if (p->folds > 1)
                snprintf(fold, sizeof fold, "fold %d/%d ", p->fold, p->folds);
            snprintf(left, sizeof left,
                     " %s %sepoch %d/%d  %3.0f%%  %.0f img/s  ETA %s",
                     p->paused          ? "paused:"
                     : rv->eng_stopping ? "stopping:"
                                        : "training",
                     fold, p->epoch, p->epochs, 100.0 * frac, p->images_per_sec,
                     eta);
        } else {
            snprintf(left, sizeof left, " engine: %s%s",
                     engine_phase_name(p->phase),
                     p->phase == ENGINE_LOADING ? " samples" : "");
        }
    } else if (rv->interrupted != 0) {
        char from[48] = "not scored yet";
        if (rv->run_id != 0)
            snprintf(from, sizeof from, "scores of run %lld",
                     (long long)rv->run_id);
        snprintf(left, sizeof left, " %s; run %lld interrupted (t resumes)",
                 from, (long long)rv->interrupted);
    } else if (rv->run_id != 0) {
        snprintf(left, sizeof left, " scores of run %lld; engine idle (t)",
                 (long long)rv->run_id);
    } else {
        snprintf(left, sizeof left,
                 " not scored yet; engine idle (t starts "
                 "it)");
    }
    struct queue_counts c;
    queue_counts(rv->q, &c);
    char noise[48] = "";
    if (!isnan(rv->noise_rate))
        snprintf(noise, sizeof noise, "   noise ~%.1f%%",
                 100.0 * rv->noise_rate);
    snprintf(right, sizeof right, "reviewed %zu   to review %zu%s ",
             c.kept + c.relabeled, c.unreviewed + c.autos, noise);
    review_attr_on(rv, PAIR_STATUS, A_REVERSE);
    text_blank(stdscr, y, 0, COLS);
    int rw = text_width(right);
    text_put(stdscr, y, 0, COLS - rw - 1, left, 0);
    text_put(stdscr, y, COLS - rw, rw, right, 0);
    review_attr_off();

    /* The bottom line: a message, or the keys that matter most. */
    y = LINES - 1;
    text_blank(stdscr, y, 0, COLS);
    if (rv->msg[0] != '\0' && wn_monotonic() < rv->msg_until) {
        if (rv->msg_error)
            review_attr_on(rv, PAIR_ERROR, A_BOLD);
        text_put(stdscr, y, 1, COLS - 2, rv->msg, 0);
        review_attr_off();
        return;
    }
    const char *hints =
        rv->mode == MODE_QUEUE
            ? "Enter accept  Space keep  c class  1-0 class#  s skip  "
              "u undo  ^R redo  / f filter  t engine  ? help  q quit"
            : "Esc cancel";
    wattron(stdscr, A_DIM);
    text_put(stdscr, y, 1, COLS - 2, hints, 0);
    wattroff(stdscr, A_DIM);
}

static void
review_draw_prompt(struct review *rv)
{
    int w = 50, h = 4;
    int y0 = (LINES - h) / 2, x0 = (COLS - w) / 2;
    for (int y = 0; y < h; y++)
        text_blank(stdscr, y0 + y, x0, w);
    wattron(stdscr, A_BOLD);
    text_put(stdscr, y0, x0 + 1, w - 2,
             "Show samples scored at least (0 to 1):", 0);
    wattroff(stdscr, A_BOLD);
    char line[40];
    snprintf(line, sizeof line, "> %s", rv->prompt);
    int used = text_put(stdscr, y0 + 1, x0 + 1, w - 3, line, 0);
    wattron(stdscr, A_REVERSE);
    mvwaddch(stdscr, y0 + 1, x0 + 1 + used, ' ');
    wattroff(stdscr, A_REVERSE);
    wattron(stdscr, A_DIM);
    text_put(stdscr, y0 + 2, x0 + 1, w - 2,
             "Enter apply (empty: no limit)  Esc cancel", 0);
    wattroff(stdscr, A_DIM);
    mvwhline(stdscr, y0 + 3, x0, ACS_HLINE, w);
}

/* Put the words of s (ASCII, single spaces) on lines of at most width
 * columns from line y; a word longer than a line is clipped. Returns the
 * lines used; draws only with draw set (so a caller can centre). */
static int
review_wrap(const char *s, int y, int width, int draw)
{
    int n = 0;
    while (*s != '\0') {
        size_t len = strcspn(s, " ");
        while (s[len] == ' ') {
            size_t next = len + 1 + strcspn(s + len + 1, " ");
            if ((int)next > width)
                break;
            len = next;
        }
        if (draw && y + n >= 0 && y + n < LINES) {
            char buf[256];
            snprintf(buf, sizeof buf, "%.*s", (int)len, s);
            text_put(stdscr, y + n, 1, width, buf, 0);
        }
        n++;
        s += len;
        while (*s == ' ')
            s++;
    }
    return n;
}

/* Below 80x24 the screen says so instead, wrapped so that even a narrow
 * terminal shows the size needed. */
static void
review_draw_too_small(void)
{
    char need[200];
    snprintf(need, sizeof need,
             "winnow needs a terminal of at least %dx%d; this one is %dx%d.",
             REVIEW_MIN_COLS, REVIEW_MIN_LINES, COLS, LINES);
    static const char hint[] = "Make it larger, or press q to quit.";
    int width = COLS > 2 ? COLS - 2 : 1;
    int n1 = review_wrap(need, 0, width, 0);
    int n2 = review_wrap(hint, 0, width, 0);
    int y = (LINES - n1 - n2) / 2;
    if (y < 0)
        y = 0;
    review_wrap(need, y, width, 1);
    review_wrap(hint, y + n1, width, 1);
}

static void
review_draw(struct review *rv)
{
    cells_frame_begin(rv->rend);
    werase(stdscr);
    if (review_too_small()) {
        review_draw_too_small();
        wnoutrefresh(stdscr);
        doupdate();
        return;
    }
    review_layout(rv);
    if (rv->mode == MODE_HELP) {
        help_draw(stdscr, LINES, COLS, rv->classes, rv->n_classes);
        wnoutrefresh(stdscr);
        doupdate();
        return;
    }
    review_draw_title(rv);
    review_draw_queue(rv);
    mvwvline(stdscr, rv->lay.qy, rv->lay.qw, ACS_VLINE, rv->lay.qh);
    review_draw_sample(rv);
    review_draw_status(rv);
    if (rv->picker != NULL)
        picker_draw(rv->picker, stdscr, LINES, COLS);
    if (rv->mode == MODE_PROMPT_SCORE)
        review_draw_prompt(rv);
    wnoutrefresh(stdscr);
    doupdate();
    if (cells_frame_degraded(rv->rend))
        review_log(rv, "colour pairs ran out this frame");
}

/* ---- set-up, loop, tear-down ---- */

static void
review_colors(struct review *rv)
{
    const char *nc = getenv("NO_COLOR");
    rv->color = has_colors() && (nc == NULL || nc[0] == '\0');
    if (has_colors()) {
        start_color();
        use_default_colors();
    }
    if (!rv->color)
        return;
    init_pair(PAIR_TITLE, -1, -1);
    init_pair(PAIR_STATUS, -1, -1);
    init_pair(PAIR_KEPT, COLOR_GREEN, -1);
    init_pair(PAIR_RELABELED, COLOR_CYAN, -1);
    init_pair(PAIR_FLAGGED, COLOR_RED, -1);
    init_pair(PAIR_BAR, COLOR_CYAN, -1);
    init_pair(PAIR_ERROR, COLOR_RED, -1);
    init_pair(PAIR_DIM, -1, -1);
}

static void
review_resize(void)
{
    struct winsize ws;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 &&
        ws.ws_col > 0)
        resizeterm(ws.ws_row, ws.ws_col);
}

/* Read every key waiting (ncurses may hold several from one read) and
 * handle each; returns the flags, and counts the keys in *nkeys. */
static int
review_keys(struct review *rv, int *nkeys)
{
    int flags = 0;
    for (;;) {
        wint_t wc;
        int r = wget_wch(stdscr, &wc);
        if (r == ERR)
            break;
        int key = r == KEY_CODE_YES ? KEYMAP_FKEY(wc) : (int)wc;
        review_log(rv, "key %#x", (unsigned)key);
        flags |= review_key(rv, key);
        (*nkeys)++;
        if (flags & REVIEW_QUIT)
            break;
    }
    return flags;
}

/* Stop a running engine on the way out: it saves a checkpoint at the next
 * batch. Say so if that takes more than a moment; a second signal gives
 * up waiting (the store stays consistent: SQLite rolls back whatever the
 * thread had not committed). Returns 1 when the engine was abandoned. */
static int
review_engine_quit(struct review *rv)
{
    if (rv->eng == NULL)
        return 0;
    if (engine_finished(rv->eng)) {
        engine_free(rv->eng);
        rv->eng = NULL;
        return 0;
    }
    engine_request_stop(rv->eng);
    rv->res.engine_stopped = 1;
    double t0 = wn_monotonic();
    int shown = 0;
    sig_atomic_t signals = review_sig_quit;
    while (!engine_finished(rv->eng)) {
        struct pollfd pfd = {.fd = engine_fd(rv->eng), .events = POLLIN};
        (void)poll(&pfd, 1, 50);
        engine_ack(rv->eng);
        if (review_sig_quit > signals)
            return 1;
        if (!shown && wn_monotonic() - t0 > 0.15) {
            shown = 1;
            review_attr_on(rv, PAIR_STATUS, A_REVERSE);
            text_blank(stdscr, LINES - 2, 0, COLS);
            text_put(stdscr, LINES - 2, 1, COLS - 2,
                     "stopping the engine (saving a checkpoint)...", 0);
            review_attr_off();
            wnoutrefresh(stdscr);
            doupdate();
        }
    }
    engine_free(rv->eng);
    rv->eng = NULL;
    return 0;
}

static int
review_loop(struct review *rv, int sig_rd)
{
    int redraw = REVIEW_REDRAW;
    double t_keys = 0.0;
    int pending = 0;
    for (;;) {
        if (review_sig_quit)
            return 0;
        if (redraw) {
            review_draw(rv);
            redraw = 0;
            if (pending > 0 && rv->timing != NULL) {
                double ms = (wn_monotonic() - t_keys) * 1000.0;
                for (int i = 0; i < pending; i++)
                    fprintf(rv->timing, "%.3f\n", ms);
                fflush(rv->timing);
            }
            pending = 0;
        }
        struct pollfd pfd[3] = {
            {.fd = STDIN_FILENO, .events = POLLIN},
            {.fd = sig_rd, .events = POLLIN},
            {.fd = rv->eng != NULL ? engine_fd(rv->eng) : -1, .events = POLLIN},
        };
        int timeout = rv->eng != NULL ? 500 : 1000;
        int n = poll(pfd, 3, timeout);
        double now = wn_monotonic();
        if (n < 0 && errno != EINTR)
            return -1;
        if (pfd[1].revents & POLLIN) {
            char buf[64];
            while (read(sig_rd, buf, sizeof buf) > 0)
                ;
        }
        if (review_sig_quit)
            return 0;
        if (review_sig_winch) {
            review_sig_winch = 0;
            review_resize();
            redraw |= REVIEW_REDRAW;
        }
        if (rv->eng != NULL && (pfd[2].revents & POLLIN))
            redraw |= review_engine_update(rv);
        else if (rv->eng != NULL && n == 0)
            redraw |= REVIEW_REDRAW; /* elapsed time and ETA move on */
        int nk = 0;
        int f = review_keys(rv, &nk);
        if (nk > 0) {
            t_keys = now;
            pending += nk;
        }
        if (f & REVIEW_QUIT)
            return 0;
        redraw |= f;
        /* A run published by another process re-ranks the queue too. */
        if (rv->eng == NULL &&
            now - rv->last_run_check > REVIEW_RUN_CHECK_SECONDS) {
            int64_t latest = 0;
            char *cause = NULL;
            rv->last_run_check = now;
            if (store_run_newest(rv->store, STORE_RUN_DONE, &latest,
                                 &cause) == 0 &&
                latest != rv->run_id) {
                if (review_load(rv, &cause) == 0)
                    review_reranked(rv, latest);
                redraw |= REVIEW_REDRAW;
            }
            free(cause);
        }
        if (rv->msg[0] != '\0' && now >= rv->msg_until) {
            rv->msg[0] = '\0';
            redraw |= REVIEW_REDRAW;
        }
    }
}

static void
review_fini(struct review *rv)
{
    picker_free(rv->picker);
    cells_cache_free(rv->cache);
    cells_renderer_free(rv->rend);
    queue_free(rv->q);
    undo_free(rv->u);
    store_names_free(rv->classes);
    store_close(rv->store);
    if (rv->timing != NULL)
        fclose(rv->timing);
    if (rv->debug != NULL)
        fclose(rv->debug);
}

int
review_run(const char *db_path, const struct review_options *o,
           struct review_result *res, char **cause)
{
    struct review rv;
    memset(&rv, 0, sizeof rv);
    rv.db_path = db_path;
    rv.opt = o;
    rv.noise_rate = NAN;

    if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))
        return wn_fail(cause, "review needs a terminal");
    if (store_open(db_path, 0, &rv.store, cause) != 0)
        return -1;
    if (store_class_names(rv.store, &rv.classes, &rv.n_classes, cause) != 0)
        goto fail;
    if (o->timing_path != NULL &&
        (rv.timing = fopen(o->timing_path, "a")) == NULL) {
        wn_fail(cause, "%s: %s", o->timing_path, strerror(errno));
        goto fail;
    }
    if (o->debug_path != NULL &&
        (rv.debug = fopen(o->debug_path, "a")) == NULL) {
        wn_fail(cause, "%s: %s", o->debug_path, strerror(errno));
        goto fail;
    }
    rv.q = queue_new();
    rv.u = undo_new();
    if (review_load(&rv, cause) != 0)
        goto fail;
    if (queue_size(rv.q) == 0) {
        wn_fail(cause, "the project has no samples (winnow import first)");
        goto fail;
    }

    int sig_pipe[2];
    if (pipe(sig_pipe) != 0) {
        wn_fail(cause, "cannot create a pipe: %s", strerror(errno));
        goto fail;
    }
    for (int i = 0; i < 2; i++) {
        fcntl(sig_pipe[i], F_SETFL, fcntl(sig_pipe[i], F_GETFL) | O_NONBLOCK);
        fcntl(sig_pipe[i], F_SETFD, FD_CLOEXEC);
    }

    SCREEN *scr = newterm(NULL, stdout, stdin);
    if (scr == NULL) {
        const char *term = getenv("TERM");
        wn_fail(cause, "cannot use the terminal (TERM=%s)",
                term != NULL ? term : "");
        close(sig_pipe[0]);
        close(sig_pipe[1]);
        goto fail;
    }
    static int at_exit_set;
    if (!at_exit_set && atexit(review_at_exit) == 0)
        at_exit_set = 1;
    review_screen_up = 1;
    review_sig_quit = 0;
    review_sig_winch = 0;
    review_sig_fd = sig_pipe[1];
    struct sigaction sa, old_int, old_term, old_hup, old_winch;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = review_on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    sigaction(SIGHUP, &sa, &old_hup);
    sigaction(SIGWINCH, &sa, &old_winch);

    review_colors(&rv);
    cbreak();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    nodelay(stdscr, TRUE);
    curs_set(0);
    set_escdelay(25);
    mousemask(BUTTON1_PRESSED | BUTTON1_CLICKED | BUTTON4_PRESSED
#ifdef BUTTON5_PRESSED
                  | BUTTON5_PRESSED
#endif
              ,
              NULL);
    mouseinterval(0);
    rv.rend = cells_renderer_new(REVIEW_FIRST_IMAGE_PAIR);
    rv.cache = cells_cache_new(rv.rend, REVIEW_CACHE_ENTRIES);
    review_log(&rv, "screen %dx%d, colours %d, pairs %d, images in %s", COLS,
               LINES, COLORS, COLOR_PAIRS,
               cells_mode_name(cells_renderer_mode(rv.rend)));

    review_check_interrupted(&rv);
    if (rv.run_id == 0 && !o->no_engine)
        review_engine_start(&rv, 0);
    int rc = review_loop(&rv, sig_pipe[0]);
    int abandoned = review_engine_quit(&rv);

    endwin();
    review_screen_up = 0;
    delscreen(scr);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    sigaction(SIGHUP, &old_hup, NULL);
    sigaction(SIGWINCH, &old_winch, NULL);
    review_sig_fd = -1;
    close(sig_pipe[0]);
    close(sig_pipe[1]);

    if (abandoned) {
        /* The engine thread still runs: leave its memory to the exit. */
        rv.eng = NULL;
    }
    struct queue_counts c;
    queue_counts(rv.q, &c);
    rv.res.kept = (int64_t)c.kept;
    rv.res.relabeled = (int64_t)c.relabeled;
    if (res != NULL)
        *res = rv.res;
    review_fini(&rv);
    if (rc != 0)
        return wn_fail(cause, "waiting for input: %s", strerror(errno));
    return 0;
fail:
    review_fini(&rv);
    return -1;
}
