/* ui/text.h: putting text on the screen clipped to a number of columns,
 * counting display columns rather than bytes (class names and paths may be
 * UTF-8, some characters are two columns wide, some are not printable).
 * Main thread only. */
#ifndef WINNOW_UI_TEXT_H
#define WINNOW_UI_TEXT_H

#include <curses.h>

/* Columns s takes on screen (unprintable characters count as one '?'). */
int text_width(const char *s);
/* Put s at (y, x) of win with the window's current attributes, in at most
 * width columns; a string that does not fit ends in an ellipsis (or, with
 * from_left, begins with one and shows its end: paths). Returns the
 * columns used. */
int text_put(WINDOW *win, int y, int x, int width, const char *s,
             int from_left);
/* Fill width columns at (y, x) with spaces. */
void text_blank(WINDOW *win, int y, int x, int width);
/* Whether the locale is UTF-8, so block and arrow characters can be
 * drawn; else plain ASCII stands in. */
int text_utf8(void);

#endif
