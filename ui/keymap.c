/* ui/keymap.c: the key table. vi keys and arrows both move, so `k` is up
 * and never "keep": keeping is space or `v`. Digits 1-9 and 0 name the
 * first ten classes, as on a keyboard's top row. A linear scan of some
 * fifty entries costs nothing next to drawing a frame. */
#include "config.h"

#include "ui/keymap.h"

#include <curses.h>

#define K(c, a)                                                                \
    {                                                                          \
        (c), (a), 0                                                            \
    }
#define F(c, a)                                                                \
    {                                                                          \
        KEYMAP_FKEY(c), (a), 0                                                 \
    }
#define CLS(c, n)                                                              \
    {                                                                          \
        (c), KEYMAP_CLASS, (n)                                                 \
    }

static const struct keymap_binding keymap_table[] = {
    K('j', KEYMAP_DOWN),
    F(KEY_DOWN, KEYMAP_DOWN),
    K('k', KEYMAP_UP),
    F(KEY_UP, KEYMAP_UP),
    F(KEY_NPAGE, KEYMAP_PAGE_DOWN),
    K(KEYMAP_CTRL('f'), KEYMAP_PAGE_DOWN),
    F(KEY_PPAGE, KEYMAP_PAGE_UP),
    K(KEYMAP_CTRL('b'), KEYMAP_PAGE_UP),
    K('g', KEYMAP_FIRST),
    F(KEY_HOME, KEYMAP_FIRST),
    K('G', KEYMAP_LAST),
    F(KEY_END, KEYMAP_LAST),
    K('\r', KEYMAP_ACCEPT),
    K('\n', KEYMAP_ACCEPT),
    F(KEY_ENTER, KEYMAP_ACCEPT),
    K('a', KEYMAP_ACCEPT),
    K(' ', KEYMAP_KEEP),
    K('v', KEYMAP_KEEP),
    K('c', KEYMAP_PICK),
    CLS('1', 0),
    CLS('2', 1),
    CLS('3', 2),
    CLS('4', 3),
    CLS('5', 4),
    CLS('6', 5),
    CLS('7', 6),
    CLS('8', 7),
    CLS('9', 8),
    CLS('0', 9),
    K('s', KEYMAP_SKIP),
    K('u', KEYMAP_UNDO),
    K(KEYMAP_CTRL('r'), KEYMAP_REDO),
    K('/', KEYMAP_FILTER_CLASS),
    K('f', KEYMAP_FILTER_SHOW),
    K('F', KEYMAP_FILTER_SCORE),
    K(27, KEYMAP_FILTER_CLEAR),
    K('d', KEYMAP_DUPS),
    K('=', KEYMAP_GROUP_LABEL),
    K('x', KEYMAP_GROUP_KEEP),
    K('p', KEYMAP_OFFER_NEAR),
    K('P', KEYMAP_OFFER_SIMILAR),
    K('o', KEYMAP_ORDER),
    K('t', KEYMAP_ENGINE),
    K('T', KEYMAP_ENGINE_STOP),
    K('?', KEYMAP_HELP),
    F(KEY_F(1), KEYMAP_HELP),
    K(KEYMAP_CTRL('l'), KEYMAP_REDRAW),
    K('q', KEYMAP_QUIT),
    F(KEY_MOUSE, KEYMAP_MOUSE),
    F(KEY_RESIZE, KEYMAP_RESIZE),
};

/* Descriptions stay within 24 columns: two columns of help fit 80x24. */
static const struct keymap_help keymap_help_table[] = {
    {NULL, "Move"},
    {"j  Down", "next sample"},
    {"k  Up", "previous sample"},
    {"PgDn  Ctrl-F", "a page down"},
    {"PgUp  Ctrl-B", "a page up"},
    {"g  Home", "first sample"},
    {"G  End", "last sample"},
    {"click", "select a sample"},
    {NULL, "Decide (saved at once)"},
    {"Enter  a", "accept the suggestion"},
    {"Space  v", "keep the current label"},
    {"c", "choose a class (picker)"},
    {"1-9  0", "class number 1-9, 10"},
    {"s", "skip for now"},
    {"u", "undo (again: the one"},
    {"", "before, and so on)"},
    {"Ctrl-R", "redo what was undone"},
    {NULL, "Filter"},
    {"/", "show one class"},
    {"f", "to review, decided,"},
    {"", "skipped or all"},
    {"F", "a minimum score"},
    {"Esc", "clear the filters"},
    {NULL, "Duplicates, one for many"},
    {"d", "a sample's duplicates"},
    {"=", "(there) all take its"},
    {"", "label"},
    {"x", "(there) keep it, drop"},
    {"", "the rest at export"},
    {"p", "same decision for its"},
    {"", "near-duplicates"},
    {"P", "... for similar suspects"},
    {"o", "rank by outlier score"},
    {NULL, "Engine and screen"},
    {"t", "scoring: start, pause,"},
    {"", "resume"},
    {"T", "stop, with a checkpoint"},
    {"?  F1", "this help"},
    {"Ctrl-L", "redraw"},
    {"q", "quit (all is saved)"},
};

enum keymap_action
keymap_lookup(int key, int *arg_out)
{
    if (arg_out != NULL)
        *arg_out = 0;
    for (size_t i = 0; i < sizeof keymap_table / sizeof keymap_table[0]; i++) {
        if (keymap_table[i].key == key) {
            if (arg_out != NULL)
                *arg_out = keymap_table[i].arg;
            return keymap_table[i].action;
        }
    }
    return KEYMAP_NONE;
}

const struct keymap_binding *
keymap_bindings(size_t *n_out)
{
    *n_out = sizeof keymap_table / sizeof keymap_table[0];
    return keymap_table;
}

const struct keymap_help *
keymap_help_lines(size_t *n_out)
{
    *n_out = sizeof keymap_help_table / sizeof keymap_help_table[0];
    return keymap_help_table;
}
