/* ui/keymap.h: which key does what on the review screen, and the words the
 * help screen shows for it. One table serves both, so the help cannot
 * drift from the keys; the man page repeats it by hand.
 *
 * A key is an int: a character is its code point, a curses function key
 * (KEY_UP, KEY_NPAGE, ...) is KEYMAP_FKEY(code), so that the two ranges,
 * which overlap as plain numbers, never collide. */
#ifndef WINNOW_UI_KEYMAP_H
#define WINNOW_UI_KEYMAP_H

#include <stddef.h>

#define KEYMAP_FKEY_BIT   0x40000000
#define KEYMAP_FKEY(code) ((int)(code) | KEYMAP_FKEY_BIT)
#define KEYMAP_CTRL(c)    ((c)&0x1f)

enum keymap_action {
    KEYMAP_NONE,
    KEYMAP_DOWN,
    KEYMAP_UP,
    KEYMAP_PAGE_DOWN,
    KEYMAP_PAGE_UP,
    KEYMAP_FIRST,
    KEYMAP_LAST,
    KEYMAP_ACCEPT, /* take the suggested label */
    KEYMAP_KEEP,   /* confirm the current label */
    KEYMAP_PICK,   /* choose a class in the picker */
    KEYMAP_CLASS,  /* one of the first ten classes: arg 0..9 */
    KEYMAP_SKIP,
    KEYMAP_UNDO,
    KEYMAP_REDO,
    KEYMAP_FILTER_CLASS, /* show one class */
    KEYMAP_FILTER_SHOW,  /* to review, decided, skipped, all */
    KEYMAP_FILTER_SCORE, /* a minimum score */
    KEYMAP_FILTER_CLEAR,
    KEYMAP_DUPS,          /* the duplicates view of a sample's group */
    KEYMAP_GROUP_LABEL,   /* the whole group takes the chosen label */
    KEYMAP_GROUP_KEEP,    /* keep the chosen member, drop the rest */
    KEYMAP_OFFER_NEAR,    /* the last decision for its near-duplicates */
    KEYMAP_OFFER_SIMILAR, /* ... for its most similar suspects */
    KEYMAP_ORDER,         /* rank by noise score or by outlier score */
    KEYMAP_ENGINE,        /* start, pause or resume */
    KEYMAP_ENGINE_STOP,
    KEYMAP_HELP,
    KEYMAP_REDRAW,
    KEYMAP_QUIT,
    KEYMAP_MOUSE,
    KEYMAP_RESIZE,
};

/* The action of a key; *arg_out (may be NULL) gets KEYMAP_CLASS's class
 * index and 0 otherwise. */
enum keymap_action keymap_lookup(int key, int *arg_out);

struct keymap_binding { /* plain data */
    int key;
    enum keymap_action action;
    int arg;
};
/* The whole table, for tests. */
const struct keymap_binding *keymap_bindings(size_t *n_out);

struct keymap_help { /* plain data; keys NULL: a heading */
    const char *keys;
    const char *what;
};
/* The help screen's lines, in order. */
const struct keymap_help *keymap_help_lines(size_t *n_out);

#endif
