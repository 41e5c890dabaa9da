#include "config.h"

#include "tests/fixtures.h"

#include <errno.h>
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jpeglib.h>
#include <webp/encode.h>

#include "data/base.h"
#include "data/image.h"

char *
fx_tmpdir(const char *tag)
{
    const char *base = getenv("TMPDIR");
    if (base == NULL || *base == '\0')
        base = "/tmp";
    char *tmpl = xasprintf("%s/winnow-%s-XXXXXX", base, tag);
    if (mkdtemp(tmpl) == NULL) {
        fprintf(stderr, "mkdtemp %s: %s\n", tmpl, strerror(errno));
        exit(1);
    }
    return tmpl;
}

static int
fx_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (flag == FTW_DP)
        rmdir(path);
    else
        unlink(path);
    return 0;
}

void
fx_rmtree(const char *path)
{
    if (path != NULL)
        nftw(path, fx_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

char *
fx_path(const char *dir, const char *name)
{
    return xasprintf("%s/%s", dir, name);
}

void
fx_mkdirs(const char *path)
{
    char *p = xstrdup(path);
    for (char *s = p + 1; *s; s++) {
        if (*s == '/') {
            *s = '\0';
            mkdir(p, 0777);
            *s = '/';
        }
    }
    mkdir(p, 0777);
    free(p);
}

void
fx_write(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
        fprintf(stderr, "write %s: %s\n", path, strerror(errno));
        exit(1);
    }
}

void
fx_pixels(uint8_t *px, int width, int height, int channels, uint32_t seed)
{
    uint32_t s = seed * 2654435761u + 12345u;
    for (int y = 0; y < height; y++)
        for (int x = 0; x < width; x++)
            for (int c = 0; c < channels; c++) {
                s ^= s << 13;
                s ^= s >> 17;
                s ^= s << 5;
                /* A gradient plus noise: varied, but compressible. */
                uint32_t v = (uint32_t)(x * 7 + y * 3 + c * 50) + (s & 31u);
                *px++ = (uint8_t)(v + seed * 11u);
            }
}

void
fx_png(const char *path, int width, int height, int channels, uint32_t seed)
{
    struct image im;
    char *cause = NULL;
    if (image_alloc(&im, width, height, channels, &cause) != 0) {
        fprintf(stderr, "fx_png: %s\n", cause);
        exit(1);
    }
    fx_pixels(im.pixels, width, height, channels, seed);
    if (image_write_png(path, &im, &cause) != 0) {
        fprintf(stderr, "fx_png: %s\n", cause);
        exit(1);
    }
    image_fini(&im);
}

/* ------------------------------------------------------------------ */
/* JPEG and WebP, written with the libraries themselves */

static void
fx_jpeg_error_exit(j_common_ptr cinfo)
{
    char text[JMSG_LENGTH_MAX];
    (*cinfo->err->format_message)(cinfo, text);
    fprintf(stderr, "fx_jpeg: %s\n", text);
    exit(1); /* a fixture that cannot be written ends the test */
}

/* The APP1 block a camera writes: "Exif\0\0", a TIFF header in the given
 * byte order and IFD0 with the Orientation tag alone. */
static size_t
fx_exif_block(unsigned char *b, int orientation, int big_endian)
{
    static const unsigned char mm[] = {'M', 'M',  0,    42, 0, 0, 0, 8, 0,
                                       1,   0x01, 0x12, 0,  3, 0, 0, 0, 1,
                                       0,   0,    0,    0,  0, 0, 0, 0};
    static const unsigned char ii[] = {'I', 'I',  42,   0, 8, 0, 0, 0, 1,
                                       0,   0x12, 0x01, 3, 0, 1, 0, 0, 0,
                                       0,   0,    0,    0, 0, 0, 0, 0};
    memcpy(b, "Exif\0\0", 6);
    memcpy(b + 6, big_endian ? mm : ii, sizeof mm);
    /* The SHORT value: first two bytes of the value field. */
    b[6 + 18] = (unsigned char)(big_endian ? 0 : orientation);
    b[6 + 19] = (unsigned char)(big_endian ? orientation : 0);
    return 6 + sizeof mm;
}

unsigned char *
fx_jpeg_mem(const uint8_t *px, int width, int height, int channels,
            const struct fx_jpeg_opt *opt, size_t *len_out)
{
    static const struct fx_jpeg_opt plain = {90, 0, 0, 0, 0, 0};
    if (opt == NULL)
        opt = &plain;
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr err;
    c.err = jpeg_std_error(&err);
    err.error_exit = fx_jpeg_error_exit;
    jpeg_create_compress(&c);
    unsigned char *buf = NULL;
    unsigned long len = 0;
    jpeg_mem_dest(&c, &buf, &len);
    c.image_width = (JDIMENSION)width;
    c.image_height = (JDIMENSION)height;
    c.input_components = channels;
    c.in_color_space = channels == 1   ? JCS_GRAYSCALE
                       : channels == 4 ? JCS_CMYK
                                       : JCS_RGB;
    jpeg_set_defaults(&c);
    if (channels == 4) {
        /* libjpeg writes CMYK with an Adobe marker; YCCK is Adobe's too. */
        jpeg_set_colorspace(&c, opt->ycck ? JCS_YCCK : JCS_CMYK);
        c.write_Adobe_marker = opt->no_adobe ? FALSE : TRUE;
    }
    jpeg_set_quality(&c, opt->quality > 0 ? opt->quality : 90, TRUE);
    if (opt->progressive)
        jpeg_simple_progression(&c);
    /* Every AC coefficient of every component on its own, in three steps
     * of successive approximation: legal, and far more scans than any
     * encoder writes. */
    static jpeg_scan_info many[1 + 3 * 63 * 3];
    if (opt->many_scans && channels == 3) {
        int n = 0;
        many[n++] = (jpeg_scan_info){3, {0, 1, 2, 0}, 0, 0, 0, 0};
        for (int comp = 0; comp < 3; comp++)
            for (int k = 1; k <= 63; k++) {
                many[n++] = (jpeg_scan_info){1, {comp, 0, 0, 0}, k, k, 0, 2};
                many[n++] = (jpeg_scan_info){1, {comp, 0, 0, 0}, k, k, 2, 1};
                many[n++] = (jpeg_scan_info){1, {comp, 0, 0, 0}, k, k, 1, 0};
            }
        c.scan_info = many;
        c.num_scans = n;
    }
    jpeg_start_compress(&c, TRUE);
    if (opt->orientation != 0) {
        unsigned char exif[64];
        size_t n =
            fx_exif_block(exif, opt->orientation, opt->orientation % 2 == 0);
        jpeg_write_marker(&c, JPEG_APP0 + 1, exif, (unsigned)n);
    }
    /* libjpeg takes rows it may write to: hand it a copy of each. */
    size_t stride = (size_t)width * (size_t)channels;
    JSAMPROW row = xmalloc(stride);
    while (c.next_scanline < c.image_height) {
        memcpy(row, px + c.next_scanline * stride, stride);
        jpeg_write_scanlines(&c, &row, 1);
    }
    free(row);
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    /* jpeg_mem_dest's buffer is malloc()ed: the caller free()s it. */
    *len_out = len;
    return buf;
}

/* Wrap a simple WebP (one VP8 or VP8L chunk) into the extended format
 * with an EXIF chunk, as cameras' converters do. */
static unsigned char *
fx_webp_with_exif(const unsigned char *in, size_t in_len, int width, int height,
                  int alpha, int orientation, size_t *len_out)
{
    unsigned char exif[64];
    size_t ne = fx_exif_block(exif, orientation, orientation % 2 == 0);
    /* A TIFF block alone, without "Exif\0\0", as libwebp's tools write. */
    size_t tiff = ne - 6;
    size_t body = in_len - 12;
    size_t total = 12 + 18 + body + 8 + tiff + (tiff & 1);
    unsigned char *b = xcalloc(1, total);
    memcpy(b, "RIFF", 4);
    uint32_t riff = (uint32_t)(total - 8);
    for (int i = 0; i < 4; i++)
        b[4 + i] = (unsigned char)(riff >> (8 * i));
    memcpy(b + 8, "WEBPVP8X", 8);
    b[16] = 10;
    b[20] = (unsigned char)(0x08 | (alpha ? 0x10 : 0)); /* EXIF, alpha */
    for (int i = 0; i < 3; i++) {
        b[24 + i] = (unsigned char)((unsigned)(width - 1) >> (8 * i));
        b[27 + i] = (unsigned char)((unsigned)(height - 1) >> (8 * i));
    }
    memcpy(b + 30, in + 12, body);
    unsigned char *e = b + 30 + body;
    memcpy(e, "EXIF", 4);
    for (int i = 0; i < 4; i++)
        e[4 + i] = (unsigned char)(tiff >> (8 * i));
    memcpy(e + 8, exif + 6, tiff);
    *len_out = total;
    return b;
}

unsigned char *
fx_webp_mem(const uint8_t *px, int width, int height, int channels,
            int lossless, int orientation, size_t *len_out)
{
    uint8_t *out = NULL;
    int stride = width * channels;
    size_t n;
    if (channels == 4)
        n = lossless ? WebPEncodeLosslessRGBA(px, width, height, stride, &out)
                     : WebPEncodeRGBA(px, width, height, stride, 90, &out);
    else
        n = lossless ? WebPEncodeLosslessRGB(px, width, height, stride, &out)
                     : WebPEncodeRGB(px, width, height, stride, 90, &out);
    if (n == 0) {
        fprintf(stderr, "fx_webp: encoding %dx%dx%d failed\n", width, height,
                channels);
        exit(1);
    }
    unsigned char *copy;
    if (orientation != 0) {
        copy = fx_webp_with_exif(out, n, width, height, channels == 4,
                                 orientation, len_out);
    } else {
        copy = xmalloc(n);
        memcpy(copy, out, n);
        *len_out = n;
    }
    WebPFree(out);
    return copy;
}

void
fx_image_file(const char *path, int width, int height, int channels,
              uint32_t seed)
{
    size_t n = strlen(path), len;
    int is_webp = n >= 5 && strcasecmp(path + n - 5, ".webp") == 0;
    int is_jpeg = (n >= 4 && strcasecmp(path + n - 4, ".jpg") == 0) ||
                  (n >= 5 && strcasecmp(path + n - 5, ".jpeg") == 0);
    if (!is_webp && !is_jpeg) {
        fx_png(path, width, height, channels, seed);
        return;
    }
    uint8_t *px = xmalloc((size_t)width * (size_t)height * 3);
    fx_pixels(px, width, height, is_webp ? 3 : channels, seed);
    unsigned char *buf =
        is_webp ? fx_webp_mem(px, width, height, 3, 0, 0, &len)
                : fx_jpeg_mem(px, width, height, channels, NULL, &len);
    fx_write(path, buf, len);
    free(buf);
    free(px);
}

void
fx_blobs(uint8_t *px, int width, int height, int channels, uint32_t seed)
{
    enum { N_BLOBS = 6 };
    uint32_t s = seed * 2654435761u + 977u;
    double cx[N_BLOBS], cy[N_BLOBS], r2[N_BLOBS], col[N_BLOBS][3], bg[3];
    for (int i = 0; i <= N_BLOBS * 6 + 3; i++) { /* stir */
        s ^= s << 13;
        s ^= s >> 17;
        s ^= s << 5;
        double u = (double)(s % 10000u) / 10000.0;
        int b = i / 6, k = i % 6;
        if (i >= N_BLOBS * 6) {
            if (i - N_BLOBS * 6 < 3)
                bg[i - N_BLOBS * 6] = 40.0 + 120.0 * u;
            continue;
        }
        if (k == 0)
            cx[b] = u;
        else if (k == 1)
            cy[b] = u;
        else if (k == 2)
            r2[b] = (0.05 + 0.25 * u) * (0.05 + 0.25 * u);
        else
            col[b][k - 3] = 255.0 * u;
    }
    for (int y = 0; y < height; y++)
        for (int x = 0; x < width; x++) {
            double fx = (x + 0.5) / width, fy = (y + 0.5) / height;
            double v[3] = {bg[0], bg[1], bg[2]};
            for (int b = 0; b < N_BLOBS; b++) {
                double d2 =
                    (fx - cx[b]) * (fx - cx[b]) + (fy - cy[b]) * (fy - cy[b]);
                double w = exp(-d2 / r2[b]);
                for (int c = 0; c < 3; c++)
                    v[c] = v[c] * (1.0 - w) + col[b][c] * w;
            }
            for (int c = 0; c < channels; c++) {
                double g = channels == 1 ? (v[0] + v[1] + v[2]) / 3.0 : v[c];
                *px++ = (uint8_t)(g < 0.0 ? 0 : g > 255.0 ? 255 : g + 0.5);
            }
        }
}
