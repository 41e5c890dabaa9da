/* data/image_png.c: the PNG codec, the only file that sees libpng.
 *
 * Decoding reads from memory through png_set_read_fn over a cursor and asks
 * libpng for whole images (png_read_image over row pointers), so the only
 * per-pixel loops are ours and they run once over the finished buffer.
 * Errors arrive through our own error function, which copies libpng's
 * message into the decoder state and longjmps back; warnings are dropped.
 * All state that must survive the longjmp (allocations, the message) lives
 * in a struct owned by the caller of the function that calls setjmp, so
 * nothing the C standard leaves indeterminate after a longjmp is ever read
 * and no local needs to be volatile.
 *
 * Every variant is normalised to 8 bits by libpng itself (gray 1/2/4 bits
 * are scaled, 1 -> 255, 2-bit 1 -> 85; 16 bits are rounded, v -> round(v /
 * 257), so 0xABCD -> 0xAB and 0x12FF -> 0x13), except two steps we do
 * ourselves because they are cheaper and exact our way:
 *
 * - palettes are read as one index per byte (into the tail of the RGB
 *   buffer, then expanded forwards in place) through a 256-entry table
 *   whose entries are already composited with their tRNS alpha; indices
 *   beyond the palette are refused, where libpng would only warn and paint
 *   them black;
 * - alpha (real or from tRNS) is composited on IMAGE_ALPHA_BACKGROUND in
 *   place, c' = round((c * a + bg * (255 - a)) / 255), after the 16 -> 8
 *   rounding. No gamma: samples are treated as the numbers they are.
 *
 * Ancillary chunks other than tRNS are skipped unread (colour profiles and
 * text cost time and only produce warnings we would drop). Sizes are
 * checked twice before anything image-sized is allocated: from the raw
 * IHDR bytes, so the cause can name the claimed size, and again after
 * png_read_info, with png_set_user_limits as libpng's own backstop.
 *
 * Nothing here is global, so threads can decode at once. */
#include "config.h"

#include "data/image.h"

#include <errno.h>
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/image_internal.h"

/* Largest PNG file image_read_png will load. */
#define IMAGE_FILE_MAX ((size_t)256 << 20)

/* ------------------------------------------------------------------ */
/* Causes */

/* libpng messages are sentence-cased ("Not a PNG file", "Read Error",
 * "IDAT: CRC error"). Lower-case the words that are merely capitalised,
 * keep acronyms and chunk names, and drop a trailing period. */
static char *
image_cause_from(const char *msg)
{
    char *s = xstrdup(msg[0] != '\0' ? msg : "unknown libpng error");
    int word_start = 1;
    for (char *p = s; *p != '\0'; p++) {
        if (word_start && *p >= 'A' && *p <= 'Z') {
            char *q = p + 1;
            while (*q >= 'a' && *q <= 'z')
                q++;
            /* Capitalised word: upper-case letter then only lower case. */
            if (q > p + 1 &&
                !((*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9')))
                *p = (char)(*p - 'A' + 'a');
        }
        word_start = *p == ' ' || *p == ':' || *p == '(' || *p == '-';
    }
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == '.' || s[n - 1] == ' ' || s[n - 1] == '\n'))
        s[--n] = '\0';
    return s;
}

static void
image_png_error(png_structp png, png_const_charp msg)
{
    char *buf = png_get_error_ptr(png);
    snprintf(buf, IMAGE_MSG_LEN, "%s", msg != NULL ? msg : "");
    png_longjmp(png, 1);
}

static void
image_png_warning(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg;
}

/* ------------------------------------------------------------------ */
/* Decoding */

struct image_dec {
    const unsigned char *buf; /* the PNG */
    size_t len, pos;
    png_structp png;
    png_infop info;
    png_bytep *rows;
    uint8_t *px; /* pixel buffer; becomes the image's on success */
    int width, height, channels;
    char msg[IMAGE_MSG_LEN]; /* libpng's error, or ours */
};

static void
image_png_read(png_structp png, png_bytep data, size_t n)
{
    struct image_dec *d = png_get_io_ptr(png);
    if (n > d->len - d->pos)
        png_error(png, "truncated PNG data");
    memcpy(data, d->buf + d->pos, n);
    d->pos += n;
}

static uint32_t
image_be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           (uint32_t)p[3];
}

/* Expand palette indices (one per byte, at px + 2 * n) to RGB at px. Going
 * forwards is safe: pixel i is written to [3i, 3i + 2], below index
 * 2n + i + 1, the first one not yet read. Returns nonzero if an index lies
 * beyond the palette. */
static int
image_expand_palette(uint8_t *px, size_t n, const uint8_t table[256][3],
                     unsigned npal)
{
    const uint8_t *src = px + 2 * n;
    unsigned bad = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned v = src[i];
        bad |= v >= npal;
        px[3 * i] = table[v][0];
        px[3 * i + 1] = table[v][1];
        px[3 * i + 2] = table[v][2];
    }
    return bad != 0;
}

/* The work between png_read_info and the finished pixels. Any libpng call
 * may longjmp out of here; everything allocated is recorded in d first. */
static void
image_decode_body(struct image_dec *d)
{
    png_structp png = d->png;
    png_infop info = d->info;

    png_read_info(png, info);
    png_uint_32 w, h;
    int depth, ctype, interlace;
    png_get_IHDR(png, info, &w, &h, &depth, &ctype, &interlace, NULL, NULL);
    if (image_too_large(w, h)) {
        snprintf(d->msg, sizeof d->msg, "image too large: %lux%lu",
                 (unsigned long)w, (unsigned long)h);
        png_longjmp(png, 1);
    }

    int palette = ctype == PNG_COLOR_TYPE_PALETTE;
    int channels = (ctype & PNG_COLOR_MASK_COLOR) ? 3 : 1;
    int alpha = (ctype & PNG_COLOR_MASK_ALPHA) != 0;
    uint8_t table[256][3];
    unsigned npal = 0;

    if (palette) {
        png_colorp pal = NULL;
        int num = 0;
        if (!png_get_PLTE(png, info, &pal, &num) || num <= 0)
            png_error(png, "missing PLTE");
        png_bytep trans = NULL;
        int ntrans = 0;
        if (png_get_valid(png, info, PNG_INFO_tRNS))
            png_get_tRNS(png, info, &trans, &ntrans, NULL);
        memset(table, 0, sizeof table);
        npal = (unsigned)(num > 256 ? 256 : num);
        for (unsigned i = 0; i < npal; i++) {
            unsigned a = (int)i < ntrans ? trans[i] : 255u;
            table[i][0] = (uint8_t)image_over_bg(pal[i].red, a);
            table[i][1] = (uint8_t)image_over_bg(pal[i].green, a);
            table[i][2] = (uint8_t)image_over_bg(pal[i].blue, a);
        }
        if (depth < 8)
            png_set_packing(png);
    } else {
        if (depth < 8)
            png_set_expand_gray_1_2_4_to_8(png);
        if (png_get_valid(png, info, PNG_INFO_tRNS)) {
            png_set_tRNS_to_alpha(png);
            alpha = 1;
        }
        if (depth == 16)
            png_set_scale_16(png);
    }
    png_set_interlace_handling(png);
    png_read_update_info(png, info);

    /* Samples per pixel as libpng will deliver them. */
    size_t in_ch = palette ? 1 : (size_t)channels + (alpha ? 1 : 0);
    size_t n = (size_t)w * h; /* <= IMAGE_MAX_PIXELS, no overflow */
    size_t stride = (size_t)w * in_ch;
    if (png_get_rowbytes(png, info) != stride)
        png_error(png, "unexpected PNG row layout");
    size_t in_bytes = n * in_ch, out_bytes = n * (size_t)channels;
    size_t bytes = in_bytes > out_bytes ? in_bytes : out_bytes;
    /* Palette indices go at the tail so they expand forwards in place. */
    size_t at = palette ? 2 * n : 0;

    d->px = malloc(bytes);
    d->rows = malloc((size_t)h * sizeof *d->rows);
    if (d->px == NULL || d->rows == NULL)
        png_error(png, "out of memory");
    for (png_uint_32 y = 0; y < h; y++)
        d->rows[y] = d->px + at + (size_t)y * stride;
    png_read_image(png, d->rows);
    /* Reading to IEND checks the last CRCs and the zlib trailer, so a
     * file cut after its pixel data is still refused. */
    png_read_end(png, NULL);

    if (palette) {
        if (image_expand_palette(d->px, n, (const uint8_t(*)[3])table, npal))
            png_error(png, "palette index out of range");
    } else if (alpha) {
        image_composite(d->px, n, channels);
        uint8_t *p = realloc(d->px, out_bytes);
        if (p != NULL)
            d->px = p;
    }
    d->width = (int)w;
    d->height = (int)h;
    d->channels = channels;
}

/* Holds the setjmp and nothing else, so no local can be clobbered. */
static int
image_decode_guarded(struct image_dec *d)
{
    if (setjmp(png_jmpbuf(d->png)))
        return -1;
    image_decode_body(d);
    return 0;
}

int
image_decode_png(const void *buf, size_t len, struct image *out, char **cause)
{
    const unsigned char *b = buf;
    memset(out, 0, sizeof *out);
    if (len == 0)
        return wn_fail(cause, "empty file");
    if (png_sig_cmp(b, 0, len < 8 ? len : 8) != 0)
        return wn_fail(cause, "not a PNG file");
    if (len < 8)
        return wn_fail(cause, "truncated PNG data");
    /* Name the claimed size before libpng gets to refuse it vaguely. */
    if (len >= 24 && memcmp(b + 12, "IHDR", 4) == 0) {
        uint32_t w = image_be32(b + 16), h = image_be32(b + 20);
        if (w >= 1 && h >= 1 && w <= PNG_UINT_31_MAX && h <= PNG_UINT_31_MAX &&
            image_too_large(w, h))
            return wn_fail(cause, "image too large: %lux%lu", (unsigned long)w,
                           (unsigned long)h);
    }

    struct image_dec d;
    memset(&d, 0, sizeof d);
    d.buf = b;
    d.len = len;
    d.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, d.msg,
                                   image_png_error, image_png_warning);
    if (d.png == NULL)
        return wn_fail(cause, "out of memory");
    d.info = png_create_info_struct(d.png);
    if (d.info == NULL) {
        png_destroy_read_struct(&d.png, NULL, NULL);
        return wn_fail(cause, "out of memory");
    }
    png_set_read_fn(d.png, &d, image_png_read);
    png_set_user_limits(d.png, IMAGE_MAX_SIDE, IMAGE_MAX_SIDE);
    /* Benign errors (odd ICC profiles and the like) stay warnings. */
    png_set_benign_errors(d.png, 1);
    /* Skip every ancillary chunk but tRNS (IHDR, PLTE, IDAT and IEND are
     * always processed). */
    png_set_keep_unknown_chunks(d.png, PNG_HANDLE_CHUNK_NEVER, NULL, -1);

    int rc = image_decode_guarded(&d);
    free(d.rows);
    png_destroy_read_struct(&d.png, &d.info, NULL);
    if (rc != 0) {
        free(d.px);
        if (cause != NULL)
            *cause = image_cause_from(d.msg);
        return -1;
    }
    out->width = d.width;
    out->height = d.height;
    out->channels = d.channels;
    out->pixels = d.px;
    return 0;
}

int
image_read_png(const char *path, struct image *out, char **cause)
{
    unsigned char *buf;
    size_t len;
    char *why = NULL;
    memset(out, 0, sizeof *out);
    if (wn_read_file(path, IMAGE_FILE_MAX, &buf, &len, cause) != 0)
        return -1;
    int rc = image_decode_png(buf, len, out, &why);
    free(buf);
    if (rc != 0) {
        wn_fail(cause, "%s: %s", path, why);
        free(why);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* Encoding */

struct image_enc {
    png_structp png;
    png_infop info;
    png_bytep *rows;
    unsigned char *buf;
    size_t len, cap;
    char msg[IMAGE_MSG_LEN];
};

static void
image_png_write(png_structp png, png_bytep data, size_t n)
{
    struct image_enc *e = png_get_io_ptr(png);
    if (n > e->cap - e->len) {
        size_t cap = e->cap ? e->cap : 4096;
        while (cap - e->len < n) {
            if (cap > SIZE_MAX / 2)
                png_error(png, "out of memory");
            cap *= 2;
        }
        unsigned char *p = realloc(e->buf, cap);
        if (p == NULL)
            png_error(png, "out of memory");
        e->buf = p;
        e->cap = cap;
    }
    memcpy(e->buf + e->len, data, n);
    e->len += n;
}

static void
image_png_flush(png_structp png)
{
    (void)png;
}

static void
image_encode_body(struct image_enc *e, const struct image *im)
{
    png_set_write_fn(e->png, e, image_png_write, image_png_flush);
    png_set_IHDR(e->png, e->info, (png_uint_32)im->width,
                 (png_uint_32)im->height, 8,
                 im->channels == 1 ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    e->rows = malloc((size_t)im->height * sizeof *e->rows);
    if (e->rows == NULL)
        png_error(e->png, "out of memory");
    size_t stride = (size_t)im->width * (size_t)im->channels;
    for (int y = 0; y < im->height; y++)
        e->rows[y] = im->pixels + (size_t)y * stride;
    png_write_info(e->png, e->info);
    png_write_image(e->png, e->rows);
    png_write_end(e->png, NULL);
}

static int
image_encode_guarded(struct image_enc *e, const struct image *im)
{
    if (setjmp(png_jmpbuf(e->png)))
        return -1;
    image_encode_body(e, im);
    return 0;
}

int
image_encode_png(const struct image *im, void **buf_out, size_t *len_out,
                 char **cause)
{
    *buf_out = NULL;
    *len_out = 0;
    if (!image_valid(im))
        return wn_fail(cause, "invalid image");
    struct image_enc e;
    memset(&e, 0, sizeof e);
    e.png = png_create_write_struct(PNG_LIBPNG_VER_STRING, e.msg,
                                    image_png_error, image_png_warning);
    if (e.png == NULL)
        return wn_fail(cause, "out of memory");
    e.info = png_create_info_struct(e.png);
    if (e.info == NULL) {
        png_destroy_write_struct(&e.png, NULL);
        return wn_fail(cause, "out of memory");
    }
    int rc = image_encode_guarded(&e, im);
    free(e.rows);
    png_destroy_write_struct(&e.png, &e.info);
    if (rc != 0) {
        free(e.buf);
        if (cause != NULL)
            *cause = image_cause_from(e.msg);
        return -1;
    }
    *buf_out = e.buf;
    *len_out = e.len;
    return 0;
}

int
image_write_png(const char *path, const struct image *im, char **cause)
{
    void *buf;
    size_t len;
    char *why = NULL;
    if (image_encode_png(im, &buf, &len, &why) != 0) {
        wn_fail(cause, "%s: %s", path, why);
        free(why);
        return -1;
    }
    FILE *f = fopen(path, "wb");
    if (f == NULL) {
        int err = errno;
        free(buf);
        return wn_fail(cause, "%s: %s", path, strerror(err));
    }
    int bad = fwrite(buf, 1, len, f) != len;
    int err = errno;
    if (fclose(f) != 0 && !bad) {
        bad = 1;
        err = errno;
    }
    free(buf);
    if (bad)
        return wn_fail(cause, "%s: %s", path, strerror(err));
    return 0;
}
