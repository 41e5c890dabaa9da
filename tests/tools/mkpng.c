/* mkpng: writes fixtures for the shell tests and the fuzz seeds.
 *   mkpng OUT WIDTH HEIGHT CHANNELS SEED
 *       a PNG, or a JPEG or WebP when OUT ends in .jpg, .jpeg or .webp
 *   mkpng idx IMAGES LABELS COUNT ROWS COLS NCLASSES
 *   mkpng seeds jpeg|webp DIR
 *       the fuzz seed corpus of that decoder (tests/fuzz/README)
 * IDX images get distinct pixels; label i is i % NCLASSES. A name ending
 * in .gz is gzipped. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/base.h"
#include "data/idx.h"
#include "tests/fixtures.h"

static int
write_idx(char **argv)
{
    uint32_t n = (uint32_t)atoi(argv[4]), rows = (uint32_t)atoi(argv[5]),
             cols = (uint32_t)atoi(argv[6]), k = (uint32_t)atoi(argv[7]);
    size_t per = (size_t)rows * cols;
    uint8_t *px = xmalloc(per * n + 1), *lb = xmalloc(n + 1u);
    for (uint32_t i = 0; i < n; i++) {
        fx_pixels(px + per * i, (int)cols, (int)rows, 1, i + 1);
        lb[i] = (uint8_t)(i % k);
    }
    uint32_t dims[3] = {n, rows, cols};
    char *cause = NULL;
    if (idx_write(argv[2], 3, dims, px, &cause) != 0 ||
        idx_write(argv[3], 1, dims, lb, &cause) != 0) {
        fprintf(stderr, "mkpng: %s\n", cause);
        return 1;
    }
    free(px);
    free(lb);
    return 0;
}

static void
write_seed(const char *dir, const char *name, unsigned char *buf, size_t len)
{
    char *path = fx_path(dir, name);
    fx_write(path, buf, len);
    free(path);
    free(buf);
}

/* Small files, one per path through the decoder: colour spaces, the
 * progressive scans, EXIF in both byte orders, odd sizes (partial MCUs),
 * and for WebP lossy/lossless with and without alpha and the extended
 * format with its EXIF chunk. */
static int
write_seeds(const char *kind, const char *dir)
{
    uint8_t px[24 * 20 * 4];
    size_t len;
    fx_mkdirs(dir);
    if (strcmp(kind, "jpeg") == 0) {
        static const struct {
            const char *name;
            int w, h, c;
            struct fx_jpeg_opt o;
        } v[] = {
            {"seed-rgb-baseline.jpg", 16, 16, 3, {75, 0, 0, 0, 0, 0}},
            {"seed-rgb-progressive.jpg", 16, 16, 3, {75, 1, 0, 0, 0, 0}},
            {"seed-gray.jpg", 13, 7, 1, {75, 0, 0, 0, 0, 0}},
            {"seed-gray-progressive.jpg", 9, 17, 1, {75, 1, 0, 0, 0, 0}},
            {"seed-cmyk-adobe.jpg", 8, 8, 4, {75, 0, 0, 0, 0, 0}},
            {"seed-ycck-adobe.jpg", 8, 8, 4, {75, 0, 0, 1, 0, 0}},
            {"seed-cmyk-plain.jpg", 8, 8, 4, {75, 0, 0, 0, 1, 0}},
            {"seed-exif-6-mm.jpg", 24, 16, 3, {75, 0, 6, 0, 0, 0}},
            {"seed-exif-5-ii.jpg", 16, 8, 3, {75, 0, 5, 0, 0, 0}},
            {"seed-exif-3-progressive.jpg", 8, 8, 3, {75, 1, 3, 0, 0, 0}},
            {"seed-odd-size.jpg", 23, 19, 3, {50, 0, 0, 0, 0, 0}},
            {"seed-many-scans.jpg", 8, 8, 3, {50, 0, 0, 0, 0, 1}},
        };
        for (size_t i = 0; i < WN_ARRAY_LEN(v); i++) {
            fx_pixels(px, v[i].w, v[i].h, v[i].c, (uint32_t)i + 1);
            unsigned char *b =
                fx_jpeg_mem(px, v[i].w, v[i].h, v[i].c, &v[i].o, &len);
            write_seed(dir, v[i].name, b, len);
        }
        return 0;
    }
    if (strcmp(kind, "webp") == 0) {
        static const struct {
            const char *name;
            int w, h, c, lossless, orientation;
        } v[] = {
            {"seed-lossy.webp", 16, 16, 3, 0, 0},
            {"seed-lossy-alpha.webp", 16, 16, 4, 0, 0},
            {"seed-lossless.webp", 12, 9, 3, 1, 0},
            {"seed-lossless-alpha.webp", 12, 9, 4, 1, 0},
            {"seed-exif-6.webp", 24, 20, 3, 0, 6},
            {"seed-exif-7-lossless.webp", 8, 5, 4, 1, 7},
            {"seed-exif-8-alpha.webp", 7, 11, 4, 0, 8},
            {"seed-one-pixel.webp", 1, 1, 3, 0, 0},
            {"seed-one-pixel-lossless.webp", 1, 1, 4, 1, 0},
        };
        for (size_t i = 0; i < WN_ARRAY_LEN(v); i++) {
            fx_pixels(px, v[i].w, v[i].h, v[i].c, (uint32_t)i + 1);
            unsigned char *b =
                fx_webp_mem(px, v[i].w, v[i].h, v[i].c, v[i].lossless,
                            v[i].orientation, &len);
            write_seed(dir, v[i].name, b, len);
        }
        return 0;
    }
    fprintf(stderr, "mkpng: seeds: unknown kind '%s' (jpeg, webp)\n", kind);
    return 2;
}

int
main(int argc, char **argv)
{
    if (argc == 8 && strcmp(argv[1], "idx") == 0)
        return write_idx(argv);
    if (argc == 4 && strcmp(argv[1], "seeds") == 0)
        return write_seeds(argv[2], argv[3]);
    if (argc != 6) {
        fprintf(stderr, "usage: mkpng OUT.{png,jpg,jpeg,webp} WIDTH HEIGHT "
                        "CHANNELS SEED\n"
                        "       mkpng idx IMAGES LABELS COUNT ROWS COLS "
                        "NCLASSES\n"
                        "       mkpng seeds jpeg|webp DIR\n");
        return 2;
    }
    fx_image_file(argv[1], atoi(argv[2]), atoi(argv[3]), atoi(argv[4]),
                  (uint32_t)strtoul(argv[5], NULL, 10));
    return 0;
}
