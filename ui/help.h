/* ui/help.h: the help screen, every key of ui/keymap.h in columns over
 * the whole screen. Main thread only. */
#ifndef WINNOW_UI_HELP_H
#define WINNOW_UI_HELP_H

#include <curses.h>

/* Draw the help over rows [0, lines) of win, cols wide, ending with the
 * classes the digit keys choose (names[0..n), the first ten). */
void help_draw(WINDOW *win, int lines, int cols, char *const *names, int n);

#endif
