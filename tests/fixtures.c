#include "config.h"

#include "tests/fixtures.h"

#include <errno.h>
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
                double d2 = (fx - cx[b]) * (fx - cx[b]) +
                            (fy - cy[b]) * (fy - cy[b]);
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
