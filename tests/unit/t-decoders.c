/* tests/unit/t-decoders.c: JPEG and WebP behind image_decode, the sniffing
 * that picks the decoder, and the EXIF orientation.
 *
 * Every input is written here with libjpeg and libwebp (tests/fixtures.c).
 * JPEG being lossy, pixels are compared within a tolerance, on flat
 * colour blocks aligned to the 16-pixel MCUs where the exact layout
 * matters (orientation, CMYK); lossless WebP is compared exactly. The
 * orientation cases are checked against stored layouts written out by
 * hand below, not against the decoder's own mapping. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/base.h"
#include "data/exif.h"
#include "data/image.h"
#include "tests/fixtures.h"
#include "tests/tap.h"

/* Six colours far apart, A..F, for the 3 x 2 block pattern. */
static const uint8_t t_colour[6][3] = {
    {220, 30, 30},  {30, 200, 40},  {40, 60, 220},
    {230, 220, 40}, {30, 210, 220}, {210, 40, 200},
};

#define BLOCK 16

/* A picture of cols x rows blocks, block (bx, by) of colour
 * layout[by * cols + bx] (an index into t_colour). New buffer, RGB. */
static uint8_t *
t_blocks(int cols, int rows, const int *layout)
{
    int w = cols * BLOCK, h = rows * BLOCK;
    uint8_t *px = xmalloc((size_t)w * (size_t)h * 3);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            const uint8_t *c = t_colour[layout[(y / BLOCK) * cols + x / BLOCK]];
            memcpy(px + ((size_t)y * (size_t)w + (size_t)x) * 3, c, 3);
        }
    return px;
}

/* Whether block (bx, by)'s centre in im is colour k, within tol. */
static int
t_block_is(const struct image *im, int bx, int by, int k, int tol)
{
    int x = bx * BLOCK + BLOCK / 2, y = by * BLOCK + BLOCK / 2;
    if (x >= im->width || y >= im->height || im->channels != 3)
        return 0;
    const uint8_t *p = im->pixels + ((size_t)y * (size_t)im->width + x) * 3;
    for (int i = 0; i < 3; i++)
        if (abs((int)p[i] - (int)t_colour[k][i]) > tol)
            return 0;
    return 1;
}

static double
t_mean_abs_diff(const uint8_t *a, const uint8_t *b, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += abs((int)a[i] - (int)b[i]);
    return n ? s / (double)n : 0;
}

/* A smooth gradient that JPEG keeps well: channels 1 or 3. */
static uint8_t *
t_smooth(int w, int h, int c)
{
    uint8_t *px = xmalloc((size_t)w * (size_t)h * (size_t)c);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int k = 0; k < c; k++)
                px[((size_t)y * w + x) * c + k] =
                    (uint8_t)(x * 150 / w + y * 60 / h + k * 20);
    return px;
}

static void
test_sniff(void)
{
    ok(image_sniff("\x89PNG\r\n\x1a\n....", 12) == IMAGE_FORMAT_PNG, "PNG");
    ok(image_sniff("\xff\xd8\xff\xe0", 4) == IMAGE_FORMAT_JPEG, "JPEG");
    ok(image_sniff("RIFF\0\0\0\0WEBPVP8 ", 16) == IMAGE_FORMAT_WEBP, "WebP");
    ok(image_sniff("RIFF\0\0\0\0WAVEfmt ", 16) == IMAGE_FORMAT_UNKNOWN,
       "a WAV file is RIFF but not ours");
    ok(image_sniff("\x89PN", 3) == IMAGE_FORMAT_PNG &&
           image_sniff("\xff\xd8", 2) == IMAGE_FORMAT_JPEG &&
           image_sniff("RIFF\1\0", 6) == IMAGE_FORMAT_WEBP,
       "a file cut inside its signature still counts as its format");
    ok(image_sniff("\xff", 1) == IMAGE_FORMAT_UNKNOWN &&
           image_sniff("GIF89a", 6) == IMAGE_FORMAT_UNKNOWN &&
           image_sniff("\xff\xd8\x00", 3) == IMAGE_FORMAT_UNKNOWN,
       "one byte, GIF, SOI without a marker: unknown");

    struct image im;
    char *cause = NULL;
    ok(image_decode("hello, text\n", 12, 0, &im, NULL, &cause) == -1 &&
           im.pixels == NULL,
       "text is refused");
    is_str(cause, "not an image (PNG, JPEG or WebP)");
    free(cause);
    cause = NULL;
    ok(image_decode("", 0, 0, &im, NULL, &cause) == -1, "empty is refused");
    is_str(cause, "empty file");
    free(cause);
    is_str(image_format_name(IMAGE_FORMAT_WEBP), "WebP");
}

/* Decode a JPEG of px and compare: mean error within tol. */
static void
t_jpeg_round(const char *what, int w, int h, int c, const struct fx_jpeg_opt *o,
             double tol)
{
    uint8_t *px = t_smooth(w, h, c);
    size_t len;
    unsigned char *jpg = fx_jpeg_mem(px, w, h, c, o, &len);
    struct image im;
    struct image_info info;
    char *cause = NULL;
    int rc = image_decode(jpg, len, 0, &im, &info, &cause);
    ok(rc == 0 && im.width == w && im.height == h && im.channels == c &&
           info.format == IMAGE_FORMAT_JPEG && info.width == w &&
           info.height == h && info.orientation == 1,
       "%s: decodes as %dx%d, %d channel(s)", what, w, h, c);
    if (rc != 0)
        diag("cause: %s", cause);
    else {
        double d = t_mean_abs_diff(im.pixels, px, (size_t)w * h * c);
        ok(d < tol, "%s: pixels within %.1f on average (%.2f)", what, tol, d);
    }
    free(cause);
    image_fini(&im);
    free(jpg);
    free(px);
}

static void
test_jpeg_kinds(void)
{
    struct fx_jpeg_opt base = {90, 0, 0, 0, 0, 0};
    struct fx_jpeg_opt prog = {90, 1, 0, 0, 0, 0};
    t_jpeg_round("baseline RGB", 64, 48, 3, &base, 3.0);
    t_jpeg_round("progressive RGB", 64, 48, 3, &prog, 3.0);
    t_jpeg_round("baseline gray", 50, 37, 1, &base, 2.0);
    t_jpeg_round("progressive gray", 37, 50, 1, &prog, 2.0);
    t_jpeg_round("odd size (partial MCUs)", 33, 17, 3, &base, 4.0);
}

/* CMYK as ink amounts; written inverted when Adobe (as Photoshop does). */
static void
test_jpeg_cmyk(void)
{
    /* Ink (C, M, Y, K) per block and the RGB expected from it, worked
     * out by hand as (255 - ink)(255 - K) / 255. */
    static const uint8_t ink[4][4] = {
        {0, 255, 255, 0}, /* red */
        {255, 0, 255, 0}, /* green */
        {0, 0, 0, 128},   /* 50% gray: 127 */
        {0, 0, 0, 0},     /* white */
    };
    static const uint8_t want[4][3] = {
        {255, 0, 0}, {0, 255, 0}, {127, 127, 127}, {255, 255, 255}};
    static const struct {
        const char *what;
        int ycck, no_adobe;
    } kinds[] = {
        {"Adobe CMYK (inverted)", 0, 0},
        {"Adobe YCCK", 1, 0},
        {"plain CMYK (no Adobe marker)", 0, 1},
    };
    int w = 4 * BLOCK, h = BLOCK;
    for (size_t k = 0; k < WN_ARRAY_LEN(kinds); k++) {
        int inverted = !kinds[k].no_adobe;
        uint8_t *px = xmalloc((size_t)w * h * 4);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                for (int i = 0; i < 4; i++) {
                    uint8_t v = ink[x / BLOCK][i];
                    px[((size_t)y * w + x) * 4 + i] =
                        (uint8_t)(inverted ? 255 - v : v);
                }
        struct fx_jpeg_opt o = {95, 0, 0, kinds[k].ycck, kinds[k].no_adobe, 0};
        size_t len;
        unsigned char *jpg = fx_jpeg_mem(px, w, h, 4, &o, &len);
        struct image im;
        char *cause = NULL;
        int rc = image_decode(jpg, len, 0, &im, NULL, &cause);
        ok(rc == 0 && im.channels == 3 && im.width == w && im.height == h,
           "%s decodes to RGB", kinds[k].what);
        int good = rc == 0;
        for (int b = 0; b < 4 && good; b++) {
            const uint8_t *p =
                im.pixels + ((size_t)(BLOCK / 2) * w + b * BLOCK + 8) * 3;
            for (int i = 0; i < 3; i++)
                if (abs((int)p[i] - (int)want[b][i]) > 8) {
                    diag("%s block %d: got %d %d %d", kinds[k].what, b, p[0],
                         p[1], p[2]);
                    good = 0;
                    break;
                }
        }
        ok(good, "%s: red, green, gray, white come out as such", kinds[k].what);
        free(cause);
        image_fini(&im);
        free(jpg);
        free(px);
    }
}

/* The upright picture is 3 x 2 blocks:   A B C
 *                                        D E F
 * and for each EXIF orientation, the stored picture that a camera writes
 * for it, worked out by hand (5..8 are 2 blocks wide and 3 high). */
static const struct {
    int cols, rows;
    int layout[6];
} t_stored[9] = {
    [1] = {3, 2, {0, 1, 2, 3, 4, 5}}, /* as is */
    [2] = {3, 2, {2, 1, 0, 5, 4, 3}}, /* mirrored left-right */
    [3] = {3, 2, {5, 4, 3, 2, 1, 0}}, /* upside down */
    [4] = {3, 2, {3, 4, 5, 0, 1, 2}}, /* mirrored top-bottom */
    [5] = {2, 3, {0, 3, 1, 4, 2, 5}}, /* transposed */
    [6] = {2, 3, {2, 5, 1, 4, 0, 3}}, /* turned left: needs a right turn */
    [7] = {2, 3, {5, 2, 4, 1, 3, 0}}, /* transversed */
    [8] = {2, 3, {3, 0, 4, 1, 5, 2}}, /* turned right: needs a left turn */
};

static int
t_upright(const struct image *im, int tol)
{
    if (im->width != 3 * BLOCK || im->height != 2 * BLOCK)
        return 0;
    for (int k = 0; k < 6; k++)
        if (!t_block_is(im, k % 3, k / 3, k, tol))
            return 0;
    return 1;
}

static void
test_orientation(void)
{
    for (int o = 1; o <= 8; o++) {
        int cols = t_stored[o].cols, rows = t_stored[o].rows;
        uint8_t *px = t_blocks(cols, rows, t_stored[o].layout);
        int w = cols * BLOCK, h = rows * BLOCK;
        struct fx_jpeg_opt opt = {95, o == 6, o, 0, 0, 0};
        size_t len;
        unsigned char *jpg = fx_jpeg_mem(px, w, h, 3, &opt, &len);
        struct image im;
        struct image_info info;
        char *cause = NULL;
        int rc = image_decode(jpg, len, 0, &im, &info, &cause);
        ok(rc == 0 && info.orientation == o && info.width == 3 * BLOCK &&
               info.height == 2 * BLOCK && t_upright(&im, 24),
           "JPEG with EXIF orientation %d (%s-endian) decodes upright", o,
           o % 2 == 0 ? "big" : "little");
        free(cause);
        image_fini(&im);
        free(jpg);

        /* WebP's EXIF chunk; lossless, so the colours are exact. */
        unsigned char *webp = fx_webp_mem(px, w, h, 3, 1, o, &len);
        cause = NULL;
        rc = image_decode(webp, len, 0, &im, &info, &cause);
        ok(rc == 0 && info.format == IMAGE_FORMAT_WEBP &&
               info.orientation == o && t_upright(&im, 0),
           "WebP with an EXIF chunk, orientation %d, decodes upright", o);
        if (rc != 0)
            diag("cause: %s", cause);
        free(cause);
        image_fini(&im);
        free(webp);
        free(px);
    }
}

static void
test_exif_parser(void)
{
    /* IFD0 with Orientation 6, big endian, after "Exif\0\0". */
    unsigned char b[32] = "Exif\0\0MM\0\x2a\0\0\0\x08\0\x01\x01\x12\0\x03"
                          "\0\0\0\x01\0\x06\0\0\0\0\0\0";
    ok(exif_orientation(b, 32) == 6, "big-endian block: 6");
    ok(exif_orientation(b + 6, 26) == 6, "without the Exif prefix: 6");
    ok(exif_orientation(b, 25) == 1, "entry cut short: upright");
    unsigned char c[32];
    memcpy(c, b, 32);
    c[25] = 9;
    ok(exif_orientation(c, 32) == 1, "value 9: upright");
    memcpy(c, b, 32);
    c[19] = 4; /* LONG, not SHORT */
    ok(exif_orientation(c, 32) == 1, "wrong type: upright");
    memcpy(c, b, 32);
    c[13] = 0xf0; /* IFD beyond the block */
    ok(exif_orientation(c, 32) == 1, "IFD offset past the end: upright");
    memcpy(c, b, 32);
    c[14] = 0xff; /* 65280 entries claimed */
    ok(exif_orientation(c, 32) == 6, "a count past the end reads what is "
                                     "there");
    memcpy(c, b, 32);
    c[13] = 0; /* IFD inside the header */
    ok(exif_orientation(c, 32) == 1, "IFD offset inside the header: upright");
    ok(exif_orientation("Exif\0\0", 6) == 1 && exif_orientation("", 0) == 1,
       "empty blocks: upright");
}

static void
test_dct_scaling(void)
{
    int w = 800, h = 600;
    uint8_t *px = t_smooth(w, h, 3);
    size_t len;
    unsigned char *jpg = fx_jpeg_mem(px, w, h, 3, NULL, &len);
    static const struct {
        int min_side, want_w, want_h;
    } cases[] = {
        {0, 800, 600},   {64, 100, 75},   {100, 100, 75},  {101, 200, 150},
        {150, 200, 150}, {201, 300, 225}, {799, 800, 600}, {5000, 800, 600},
    };
    struct image full;
    char *cause = NULL;
    ok(image_decode(jpg, len, 0, &full, NULL, &cause) == 0, "full decode");
    for (size_t i = 0; i < WN_ARRAY_LEN(cases); i++) {
        struct image im;
        struct image_info info;
        int rc = image_decode(jpg, len, cases[i].min_side, &im, &info, &cause);
        ok(rc == 0 && im.width == cases[i].want_w &&
               im.height == cases[i].want_h && info.width == w &&
               info.height == h,
           "min_side %d: decoded at %dx%d (got %dx%d), full size 800x600",
           cases[i].min_side, cases[i].want_w, cases[i].want_h, im.width,
           im.height);
        image_fini(&im);
    }
    /* Scaled and then shrunk as import does: the same picture as from the
     * full decode. */
    struct image im, a, b;
    ok(image_decode(jpg, len, 64, &im, NULL, &cause) == 0 &&
           image_fit(&im, 64, &a, &cause) == 0 &&
           image_fit(&full, 64, &b, &cause) == 0 && a.width == b.width &&
           a.height == b.height,
       "scaled then fitted has the size of full then fitted");
    double d =
        t_mean_abs_diff(a.pixels, b.pixels, (size_t)a.width * a.height * 3);
    ok(d < 2.0, "and nearly the same pixels (mean difference %.2f)", d);
    image_fini(&im);
    image_fini(&a);
    image_fini(&b);
    image_fini(&full);
    free(jpg);

    /* Orientation 6 with scaling: the longest side is what counts. */
    struct fx_jpeg_opt o6 = {90, 0, 6, 0, 0, 0};
    jpg = fx_jpeg_mem(px, w, h, 3, &o6, &len);
    struct image_info info;
    ok(image_decode(jpg, len, 64, &im, &info, &cause) == 0 && im.width == 75 &&
           im.height == 100 && info.width == 600 && info.height == 800,
       "orientation 6 at 1/8: 75x100 of a 600x800 photo");
    image_fini(&im);
    free(jpg);
    free(px);
    free(cause);
}

static void
test_jpeg_truncated(void)
{
    uint8_t *px = t_smooth(48, 40, 3);
    struct fx_jpeg_opt kinds[2] = {{90, 0, 0, 0, 0, 0}, {90, 1, 0, 0, 0, 0}};
    for (int k = 0; k < 2; k++) {
        size_t len;
        unsigned char *jpg = fx_jpeg_mem(px, 48, 40, 3, &kinds[k], &len);
        int all = 1;
        for (size_t cut = 2; cut < len; cut++) {
            struct image im;
            char *cause = NULL;
            int rc = image_decode(jpg, cut, 0, &im, NULL, &cause);
            if (rc != -1 || cause == NULL ||
                strcmp(cause, "truncated JPEG data") != 0 ||
                im.pixels != NULL) {
                diag("cut at %zu of %zu: rc %d, cause %s", cut, len, rc,
                     cause ? cause : "(none)");
                all = 0;
            }
            free(cause);
            image_fini(&im);
        }
        ok(all, "%s JPEG cut at every byte: \"truncated JPEG data\"",
           k ? "progressive" : "baseline");
        /* Cut inside the image data, then closed with an EOI as if
         * complete: rows are owed when the marker comes. */
        unsigned char *closed = xmalloc(len);
        size_t at = len * 3 / 5;
        memcpy(closed, jpg, at);
        closed[at] = 0xff;
        closed[at + 1] = 0xd9;
        struct image cim;
        char *why = NULL;
        ok(image_decode(closed, at + 2, 0, &cim, NULL, &why) == -1 &&
               cim.pixels == NULL,
           "%s JPEG cut, then closed with EOI, is refused",
           k ? "progressive" : "baseline");
        ok(why != NULL &&
               (strcmp(why, "truncated JPEG data") == 0 ||
                strcmp(why, "corrupt JPEG data: premature end of data "
                            "segment") == 0),
           "as truncated or as data ending early (%s)", why ? why : "-");
        free(why);
        free(closed);

        /* As PNG without IEND: the end marker is part of the file. */
        struct image im;
        char *cause = NULL;
        ok(image_decode(jpg, len - 2, 0, &im, NULL, &cause) == -1 &&
               cause != NULL && strcmp(cause, "truncated JPEG data") == 0,
           "%s JPEG missing only its EOI marker: truncated too",
           k ? "progressive" : "baseline");
        free(cause);
        image_fini(&im);
        free(jpg);
    }
    free(px);
}

/* Found by fuzz-jpeg: 283 bytes whose image data ends at the EOI marker
 * while libjpeg owes 58 million pixels, which it would make up as gray
 * (a third of a second, ten under ASan). */
static void
test_data_ends_early(void)
{
    const char *env = getenv("TESTS_SRCDIR");
    char *path = env != NULL && *env != '\0'
                     ? xasprintf("%s/data/bad/%s", env,
                                 "jpeg-283-bytes-claim-9752x5926.jpg")
                     : xstrdup("tests/data/bad/"
                               "jpeg-283-bytes-claim-9752x5926.jpg");
    struct image im;
    char *cause = NULL;
    ok(image_read(path, &im, &cause) == -1 && im.pixels == NULL,
       "a 283-byte JPEG claiming 9752x5926 is refused");
    char *want = xasprintf("%s: corrupt JPEG data: premature end of data "
                           "segment",
                           path);
    is_str(cause, want);
    free(want);
    free(cause);
    free(path);
}

static void
test_many_scans(void)
{
    uint8_t *px = t_smooth(16, 16, 3);
    struct fx_jpeg_opt o = {90, 0, 0, 0, 0, 1};
    size_t len;
    unsigned char *jpg = fx_jpeg_mem(px, 16, 16, 3, &o, &len);
    struct image im;
    char *cause = NULL;
    ok(image_decode(jpg, len, 0, &im, NULL, &cause) == -1,
       "a progressive JPEG of 568 scans is refused");
    is_str(cause, "corrupt JPEG data: more than 500 scans");
    free(cause);
    free(jpg);
    free(px);
}

static void
test_too_large(void)
{
    uint8_t *px = t_smooth(16, 16, 3);
    size_t len;
    unsigned char *jpg = fx_jpeg_mem(px, 16, 16, 3, NULL, &len);
    /* SOF0's height and width follow FF C0, length (2), precision (1). */
    unsigned char *sof = NULL;
    for (size_t i = 0; i + 9 < len && sof == NULL; i++)
        if (jpg[i] == 0xff && jpg[i + 1] == 0xc0)
            sof = jpg + i;
    ok(sof != NULL, "the fixture has a SOF0");
    if (sof != NULL) {
        sof[5] = 20000 >> 8;
        sof[6] = 20000 & 255;
        sof[7] = 20000 >> 8;
        sof[8] = 20000 & 255;
        struct image im;
        char *cause = NULL;
        ok(image_decode(jpg, len, 0, &im, NULL, &cause) == -1,
           "a JPEG header of 20000x20000 is refused");
        is_str(cause, "image too large: 20000x20000");
        free(cause);
    }
    free(jpg);

    unsigned char *webp = fx_webp_mem(px, 16, 16, 3, 0, 0, &len);
    ok(len > 30 && memcmp(webp + 12, "VP8 ", 4) == 0 &&
           memcmp(webp + 23, "\x9d\x01\x2a", 3) == 0,
       "the lossy WebP fixture is a simple VP8 file");
    /* 14-bit width and height after the start code: 16383 x 16383. */
    webp[26] = 0xff;
    webp[27] = 0x3f;
    webp[28] = 0xff;
    webp[29] = 0x3f;
    struct image im;
    char *cause = NULL;
    ok(image_decode(webp, len, 0, &im, NULL, &cause) == -1,
       "a WebP header of 16383x16383 is refused");
    is_str(cause, "image too large: 16383x16383");
    free(cause);
    free(webp);
    free(px);
}

static void
test_webp(void)
{
    int w = 24, h = 20;
    uint8_t *rgba = xmalloc((size_t)w * h * 4);
    uint8_t *rgb = xmalloc((size_t)w * h * 3);
    fx_pixels(rgba, w, h, 4, 7);
    for (size_t i = 0; i < (size_t)w * h; i++) {
        rgba[4 * i + 3] = (uint8_t)(i * 37); /* every alpha value shows up */
        memcpy(rgb + 3 * i, rgba + 4 * i, 3);
    }
    size_t len;
    struct image im;
    char *cause = NULL;

    unsigned char *webp = fx_webp_mem(rgb, w, h, 3, 1, 0, &len);
    ok(image_decode(webp, len, 0, &im, NULL, &cause) == 0 && im.width == w &&
           im.height == h && im.channels == 3 &&
           memcmp(im.pixels, rgb, (size_t)w * h * 3) == 0,
       "lossless RGB WebP decodes exactly");
    image_fini(&im);
    free(webp);

    webp = fx_webp_mem(rgba, w, h, 4, 1, 0, &len);
    int rc = image_decode(webp, len, 0, &im, NULL, &cause);
    int exact = rc == 0 && im.channels == 3;
    for (size_t i = 0; exact && i < (size_t)w * h; i++)
        for (int k = 0; k < 3; k++) {
            unsigned c = rgba[4 * i + k], a = rgba[4 * i + 3];
            unsigned want = (c * a + 255u * (255u - a) + 127u) / 255u;
            if (im.pixels[3 * i + k] != want)
                exact = 0;
        }
    ok(exact, "lossless RGBA WebP: alpha composited on white, exactly");
    image_fini(&im);

    /* Cut anywhere: a clear cause, never pixels. */
    int all = 1;
    for (size_t cut = 2; cut < len; cut++) {
        char *why = NULL;
        if (image_decode(webp, cut, 0, &im, NULL, &why) != -1 || why == NULL ||
            strcmp(why, "truncated WebP data") != 0) {
            if (all)
                diag("cut at %zu of %zu: %s", cut, len, why ? why : "ok");
            all = 0;
        }
        free(why);
        image_fini(&im);
    }
    ok(all, "lossless WebP cut at every byte: \"truncated WebP data\"");
    free(webp);

    uint8_t *smooth = t_smooth(w, h, 3);
    webp = fx_webp_mem(smooth, w, h, 3, 0, 0, &len);
    rc = image_decode(webp, len, 0, &im, NULL, &cause);
    ok(rc == 0 && im.channels == 3 &&
           t_mean_abs_diff(im.pixels, smooth, (size_t)w * h * 3) < 4.0,
       "lossy RGB WebP decodes close to its source");
    free(smooth);
    image_fini(&im);
    char *why = NULL;
    ok(image_decode(webp, len / 2, 0, &im, NULL, &why) == -1,
       "lossy WebP cut in half is refused");
    is_str(why, "truncated WebP data");
    free(why);
    free(webp);

    webp = fx_webp_mem(rgba, w, h, 4, 0, 0, &len);
    ok(image_decode(webp, len, 0, &im, NULL, &cause) == 0 && im.channels == 3,
       "lossy RGBA WebP decodes to RGB");
    image_fini(&im);
    free(webp);
    free(rgba);
    free(rgb);
    free(cause);
}

/* By content, not by name: a JPEG and a WebP named .png, a PNG named
 * .jpg, all read through image_read. */
static void
test_by_content(void)
{
    char *dir = fx_tmpdir("decoders");
    uint8_t *px = t_smooth(20, 10, 3);
    size_t len;
    unsigned char *jpg = fx_jpeg_mem(px, 20, 10, 3, NULL, &len);
    char *p = fx_path(dir, "photo.png");
    fx_write(p, jpg, len);
    struct image im;
    char *cause = NULL;
    ok(image_read(p, &im, &cause) == 0 && im.width == 20 && im.height == 10,
       "a JPEG named .png is read as a JPEG");
    image_fini(&im);
    free(p);
    free(jpg);

    unsigned char *webp = fx_webp_mem(px, 20, 10, 3, 1, 0, &len);
    p = fx_path(dir, "photo.PNG");
    fx_write(p, webp, len);
    ok(image_read(p, &im, &cause) == 0 && im.width == 20,
       "a WebP named .PNG is read as a WebP");
    image_fini(&im);
    free(p);
    free(webp);

    p = fx_path(dir, "x.jpg");
    fx_png(p, 5, 4, 1, 3);
    ok(image_read(p, &im, &cause) == 0 && im.channels == 1 && im.width == 5,
       "a PNG named .jpg is read as a PNG");
    image_fini(&im);
    free(p);

    p = fx_path(dir, "notes.webp");
    fx_write(p, "RIFF\x04\0\0\0WAVE", 12);
    char *want = xasprintf("%s: not an image (PNG, JPEG or WebP)", p);
    ok(image_read(p, &im, &cause) == -1, "a WAV named .webp is refused");
    is_str(cause, want);
    free(want);
    free(cause);
    free(p);
    free(px);
    fx_rmtree(dir);
    free(dir);
}

int
main(void)
{
    test_sniff();
    test_jpeg_kinds();
    test_jpeg_cmyk();
    test_orientation();
    test_exif_parser();
    test_dct_scaling();
    test_jpeg_truncated();
    test_data_ends_early();
    test_many_scans();
    test_too_large();
    test_webp();
    test_by_content();
    return done_testing();
}
