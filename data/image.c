/* data/image.c: the one entry to decoding (sniffing the format, then the
 * codec, then the EXIF orientation), the pixel helpers the codecs share,
 * and the two resamplers.
 *
 * The format is told by the file's first bytes, never by its name: photo
 * collections hold JPEGs named .png and PNGs named .jpg, and a name says
 * nothing about a file cut short. A file shorter than a signature but
 * agreeing with it as far as it goes counts as that format, so a cut-off
 * file is reported as truncated rather than as not an image.
 *
 * Nothing here is global, so threads can decode at once. */
#include "config.h"

#include "data/image.h"

#include <stdlib.h>
#include <string.h>

#include "data/base.h"
#include "data/image_internal.h"

/* Largest file image_read will load (as image_read_png). */
#define IMAGE_FILE_MAX ((size_t)256 << 20)

/* ------------------------------------------------------------------ */
/* Sniffing and dispatch */

/* Whether buf starts with magic, or with as much of it as buf holds (at
 * least two bytes: one byte says nothing). */
static int
image_magic(const unsigned char *buf, size_t len, const char *magic,
            size_t mlen)
{
    size_t n = len < mlen ? len : mlen;
    return n >= 2 && memcmp(buf, magic, n) == 0;
}

enum image_format
image_sniff(const void *buf, size_t len)
{
    const unsigned char *b = buf;
    if (image_magic(b, len, "\x89PNG\r\n\x1a\n", 8))
        return IMAGE_FORMAT_PNG;
    /* SOI, then the first marker's 0xFF. */
    if (image_magic(b, len, "\xff\xd8\xff", 3))
        return IMAGE_FORMAT_JPEG;
    /* RIFF is a family (WAV, AVI): only its WEBP member is ours, and a
     * RIFF file too short to say which is taken as a cut WebP. */
    if (image_magic(b, len, "RIFF", 4) &&
        (len < 12 || memcmp(b + 8, "WEBP", 4) == 0))
        return IMAGE_FORMAT_WEBP;
    return IMAGE_FORMAT_UNKNOWN;
}

const char *
image_format_name(enum image_format f)
{
    switch (f) {
    case IMAGE_FORMAT_PNG: return "PNG";
    case IMAGE_FORMAT_JPEG: return "JPEG";
    case IMAGE_FORMAT_WEBP: return "WebP";
    case IMAGE_FORMAT_UNKNOWN: break;
    }
    return "unknown";
}

int
image_decode(const void *buf, size_t len, int min_side, struct image *out,
             struct image_info *info, char **cause)
{
    struct image_info local;
    if (info == NULL)
        info = &local;
    memset(info, 0, sizeof *info);
    memset(out, 0, sizeof *out);
    if (len == 0)
        return wn_fail(cause, "empty file");
    info->format = image_sniff(buf, len);
    info->orientation = 1;
    int rc;
    switch (info->format) {
    case IMAGE_FORMAT_PNG:
        rc = image_decode_png(buf, len, out, cause);
        if (rc == 0) {
            info->width = out->width;
            info->height = out->height;
        }
        return rc;
    case IMAGE_FORMAT_JPEG:
        rc = image_decode_jpeg(buf, len, min_side, out, info, cause);
        break;
    case IMAGE_FORMAT_WEBP:
        rc = image_decode_webp(buf, len, out, info, cause);
        break;
    default: return wn_fail(cause, "not an image (PNG, JPEG or WebP)");
    }
    if (rc != 0)
        return -1;
    /* Before anyone else sees the pixels: hashes, sizes and thumbnails
     * are all of the upright photo. */
    if (image_orient(out, info->orientation, cause) != 0) {
        image_fini(out);
        return -1;
    }
    if (info->orientation >= 5) {
        int w = info->width;
        info->width = info->height;
        info->height = w;
    }
    return 0;
}

int
image_read(const char *path, struct image *out, char **cause)
{
    unsigned char *buf;
    size_t len;
    char *why = NULL;
    memset(out, 0, sizeof *out);
    if (wn_read_file(path, IMAGE_FILE_MAX, &buf, &len, cause) != 0)
        return -1;
    int rc = image_decode(buf, len, 0, out, NULL, &why);
    free(buf);
    if (rc != 0) {
        wn_fail(cause, "%s: %s", path, why);
        free(why);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* Pixel helpers for the codecs */

/* Composite gray+alpha or RGBA (n pixels) down to gray or RGB in place. */
void
image_composite(uint8_t *px, size_t n, int channels)
{
    if (channels == 1) {
        for (size_t i = 0; i < n; i++)
            px[i] = (uint8_t)image_over_bg(px[2 * i], px[2 * i + 1]);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned r = px[4 * i], g = px[4 * i + 1], b = px[4 * i + 2];
        unsigned a = px[4 * i + 3];
        px[3 * i] = (uint8_t)image_over_bg(r, a);
        px[3 * i + 1] = (uint8_t)image_over_bg(g, a);
        px[3 * i + 2] = (uint8_t)image_over_bg(b, a);
    }
}

int
image_valid(const struct image *im)
{
    return im != NULL && im->pixels != NULL && im->width >= 1 &&
           im->height >= 1 && (im->channels == 1 || im->channels == 3) &&
           !image_too_large((uint32_t)im->width, (uint32_t)im->height);
}

/* EXIF orientation n says how the stored rows must be turned to stand the
 * photo upright. For the upright pixel (x, y), the stored pixel is:
 *   1 (x, y)            2 (W-1-x, y)        mirrored
 *   3 (W-1-x, H-1-y)    rotated 180         4 (x, H-1-y)  flipped
 *   5 (y, x)            transposed          6 (y, H-1-x)  turn 90 clockwise
 *   7 (W-1-y, H-1-x)    transversed         8 (W-1-y, x)  turn 90 counter-
 * where W x H is the stored size; 5..8 swap width and height. One pass
 * reading the source with a step per output pixel and a step per row. */
int
image_orient(struct image *im, int orientation, char **cause)
{
    if (orientation < 2 || orientation > 8)
        return 0;
    int w = im->width, h = im->height, c = im->channels;
    int swap = orientation >= 5;
    struct image out;
    if (image_alloc(&out, swap ? h : w, swap ? w : h, c, cause) != 0)
        return -1;
    /* Source offset of upright (0, 0), and the source steps (in pixels)
     * for x + 1 and for y + 1. */
    ptrdiff_t W = w, H = h, start, dx, dy;
    switch (orientation) {
    case 2:
        start = W - 1;
        dx = -1;
        dy = W;
        break;
    case 3:
        start = W * H - 1;
        dx = -1;
        dy = -W;
        break;
    case 4:
        start = (H - 1) * W;
        dx = 1;
        dy = -W;
        break;
    case 5:
        start = 0;
        dx = W;
        dy = 1;
        break;
    case 6:
        start = (H - 1) * W;
        dx = -W;
        dy = 1;
        break;
    case 7:
        start = W * H - 1;
        dx = -W;
        dy = -1;
        break;
    default:
        start = W - 1;
        dx = W;
        dy = -1;
        break; /* 8 */
    }
    uint8_t *o = out.pixels;
    const uint8_t *src = im->pixels;
    for (int y = 0; y < out.height; y++) {
        ptrdiff_t s = start + dy * y;
        for (int x = 0; x < out.width; x++, s += dx)
            for (int k = 0; k < c; k++)
                *o++ = src[s * c + k];
    }
    image_fini(im);
    *im = out;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Buffers and resampling */

int
image_alloc(struct image *im, int width, int height, int channels, char **cause)
{
    memset(im, 0, sizeof *im);
    if (width < 1 || height < 1 || (channels != 1 && channels != 3))
        return wn_fail(cause, "invalid image size %dx%dx%d", width, height,
                       channels);
    if (image_too_large((uint32_t)width, (uint32_t)height))
        return wn_fail(cause, "image too large: %dx%d", width, height);
    size_t n;
    if (wn_mul_size((size_t)width * (size_t)height, (size_t)channels, &n) != 0)
        return wn_fail(cause, "image too large: %dx%d", width, height);
    im->pixels = malloc(n);
    if (im->pixels == NULL)
        return wn_fail(cause, "out of memory (%zu bytes)", n);
    im->width = width;
    im->height = height;
    im->channels = channels;
    return 0;
}

void
image_fini(struct image *im)
{
    if (im == NULL)
        return;
    free(im->pixels);
    memset(im, 0, sizeof *im);
}

static int
image_copy(const struct image *src, struct image *out, char **cause)
{
    if (image_alloc(out, src->width, src->height, src->channels, cause) != 0)
        return -1;
    memcpy(out->pixels, src->pixels,
           (size_t)src->width * (size_t)src->height * (size_t)src->channels);
    return 0;
}

/* Which source samples feed each output sample along one axis, and how
 * much: output i reads ntap[i] samples from first[i] on, with weights
 * w[i * maxtap ...], which sum to 1. */
struct image_taps {
    int *first, *ntap;
    float *w;
    int maxtap;
};

static void
image_taps_fini(struct image_taps *t)
{
    free(t->first);
    free(t->ntap);
    free(t->w);
}

/* Build the taps for resampling s samples to t. Shrinking averages areas:
 * output i covers the source span [i s / t, (i + 1) s / t), and each source
 * sample weighs by its overlap, computed exactly in units of 1 / t.
 * Enlarging is bilinear with pixel centres aligned and edges clamped. Sizes
 * are at most IMAGE_MAX_SIDE, so the tables are bookkeeping-sized. */
static void
image_taps_init(struct image_taps *tp, int s, int t)
{
    tp->maxtap = t < s ? (s + t - 1) / t + 1 : 2;
    tp->first = xcalloc((size_t)t, sizeof *tp->first);
    tp->ntap = xcalloc((size_t)t, sizeof *tp->ntap);
    tp->w = xcalloc((size_t)t * (size_t)tp->maxtap, sizeof *tp->w);
    for (int i = 0; i < t; i++) {
        float *w = tp->w + (size_t)i * (size_t)tp->maxtap;
        if (t == s) {
            tp->first[i] = i;
            tp->ntap[i] = 1;
            w[0] = 1.0f;
        } else if (t < s) {
            int64_t a = (int64_t)i * s, b = (int64_t)(i + 1) * s;
            int j0 = (int)(a / t), j1 = (int)((b - 1) / t);
            tp->first[i] = j0;
            tp->ntap[i] = j1 - j0 + 1;
            for (int j = j0; j <= j1; j++) {
                int64_t lo = (int64_t)j * t, hi = lo + t;
                int64_t ov = (hi < b ? hi : b) - (lo > a ? lo : a);
                w[j - j0] = (float)ov / (float)s;
            }
        } else {
            float x = ((float)i + 0.5f) * (float)s / (float)t - 0.5f;
            if (x < 0.0f)
                x = 0.0f;
            int j = (int)x;
            if (j >= s - 1) {
                tp->first[i] = s - 1;
                tp->ntap[i] = 1;
                w[0] = 1.0f;
            } else {
                float f = x - (float)j;
                tp->first[i] = j;
                tp->ntap[i] = 2;
                w[0] = 1.0f - f;
                w[1] = f;
            }
        }
    }
}

int
image_resize(const struct image *src, int width, int height, struct image *out,
             char **cause)
{
    memset(out, 0, sizeof *out);
    if (!image_valid(src))
        return wn_fail(cause, "invalid image");
    if (width < 1 || height < 1)
        return wn_fail(cause, "invalid image size %dx%d", width, height);
    if (width == src->width && height == src->height)
        return image_copy(src, out, cause);
    if (image_alloc(out, width, height, src->channels, cause) != 0)
        return -1;

    int c = src->channels, sw = src->width, sh = src->height;
    size_t tmp_n, row_n = (size_t)width * (size_t)c;
    /* Horizontal pass into floats (sh rows of width x c), then vertical
     * straight into the output, one accumulator row at a time. */
    if (wn_mul_size(row_n, (size_t)sh + 1, &tmp_n) != 0 ||
        wn_mul_size(tmp_n, sizeof(float), &tmp_n) != 0) {
        image_fini(out);
        return wn_fail(cause, "image too large: %dx%d", width, height);
    }
    float *tmp = malloc(tmp_n);
    if (tmp == NULL) {
        image_fini(out);
        return wn_fail(cause, "out of memory (%zu bytes)", tmp_n);
    }
    float *acc = tmp + row_n * (size_t)sh;

    struct image_taps tx, ty;
    image_taps_init(&tx, sw, width);
    image_taps_init(&ty, sh, height);

    for (int y = 0; y < sh; y++) {
        const uint8_t *srow = src->pixels + (size_t)y * (size_t)sw * c;
        float *trow = tmp + (size_t)y * row_n;
        for (int x = 0; x < width; x++) {
            const float *w = tx.w + (size_t)x * (size_t)tx.maxtap;
            const uint8_t *s = srow + (size_t)tx.first[x] * c;
            int nt = tx.ntap[x];
            for (int k = 0; k < c; k++) {
                float v = 0.0f;
                for (int j = 0; j < nt; j++)
                    v += w[j] * (float)s[j * c + k];
                trow[(size_t)x * c + k] = v;
            }
        }
    }
    for (int y = 0; y < height; y++) {
        const float *w = ty.w + (size_t)y * (size_t)ty.maxtap;
        const float *t0 = tmp + (size_t)ty.first[y] * row_n;
        for (size_t i = 0; i < row_n; i++)
            acc[i] = w[0] * t0[i];
        for (int j = 1; j < ty.ntap[y]; j++) {
            const float *tj = t0 + (size_t)j * row_n;
            for (size_t i = 0; i < row_n; i++)
                acc[i] += w[j] * tj[i];
        }
        uint8_t *orow = out->pixels + (size_t)y * row_n;
        for (size_t i = 0; i < row_n; i++) {
            float v = acc[i] + 0.5f;
            orow[i] = v <= 0.0f ? 0 : v >= 255.0f ? 255 : (uint8_t)v;
        }
    }
    image_taps_fini(&tx);
    image_taps_fini(&ty);
    free(tmp);
    return 0;
}

int
image_fit(const struct image *src, int max_side, struct image *out,
          char **cause)
{
    memset(out, 0, sizeof *out);
    if (!image_valid(src))
        return wn_fail(cause, "invalid image");
    if (max_side < 1)
        return wn_fail(cause, "invalid maximum side %d", max_side);
    int w = src->width, h = src->height;
    if (w <= max_side && h <= max_side)
        return image_copy(src, out, cause);
    /* The longest side becomes max_side exactly; the other keeps the
     * aspect ratio, rounded, and never drops to zero. */
    int nw, nh;
    if (w >= h) {
        nw = max_side;
        nh = (int)(((int64_t)h * max_side + w / 2) / w);
    } else {
        nh = max_side;
        nw = (int)(((int64_t)w * max_side + h / 2) / h);
    }
    if (nw < 1)
        nw = 1;
    if (nh < 1)
        nh = 1;
    return image_resize(src, nw, nh, out, cause);
}
