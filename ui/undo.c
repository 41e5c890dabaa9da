/* ui/undo.c: two growable arrays used as stacks. Entries are small plain
 * structs copied in and out, so nothing here owns memory but the arrays. */
#include "config.h"

#include "ui/undo.h"

#include <stdlib.h>

#include "data/base.h"

struct undo_stack {
    struct undo_entry *v;
    size_t n, cap;
};

struct undo {
    struct undo_stack done; /* what undo reverts, newest last */
    struct undo_stack redo; /* what redo applies again, newest last */
};

static void
undo_stack_push(struct undo_stack *s, const struct undo_entry *e)
{
    wn_grow(&s->v, sizeof *s->v, &s->cap, s->n + 1);
    s->v[s->n++] = *e;
}

struct undo *
undo_new(void)
{
    return xcalloc(1, sizeof(struct undo));
}

void
undo_free(struct undo *u)
{
    if (u == NULL)
        return;
    free(u->done.v);
    free(u->redo.v);
    free(u);
}

void
undo_push(struct undo *u, const struct undo_entry *e)
{
    undo_stack_push(&u->done, e);
    u->redo.n = 0;
}

const struct undo_entry *
undo_peek(const struct undo *u)
{
    return u->done.n > 0 ? &u->done.v[u->done.n - 1] : NULL;
}

struct undo_entry *
undo_top(struct undo *u)
{
    return u->done.n > 0 ? &u->done.v[u->done.n - 1] : NULL;
}

const struct undo_entry *
undo_peek_redo(const struct undo *u)
{
    return u->redo.n > 0 ? &u->redo.v[u->redo.n - 1] : NULL;
}

void
undo_done(struct undo *u)
{
    if (u->done.n == 0)
        return;
    struct undo_entry e = u->done.v[--u->done.n];
    undo_stack_push(&u->redo, &e);
}

void
undo_redone(struct undo *u, int64_t event_id)
{
    if (u->redo.n == 0)
        return;
    struct undo_entry e = u->redo.v[--u->redo.n];
    e.event_id = event_id;
    undo_stack_push(&u->done, &e);
}

void
undo_drop(struct undo *u)
{
    if (u->done.n > 0)
        u->done.n--;
}

size_t
undo_depth(const struct undo *u)
{
    return u->done.n;
}

size_t
undo_redo_depth(const struct undo *u)
{
    return u->redo.n;
}
