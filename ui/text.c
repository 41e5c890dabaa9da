/* ui/text.c: clipped text in display columns.
 *
 * Strings are decoded with mbrtowc into a bounded wide buffer; anything
 * that does not decode, or that wcwidth calls unprintable, is shown as '?'
 * so a stray byte in a file name can never move the cursor or emit a
 * control sequence. Text longer than the buffer is clipped first, which
 * no screen line can tell apart. */
#include "config.h"

#include "ui/text.h"

#include <langinfo.h>
#include <string.h>
#include <wchar.h>

#define TEXT_MAX 512

struct text_run {
    wchar_t wc[TEXT_MAX];
    int w[TEXT_MAX];
    int n, width;
};

static void
text_decode(const char *s, struct text_run *r)
{
    mbstate_t st;
    memset(&st, 0, sizeof st);
    size_t len = strlen(s);
    r->n = r->width = 0;
    while (len > 0 && r->n < TEXT_MAX) {
        wchar_t wc;
        size_t k = mbrtowc(&wc, s, len, &st);
        int w;
        if (k == (size_t)-1 || k == (size_t)-2 || k == 0) {
            memset(&st, 0, sizeof st);
            wc = L'?';
            k = 1;
        }
        w = wcwidth(wc);
        if (w < 0) {
            wc = L'?';
            w = 1;
        }
        r->wc[r->n] = wc;
        r->w[r->n] = w;
        r->n++;
        r->width += w;
        s += k;
        len -= k;
    }
}

int
text_width(const char *s)
{
    struct text_run r;
    text_decode(s, &r);
    return r.width;
}

int
text_utf8(void)
{
    const char *cs = nl_langinfo(CODESET);
    return cs != NULL && strcmp(cs, "UTF-8") == 0;
}

static void
text_add(WINDOW *win, const wchar_t *wc, int n)
{
    if (n > 0)
        waddnwstr(win, wc, n);
}

int
text_put(WINDOW *win, int y, int x, int width, const char *s, int from_left)
{
    struct text_run r;
    if (width <= 0)
        return 0;
    text_decode(s, &r);
    wmove(win, y, x);
    if (r.width <= width) {
        text_add(win, r.wc, r.n);
        return r.width;
    }
    const wchar_t *ell = text_utf8() ? L"\u2026" : L"~";
    int room = width - 1, used = 0, i;
    if (!from_left) {
        for (i = 0; i < r.n && used + r.w[i] <= room; i++)
            used += r.w[i];
        text_add(win, r.wc, i);
        waddnwstr(win, ell, 1);
        return used + 1;
    }
    for (i = r.n; i > 0 && used + r.w[i - 1] <= room; i--)
        used += r.w[i - 1];
    waddnwstr(win, ell, 1);
    text_add(win, r.wc + i, r.n - i);
    return used + 1;
}

void
text_blank(WINDOW *win, int y, int x, int width)
{
    if (width <= 0)
        return;
    wmove(win, y, x);
    for (int i = 0; i < width; i++)
        waddch(win, ' ');
}
