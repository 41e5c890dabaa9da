/* decode-jpeg: how much DCT scaling saves. Writes two 3000x2000 JPEGs
 * (quality 90) in memory, a smooth one (gradients, light noise: about
 * the bytes of a camera photo) and a noisy one (the worst case: entropy
 * decoding, which no scale avoids, dominates), then times image_decode
 * at full size and with the hints import gives it (--max-side), each
 * followed by the image_fit import does, best of REPS.
 *   make bench-tools && ./decode-jpeg [REPS] */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "data/base.h"
#include "data/image.h"
#include "tests/fixtures.h"

static double
now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void
bench(const uint8_t *px, int w, int h, const char *what, int reps)
{
    size_t len;
    unsigned char *jpg = fx_jpeg_mem(px, w, h, 3, NULL, &len);
    printf("%dx%d %s JPEG, %zu bytes\n", w, h, what, len);
    static const int hints[] = {0, 64, 128, 224, 512};
    for (size_t i = 0; i < WN_ARRAY_LEN(hints); i++) {
        double best = 1e9;
        struct image im, small;
        char *cause = NULL;
        for (int r = 0; r < reps; r++) {
            double t0 = now();
            if (image_decode(jpg, len, hints[i], &im, NULL, &cause) != 0 ||
                image_fit(&im, hints[i] ? hints[i] : 64, &small, &cause) != 0) {
                fprintf(stderr, "decode-jpeg: %s\n", cause);
                exit(1);
            }
            double t = now() - t0;
            best = t < best ? t : best;
            if (r + 1 < reps) {
                image_fini(&im);
                image_fini(&small);
            }
        }
        printf("hint %3d: decoded %4dx%-4d  %7.1f ms  (%.0f images/s)\n",
               hints[i], im.width, im.height, best * 1e3, 1.0 / best);
        image_fini(&im);
        image_fini(&small);
    }
    free(jpg);
}

int
main(int argc, char **argv)
{
    int reps = argc > 1 ? atoi(argv[1]) : 5, w = 3000, h = 2000;
    uint8_t *px = xmalloc((size_t)w * h * 3);
    for (int kind = 0; kind < 2; kind++) {
        if (kind == 0) {
            uint32_t s = 1;
            for (size_t i = 0; i < (size_t)w * h * 3; i++) {
                size_t x = i / 3 % (size_t)w, y = i / 3 / (size_t)w;
                s = s * 1103515245u + 12345u;
                px[i] = (uint8_t)((x * 200 / (size_t)w + y * 50 / (size_t)h +
                                   i % 3 * 5) +
                                  (s >> 29));
            }
        } else {
            fx_pixels(px, w, h, 3, 1);
        }
        bench(px, w, h, kind ? "noisy" : "smooth", reps);
    }
    free(px);
    return 0;
}
