/* ui/review_draw.c: the review screen's drawing room.
 *
 * Everything that puts characters on the screen is here: the layout, the
 * title, the queue list, the sample pane (image, facts, probabilities,
 * the comparison strip), the status and message lines, the score prompt,
 * and the message shown when the terminal is too small; the help screen
 * and the picker draw themselves (ui/help.c, ui/picker.c). Drawing reads
 * the state and changes nothing but the queue list's scroll position
 * (rv->top), the layout and the caches of rendered images and of the
 * shown sample's size; so a frame can be drawn at any time, and a new
 * view is a function here and a mode in ui/review_internal.h. A frame is
 * drawn in full into stdscr (ncurses sends only what changed) from cached
 * cell grids, so a frame costs a few hundred microseconds beyond what the
 * terminal takes to show it. */
#include "config.h"

#include "ui/review_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curses.h>

#include "data/store.h"
#include "ui/cells.h"
#include "ui/help.h"
#include "ui/picker.h"
#include "ui/queue.h"
#include "ui/text.h"

/* The smallest terminal the layout is made for. */
#define REVIEW_MIN_COLS   80
#define REVIEW_MIN_LINES  24
/* Thumbnails per class in the comparison strip, at most. */
#define REVIEW_MAX_THUMBS 12

enum review_pair {
    PAIR_TITLE = 1,
    PAIR_STATUS,
    PAIR_KEPT,
    PAIR_RELABELED,
    PAIR_FLAGGED,
    PAIR_BAR,
    PAIR_ERROR,
    PAIR_DIM,
};

static void
review_attr_on(const struct review *rv, int pair, attr_t attr)
{
    wattr_on(stdscr, attr, NULL);
    if (rv->color && pair > 0)
        wcolor_set(stdscr, (short)pair, NULL);
}

static void
review_attr_off(void)
{
    wattrset(stdscr, A_NORMAL);
    wcolor_set(stdscr, 0, NULL);
}

static void
review_layout(struct review *rv)
{
    struct review_layout *l = &rv->lay;
    int W = COLS, H = LINES;
    l->qx = 0;
    l->qy = 1;
    l->qw = W * 2 / 5;
    if (l->qw < 32)
        l->qw = 32;
    if (l->qw > 60)
        l->qw = 60;
    l->qh = H - 3;

    l->sx = l->qw + 1;
    l->sy = 1;
    l->sw = W - l->sx;
    l->sh = H - 3;

    /* The strip: a caption and thumbnails about a fifth of the height. */
    int th = l->sh / 5;
    if (th < 5)
        th = 5;
    if (th > 8)
        th = 8;
    l->th = th + 1;
    l->tx = l->sx + 1;
    l->tw = l->sw - 2;
    l->ty = l->sy + l->sh - l->th;

    /* The image: as large as the rest allows, next to the info. */
    int top = l->sy + 1; /* under the path line */
    int avail_h = l->ty - top - 1;
    int info_w = l->sw < 60 ? 20 : 26;
    int img_w = l->sw - 2 - info_w - 2;
    if (img_w > avail_h * 2)
        img_w = avail_h * 2;
    l->ix = l->sx + 1;
    l->iy = top + 1;
    l->iw = img_w;
    l->ih = avail_h - 1;
    l->nx = l->ix + img_w + 2;
    l->ny = top + 1;
    l->nw = l->sx + l->sw - l->nx - 1;
    if (l->nw > 48)
        l->nw = 48;
    l->nh = avail_h - 1;
}

/* A bar of width cells for a fraction v, in eighths where UTF-8 allows. */
static void
review_bar(const struct review *rv, int y, int x, int width, double v)
{
    if (isnan(v))
        return;
    if (v < 0.0)
        v = 0.0;
    if (v > 1.0)
        v = 1.0;
    int eighths = (int)lround(v * width * 8);
    static const wchar_t parts[] = L" \u258f\u258e\u258d\u258c\u258b\u258a"
                                   L"\u2589";
    int utf8 = text_utf8();
    review_attr_on(rv, PAIR_BAR, A_NORMAL);
    wmove(stdscr, y, x);
    for (int i = 0; i < width; i++) {
        int e = eighths - i * 8;
        if (utf8) {
            wchar_t wc = e >= 8 ? L'\u2588' : e > 0 ? parts[e] : L' ';
            if (wc == L' ') {
                review_attr_off();
                wattron(stdscr, A_DIM);
                waddnwstr(stdscr, L"\u00b7", 1);
                wattroff(stdscr, A_DIM);
                review_attr_on(rv, PAIR_BAR, A_NORMAL);
            } else {
                waddnwstr(stdscr, &wc, 1);
            }
        } else {
            waddch(stdscr, e >= 4 ? '#' : '.');
        }
    }
    review_attr_off();
}

/* Draw the rendered image of a sample into a box, centred; render on a
 * cache miss. */
static void
review_image(struct review *rv, int64_t id, int y, int x, int cols, int rows)
{
    if (cols < 2 || rows < 1)
        return;
    const struct cells_image *im = cells_cache_find(rv->cache, id, cols, rows);
    if (im == NULL) {
        struct store_pixels px;
        char *cause = NULL;
        if (store_sample_pixels(rv->store, id, &px, &cause) != 0) {
            review_log(rv, "pixels of %lld: %s", (long long)id, cause);
            free(cause);
            text_put(stdscr, y, x, cols, "(no image)", 0);
            return;
        }
        im = cells_cache_put(rv->cache, id, px.pixels, px.stored_width,
                             px.stored_height, px.channels, cols, rows);
        store_pixels_fini(&px);
        if (im == NULL)
            return;
    }
    int dy = (rows - cells_image_rows(im)) / 2;
    int dx = (cols - cells_image_cols(im)) / 2;
    cells_draw(rv->rend, stdscr, y + dy, x + dx, im);
}

static void
review_draw_title(struct review *rv)
{
    struct queue_filter f;
    queue_get_filter(rv->q, &f);
    const char *base = strrchr(rv->db_path, '/');
    base = base != NULL ? base + 1 : rv->db_path;
    char line[512], cls[160] = "", score[48] = "";
    if (f.cls >= 0)
        snprintf(cls, sizeof cls, "   class: %s", review_class(rv, f.cls));
    if (!isnan(f.min_score))
        snprintf(score, sizeof score, "   score >= %.2f", f.min_score);
    snprintf(line, sizeof line, " winnow  %s   showing: %s (%zu)%s%s%s", base,
             queue_show_name(f.show), queue_count(rv->q), cls, score,
             queue_get_order(rv->q) == QUEUE_BY_OUTLIER ? "   by outlier" : "");
    review_attr_on(rv, PAIR_TITLE, A_REVERSE | A_BOLD);
    text_blank(stdscr, 0, 0, COLS);
    text_put(stdscr, 0, 0, COLS - 10, line, 0);
    char help[] = "? help ";
    text_put(stdscr, 0, COLS - (int)strlen(help), (int)strlen(help), help, 0);
    review_attr_off();
}

static char
review_status_mark(enum queue_status st)
{
    switch (st) {
    case QUEUE_UNREVIEWED: return ' ';
    case QUEUE_KEPT: return 'k';
    case QUEUE_RELABELED: return 'r';
    case QUEUE_AUTO: return 'a';
    case QUEUE_SKIPPED: return 's';
    }
    return '?';
}

static int
review_digits(size_t n)
{
    int d = 1;
    while (n >= 10) {
        n /= 10;
        d++;
    }
    return d;
}

static void
review_draw_queue(struct review *rv)
{
    const struct review_layout *l = &rv->lay;
    int rows = l->qh - 1;
    size_t count = queue_count(rv->q), cur = queue_cursor(rv->q);
    if (rows < 1)
        return;
    /* Scroll so that the cursor is visible. */
    if (cur < rv->top)
        rv->top = cur;
    if (cur >= rv->top + (size_t)rows)
        rv->top = cur - (size_t)rows + 1;
    if (count <= (size_t)rows)
        rv->top = 0;
    else if (rv->top > count - (size_t)rows)
        rv->top = count - (size_t)rows;

    int rw = review_digits(queue_size(rv->q));
    if (rw < 4)
        rw = 4;
    /* rank, score, names, status mark: "  12 0.93 cat -> dog  k" */
    int names = l->qw - (1 + rw + 1 + 4 + 1) - 3;
    int nw = (names - 3) / 2;
    const char *arrow = text_utf8() ? "\u2192" : ">";

    char line[256];
    wattron(stdscr, A_BOLD | A_UNDERLINE);
    snprintf(line, sizeof line, " %*s %-4s %-*s", rw, "rank", "scor", names + 2,
             "label  suggestion");
    text_blank(stdscr, l->qy, l->qx, l->qw);
    text_put(stdscr, l->qy, l->qx, l->qw - 1, line, 0);
    wattroff(stdscr, A_BOLD | A_UNDERLINE);

    for (int r = 0; r < rows; r++) {
        const struct queue_item *it = queue_at(rv->q, rv->top + (size_t)r);
        int y = l->qy + 1 + r;
        if (it == NULL) {
            if (r == 0 && count == 0)
                text_put(stdscr, y, l->qx + 2, l->qw - 3,
                         "nothing to show (f, / or Esc change "
                         "what is shown)",
                         0);
            continue;
        }
        int sel = rv->top + (size_t)r == cur;
        if (sel)
            wattron(stdscr, A_REVERSE);
        text_blank(stdscr, y, l->qx, l->qw);
        int x = l->qx;
        char buf[64];
        snprintf(buf, sizeof buf, " %*zu ", rw, it->rank);
        x += text_put(stdscr, y, x, rw + 2, buf, 0);
        if (it->scored) {
            /* The column shows what the queue is ranked by. */
            snprintf(buf, sizeof buf, "%.2f", it->key);
            if (it->flagged && !sel)
                review_attr_on(rv, PAIR_FLAGGED, A_BOLD);
            text_put(stdscr, y, x, 4, buf, 0);
            if (it->flagged && !sel) {
                review_attr_off();
            }
        } else {
            text_put(stdscr, y, x, 4, "  - ", 0);
        }
        if (sel)
            wattron(stdscr, A_REVERSE);
        x += 5;
        int arrowed =
            it->scored && it->suggested >= 0 && it->suggested != it->label;
        int used = text_put(stdscr, y, x, arrowed ? nw : names,
                            review_class(rv, it->label), 0);
        if (arrowed) {
            int ax = x + (used < nw ? used : nw) + 1;
            text_put(stdscr, y, ax, 1, arrow, 0);
            text_put(stdscr, y, ax + 2, x + names - (ax + 2),
                     review_class(rv, it->suggested), 0);
        }
        char mark[2] = {review_status_mark(it->status), '\0'};
        int pair = it->status == QUEUE_KEPT        ? PAIR_KEPT
                   : it->status == QUEUE_RELABELED ? PAIR_RELABELED
                                                   : 0;
        if (!sel && pair)
            review_attr_on(rv, pair, A_BOLD);
        text_put(stdscr, y, l->qx + l->qw - 2, 1, mark, 0);
        if (!sel && pair)
            review_attr_off();
        if (sel)
            wattroff(stdscr, A_REVERSE);
    }
}

static void
review_draw_info(struct review *rv, const struct queue_item *it)
{
    const struct review_layout *l = &rv->lay;
    int y = l->ny, x = l->nx, w = l->nw;
    char buf[256];
    if (w < 12)
        return;

    /* Class names carry the number their digit key chooses. */
    char given[160], label[160], sugg[160];
    snprintf(given, sizeof given, "%d %s", it->given + 1,
             review_class(rv, it->given));
    snprintf(label, sizeof label, "%d %s", it->label + 1,
             review_class(rv, it->label));
    if (it->scored && it->suggested >= 0)
        snprintf(sugg, sizeof sugg, "%d %s", it->suggested + 1,
                 review_class(rv, it->suggested));
    else
        snprintf(sugg, sizeof sugg, "(not yet)");
    struct {
        const char *k;
        const char *v;
        int attr;
    } rows[4];
    rows[0].k = "given";
    rows[0].v = given;
    rows[0].attr = 0;
    rows[1].k = "label";
    rows[1].v = label;
    rows[1].attr = it->label != it->given ? A_BOLD : 0;
    rows[2].k = "suggested";
    rows[2].v = sugg;
    rows[2].attr = it->scored && it->suggested != it->label ? A_BOLD : 0;
    rows[3].k = "status";
    rows[3].v = queue_status_name(it->status);
    rows[3].attr = 0;
    for (int i = 0; i < 4 && i < l->nh; i++) {
        wattron(stdscr, A_DIM);
        text_put(stdscr, y + i, x, 10, rows[i].k, 0);
        wattroff(stdscr, A_DIM);
        if (rows[i].attr)
            wattron(stdscr, (attr_t)rows[i].attr);
        text_put(stdscr, y + i, x + 10, w - 10, rows[i].v, 0);
        if (rows[i].attr)
            wattroff(stdscr, (attr_t)rows[i].attr);
    }
    y += 4;
    if (it->scored) {
        wattron(stdscr, A_DIM);
        text_put(stdscr, y, x, 10, "score", 0);
        wattroff(stdscr, A_DIM);
        snprintf(buf, sizeof buf, "%.3f%s", it->score,
                 !it->flagged   ? ""
                 : w - 10 >= 14 ? "  flagged"
                                : " !");
        if (it->flagged)
            review_attr_on(rv, PAIR_FLAGGED, A_BOLD);
        text_put(stdscr, y, x + 10, w - 10, buf, 0);
        review_attr_off();
        if (!isnan(it->outlier)) {
            wattron(stdscr, A_DIM);
            text_put(stdscr, y + 1, x, 10, "outlier", 0);
            wattroff(stdscr, A_DIM);
            snprintf(buf, sizeof buf, "%.3f", it->outlier);
            text_put(stdscr, y + 1, x + 10, w - 10, buf, 0);
            y++;
        }
        y += 2;
        /* The model's likeliest classes as small bars, and the label it
         * was trained against when that is not among them. */
        wattron(stdscr, A_DIM);
        text_put(stdscr, y - 1, x, w, "probability", 0);
        wattroff(stdscr, A_DIM);
        int bw = w - 10 - 6;
        if (bw > 20)
            bw = 20;
        int shown[4];
        double p[4];
        int n = 0, has_label = 0;
        for (int i = 0; i < 3 && it->top[i] >= 0; i++) {
            shown[n] = it->top[i];
            p[n++] = it->top_p[i];
            has_label |= it->top[i] == it->trained;
        }
        if (n == 0) { /* a run from before top classes were kept */
            shown[n] = it->suggested;
            p[n++] = it->p_suggested;
            has_label = it->suggested == it->trained;
        }
        if (!has_label && it->trained >= 0) {
            shown[n] = it->trained;
            p[n++] = it->p_trained;
        }
        for (int i = 0; i < n && y < l->ny + l->nh; i++) {
            /* The label the run judged stands out among the classes. */
            if (shown[i] == it->trained)
                wattron(stdscr, A_BOLD);
            text_put(stdscr, y, x, 9, review_class(rv, shown[i]), 0);
            wattroff(stdscr, A_BOLD);
            if (bw >= 4)
                review_bar(rv, y, x + 10, bw, p[i]);
            snprintf(buf, sizeof buf, " %.2f", p[i]);
            text_put(stdscr, y, x + 10 + (bw >= 4 ? bw : 0), 6, buf, 0);
            y++;
        }
    }
    y++;
    if (rv->size.id != it->sample_id) {
        struct store_pixels px;
        char *cause = NULL;
        rv->size.id = it->sample_id;
        rv->size.width = 0;
        if (store_sample_pixels(rv->store, it->sample_id, &px, &cause) == 0) {
            rv->size.width = px.width;
            rv->size.height = px.height;
            rv->size.channels = px.channels;
            store_pixels_fini(&px);
        } else {
            free(cause);
        }
    }
    if (y < l->ny + l->nh && rv->size.width > 0) {
        snprintf(buf, sizeof buf, "%dx%d %s", rv->size.width, rv->size.height,
                 rv->size.channels == 1 ? "gray" : "RGB");
        wattron(stdscr, A_DIM);
        text_put(stdscr, y, x, w, buf, 0);
        wattroff(stdscr, A_DIM);
    }
}

static void
review_draw_strip(struct review *rv, const struct queue_item *it)
{
    const struct review_layout *l = &rv->lay;
    /* The label's class beside the suggested one, or, when the model
     * agrees with the label, its runner-up. */
    int classes[2] = {it->label, -1};
    int runner = 0;
    if (it->scored && it->suggested >= 0 && it->suggested != it->label) {
        classes[1] = it->suggested;
    } else if (it->scored && it->runner_up >= 0 && it->runner_up != it->label) {
        classes[1] = it->runner_up;
        runner = 1;
    }
    int parts = classes[1] >= 0 ? 2 : 1;
    int partw = (l->tw - (parts - 1) * 2) / parts;
    int th = l->th - 1, tw = th * 2;
    int n = (partw + 1) / (tw + 1);
    if (n > REVIEW_MAX_THUMBS)
        n = REVIEW_MAX_THUMBS;
    char cap[200];
    for (int p = 0; p < parts; p++) {
        int x = l->tx + p * (partw + 2);
        /* "label: 5 deer", then "(typical examples)" where it fits. */
        const char *role = p == 0   ? "label: "
                           : runner ? "runner-up: "
                                    : "suggested: ";
        wattron(stdscr, A_DIM);
        int used = text_put(stdscr, l->ty, x, partw, role, 0);
        wattroff(stdscr, A_DIM);
        snprintf(cap, sizeof cap, "%d %s", classes[p] + 1,
                 review_class(rv, classes[p]));
        wattron(stdscr, A_BOLD);
        used += text_put(stdscr, l->ty, x + used, partw - used, cap, 0);
        wattroff(stdscr, A_BOLD);
        const char *more = " (typical examples)";
        if (used + text_width(more) <= partw) {
            wattron(stdscr, A_DIM);
            text_put(stdscr, l->ty, x + used, partw - used, more, 0);
            wattroff(stdscr, A_DIM);
        }
        int64_t ids[REVIEW_MAX_THUMBS];
        size_t k = queue_examples(rv->q, classes[p], it->sample_id, ids,
                                  (size_t)(n > 0 ? n : 0));
        for (size_t i = 0; i < k; i++)
            review_image(rv, ids[i], l->ty + 1, x + (int)i * (tw + 1), tw, th);
        if (k == 0) {
            wattron(stdscr, A_DIM);
            text_put(stdscr, l->ty + 1, x, partw, "(no examples yet)", 0);
            wattroff(stdscr, A_DIM);
        }
    }
}

static void
review_draw_sample(struct review *rv)
{
    const struct review_layout *l = &rv->lay;
    const struct queue_item *it = queue_current(rv->q);
    if (it == NULL)
        return;
    char buf[512];
    snprintf(buf, sizeof buf, "#%zu of %zu  ", it->rank, queue_size(rv->q));
    wattron(stdscr, A_DIM);
    int used = text_put(stdscr, l->sy, l->sx + 1, l->sw - 2, buf, 0);
    wattroff(stdscr, A_DIM);
    wattron(stdscr, A_BOLD);
    text_put(stdscr, l->sy, l->sx + 1 + used, l->sw - 2 - used, it->path, 1);
    wattroff(stdscr, A_BOLD);
    review_image(rv, it->sample_id, l->iy, l->ix, l->iw, l->ih);
    review_draw_info(rv, it);
    review_draw_strip(rv, it);
}

/* The duplicates view: the group's members side by side in the sample
 * pane, each with its label and state, the chosen one marked. */
static void
review_draw_dups(struct review *rv)
{
    const struct review_layout *l = &rv->lay;
    size_t n = review_group_members(rv, rv->dups_of, NULL, 0);
    if (n == 0)
        return;
    int64_t *ids = xmalloc(n * sizeof *ids);
    review_group_members(rv, rv->dups_of, ids, n);
    int conflict = 0;
    const struct queue_item *first = queue_find(rv->q, ids[0]);
    for (size_t i = 1; i < n; i++) {
        const struct queue_item *it = queue_find(rv->q, ids[i]);
        conflict |= first != NULL && it != NULL && it->label != first->label;
    }
    char buf[160];
    snprintf(buf, sizeof buf, "Near-duplicates: a group of %zu%s", n,
             conflict ? ", labels disagree" : "");
    wattron(stdscr, A_BOLD);
    text_put(stdscr, l->sy, l->sx + 1, l->sw - 2, buf, 0);
    wattroff(stdscr, A_BOLD);

    /* As many tiles a row as keep an image at least 16 cells wide. */
    int w = l->sw - 2;
    int per_row = w / 17;
    if (per_row < 1)
        per_row = 1;
    if ((size_t)per_row > n)
        per_row = (int)n;
    int tile_w = w / per_row;
    int rows_of = ((int)n + per_row - 1) / per_row;
    int avail = l->sh - 3;
    int tile_h = avail / rows_of;
    if (tile_h > tile_w / 2 + 2)
        tile_h = tile_w / 2 + 2;
    if (tile_h < 3)
        tile_h = 3;
    for (size_t i = 0; i < n; i++) {
        int row = (int)i / per_row, col = (int)i % per_row;
        int y = l->sy + 1 + row * tile_h, x = l->sx + 1 + col * tile_w;
        if (y + tile_h > l->sy + l->sh - 1)
            break;
        const struct queue_item *it = queue_find(rv->q, ids[i]);
        if (it == NULL)
            continue;
        review_image(rv, it->sample_id, y, x, tile_w - 1, tile_h - 2);
        int sel = i == rv->dups_sel;
        snprintf(buf, sizeof buf, "%s%d %s%s", sel ? "> " : "  ", it->label + 1,
                 review_class(rv, it->label),
                 queue_status_decided(it->status) ? " *" : "");
        if (sel)
            wattron(stdscr, A_REVERSE);
        text_put(stdscr, y + tile_h - 2, x, tile_w - 1, buf, 0);
        if (sel)
            wattroff(stdscr, A_REVERSE);
        wattron(stdscr, A_DIM);
        text_put(stdscr, y + tile_h - 1, x, tile_w - 1, it->path, 1);
        wattroff(stdscr, A_DIM);
    }
    free(ids);
    wattron(stdscr, A_DIM);
    text_put(stdscr, l->sy + l->sh - 1, l->sx + 1, l->sw - 2,
             "* decided   j k choose  1-0 Space decide it  = all take its "
             "label  x keep it, drop the rest  d back",
             0);
    wattroff(stdscr, A_DIM);
}

/* An offer: the samples the last decision can be carried to, checked. */
static void
review_draw_offer(struct review *rv)
{
    const struct review_layout *l = &rv->lay;
    const struct review_offer *o = &rv->offer;
    size_t n = o->n[o->open];
    char buf[320];
    const char *arrow = text_utf8() ? "\u2192" : "->";
    if (o->old_label == o->label)
        snprintf(buf, sizeof buf, "Keep %s for %s too?",
                 review_class(rv, o->label),
                 o->open == OFFER_NEAR ? "its near-duplicates"
                                       : "its most similar suspects");
    else
        snprintf(buf, sizeof buf, "%s %s %s for %s too?",
                 review_class(rv, o->old_label), arrow,
                 review_class(rv, o->label),
                 o->open == OFFER_NEAR ? "its near-duplicates"
                                       : "its most similar suspects");
    wattron(stdscr, A_BOLD);
    text_put(stdscr, l->sy, l->sx + 1, l->sw - 2, buf, 0);
    wattroff(stdscr, A_BOLD);
    int rows = l->sh - 3;
    size_t top = o->cur >= (size_t)rows ? o->cur - (size_t)rows + 1 : 0;
    for (size_t i = top; i < n && (int)(i - top) < rows; i++) {
        const struct review_offer_item *x = &o->items[o->open][i];
        const struct queue_item *it = queue_find(rv->q, x->sample_id);
        if (it == NULL)
            continue;
        char sim[32] = "";
        if (!isnan(x->similarity))
            snprintf(sim, sizeof sim, "  %.2f", x->similarity);
        snprintf(buf, sizeof buf, "[%c] %-12s%s  %s", x->on ? 'x' : ' ',
                 review_class(rv, it->label), sim, it->path);
        if (i == o->cur)
            wattron(stdscr, A_REVERSE);
        text_put(stdscr, l->sy + 2 + (int)(i - top), l->sx + 1, l->sw - 2, buf,
                 0);
        if (i == o->cur)
            wattroff(stdscr, A_REVERSE);
    }
    wattron(stdscr, A_DIM);
    text_put(stdscr, l->sy + l->sh - 1, l->sx + 1, l->sw - 2,
             "Enter apply to the checked  Space check  Esc dismiss", 0);
    wattroff(stdscr, A_DIM);
}

static void
review_fmt_time(char *buf, size_t len, double s)
{
    if (s < 0 || isnan(s)) {
        snprintf(buf, len, "?");
        return;
    }
    long t = lround(s);
    if (t >= 3600)
        snprintf(buf, len, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(buf, len, "%ld:%02ld", t / 60, t % 60);
}

static void
review_draw_status(struct review *rv)
{
    int y = LINES - 2;
    char left[256], right[200], eta[32];
    const struct engine_progress *p = &rv->snap;
    if (rv->eng != NULL) {
        if (p->phase == ENGINE_TRAINING) {
            double frac = p->images_total > 0
                              ? (double)p->images_done / (double)p->images_total
                              : 0.0;
            review_fmt_time(eta, sizeof eta, p->eta);
            char fold[32] = "";
            if (p->folds > 1)
                snprintf(fold, sizeof fold, "fold %d/%d ", p->fold, p->folds);
            snprintf(left, sizeof left,
                     " %s %sepoch %d/%d  %3.0f%%  %.0f img/s  ETA %s",
                     p->paused          ? "paused:"
                     : rv->eng_stopping ? "stopping:"
                                        : "training",
                     fold, p->epoch, p->epochs, 100.0 * frac, p->images_per_sec,
                     eta);
        } else {
            snprintf(left, sizeof left, " engine: %s%s",
                     engine_phase_name(p->phase),
                     p->phase == ENGINE_LOADING ? " samples" : "");
        }
    } else if (rv->interrupted != 0) {
        char from[48] = "not scored yet";
        if (rv->run_id != 0)
            snprintf(from, sizeof from, "scores of run %lld",
                     (long long)rv->run_id);
        snprintf(left, sizeof left, " %s; run %lld interrupted (t resumes)",
                 from, (long long)rv->interrupted);
    } else if (rv->run_id != 0) {
        snprintf(left, sizeof left, " scores of run %lld; engine idle (t)",
                 (long long)rv->run_id);
    } else {
        snprintf(left, sizeof left,
                 " not scored yet; engine idle (t starts "
                 "it)");
    }
    struct queue_counts c;
    queue_counts(rv->q, &c);
    char noise[48] = "";
    if (!isnan(rv->noise_rate))
        snprintf(noise, sizeof noise, "   noise ~%.1f%%",
                 100.0 * rv->noise_rate);
    snprintf(right, sizeof right, "reviewed %zu   to review %zu%s ",
             c.kept + c.relabeled, c.unreviewed + c.autos, noise);
    review_attr_on(rv, PAIR_STATUS, A_REVERSE);
    text_blank(stdscr, y, 0, COLS);
    int rw = text_width(right);
    text_put(stdscr, y, 0, COLS - rw - 1, left, 0);
    text_put(stdscr, y, COLS - rw, rw, right, 0);
    review_attr_off();

    /* The bottom line: a message, or the keys that matter most. */
    y = LINES - 1;
    text_blank(stdscr, y, 0, COLS);
    if (rv->msg[0] != '\0' && wn_monotonic() < rv->msg_until) {
        if (rv->msg_error)
            review_attr_on(rv, PAIR_ERROR, A_BOLD);
        text_put(stdscr, y, 1, COLS - 2, rv->msg, 0);
        review_attr_off();
        return;
    }
    const char *hints =
        rv->mode == MODE_QUEUE
            ? "Enter accept  Space keep  c class  1-0 class#  s skip  "
              "u undo  ^R redo  / f filter  d dups  t engine  ? help  q quit"
        : rv->mode == MODE_DUPS  ? "= all take its label  x keep one  "
                                   "u undo  d back"
        : rv->mode == MODE_OFFER ? "Enter apply  Space check  Esc dismiss"
                                 : "Esc cancel";
    wattron(stdscr, A_DIM);
    text_put(stdscr, y, 1, COLS - 2, hints, 0);
    wattroff(stdscr, A_DIM);
}

static void
review_draw_prompt(struct review *rv)
{
    int w = 50, h = 4;
    int y0 = (LINES - h) / 2, x0 = (COLS - w) / 2;
    for (int y = 0; y < h; y++)
        text_blank(stdscr, y0 + y, x0, w);
    wattron(stdscr, A_BOLD);
    text_put(stdscr, y0, x0 + 1, w - 2,
             "Show samples scored at least (0 to 1):", 0);
    wattroff(stdscr, A_BOLD);
    char line[40];
    snprintf(line, sizeof line, "> %s", rv->prompt);
    int used = text_put(stdscr, y0 + 1, x0 + 1, w - 3, line, 0);
    wattron(stdscr, A_REVERSE);
    mvwaddch(stdscr, y0 + 1, x0 + 1 + used, ' ');
    wattroff(stdscr, A_REVERSE);
    wattron(stdscr, A_DIM);
    text_put(stdscr, y0 + 2, x0 + 1, w - 2,
             "Enter apply (empty: no limit)  Esc cancel", 0);
    wattroff(stdscr, A_DIM);
    mvwhline(stdscr, y0 + 3, x0, ACS_HLINE, w);
}

/* Put the words of s (ASCII, single spaces) on lines of at most width
 * columns from line y; a word longer than a line is clipped. Returns the
 * lines used; draws only with draw set (so a caller can centre). */
static int
review_wrap(const char *s, int y, int width, int draw)
{
    int n = 0;
    while (*s != '\0') {
        size_t len = strcspn(s, " ");
        while (s[len] == ' ') {
            size_t next = len + 1 + strcspn(s + len + 1, " ");
            if ((int)next > width)
                break;
            len = next;
        }
        if (draw && y + n >= 0 && y + n < LINES) {
            char buf[256];
            snprintf(buf, sizeof buf, "%.*s", (int)len, s);
            text_put(stdscr, y + n, 1, width, buf, 0);
        }
        n++;
        s += len;
        while (*s == ' ')
            s++;
    }
    return n;
}

/* Below 80x24 the screen says so instead, wrapped so that even a narrow
 * terminal shows the size needed. */
int
review_too_small(void)
{
    return COLS < REVIEW_MIN_COLS || LINES < REVIEW_MIN_LINES;
}

static void
review_draw_too_small(void)
{
    char need[200];
    snprintf(need, sizeof need,
             "winnow needs a terminal of at least %dx%d; this one is %dx%d.",
             REVIEW_MIN_COLS, REVIEW_MIN_LINES, COLS, LINES);
    static const char hint[] = "Make it larger, or press q to quit.";
    int width = COLS > 2 ? COLS - 2 : 1;
    int n1 = review_wrap(need, 0, width, 0);
    int n2 = review_wrap(hint, 0, width, 0);
    int y = (LINES - n1 - n2) / 2;
    if (y < 0)
        y = 0;
    review_wrap(need, y, width, 1);
    review_wrap(hint, y + n1, width, 1);
}

void
review_draw(struct review *rv)
{
    cells_frame_begin(rv->rend);
    werase(stdscr);
    if (review_too_small()) {
        review_draw_too_small();
        wnoutrefresh(stdscr);
        doupdate();
        return;
    }
    review_layout(rv);
    if (rv->mode == MODE_HELP) {
        help_draw(stdscr, LINES, COLS, rv->classes, rv->n_classes);
        wnoutrefresh(stdscr);
        doupdate();
        return;
    }
    review_draw_title(rv);
    review_draw_queue(rv);
    mvwvline(stdscr, rv->lay.qy, rv->lay.qw, ACS_VLINE, rv->lay.qh);
    if (rv->mode == MODE_DUPS)
        review_draw_dups(rv);
    else if (rv->mode == MODE_OFFER)
        review_draw_offer(rv);
    else
        review_draw_sample(rv);
    review_draw_status(rv);
    if (rv->picker != NULL)
        picker_draw(rv->picker, stdscr, LINES, COLS);
    if (rv->mode == MODE_PROMPT_SCORE)
        review_draw_prompt(rv);
    wnoutrefresh(stdscr);
    doupdate();
    if (cells_frame_degraded(rv->rend))
        review_log(rv, "colour pairs ran out this frame");
}

void
review_colors(struct review *rv)
{
    const char *nc = getenv("NO_COLOR");
    rv->color = has_colors() && (nc == NULL || nc[0] == '\0');
    if (has_colors()) {
        start_color();
        use_default_colors();
    }
    if (!rv->color)
        return;
    init_pair(PAIR_TITLE, -1, -1);
    init_pair(PAIR_STATUS, -1, -1);
    init_pair(PAIR_KEPT, COLOR_GREEN, -1);
    init_pair(PAIR_RELABELED, COLOR_CYAN, -1);
    init_pair(PAIR_FLAGGED, COLOR_RED, -1);
    init_pair(PAIR_BAR, COLOR_CYAN, -1);
    init_pair(PAIR_ERROR, COLOR_RED, -1);
    init_pair(PAIR_DIM, -1, -1);
}

void
review_draw_stopping(struct review *rv)
{
    review_attr_on(rv, PAIR_STATUS, A_REVERSE);
    text_blank(stdscr, LINES - 2, 0, COLS);
    text_put(stdscr, LINES - 2, 1, COLS - 2,
             "stopping the engine (saving a checkpoint)...", 0);
    review_attr_off();
    wnoutrefresh(stdscr);
    doupdate();
}
