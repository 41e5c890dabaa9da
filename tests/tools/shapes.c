/* shapes: a tiny labeled dataset with known label errors, for the engine's
 * end-to-end tests.
 *   shapes DIR COUNT SIZE FLIP_PERCENT SEED
 * writes DIR/img/NNNN.png (gray, SIZE x SIZE: a disc, a square or a cross,
 * at a random place and size, with noise), DIR/manifest.csv (path,label
 * with FLIP_PERCENT of the labels changed to another class) and
 * DIR/truth.csv (path,true_label,given_label,flipped). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/base.h"
#include "data/image.h"
#include "tests/fixtures.h"

static const char *const shape_names[] = {"disc", "square", "cross"};

static uint32_t
next(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

static void
draw(struct image *im, int shape, uint32_t *rs)
{
    int n = im->width;
    int r = n / 5 + (int)(next(rs) % (unsigned)(n / 6 + 1));
    int cx = r + (int)(next(rs) % (unsigned)(n - 2 * r));
    int cy = r + (int)(next(rs) % (unsigned)(n - 2 * r));
    for (int y = 0; y < n; y++)
        for (int x = 0; x < n; x++) {
            int dx = x - cx, dy = y - cy, in;
            if (shape == 0)
                in = dx * dx + dy * dy <= r * r;
            else if (shape == 1)
                in = abs(dx) <= r * 3 / 4 && abs(dy) <= r * 3 / 4;
            else
                in = (abs(dx) <= r / 4 && abs(dy) <= r) ||
                     (abs(dy) <= r / 4 && abs(dx) <= r);
            int v = (in ? 200 : 40) + (int)(next(rs) % 40u) - 20;
            im->pixels[y * n + x] = (uint8_t)v;
        }
}

int
main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: shapes DIR COUNT SIZE FLIP_PERCENT SEED\n");
        return 2;
    }
    const char *dir = argv[1];
    int count = atoi(argv[2]), size = atoi(argv[3]), flip = atoi(argv[4]);
    uint32_t rs = (uint32_t)strtoul(argv[5], NULL, 10) * 2654435761u + 1u;
    char *img = xasprintf("%s/img", dir);
    fx_mkdirs(img);
    char *mpath = xasprintf("%s/manifest.csv", dir);
    char *tpath = xasprintf("%s/truth.csv", dir);
    FILE *m = fopen(mpath, "w"), *t = fopen(tpath, "w");
    if (m == NULL || t == NULL) {
        perror(dir);
        return 1;
    }
    fprintf(m, "path,label\n");
    fprintf(t, "path,true_label,given_label,flipped\n");
    struct image im;
    char *cause = NULL;
    if (image_alloc(&im, size, size, 1, &cause) != 0) {
        fprintf(stderr, "shapes: %s\n", cause);
        return 1;
    }
    /* Exactly FLIP_PERCENT of the samples, spread evenly. */
    int n_flip = count * flip / 100;
    for (int i = 0; i < count; i++) {
        int shape = i % 3;
        draw(&im, shape, &rs);
        char *rel = xasprintf("img/%04d.png", i);
        char *path = xasprintf("%s/%s", dir, rel);
        if (image_write_png(path, &im, &cause) != 0) {
            fprintf(stderr, "shapes: %s\n", cause);
            return 1;
        }
        int flipped =
            n_flip > 0 && (i * n_flip / count) != ((i + 1) * n_flip / count);
        int given = flipped ? (shape + 1 + (int)(next(&rs) % 2u)) % 3 : shape;
        fprintf(m, "%s,%s\n", rel, shape_names[given]);
        fprintf(t, "%s,%s,%s,%d\n", rel, shape_names[shape], shape_names[given],
                flipped);
        free(rel);
        free(path);
    }
    image_fini(&im);
    if (fclose(m) != 0 || fclose(t) != 0) {
        perror(dir);
        return 1;
    }
    free(img);
    free(mpath);
    free(tpath);
    return 0;
}
