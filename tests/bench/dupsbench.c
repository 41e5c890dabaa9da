/* dupsbench: how well and how fast the perceptual hash finds near-
 * duplicates (tests/bench/dups.sh; figures in BENCHMARKS.md).
 *
 *   dupsbench quality ROOT N_BASE N_DISTINCT SEED
 *   dupsbench speed-dir ROOT THRESHOLD
 *   dupsbench speed N PLANTED THRESHOLD SEED
 *   dupsbench make ROOT N_BASE N_DISTINCT SEED OUT
 *   dupsbench judge DB
 *
 * quality reads the PNGs of the class folders ROOT/<class>/, takes N_BASE
 * of them (drawn with SEED) and makes variants of each (resized down and
 * up, JPEG at quality 30 to 90 through libjpeg, cropped to 80-95%,
 * brighter, of more contrast, flipped, and combinations), then mixes in
 * N_DISTINCT other images of the folder. Each image is hashed as import
 * hashes it (phash_image of the copy image_fit keeps, at most 64 on a
 * side). Then, for every threshold: the recall of (original, variant)
 * pairs by kind of variant, and the precision of all pairs found (a pair
 * is right when both come from one original; an original and its
 * variants are a family, and pairs within it count as right).
 * speed-dir hashes every PNG under ROOT and times the search of all pairs
 * and the grouping, against brute force.
 * speed draws N random hashes and PLANTED near copies (each up to
 * THRESHOLD bits away from a random one of them), times the search, and
 * checks that every planted pair is found.
 *
 * make writes the images quality makes (the same for the same SEED) as
 * PNGs under OUT/<class>/ (bNNNN-o.png an original, bNNNN-kKK.png its
 * variant of kind KK, dNNNNN.png another image), for a project: import
 * OUT, score it, then judge reads the project's hashes and its latest
 * run's features and reports, by kind of variant and for the hash, the
 * features by cosine threshold, and both, the recall of (original,
 * variant) pairs and the precision of all pairs.
 *
 * Built with `make bench-tools`; not part of make check. */
#include "config.h"

#include <dirent.h>
#include <stdint.h>
#include <math.h>
#include <sys/stat.h>
#include <stdarg.h>
#include <stdio.h> /* before jpeglib.h, which uses FILE */
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>

#include "data/base.h"
#include "data/dups.h"
#include "data/image.h"
#include "data/phash.h"
#include "data/store.h"
#include "engine/featpairs.h"

#define BENCH_STORED_SIDE 64 /* IMPORT_DEFAULT_MAX_SIDE */

WN_PRINTF(1, 2) WN_NORETURN static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("dupsbench: ", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

/* splitmix64: the benchmark's own generator, so figures stay comparable
 * whatever becomes of the engine's. */
static uint64_t
rnd(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every *.png under ROOT/<class>/, sorted. */
static char **
list_pngs(const char *root, size_t *n_out)
{
    char **v = NULL;
    size_t n = 0, cap = 0;
    DIR *d = opendir(root);
    if (d == NULL)
        die("%s: cannot open", root);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char *cls = xasprintf("%s/%s", root, e->d_name);
        DIR *c = opendir(cls);
        if (c != NULL) {
            struct dirent *f;
            while ((f = readdir(c)) != NULL) {
                size_t len = strlen(f->d_name);
                if (len < 4 || strcmp(f->d_name + len - 4, ".png") != 0)
                    continue;
                wn_grow(&v, sizeof *v, &cap, n + 1);
                v[n++] = xasprintf("%s/%s", cls, f->d_name);
            }
            closedir(c);
        }
        free(cls);
    }
    closedir(d);
    qsort(v, n, sizeof *v, cmp_str);
    *n_out = n;
    return v;
}

static void
read_png(const char *path, struct image *im)
{
    char *cause = NULL;
    if (image_read_png(path, im, &cause) != 0)
        die("%s", cause);
}

/* As import: the copy kept (at most 64 on a side), then its hash. */
static uint64_t
hash_as_import(const struct image *im)
{
    struct image kept;
    char *cause = NULL;
    if (image_fit(im, BENCH_STORED_SIDE, &kept, &cause) != 0)
        die("%s", cause);
    uint64_t h = phash_image(&kept);
    image_fini(&kept);
    return h;
}

/* ---- variants ---- */

static void
copy_image(const struct image *src, struct image *out)
{
    char *cause = NULL;
    if (image_alloc(out, src->width, src->height, src->channels, &cause) != 0)
        die("%s", cause);
    memcpy(out->pixels, src->pixels,
           (size_t)src->width * src->height * src->channels);
}

static void
resize(const struct image *src, int w, int h, struct image *out)
{
    char *cause = NULL;
    if (image_resize(src, w, h, out, &cause) != 0)
        die("%s", cause);
}

static void
jpeg_round_trip(const struct image *src, int quality, struct image *out)
{
    struct jpeg_compress_struct c;
    struct jpeg_decompress_struct d;
    struct jpeg_error_mgr jerr;
    unsigned char *buf = NULL;
    unsigned long len = 0;
    c.err = jpeg_std_error(&jerr);
    jpeg_create_compress(&c);
    jpeg_mem_dest(&c, &buf, &len);
    c.image_width = (JDIMENSION)src->width;
    c.image_height = (JDIMENSION)src->height;
    c.input_components = src->channels;
    c.in_color_space = src->channels == 3 ? JCS_RGB : JCS_GRAYSCALE;
    jpeg_set_defaults(&c);
    jpeg_set_quality(&c, quality, TRUE);
    jpeg_start_compress(&c, TRUE);
    size_t stride = (size_t)src->width * src->channels;
    while (c.next_scanline < c.image_height) {
        JSAMPROW row = src->pixels + c.next_scanline * stride;
        jpeg_write_scanlines(&c, &row, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);

    d.err = jpeg_std_error(&jerr);
    jpeg_create_decompress(&d);
    jpeg_mem_src(&d, buf, len);
    jpeg_read_header(&d, TRUE);
    d.out_color_space = src->channels == 3 ? JCS_RGB : JCS_GRAYSCALE;
    jpeg_start_decompress(&d);
    char *cause = NULL;
    if (image_alloc(out, (int)d.output_width, (int)d.output_height,
                    d.output_components, &cause) != 0)
        die("%s", cause);
    while (d.output_scanline < d.output_height) {
        JSAMPROW row = out->pixels + d.output_scanline * stride;
        jpeg_read_scanlines(&d, &row, 1);
    }
    jpeg_finish_decompress(&d);
    jpeg_destroy_decompress(&d);
    free(buf);
}

/* The central frac of each side. */
static void
crop(const struct image *src, double frac, struct image *out)
{
    int w = (int)(src->width * frac + 0.5), h = (int)(src->height * frac + 0.5);
    int x0 = (src->width - w) / 2, y0 = (src->height - h) / 2;
    char *cause = NULL;
    if (image_alloc(out, w, h, src->channels, &cause) != 0)
        die("%s", cause);
    size_t c = (size_t)src->channels;
    for (int y = 0; y < h; y++)
        memcpy(out->pixels + (size_t)y * w * c,
               src->pixels + ((size_t)(y0 + y) * src->width + x0) * c,
               (size_t)w * c);
}

static uint8_t
clamp(double v)
{
    return v < 0.0 ? 0 : v > 255.0 ? 255 : (uint8_t)(v + 0.5);
}

/* v' = (v - 128) * contrast + 128 + brightness */
static void
tone(const struct image *src, double brightness, double contrast,
     struct image *out)
{
    copy_image(src, out);
    size_t n = (size_t)src->width * src->height * src->channels;
    for (size_t i = 0; i < n; i++)
        out->pixels[i] =
            clamp((src->pixels[i] - 128.0) * contrast + 128.0 + brightness);
}

static void
flip(const struct image *src, struct image *out)
{
    copy_image(src, out);
    size_t c = (size_t)src->channels;
    for (int y = 0; y < src->height; y++)
        for (int x = 0; x < src->width; x++)
            memcpy(out->pixels + ((size_t)y * src->width + x) * c,
                   src->pixels +
                       ((size_t)y * src->width + (src->width - 1 - x)) * c,
                   c);
}

enum kind {
    K_DOWN,
    K_UP,
    K_JPEG90,
    K_JPEG70,
    K_JPEG50,
    K_JPEG30,
    K_CROP95,
    K_CROP90,
    K_CROP80,
    K_BRIGHT,
    K_CONTRAST,
    K_FLIP,
    K_COMBO,
    K_COMBO_CROP,
    K_COUNT
};

static const char *const kind_name[K_COUNT] = {
    "resize 24x24",
    "resize 64x64",
    "JPEG q90",
    "JPEG q70",
    "JPEG q50",
    "JPEG q30",
    "crop 95%",
    "crop 90%",
    "crop 80%",
    "brightness +25",
    "contrast x1.3",
    "flip",
    "64x64+JPEG q50+bright +15",
    "crop 90%+JPEG q70",
};

static void
variant(const struct image *src, enum kind k, struct image *out)
{
    struct image a = {0}, b = {0};
    switch (k) {
    case K_DOWN:
        resize(src, src->width * 3 / 4, src->height * 3 / 4, out);
        break;
    case K_UP: resize(src, src->width * 2, src->height * 2, out); break;
    case K_JPEG90: jpeg_round_trip(src, 90, out); break;
    case K_JPEG70: jpeg_round_trip(src, 70, out); break;
    case K_JPEG50: jpeg_round_trip(src, 50, out); break;
    case K_JPEG30: jpeg_round_trip(src, 30, out); break;
    case K_CROP95: crop(src, 0.95, out); break;
    case K_CROP90: crop(src, 0.90, out); break;
    case K_CROP80: crop(src, 0.80, out); break;
    case K_BRIGHT: tone(src, 25.0, 1.0, out); break;
    case K_CONTRAST: tone(src, 0.0, 1.3, out); break;
    case K_FLIP: flip(src, out); break;
    case K_COMBO:
        resize(src, src->width * 2, src->height * 2, &a);
        jpeg_round_trip(&a, 50, &b);
        tone(&b, 15.0, 1.0, out);
        break;
    case K_COMBO_CROP:
        crop(src, 0.90, &a);
        jpeg_round_trip(&a, 70, out);
        break;
    case K_COUNT: break;
    }
    image_fini(&a);
    image_fini(&b);
}

/* ---- quality ---- */

static int
quality(const char *root, size_t n_base, size_t n_distinct, uint64_t seed)
{
    size_t n_files;
    char **files = list_pngs(root, &n_files);
    if (n_base + n_distinct > n_files)
        die("%s: %zu images, %zu asked for", root, n_files,
            n_base + n_distinct);
    for (size_t i = n_files - 1; i > 0; i--) { /* Fisher-Yates */
        size_t j = (size_t)(rnd(&seed) % (i + 1));
        char *t = files[i];
        files[i] = files[j];
        files[j] = t;
    }
    size_t per = 1 + K_COUNT;
    size_t n = n_base * per + n_distinct;
    uint64_t *h = xmalloc(n * sizeof *h);
    int64_t *family = xmalloc(n * sizeof *family); /* -1: distractor */
    int *kind = xmalloc(n * sizeof *kind);         /* -1: original */
    size_t at = 0;
    for (size_t b = 0; b < n_base; b++) {
        struct image im;
        read_png(files[b], &im);
        family[at] = (int64_t)b;
        kind[at] = -1;
        h[at++] = hash_as_import(&im);
        for (int k = 0; k < K_COUNT; k++) {
            struct image v;
            variant(&im, (enum kind)k, &v);
            family[at] = (int64_t)b;
            kind[at] = k;
            h[at++] = hash_as_import(&v);
            image_fini(&v);
        }
        image_fini(&im);
    }
    for (size_t i = 0; i < n_distinct; i++) {
        struct image im;
        read_png(files[n_base + i], &im);
        family[at] = -1;
        kind[at] = -1;
        h[at++] = hash_as_import(&im);
        image_fini(&im);
    }

    struct dups_pair *p;
    size_t np;
    char *cause = NULL;
    if (dups_pairs(h, n, DUPS_MAX_THRESHOLD, &p, &np, &cause) != 0)
        die("%s", cause);
    printf("images: %zu originals, %zu variants of them (%d kinds), %zu "
           "others; %zu in all\n",
           n_base, n_base * K_COUNT, K_COUNT, n_distinct, n);
    /* found[T][k]: (original, variant of kind k) pairs within T;
     * right[T], all[T]: pairs within T that are in one family, and all. */
    size_t found[DUPS_MAX_THRESHOLD + 1][K_COUNT];
    size_t right[DUPS_MAX_THRESHOLD + 1], all[DUPS_MAX_THRESHOLD + 1];
    memset(found, 0, sizeof found);
    memset(right, 0, sizeof right);
    memset(all, 0, sizeof all);
    for (size_t i = 0; i < np; i++) {
        uint32_t a = p[i].a, b = p[i].b;
        int same = family[a] >= 0 && family[a] == family[b];
        for (int t = p[i].distance; t <= DUPS_MAX_THRESHOLD; t++) {
            all[t]++;
            right[t] += (size_t)same;
            if (same && kind[a] == -1 && kind[b] >= 0)
                found[t][kind[b]]++;
        }
    }
    printf("\n| T | precision | recall (hash-friendly kinds) | recall (all "
           "kinds) | F1 (hash-friendly) | pairs found |\n");
    printf("| ---: | ---: | ---: | ---: | ---: | ---: |\n");
    for (int t = 0; t <= DUPS_MAX_THRESHOLD; t++) {
        size_t tp = 0, tp_friendly = 0, n_friendly = 0;
        for (int k = 0; k < K_COUNT; k++) {
            tp += found[t][k];
            /* Flips and deep crops move a DCT hash as far as another
             * picture: the features are for those (issue 16). */
            if (k != K_FLIP && k != K_CROP80 && k != K_CROP90 &&
                k != K_COMBO_CROP) {
                tp_friendly += found[t][k];
                n_friendly += n_base;
            }
        }
        double prec = all[t] ? (double)right[t] / (double)all[t] : 1.0;
        double rf = (double)tp_friendly / (double)n_friendly;
        double ra = (double)tp / (double)(n_base * K_COUNT);
        printf("| %d | %.4f | %.4f | %.4f | %.4f | %zu |\n", t, prec, rf, ra,
               prec + rf > 0 ? 2 * prec * rf / (prec + rf) : 0.0, all[t]);
    }
    printf("\nrecall by kind:\n\n| kind |");
    for (int t = 4; t <= 12; t += 2)
        printf(" T=%d |", t);
    printf("\n| --- |");
    for (int t = 4; t <= 12; t += 2)
        printf(" ---: |");
    printf("\n");
    for (int k = 0; k < K_COUNT; k++) {
        printf("| %s |", kind_name[k]);
        for (int t = 4; t <= 12; t += 2)
            printf(" %.3f |", (double)found[t][k] / (double)n_base);
        printf("\n");
    }
    free(p);
    free(h);
    free(family);
    free(kind);
    for (size_t i = 0; i < n_files; i++)
        free(files[i]);
    free(files);
    return 0;
}

/* ---- speed ---- */

static size_t
brute_count(const uint64_t *h, size_t n, int t)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            c += phash_distance(h[i], h[j]) <= t;
    return c;
}

static void
time_search(const uint64_t *h, size_t n, int t, int brute)
{
    struct dups_pair *p;
    size_t np;
    char *cause = NULL;
    double t0 = wn_monotonic();
    if (dups_pairs(h, n, t, &p, &np, &cause) != 0)
        die("%s", cause);
    double t1 = wn_monotonic();
    struct dups_sample *s = xcalloc(n, sizeof *s);
    for (size_t i = 0; i < n; i++)
        s[i] = (struct dups_sample){
            .phash = h[i], .exact = (uint32_t)i, .label = 0, .split = -1};
    struct dups d;
    if (dups_group(s, n, t, &d, &cause) != 0)
        die("%s", cause);
    double t2 = wn_monotonic();
    printf("n=%zu T=%d: %zu pairs in %.3f s; grouping (search + "
           "union-find) %.3f s, %zu groups\n",
           n, t, np, t1 - t0, t2 - t1, d.n_groups);
    if (brute) {
        double b0 = wn_monotonic();
        size_t nb = brute_count(h, n, t);
        printf("brute force: %zu pairs in %.3f s%s\n", nb, wn_monotonic() - b0,
               nb == np ? "" : " (MISMATCH)");
    }
    dups_fini(&d);
    free(s);
    free(p);
}

static int
speed_dir(const char *root, int t)
{
    size_t n;
    char **files = list_pngs(root, &n);
    uint64_t *h = xmalloc((n ? n : 1) * sizeof *h);
    double t0 = wn_monotonic();
    for (size_t i = 0; i < n; i++) {
        struct image im;
        read_png(files[i], &im);
        h[i] = hash_as_import(&im);
        image_fini(&im);
        free(files[i]);
    }
    free(files);
    printf("%zu images read and hashed in %.2f s\n", n, wn_monotonic() - t0);
    time_search(h, n, t, 1);
    free(h);
    return 0;
}

static int
speed(size_t n, size_t planted, int t, uint64_t seed)
{
    uint64_t *h = xmalloc((n + planted) * sizeof *h);
    for (size_t i = 0; i < n; i++)
        h[i] = rnd(&seed) >> 1; /* 63 bits, as phash */
    for (size_t i = 0; i < planted; i++) {
        uint64_t v = h[rnd(&seed) % n];
        int flips = (int)(rnd(&seed) % (uint64_t)(t + 1));
        for (int f = 0; f < flips; f++)
            v ^= (uint64_t)1 << (rnd(&seed) % PHASH_BITS);
        h[n + i] = v;
    }
    time_search(h, n + planted, t, n + planted <= 50000);
    free(h);
    return 0;
}

/* ---- a project of the variants, and its pairs judged ---- */

static const char *
class_of(const char *path)
{
    static char buf[256];
    const char *end = strrchr(path, '/');
    const char *start = end;
    while (start > path && start[-1] != '/')
        start--;
    snprintf(buf, sizeof buf, "%.*s", (int)(end - start), start);
    return buf;
}

static void
write_png(const char *out, const char *cls, const char *name,
          const struct image *im)
{
    char *dir = xasprintf("%s/%s", out, cls);
    mkdir(dir, 0777);
    char *path = xasprintf("%s/%s", dir, name);
    char *cause = NULL;
    if (image_write_png(path, im, &cause) != 0)
        die("%s", cause);
    free(path);
    free(dir);
}

static int
make_dir(const char *root, size_t n_base, size_t n_distinct, uint64_t seed,
         const char *out)
{
    size_t n_files;
    char **files = list_pngs(root, &n_files);
    if (n_base + n_distinct > n_files)
        die("%s: %zu images, %zu asked for", root, n_files,
            n_base + n_distinct);
    for (size_t i = n_files - 1; i > 0; i--) { /* as quality draws them */
        size_t j = (size_t)(rnd(&seed) % (i + 1));
        char *t = files[i];
        files[i] = files[j];
        files[j] = t;
    }
    mkdir(out, 0777);
    char name[64];
    for (size_t b = 0; b < n_base; b++) {
        struct image im;
        read_png(files[b], &im);
        const char *cls = class_of(files[b]);
        snprintf(name, sizeof name, "b%04zu-o.png", b);
        write_png(out, cls, name, &im);
        for (int k = 0; k < K_COUNT; k++) {
            struct image v;
            variant(&im, (enum kind)k, &v);
            snprintf(name, sizeof name, "b%04zu-k%02d.png", b, k);
            write_png(out, cls, name, &v);
            image_fini(&v);
        }
        image_fini(&im);
    }
    for (size_t i = 0; i < n_distinct; i++) {
        struct image im;
        read_png(files[n_base + i], &im);
        snprintf(name, sizeof name, "d%05zu.png", i);
        write_png(out, class_of(files[n_base + i]), name, &im);
        image_fini(&im);
    }
    for (size_t i = 0; i < n_files; i++)
        free(files[i]);
    free(files);
    return 0;
}

/* Family and kind from a made name: -1 for another image's family, -1
 * for an original's kind. */
static void
parse_made(const char *path, int64_t *family, int *kind)
{
    const char *base = strrchr(path, '/');
    base = base != NULL ? base + 1 : path;
    *family = -1;
    *kind = -1;
    long b;
    int k;
    if (sscanf(base, "b%ld-k%d.png", &b, &k) == 2) {
        *family = b;
        *kind = k;
    } else if (sscanf(base, "b%ld-o.png", &b) == 1) {
        *family = b;
    }
}

#define JUDGE_T 8
static const double judge_cos[] = {0.80, 0.85, 0.90, 0.93, 0.95,
                                   0.96, 0.97, 0.98, 0.99};
#define JUDGE_NC (sizeof judge_cos / sizeof judge_cos[0])

struct judge_count {
    size_t all, right, found[K_COUNT];
};

static void
judge_add(struct judge_count *c, const int64_t *family, const int *kind,
          uint32_t a, uint32_t b)
{
    int same = family[a] >= 0 && family[a] == family[b];
    c->all++;
    c->right += (size_t)same;
    if (same && kind[a] == -1 && kind[b] >= 0)
        c->found[kind[b]]++;
    else if (same && kind[b] == -1 && kind[a] >= 0)
        c->found[kind[a]]++;
}

static void
judge_row(const char *what, const struct judge_count *c, size_t n_base)
{
    size_t tp = 0;
    for (int k = 0; k < K_COUNT; k++)
        tp += c->found[k];
    double prec = c->all ? (double)c->right / (double)c->all : 1.0;
    double rec = (double)tp / (double)(n_base * K_COUNT);
    printf("| %s | %.4f | %.4f | %.3f | %.3f | %.3f | %zu |\n", what, prec, rec,
           (double)c->found[K_FLIP] / (double)n_base,
           (double)c->found[K_CROP80] / (double)n_base,
           (double)c->found[K_CROP90] / (double)n_base, c->all);
}

/* Each sample's detail: the deviation of its stored pixels (all
 * channels), by index of the import order. */
struct detail_walk {
    double *detail;
    size_t at, n;
};

static int
detail_one(void *ctx, const struct store_sample *smp, char **cause)
{
    struct detail_walk *w = ctx;
    (void)cause;
    size_t len = (size_t)smp->stored_width * (size_t)smp->stored_height *
                 (size_t)smp->channels;
    double s = 0, ss = 0;
    for (size_t i = 0; i < len; i++) {
        s += smp->pixels[i];
        ss += (double)smp->pixels[i] * smp->pixels[i];
    }
    double mean = len ? s / (double)len : 0,
           var = len ? ss / (double)len - mean * mean : 0;
    if (w->at < w->n)
        w->detail[w->at++] = var > 0 ? sqrt(var) : 0;
    return 0;
}

/* Hash pairs by the lesser detail of the two: how many, how many right,
 * and how many the features confirm (cosine >= 0.90). */
static void
judge_detail(struct store *s, size_t n, const int64_t *family,
             const struct dups_pair *hp, size_t nhp,
             const struct featpairs_pair *fp, size_t nfp)
{
    struct detail_walk w = {xcalloc(n + 1, sizeof(double)), 0, n};
    char *cause = NULL;
    if (store_foreach_sample(s, detail_one, &w, &cause) != 0)
        die("%s", cause);
    uint64_t *fk = xmalloc((nfp + 1) * sizeof *fk);
    size_t nfk = 0;
    for (size_t i = 0; i < nfp; i++)
        if ((double)fp[i].similarity >= 0.90)
            fk[nfk++] = (uint64_t)fp[i].a * n + (uint64_t)fp[i].b;
    static const double edges[] = {8, 16, 24, 32, 1e9};
    printf("\nhash pairs (T = %d) by the lesser pixel deviation of the two "
           "(of 255):\n\n| deviation below | pairs | right | features "
           "agree (cos >= 0.90) | right among those |\n| ---: | ---: | ---: "
           "| ---: | ---: |\n",
           JUDGE_T);
    for (size_t e = 0; e < sizeof edges / sizeof edges[0]; e++) {
        double lo = e > 0 ? edges[e - 1] : 0;
        size_t all = 0, right = 0, agree = 0, agree_right = 0;
        for (size_t i = 0; i < nhp; i++) {
            double d = fmin(w.detail[hp[i].a], w.detail[hp[i].b]);
            if (d < lo || d >= edges[e])
                continue;
            int same =
                family[hp[i].a] >= 0 && family[hp[i].a] == family[hp[i].b];
            uint64_t key = (uint64_t)hp[i].a * n + hp[i].b;
            int ok = 0;
            for (size_t lo2 = 0, hi2 = nfk; lo2 < hi2;) {
                size_t mid = (lo2 + hi2) / 2;
                if (fk[mid] == key) {
                    ok = 1;
                    break;
                }
                if (fk[mid] < key)
                    lo2 = mid + 1;
                else
                    hi2 = mid;
            }
            all++;
            right += (size_t)same;
            agree += (size_t)ok;
            agree_right += (size_t)(ok && same);
        }
        printf("| %.0f-%s | %zu | %zu | %zu | %zu |\n", lo,
               edges[e] > 1e8 ? ""
                              : (e == 0   ? "8"
                                 : e == 1 ? "16"
                                 : e == 2 ? "24"
                                          : "32"),
               all, right, agree, agree_right);
    }
    free(fk);
    free(w.detail);
}

static int
judge(const char *db)
{
    struct store *s;
    char *cause = NULL;
    if (store_open(db, STORE_READONLY, &s, &cause) != 0)
        die("%s: %s", db, cause);
    struct dups_project p;
    if (dups_load(s, &p, NULL, NULL, &cause) != 0)
        die("%s", cause);
    int64_t run;
    float *feat;
    int64_t rows;
    int cols;
    if (store_run_array_latest(s, STORE_ARRAY_FEATURES, &run, &cause) != 0 ||
        run == 0 ||
        store_run_array_get(s, run, STORE_ARRAY_FEATURES, &feat, &rows, &cols,
                            &cause) != 0)
        die("%s: no run with features (%s)", db, cause ? cause : "score it");
    if ((size_t)rows != p.n)
        die("%s: run %lld scored %lld of %zu samples", db, (long long)run,
            (long long)rows, p.n);
    size_t n = p.n, n_base = 0;
    int64_t *family = xmalloc(n * sizeof *family);
    int *kind = xmalloc(n * sizeof *kind);
    uint64_t *h = xmalloc(n * sizeof *h);
    for (size_t i = 0; i < n; i++) {
        parse_made(p.paths[i], &family[i], &kind[i]);
        n_base += family[i] >= 0 && kind[i] == -1;
        h[i] = p.samples[i].phash;
    }
    struct dups_pair *hp;
    size_t nhp;
    if (dups_pairs(h, n, JUDGE_T, &hp, &nhp, &cause) != 0)
        die("%s", cause);
    struct featpairs_pair *fp;
    size_t nfp;
    int trunc;
    double t0 = wn_monotonic();
    if (featpairs_find(feat, rows, cols, judge_cos[0], SIZE_MAX, &fp, &nfp,
                       &trunc, &cause) != 0)
        die("%s", cause);
    double secs = wn_monotonic() - t0;
    printf("project %s: %zu samples, %zu originals with %d variants each; "
           "run %lld, %d features; all feature pairs at >= %.2f in %.1f s%s\n",
           db, n, n_base, K_COUNT, (long long)run, cols, judge_cos[0], secs,
           trunc ? " (truncated)" : "");
    printf("\n| evidence | precision | recall (all kinds) | flip | crop 80%% "
           "| crop 90%% | pairs |\n| --- | ---: | ---: | ---: | ---: | ---: "
           "| ---: |\n");
    struct judge_count hash = {0};
    for (size_t i = 0; i < nhp; i++)
        judge_add(&hash, family, kind, hp[i].a, hp[i].b);
    char what[64];
    snprintf(what, sizeof what, "hash, T = %d", JUDGE_T);
    judge_row(what, &hash, n_base);
    /* A hash pair is a key a * n + b; sorted, for the union. */
    uint64_t *hk = xmalloc((nhp + 1) * sizeof *hk);
    for (size_t i = 0; i < nhp; i++)
        hk[i] = (uint64_t)hp[i].a * n + hp[i].b;
    for (size_t c = 0; c < JUDGE_NC; c++) {
        struct judge_count fc = {0}, both = hash;
        for (size_t i = 0; i < nfp; i++) {
            if ((double)fp[i].similarity < judge_cos[c])
                continue;
            uint32_t a = (uint32_t)fp[i].a, b = (uint32_t)fp[i].b;
            judge_add(&fc, family, kind, a, b);
            uint64_t key = (uint64_t)a * n + b;
            size_t lo = 0, hi = nhp;
            while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                if (hk[mid] < key)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            if (lo == nhp || hk[lo] != key)
                judge_add(&both, family, kind, a, b);
        }
        snprintf(what, sizeof what, "features, cos >= %.2f", judge_cos[c]);
        judge_row(what, &fc, n_base);
        snprintf(what, sizeof what, "both, cos >= %.2f", judge_cos[c]);
        judge_row(what, &both, n_base);
        /* As a run keeps them: pairs of rows with few partners only. */
        struct featpairs_pair *rp = xmalloc((nfp + 1) * sizeof *rp);
        size_t nr = 0;
        for (size_t i = 0; i < nfp; i++)
            if ((double)fp[i].similarity >= judge_cos[c])
                rp[nr++] = fp[i];
        nr = featpairs_rare(rp, nr, rows, FEATPAIRS_MAX_PARTNERS);
        struct judge_count rc2 = hash;
        for (size_t i = 0; i < nr; i++) {
            uint32_t a = (uint32_t)rp[i].a, b = (uint32_t)rp[i].b;
            uint64_t key = (uint64_t)a * n + b;
            size_t lo = 0, hi = nhp;
            while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                if (hk[mid] < key)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            if (lo == nhp || hk[lo] != key)
                judge_add(&rc2, family, kind, a, b);
        }
        free(rp);
        snprintf(what, sizeof what, "both, cos >= %.2f, <= %d partners",
                 judge_cos[c], FEATPAIRS_MAX_PARTNERS);
        judge_row(what, &rc2, n_base);
    }
    judge_detail(s, n, family, hp, nhp, fp, nfp);
    printf("\nrecall by kind, features at 0.90 / 0.95 / 0.97:\n\n| kind | "
           "0.90 | 0.95 | 0.97 |\n| --- | ---: | ---: | ---: |\n");
    for (int k = 0; k < K_COUNT; k++) {
        printf("| %s |", kind_name[k]);
        const double at[3] = {0.90, 0.95, 0.97};
        for (int c = 0; c < 3; c++) {
            struct judge_count fc = {0};
            for (size_t i = 0; i < nfp; i++)
                if ((double)fp[i].similarity >= at[c])
                    judge_add(&fc, family, kind, (uint32_t)fp[i].a,
                              (uint32_t)fp[i].b);
            printf(" %.3f |", (double)fc.found[k] / (double)n_base);
        }
        printf("\n");
    }
    free(hk);
    free(fp);
    free(hp);
    free(h);
    free(kind);
    free(family);
    free(feat);
    dups_project_fini(&p);
    store_close(s);
    return 0;
}

int
main(int argc, char **argv)
{
    if (argc == 7 && strcmp(argv[1], "make") == 0)
        return make_dir(argv[2], strtoul(argv[3], NULL, 10),
                        strtoul(argv[4], NULL, 10), strtoull(argv[5], NULL, 10),
                        argv[6]);
    if (argc == 3 && strcmp(argv[1], "judge") == 0)
        return judge(argv[2]);
    if (argc == 6 && strcmp(argv[1], "quality") == 0)
        return quality(argv[2], strtoul(argv[3], NULL, 10),
                       strtoul(argv[4], NULL, 10), strtoull(argv[5], NULL, 10));
    if (argc == 4 && strcmp(argv[1], "speed-dir") == 0)
        return speed_dir(argv[2], atoi(argv[3]));
    if (argc == 6 && strcmp(argv[1], "speed") == 0)
        return speed(strtoul(argv[2], NULL, 10), strtoul(argv[3], NULL, 10),
                     atoi(argv[4]), strtoull(argv[5], NULL, 10));
    fputs("usage: dupsbench quality ROOT N_BASE N_DISTINCT SEED\n"
          "       dupsbench speed-dir ROOT THRESHOLD\n"
          "       dupsbench speed N PLANTED THRESHOLD SEED\n"
          "       dupsbench make ROOT N_BASE N_DISTINCT SEED OUT\n"
          "       dupsbench judge DB\n",
          stderr);
    return 2;
}
