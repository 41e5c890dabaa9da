/* tests/unit/t-image.c: the PNG codec and the resamplers.
 *
 * The test writes its own PNGs with libpng, one for every colour type and
 * bit depth PNG allows, interlaced and not, with and without tRNS, from
 * known samples, and computes the expected 8-bit pixels independently:
 *
 *   low bit depths scale to 255 (1-bit 1 -> 255, 2-bit 1 -> 85, 4-bit 1
 *   -> 17); 16 bits round, v -> round(v / 257) = (v * 255 + 32767) / 65535
 *   (0xABCD -> 0xAB, 0x12FF -> 0x13, not the truncating 0x12); alpha is
 *   composited after that rounding on white: c' = (c a + 255 (255 - a) +
 *   127) / 255; a tRNS colour match is alpha 0; palettes always give RGB.
 *
 * Then: encode/decode round trips, every PNG in tests/data/bad (which must
 * fail with a cause naming the file), every truncation and a bit flip at
 * every offset of valid files (must fail cleanly or decode sanely; leaks
 * show under the sanitizer build), several threads decoding at once, and
 * image_fit/image_resize on inputs small enough to work out by hand. */
#include "config.h"

#include <dirent.h>
#include <png.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/base.h"
#include "data/image.h"
#include "tests/fixtures.h"
#include "tests/tap.h"

/* ------------------------------------------------------------------ */
/* Writing test PNGs with libpng directly */

struct tbuf {
    unsigned char *p;
    size_t len, cap;
};

static void
t_write_fn(png_structp png, png_bytep data, size_t n)
{
    struct tbuf *b = png_get_io_ptr(png);
    wn_grow(&b->p, 1, &b->cap, b->len + n);
    memcpy(b->p + b->len, data, n);
    b->len += n;
}

static void
t_flush_fn(png_structp png)
{
    (void)png;
}

struct tpng {
    int w, h, depth, ctype, interlace;
    const uint16_t *samples; /* w * h * t_spp(ctype), raw sample values */
    int npal;                /* palette: npal entries of pal (RGB) */
    const uint8_t *pal;
    int ntrans; /* palette tRNS: alpha of the first ntrans entries */
    const uint8_t *trans;
    int trns_color; /* gray/RGB tRNS: the transparent colour */
    uint16_t trns[3];
    int text; /* add tEXt and gAMA chunks, which must be ignored */
};

static int
t_spp(int ctype)
{
    switch (ctype) {
    case PNG_COLOR_TYPE_GRAY:
    case PNG_COLOR_TYPE_PALETTE: return 1;
    case PNG_COLOR_TYPE_GRAY_ALPHA: return 2;
    case PNG_COLOR_TYPE_RGB: return 3;
    default: return 4;
    }
}

static void
t_png_body(png_structp png, png_infop info, const struct tpng *t,
           png_bytep *rows)
{
    png_set_IHDR(png, info, (png_uint_32)t->w, (png_uint_32)t->h, t->depth,
                 t->ctype,
                 t->interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (t->ctype == PNG_COLOR_TYPE_PALETTE) {
        png_color pal[256];
        for (int i = 0; i < t->npal; i++) {
            pal[i].red = t->pal[3 * i];
            pal[i].green = t->pal[3 * i + 1];
            pal[i].blue = t->pal[3 * i + 2];
        }
        png_set_PLTE(png, info, pal, t->npal);
        if (t->ntrans > 0)
            png_set_tRNS(png, info, t->trans, t->ntrans, NULL);
    } else if (t->trns_color) {
        png_color_16 c;
        memset(&c, 0, sizeof c);
        c.gray = t->trns[0];
        c.red = t->trns[0];
        c.green = t->trns[1];
        c.blue = t->trns[2];
        png_set_tRNS(png, info, NULL, 0, &c);
    }
    if (t->text) {
        char key[] = "Comment", text[] = "ignored by the decoder";
        png_text txt;
        memset(&txt, 0, sizeof txt);
        txt.compression = PNG_TEXT_COMPRESSION_NONE;
        txt.key = key;
        txt.text = text;
        png_set_text(png, info, &txt, 1);
        png_set_gAMA_fixed(png, info, 45455);
    }
    png_write_info(png, info);
    png_write_image(png, rows);
    png_write_end(png, info);
}

/* Encode t as a PNG; dies on failure (the test, not the code under test). */
static unsigned char *
t_png(const struct tpng *t, size_t *len_out)
{
    int spp = t_spp(t->ctype);
    size_t stride = ((size_t)t->w * (size_t)spp * (size_t)t->depth + 7) / 8;
    unsigned char *data = xcalloc((size_t)t->h, stride);
    png_bytep *rows = xcalloc((size_t)t->h, sizeof *rows);
    for (int y = 0; y < t->h; y++) {
        unsigned char *row = data + (size_t)y * stride;
        rows[y] = row;
        for (int i = 0; i < t->w * spp; i++) {
            unsigned v = t->samples[(size_t)y * t->w * spp + i];
            if (t->depth == 16) {
                row[2 * i] = (unsigned char)(v >> 8);
                row[2 * i + 1] = (unsigned char)v;
            } else if (t->depth == 8) {
                row[i] = (unsigned char)v;
            } else {
                int bit = i * t->depth;
                row[bit / 8] |= (unsigned char)(v << (8 - t->depth - bit % 8));
            }
        }
    }
    struct tbuf b = {NULL, 0, 0};
    png_structp png =
        png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    if (png == NULL || info == NULL)
        bail("png_create_write_struct failed");
    if (setjmp(png_jmpbuf(png)))
        bail("libpng failed writing a test PNG");
    png_set_write_fn(png, &b, t_write_fn, t_flush_fn);
    t_png_body(png, info, t, rows);
    png_destroy_write_struct(&png, &info);
    free(rows);
    free(data);
    *len_out = b.len;
    return b.p;
}

/* ------------------------------------------------------------------ */
/* Expected pixels, worked out independently of the decoder */

static unsigned
t_to8(unsigned v, int depth)
{
    if (depth == 16)
        return (v * 255u + 32767u) / 65535u;
    return v * 255u / ((1u << depth) - 1u);
}

static unsigned
t_over(unsigned c, unsigned a)
{
    return (c * a + 255u * (255u - a) + 127u) / 255u;
}

static void
t_expect(const struct tpng *t, uint8_t *out)
{
    int spp = t_spp(t->ctype);
    int color = (t->ctype & PNG_COLOR_MASK_COLOR) != 0;
    int ch = color ? 3 : 1;
    for (int i = 0; i < t->w * t->h; i++) {
        const uint16_t *s = t->samples + (size_t)i * spp;
        unsigned c[3], a = 255;
        if (t->ctype == PNG_COLOR_TYPE_PALETTE) {
            for (int k = 0; k < 3; k++)
                c[k] = t->pal[3 * s[0] + k];
            if (s[0] < t->ntrans)
                a = t->trans[s[0]];
        } else {
            for (int k = 0; k < ch; k++)
                c[k] = t_to8(s[k], t->depth);
            if (t->ctype & PNG_COLOR_MASK_ALPHA)
                a = t_to8(s[ch], t->depth);
            if (t->trns_color) {
                int match = 1;
                for (int k = 0; k < ch; k++)
                    match &= s[k] == t->trns[k];
                if (match)
                    a = 0;
            }
        }
        for (int k = 0; k < ch; k++)
            out[(size_t)i * ch + k] = (uint8_t)t_over(c[k], a);
    }
}

/* xorshift, so the samples are varied but repeatable. */
static uint32_t
t_rand(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

/* Fill a tpng's samples (and palette, tRNS) for one variant. */
struct tvariant {
    struct tpng t;
    uint16_t *samples;
    uint8_t pal[256 * 3], trans[256];
};

static void
t_variant(struct tvariant *v, int w, int h, int ctype, int depth, int interlace,
          int trns, uint32_t seed)
{
    memset(v, 0, sizeof *v);
    struct tpng *t = &v->t;
    t->w = w;
    t->h = h;
    t->ctype = ctype;
    t->depth = depth;
    t->interlace = interlace;
    int spp = t_spp(ctype);
    size_t n = (size_t)w * h * spp;
    v->samples = xcalloc(n, sizeof *v->samples);
    uint32_t s = seed * 2654435761u + 1u;
    unsigned max = depth == 16 ? 65535u : (1u << depth) - 1u;
    if (ctype == PNG_COLOR_TYPE_PALETTE) {
        /* Fewer entries than indices allow, except at 1 bit. */
        t->npal = depth == 1 ? 2 : depth == 8 ? 200 : (int)max;
        for (int i = 0; i < 3 * t->npal; i++)
            v->pal[i] = (uint8_t)t_rand(&s);
        if (trns) {
            t->ntrans = t->npal > 2 ? t->npal / 2 + 1 : 1;
            for (int i = 0; i < t->ntrans; i++)
                v->trans[i] = (uint8_t)(i == 0 ? 0 : t_rand(&s));
            v->trans[t->ntrans - 1] = 255;
            if (t->ntrans > 2)
                v->trans[1] = 128;
        }
        t->pal = v->pal;
        t->trans = v->trans;
        for (size_t i = 0; i < n; i++)
            v->samples[i] = (uint16_t)(t_rand(&s) % (unsigned)t->npal);
    } else {
        for (size_t i = 0; i < n; i++)
            v->samples[i] = (uint16_t)(t_rand(&s) & max);
        /* Hit the ends of the range, which scaling must map exactly. */
        v->samples[0] = 0;
        if (n > 1)
            v->samples[n - 1] = (uint16_t)max;
        if (trns) {
            /* The colour of pixel 0 (black) and of every third pixel. */
            t->trns_color = 1;
            for (int i = 0; i < w * h; i += 3)
                for (int k = 0; k < spp; k++)
                    v->samples[(size_t)i * spp + k] = 0;
            if (w * h > 1)
                for (int k = 0; k < spp; k++)
                    v->samples[(size_t)spp + k] = (uint16_t)(max / 3);
        }
    }
    t->samples = v->samples;
}

static int
t_check_decode(const struct tpng *t, const char *what)
{
    size_t len;
    unsigned char *png = t_png(t, &len);
    int ch = (t->ctype & PNG_COLOR_MASK_COLOR) ? 3 : 1;
    size_t n = (size_t)t->w * t->h * ch;
    uint8_t *want = xmalloc(n);
    t_expect(t, want);
    struct image im;
    char *cause = NULL;
    int good = 0;
    if (image_decode_png(png, len, &im, &cause) != 0) {
        diag("%s: decode failed: %s", what, cause);
        free(cause);
    } else if (im.width != t->w || im.height != t->h || im.channels != ch) {
        diag("%s: got %dx%dx%d, want %dx%dx%d", what, im.width, im.height,
             im.channels, t->w, t->h, ch);
    } else {
        good = 1;
        for (size_t i = 0; i < n; i++)
            if (im.pixels[i] != want[i]) {
                diag("%s: byte %zu is %u, want %u", what, i, im.pixels[i],
                     want[i]);
                good = 0;
                break;
            }
    }
    image_fini(&im);
    free(want);
    free(png);
    return good;
}

static const char *
t_ctype_name(int ctype)
{
    switch (ctype) {
    case PNG_COLOR_TYPE_GRAY: return "gray";
    case PNG_COLOR_TYPE_GRAY_ALPHA: return "gray+alpha";
    case PNG_COLOR_TYPE_RGB: return "rgb";
    case PNG_COLOR_TYPE_PALETTE: return "palette";
    default: return "rgba";
    }
}

/* Every colour type and bit depth PNG allows, interlaced or not, with tRNS
 * where it applies, at sizes that leave Adam7 passes empty and bytes half
 * full. */
static void
test_variants(void)
{
    static const struct {
        int ctype, depth;
    } kinds[] = {
        {PNG_COLOR_TYPE_GRAY, 1},        {PNG_COLOR_TYPE_GRAY, 2},
        {PNG_COLOR_TYPE_GRAY, 4},        {PNG_COLOR_TYPE_GRAY, 8},
        {PNG_COLOR_TYPE_GRAY, 16},       {PNG_COLOR_TYPE_RGB, 8},
        {PNG_COLOR_TYPE_RGB, 16},        {PNG_COLOR_TYPE_PALETTE, 1},
        {PNG_COLOR_TYPE_PALETTE, 2},     {PNG_COLOR_TYPE_PALETTE, 4},
        {PNG_COLOR_TYPE_PALETTE, 8},     {PNG_COLOR_TYPE_GRAY_ALPHA, 8},
        {PNG_COLOR_TYPE_GRAY_ALPHA, 16}, {PNG_COLOR_TYPE_RGBA, 8},
        {PNG_COLOR_TYPE_RGBA, 16},
    };
    static const int sizes[][2] = {{13, 7}, {1, 1}, {3, 17}, {64, 5}};
    for (size_t k = 0; k < WN_ARRAY_LEN(kinds); k++) {
        int ctype = kinds[k].ctype, depth = kinds[k].depth;
        int can_trns = !(ctype & PNG_COLOR_MASK_ALPHA);
        for (int interlace = 0; interlace <= 1; interlace++)
            for (int trns = 0; trns <= can_trns; trns++) {
                char what[80];
                snprintf(what, sizeof what, "%s %d-bit%s%s",
                         t_ctype_name(ctype), depth,
                         interlace ? " interlaced" : "",
                         trns ? " with tRNS" : "");
                int good = 1;
                for (size_t s = 0; s < WN_ARRAY_LEN(sizes); s++) {
                    struct tvariant v;
                    t_variant(&v, sizes[s][0], sizes[s][1], ctype, depth,
                              interlace, trns, (uint32_t)(k * 7 + s + 1));
                    v.t.text = s == 0;
                    good &= t_check_decode(&v.t, what);
                    free(v.samples);
                }
                ok(good, "%s decodes to the expected pixels", what);
            }
    }
}

/* Decode a one-row gray image of the given depth and samples. */
static int
t_decode_row(int depth, int ctype, const uint16_t *samples, int w,
             struct image *im)
{
    struct tpng t;
    memset(&t, 0, sizeof t);
    t.w = w;
    t.h = 1;
    t.depth = depth;
    t.ctype = ctype;
    t.samples = samples;
    size_t len;
    unsigned char *png = t_png(&t, &len);
    char *cause = NULL;
    int rc = image_decode_png(png, len, im, &cause);
    if (rc != 0)
        diag("decode: %s", cause);
    free(cause);
    free(png);
    return rc;
}

/* The scaling rules spelled out, then checked over every 16-bit value and
 * every gray/alpha pair. */
static void
test_scaling(void)
{
    struct image im;
    static const uint16_t one[] = {1, 0};
    if (t_decode_row(1, PNG_COLOR_TYPE_GRAY, one, 2, &im) == 0) {
        is_int(im.pixels[0], ==, 255);
        is_int(im.pixels[1], ==, 0);
    }
    image_fini(&im);
    static const uint16_t two[] = {0, 1, 2, 3};
    if (t_decode_row(2, PNG_COLOR_TYPE_GRAY, two, 4, &im) == 0) {
        is_int(im.pixels[1], ==, 85);
        is_int(im.pixels[2], ==, 170);
        is_int(im.pixels[3], ==, 255);
    }
    image_fini(&im);
    static const uint16_t four[] = {1, 14};
    if (t_decode_row(4, PNG_COLOR_TYPE_GRAY, four, 2, &im) == 0) {
        is_int(im.pixels[0], ==, 17);
        is_int(im.pixels[1], ==, 238);
    }
    image_fini(&im);
    static const uint16_t sixteen[] = {0xABCD, 0x12FF, 0x0080, 0xFFFF};
    if (t_decode_row(16, PNG_COLOR_TYPE_GRAY, sixteen, 4, &im) == 0) {
        is_int(im.pixels[0], ==, 0xAB);
        is_int(im.pixels[1], ==, 0x13); /* rounded, not truncated */
        is_int(im.pixels[2], ==, 0);
        is_int(im.pixels[3], ==, 255);
    }
    image_fini(&im);
    /* Half-transparent black over white is mid gray; 16-bit alpha. */
    static const uint16_t ga[] = {0, 0x8080, 0xFFFF, 0, 0x4000, 0xFFFF};
    if (t_decode_row(16, PNG_COLOR_TYPE_GRAY_ALPHA, ga, 3, &im) == 0) {
        is_int(im.channels, ==, 1);
        is_int(im.pixels[0], ==, 127); /* 0 over 255 at alpha 128 */
        is_int(im.pixels[1], ==, 255); /* alpha 0 shows the background */
        is_int(im.pixels[2], ==, 0x40);
    }
    image_fini(&im);

    /* All 65536 16-bit values. */
    uint16_t *all = xmalloc(65536 * sizeof *all);
    for (int i = 0; i < 65536; i++)
        all[i] = (uint16_t)i;
    struct tpng t;
    memset(&t, 0, sizeof t);
    t.w = 256;
    t.h = 256;
    t.depth = 16;
    t.ctype = PNG_COLOR_TYPE_GRAY;
    t.samples = all;
    ok(t_check_decode(&t, "every 16-bit value"),
       "every 16-bit value rounds to (v * 255 + 32767) / 65535");
    /* All gray/alpha pairs: all[i] = (gray << 8) | alpha as two samples. */
    uint16_t *pairs = xmalloc(2 * 65536 * sizeof *pairs);
    for (int i = 0; i < 65536; i++) {
        pairs[2 * i] = (uint16_t)(i >> 8);
        pairs[2 * i + 1] = (uint16_t)(i & 255);
    }
    t.depth = 8;
    t.ctype = PNG_COLOR_TYPE_GRAY_ALPHA;
    t.samples = pairs;
    ok(t_check_decode(&t, "every gray/alpha pair"),
       "every gray/alpha pair composites to (c a + 255 (255 - a) + 127) / "
       "255");
    free(pairs);
    free(all);
}

/* ------------------------------------------------------------------ */
/* Round trips and file I/O */

static void
test_round_trip(void)
{
    static const int dims[][3] = {
        {1, 1, 1},   {1, 1, 3},   {31, 17, 1}, {31, 17, 3},
        {100, 3, 3}, {3, 100, 1}, {32, 32, 3},
    };
    char *dir = fx_tmpdir("t-image");
    for (size_t i = 0; i < WN_ARRAY_LEN(dims); i++) {
        int w = dims[i][0], h = dims[i][1], c = dims[i][2];
        struct image im, back, file;
        char *cause = NULL;
        if (image_alloc(&im, w, h, c, &cause) != 0)
            bail("image_alloc: %s", cause);
        fx_pixels(im.pixels, w, h, c, (uint32_t)i + 5);
        size_t n = (size_t)w * h * c;
        void *buf = NULL;
        size_t len = 0;
        int good = image_encode_png(&im, &buf, &len, &cause) == 0 &&
                   image_decode_png(buf, len, &back, &cause) == 0;
        if (!good) {
            diag("%s", cause);
            free(cause);
            cause = NULL;
        }
        ok(good && back.width == w && back.height == h && back.channels == c &&
               memcmp(back.pixels, im.pixels, n) == 0,
           "encode/decode round trip %dx%dx%d", w, h, c);
        if (good)
            image_fini(&back);
        free(buf);

        char *path = fx_path(dir, "rt.png");
        good = image_write_png(path, &im, &cause) == 0 &&
               image_read_png(path, &file, &cause) == 0;
        if (!good) {
            diag("%s", cause);
            free(cause);
        }
        ok(good && file.width == w && file.height == h && file.channels == c &&
               memcmp(file.pixels, im.pixels, n) == 0,
           "write/read file round trip %dx%dx%d", w, h, c);
        if (good)
            image_fini(&file);
        free(path);
        image_fini(&im);
    }

    /* Causes from files name the path; from memory they do not. */
    char *missing = fx_path(dir, "missing.png");
    struct image im;
    char *cause = NULL;
    ok(image_read_png(missing, &im, &cause) == -1 && cause != NULL &&
           strncmp(cause, missing, strlen(missing)) == 0,
       "a missing file fails naming the path");
    ok(im.pixels == NULL, "a failed read leaves no pixels");
    free(cause);
    cause = NULL;
    char *text = fx_path(dir, "text.png");
    fx_write(text, "hello\n", 6);
    char *want = xasprintf("%s: not a PNG file", text);
    ok(image_read_png(text, &im, &cause) == -1, "a text file is refused");
    is_str(cause, want);
    free(want);
    free(cause);
    cause = NULL;
    ok(image_decode_png("hello\n", 6, &im, &cause) == -1, "text in memory");
    is_str(cause, "not a PNG file");
    free(cause);
    cause = NULL;

    char *nodir = fx_path(dir, "no/such/dir/x.png");
    if (image_alloc(&im, 2, 2, 1, &cause) != 0)
        bail("image_alloc: %s", cause);
    memset(im.pixels, 7, 4);
    ok(image_write_png(nodir, &im, &cause) == -1 && cause != NULL &&
           strncmp(cause, nodir, strlen(nodir)) == 0,
       "writing into a missing directory fails naming the path");
    free(cause);
    cause = NULL;
    image_fini(&im);

    struct image bad = {2, 2, 2, NULL};
    uint8_t px[8] = {0};
    bad.pixels = px;
    void *buf = (void *)1;
    size_t len = 1;
    ok(image_encode_png(&bad, &buf, &len, &cause) == -1 && buf == NULL,
       "encoding a 2-channel image is refused");
    is_str(cause, "invalid image");
    free(cause);

    free(nodir);
    free(text);
    free(missing);
    fx_rmtree(dir);
    free(dir);
}

/* ------------------------------------------------------------------ */
/* Bad input */

static char *
t_bad_dir(void)
{
    const char *env = getenv("TESTS_SRCDIR");
    if (env != NULL && *env != '\0')
        return xasprintf("%s/data/bad", env);
    /* Not under make check: find the tree from this file's path. */
    const char *file = __FILE__;
    const char *unit = strstr(file, "unit/t-image.c");
    if (unit == NULL)
        return xstrdup("tests/data/bad");
    return xasprintf("%.*sdata/bad", (int)(unit - file), file);
}

static int
t_ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

static int
t_cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
test_bad_files(void)
{
    static const struct {
        const char *file, *cause;
    } known[] = {
        {"zero-bytes.png", "empty file"},
        {"not-png.png", "not a PNG file"},
        {"truncated-idat.png", "truncated PNG data"},
        {"bad-crc.png", "IDAT: CRC error"},
        {"huge-dimensions.png", "image too large: 100000x100000"},
        {"huge-pixel-count.png", "image too large: 16384x16384"},
        {"bad-palette-index.png", "palette index out of range"},
    };
    char *dir = t_bad_dir();
    DIR *d = opendir(dir);
    if (d == NULL) {
        ok(0, "open %s", dir);
        free(dir);
        return;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (t_ends_with(e->d_name, ".png")) {
            wn_grow(&names, sizeof *names, &cap, n + 1);
            names[n++] = xstrdup(e->d_name);
        }
    closedir(d);
    qsort(names, n, sizeof *names, t_cmp_str);
    is_int((int64_t)n, >=, (int64_t)WN_ARRAY_LEN(known));

    size_t seen = 0;
    for (size_t i = 0; i < n; i++) {
        char *path = fx_path(dir, names[i]);
        struct image im = {1, 1, 1, NULL};
        char *cause = NULL;
        int rc = image_read_png(path, &im, &cause);
        char *prefix = xasprintf("%s: ", path);
        int named = cause != NULL &&
                    strncmp(cause, prefix, strlen(prefix)) == 0 &&
                    cause[strlen(prefix)] != '\0';
        ok(rc == -1 && named && im.pixels == NULL && im.width == 0,
           "%s fails: %s", names[i], cause ? cause + strlen(dir) + 1 : "-");
        for (size_t k = 0; k < WN_ARRAY_LEN(known); k++)
            if (strcmp(names[i], known[k].file) == 0) {
                seen++;
                if (named)
                    is_str(cause + strlen(prefix), known[k].cause);
            }
        free(prefix);
        free(cause);
        image_fini(&im);
        free(path);
        free(names[i]);
    }
    is_int((int64_t)seen, ==, (int64_t)WN_ARRAY_LEN(known));
    free(names);
    free(dir);
}

/* Cut a valid PNG at every length: every cut must fail with a cause, only
 * the whole file decodes. Then flip a bit at every offset: each must
 * fail with a cause or give a sane image, and nothing may leak. */
static void
t_cut_and_flip(const struct tpng *t, const char *what)
{
    size_t len;
    unsigned char *png = t_png(t, &len);
    int bad_cuts = 0;
    for (size_t cut = 0; cut <= len; cut++) {
        /* A copy of exactly cut bytes, so ASan sees any overread. */
        unsigned char *p = xmalloc(cut ? cut : 1);
        memcpy(p, png, cut);
        struct image im;
        char *cause = NULL;
        int rc = image_decode_png(p, cut, &im, &cause);
        int fine = cut == len ? rc == 0 && im.pixels != NULL
                              : rc == -1 && cause != NULL && *cause != '\0' &&
                                    im.pixels == NULL;
        if (!fine) {
            if (bad_cuts++ < 3)
                diag("%s cut at %zu of %zu: rc %d, %s", what, cut, len, rc,
                     cause ? cause : "no cause");
        }
        free(cause);
        image_fini(&im);
        free(p);
    }
    ok(bad_cuts == 0, "%s: every truncation fails, the whole file decodes",
       what);

    int bad_flips = 0, decoded = 0;
    unsigned char *p = xmalloc(len);
    for (size_t at = 0; at < len; at++) {
        memcpy(p, png, len);
        p[at] ^= (unsigned char)(1u << (at % 8));
        struct image im;
        char *cause = NULL;
        int rc = image_decode_png(p, len, &im, &cause);
        int fine;
        if (rc == 0) {
            decoded++;
            fine = im.pixels != NULL && cause == NULL && im.width >= 1 &&
                   im.height >= 1 && (im.channels == 1 || im.channels == 3);
        } else {
            fine = rc == -1 && cause != NULL && im.pixels == NULL;
        }
        if (!fine && bad_flips++ < 3)
            diag("%s flip at %zu: rc %d", what, at, rc);
        free(cause);
        image_fini(&im);
    }
    free(p);
    ok(bad_flips == 0, "%s: bit flips fail cleanly (%d of %zu still decode)",
       what, decoded, len);
    free(png);
}

static void
test_truncation(void)
{
    struct tvariant v;
    t_variant(&v, 9, 6, PNG_COLOR_TYPE_RGB, 8, 0, 0, 11);
    v.t.text = 1;
    t_cut_and_flip(&v.t, "rgb 8-bit");
    free(v.samples);
    t_variant(&v, 9, 6, PNG_COLOR_TYPE_RGBA, 16, 1, 0, 12);
    t_cut_and_flip(&v.t, "rgba 16-bit interlaced");
    free(v.samples);
    t_variant(&v, 9, 6, PNG_COLOR_TYPE_PALETTE, 4, 1, 1, 13);
    t_cut_and_flip(&v.t, "palette 4-bit interlaced with tRNS");
    free(v.samples);
    t_variant(&v, 9, 6, PNG_COLOR_TYPE_GRAY, 2, 0, 1, 14);
    t_cut_and_flip(&v.t, "gray 2-bit with tRNS");
    free(v.samples);
}

/* ------------------------------------------------------------------ */
/* Threads */

struct t_job {
    unsigned char *png;
    size_t len;
    const uint8_t *want;
    size_t n;
    int failures;
};

static void *
t_thread(void *arg)
{
    struct t_job *j = arg;
    for (int i = 0; i < 300; i++) {
        struct image im;
        char *cause = NULL;
        if (image_decode_png(j->png, j->len, &im, &cause) != 0 ||
            memcmp(im.pixels, j->want, j->n) != 0)
            j->failures++;
        free(cause);
        image_fini(&im);
        /* Errors too, so longjmps interleave with good decodes. */
        if (image_decode_png(j->png, j->len / 2, &im, &cause) != -1)
            j->failures++;
        free(cause);
    }
    return NULL;
}

static void
test_threads(void)
{
    enum { NT = 4 };
    struct tvariant v[NT];
    struct t_job jobs[NT];
    uint8_t *want[NT];
    pthread_t th[NT];
    static const int kinds[NT][3] = {
        {PNG_COLOR_TYPE_RGB, 8, 0},
        {PNG_COLOR_TYPE_PALETTE, 8, 1},
        {PNG_COLOR_TYPE_RGBA, 16, 1},
        {PNG_COLOR_TYPE_GRAY, 4, 0},
    };
    for (int i = 0; i < NT; i++) {
        t_variant(&v[i], 32, 32, kinds[i][0], kinds[i][1], kinds[i][2], 0,
                  (uint32_t)(40 + i));
        int ch = (kinds[i][0] & PNG_COLOR_MASK_COLOR) ? 3 : 1;
        jobs[i].n = 32 * 32 * (size_t)ch;
        want[i] = xmalloc(jobs[i].n);
        t_expect(&v[i].t, want[i]);
        jobs[i].png = t_png(&v[i].t, &jobs[i].len);
        jobs[i].want = want[i];
        jobs[i].failures = 0;
    }
    for (int i = 0; i < NT; i++)
        if (pthread_create(&th[i], NULL, t_thread, &jobs[i]) != 0)
            bail("pthread_create failed");
    int failures = 0;
    for (int i = 0; i < NT; i++) {
        pthread_join(th[i], NULL);
        failures += jobs[i].failures;
        free(jobs[i].png);
        free(want[i]);
        free(v[i].samples);
    }
    is_int(failures, ==, 0);
}

/* ------------------------------------------------------------------ */
/* Allocation and resampling */

static struct image
t_image(int w, int h, int c, const uint8_t *px)
{
    struct image im;
    char *cause = NULL;
    if (image_alloc(&im, w, h, c, &cause) != 0)
        bail("image_alloc: %s", cause);
    memcpy(im.pixels, px, (size_t)w * h * c);
    return im;
}

static int
t_same(const struct image *im, int w, int h, int c, const uint8_t *px)
{
    if (im->width != w || im->height != h || im->channels != c) {
        diag("got %dx%dx%d, want %dx%dx%d", im->width, im->height, im->channels,
             w, h, c);
        return 0;
    }
    for (int i = 0; i < w * h * c; i++)
        if (im->pixels[i] != px[i]) {
            diag("byte %d is %u, want %u", i, im->pixels[i], px[i]);
            return 0;
        }
    return 1;
}

static void
test_alloc(void)
{
    struct image im;
    char *cause = NULL;
    ok(image_alloc(&im, 3, 2, 3, &cause) == 0 && im.pixels != NULL &&
           im.width == 3 && im.height == 2 && im.channels == 3,
       "image_alloc 3x2x3");
    image_fini(&im);
    ok(im.pixels == NULL && im.width == 0, "image_fini clears");
    image_fini(&im);
    image_fini(NULL);
    ok(image_alloc(&im, 0, 5, 1, &cause) == -1 && im.pixels == NULL,
       "zero width is refused");
    free(cause);
    cause = NULL;
    ok(image_alloc(&im, 5, 5, 2, &cause) == -1, "2 channels are refused");
    free(cause);
    cause = NULL;
    ok(image_alloc(&im, 100000, 100000, 3, &cause) == -1,
       "100000x100000 is refused");
    is_str(cause, "image too large: 100000x100000");
    free(cause);
    cause = NULL;
    ok(image_alloc(&im, 16384, 16385, 1, &cause) == -1,
       "a side over IMAGE_MAX_SIDE is refused");
    free(cause);
}

static void
test_resample(void)
{
    char *cause = NULL;
    struct image out;

    /* 4x4 -> 2x2: each output is the mean of a 2x2 block; the last block
     * averages to 0.5, which rounds up. */
    static const uint8_t g4[16] = {
        10, 20, 100, 100, /* */
        30, 40, 100, 104, /* */
        0,  0,  255, 255, /* */
        0,  2,  255, 251,
    };
    struct image src = t_image(4, 4, 1, g4);
    static const uint8_t g2[4] = {25, 101, 1, 254};
    ok(image_fit(&src, 2, &out, &cause) == 0 && t_same(&out, 2, 2, 1, g2),
       "fit 4x4 gray to 2x2 averages blocks");
    image_fini(&out);
    ok(image_resize(&src, 2, 2, &out, &cause) == 0 && t_same(&out, 2, 2, 1, g2),
       "resize 4x4 gray to 2x2 averages blocks");
    image_fini(&out);
    /* Only rows shrink: 4x4 -> 4x2 averages vertical pairs. */
    static const uint8_t g42[8] = {20, 30, 100, 102, 0, 1, 255, 253};
    ok(image_resize(&src, 4, 2, &out, &cause) == 0 &&
           t_same(&out, 4, 2, 1, g42),
       "resize 4x4 to 4x2 averages vertical pairs");
    image_fini(&out);
    ok(image_fit(&src, 4, &out, &cause) == 0 && t_same(&out, 4, 4, 1, g4) &&
           out.pixels != src.pixels,
       "fit to the current size copies");
    image_fini(&out);
    ok(image_fit(&src, 100, &out, &cause) == 0 && t_same(&out, 4, 4, 1, g4),
       "fit never enlarges");
    image_fini(&out);
    image_fini(&src);

    /* RGB 6x3 -> fit 2: 2x1, each the mean of a 3x3 block per channel. */
    uint8_t rgb[6 * 3 * 3];
    for (int y = 0; y < 3; y++)
        for (int x = 0; x < 6; x++) {
            uint8_t *p = rgb + (y * 6 + x) * 3;
            p[0] = (uint8_t)(x < 3 ? 9 * (x + 3 * y) : 200);
            p[1] = (uint8_t)(x < 3 ? 50 : 10 * (x + y));
            p[2] = (uint8_t)(255 - 9 * (x + 3 * y));
        }
    src = t_image(6, 3, 3, rgb);
    /* Block 0: red 9 * mean(0..8) = 36; blue 255 - 36 = 219.
     * Block 1: green 10 * mean(x + y) = 10 * (4 + 1) = 50; blue 255 - 9 *
     * mean(x + 3y for x 3..5) = 255 - 9 * 7 = 192. */
    static const uint8_t rgb2[6] = {36, 50, 219, 200, 50, 192};
    ok(image_fit(&src, 2, &out, &cause) == 0 && t_same(&out, 2, 1, 3, rgb2),
       "fit 6x3 RGB to 2x1 averages 3x3 blocks per channel");
    image_fini(&out);
    image_fini(&src);

    /* A non-integer factor: 3 -> 2 weighs the middle sample half-half. */
    static const uint8_t r3[3] = {0, 90, 180};
    src = t_image(3, 1, 1, r3);
    static const uint8_t r2[2] = {30, 150};
    ok(image_resize(&src, 2, 1, &out, &cause) == 0 && t_same(&out, 2, 1, 1, r2),
       "resize 3 -> 2 weighs by overlap");
    image_fini(&out);
    image_fini(&src);

    /* Enlarging is bilinear with centres aligned and edges clamped. */
    static const uint8_t u2[2] = {0, 100};
    src = t_image(2, 1, 1, u2);
    static const uint8_t u4[4] = {0, 25, 75, 100};
    ok(image_resize(&src, 4, 1, &out, &cause) == 0 && t_same(&out, 4, 1, 1, u4),
       "resize 2 -> 4 is bilinear");
    image_fini(&out);
    /* Up in one axis, down in none: 2x1 -> 4x2 repeats the row. */
    static const uint8_t u42[8] = {0, 25, 75, 100, 0, 25, 75, 100};
    ok(image_resize(&src, 4, 2, &out, &cause) == 0 &&
           t_same(&out, 4, 2, 1, u42),
       "resize 2x1 -> 4x2");
    image_fini(&out);
    image_fini(&src);

    /* Aspect ratios under image_fit. */
    static const int fits[][5] = {
        /* w, h, max, want w, want h */
        {100, 50, 10, 10, 5}, {1000, 1, 10, 10, 1}, {1, 1000, 10, 1, 10},
        {3, 1000, 10, 1, 10}, {50, 100, 7, 4, 7},   {100, 50, 7, 7, 4},
        {33, 33, 32, 32, 32},
    };
    for (size_t i = 0; i < WN_ARRAY_LEN(fits); i++) {
        struct image im;
        if (image_alloc(&im, fits[i][0], fits[i][1], 3, &cause) != 0)
            bail("image_alloc: %s", cause);
        memset(im.pixels, 77, (size_t)fits[i][0] * fits[i][1] * 3);
        int good = image_fit(&im, fits[i][2], &out, &cause) == 0;
        int flat = good;
        for (int k = 0; good && k < out.width * out.height * 3; k++)
            flat &= out.pixels[k] == 77;
        ok(good && out.width == fits[i][3] && out.height == fits[i][4] && flat,
           "fit %dx%d into %d gives %dx%d (got %dx%d), flat stays flat",
           fits[i][0], fits[i][1], fits[i][2], fits[i][3], fits[i][4],
           out.width, out.height);
        image_fini(&out);
        image_fini(&im);
    }

    /* A gradient survives resizing in both directions within rounding. */
    struct image grad;
    if (image_alloc(&grad, 40, 30, 1, &cause) != 0)
        bail("image_alloc: %s", cause);
    for (int y = 0; y < 30; y++)
        for (int x = 0; x < 40; x++)
            grad.pixels[y * 40 + x] = (uint8_t)(x * 6);
    int mono = image_resize(&grad, 17, 45, &out, &cause) == 0;
    for (int y = 0; mono && y < out.height; y++)
        for (int x = 1; x < out.width; x++)
            mono &=
                out.pixels[y * out.width + x] >
                    out.pixels[y * out.width + x - 1] &&
                out.pixels[y * out.width + x] == out.pixels[x]; /* rows alike */
    ok(mono, "resize 40x30 -> 17x45 keeps a horizontal gradient");
    image_fini(&out);
    image_fini(&grad);

    /* Bad arguments. */
    src = t_image(2, 1, 1, u2);
    ok(image_resize(&src, 0, 3, &out, &cause) == -1 && out.pixels == NULL,
       "resize to 0x3 is refused");
    free(cause);
    cause = NULL;
    ok(image_fit(&src, 0, &out, &cause) == -1, "fit into 0 is refused");
    free(cause);
    cause = NULL;
    image_fini(&src);
}

int
main(void)
{
    test_variants();
    test_scaling();
    test_round_trip();
    test_bad_files();
    test_truncation();
    test_threads();
    test_alloc();
    test_resample();
    return done_testing();
}
