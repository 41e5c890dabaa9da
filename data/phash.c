/* data/phash.c: the DCT hash.
 *
 * The image becomes a 32x32 grey copy by area averaging (every source
 * pixel weighs by how much of each cell it covers, so the copy of a resized
 * image is nearly the copy of the original, whichever way it was resized),
 * then the 8x8 lowest frequencies of its 2-D DCT-II. The DC term is left
 * out, so brightness does not count; each of the 63 others gives one bit,
 * set when the coefficient is above their median, so contrast (a factor on
 * every coefficient) does not count either, and half the bits are set.
 * Only the 8 lowest frequencies of each axis are computed: 32x8 cosines,
 * two small matrix products. */
#include "config.h"

#include "data/phash.h"

#include <math.h>
#include <stdlib.h>

#include "data/image.h"

#define PHASH_SIDE 32 /* of the grey copy */
#define PHASH_FREQ 8  /* frequencies kept per axis */

/* Cell c of PHASH_SIDE on a side of len pixels covers [a, b) in source
 * pixel units, touching pixels lo .. hi - 1 (phash_overlap: how much of
 * each). */
static void
phash_cell(int c, int len, int *lo, int *hi, double *a, double *b)
{
    *a = (double)c * len / PHASH_SIDE;
    *b = (double)(c + 1) * len / PHASH_SIDE;
    *lo = (int)floor(*a);
    *hi = (int)ceil(*b);
    if (*hi > len)
        *hi = len;
}

static double
phash_overlap(int x, double a, double b)
{
    double lo = x > a ? x : a, hi = x + 1 < b ? x + 1 : b;
    return hi > lo ? hi - lo : 0.0;
}

/* grey: PHASH_SIDE x PHASH_SIDE cell sums (each cell covers the same area,
 * so sums compare as means do). */
static void
phash_grey(const uint8_t *px, int w, int h, int channels,
           double grey[PHASH_SIDE][PHASH_SIDE])
{
    double row[PHASH_SIDE];
    for (int y = 0; y < PHASH_SIDE; y++)
        for (int x = 0; x < PHASH_SIDE; x++)
            grey[y][x] = 0.0;
    for (int sy = 0; sy < h; sy++) {
        const uint8_t *p = px + (size_t)sy * (size_t)w * (size_t)channels;
        for (int cx = 0; cx < PHASH_SIDE; cx++) {
            int lo, hi;
            double a, b, sum = 0.0;
            phash_cell(cx, w, &lo, &hi, &a, &b);
            for (int x = lo; x < hi; x++) {
                const uint8_t *q = p + (size_t)x * (size_t)channels;
                /* Rec. 601 luma: how bright a person sees the colour. */
                double v = channels == 3
                               ? 0.299 * q[0] + 0.587 * q[1] + 0.114 * q[2]
                               : (double)q[0];
                sum += v * phash_overlap(x, a, b);
            }
            row[cx] = sum;
        }
        /* The cells this source row falls in, and by how much. */
        int c0 = (int)((int64_t)sy * PHASH_SIDE / h);
        int c1 = (int)(((int64_t)sy + 1) * PHASH_SIDE + h - 1) / h;
        for (int cy = c0; cy < c1 && cy < PHASH_SIDE; cy++) {
            int lo, hi;
            double a, b;
            phash_cell(cy, h, &lo, &hi, &a, &b);
            double wgt = phash_overlap(sy, a, b);
            if (wgt <= 0.0)
                continue;
            for (int cx = 0; cx < PHASH_SIDE; cx++)
                grey[cy][cx] += wgt * row[cx];
        }
    }
}

static int
phash_cmp_double(const void *pa, const void *pb)
{
    double a = *(const double *)pa, b = *(const double *)pb;
    return (a > b) - (a < b);
}

uint64_t
phash_pixels(const uint8_t *pixels, int w, int h, int channels)
{
    double g[PHASH_SIDE][PHASH_SIDE];
    double basis[PHASH_FREQ][PHASH_SIDE];
    double rows[PHASH_SIDE][PHASH_FREQ];
    double coef[PHASH_BITS], sorted[PHASH_BITS];

    phash_grey(pixels, w, h, channels, g);
    /* Orthonormal DCT-II: the (0, v) and (u, 0) terms weigh as much as the
     * others, which matters once they are ranked against each other. */
    for (int u = 0; u < PHASH_FREQ; u++) {
        double k = u == 0 ? sqrt(1.0 / PHASH_SIDE) : sqrt(2.0 / PHASH_SIDE);
        for (int x = 0; x < PHASH_SIDE; x++)
            basis[u][x] =
                k * cos(M_PI * (2.0 * x + 1.0) * u / (2.0 * PHASH_SIDE));
    }
    for (int y = 0; y < PHASH_SIDE; y++)
        for (int u = 0; u < PHASH_FREQ; u++) {
            double sum = 0.0;
            for (int x = 0; x < PHASH_SIDE; x++)
                sum += g[y][x] * basis[u][x];
            rows[y][u] = sum;
        }
    int n = 0;
    for (int v = 0; v < PHASH_FREQ; v++)
        for (int u = 0; u < PHASH_FREQ; u++) {
            if (u == 0 && v == 0)
                continue; /* DC: the mean brightness */
            double sum = 0.0;
            for (int y = 0; y < PHASH_SIDE; y++)
                sum += basis[v][y] * rows[y][u];
            coef[n++] = sum;
        }
    for (int i = 0; i < PHASH_BITS; i++)
        sorted[i] = coef[i];
    qsort(sorted, PHASH_BITS, sizeof *sorted, phash_cmp_double);
    double median = sorted[PHASH_BITS / 2];
    /* A flat image has only rounding noise in its coefficients: no bits,
     * rather than bits from noise. */
    double scale = fabs(sorted[0]) > fabs(sorted[PHASH_BITS - 1])
                       ? fabs(sorted[0])
                       : fabs(sorted[PHASH_BITS - 1]);
    if (scale < 1e-6 * (double)w * h)
        return 0;
    uint64_t hash = 0;
    for (int i = 0; i < PHASH_BITS; i++)
        if (coef[i] > median)
            hash |= (uint64_t)1 << i;
    return hash;
}

uint64_t
phash_image(const struct image *im)
{
    return phash_pixels(im->pixels, im->width, im->height, im->channels);
}
