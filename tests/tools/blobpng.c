/* blobpng: a picture for the near-duplicate tests, or a copy of it made
 * the way copies drift (tests/cli/t-dups.sh).
 *   blobpng OUT SIZE SEED [resize N | bright N | flip]
 * writes OUT, a SIZE x SIZE RGB PNG of fx_blobs(SEED), resized to N x N,
 * N brighter, or mirrored left to right. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/base.h"
#include "data/image.h"
#include "tests/fixtures.h"

static void
check(int rc, char *cause)
{
    if (rc != 0) {
        fprintf(stderr, "blobpng: %s\n", cause);
        exit(1);
    }
}

int
main(int argc, char **argv)
{
    if (argc != 4 && argc != 5 && argc != 6) {
        fputs("usage: blobpng OUT SIZE SEED [resize N | bright N | flip]\n",
              stderr);
        return 2;
    }
    int size = atoi(argv[2]);
    struct image im, out;
    char *cause = NULL;
    check(image_alloc(&im, size, size, 3, &cause), cause);
    fx_blobs(im.pixels, size, size, 3, (uint32_t)strtoul(argv[3], NULL, 10));
    const char *kind = argc >= 5 ? argv[4] : "";
    int arg = argc == 6 ? atoi(argv[5]) : 0;
    size_t n = (size_t)size * (size_t)size * 3;
    if (strcmp(kind, "resize") == 0) {
        check(image_resize(&im, arg, arg, &out, &cause), cause);
        image_fini(&im);
        im = out;
    } else if (strcmp(kind, "bright") == 0) {
        for (size_t i = 0; i < n; i++) {
            int v = im.pixels[i] + arg;
            im.pixels[i] = (uint8_t)(v > 255 ? 255 : v < 0 ? 0 : v);
        }
    } else if (strcmp(kind, "flip") == 0) {
        for (int y = 0; y < size; y++)
            for (int x = 0; x < size / 2; x++)
                for (int c = 0; c < 3; c++) {
                    uint8_t *a = im.pixels + ((size_t)y * size + x) * 3 + c;
                    uint8_t *b =
                        im.pixels + ((size_t)y * size + size - 1 - x) * 3 + c;
                    uint8_t t = *a;
                    *a = *b;
                    *b = t;
                }
    } else if (*kind != '\0') {
        fprintf(stderr, "blobpng: unknown change %s\n", kind);
        return 2;
    }
    check(image_write_png(argv[1], &im, &cause), cause);
    image_fini(&im);
    return 0;
}
