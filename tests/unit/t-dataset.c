/* t-dataset: the samples as one tensor (engine/dataset.c).
 *
 * dataset_load on small projects made here: the planar (N, C, S, S)
 * layout from interleaved stored pixels, gray samples repeated in a colour
 * set, labels (current, imported, confirmed by a person) and ids in import
 * order, the side chosen for mixed sizes, non-square images cropped to
 * their centre square rather than stretched (and a side asked for), the
 * channel statistics against a sum done here, and the projects it
 * refuses. Then dataset_batch: the
 * normalisation, and crops and flips that are pure shifts and mirrors of
 * the image within [-pad, pad], drawn from the generator in a fixed order
 * (so a seed repeats them) and only when asked for. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/image.h"
#include "data/sha256.h"
#include "data/store.h"
#include "engine/dataset.h"
#include "engine/rng.h"
#include "tests/fixtures.h"
#include "tests/tap.h"

static char *dir;
static int project_no;

struct proj {
    struct store *s;
    int64_t src;
    int64_t ids[16];
    int n;
};

static void
proj_open(struct proj *p, int classes)
{
    char name[32], *cause = NULL;
    snprintf(name, sizeof name, "p%d.db", ++project_no);
    char *path = fx_path(dir, name);
    memset(p, 0, sizeof *p);
    if (store_open(path, STORE_CREATE, &p->s, &cause) != 0 ||
        store_source_ensure(p->s, STORE_SOURCE_FOLDER, "/nowhere", &p->src,
                            &cause) != 0)
        bail("project: %s", cause);
    for (int c = 0; c < classes; c++) {
        char cname[16];
        int id;
        snprintf(cname, sizeof cname, "class%d", c);
        if (store_class_ensure(p->s, cname, &id, &cause) != 0)
            bail("class: %s", cause);
    }
    free(path);
}

/* Add a sample whose pixels are fx_pixels(seed); returns its pixels
 * (caller frees). */
static uint8_t *
proj_add(struct proj *p, int w, int h, int c, uint32_t seed, int label)
{
    char path[32], *cause = NULL;
    unsigned char hash[SHA256_LEN];
    struct image im = {w, h, c, malloc((size_t)w * (size_t)h * (size_t)c)};
    if (im.pixels == NULL)
        bail("out of memory");
    fx_pixels(im.pixels, w, h, c, seed);
    sha256(im.pixels, (size_t)w * (size_t)h * (size_t)c, hash);
    snprintf(path, sizeof path, "s%d.png", p->n);
    struct store_sample_new in = {
        .source_id = p->src,
        .path = path,
        .hash = hash,
        .width = w,
        .height = h,
        .channels = c,
        .stored = &im,
        .label = label,
    };
    if (store_sample_add(p->s, &in, &p->ids[p->n], &cause) != 0)
        bail("sample: %s", cause);
    p->n++;
    return im.pixels;
}

static void
test_choose_side(void)
{
    is_int(dataset_choose_side(1, 32, 32), ==, 32);
    is_int(dataset_choose_side(1, 28, 28), ==, 28);
    is_int(dataset_choose_side(1, 64, 64), ==, 64);
    is_int(dataset_choose_side(0, 10, 20), ==, 20);
    is_int(dataset_choose_side(0, 10, 500), ==, DATASET_PHOTO_SIDE);
    is_int(dataset_choose_side(1, 128, 128), ==, DATASET_PHOTO_SIDE);
    is_int(dataset_choose_side(0, 128, 96), ==, DATASET_PHOTO_SIDE);
}

static void
test_load_layout(void)
{
    enum { N = 4, S = 5 };
    struct proj p;
    struct dataset d;
    char *cause = NULL;
    uint8_t *px[N];
    static const int labels[N] = {2, 0, 1, 2};

    proj_open(&p, 3);
    for (int i = 0; i < N; i++)
        px[i] =
            proj_add(&p, S, S, i == 2 ? 1 : 3, 100 + (uint32_t)i, labels[i]);
    /* A person relabels sample 3 as class 1. */
    if (store_label_append(p.s, p.ids[3], 1, STORE_LABEL_HUMAN, 0, NAN, NULL,
                           &cause) != 0)
        bail("relabel: %s", cause);
    if (dataset_load(p.s, 0, &d, &cause) != 0)
        bail("dataset_load: %s", cause);

    ok(d.n == N && d.k == 3 && d.c == 3 && d.side == S,
       "4 samples of 5x5, one gray: (4, 3, 5, 5), 3 classes");
    int planar = 1;
    for (int i = 0; i < N; i++) {
        int sc = i == 2 ? 1 : 3;
        for (int ch = 0; ch < 3; ch++)
            for (int q = 0; q < S * S; q++) {
                uint8_t want = px[i][q * sc + (sc == 1 ? 0 : ch)];
                planar &= d.pixels[((size_t)i * 3 + (size_t)ch) * S * S +
                                   (size_t)q] == want;
            }
    }
    ok(planar, "pixels are planar per sample, gray repeated on every "
               "channel");
    ok(d.label[0] == 2 && d.label[1] == 0 && d.label[2] == 1 &&
           d.label[3] == 1 && d.given[3] == 2,
       "current labels, and the imported one beside a person's");
    ok(!d.trusted[0] && !d.trusted[1] && !d.trusted[2] && d.trusted[3],
       "only the person's label is trusted");
    int ids = 1;
    for (int i = 0; i < N; i++)
        ids &= d.sample_id[i] == p.ids[i];
    ok(ids, "samples in import order, with their ids");

    /* The statistics, summed here over the planar tensor. */
    int stats = 1;
    for (int ch = 0; ch < 3; ch++) {
        double s = 0.0, s2 = 0.0;
        for (int i = 0; i < N; i++)
            for (int q = 0; q < S * S; q++) {
                double v =
                    d.pixels[((size_t)i * 3 + (size_t)ch) * S * S + (size_t)q];
                s += v;
                s2 += v * v;
            }
        double m = s / (N * S * S), sd = sqrt(s2 / (N * S * S) - m * m);
        stats &= fabs((double)d.mean[ch] - m) < 1e-4 &&
                 fabs((double)d.std[ch] - sd) < 1e-4;
    }
    ok(stats, "per-channel mean and standard deviation (population)");
    dataset_fini(&d);
    ok(d.pixels == NULL && d.n == 0, "dataset_fini empties the struct");
    for (int i = 0; i < N; i++)
        free(px[i]);
    store_close(p.s);
}

static void
test_load_sizes(void)
{
    struct proj p;
    struct dataset d;
    char *cause = NULL;

    /* Mixed sizes: the largest shorter side; all gray: one channel. */
    proj_open(&p, 2);
    free(proj_add(&p, 8, 6, 1, 1, 0));
    free(proj_add(&p, 4, 4, 1, 2, 1));
    free(proj_add(&p, 3, 7, 1, 3, 1));
    if (dataset_load(p.s, 0, &d, &cause) != 0)
        bail("dataset_load: %s", cause);
    ok(d.n == 3 && d.c == 1 && d.side == 6,
       "8x6, 4x4 and 3x7 gray images load as 3 x 1 x 6 x 6 (got %lld x %d "
       "x %d x %d)",
       (long long)d.n, d.c, d.side, d.side);
    dataset_fini(&d);
    store_close(p.s);

    /* A flat channel is divided by 1, not by almost nothing. */
    proj_open(&p, 2);
    for (int i = 0; i < 2; i++) {
        uint8_t flat[4 * 4];
        unsigned char hash[SHA256_LEN];
        memset(flat, 77, sizeof flat);
        struct image im = {4, 4, 1, flat};
        memset(hash, i, sizeof hash);
        struct store_sample_new in = {.source_id = p.src,
                                      .path = i ? "b" : "a",
                                      .hash = hash,
                                      .width = 4,
                                      .height = 4,
                                      .channels = 1,
                                      .stored = &im,
                                      .label = i};
        int64_t id;
        if (store_sample_add(p.s, &in, &id, &cause) != 0)
            bail("sample: %s", cause);
    }
    if (dataset_load(p.s, 0, &d, &cause) != 0)
        bail("dataset_load: %s", cause);
    ok(d.mean[0] == 77.0f && d.std[0] == 1.0f,
       "a flat channel: mean 77, deviation 1 (got %g, %g)", (double)d.mean[0],
       (double)d.std[0]);
    dataset_fini(&d);
    store_close(p.s);

    /* What cannot be trained on. */
    proj_open(&p, 2);
    int rc = dataset_load(p.s, 0, &d, &cause);
    ok(rc == -1 && cause != NULL && strstr(cause, "no samples") != NULL,
       "an empty project is refused: %s", cause ? cause : "(no cause)");
    free(cause);
    cause = NULL;
    store_close(p.s);
    proj_open(&p, 1);
    free(proj_add(&p, 4, 4, 1, 1, 0));
    rc = dataset_load(p.s, 0, &d, &cause);
    ok(rc == -1 && cause != NULL && strstr(cause, "at least 2") != NULL,
       "one class is refused: %s", cause ? cause : "(no cause)");
    free(cause);
    store_close(p.s);
}

/* The centre m x m of a w x h x c image, m its shorter side. */
static struct image
centre_square(const uint8_t *px, int w, int h, int c)
{
    int m = w < h ? w : h, x0 = (w - m) / 2, y0 = (h - m) / 2;
    struct image sq = {m, m, c, malloc((size_t)m * (size_t)m * (size_t)c)};
    if (sq.pixels == NULL)
        bail("out of memory");
    for (int y = 0; y < m; y++)
        memcpy(sq.pixels + (size_t)y * (size_t)m * (size_t)c,
               px + ((size_t)(y0 + y) * (size_t)w + (size_t)x0) * (size_t)c,
               (size_t)m * (size_t)c);
    return sq;
}

/* Whether sample i of d (planar) is the interleaved image want. */
static int
tensor_is(const struct dataset *d, int64_t i, const struct image *want)
{
    size_t plane = (size_t)d->side * (size_t)d->side;
    if (want->width != d->side || want->height != d->side)
        return 0;
    for (int ch = 0; ch < d->c; ch++)
        for (size_t q = 0; q < plane; q++)
            if (d->pixels[((size_t)i * (size_t)d->c + (size_t)ch) * plane +
                          q] !=
                want->pixels[q * (size_t)want->channels + (size_t)ch])
                return 0;
    return 1;
}

static void
test_load_aspect(void)
{
    struct proj p;
    struct dataset d;
    char *cause = NULL;
    enum { S = 6 };
    /* A wide and a tall photo whose shorter side is the set's side: the
     * tensor holds their centre squares, pixel for pixel. */
    proj_open(&p, 2);
    uint8_t *wide = proj_add(&p, 15, S, 3, 21, 0);
    uint8_t *tall = proj_add(&p, S, 10, 3, 22, 1);
    if (dataset_load(p.s, 0, &d, &cause) != 0)
        bail("dataset_load: %s", cause);
    struct image wsq = centre_square(wide, 15, S, 3);
    struct image tsq = centre_square(tall, S, 10, 3);
    ok(d.side == S && tensor_is(&d, 0, &wsq),
       "a 15x6 image is its centre 6x6 (columns 4..9), not a stretch");
    ok(tensor_is(&d, 1, &tsq), "a 6x10 image is its centre 6x6 (rows 2..7)");
    struct image stretched;
    struct image wsrc = {15, S, 3, wide};
    if (image_resize(&wsrc, S, S, &stretched, &cause) != 0)
        bail("resize: %s", cause);
    ok(!tensor_is(&d, 0, &stretched), "and it is not the 15x6 squeezed");
    image_fini(&stretched);
    dataset_fini(&d);

    /* A side asked for: the centre square resampled to it. */
    if (dataset_load(p.s, 4, &d, &cause) != 0)
        bail("dataset_load: %s", cause);
    struct image w4, t4;
    if (image_resize(&wsq, 4, 4, &w4, &cause) != 0 ||
        image_resize(&tsq, 4, 4, &t4, &cause) != 0)
        bail("resize: %s", cause);
    ok(d.side == 4 && tensor_is(&d, 0, &w4) && tensor_is(&d, 1, &t4),
       "side 4 asked for: each centre square resampled to 4x4");
    image_fini(&w4);
    image_fini(&t4);
    image_fini(&wsq);
    image_fini(&tsq);
    dataset_fini(&d);
    free(wide);
    free(tall);
    store_close(p.s);
}

/* A dataset made by hand: n random images of c x s x s. */
static void
fake_dataset(struct dataset *d, int n, int c, int s, uint64_t seed)
{
    struct rng r;
    rng_seed(&r, seed);
    memset(d, 0, sizeof *d);
    d->n = n;
    d->c = c;
    d->side = s;
    d->k = 4;
    size_t bytes = (size_t)n * (size_t)c * (size_t)s * (size_t)s;
    d->pixels = malloc(bytes);
    d->label = calloc((size_t)n, sizeof *d->label);
    d->given = calloc((size_t)n, sizeof *d->given);
    d->trusted = calloc((size_t)n, sizeof *d->trusted);
    d->sample_id = calloc((size_t)n, sizeof *d->sample_id);
    if (d->pixels == NULL || d->label == NULL || d->given == NULL ||
        d->trusted == NULL || d->sample_id == NULL)
        bail("out of memory");
    for (size_t i = 0; i < bytes; i++)
        d->pixels[i] = (uint8_t)(1 + rng_below(&r, 255)); /* never black */
    for (int i = 0; i < n; i++)
        d->label[i] = (int32_t)rng_below(&r, 4);
    for (int ch = 0; ch < c; ch++) {
        d->mean[ch] = 100.0f + 10.0f * (float)ch;
        d->std[ch] = 50.0f + 5.0f * (float)ch;
    }
}

static double
normalised(const struct dataset *d, int ch, double v)
{
    return (v - (double)d->mean[ch]) / (double)d->std[ch];
}

static void
test_batch_plain(void)
{
    struct dataset d;
    struct rng r, before;
    enum { BN = 3 };
    fake_dataset(&d, 5, 3, 6, 1);
    int32_t idx[BN] = {4, 0, 2};
    float x[BN * 3 * 36];
    int y[BN];
    rng_seed(&r, 5);
    before = r;
    dataset_batch(&d, idx, BN, 0, 0, &r, x, y);
    double worst = 0.0;
    for (int b = 0; b < BN; b++)
        for (int ch = 0; ch < 3; ch++)
            for (int q = 0; q < 36; q++) {
                size_t at = ((size_t)b * 3 + (size_t)ch) * 36 + (size_t)q;
                size_t src = ((size_t)idx[b] * 3 + (size_t)ch) * 36 + (size_t)q;
                worst = fmax(worst, fabs((double)x[at] -
                                         normalised(&d, ch, d.pixels[src])));
            }
    ok(worst < 1e-5,
       "no augmentation: (pixel - mean) / std, in place "
       "(worst error %.1e)",
       worst);
    ok(y[0] == d.label[4] && y[1] == d.label[0] && y[2] == d.label[2],
       "the labels of the samples asked for");
    ok(memcmp(&r, &before, sizeof r) == 0,
       "nothing is drawn without crops or flips");
    dataset_fini(&d);
}

/* Find the shift and mirror that make image b of x from sample i: each
 * pixel is the source pixel at (y + dy, (mirrored x) + dx), or black
 * outside. Returns 0 and the offsets when exactly one candidate fits. */
static int
find_shift(const struct dataset *d, const float *x, int i, int pad, int *dx,
           int *dy, int *mirror)
{
    int s = d->side, c = d->c, found = 0;
    for (int m = 0; m <= 1; m++)
        for (int oy = -pad; oy <= pad; oy++)
            for (int ox = -pad; ox <= pad; ox++) {
                int fits = 1;
                for (int ch = 0; ch < c && fits; ch++)
                    for (int yy = 0; yy < s && fits; yy++)
                        for (int xx = 0; xx < s && fits; xx++) {
                            int sy = yy + oy, sx = (m ? s - 1 - xx : xx) + ox;
                            double v = 0.0; /* black */
                            if (sy >= 0 && sy < s && sx >= 0 && sx < s)
                                v = d->pixels[(((size_t)i * c + ch) * s +
                                               (size_t)sy) *
                                                  s +
                                              (size_t)sx];
                            fits =
                                fabs((double)
                                         x[((size_t)ch * s + (size_t)yy) * s +
                                           (size_t)xx] -
                                     normalised(d, ch, v)) < 1e-5;
                        }
                if (fits) {
                    found++;
                    *dx = ox;
                    *dy = oy;
                    *mirror = m;
                }
            }
    return found == 1 ? 0 : -1;
}

static void
test_batch_augment(int c, int flip)
{
    enum { N = 6, S = 8, PAD = 2, BN = 4, ROUNDS = 150 };
    struct dataset d;
    struct rng r, replay;
    fake_dataset(&d, N, c, S, 2);
    float *x = malloc(sizeof(float) * BN * (size_t)c * S * S);
    float *x2 = malloc(sizeof(float) * BN * (size_t)c * S * S);
    int y[BN];
    if (x == NULL || x2 == NULL)
        bail("out of memory");
    rng_seed(&r, 77);
    replay = r;
    int shifts = 1, drawn_so = 1, repeat = 1;
    int seen_dx[2 * PAD + 1] = {0}, seen_dy[2 * PAD + 1] = {0}, mirrored = 0;
    for (int k = 0; k < ROUNDS; k++) {
        int32_t idx[BN];
        for (int b = 0; b < BN; b++)
            idx[b] = (k + 3 * b) % N;
        struct rng again = r;
        dataset_batch(&d, idx, BN, PAD, flip, &r, x, y);
        dataset_batch(&d, idx, BN, PAD, flip, &again, x2, y);
        repeat &= memcmp(x, x2, sizeof(float) * BN * (size_t)c * S * S) == 0 &&
                  memcmp(&r, &again, sizeof r) == 0;
        for (int b = 0; b < BN; b++) {
            int dx, dy, m;
            const float *img = x + (size_t)b * (size_t)c * S * S;
            if (find_shift(&d, img, idx[b], PAD, &dx, &dy, &m) != 0) {
                shifts = 0;
                continue;
            }
            /* Two draws below 2 * pad + 1, then one word's top bit. */
            int want_dx = (int)rng_below(&replay, 2 * PAD + 1) - PAD;
            int want_dy = (int)rng_below(&replay, 2 * PAD + 1) - PAD;
            int want_m = flip ? (int)(rng_u32(&replay) >> 31) : 0;
            drawn_so &= dx == want_dx && dy == want_dy && m == want_m;
            seen_dx[dx + PAD]++;
            seen_dy[dy + PAD]++;
            mirrored += m;
        }
    }
    ok(shifts,
       "%s%s: every image is its sample shifted within [-%d, %d], "
       "black outside",
       c == 3 ? "colour" : "gray", flip ? ", flips" : "", PAD, PAD);
    ok(drawn_so && memcmp(&r, &replay, sizeof r) == 0,
       "%s%s: the offsets are the generator's draws, in order, and no more",
       c == 3 ? "colour" : "gray", flip ? ", flips" : "");
    ok(repeat, "%s%s: the same generator state gives the same batch",
       c == 3 ? "colour" : "gray", flip ? ", flips" : "");
    int every = 1;
    for (int o = 0; o < 2 * PAD + 1; o++)
        every &= seen_dx[o] > 0 && seen_dy[o] > 0;
    ok(every, "every offset from -%d to %d occurs", PAD, PAD);
    if (flip)
        ok(mirrored > ROUNDS * BN / 4 && mirrored < ROUNDS * BN * 3 / 4,
           "about half the images are mirrored (%d of %d)", mirrored,
           ROUNDS * BN);
    else
        ok(mirrored == 0, "nothing is mirrored without flips");
    free(x);
    free(x2);
    dataset_fini(&d);
}

int
main(void)
{
    dir = fx_tmpdir("t-dataset");
    test_choose_side();
    test_load_layout();
    test_load_sizes();
    test_load_aspect();
    test_batch_plain();
    test_batch_augment(3, 1);
    test_batch_augment(1, 0);
    fx_rmtree(dir);
    free(dir);
    return done_testing();
}
