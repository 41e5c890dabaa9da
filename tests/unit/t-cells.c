/* tests/unit/t-cells.c: images as terminal cells, without a terminal.
 *
 * ncurses' newterm() writes to /dev/null, so every screen is real to
 * ncurses but needs no tty. The terminal types are xterm-256color, xterm
 * (8 colours) and xterm-mono from Debian's ncurses-base, plus a direct
 * colour and a 16-colour entry that the test compiles itself with tic
 * into its temp dir (ncurses-term, which has xterm-direct, may be
 * missing). What was drawn is read back from the window (mvwin_wch,
 * getcchar with the extended pair, extended_pair_content) and turned into
 * RGB independently of ui/cells.c: extended_color_content on the direct
 * terminal (ncurses decodes the RGB), the standard xterm palette for
 * indices (ncurses only knows the first 16).
 *
 * Checked: the mode chosen for each terminal and for NO_COLOR; a 32x32
 * image, left half red and right half blue, drawn into 40x20 cells in
 * every mode and path comes out 40x20 with red cells on the left and blue
 * on the right; exact pixels and nearest-neighbour scaling of the
 * half-block path; aspect ratios; gray input; ASCII in a non-UTF-8
 * locale; clipping; the cache (find, put, replace, LRU, clear, mode
 * change); pair recycling over many frames on the direct terminal, with
 * every cell read back exact after every frame (a persistent image redrawn
 * only when cells_frame_begin says so must stay right); a pair table
 * too small for one frame (degraded, never touching the UI's pairs).
 * Timings are printed as diagnostics, not asserted. */
#include "config.h"

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curses.h>

#include "data/base.h"
#include "tests/fixtures.h"
#include "tests/tap.h"
#include "ui/cells.h"

/* libchafa's: app/ calls it at start-up (chafa.h stays in ui/cells.c). */
void chafa_set_n_threads(int n);

#define T_FIRST_PAIR 16

/* Direct colour as in ncurses' xterm+direct, and xterm's 16 colours. */
static const char t_terminfo[] =
    "wn-direct|direct-colour xterm for the tests,\n"
    "\tRGB, colors#0x1000000, pairs#0x10000,\n"
    "\tsetab=\\E[%?%p1%{8}%<%t4%p1%d%e48\\:2\\:\\:%p1%{65536}%/%d\\:"
    "%p1%{256}%/%{255}%&%d\\:%p1%{255}%&%d%;m,\n"
    "\tsetaf=\\E[%?%p1%{8}%<%t3%p1%d%e38\\:2\\:\\:%p1%{65536}%/%d\\:"
    "%p1%{256}%/%{255}%&%d\\:%p1%{255}%&%d%;m,\n"
    "\tuse=xterm-256color,\n"
    "wn-16color|16-colour xterm for the tests,\n"
    "\tcolors#16, pairs#256,\n"
    "\tsetab=\\E[%?%p1%{8}%<%t%p1%{40}%+%e%p1%{92}%+%;%dm,\n"
    "\tsetaf=\\E[%?%p1%{8}%<%t%p1%{30}%+%e%p1%{82}%+%;%dm,\n"
    "\tuse=xterm-256color,\n";

static int t_have_tic;

struct t_screen {
    SCREEN *sp;
    FILE *out, *in;
};

static int
t_open(struct t_screen *s, const char *term)
{
    s->out = fopen("/dev/null", "w");
    s->in = fopen("/dev/null", "r");
    if (s->out == NULL || s->in == NULL)
        bail("cannot open /dev/null");
    s->sp = newterm(term, s->out, s->in);
    if (s->sp == NULL) {
        fclose(s->out);
        fclose(s->in);
        return -1;
    }
    set_term(s->sp);
    start_color();
    use_default_colors();
    return 0;
}

static void
t_close(struct t_screen *s)
{
    endwin();
    delscreen(s->sp);
    fclose(s->out);
    fclose(s->in);
}

static double
t_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int
t_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double
t_median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, t_cmp_double);
    return v[n / 2];
}

/* ------------------------------------------------------------------ */
/* Reading cells back */

static const uint32_t t_base16[16] = {
    0x000000, 0xcd0000, 0x00cd00, 0xcdcd00, 0x0000ee, 0xcd00cd,
    0x00cdcd, 0xe5e5e5, 0x7f7f7f, 0xff0000, 0x00ff00, 0xffff00,
    0x5c5cff, 0xff00ff, 0x00ffff, 0xffffff,
};

static uint32_t
t_xterm_rgb(int c)
{
    static const int level[6] = {0, 95, 135, 175, 215, 255};
    if (c < 16)
        return t_base16[c];
    if (c < 232) {
        c -= 16;
        return (uint32_t)level[c / 36] << 16 | (uint32_t)level[c / 6 % 6] << 8 |
               (uint32_t)level[c % 6];
    }
    uint32_t v = (uint32_t)(8 + 10 * (c - 232));
    return v << 16 | v << 8 | v;
}

/* The RGB a terminal shows for colour number c. */
static uint32_t
t_rgb(int c)
{
    if (c < 0)
        return 0;
    if (COLORS >= 1 << 24) {
        int r, g, b;
        if (extended_color_content(c, &r, &g, &b) != OK)
            return 0;
        return (uint32_t)((r * 255 + 500) / 1000) << 16 |
               (uint32_t)((g * 255 + 500) / 1000) << 8 |
               (uint32_t)((b * 255 + 500) / 1000);
    }
    return t_xterm_rgb(c);
}

struct t_cell {
    wchar_t ch;
    int pair;
    int fg, bg; /* after A_REVERSE */
};

static void
t_read(WINDOW *w, int y, int x, struct t_cell *c)
{
    cchar_t cc;
    wchar_t wc[CCHARW_MAX + 1];
    attr_t attr = 0;
    short spair = 0;
    int pair = 0;

    memset(c, 0, sizeof *c);
    if (mvwin_wch(w, y, x, &cc) == ERR)
        return;
    getcchar(&cc, wc, &attr, &spair, &pair);
    c->ch = wc[0];
    c->pair = pair;
    extended_pair_content(pair, &c->fg, &c->bg);
    if (attr & A_REVERSE) {
        int t = c->fg;
        c->fg = c->bg;
        c->bg = t;
    }
}

static int
t_reddish(uint32_t rgb)
{
    return (rgb >> 16 & 0xff) >= 128 && (rgb >> 8 & 0xff) < 100 &&
           (rgb & 0xff) < 100;
}

static int
t_blueish(uint32_t rgb)
{
    return (rgb & 0xff) >= 128 && (rgb >> 16 & 0xff) < 100 &&
           (rgb >> 8 & 0xff) < 100;
}

/* Every cell of the region whose visible colours (the background of a
 * space, both colours otherwise) all pass want. */
static int
t_region(WINDOW *w, int y0, int x0, int y1, int x1, int (*want)(uint32_t rgb))
{
    int bad = 0;
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++) {
            struct t_cell c;
            t_read(w, y, x, &c);
            if (!want(t_rgb(c.bg)) || (c.ch != L' ' && !want(t_rgb(c.fg)))) {
                if (bad++ == 0)
                    diag("cell (%d,%d) U+%04x fg %06x bg %06x", y, x,
                         (unsigned)c.ch, t_rgb(c.fg), t_rgb(c.bg));
            }
        }
    return bad == 0;
}

/* ------------------------------------------------------------------ */
/* Images */

static uint8_t t_redblue[32 * 32 * 3];

static void
t_make_redblue(void)
{
    for (int y = 0; y < 32; y++)
        for (int x = 0; x < 32; x++) {
            uint8_t *p = t_redblue + (y * 32 + x) * 3;
            p[0] = x < 16 ? 255 : 0;
            p[1] = 0;
            p[2] = x < 16 ? 0 : 255;
        }
}

static uint32_t t_rng = 12345u;

static uint32_t
t_rand(void)
{
    t_rng ^= t_rng << 13;
    t_rng ^= t_rng >> 17;
    t_rng ^= t_rng << 5;
    return t_rng;
}

/* Render the red/blue image into 40x20 cells, draw it at (1, 1) and check
 * its size and colours (the middle 4 columns are the edge). */
static void
t_redblue_check(struct cells_renderer *r, const char *what)
{
    struct cells_image *im = cells_render(r, t_redblue, 32, 32, 3, 40, 20);
    ok(im != NULL, "%s: rendered", what);
    if (im == NULL)
        return;
    is_int(cells_image_cols(im), ==, 40);
    is_int(cells_image_rows(im), ==, 20);
    werase(stdscr);
    cells_frame_begin(r);
    cells_draw(r, stdscr, 1, 1, im);
    if (cells_renderer_mode(r) == CELLS_MONO) {
        int colored = 0, drawn = 0;
        for (int y = 1; y < 21; y++)
            for (int x = 1; x < 41; x++) {
                struct t_cell c;
                t_read(stdscr, y, x, &c);
                colored += c.pair != 0;
                drawn += c.ch != 0;
            }
        is_int(colored, ==, 0);
        is_int(drawn, ==, 800);
    } else {
        ok(t_region(stdscr, 1, 1, 21, 19, t_reddish), "%s: left is red", what);
        ok(t_region(stdscr, 1, 23, 21, 41, t_blueish), "%s: right is blue",
           what);
    }
    cells_image_free(im);
}

/* ------------------------------------------------------------------ */

static void
t_modes(void)
{
    static const struct {
        const char *term;
        int needs_tic;
        enum cells_mode mode;
    } cases[] = {
        {"wn-direct", 1, CELLS_TRUECOLOR}, {"xterm-256color", 0, CELLS_256},
        {"wn-16color", 1, CELLS_16},       {"xterm", 0, CELLS_8},
        {"xterm-mono", 0, CELLS_MONO},
    };
    for (size_t i = 0; i < WN_ARRAY_LEN(cases); i++) {
        struct t_screen s;
        if (cases[i].needs_tic && !t_have_tic) {
            tap_skip("tic failed: no test terminfo");
            continue;
        }
        if (t_open(&s, cases[i].term) < 0) {
            ok(0, "newterm %s", cases[i].term);
            continue;
        }
        struct cells_renderer *r = cells_renderer_new(T_FIRST_PAIR);
        is_str(cells_mode_name(cells_renderer_mode(r)),
               cells_mode_name(cases[i].mode));
        cells_renderer_free(r);

        setenv("NO_COLOR", "1", 1);
        r = cells_renderer_new(T_FIRST_PAIR);
        is_str(cells_mode_name(cells_renderer_mode(r)), "mono");
        cells_renderer_free(r);
        setenv("NO_COLOR", "", 1); /* empty: not set, says no-color.org */
        r = cells_renderer_new(T_FIRST_PAIR);
        is_int(cells_renderer_mode(r), ==, cases[i].mode);
        cells_renderer_free(r);
        unsetenv("NO_COLOR");
        t_close(&s);
    }
}

/* Every mode and path on one direct-colour screen, then each indexed
 * terminal natively (there the numbers are palette indices). */
static void
t_redblue_all(void)
{
    struct t_screen s;
    static const enum cells_mode modes[] = {CELLS_TRUECOLOR, CELLS_256,
                                            CELLS_16, CELLS_8, CELLS_MONO};
    if (t_have_tic && t_open(&s, "wn-direct") == 0) {
        struct cells_renderer *r = cells_renderer_new(T_FIRST_PAIR);
        for (size_t i = 0; i < WN_ARRAY_LEN(modes); i++)
            for (int exact = 1; exact >= 0; exact--) {
                char what[64];
                is_int(cells_renderer_set_mode(r, modes[i]), ==, modes[i]);
                cells_renderer_set_exact(r, exact);
                snprintf(what, sizeof what, "direct, %s, %s",
                         cells_mode_name(modes[i]), exact ? "exact" : "chafa");
                t_redblue_check(r, what);
            }
        cells_renderer_free(r);
        t_close(&s);
    }
    static const char *const terms[] = {"xterm-256color", "wn-16color", "xterm",
                                        "xterm-mono"};
    for (size_t i = 0; i < WN_ARRAY_LEN(terms); i++) {
        if (strncmp(terms[i], "wn-", 3) == 0 && !t_have_tic)
            continue;
        if (t_open(&s, terms[i]) < 0) {
            ok(0, "newterm %s", terms[i]);
            continue;
        }
        struct cells_renderer *r = cells_renderer_new(T_FIRST_PAIR);
        for (int exact = 1; exact >= 0; exact--) {
            char what[64];
            snprintf(what, sizeof what, "%s, %s", terms[i],
                     exact ? "exact" : "chafa");
            cells_renderer_set_exact(r, exact);
            t_redblue_check(r, what);
        }
        if (strcmp(terms[i], "xterm-256color") == 0) {
            /* The terminal caps a forced mode. */
            is_int(cells_renderer_set_mode(r, CELLS_TRUECOLOR), ==, CELLS_256);
            is_int(cells_renderer_set_mode(r, CELLS_8), ==, CELLS_8);
        }
        cells_renderer_free(r);
        t_close(&s);
    }
}

/* The half-block path keeps exact pixels and scales nearest-neighbour. */
static void
t_exact(void)
{
    struct t_screen s;
    /* 4x4 distinct colours; none is below 8, so no nudging. */
    uint8_t px[4 * 4 * 3];
    for (int i = 0; i < 16; i++) {
        px[i * 3] = (uint8_t)(16 * i + 8);
        px[i * 3 + 1] = (uint8_t)(255 - 16 * i);
        px[i * 3 + 2] = (uint8_t)(i * 37 % 256);
    }
    if (!t_have_tic || t_open(&s, "wn-direct") < 0) {
        tap_skip("no direct-colour terminfo");
        return;
    }
    struct cells_renderer *r = cells_renderer_new(T_FIRST_PAIR);
    cells_frame_begin(r);

    /* One pixel per half cell: cell (x, y) is pixel (x, 2y) over (x, 2y+1). */
    struct cells_image *im = cells_render(r, px, 4, 4, 3, 4, 2);
    is_int(cells_image_cols(im), ==, 4);
    is_int(cells_image_rows(im), ==, 2);
    cells_draw(r, stdscr, 0, 0, im);
    int bad = 0;
    for (int y = 0; y < 2; y++)
        for (int x = 0; x < 4; x++) {
            struct t_cell c;
            const uint8_t *t = px + ((2 * y) * 4 + x) * 3;
            const uint8_t *b = px + ((2 * y + 1) * 4 + x) * 3;
            uint32_t top = (uint32_t)t[0] << 16 | (uint32_t)t[1] << 8 | t[2];
            uint32_t bot = (uint32_t)b[0] << 16 | (uint32_t)b[1] << 8 | b[2];
            t_read(stdscr, y, x, &c);
            bad += c.ch != 0x2580 || (uint32_t)c.fg != top ||
                   (uint32_t)c.bg != bot;
        }
    is_int(bad, ==, 0);
    cells_image_free(im);

    /* Twice as large: each pixel is 2 columns by one cell (two halves of
     * one colour, so a space on that background). */
    im = cells_render(r, px, 4, 4, 3, 8, 4);
    is_int(cells_image_cols(im), ==, 8);
    is_int(cells_image_rows(im), ==, 4);
    cells_draw(r, stdscr, 0, 0, im);
    bad = 0;
    for (int y = 0; y < 4; y++)
        for (int x = 0; x < 8; x++) {
            struct t_cell c;
            const uint8_t *p = px + (y * 4 + x / 2) * 3;
            uint32_t rgb = (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
            t_read(stdscr, y, x, &c);
            bad += c.ch != L' ' || (uint32_t)c.bg != rgb;
        }
    is_int(bad, ==, 0);
    cells_image_free(im);

    /* An odd height: the last row's lower half is the default colour. */
    im = cells_render(r, px, 4, 3, 3, 4, 2);
    is_int(cells_image_rows(im), ==, 2);
    cells_draw(r, stdscr, 0, 0, im);
    struct t_cell c;
    t_read(stdscr, 1, 0, &c);
    is_int(c.ch, ==, 0x2580);
    is_int(c.bg, ==, -1);
    is_int(c.fg, ==,
           (int)((uint32_t)px[24] << 16 | (uint32_t)px[25] << 8 | px[26]));
    cells_image_free(im);

    /* Pure black is a palette colour on a direct terminal: nudged. */
    uint8_t black[2 * 2 * 3] = {0};
    im = cells_render(r, black, 2, 2, 3, 2, 1);
    cells_draw(r, stdscr, 0, 0, im);
    t_read(stdscr, 0, 0, &c);
    is_int(c.bg, ==, 8);
    cells_image_free(im);

    /* Gray input, both paths: dark left, light right. */
    uint8_t gray[32 * 32];
    for (int i = 0; i < 32 * 32; i++)
        gray[i] = i % 32 < 16 ? 0 : 255;
    for (int exact = 1; exact >= 0; exact--) {
        cells_renderer_set_exact(r, exact);
        im = cells_render(r, gray, 32, 32, 1, 40, 20);
        werase(stdscr);
        cells_draw(r, stdscr, 0, 0, im);
        int dark = 0, light = 0;
        for (int y = 0; y < 20; y++) {
            struct t_cell l, rt;
            t_read(stdscr, y, 3, &l);
            t_read(stdscr, y, 36, &rt);
            dark += t_rgb(l.bg) < 0x202020;
            light +=
                (t_rgb(rt.bg) & 0xff) > 0xe0 && (t_rgb(rt.bg) >> 16) > 0xe0;
        }
        ok(dark == 20 && light == 20, "gray, %s: dark %d, light %d of 20",
           exact ? "exact" : "chafa", dark, light);
        cells_image_free(im);
    }
    cells_renderer_free(r);
    t_close(&s);

    /* In 256 colours the exact path picks xterm's cube (16-255). */
    if (t_open(&s, "xterm-256color") < 0) {
        ok(0, "newterm xterm-256color");
        return;
    }
    r = cells_renderer_new(T_FIRST_PAIR);
    cells_frame_begin(r);
    uint8_t cube[2 * 2 * 3] = {255, 0, 0,   0,    255,  0,
                               0,   0, 255, 0x5f, 0x87, 0xaf};
    im = cells_render(r, cube, 2, 2, 3, 2, 1);
    cells_draw(r, stdscr, 0, 0, im);
    struct t_cell c0, c1;
    t_read(stdscr, 0, 0, &c0);
    t_read(stdscr, 0, 1, &c1);
    ok(c0.fg == 196 && c0.bg == 21 && c1.fg == 46 && c1.bg == 67,
       "256 exact: %d/%d %d/%d", c0.fg, c0.bg, c1.fg, c1.bg);
    cells_image_free(im);
    cells_renderer_free(r);
    t_close(&s);
}

/* chafa's geometry keeps the aspect ratio with cells twice as tall. */
static void
t_aspect(void)
{
    struct t_screen s;
    if (t_open(&s, "xterm-256color") < 0) {
        ok(0, "newterm");
        return;
    }
    struct cells_renderer *r = cells_renderer_new(T_FIRST_PAIR);
    uint8_t *px = xcalloc(64 * 64 * 3, 1);
    fx_pixels(px, 64, 32, 3, 1);
    struct cells_image *im = cells_render(r, px, 64, 32, 3, 40, 20);
    is_int(cells_image_cols(im), ==, 40);
    is_int(cells_image_rows(im), ==, 10);
    cells_image_free(im);
    fx_pixels(px, 16, 64, 3, 2);
    im = cells_render(r, px, 16, 64, 3, 40, 20);
    is_int(cells_image_rows(im), ==, 20);
    is_int(cells_image_cols(im), ==, 10);
    cells_image_free(im);
    /* Exact path: 20x10 pixels fit 40x20 cells as 40 columns by 20 half
     * rows (10 rows). */
    fx_pixels(px, 20, 10, 3, 3);
    im = cells_render(r, px, 20, 10, 3, 40, 20);
    is_int(cells_image_cols(im), ==, 40);
    is_int(cells_image_rows(im), ==, 10);
    cells_image_free(im);
    /* Nothing to show. */
    im = cells_render(r, px, 20, 10, 3, 0, 20);
    ok(im != NULL && cells_image_cols(im) == 0 && cells_image_rows(im) == 0,
       "no room: an empty image");
    cells_draw(r, stdscr, 0, 0, im);
    cells_image_free(im);
    im = cells_render(r, px, 0, 10, 3, 40, 20);
    ok(im != NULL && cells_image_cols(im) == 0, "no pixels: an empty image");
    cells_image_free(im);
    free(px);
    cells_renderer_free(r);
    t_close(&s);
}

/* Not UTF-8: ASCII symbols only, colours still. */
static void
t_ascii(void)
{
    struct t_screen s;
    if (setlocale(LC_ALL, "C") == NULL || t_open(&s, "xterm-256color") < 0) {
        ok(0, "C locale screen");
        setlocale(LC_ALL, "C.UTF-8");
        return;
    }
    struct cells_renderer *r = cells_renderer_new(T_FIRST_PAIR);
    uint8_t *px = xmalloc(32 * 32 * 3);
    fx_pixels(px, 32, 32, 3, 7);
    struct cells_image *im = cells_render(r, px, 32, 32, 3, 40, 20);
    cells_draw(r, stdscr, 0, 0, im);
    int non_ascii = 0;
    for (int y = 0; y < cells_image_rows(im); y++)
        for (int x = 0; x < cells_image_cols(im); x++) {
            struct t_cell c;
            t_read(stdscr, y, x, &c);
            non_ascii += c.ch < 0x20 || c.ch > 0x7e;
        }
    is_int(non_ascii, ==, 0);
    cells_image_free(im);
    t_redblue_check(r, "C locale");
    free(px);
    cells_renderer_free(r);
    t_close(&s);
    setlocale(LC_ALL, "C.UTF-8");
}

static void
t_clip(void)
{
    struct t_screen s;
    if (t_open(&s, "xterm-256color") < 0) {
        ok(0, "newterm");
        return;
    }
    struct cells_renderer *r = cells_renderer_new(T_FIRST_PAIR);
    struct cells_image *im = cells_render(r, t_redblue, 32, 32, 3, 40, 20);
    WINDOW *w = newwin(5, 10, 2, 3);
    cells_frame_begin(r);
    /* Hanging off the top left: window cell (0, 0) is image cell (2, 3). */
    cells_draw(r, w, -2, -3, im);
    ok(t_region(w, 0, 0, 5, 10, t_reddish), "clipped top left is red");
    /* Hanging off the bottom right: only 2x3 cells land. */
    werase(w);
    cells_draw(r, w, 3, 7, im);
    struct t_cell c;
    t_read(w, 4, 9, &c);
    ok(t_reddish(t_rgb(c.bg)), "bottom-right cell drawn");
    t_read(w, 2, 6, &c);
    is_int(c.pair, ==, 0);
    /* Wholly outside. */
    werase(w);
    cells_draw(r, w, 10, 20, im);
    cells_draw(r, w, -30, -50, im);
    int drawn = 0;
    for (int y = 0; y < 5; y++)
        for (int x = 0; x < 10; x++) {
            t_read(w, y, x, &c);
            drawn += c.pair != 0;
        }
    is_int(drawn, ==, 0);
    delwin(w);
    cells_image_free(im);
    cells_renderer_free(r);
    t_close(&s);
}

static void
t_cache(void)
{
    struct t_screen s;
    if (t_open(&s, "xterm-256color") < 0) {
        ok(0, "newterm");
        return;
    }
    struct cells_renderer *r = cells_renderer_new(T_FIRST_PAIR);
    struct cells_cache *c = cells_cache_new(r, 3);
    uint8_t px[8 * 8 * 3];
    fx_pixels(px, 8, 8, 3, 5);

    ok(cells_cache_find(c, 1, 16, 8) == NULL, "empty cache misses");
    const struct cells_image *a = cells_cache_put(c, 1, px, 8, 8, 3, 16, 8);
    ok(a != NULL && cells_image_cols(a) == 16 && cells_image_rows(a) == 8,
       "put renders");
    ok(cells_cache_find(c, 1, 16, 8) == a, "find returns the put image");
    ok(cells_cache_find(c, 1, 10, 8) == NULL, "other size misses");
    ok(cells_cache_find(c, 2, 16, 8) == NULL, "other key misses");
    cells_cache_put(c, 2, px, 8, 8, 3, 16, 8);
    cells_cache_put(c, 3, px, 8, 8, 3, 16, 8);
    ok(cells_cache_find(c, 1, 16, 8) != NULL, "touch 1");
    cells_cache_put(c, 4, px, 8, 8, 3, 16, 8); /* drops 2, the oldest */
    ok(cells_cache_find(c, 2, 16, 8) == NULL, "LRU entry dropped");
    ok(cells_cache_find(c, 1, 16, 8) != NULL &&
           cells_cache_find(c, 3, 16, 8) != NULL &&
           cells_cache_find(c, 4, 16, 8) != NULL,
       "others kept");
    /* Same key, other size: a separate entry (drops 1, now the oldest). */
    cells_cache_find(c, 3, 16, 8);
    cells_cache_find(c, 4, 16, 8);
    const struct cells_image *b = cells_cache_put(c, 3, px, 8, 8, 3, 8, 4);
    ok(b != NULL && cells_image_cols(b) == 8, "second size of a key");
    ok(cells_cache_find(c, 3, 16, 8) != NULL, "first size kept");
    ok(cells_cache_find(c, 1, 16, 8) == NULL, "oldest dropped");
    /* Replacing: same key and size. */
    uint8_t px2[4 * 4 * 3];
    fx_pixels(px2, 4, 4, 3, 6);
    const struct cells_image *d = cells_cache_put(c, 4, px2, 4, 4, 3, 16, 8);
    ok(cells_cache_find(c, 4, 16, 8) == d, "put replaces");
    ok(cells_cache_find(c, 3, 16, 8) != NULL && cells_cache_find(c, 3, 8, 4),
       "replacing dropped nothing else");
    /* A mode change hides entries of the old mode. */
    cells_renderer_set_mode(r, CELLS_16);
    ok(cells_cache_find(c, 4, 16, 8) == NULL, "old mode misses");
    cells_renderer_set_mode(r, CELLS_256);
    ok(cells_cache_find(c, 4, 16, 8) == d, "back to the mode: found");
    cells_cache_clear(c);
    ok(cells_cache_find(c, 3, 16, 8) == NULL &&
           cells_cache_find(c, 4, 16, 8) == NULL,
       "clear drops all");
    ok(cells_cache_put(c, 5, px, 8, 8, 3, 16, 8) != NULL, "usable after clear");
    cells_cache_free(c);
    cells_cache_free(NULL);
    cells_renderer_free(r);
    cells_renderer_free(NULL);
    cells_image_free(NULL);
    t_close(&s);
}

/* Check that every cell of a drawn exact-path image shows its pixels. */
static int
t_exact_ok(WINDOW *w, int y0, int x0, const uint8_t *px, int side)
{
    int bad = 0;
    for (int y = 0; y < side / 2; y++)
        for (int x = 0; x < side; x++) {
            const uint8_t *t = px + ((2 * y) * side + x) * 3;
            const uint8_t *b = px + ((2 * y + 1) * side + x) * 3;
            uint32_t top = (uint32_t)t[0] << 16 | (uint32_t)t[1] << 8 | t[2];
            uint32_t bot = (uint32_t)b[0] << 16 | (uint32_t)b[1] << 8 | b[2];
            struct t_cell c;
            top = top < 8 ? 8 : top;
            bot = bot < 8 ? 8 : bot;
            t_read(w, y0 + y, x0 + x, &c);
            if (c.ch == L' ')
                bad += top != bot || (uint32_t)c.bg != top;
            else
                bad += (uint32_t)c.fg != top || (uint32_t)c.bg != bot;
        }
    return bad;
}

/* Random 40x40 images (800 new pairs each) until the 65536-pair table has
 * recycled a few times; a persistent image is redrawn only on the frames
 * where cells_frame_begin asks. Both must read back exact every frame. */
static void
t_recycle(void)
{
    struct t_screen s;
    enum { SIDE = 40, FRAMES = 150 };
    if (!t_have_tic || t_open(&s, "wn-direct") < 0) {
        tap_skip("no direct-colour terminfo");
        return;
    }
    for (int p = 1; p < T_FIRST_PAIR; p++)
        init_extended_pair(p, p % 8, 7 - p % 8);
    struct cells_renderer *r = cells_renderer_new(T_FIRST_PAIR);
    uint8_t *keep = xmalloc(SIDE * SIDE * 3), *px = xmalloc(SIDE * SIDE * 3);
    for (int i = 0; i < SIDE * SIDE * 3; i++)
        keep[i] = (uint8_t)t_rand();
    struct cells_image *kim = cells_render(r, keep, SIDE, SIDE, 3, SIDE, 20);
    is_int(cells_image_rows(kim), ==, SIDE / 2);
    int recycles = 0, bad_new = 0, bad_keep = 0, degraded = 0;
    for (int f = 0; f < FRAMES; f++) {
        int all = cells_frame_begin(r);
        recycles += all;
        if (f == 0 || all)
            cells_draw(r, stdscr, 0, SIDE, kim);
        for (int i = 0; i < SIDE * SIDE * 3; i++)
            px[i] = (uint8_t)t_rand();
        struct cells_image *im = cells_render(r, px, SIDE, SIDE, 3, SIDE, 20);
        cells_draw(r, stdscr, 0, 0, im);
        cells_image_free(im);
        wnoutrefresh(stdscr);
        doupdate();
        bad_new += t_exact_ok(stdscr, 0, 0, px, SIDE);
        bad_keep += t_exact_ok(stdscr, 0, SIDE, keep, SIDE);
        degraded += cells_frame_degraded(r);
    }
    is_int(degraded, ==, 0);
    ok(recycles >= 2, "recycled %d times in %d frames", recycles, FRAMES);
    is_int(bad_new, ==, 0);
    is_int(bad_keep, ==, 0);
    int ui_ok = 1;
    for (int p = 1; p < T_FIRST_PAIR; p++) {
        int fg, bg;
        extended_pair_content(p, &fg, &bg);
        ui_ok &= fg == p % 8 && bg == 7 - p % 8;
    }
    ok(ui_ok, "the UI's pairs untouched");
    cells_image_free(kim);
    free(keep);
    free(px);
    cells_renderer_free(r);
    t_close(&s);
}

/* 8 colours, 64 pairs, the renderer gets 4: frames run out of pairs. */
static void
t_small_table(void)
{
    struct t_screen s;
    enum { FIRST = 60 };
    if (t_open(&s, "xterm") < 0) {
        ok(0, "newterm xterm");
        return;
    }
    is_int(COLOR_PAIRS, ==, 64);
    for (int p = 1; p < FIRST; p++)
        init_extended_pair(p, p % 8, (p / 8) % 8);
    struct cells_renderer *r = cells_renderer_new(FIRST);
    is_int(cells_renderer_mode(r), ==, CELLS_8);
    uint8_t px[32 * 32 * 3];
    int degraded = 0, recycled_after = 0, out_of_range = 0;
    for (int f = 0; f < 10; f++) {
        int all = cells_frame_begin(r);
        if (f > 0 && degraded)
            recycled_after += all;
        for (size_t i = 0; i < sizeof px; i++)
            px[i] = (uint8_t)(t_rand() & 0x80 ? 255 : 0);
        struct cells_image *im = cells_render(r, px, 32, 32, 3, 20, 10);
        cells_draw(r, stdscr, 0, 0, im);
        degraded += cells_frame_degraded(r);
        for (int y = 0; y < cells_image_rows(im); y++)
            for (int x = 0; x < cells_image_cols(im); x++) {
                struct t_cell c;
                t_read(stdscr, y, x, &c);
                out_of_range += c.pair != 0 && (c.pair < FIRST || c.pair >= 64);
            }
        cells_image_free(im);
    }
    ok(degraded > 0, "frames degraded: %d of 10", degraded);
    ok(recycled_after > 0, "a degraded frame makes the next one recycle");
    is_int(out_of_range, ==, 0);
    int ui_ok = 1;
    for (int p = 1; p < FIRST; p++) {
        int fg, bg;
        extended_pair_content(p, &fg, &bg);
        ui_ok &= fg == p % 8 && bg == (p / 8) % 8;
    }
    ok(ui_ok, "the UI's pairs untouched");
    cells_renderer_free(r);
    t_close(&s);
}

/* Median render times per mode, as diagnostics. */
static void
t_timing(void)
{
    struct t_screen s;
    enum { N = 25 };
    double t[N];
    static const enum cells_mode modes[] = {CELLS_TRUECOLOR, CELLS_256,
                                            CELLS_16, CELLS_8, CELLS_MONO};
    const char *term = t_have_tic ? "wn-direct" : "xterm-256color";
    setenv("LINES", "60", 1);
    setenv("COLUMNS", "200", 1);
    if (t_open(&s, term) < 0) {
        ok(0, "newterm %s", term);
        return;
    }
    unsetenv("LINES");
    unsetenv("COLUMNS");
    struct cells_renderer *r = cells_renderer_new(T_FIRST_PAIR);
    uint8_t *px = xmalloc(256 * 256 * 3);
    fx_pixels(px, 32, 32, 3, 9);
    for (size_t m = 0; m < WN_ARRAY_LEN(modes); m++) {
        if (cells_renderer_set_mode(r, modes[m]) != modes[m])
            continue;
        for (int exact = 1; exact >= 0; exact--) {
            if (exact && modes[m] != CELLS_TRUECOLOR && modes[m] != CELLS_256)
                continue;
            cells_renderer_set_exact(r, exact);
            for (int i = 0; i < N; i++) {
                double t0 = t_now();
                struct cells_image *im = cells_render(r, px, 32, 32, 3, 40, 20);
                t[i] = t_now() - t0;
                cells_image_free(im);
            }
            diag("render 32x32 RGB -> 40x20, %s, %s: median %.3f ms",
                 cells_mode_name(modes[m]), exact ? "exact" : "chafa",
                 t_median(t, N) * 1e3);
        }
    }
    cells_renderer_set_exact(r, 1);
    cells_renderer_set_mode(r, CELLS_TRUECOLOR);
    fx_pixels(px, 256, 256, 3, 10);
    for (size_t m = 0; m < 2; m++) {
        if (cells_renderer_set_mode(r, modes[m]) != modes[m])
            continue;
        for (int i = 0; i < 5; i++) {
            double t0 = t_now();
            struct cells_image *im = cells_render(r, px, 256, 256, 3, 60, 30);
            t[i] = t_now() - t0;
            cells_image_free(im);
        }
        diag("render 256x256 RGB -> 60x30, %s: median %.3f ms",
             cells_mode_name(modes[m]), t_median(t, 5) * 1e3);
    }

    /* Drawing on a 200x60 screen: new pairs, then the same pairs again,
     * then new pairs that must redefine numbers (after a recycle). */
    cells_renderer_set_mode(r, CELLS_TRUECOLOR);
    fx_pixels(px, 32, 32, 3, 11);
    struct cells_image *im = cells_render(r, px, 32, 32, 3, 40, 20);
    double draw_new = 0, draw_again = 0, update = 0;
    for (int i = 0; i < 3; i++) {
        double t0 = t_now();
        cells_frame_begin(r);
        cells_draw(r, stdscr, 0, 40 * i, im);
        double t1 = t_now();
        wnoutrefresh(stdscr);
        doupdate();
        double t2 = t_now();
        if (i == 0) {
            draw_new = t1 - t0;
            update = t2 - t1;
        } else {
            draw_again = t1 - t0;
        }
    }
    diag("draw 40x20 cells, new pairs: %.3f ms; cached pairs: %.3f ms; "
         "first doupdate: %.3f ms",
         draw_new * 1e3, draw_again * 1e3, update * 1e3);
    cells_image_free(im);

    /* Once every number has been used, a new pair redefines one, and
     * ncurses then scans the whole screen for cells of that pair. Random
     * 40x40 images need about 800 new pairs each: fill past the table. */
    int frames = 0;
    double redefine = 0;
    while (frames * 800 < COLOR_PAIRS + 800) {
        cells_frame_begin(r);
        for (int i = 0; i < 40 * 40 * 3; i++)
            px[i] = (uint8_t)t_rand();
        im = cells_render(r, px, 40, 40, 3, 40, 20);
        double t0 = t_now();
        cells_draw(r, stdscr, 0, 0, im);
        redefine = t_now() - t0;
        cells_image_free(im);
        frames++;
    }
    wnoutrefresh(stdscr);
    doupdate();
    diag("draw 40x20 cells of new pairs that redefine used numbers, "
         "200x60 screen: %.3f ms (frame %d)",
         redefine * 1e3, frames);
    free(px);
    cells_renderer_free(r);
    t_close(&s);
    ok(1, "timings printed");
}

int
main(void)
{
    if (setlocale(LC_ALL, "C.UTF-8") == NULL)
        bail("no C.UTF-8 locale");
    /* What app/ does: chafa's thread pool per pass is slow for small
     * images. */
    chafa_set_n_threads(1);
    unsetenv("NO_COLOR");
    unsetenv("LINES");
    unsetenv("COLUMNS");

    char *dir = fx_tmpdir("cells");
    char *src = fx_path(dir, "terminfo.src");
    fx_write(src, t_terminfo, sizeof t_terminfo - 1);
    char *cmd = xasprintf("tic -x -o '%s' '%s' >/dev/null 2>&1", dir, src);
    t_have_tic = system(cmd) == 0;
    if (!t_have_tic)
        diag("tic failed: the direct and 16-colour cases are skipped");
    setenv("TERMINFO", dir, 1);
    t_make_redblue();

    t_modes();
    t_redblue_all();
    t_exact();
    t_aspect();
    t_ascii();
    t_clip();
    t_cache();
    t_recycle();
    t_small_table();
    t_timing();

    fx_rmtree(dir);
    free(cmd);
    free(src);
    free(dir);
    return done_testing();
}
