/* ui/help.c: the help screen. The lines come from the key table, flowed
 * into as many columns as the height needs; a heading never ends a
 * column, so each group reads as one block. */
#include "config.h"

#include "ui/help.h"

#include <stdio.h>
#include <stdlib.h>

#include "data/base.h"
#include "ui/keymap.h"
#include "ui/text.h"

#define HELP_KEYS_W 14
/* A column fits the longest key and description. */
#define HELP_COL_W  39

/* The key lines, then a group naming the classes of the digit keys. */
static struct keymap_help *
help_lines(char *const *names, int n_names, char (*keys)[8], size_t *n_out)
{
    size_t n;
    const struct keymap_help *k = keymap_help_lines(&n);
    int shown = n_names < 10 ? n_names : 10;
    struct keymap_help *h = xcalloc(n + 1 + (size_t)shown, sizeof *h);
    for (size_t i = 0; i < n; i++)
        h[i] = k[i];
    if (shown > 0)
        h[n++] = (struct keymap_help){NULL, "Classes of the digit keys"};
    for (int i = 0; i < shown; i++) {
        snprintf(keys[i], sizeof keys[i], "%d", (i + 1) % 10);
        h[n].keys = keys[i];
        h[n].what = names[i];
        n++;
    }
    *n_out = n;
    return h;
}

/* Columns needed for lines in rows rows: each group takes a gap. */
static int
help_columns(const struct keymap_help *h, size_t n, int rows)
{
    int groups = 0;
    for (size_t i = 0; i < n; i++)
        groups += h[i].keys == NULL;
    int c = ((int)n + groups + rows - 1) / rows;
    return c < 1 ? 1 : c;
}

void
help_draw(WINDOW *win, int lines, int cols, char *const *names, int n_names)
{
    size_t n;
    char keys[10][8];
    int rows = lines - 4; /* title, blank, ..., blank, footer */
    if (rows < 4)
        return;
    /* The classes come along only where the keys keep their room. */
    struct keymap_help *h = help_lines(names, n_names, keys, &n);
    size_t n_keys;
    keymap_help_lines(&n_keys);
    if (help_columns(h, n, rows) * HELP_COL_W > cols - 2)
        n = n_keys;
    int ncol = help_columns(h, n, rows);
    int colw = (cols - 2) / ncol;
    if (colw > 48)
        colw = 48;

    for (int y = 0; y < lines; y++)
        text_blank(win, y, 0, cols);
    wattron(win, A_BOLD);
    text_put(win, 0, 1, cols - 2, "winnow review: keys", 0);
    wattroff(win, A_BOLD);

    int col = 0, y = 0;
    for (size_t i = 0; i < n; i++) {
        int heading = h[i].keys == NULL;
        /* A group starts with a gap and never leaves its heading alone
         * at the bottom of a column. */
        int need = heading ? (y > 0) + 2 : 1;
        if (y + need > rows) {
            col++;
            y = 0;
        }
        int x = 1 + col * colw;
        if (x >= cols - 4)
            break;
        int w = colw - 2 < cols - x ? colw - 2 : cols - x;
        if (heading) {
            if (y > 0)
                y++;
            wattron(win, A_BOLD | A_UNDERLINE);
            text_put(win, 2 + y, x, w, h[i].what, 0);
            wattroff(win, A_BOLD | A_UNDERLINE);
        } else {
            wattron(win, A_BOLD);
            text_put(win, 2 + y, x + 1, HELP_KEYS_W - 2, h[i].keys, 0);
            wattroff(win, A_BOLD);
            text_put(win, 2 + y, x + HELP_KEYS_W, w - HELP_KEYS_W, h[i].what,
                     0);
        }
        y++;
    }
    wattron(win, A_DIM);
    text_put(win, lines - 1, 1, cols - 2,
             "Every decision is saved at once.  Any key closes this help.", 0);
    wattroff(win, A_DIM);
    free(h);
}
