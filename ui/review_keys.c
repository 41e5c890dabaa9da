/* ui/review_keys.c: what the keys of the review screen do.
 *
 * ui/keymap.c says which key is which action; here each action changes
 * the state and returns flags (REVIEW_REDRAW, REVIEW_QUIT) for the loop,
 * which draws once after the keys waiting are handled. Nothing here
 * draws. The modes (help, pickers, the score prompt) take the keys while
 * they are open. Decisions go to the store the moment a key is pressed,
 * each in its own transaction (store_label_decide, source human), and
 * onto the session's undo stack; skipping is the one action kept only in
 * this session. */
#include "config.h"

#include "ui/review_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curses.h>

#include "data/store.h"
#include "ui/keymap.h"
#include "ui/picker.h"
#include "ui/queue.h"
#include "ui/text.h"
#include "ui/undo.h"

/* ---- decisions ---- */

static enum queue_status
review_decided_status(const struct queue_item *it, int label)
{
    return label == it->given ? QUEUE_KEPT : QUEUE_RELABELED;
}

/* Decide sample it (the current one, or a member in the duplicates view,
 * which stays where it is rather than advancing). */
static void
review_decide_on(struct review *rv, const struct queue_item *it, int label,
                 const char *note, int advance)
{
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
    review_offer_make(rv, id, ev, old, label);
    if (advance)
        queue_advance(rv->q);
}

static void
review_decide(struct review *rv, int label, const char *note)
{
    review_decide_on(rv, queue_current(rv->q), label, note, 1);
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
    review_offer_clear(rv);
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
    review_offer_clear(rv);
    if (e.kind == UNDO_LABEL) {
        char *cause = NULL;
        struct store_reverted *rev;
        size_t n;
        if (store_label_revert_all(rv->store, e.event_id, &rev, &n, &cause) !=
            0) {
            review_say(rv, 1, "cannot undo: %s", cause);
            free(cause);
            undo_drop(rv->u);
            return;
        }
        for (size_t i = 0; i < n; i++) {
            if (rev[i].undone_id == e.event_id)
                label = rev[i].label;
            review_log(rv, "undo event %lld with event %lld",
                       (long long)rev[i].undone_id, (long long)rev[i].event_id);
        }
        free(rev);
        rv->res.decisions -= (int64_t)n;
        if (e.group || n > 1) {
            /* One step for many samples: read their states back, and
             * leave nothing to redo (decide again instead). */
            undo_drop(rv->u);
            if (review_load(rv, &cause) != 0) {
                review_say(rv, 1, "cannot read the project: %s", cause);
                free(cause);
                return;
            }
            if (rv->mode != MODE_DUPS)
                queue_select(rv->q, e.sample_id);
            review_say(rv, 0, "undone: %zu decisions in one step", n);
            return;
        }
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
    review_offer_clear(rv);
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

/* o: rank by outlier score, or by noise score again. */
static void
review_order_toggle(struct review *rv)
{
    if (queue_get_order(rv->q) == QUEUE_BY_OUTLIER) {
        queue_set_order(rv->q, QUEUE_BY_SCORE);
        review_say(rv, 0,
                   "ranked by noise score: likeliest wrong labels first");
        return;
    }
    int any = 0;
    for (size_t i = 0; i < queue_count(rv->q) && !any; i++)
        any = !isnan(queue_at(rv->q, i)->outlier);
    if (!any) {
        review_say(rv, 0,
                   "no outlier scores: the run shown has none (t scores "
                   "again)");
        return;
    }
    queue_set_order(rv->q, QUEUE_BY_OUTLIER);
    rv->top = 0;
    queue_go(rv->q, 0);
    review_say(rv, 0, "ranked by outlier score: least like any class first");
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

/* The duplicates view: j/k choose a member, digits and Space decide it
 * alone, = and x decide the whole group; d or Esc go back to the queue. */
static int
review_key_dups(struct review *rv, enum keymap_action a, int arg)
{
    size_t n = review_group_members(rv, rv->dups_of, NULL, 0);
    if (n == 0) {
        rv->mode = MODE_QUEUE;
        return REVIEW_REDRAW;
    }
    int64_t *ids = xmalloc(n * sizeof *ids);
    review_group_members(rv, rv->dups_of, ids, n);
    if (rv->dups_sel >= n)
        rv->dups_sel = n - 1;
    const struct queue_item *it = queue_find(rv->q, ids[rv->dups_sel]);
    free(ids);
    switch (a) {
    case KEYMAP_DOWN:
        if (rv->dups_sel + 1 < n)
            rv->dups_sel++;
        break;
    case KEYMAP_UP:
        if (rv->dups_sel > 0)
            rv->dups_sel--;
        break;
    case KEYMAP_CLASS:
        if (arg >= rv->n_classes)
            review_say(rv, 1, "there is no class %d", arg + 1);
        else if (it != NULL)
            review_decide_on(rv, it, arg, arg == it->label ? "keep" : "relabel",
                             0);
        break;
    case KEYMAP_KEEP:
        if (it != NULL)
            review_decide_on(rv, it, it->label, "keep", 0);
        break;
    case KEYMAP_GROUP_LABEL: review_group_decide(rv, 0); break;
    case KEYMAP_GROUP_KEEP: review_group_decide(rv, 1); break;
    case KEYMAP_OFFER_NEAR: review_offer_open(rv, OFFER_NEAR); break;
    case KEYMAP_OFFER_SIMILAR: review_offer_open(rv, OFFER_SIMILAR); break;
    case KEYMAP_UNDO: review_undo(rv); break;
    case KEYMAP_DUPS:
    case KEYMAP_FILTER_CLEAR:
        rv->mode = MODE_QUEUE;
        queue_select(rv->q, rv->dups_of);
        break;
    case KEYMAP_HELP: rv->mode = MODE_HELP; break;
    case KEYMAP_QUIT: return REVIEW_QUIT;
    default:
        review_say(rv, 0,
                   "in the duplicates view: j k choose, = x decide "
                   "the group, d or Esc leave");
        break;
    }
    return REVIEW_REDRAW;
}

/* An offer's list: Enter applies what is checked, Space checks and
 * unchecks, Esc dismisses; p and P switch lists. */
static int
review_key_offer(struct review *rv, enum keymap_action a)
{
    struct review_offer *o = &rv->offer;
    size_t n = o->n[o->open];
    switch (a) {
    case KEYMAP_DOWN:
        if (o->cur + 1 < n)
            o->cur++;
        break;
    case KEYMAP_UP:
        if (o->cur > 0)
            o->cur--;
        break;
    case KEYMAP_KEEP:
        if (o->cur < n)
            o->items[o->open][o->cur].on ^= 1;
        break;
    case KEYMAP_ACCEPT: review_offer_apply(rv); break;
    case KEYMAP_OFFER_NEAR: review_offer_open(rv, OFFER_NEAR); break;
    case KEYMAP_OFFER_SIMILAR: review_offer_open(rv, OFFER_SIMILAR); break;
    case KEYMAP_FILTER_CLEAR:
        review_offer_clear(rv);
        review_say(rv, 0, "offer dismissed");
        break;
    case KEYMAP_QUIT: return REVIEW_QUIT;
    default: break;
    }
    return REVIEW_REDRAW;
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
    case MODE_DUPS: return a == KEYMAP_MOUSE ? 0 : review_key_dups(rv, a, arg);
    case MODE_OFFER: return a == KEYMAP_MOUSE ? 0 : review_key_offer(rv, a);
    case MODE_QUEUE: break;
    }

    const struct queue_item *it = queue_current(rv->q);
    struct queue_filter f;
    switch (a) {
    case KEYMAP_NONE: return 0;
    case KEYMAP_DOWN: queue_move(rv->q, 1); break;
    case KEYMAP_UP: queue_move(rv->q, -1); break;
    case KEYMAP_PAGE_DOWN: queue_move(rv->q, review_page(rv)); break;
    case KEYMAP_PAGE_UP: queue_move(rv->q, -review_page(rv)); break;
    case KEYMAP_FIRST: queue_go(rv->q, 0); break;
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
    case KEYMAP_PICK: review_open_picker(rv, 0); break;
    case KEYMAP_CLASS:
        if (it == NULL)
            break;
        if (arg >= rv->n_classes)
            review_say(rv, 1, "there is no class %d (c picks from all %d)",
                       arg + 1, rv->n_classes);
        else
            review_decide(rv, arg, arg == it->label ? "keep" : "relabel");
        break;
    case KEYMAP_SKIP: review_skip(rv); break;
    case KEYMAP_UNDO: review_undo(rv); break;
    case KEYMAP_REDO: review_redo(rv); break;
    case KEYMAP_FILTER_CLASS: review_open_picker(rv, 1); break;
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
    case KEYMAP_DUPS: review_dups_open(rv); break;
    case KEYMAP_GROUP_LABEL:
    case KEYMAP_GROUP_KEEP:
        review_say(rv, 0, "a group is decided in the duplicates view (d)");
        break;
    case KEYMAP_OFFER_NEAR: review_offer_open(rv, OFFER_NEAR); break;
    case KEYMAP_OFFER_SIMILAR: review_offer_open(rv, OFFER_SIMILAR); break;
    case KEYMAP_ORDER: review_order_toggle(rv); break;
    case KEYMAP_ENGINE: review_engine_toggle(rv); break;
    case KEYMAP_ENGINE_STOP: review_engine_stop(rv); break;
    case KEYMAP_HELP: rv->mode = MODE_HELP; break;
    case KEYMAP_QUIT: return REVIEW_QUIT;
    case KEYMAP_MOUSE: review_mouse(rv); break;
    case KEYMAP_REDRAW:
    case KEYMAP_RESIZE: break;
    }
    return REVIEW_REDRAW;
}

/* Read every key waiting (ncurses may hold several from one read) and
 * handle each; returns the flags, and counts the keys in *nkeys. */
int
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
