/* The undo and redo stacks: order, redo cleared by a new decision, a redo
 * that records the new event, entries dropped when the store refuses. */
#include "config.h"

#include <stdio.h>

#include "tests/tap.h"
#include "ui/undo.h"

static struct undo_entry
entry(int64_t sample, int64_t event, int from, int to)
{
    struct undo_entry e = {
        .kind = UNDO_LABEL,
        .sample_id = sample,
        .event_id = event,
        .old_label = from,
        .new_label = to,
        .old_status = 0,
        .new_status = 2,
        .note = "relabel",
    };
    return e;
}

int
main(void)
{
    struct undo *u = undo_new();
    ok(undo_peek(u) == NULL && undo_peek_redo(u) == NULL,
       "a new stack has nothing to undo or redo");
    undo_done(u); /* nothing: must not crash */
    undo_redone(u, 5);
    undo_drop(u);
    is_int(undo_depth(u), ==, 0);

    for (int i = 1; i <= 5; i++) {
        struct undo_entry e = entry(i, 100 + i, 0, i);
        undo_push(u, &e);
    }
    is_int(undo_depth(u), ==, 5);
    is_int(undo_peek(u)->sample_id, ==, 5);

    /* Undo three: newest first, each moving to the redo stack. */
    int64_t order[3];
    for (int i = 0; i < 3; i++) {
        order[i] = undo_peek(u)->event_id;
        undo_done(u);
    }
    ok(order[0] == 105 && order[1] == 104 && order[2] == 103,
       "undo takes the newest decision first");
    is_int(undo_depth(u), ==, 2);
    is_int(undo_redo_depth(u), ==, 3);
    is_int(undo_peek_redo(u)->sample_id, ==, 3);

    /* Redo the last undone one: it comes back with its new event. */
    undo_redone(u, 200);
    is_int(undo_depth(u), ==, 3);
    is_int(undo_redo_depth(u), ==, 2);
    is_int(undo_peek(u)->sample_id, ==, 3);
    is_int(undo_peek(u)->event_id, ==, 200);
    is_int(undo_peek(u)->new_label, ==, 3);
    is_int(undo_peek_redo(u)->sample_id, ==, 4);

    /* A new decision forgets what could be redone. */
    struct undo_entry e = entry(9, 300, 1, 2);
    undo_push(u, &e);
    is_int(undo_redo_depth(u), ==, 0);
    ok(undo_peek_redo(u) == NULL, "nothing to redo after a new decision");

    /* The store refused to undo the top one: dropped, not redoable. */
    undo_drop(u);
    is_int(undo_depth(u), ==, 3);
    is_int(undo_redo_depth(u), ==, 0);
    is_int(undo_peek(u)->event_id, ==, 200);

    /* Skips go through the same stacks. */
    struct undo_entry s = {.kind = UNDO_SKIP, .sample_id = 7};
    undo_push(u, &s);
    is_int(undo_peek(u)->kind, ==, UNDO_SKIP);
    undo_done(u);
    undo_redone(u, 0);
    is_int(undo_peek(u)->kind, ==, UNDO_SKIP);
    is_int(undo_peek(u)->sample_id, ==, 7);

    /* Any number of entries. */
    for (int i = 0; i < 10000; i++) {
        struct undo_entry x = entry(i, i, 0, 1);
        undo_push(u, &x);
    }
    while (undo_peek(u) != NULL)
        undo_done(u);
    is_int(undo_redo_depth(u), ==, 10004);
    undo_free(u);
    undo_free(NULL);
    return done_testing();
}
