/* ui/cells.c: images as terminal cells, through libchafa and ncurses.
 *
 * Rendering makes a grid of cells, each a character and two colours given
 * as the terminal's colour numbers in the renderer's mode (0xRRGGBB in
 * truecolor, an xterm index in the others), so that drawing is a table
 * lookup per cell and nothing of chafa is kept. Two paths make the grid:
 *
 * - Pixel-exact half blocks: when an image is shown at one pixel per half
 *   cell or larger (the usual case for 28x28 and 32x32 datasets), in
 *   truecolor or 256 colours and a UTF-8 locale, each cell is an upper half
 *   block with the top pixel as foreground and the bottom pixel as
 *   background, sampled nearest-neighbour. chafa would only smooth the
 *   upscaled picture (a red/blue edge becomes purple cells) and takes
 *   4-6 ms for 40x20 cells on a 2-core machine where this takes 5-20 us;
 *   the person reviewing wants to see the pixels the network saw.
 * - chafa's symbol canvas for everything else (downscaling, 16 and 8
 *   colours where per-pixel quantization looks poor, monochrome, ASCII):
 *   block, border and space symbols, never wide ones. Pixels always go in
 *   as RGBA with rowstride width * 4, since 1.12.4 scales wrongly for
 *   other strides (chafa #141). A fresh canvas config is made per image
 *   from a symbol map that no canvas ever owns, since copying a symbol map
 *   a canvas has used crashes 1.12.4 (chafa #123). Colours are never
 *   queried in FGBG mode (an out-of-bounds read before 1.18). chafa's
 *   thread count is the caller's: app/ calls cells_set_threads(1), since
 *   1.12 builds a thread pool per pass and is ~10x slower on small images.
 *
 * Spaces, full blocks and cells whose two colours are equal become spaces
 * with only a background, so uniform areas share one pair. On a direct
 * colour terminal ncurses sends colour numbers 0-7 as palette colours,
 * which the theme may redefine, so those near-blacks are nudged to 8.
 *
 * Colour pairs: pair numbers from first_pair up are the renderer's, each
 * remembered with the (fg, bg) it was defined with and the generation that
 * last used it. A lookup finds (fg, bg), or (bg, fg) drawn with A_REVERSE,
 * in an open-addressing hash over those definitions; a miss takes the next
 * number that the current generation has not used (never-defined numbers
 * first, then the oldest) and defines it with init_extended_pair. Pairs are
 * passed through setcchar's opts pointer, so numbers past 32767 work and
 * COLOR_PAIR() is never used. cells_frame_begin starts a new generation
 * when more than 3/4 of the numbers are in use and asks for every image to
 * be drawn again; redrawn images find their pairs still defined (reuse
 * costs nothing), and only numbers no image on screen uses are ever
 * redefined, so nothing visible changes colour behind the UI's back (the
 * reason alloc_pair's eviction is not used). Redefining is also what
 * costs: ncurses scans the whole screen for cells of a redefined pair
 * (800 redefinitions take ~10 ms on a 200x60 screen, ~4 ms at 80x24,
 * against 0.4 ms for never-used numbers), so the table is used in full. If
 * a single frame needs more pairs than remain, cells get the nearest pair
 * already defined, and the next frame recycles. */
#include "config.h"

#include "ui/cells.h"

#include <assert.h>
#include <langinfo.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <wchar.h>

#include <chafa.h>

#include "data/base.h"

/* A terminal cell is about twice as tall as wide. */
#define CELLS_FONT_RATIO  0.5f
#define CELLS_WORK_FACTOR 0.5f
/* The most pairs the renderer manages (xterm-256color and xterm-direct
 * offer 0x10000); the bookkeeping is 12 bytes per pair. */
#define CELLS_MAX_PAIRS   65536
/* How many defined pairs a full table searches for the nearest colours. */
#define CELLS_APPROX_SCAN 512

#define CELLS_UPPER_HALF  0x2580u
#define CELLS_FULL_BLOCK  0x2588u

struct cells_cell {
    uint32_t ch;    /* 0: the right half of a wide glyph, not drawn */
    int32_t fg, bg; /* colour numbers in the image's mode, -1: default */
};

struct cells_image {
    int cols, rows;
    enum cells_mode mode;
    struct cells_cell *cells; /* rows * cols */
};

struct cells_renderer {
    enum cells_mode mode;
    enum cells_mode best; /* what the terminal can do */
    int utf8;
    int exact;               /* pixel-exact half blocks when upscaling */
    ChafaSymbolMap *symbols; /* never given to a canvas, only copied */

    /* Pairs first_pair .. first_pair + npairs - 1, index i for pair
     * first_pair + i. */
    int first_pair, npairs;
    uint64_t *pair_key; /* (fg, bg) defined for it; 0: never defined */
    uint32_t *pair_gen; /* generation that last used it */
    uint32_t gen;
    int gen_count; /* pairs used by the current generation */
    int sweep;     /* where to look for the next free number */
    int approx_at; /* where the nearest-pair search starts */
    /* Hash of key -> index + 1 (0: empty). Entries whose pair has since
     * been redefined are stale and skipped; the table is rebuilt from
     * pair_key when half full. */
    uint32_t *slots;
    size_t slot_mask, slot_used;
    int slot_shift;
    int recycle; /* recycle at the next frame */
    int degraded;
};

/* ------------------------------------------------------------------ */
/* Colours */

/* The xterm palette, for the 16 base colours (approximations: themes
 * differ) and the 6x6x6 cube and gray ramp above them. */
static const uint32_t cells_base16[16] = {
    0x000000, 0xcd0000, 0x00cd00, 0xcdcd00, 0x0000ee, 0xcd00cd,
    0x00cdcd, 0xe5e5e5, 0x7f7f7f, 0xff0000, 0x00ff00, 0xffff00,
    0x5c5cff, 0xff00ff, 0x00ffff, 0xffffff,
};
static const int cells_cube_level[6] = {0, 95, 135, 175, 215, 255};

static uint32_t
cells_index_rgb(int c)
{
    if (c < 0)
        return 0;
    if (c < 16)
        return cells_base16[c];
    if (c < 232) {
        c -= 16;
        return (uint32_t)cells_cube_level[c / 36] << 16 |
               (uint32_t)cells_cube_level[c / 6 % 6] << 8 |
               (uint32_t)cells_cube_level[c % 6];
    }
    if (c < 256) {
        uint32_t v = (uint32_t)(8 + 10 * (c - 232));
        return v << 16 | v << 8 | v;
    }
    return 0;
}

static int
cells_dist(uint32_t a, uint32_t b)
{
    int dr = (int)(a >> 16 & 0xff) - (int)(b >> 16 & 0xff);
    int dg = (int)(a >> 8 & 0xff) - (int)(b >> 8 & 0xff);
    int db = (int)(a & 0xff) - (int)(b & 0xff);
    return dr * dr + dg * dg + db * db;
}

static int
cells_cube_index(int v)
{
    if (v < 48)
        return 0;
    if (v < 115)
        return 1;
    return (v - 35) / 40;
}

/* The nearest of xterm's colours 16-255 (the ones themes leave alone). */
static int
cells_rgb_to_240(uint32_t rgb)
{
    int r = (int)(rgb >> 16 & 0xff), g = (int)(rgb >> 8 & 0xff);
    int b = (int)(rgb & 0xff);
    int ci = 16 + 36 * cells_cube_index(r) + 6 * cells_cube_index(g) +
             cells_cube_index(b);
    int avg = (r + g + b) / 3;
    int gi = avg > 238 ? 23 : (avg < 8 ? 0 : (avg - 3) / 10);
    if (gi > 23)
        gi = 23;
    gi += 232;
    return cells_dist(cells_index_rgb(gi), rgb) <
                   cells_dist(cells_index_rgb(ci), rgb)
               ? gi
               : ci;
}

static int
cells_rgb_to_base(uint32_t rgb, int n)
{
    int best = 0, bestd = -1;
    for (int i = 0; i < n; i++) {
        int d = cells_dist(cells_base16[i], rgb);
        if (bestd < 0 || d < bestd) {
            best = i;
            bestd = d;
        }
    }
    return best;
}

/* Direct-colour numbers 0-7 are sent as palette colours. */
static int32_t
cells_direct(uint32_t rgb)
{
    return rgb < 8 ? 8 : (int32_t)rgb;
}

static uint32_t
cells_color_rgb(enum cells_mode m, int32_t c)
{
    if (c < 0)
        return 0;
    return m == CELLS_TRUECOLOR ? (uint32_t)c : cells_index_rgb(c);
}

static int32_t
cells_rgb_color(enum cells_mode m, uint32_t rgb)
{
    switch (m) {
    case CELLS_TRUECOLOR: return cells_direct(rgb);
    case CELLS_256: return cells_rgb_to_240(rgb);
    case CELLS_16: return cells_rgb_to_base(rgb, 16);
    case CELLS_8: return cells_rgb_to_base(rgb, 8);
    case CELLS_MONO: break;
    }
    return -1;
}

/* ------------------------------------------------------------------ */
/* The renderer */

static int
cells_locale_utf8(void)
{
    const char *cs = nl_langinfo(CODESET);
    return cs != NULL &&
           (strcasecmp(cs, "UTF-8") == 0 || strcasecmp(cs, "utf8") == 0);
}

static enum cells_mode
cells_detect(int first_pair)
{
    const char *no_color = getenv("NO_COLOR");
    if (no_color != NULL && no_color[0] != '\0')
        return CELLS_MONO;
    if (stdscr == NULL || !has_colors() || COLORS < 8 ||
        COLOR_PAIRS - first_pair < 1)
        return CELLS_MONO;
    /* ncurses sends RGB only for a direct-colour terminfo entry; COLORTERM
     * cannot make it, so it is not consulted. */
    if (tigetflag("RGB") > 0 && COLORS >= 1 << 24)
        return CELLS_TRUECOLOR;
    if (COLORS >= 256)
        return CELLS_256;
    if (COLORS >= 16)
        return CELLS_16;
    return CELLS_8;
}

struct cells_renderer *
cells_renderer_new(int first_pair)
{
    struct cells_renderer *r = xcalloc(1, sizeof *r);
    if (first_pair < 1)
        first_pair = 1;
    r->best = r->mode = cells_detect(first_pair);
    r->utf8 = cells_locale_utf8();
    r->exact = 1;

    r->symbols = chafa_symbol_map_new();
    if (r->utf8)
        chafa_symbol_map_add_by_tags(r->symbols, CHAFA_SYMBOL_TAG_SPACE |
                                                     CHAFA_SYMBOL_TAG_BLOCK |
                                                     CHAFA_SYMBOL_TAG_BORDER);
    else
        chafa_symbol_map_add_by_tags(r->symbols, CHAFA_SYMBOL_TAG_SPACE |
                                                     CHAFA_SYMBOL_TAG_ASCII);
    /* Wide symbols would need two cells and the right half skipped. */
    chafa_symbol_map_remove_by_tags(r->symbols, CHAFA_SYMBOL_TAG_WIDE);

    r->first_pair = first_pair;
    if (r->best != CELLS_MONO) {
        int n = COLOR_PAIRS - first_pair;
        r->npairs = n < CELLS_MAX_PAIRS ? n : CELLS_MAX_PAIRS;
        r->pair_key = xcalloc((size_t)r->npairs, sizeof *r->pair_key);
        r->pair_gen = xcalloc((size_t)r->npairs, sizeof *r->pair_gen);
        size_t cap = 64;
        int bits = 6;
        while (cap < (size_t)r->npairs * 4) {
            cap *= 2;
            bits++;
        }
        r->slots = xcalloc(cap, sizeof *r->slots);
        r->slot_mask = cap - 1;
        r->slot_shift = 64 - bits;
        r->gen = 1;
    }
    return r;
}

void
cells_renderer_free(struct cells_renderer *r)
{
    if (r == NULL)
        return;
    chafa_symbol_map_unref(r->symbols);
    free(r->pair_key);
    free(r->pair_gen);
    free(r->slots);
    free(r);
}

enum cells_mode
cells_renderer_mode(const struct cells_renderer *r)
{
    return r->mode;
}

const char *
cells_mode_name(enum cells_mode m)
{
    switch (m) {
    case CELLS_TRUECOLOR: return "truecolor";
    case CELLS_256: return "256";
    case CELLS_16: return "16";
    case CELLS_8: return "8";
    case CELLS_MONO: return "mono";
    }
    return "?";
}

enum cells_mode
cells_renderer_set_mode(struct cells_renderer *r, enum cells_mode m)
{
    /* The enum runs from most to fewest colours; the terminal caps it.
     * Pairs stay valid: they hold terminal colour numbers, whatever mode
     * chose them. */
    r->mode = m < r->best ? r->best : m;
    return r->mode;
}

void
cells_renderer_set_exact(struct cells_renderer *r, int on)
{
    r->exact = on != 0;
}

/* ------------------------------------------------------------------ */
/* Rendering */

static struct cells_image *
cells_image_alloc(enum cells_mode mode, int cols, int rows)
{
    struct cells_image *im = calloc(1, sizeof *im);
    size_t n;
    if (im == NULL)
        return NULL;
    im->mode = mode;
    if (cols < 1 || rows < 1)
        return im;
    if (wn_mul_size((size_t)cols, (size_t)rows, &n) < 0 ||
        (im->cells = calloc(n, sizeof *im->cells)) == NULL) {
        free(im);
        return NULL;
    }
    im->cols = cols;
    im->rows = rows;
    return im;
}

static void
cells_normalize(struct cells_cell *c, int32_t pad)
{
    if (c->fg < 0)
        c->fg = pad;
    if (c->bg < 0)
        c->bg = pad;
    if (c->ch == CELLS_FULL_BLOCK)
        c->bg = c->fg;
    if (c->ch == ' ' || c->ch == CELLS_FULL_BLOCK || c->fg == c->bg) {
        c->ch = ' ';
        c->fg = c->bg;
    }
}

/* The colour for cells or halves with no pixels behind them: the
 * terminal's default when the UI enabled default colours, else black. */
static int32_t
cells_pad_color(enum cells_mode m)
{
    int fg, bg;
    if (extended_pair_content(0, &fg, &bg) == OK && bg < 0)
        return -1;
    return cells_rgb_color(m, 0);
}

static uint32_t
cells_pixel_rgb(const uint8_t *px, int w, int channels, int x, int y)
{
    const uint8_t *p = px + ((size_t)y * (size_t)w + (size_t)x) * channels;
    if (channels == 1)
        return (uint32_t)p[0] << 16 | (uint32_t)p[0] << 8 | p[0];
    return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

/* Fit w x h pixels into cols x rows cells of two pixels each: cw columns
 * and hh half rows. */
static void
cells_fit_halves(int w, int h, int cols, int rows, int *cw, int *hh)
{
    int64_t w64 = w, h64 = h, c64 = cols, r2 = 2 * (int64_t)rows;
    if (c64 * h64 <= r2 * w64) {
        *cw = cols;
        *hh = (int)((2 * h64 * c64 + w64) / (2 * w64));
    } else {
        *hh = (int)r2;
        *cw = (int)((2 * w64 * r2 + h64) / (2 * h64));
    }
    if (*cw > cols)
        *cw = cols;
    if (*hh > r2)
        *hh = (int)r2;
}

static struct cells_image *
cells_render_halves(struct cells_renderer *r, const uint8_t *px, int w, int h,
                    int channels, int cw, int hh)
{
    int rows = (hh + 1) / 2;
    struct cells_image *im = cells_image_alloc(r->mode, cw, rows);
    int32_t pad = cells_pad_color(r->mode);
    if (im == NULL)
        return NULL;
    int64_t w64 = w, h64 = h;
    for (int y = 0; y < rows; y++) {
        int t = 2 * y, b = 2 * y + 1;
        int ty = (int)(((2 * (int64_t)t + 1) * h64) / (2 * (int64_t)hh));
        int by = (int)(((2 * (int64_t)b + 1) * h64) / (2 * (int64_t)hh));
        for (int x = 0; x < cw; x++) {
            int sx = (int)(((2 * (int64_t)x + 1) * w64) / (2 * (int64_t)cw));
            struct cells_cell *c = &im->cells[(size_t)y * cw + x];
            c->ch = CELLS_UPPER_HALF;
            c->fg = cells_rgb_color(r->mode,
                                    cells_pixel_rgb(px, w, channels, sx, ty));
            c->bg = b < hh
                        ? cells_rgb_color(
                              r->mode, cells_pixel_rgb(px, w, channels, sx, by))
                        : pad;
            cells_normalize(c, pad);
        }
    }
    return im;
}

static ChafaCanvasMode
cells_chafa_mode(enum cells_mode m)
{
    switch (m) {
    case CELLS_TRUECOLOR: return CHAFA_CANVAS_MODE_TRUECOLOR;
    case CELLS_256:
        /* 16-255 only: themes redefine 0-15. */
        return CHAFA_CANVAS_MODE_INDEXED_240;
    case CELLS_16: return CHAFA_CANVAS_MODE_INDEXED_16;
    case CELLS_8: return CHAFA_CANVAS_MODE_INDEXED_8;
    case CELLS_MONO: break;
    }
    return CHAFA_CANVAS_MODE_FGBG;
}

static struct cells_image *
cells_render_chafa(struct cells_renderer *r, const uint8_t *px, int w, int h,
                   int channels, int cols, int rows)
{
    gint cw = cols, ch = rows;
    size_t npx, nbytes;
    uint8_t *rgba;

    if (wn_mul_size((size_t)w, (size_t)h, &npx) < 0 ||
        wn_mul_size(npx, 4, &nbytes) < 0 || (rgba = malloc(nbytes)) == NULL)
        return NULL;
    for (size_t i = 0; i < npx; i++) {
        const uint8_t *s = px + i * (size_t)channels;
        uint8_t *d = rgba + i * 4;
        d[0] = s[0];
        d[1] = channels == 1 ? s[0] : s[1];
        d[2] = channels == 1 ? s[0] : s[2];
        d[3] = 255;
    }

    chafa_calc_canvas_geometry(w, h, &cw, &ch, CELLS_FONT_RATIO, TRUE, FALSE);
    cw = cw < 1 ? 1 : (cw > cols ? cols : cw);
    ch = ch < 1 ? 1 : (ch > rows ? rows : ch);
    struct cells_image *im = cells_image_alloc(r->mode, cw, ch);
    if (im == NULL) {
        free(rgba);
        return NULL;
    }

    ChafaCanvasConfig *config = chafa_canvas_config_new();
    chafa_canvas_config_set_geometry(config, cw, ch);
    chafa_canvas_config_set_canvas_mode(config, cells_chafa_mode(r->mode));
    chafa_canvas_config_set_symbol_map(config, r->symbols);
    chafa_canvas_config_set_work_factor(config, CELLS_WORK_FACTOR);
    if (r->mode == CELLS_MONO)
        chafa_canvas_config_set_dither_mode(config, CHAFA_DITHER_MODE_ORDERED);
    ChafaCanvas *canvas = chafa_canvas_new(config);
    chafa_canvas_config_unref(config);
    chafa_canvas_draw_all_pixels(canvas, CHAFA_PIXEL_RGBA8_UNASSOCIATED, rgba,
                                 w, h, w * 4);
    free(rgba);

    int32_t pad = r->mode == CELLS_MONO ? -1 : cells_pad_color(r->mode);
    for (int y = 0; y < ch; y++) {
        for (int x = 0; x < cw; x++) {
            struct cells_cell *c = &im->cells[(size_t)y * cw + x];
            gint fg = -1, bg = -1;
            c->ch = chafa_canvas_get_char_at(canvas, x, y);
            if (r->mode == CELLS_MONO) {
                c->fg = c->bg = -1;
                continue;
            }
            if (r->mode == CELLS_TRUECOLOR) {
                chafa_canvas_get_colors_at(canvas, x, y, &fg, &bg);
                c->fg = fg < 0 ? -1 : cells_direct((uint32_t)fg & 0xffffff);
                c->bg = bg < 0 ? -1 : cells_direct((uint32_t)bg & 0xffffff);
            } else {
                /* Raw colours are the terminal's indices (16-255 for
                 * INDEXED_240); anything else is chafa's transparent or
                 * default marker. */
                chafa_canvas_get_raw_colors_at(canvas, x, y, &fg, &bg);
                c->fg = fg >= 0 && fg < 256 ? fg : -1;
                c->bg = bg >= 0 && bg < 256 ? bg : -1;
            }
            cells_normalize(c, pad);
        }
    }
    chafa_canvas_unref(canvas);
    return im;
}

struct cells_image *
cells_render(struct cells_renderer *r, const uint8_t *pixels, int width,
             int height, int channels, int cols, int rows)
{
    assert(channels == 1 || channels == 3);
    if (width < 1 || height < 1 || cols < 1 || rows < 1)
        return cells_image_alloc(r->mode, 0, 0);
    if (r->exact && r->utf8 &&
        (r->mode == CELLS_TRUECOLOR || r->mode == CELLS_256)) {
        int cw, hh;
        cells_fit_halves(width, height, cols, rows, &cw, &hh);
        if (cw >= width && hh >= height)
            return cells_render_halves(r, pixels, width, height, channels, cw,
                                       hh);
    }
    return cells_render_chafa(r, pixels, width, height, channels, cols, rows);
}

int
cells_image_cols(const struct cells_image *im)
{
    return im->cols;
}

int
cells_image_rows(const struct cells_image *im)
{
    return im->rows;
}

void
cells_image_free(struct cells_image *im)
{
    if (im == NULL)
        return;
    free(im->cells);
    free(im);
}

/* ------------------------------------------------------------------ */
/* Colour pairs */

static uint64_t
cells_key(int32_t fg, int32_t bg)
{
    return (uint64_t)(uint32_t)(fg + 1) << 32 | (uint32_t)(bg + 1);
}

static size_t
cells_slot(const struct cells_renderer *r, uint64_t key)
{
    return (size_t)((key * 0x9e3779b97f4a7c15u) >> r->slot_shift);
}

static int
cells_pair_find(const struct cells_renderer *r, uint64_t key)
{
    for (size_t s = cells_slot(r, key);; s = (s + 1) & r->slot_mask) {
        uint32_t v = r->slots[s];
        if (v == 0)
            return -1;
        if (r->pair_key[v - 1] == key)
            return (int)v - 1;
    }
}

static void
cells_slot_put(struct cells_renderer *r, uint64_t key, int i)
{
    size_t s = cells_slot(r, key);
    while (r->slots[s] != 0)
        s = (s + 1) & r->slot_mask;
    r->slots[s] = (uint32_t)i + 1;
    r->slot_used++;
}

static void
cells_pair_index(struct cells_renderer *r, uint64_t key, int i)
{
    if (r->slot_used + 1 > (r->slot_mask + 1) / 2) {
        /* Mostly stale entries: at most npairs (a quarter) are live. */
        memset(r->slots, 0, (r->slot_mask + 1) * sizeof *r->slots);
        r->slot_used = 0;
        for (int j = 0; j < r->npairs; j++)
            if (r->pair_key[j] != 0 && j != i)
                cells_slot_put(r, r->pair_key[j], j);
    }
    cells_slot_put(r, key, i);
}

static void
cells_pair_claim(struct cells_renderer *r, int i)
{
    if (r->pair_gen[i] != r->gen) {
        r->pair_gen[i] = r->gen;
        r->gen_count++;
    }
}

/* The defined pair nearest to (fg, bg), when none is free. */
static int
cells_pair_nearest(struct cells_renderer *r, int32_t fg, int32_t bg)
{
    /* Pairs hold the terminal's numbers: RGB or palette indices. */
    enum cells_mode m =
        r->best == CELLS_TRUECOLOR ? CELLS_TRUECOLOR : CELLS_256;
    uint32_t frgb = cells_color_rgb(m, fg), brgb = cells_color_rgb(m, bg);
    int best = -1;
    int64_t bestd = 0;
    int n = r->npairs < CELLS_APPROX_SCAN ? r->npairs : CELLS_APPROX_SCAN;
    for (int k = 0; k < n; k++) {
        int i = (r->approx_at + k) % r->npairs;
        uint64_t key = r->pair_key[i];
        if (key == 0)
            continue;
        int32_t pf = (int32_t)(key >> 32) - 1, pb = (int32_t)(uint32_t)key - 1;
        int64_t d = cells_dist(cells_color_rgb(m, pf), frgb) +
                    (int64_t)cells_dist(cells_color_rgb(m, pb), brgb);
        if (best < 0 || d < bestd) {
            best = i;
            bestd = d;
        }
    }
    r->approx_at = (r->approx_at + n) % r->npairs;
    return best;
}

/* The pair to draw (fg, bg) with, given as the terminal's colour numbers;
 * sets *attr to A_REVERSE when the pair is the swapped one. */
static int
cells_pair(struct cells_renderer *r, int32_t fg, int32_t bg, attr_t *attr)
{
    uint64_t key = cells_key(fg, bg);
    int i;

    *attr = A_NORMAL;
    if (fg < 0 && bg < 0)
        return 0;
    if ((i = cells_pair_find(r, key)) >= 0) {
        cells_pair_claim(r, i);
        return r->first_pair + i;
    }
    if (fg != bg && (i = cells_pair_find(r, cells_key(bg, fg))) >= 0) {
        cells_pair_claim(r, i);
        *attr = A_REVERSE;
        return r->first_pair + i;
    }
    if (r->gen_count >= r->npairs) {
        r->degraded = 1;
        r->recycle = 1;
        i = cells_pair_nearest(r, fg, bg);
        return i < 0 ? 0 : r->first_pair + i;
    }
    while (r->pair_gen[r->sweep] == r->gen)
        r->sweep = (r->sweep + 1) % r->npairs;
    i = r->sweep;
    r->sweep = (r->sweep + 1) % r->npairs;
    if (init_extended_pair(r->first_pair + i, fg, bg) == ERR) {
        /* A colour the terminal lacks: forget what the number held. */
        r->pair_key[i] = 0;
        return 0;
    }
    r->pair_key[i] = key;
    cells_pair_claim(r, i);
    cells_pair_index(r, key, i);
    return r->first_pair + i;
}

int
cells_frame_begin(struct cells_renderer *r)
{
    r->degraded = 0;
    if (r->npairs == 0)
        return 0;
    if (!r->recycle && r->gen_count * 4 <= r->npairs * 3)
        return 0;
    r->recycle = 0;
    r->gen_count = 0;
    if (++r->gen == 0) {
        memset(r->pair_gen, 0, (size_t)r->npairs * sizeof *r->pair_gen);
        r->gen = 1;
    }
    return 1;
}

int
cells_frame_degraded(const struct cells_renderer *r)
{
    return r->degraded;
}

void
cells_draw(struct cells_renderer *r, WINDOW *win, int y, int x,
           const struct cells_image *im)
{
    int maxy, maxx;
    int colour =
        r->npairs > 0 && r->mode != CELLS_MONO && im->mode != CELLS_MONO;
    int direct = r->best == CELLS_TRUECOLOR;

    getmaxyx(win, maxy, maxx);
    for (int cy = 0; cy < im->rows; cy++) {
        int wy = y + cy;
        if (wy < 0)
            continue;
        if (wy >= maxy)
            break;
        for (int cx = 0; cx < im->cols; cx++) {
            int wx = x + cx;
            if (wx < 0)
                continue;
            if (wx >= maxx)
                break;
            const struct cells_cell *c = &im->cells[(size_t)cy * im->cols + cx];
            if (c->ch == 0)
                continue;
            int pair = 0;
            attr_t attr = A_NORMAL;
            if (colour) {
                int32_t fg = c->fg, bg = c->bg;
                if (direct && im->mode != CELLS_TRUECOLOR) {
                    /* A direct-colour terminal reads every number as
                     * RGB: index 196 would be 0x0000c4. */
                    fg = fg < 0 ? fg : cells_direct(cells_index_rgb(fg));
                    bg = bg < 0 ? bg : cells_direct(cells_index_rgb(bg));
                }
                pair = cells_pair(r, fg, bg, &attr);
            }
            wchar_t wc[2] = {(wchar_t)c->ch, L'\0'};
            cchar_t cc;
            setcchar(&cc, wc, attr, 0, &pair);
            mvwadd_wch(win, wy, wx, &cc);
        }
    }
}

/* ------------------------------------------------------------------ */
/* The cache */

struct cells_entry {
    int64_t key;
    int cols, rows;
    uint64_t used; /* tick of the last find or put */
    struct cells_image *im;
};

struct cells_cache {
    struct cells_renderer *r;
    struct cells_entry *entries;
    int n, max;
    uint64_t tick;
};

struct cells_cache *
cells_cache_new(struct cells_renderer *r, int max_entries)
{
    struct cells_cache *c = xcalloc(1, sizeof *c);
    c->r = r;
    c->max = max_entries < 1 ? 1 : max_entries;
    c->entries = xcalloc((size_t)c->max, sizeof *c->entries);
    return c;
}

void
cells_cache_free(struct cells_cache *c)
{
    if (c == NULL)
        return;
    cells_cache_clear(c);
    free(c->entries);
    free(c);
}

static struct cells_entry *
cells_cache_lookup(struct cells_cache *c, int64_t key, int cols, int rows)
{
    for (int i = 0; i < c->n; i++) {
        struct cells_entry *e = &c->entries[i];
        if (e->key == key && e->cols == cols && e->rows == rows)
            return e;
    }
    return NULL;
}

const struct cells_image *
cells_cache_find(struct cells_cache *c, int64_t key, int cols, int rows)
{
    struct cells_entry *e = cells_cache_lookup(c, key, cols, rows);
    /* An image from before a mode change is a miss: rendering again
     * looks better than translating its colours. */
    if (e == NULL || e->im->mode != c->r->mode)
        return NULL;
    e->used = ++c->tick;
    return e->im;
}

const struct cells_image *
cells_cache_put(struct cells_cache *c, int64_t key, const uint8_t *pixels,
                int width, int height, int channels, int cols, int rows)
{
    struct cells_image *im =
        cells_render(c->r, pixels, width, height, channels, cols, rows);
    struct cells_entry *e;
    if (im == NULL)
        return NULL;
    if ((e = cells_cache_lookup(c, key, cols, rows)) != NULL) {
        cells_image_free(e->im);
    } else if (c->n < c->max) {
        e = &c->entries[c->n++];
    } else {
        e = &c->entries[0];
        for (int i = 1; i < c->n; i++)
            if (c->entries[i].used < e->used)
                e = &c->entries[i];
        cells_image_free(e->im);
    }
    e->key = key;
    e->cols = cols;
    e->rows = rows;
    e->im = im;
    e->used = ++c->tick;
    return im;
}

void
cells_cache_clear(struct cells_cache *c)
{
    for (int i = 0; i < c->n; i++)
        cells_image_free(c->entries[i].im);
    c->n = 0;
}

void
cells_set_threads(int n)
{
    chafa_set_n_threads(n < 1 ? 1 : n);
}
