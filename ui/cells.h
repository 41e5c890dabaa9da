/* ui/cells.h: images drawn as terminal cells, through libchafa and
 * ncurses' wide-character API. chafa.h (and GLib) stay in ui/cells.c.
 *
 * A renderer is made once, after initscr() and start_color(): it picks the
 * colour mode from what ncurses says the terminal can do (truecolor where
 * the terminal has direct colour, else 256, 16, 8 colours, else
 * monochrome), honours NO_COLOR, and uses ASCII symbols only when the
 * locale is not UTF-8. Rendering turns pixels into a grid of cells (a
 * character with a foreground and background colour each) once; drawing a
 * grid into a window is cheap and is what happens on every frame. Colour
 * pairs come from the renderer's own cache, kept apart from the UI's low
 * pair numbers, and are recycled a generation at a time when the
 * terminal's pair table fills. Everything here runs on the UI thread.
 * chafa's thread count is the caller's: app/ calls cells_set_threads(1)
 * before rendering (libchafa 1.12 starts a thread pool per image, which
 * makes small images ~10x slower). */
#ifndef WINNOW_UI_CELLS_H
#define WINNOW_UI_CELLS_H

#include <stdint.h>

#include <curses.h>

enum cells_mode {
    CELLS_TRUECOLOR,
    CELLS_256,
    CELLS_16,
    CELLS_8,
    CELLS_MONO,
};

struct cells_renderer; /* opaque */

/* chafa's worker threads for every later rendering (chafa_set_n_threads);
 * process-wide, so only app/ calls it, once, before any rendering. */
void cells_set_threads(int n);

struct cells_image; /* opaque: a rendered grid of cells */

/* first_pair: the lowest colour pair number the renderer may use (the UI
 * keeps the ones below for itself). */
struct cells_renderer *cells_renderer_new(int first_pair);
void cells_renderer_free(struct cells_renderer *r);
enum cells_mode cells_renderer_mode(const struct cells_renderer *r);
const char *cells_mode_name(enum cells_mode m); /* "truecolor", "256", ... */
/* Force a mode (tests, --colors); returns the mode in effect. */
enum cells_mode cells_renderer_set_mode(struct cells_renderer *r,
                                        enum cells_mode m);
/* on (the default): in truecolor and 256 colours with a UTF-8 locale, an
 * image shown at one pixel per half cell or larger is drawn pixel-exact
 * with upper half blocks (nearest neighbour) instead of through chafa,
 * which would blur it. 0: always chafa (tests, comparisons). */
void cells_renderer_set_exact(struct cells_renderer *r, int on);

/* Render an 8-bit gray (channels 1) or RGB (3) image into at most cols x
 * rows cells, keeping its aspect ratio (a cell is about twice as tall as
 * wide). NULL only if memory runs out. */
struct cells_image *cells_render(struct cells_renderer *r,
                                 const uint8_t *pixels, int width, int height,
                                 int channels, int cols, int rows);
int cells_image_cols(const struct cells_image *im);
int cells_image_rows(const struct cells_image *im);
void cells_image_free(struct cells_image *im);

/* Call once at the start of every frame: when the pair table is mostly
 * used, it is recycled, and cells_frame_begin returns 1 to say that every
 * image on screen must be drawn again this frame. */
int cells_frame_begin(struct cells_renderer *r);
/* 1 when this frame ran out of pairs and some cells got the nearest pair
 * already defined; the next cells_frame_begin recycles and returns 1, so
 * the UI may want to draw another frame soon. */
int cells_frame_degraded(const struct cells_renderer *r);
/* Draw im with its top-left cell at (y, x) of win, clipped to the window.
 * An image rendered before a mode change still shows its own colours
 * (render it again for the new mode's look). */
void cells_draw(struct cells_renderer *r, WINDOW *win, int y, int x,
                const struct cells_image *im);

/* A cache of rendered images keyed by (key, cols, rows), least recently
 * used dropped first beyond max_entries. Returned images are owned by the
 * cache and valid until the next cells_cache_put, cells_cache_clear or
 * cells_cache_free. An image rendered in another mode than the renderer's
 * current one is not found. */
struct cells_cache;
struct cells_cache *cells_cache_new(struct cells_renderer *r, int max_entries);
void cells_cache_free(struct cells_cache *c);
/* The cached image, or NULL when there is none yet. */
const struct cells_image *cells_cache_find(struct cells_cache *c, int64_t key,
                                           int cols, int rows);
/* Render and insert (replacing any entry with the same key and size). */
const struct cells_image *cells_cache_put(struct cells_cache *c, int64_t key,
                                          const uint8_t *pixels, int width,
                                          int height, int channels, int cols,
                                          int rows);
/* Drop everything (after a mode change). */
void cells_cache_clear(struct cells_cache *c);

#endif
