/* engine/dataset.c: loads the project's samples for training, and makes
 * the network's batches from them.
 *
 * Two passes over the store: the first learns the sizes and channel count
 * (to choose the input side without holding every image twice), the second
 * fills the tensor, cropping and resizing where needed and turning
 * interleaved HWC bytes into planar CHW. */
#include "config.h"

#include "engine/dataset.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data/image.h"
#include "data/store.h"
#include "engine/rng.h"

/* A channel with less variance than this (in squared pixel units) is
 * flat: it is normalised by 1, not divided by almost nothing. */
#define DATASET_MIN_VARIANCE 1e-6

struct scan {
    int64_t n;
    int any_color;
    int first_w, first_h, same;
    int max_short_side;
};

static int
scan_one(void *ctx, const struct store_sample *smp, char **cause)
{
    (void)cause;
    struct scan *sc = ctx;
    if (sc->n == 0) {
        sc->first_w = smp->stored_width;
        sc->first_h = smp->stored_height;
        sc->same = 1;
    } else if (smp->stored_width != sc->first_w ||
               smp->stored_height != sc->first_h) {
        sc->same = 0;
    }
    if (smp->channels == 3)
        sc->any_color = 1;
    int side = smp->stored_width < smp->stored_height ? smp->stored_width
                                                      : smp->stored_height;
    if (side > sc->max_short_side)
        sc->max_short_side = side;
    sc->n++;
    return 0;
}

int
dataset_choose_side(int all_same_square, int common_side, int max_short_side)
{
    if (all_same_square && common_side <= DATASET_SQUARE_MAX_SIDE)
        return common_side;
    return max_short_side < DATASET_PHOTO_SIDE ? max_short_side
                                               : DATASET_PHOTO_SIDE;
}

/* The centre square of a non-square image, its side the shorter one; a
 * square image is left alone (out untouched, returns 0 with *im_io as is),
 * so square sets load exactly as they did before crops. */
static int
crop_centre(const struct image **im_io, struct image *out, char **cause)
{
    const struct image *src = *im_io;
    if (src->width == src->height)
        return 0;
    int m = src->width < src->height ? src->width : src->height;
    if (image_alloc(out, m, m, src->channels, cause) != 0)
        return -1;
    size_t row = (size_t)m * (size_t)src->channels;
    size_t x0 = (size_t)(src->width - m) / 2,
           y0 = (size_t)(src->height - m) / 2;
    for (size_t y = 0; y < (size_t)m; y++)
        memcpy(out->pixels + y * row,
               src->pixels +
                   ((y0 + y) * (size_t)src->width + x0) * (size_t)src->channels,
               row);
    *im_io = out;
    return 0;
}

struct fill {
    struct dataset *d;
    int64_t i;
};

static int
fill_one(void *ctx, const struct store_sample *smp, char **cause)
{
    struct fill *f = ctx;
    struct dataset *d = f->d;
    if (f->i >= d->n)
        return wn_fail(cause, "samples changed while loading");
    int s = d->side;
    struct image src = {
        .width = smp->stored_width,
        .height = smp->stored_height,
        .channels = smp->channels,
        .pixels = (uint8_t *)(uintptr_t)smp->pixels,
    };
    struct image square = {0}, sized = {0};
    const struct image *im = &src;
    if (crop_centre(&im, &square, cause) != 0)
        return -1;
    if (im->width != s) {
        if (image_resize(im, s, s, &sized, cause) != 0) {
            image_fini(&square);
            return -1;
        }
        im = &sized;
    }
    uint8_t *dst = d->pixels + (size_t)f->i * (size_t)d->c * (size_t)s * s;
    size_t plane = (size_t)s * s;
    for (int ch = 0; ch < d->c; ch++) {
        /* Gray samples in a colour set are repeated on every channel. */
        int from = im->channels == 1 ? 0 : ch;
        const uint8_t *p = im->pixels + from;
        uint8_t *q = dst + (size_t)ch * plane;
        for (size_t k = 0; k < plane; k++)
            q[k] = p[k * (size_t)im->channels];
    }
    image_fini(&square);
    image_fini(&sized);
    if (smp->label < 0 || smp->label >= d->k)
        return wn_fail(cause, "sample %lld has label %d outside 0..%d",
                       (long long)smp->id, smp->label, d->k - 1);
    d->label[f->i] = smp->label;
    d->given[f->i] = smp->given_label;
    d->trusted[f->i] = (uint8_t)(smp->human != 0);
    d->sample_id[f->i] = smp->id;
    f->i++;
    return 0;
}

int
dataset_load(struct store *s, int side, struct dataset *out, char **cause)
{
    memset(out, 0, sizeof *out);
    struct scan sc = {0};
    if (store_foreach_sample(s, scan_one, &sc, cause) != 0)
        return -1;
    if (sc.n == 0)
        return wn_fail(cause, "the project has no samples (winnow import "
                              "first)");
    int k;
    if (store_class_count(s, &k, cause) != 0)
        return -1;
    if (k < 2)
        return wn_fail(cause,
                       "the project has %d class; scoring needs at "
                       "least 2",
                       k);
    out->n = sc.n;
    out->k = k;
    out->c = sc.any_color ? 3 : 1;
    out->side = side > 0
                    ? side
                    : dataset_choose_side(sc.same && sc.first_w == sc.first_h,
                                          sc.first_w, sc.max_short_side);
    size_t per = (size_t)out->c * (size_t)out->side * (size_t)out->side;
    size_t bytes;
    if (wn_mul_size(per, (size_t)sc.n, &bytes) != 0 ||
        (out->pixels = malloc(bytes)) == NULL)
        return wn_fail(cause, "not enough memory for %lld images of %dx%dx%d",
                       (long long)sc.n, out->c, out->side, out->side);
    out->label = xcalloc((size_t)sc.n, sizeof *out->label);
    out->given = xcalloc((size_t)sc.n, sizeof *out->given);
    out->trusted = xcalloc((size_t)sc.n, sizeof *out->trusted);
    out->sample_id = xcalloc((size_t)sc.n, sizeof *out->sample_id);
    struct fill f = {.d = out};
    if (store_foreach_sample(s, fill_one, &f, cause) != 0 || f.i != sc.n) {
        if (f.i != sc.n && cause != NULL && *cause == NULL)
            *cause = xstrdup("samples changed while loading");
        dataset_fini(out);
        return -1;
    }
    /* Channel statistics in double: 10^8 bytes summed in float would lose
     * the low digits. */
    size_t plane = (size_t)out->side * (size_t)out->side;
    for (int ch = 0; ch < out->c; ch++) {
        double sum = 0, sq = 0;
        for (int64_t i = 0; i < out->n; i++) {
            const uint8_t *p = out->pixels + (size_t)i * per + ch * plane;
            uint64_t s1 = 0, s2 = 0;
            for (size_t k2 = 0; k2 < plane; k2++) {
                s1 += p[k2];
                s2 += (uint64_t)p[k2] * p[k2];
            }
            sum += (double)s1;
            sq += (double)s2;
        }
        double cnt = (double)out->n * (double)plane;
        double mean = sum / cnt;
        double var = sq / cnt - mean * mean;
        out->mean[ch] = (float)mean;
        out->std[ch] = (float)(var > DATASET_MIN_VARIANCE ? sqrt(var) : 1.0);
    }
    return 0;
}

void
dataset_fini(struct dataset *d)
{
    free(d->pixels);
    free(d->label);
    free(d->given);
    free(d->trusted);
    free(d->sample_id);
    memset(d, 0, sizeof *d);
}

void
dataset_batch(const struct dataset *d, const int32_t *idx, int bn, int pad,
              int flip, struct rng *r, float *x, int *y)
{
    int c = d->c, s = d->side;
    size_t plane = (size_t)s * s;
    float scale[3], shift[3];
    for (int ch = 0; ch < c; ch++) {
        scale[ch] = 1.0f / d->std[ch];
        shift[ch] = -d->mean[ch] / d->std[ch];
    }
    for (int b = 0; b < bn; b++) {
        const uint8_t *src = d->pixels + (size_t)idx[b] * (size_t)c * plane;
        float *dst = x + (size_t)b * (size_t)c * plane;
        int dx = 0, dy = 0, mirror = 0;
        if (pad > 0) {
            dx = (int)rng_below(r, (uint32_t)(2 * pad + 1)) - pad;
            dy = (int)rng_below(r, (uint32_t)(2 * pad + 1)) - pad;
        }
        if (flip)
            mirror = (int)(rng_u32(r) >> 31);
        for (int ch = 0; ch < c; ch++) {
            const uint8_t *sp = src + (size_t)ch * plane;
            float *dp = dst + (size_t)ch * plane;
            float zero = shift[ch]; /* a padded (black) pixel */
            for (int yy = 0; yy < s; yy++) {
                int sy = yy + dy;
                float *row = dp + (size_t)yy * s;
                if (sy < 0 || sy >= s) {
                    for (int xx = 0; xx < s; xx++)
                        row[xx] = zero;
                    continue;
                }
                const uint8_t *srow = sp + (size_t)sy * s;
                for (int xx = 0; xx < s; xx++) {
                    int sx = (mirror ? s - 1 - xx : xx) + dx;
                    row[xx] = sx < 0 || sx >= s
                                  ? zero
                                  : (float)srow[sx] * scale[ch] + shift[ch];
                }
            }
        }
        y[b] = d->label[idx[b]];
    }
}
