/* bigproject: a large project made fast, for timing review, export and
 * stats at up to millions of samples (tests/bench/scale.sh).
 *
 *   bigproject project OUT.db N [SRC [SEED]]
 *   bigproject tree DIR N [SRC [SEED]]
 *
 * `project` writes an N-sample project straight through the store, never
 * decoding a file: 32x32 RGB images, each a flipped and shifted copy of an
 * image of SRC (a class-folder tree of PNGs, e.g. ../shared/datasets/
 * cifar10-train-30k; "-" or absent: synthetic stripes), 10% of the labels
 * changed; then a finished run with a score for every sample, published
 * as `winnow score` publishes one, and decisions as people and exports make
 * them: human decisions on 1% of the samples (some changing the label),
 * a tenth of those undone, and accepted suggestions on 0.5%.
 * `tree` writes the same images as DIR/<class>/<n>.png, and a manifest
 * DIR/manifest.csv (path,label) naming them, for timing an import.
 *
 * The cost of the images is the point, not their content: the shift and
 * flip only keep most hashes apart, as a real dataset's are. Not part of
 * make check: built by `make bench-tools`. */
#include "config.h"

#include <errno.h>
#include <dirent.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "data/base.h"
#include "data/image.h"
#include "data/sha256.h"
#include "data/store.h"

#define BIG_SIDE    32
#define BIG_CLASSES 10
#define BIG_PIXELS  (BIG_SIDE * BIG_SIDE * 3)
/* Samples written per transaction: big enough that commits cost nothing,
 * small enough that the WAL stays modest. */
#define BIG_BATCH   20000

static const char *const big_synthetic_names[BIG_CLASSES] = {
    "airplane", "automobile", "bird",  "cat",  "deer",
    "dog",      "frog",       "horse", "ship", "truck"};

/* The base images every sample is a variant of. */
struct big_base {
    size_t n;
    uint8_t *pixels; /* n * BIG_PIXELS */
    int *label;
    char *names[BIG_CLASSES];
    int k;
};

static uint64_t
big_rand(uint64_t *s)
{
    /* splitmix64: seedable and fast; quality hardly matters here. */
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double
big_uniform(uint64_t *s)
{
    return (double)(big_rand(s) >> 11) / 9007199254740992.0;
}

static void
big_die(const char *what, const char *why)
{
    fprintf(stderr, "bigproject: %s: %s\n", what, why);
    exit(1);
}

static int
big_cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Names in dir without dot files, sorted so the base set does not depend on
 * the order readdir gives. */
static char **
big_list(const char *dir, size_t *n_out)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        big_die(dir, strerror(errno));
    char **v = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        wn_grow(&v, sizeof *v, &cap, n + 1);
        v[n++] = xstrdup(e->d_name);
    }
    closedir(d);
    if (n > 0)
        qsort(v, n, sizeof *v, big_cmp_str);
    *n_out = n;
    return v;
}

static void
big_add_base(struct big_base *b, size_t *cap, const struct image *im, int label)
{
    wn_grow(&b->pixels, BIG_PIXELS, cap, b->n + 1);
    b->label = xreallocarray(b->label, *cap, sizeof *b->label);
    struct image fit;
    char *cause = NULL;
    if (image_resize(im, BIG_SIDE, BIG_SIDE, &fit, &cause) != 0)
        big_die("resize", cause);
    uint8_t *px = b->pixels + b->n * BIG_PIXELS;
    for (size_t i = 0; i < BIG_SIDE * BIG_SIDE; i++)
        for (int c = 0; c < 3; c++)
            px[i * 3 + c] = fit.pixels[i * (size_t)fit.channels +
                                       (fit.channels == 3 ? c : 0)];
    image_fini(&fit);
    b->label[b->n++] = label;
}

static void
big_base_read(struct big_base *b, const char *src)
{
    size_t nc, cap = 0;
    char **classes = big_list(src, &nc);
    if (nc < 2 || nc > BIG_CLASSES)
        big_die(src, "expected 2 to 10 class folders");
    for (size_t c = 0; c < nc; c++) {
        char *dir = xasprintf("%s/%s", src, classes[c]);
        size_t nf;
        char **files = big_list(dir, &nf);
        for (size_t i = 0; i < nf; i++) {
            char *p = xasprintf("%s/%s", dir, files[i]);
            struct image im;
            char *cause = NULL;
            if (image_read_png(p, &im, &cause) != 0)
                big_die(p, cause);
            big_add_base(b, &cap, &im, (int)c);
            image_fini(&im);
            free(p);
            free(files[i]);
        }
        free(files);
        free(dir);
        /* The copy in ../shared has "cat\r": names lose trailing blanks. */
        char *name = classes[c];
        size_t len = strlen(name);
        while (len > 0 && (name[len - 1] == '\r' || name[len - 1] == ' '))
            name[--len] = '\0';
        b->names[c] = name;
    }
    free(classes);
    b->k = (int)nc;
}

static void
big_base_synthetic(struct big_base *b)
{
    size_t cap = 0;
    struct image im;
    char *cause = NULL;
    if (image_alloc(&im, BIG_SIDE, BIG_SIDE, 3, &cause) != 0)
        big_die("alloc", cause);
    for (int c = 0; c < BIG_CLASSES; c++) {
        for (int v = 0; v < 100; v++) {
            /* Stripes whose angle tells the class and whose phase and
             * colour tell the variant. */
            for (int y = 0; y < BIG_SIDE; y++)
                for (int x = 0; x < BIG_SIDE; x++) {
                    int t = (x * (c + 1) + y * (10 - c) + v * 3) % 32;
                    uint8_t *p = im.pixels + (y * BIG_SIDE + x) * 3;
                    p[0] = (uint8_t)(t * 8);
                    p[1] = (uint8_t)(v * 2 + c * 10);
                    p[2] = (uint8_t)(255 - t * 8);
                }
            big_add_base(b, &cap, &im, c);
        }
        b->names[c] = xstrdup(big_synthetic_names[c]);
    }
    image_fini(&im);
    b->k = BIG_CLASSES;
}

static void
big_base_fini(struct big_base *b)
{
    free(b->pixels);
    free(b->label);
    for (int c = 0; c < b->k; c++)
        free(b->names[c]);
}

/* Sample i: base image i % n, mirrored and shifted by the round it is in,
 * with its true class; *given is the label after noise. */
static int
big_sample(const struct big_base *b, size_t i, uint64_t *rs, uint8_t *px,
           int *given)
{
    size_t round = i / b->n;
    const uint8_t *src = b->pixels + (i % b->n) * BIG_PIXELS;
    int flip = (int)(round & 1), dx = (int)((round >> 1) % BIG_SIDE);
    for (int y = 0; y < BIG_SIDE; y++)
        for (int x = 0; x < BIG_SIDE; x++) {
            int sx = (x + dx) % BIG_SIDE;
            if (flip)
                sx = BIG_SIDE - 1 - sx;
            memcpy(px + (y * BIG_SIDE + x) * 3, src + (y * BIG_SIDE + sx) * 3,
                   3);
        }
    /* Rounds past 64 would repeat: a pixel tweak keeps them apart. */
    px[0] ^= (uint8_t)(round >> 6);
    int truth = b->label[i % b->n];
    *given = truth;
    if (big_uniform(rs) < 0.10)
        *given =
            (truth + 1 + (int)(big_rand(rs) % (uint64_t)(b->k - 1))) % b->k;
    return truth;
}

static void
big_hash(const uint8_t *px, unsigned char out[SHA256_LEN])
{
    /* As import hashes: the shape, then the pixels. */
    uint32_t shape[3] = {BIG_SIDE, BIG_SIDE, 3};
    struct sha256 h;
    sha256_init(&h);
    sha256_update(&h, shape, sizeof shape);
    sha256_update(&h, px, BIG_PIXELS);
    sha256_final(&h, out);
}

static void
big_check(int rc, const char *what, char *cause)
{
    if (rc != 0)
        big_die(what, cause != NULL ? cause : "failed");
}

/* A plausible score row: wrong labels mostly score high. */
static void
big_score(struct store_score *sc, int64_t id, int truth, int given, int k,
          uint64_t *rs)
{
    memset(sc, 0, sizeof *sc);
    double u = big_uniform(rs);
    double p_given = truth == given ? 0.5 + 0.5 * u : 0.4 * u;
    sc->sample_id = id;
    sc->self_confidence = 1.0 - p_given;
    sc->score = sc->self_confidence;
    sc->margin = sc->aum = sc->elr = sc->knn = NAN;
    sc->label = given;
    sc->suggested = truth != given ? truth : (given + 1) % k;
    sc->suggested_prob = truth != given ? 1.0 - p_given : 0.5 * (1 - p_given);
    sc->flagged = sc->score > 0.7;
    sc->cl_flag = sc->flagged;
    sc->top[0] = p_given >= sc->suggested_prob ? given : sc->suggested;
    sc->top[1] = sc->top[0] == given ? sc->suggested : given;
    sc->top[2] = (sc->top[0] + 2) % k;
    if (sc->top[2] == sc->top[1])
        sc->top[2] = (sc->top[2] + 1) % k;
    sc->top_prob[0] = fmax(p_given, sc->suggested_prob);
    sc->top_prob[1] = fmin(p_given, sc->suggested_prob);
    sc->top_prob[2] = fmax(0.0, 1.0 - sc->top_prob[0] - sc->top_prob[1]);
}

static void
big_project(const char *out, size_t n, const struct big_base *b, uint64_t seed)
{
    struct store *s;
    char *cause = NULL;
    uint64_t rs = seed;
    double t0 = wn_monotonic();
    big_check(store_open(out, STORE_CREATE, &s, &cause), out, cause);
    int64_t src;
    big_check(store_source_ensure(s, STORE_SOURCE_FOLDER, "/bench/bigproject",
                                  &src, &cause),
              "source", cause);
    for (int c = 0; c < b->k; c++) {
        int id;
        big_check(store_class_ensure(s, b->names[c], &id, &cause), "class",
                  cause);
    }
    struct store_score *sc = xcalloc(n, sizeof *sc);
    struct image im;
    big_check(image_alloc(&im, BIG_SIDE, BIG_SIDE, 3, &cause), "alloc", cause);
    int64_t first_id = 0;
    for (size_t i = 0; i < n; i++) {
        if (i % BIG_BATCH == 0)
            big_check(store_begin(s, &cause), "begin", cause);
        int given, truth = big_sample(b, i, &rs, im.pixels, &given);
        unsigned char h[SHA256_LEN];
        big_hash(im.pixels, h);
        char path[64];
        snprintf(path, sizeof path, "%d/%09zu.png", given, i);
        struct store_sample_new sn = {.source_id = src,
                                      .path = path,
                                      .hash = h,
                                      .width = BIG_SIDE,
                                      .height = BIG_SIDE,
                                      .channels = 3,
                                      .stored = &im,
                                      .label = given};
        int64_t id;
        big_check(store_sample_add(s, &sn, &id, &cause), "add", cause);
        if (i == 0)
            first_id = id;
        big_score(&sc[i], id, truth, given, b->k, &rs);
        if (i % BIG_BATCH == BIG_BATCH - 1 || i == n - 1)
            big_check(store_commit(s, &cause), "commit", cause);
    }
    image_fini(&im);
    double t1 = wn_monotonic();

    int64_t run;
    double *noise = xcalloc((size_t)b->k * (size_t)b->k, sizeof *noise);
    for (int c = 0; c < b->k; c++)
        for (int d = 0; d < b->k; d++)
            noise[c * b->k + d] = c == d ? 0.9 : 0.1 / (b->k - 1);
    big_check(store_run_create(s, seed, "bigproject", "bench", &run, &cause),
              "run", cause);
    big_check(store_run_publish(s, run, sc, n, noise, b->k, 0.1, 1.0, &cause),
              "publish", cause);
    free(noise);
    double t2 = wn_monotonic();

    /* Accepted suggestions first: a fresh project's only event per sample
     * is its import, whose id is then the sample's (checked by the call,
     * which fails on a wrong one). */
    size_t n_auto = n / 200, n_human = n / 100, n_undo = n_human / 10;
    struct store_auto_label *al = xcalloc(n_auto + 1, sizeof *al);
    for (size_t j = 0; j < n_auto; j++) {
        size_t i = (size_t)(big_rand(&rs) % n);
        al[j].sample_id = first_id + (int64_t)i;
        al[j].seen_event = al[j].sample_id;
        al[j].label = sc[i].suggested;
        al[j].run_id = run;
        al[j].score = sc[i].score;
        /* A sample drawn twice would see a stale event: skip it. */
        for (size_t q = 0; q < j; q++)
            if (al[q].sample_id == al[j].sample_id) {
                j--;
                n_auto--;
                break;
            }
    }
    big_check(store_label_auto(s, al, n_auto, &cause), "auto", cause);
    free(al);
    big_check(store_begin(s, &cause), "begin", cause);
    for (size_t j = 0; j < n_human; j++) {
        size_t i = (size_t)(big_rand(&rs) % n);
        int label = big_uniform(&rs) < 0.5 ? sc[i].label : sc[i].suggested;
        big_check(store_label_decide(s, first_id + (int64_t)i, label, NULL,
                                     NULL, NULL, &cause),
                  "decide", cause);
        /* Undo now and then, as a person does, a few decisions at once. */
        if (j % 50 == 49) {
            struct store_undo *u;
            size_t nu;
            big_check(store_label_undo(s, (int)(n_undo * 50 / n_human + 1), &u,
                                       &nu, &cause),
                      "undo", cause);
            store_undos_free(u, nu);
        }
    }
    big_check(store_commit(s, &cause), "commit", cause);
    free(sc);
    store_close(s);
    fprintf(stderr,
            "bigproject: %zu samples in %.1f s, run in %.1f s, "
            "decisions in %.1f s\n",
            n, t1 - t0, t2 - t1, wn_monotonic() - t2);
}

static void
big_tree(const char *dir, size_t n, const struct big_base *b, uint64_t seed)
{
    uint64_t rs = seed;
    char *cause = NULL;
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        big_die(dir, strerror(errno));
    for (int c = 0; c < b->k; c++) {
        char *p = xasprintf("%s/%s", dir, b->names[c]);
        if (mkdir(p, 0777) != 0 && errno != EEXIST)
            big_die(p, strerror(errno));
        free(p);
    }
    char *mpath = xasprintf("%s/manifest.csv", dir);
    FILE *m = fopen(mpath, "w");
    if (m == NULL)
        big_die(mpath, strerror(errno));
    fputs("path,label\n", m);
    struct image im;
    big_check(image_alloc(&im, BIG_SIDE, BIG_SIDE, 3, &cause), "alloc", cause);
    for (size_t i = 0; i < n; i++) {
        int given;
        (void)big_sample(b, i, &rs, im.pixels, &given);
        char *p = xasprintf("%s/%s/%09zu.png", dir, b->names[given], i);
        big_check(image_write_png(p, &im, &cause), "write", cause);
        fprintf(m, "%s/%09zu.png,%s\n", b->names[given], i, b->names[given]);
        free(p);
    }
    image_fini(&im);
    if (fclose(m) != 0)
        big_die(mpath, strerror(errno));
    free(mpath);
}

int
main(int argc, char **argv)
{
    if (argc < 4 || argc > 6 ||
        (strcmp(argv[1], "project") != 0 && strcmp(argv[1], "tree") != 0)) {
        fprintf(stderr, "usage: bigproject project OUT.db N [SRC [SEED]]\n"
                        "       bigproject tree DIR N [SRC [SEED]]\n");
        return 2;
    }
    char *end;
    errno = 0;
    unsigned long long n = strtoull(argv[3], &end, 10);
    if (errno != 0 || *end != '\0' || n == 0 || n > STORE_MAX_SAMPLES)
        big_die(argv[3], "N must be 1 to 10000000");
    uint64_t seed = argc == 6 ? strtoull(argv[5], NULL, 10) : 17;
    struct big_base b = {0};
    if (argc >= 5 && strcmp(argv[4], "-") != 0)
        big_base_read(&b, argv[4]);
    else
        big_base_synthetic(&b);
    if (strcmp(argv[1], "project") == 0)
        big_project(argv[2], (size_t)n, &b, seed);
    else
        big_tree(argv[2], (size_t)n, &b, seed);
    big_base_fini(&b);
    return 0;
}
