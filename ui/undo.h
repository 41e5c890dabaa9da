/* ui/undo.h: the review session's undo and redo stacks of decisions.
 *
 * Plain data and no store: the screen applies an entry to the store first
 * and tells the stacks how it went (undo_done, undo_redone, undo_drop), so
 * an undo that the store refuses never leaves the stacks claiming
 * otherwise. Any number of entries; a new decision empties the redo stack.
 * Main thread only. */
#ifndef WINNOW_UI_UNDO_H
#define WINNOW_UI_UNDO_H

#include <stddef.h>
#include <stdint.h>

enum undo_kind {
    UNDO_LABEL, /* a decision stored as a label event */
    UNDO_SKIP,  /* a skip: session state only */
};

struct undo_entry { /* plain data */
    enum undo_kind kind;
    int64_t sample_id;
    int64_t event_id;           /* the decision's label event (UNDO_LABEL) */
    int old_label, new_label;   /* class ids */
    int old_status, new_status; /* enum queue_status */
    const char *note;           /* static text: "accept", "keep", ... */
    /* The decision was carried to other samples (data/store.h,
     * store_label_follow): undone as one step, with them, and not
     * redone. */
    int group;
};

struct undo;

struct undo *undo_new(void);
void undo_free(struct undo *u);

/* Record a new decision; forgets everything that could be redone. */
void undo_push(struct undo *u, const struct undo_entry *e);
/* The entry the next undo reverts, or NULL. Valid until the next call. */
const struct undo_entry *undo_peek(const struct undo *u);
/* The entry the next redo applies again, or NULL. */
const struct undo_entry *undo_peek_redo(const struct undo *u);
/* The entry the next undo reverts, for marking it a group; NULL if none. */
struct undo_entry *undo_top(struct undo *u);
/* The top entry was reverted: it moves to the redo stack. */
void undo_done(struct undo *u);
/* The top redo entry was applied again, as label event event_id (0 for a
 * skip): it moves back to the undo stack. */
void undo_redone(struct undo *u, int64_t event_id);
/* The top entry cannot be reverted (its sample changed since): forget it
 * without touching the redo stack. */
void undo_drop(struct undo *u);
size_t undo_depth(const struct undo *u);
size_t undo_redo_depth(const struct undo *u);

#endif
