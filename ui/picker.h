/* ui/picker.h: the class picker, a box that narrows a list of class names
 * as a person types (a dataset may have 10 classes or 1,000).
 *
 * Typing filters (case-insensitive; a name that starts with the text comes
 * before one that only contains it; a number also finds the class shown
 * with that number); arrows, PgUp/PgDn and Ctrl-P/Ctrl-N move; Enter
 * chooses; Esc cancels. Keys are ui/keymap.h ints. The state and the
 * matching are plain C; only picker_draw touches curses. Main thread. */
#ifndef WINNOW_UI_PICKER_H
#define WINNOW_UI_PICKER_H

#include <stddef.h>

#include <curses.h>

/* The "all classes" entry offered with with_all. */
#define PICKER_ALL (-1)

enum picker_result {
    PICKER_OPEN,
    PICKER_CHOSEN,
    PICKER_CANCELLED,
};

struct picker;

/* names[0..n) are borrowed and must outlive the picker. with_all adds an
 * "all classes" entry first; current (or -1) is the class selected at
 * the start. */
struct picker *picker_new(const char *const *names, int n, const char *title,
                          int with_all, int current);
void picker_free(struct picker *p);

enum picker_result picker_key(struct picker *p, int key);
/* After PICKER_CHOSEN: the class id, or PICKER_ALL. */
int picker_choice(const struct picker *p);
const char *picker_query(const struct picker *p);
/* The entries now shown, best first: class ids or PICKER_ALL. */
size_t picker_count(const struct picker *p);
int picker_entry(const struct picker *p, size_t i);
size_t picker_selected(const struct picker *p);

/* Draw the picker as a box centred on the screen (lines x cols). */
void picker_draw(struct picker *p, WINDOW *win, int lines, int cols);

#endif
