#include "config.h"

#include "tests/fixtures.h"

#include <errno.h>
#include <ftw.h>
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
