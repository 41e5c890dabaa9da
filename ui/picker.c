/* ui/picker.c: the class picker.
 *
 * The query is kept as UTF-8 and compared byte-wise with ASCII case
 * folded, which is right for the usual class names and harmless for
 * others. Matches are recomputed on every key: a pass over at most a few
 * thousand short names. */
#include "config.h"

#include "ui/picker.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "data/base.h"
#include "ui/keymap.h"
#include "ui/text.h"

#define PICKER_QUERY_MAX 128

struct picker {
    const char *const *names;
    int n;
    char *title;
    int with_all;
    char query[PICKER_QUERY_MAX];
    size_t qlen;
    int *match; /* class ids or PICKER_ALL, best first */
    size_t nmatch;
    size_t sel, top;
    int choice;
};

/* 3: the same name, 2: starts with q, 1: contains q, 0: no match. */
static int
picker_rank(const char *name, const char *q, size_t qlen)
{
    size_t len = strlen(name);
    if (qlen == 0)
        return 1;
    if (qlen > len)
        return 0;
    for (size_t at = 0; at + qlen <= len; at++) {
        size_t i = 0;
        while (i < qlen && tolower((unsigned char)name[at + i]) ==
                               tolower((unsigned char)q[i]))
            i++;
        if (i == qlen)
            return at > 0 ? 1 : qlen == len ? 3 : 2;
    }
    return 0;
}

/* The class a query of digits names (shown numbers start at 1), or -1. */
static int
picker_number(const char *q, size_t qlen, int n)
{
    if (qlen == 0 || qlen > 6)
        return -1;
    long v = 0;
    for (size_t i = 0; i < qlen; i++) {
        if (q[i] < '0' || q[i] > '9')
            return -1;
        v = v * 10 + (q[i] - '0');
    }
    return v >= 1 && v <= n ? (int)v - 1 : -1;
}

static void
picker_refresh(struct picker *p)
{
    int keep = p->nmatch > 0 && p->sel < p->nmatch ? p->match[p->sel] : -2;
    p->nmatch = 0;
    int num = picker_number(p->query, p->qlen, p->n);
    if (num >= 0)
        p->match[p->nmatch++] = num;
    if (p->with_all && p->qlen == 0)
        p->match[p->nmatch++] = PICKER_ALL;
    for (int rank = 3; rank >= 1; rank--)
        for (int i = 0; i < p->n; i++)
            if (i != num && picker_rank(p->names[i], p->query, p->qlen) == rank)
                p->match[p->nmatch++] = i;
    /* With an empty query every name ranks 1: the order is by id. */
    p->sel = 0;
    p->top = 0;
    if (p->qlen == 0)
        for (size_t i = 0; i < p->nmatch; i++)
            if (p->match[i] == keep)
                p->sel = i;
}

struct picker *
picker_new(const char *const *names, int n, const char *title, int with_all,
           int current)
{
    struct picker *p = xcalloc(1, sizeof *p);
    p->names = names;
    p->n = n < 0 ? 0 : n;
    p->title = xstrdup(title);
    p->with_all = with_all != 0;
    p->match = xcalloc((size_t)p->n + 2, sizeof *p->match);
    p->choice = PICKER_ALL;
    picker_refresh(p);
    for (size_t i = 0; i < p->nmatch; i++)
        if (p->match[i] == current)
            p->sel = i;
    return p;
}

void
picker_free(struct picker *p)
{
    if (p == NULL)
        return;
    free(p->title);
    free(p->match);
    free(p);
}

static void
picker_backspace(struct picker *p)
{
    /* Drop one UTF-8 character: continuation bytes, then its lead. */
    while (p->qlen > 0 && ((unsigned char)p->query[p->qlen - 1] & 0xc0) == 0x80)
        p->qlen--;
    if (p->qlen > 0)
        p->qlen--;
    p->query[p->qlen] = '\0';
}

static void
picker_type(struct picker *p, int key)
{
    char buf[8];
    mbstate_t st;
    memset(&st, 0, sizeof st);
    size_t k = wcrtomb(buf, (wchar_t)key, &st);
    if (k == (size_t)-1 || p->qlen + k + 1 > sizeof p->query)
        return;
    memcpy(p->query + p->qlen, buf, k);
    p->qlen += k;
    p->query[p->qlen] = '\0';
}

static void
picker_step(struct picker *p, long delta)
{
    if (p->nmatch == 0)
        return;
    long s = (long)p->sel + delta;
    if (s < 0)
        s = 0;
    if (s >= (long)p->nmatch)
        s = (long)p->nmatch - 1;
    p->sel = (size_t)s;
}

enum picker_result
picker_key(struct picker *p, int key)
{
    switch (key) {
    case 27: return PICKER_CANCELLED;
    case '\r':
    case '\n':
    case KEYMAP_FKEY(KEY_ENTER):
        if (p->nmatch == 0)
            return PICKER_OPEN;
        p->choice = p->match[p->sel];
        return PICKER_CHOSEN;
    case KEYMAP_FKEY(KEY_UP):
    case KEYMAP_CTRL('p'): picker_step(p, -1); return PICKER_OPEN;
    case KEYMAP_FKEY(KEY_DOWN):
    case KEYMAP_CTRL('n'):
    case '\t': picker_step(p, 1); return PICKER_OPEN;
    case KEYMAP_FKEY(KEY_PPAGE): picker_step(p, -10); return PICKER_OPEN;
    case KEYMAP_FKEY(KEY_NPAGE): picker_step(p, 10); return PICKER_OPEN;
    case KEYMAP_FKEY(KEY_HOME): p->sel = 0; return PICKER_OPEN;
    case KEYMAP_FKEY(KEY_END):
        picker_step(p, (long)p->nmatch);
        return PICKER_OPEN;
    case KEYMAP_FKEY(KEY_BACKSPACE):
    case 127:
    case 8:
        picker_backspace(p);
        picker_refresh(p);
        return PICKER_OPEN;
    case KEYMAP_CTRL('u'):
        p->qlen = 0;
        p->query[0] = '\0';
        picker_refresh(p);
        return PICKER_OPEN;
    default: break;
    }
    if ((key & KEYMAP_FKEY_BIT) == 0 && key >= 32 && key != 127) {
        picker_type(p, key);
        picker_refresh(p);
    }
    return PICKER_OPEN;
}

int
picker_choice(const struct picker *p)
{
    return p->choice;
}

const char *
picker_query(const struct picker *p)
{
    return p->query;
}

size_t
picker_count(const struct picker *p)
{
    return p->nmatch;
}

int
picker_entry(const struct picker *p, size_t i)
{
    return i < p->nmatch ? p->match[i] : PICKER_ALL;
}

size_t
picker_selected(const struct picker *p)
{
    return p->sel;
}

void
picker_draw(struct picker *p, WINDOW *win, int lines, int cols)
{
    int w = cols - 8 < 56 ? cols - 8 : 56;
    int list = (int)p->nmatch < 3 ? 3 : (int)p->nmatch;
    if (list > lines - 10)
        list = lines - 10;
    if (list < 1)
        list = 1;
    int h = list + 6; /* border, title, query, list, footer, border */
    int y0 = (lines - h) / 2, x0 = (cols - w) / 2;
    if (w < 20 || y0 < 0)
        return;

    /* Keep the selection inside the visible part of the list. */
    if (p->sel < p->top)
        p->top = p->sel;
    if (p->sel >= p->top + (size_t)list)
        p->top = p->sel - (size_t)list + 1;

    for (int y = 0; y < h; y++)
        text_blank(win, y0 + y, x0, w);
    /* A frame from the line-drawing set (ncurses falls back to ASCII). */
    mvwhline(win, y0, x0 + 1, ACS_HLINE, w - 2);
    mvwhline(win, y0 + h - 1, x0 + 1, ACS_HLINE, w - 2);
    mvwvline(win, y0 + 1, x0, ACS_VLINE, h - 2);
    mvwvline(win, y0 + 1, x0 + w - 1, ACS_VLINE, h - 2);
    mvwaddch(win, y0, x0, ACS_ULCORNER);
    mvwaddch(win, y0, x0 + w - 1, ACS_URCORNER);
    mvwaddch(win, y0 + h - 1, x0, ACS_LLCORNER);
    mvwaddch(win, y0 + h - 1, x0 + w - 1, ACS_LRCORNER);

    wattron(win, A_BOLD);
    text_put(win, y0 + 1, x0 + 2, w - 4, p->title, 0);
    wattroff(win, A_BOLD);
    char line[PICKER_QUERY_MAX + 8];
    snprintf(line, sizeof line, "> %s", p->query);
    int qw = text_put(win, y0 + 2, x0 + 2, w - 5, line, 1);
    /* A visible caret, since the terminal cursor is hidden. */
    wattron(win, A_REVERSE);
    mvwaddch(win, y0 + 2, x0 + 2 + qw, ' ');
    wattroff(win, A_REVERSE);

    int numw = p->n >= 1000 ? 4 : p->n >= 100 ? 3 : 2;
    for (int r = 0; r < list; r++) {
        size_t i = p->top + (size_t)r;
        if (i >= p->nmatch)
            break;
        int id = p->match[i];
        int y = y0 + 3 + r;
        if (i == p->sel)
            wattron(win, A_REVERSE);
        text_blank(win, y, x0 + 1, w - 2);
        if (id == PICKER_ALL)
            snprintf(line, sizeof line, "%*s  (all classes)", numw, "");
        else
            snprintf(line, sizeof line, "%*d  ", numw, id + 1);
        int used = text_put(win, y, x0 + 2, w - 4, line, 0);
        if (id != PICKER_ALL)
            text_put(win, y, x0 + 2 + used, w - 4 - used, p->names[id], 0);
        if (i == p->sel)
            wattroff(win, A_REVERSE);
    }
    if (p->nmatch == 0)
        text_put(win, y0 + 3, x0 + 2, w - 4, "no class matches", 0);
    size_t shown = p->nmatch;
    if (shown > 0 && p->with_all && p->qlen == 0)
        shown--; /* "all classes" is not a class */
    snprintf(line, sizeof line, "%zu of %d   Enter choose   Esc cancel", shown,
             p->n);
    wattron(win, A_DIM);
    text_put(win, y0 + h - 2, x0 + 2, w - 4, line, 0);
    wattroff(win, A_DIM);
}
