/* mkpng: writes fixtures for the shell tests.
 *   mkpng OUT.png WIDTH HEIGHT CHANNELS SEED
 *   mkpng idx IMAGES LABELS COUNT ROWS COLS NCLASSES
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

int
main(int argc, char **argv)
{
    if (argc == 8 && strcmp(argv[1], "idx") == 0)
        return write_idx(argv);
    if (argc != 6) {
        fprintf(stderr, "usage: mkpng OUT.png WIDTH HEIGHT CHANNELS SEED\n"
                        "       mkpng idx IMAGES LABELS COUNT ROWS COLS "
                        "NCLASSES\n");
        return 2;
    }
    fx_png(argv[1], atoi(argv[2]), atoi(argv[3]), atoi(argv[4]),
           (uint32_t)strtoul(argv[5], NULL, 10));
    return 0;
}
