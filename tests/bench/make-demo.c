/* make-demo: cut the demo dataset that `winnow demo` ships with.
 *   make-demo SRC OUT [PER_CLASS FLIP_PERCENT SEED]
 * SRC is a class-folder tree of PNGs (../shared/datasets/cifar10-test);
 * OUT gets demo-images-idx3-ubyte.gz (N x H x W x C), demo-labels-idx1-
 * ubyte.gz, classes.txt (the folder names, sorted) and truth.csv
 * (path,true_label,given_label: one row per flipped label, the path as
 * winnow names an IDX sample). PER_CLASS images of each class are drawn at
 * random, the whole set is shuffled, and exactly FLIP_PERCENT of the
 * labels are changed to another class drawn at random; all from SEED, so
 * the output is the same every time (defaults 200, 10, 2026). */
#include "config.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/base.h"
#include "data/idx.h"
#include "data/image.h"

#define DEMO_IMAGES "demo-images-idx3-ubyte.gz"
#define DEMO_LABELS "demo-labels-idx1-ubyte.gz"

static uint64_t
demo_rand(uint64_t *s)
{
    /* splitmix64: small, seedable, good enough to pick images. */
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Names in dir (files or folders, no dot files), sorted. */
static char **
list_dir(const char *dir, int want_dirs, size_t *n_out)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        perror(dir);
        exit(1);
    }
    char **v = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char *p = xasprintf("%s/%s", dir, e->d_name);
        DIR *sub = opendir(p);
        int is_dir = sub != NULL;
        if (sub != NULL)
            closedir(sub);
        free(p);
        if (is_dir != want_dirs)
            continue;
        wn_grow(&v, sizeof *v, &cap, n + 1);
        v[n++] = xstrdup(e->d_name);
    }
    closedir(d);
    qsort(v, n, sizeof *v, cmp_str);
    *n_out = n;
    return v;
}

struct pick {
    int cls;
    char *path;
};

int
main(int argc, char **argv)
{
    if (argc != 3 && argc != 6) {
        fprintf(stderr, "usage: make-demo SRC OUT [PER_CLASS FLIP_PERCENT "
                        "SEED]\n");
        return 2;
    }
    const char *src = argv[1], *out = argv[2];
    int per = argc == 6 ? atoi(argv[3]) : 200;
    int flip = argc == 6 ? atoi(argv[4]) : 10;
    uint64_t seed = argc == 6 ? strtoull(argv[5], NULL, 10) : 2026;
    uint64_t rs = seed;

    size_t k;
    char **classes = list_dir(src, 1, &k);
    if (k < 2) {
        fprintf(stderr, "make-demo: %s has fewer than 2 class folders\n", src);
        return 1;
    }
    size_t n = k * (size_t)per;
    struct pick *picks = xcalloc(n, sizeof *picks);
    size_t m = 0;
    for (size_t c = 0; c < k; c++) {
        char *dir = xasprintf("%s/%s", src, classes[c]);
        size_t nf;
        char **files = list_dir(dir, 0, &nf);
        if (nf < (size_t)per) {
            fprintf(stderr, "make-demo: %s has only %zu images\n", dir, nf);
            return 1;
        }
        /* A partial Fisher-Yates shuffle draws per files without
         * repeats. */
        for (size_t i = 0; i < (size_t)per; i++) {
            size_t j = i + (size_t)(demo_rand(&rs) % (nf - i));
            char *t = files[i];
            files[i] = files[j];
            files[j] = t;
            picks[m].cls = (int)c;
            picks[m].path = xasprintf("%s/%s", dir, files[i]);
            m++;
        }
        for (size_t i = 0; i < nf; i++)
            free(files[i]);
        free(files);
        free(dir);
    }
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = (size_t)(demo_rand(&rs) % (i + 1));
        struct pick t = picks[i];
        picks[i] = picks[j];
        picks[j] = t;
    }

    struct image im;
    char *cause = NULL;
    uint8_t *pixels = NULL;
    int w = 0, h = 0, ch = 0;
    for (size_t i = 0; i < n; i++) {
        if (image_read_png(picks[i].path, &im, &cause) != 0) {
            fprintf(stderr, "make-demo: %s\n", cause);
            return 1;
        }
        if (i == 0) {
            w = im.width;
            h = im.height;
            ch = im.channels;
            pixels = xcalloc(n, (size_t)w * (size_t)h * (size_t)ch);
        }
        if (im.width != w || im.height != h || im.channels != ch) {
            fprintf(stderr, "make-demo: %s: not %dx%dx%d\n", picks[i].path, w,
                    h, ch);
            return 1;
        }
        memcpy(pixels + i * (size_t)w * (size_t)h * (size_t)ch, im.pixels,
               (size_t)w * (size_t)h * (size_t)ch);
        image_fini(&im);
    }

    /* Flip exactly flip% of the labels: the first ones of a random
     * order. */
    uint8_t *given = xcalloc(n, 1);
    size_t *order = xcalloc(n, sizeof *order);
    for (size_t i = 0; i < n; i++) {
        given[i] = (uint8_t)picks[i].cls;
        order[i] = i;
    }
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = (size_t)(demo_rand(&rs) % (i + 1));
        size_t t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    size_t n_flip = n * (size_t)flip / 100;
    uint8_t *flipped = xcalloc(n, 1);
    for (size_t f = 0; f < n_flip; f++) {
        size_t i = order[f];
        int other =
            (picks[i].cls + 1 + (int)(demo_rand(&rs) % (k - 1))) % (int)k;
        given[i] = (uint8_t)other;
        flipped[i] = 1;
    }

    char *p_images = xasprintf("%s/%s", out, DEMO_IMAGES);
    char *p_labels = xasprintf("%s/%s", out, DEMO_LABELS);
    uint32_t dims[4] = {(uint32_t)n, (uint32_t)h, (uint32_t)w, (uint32_t)ch};
    uint32_t ldims[1] = {(uint32_t)n};
    if (idx_write(p_images, ch == 1 ? 3 : 4, dims, pixels, &cause) != 0 ||
        idx_write(p_labels, 1, ldims, given, &cause) != 0) {
        fprintf(stderr, "make-demo: %s\n", cause);
        return 1;
    }
    char *p_classes = xasprintf("%s/classes.txt", out);
    char *p_truth = xasprintf("%s/truth.csv", out);
    FILE *fc = fopen(p_classes, "w"), *ft = fopen(p_truth, "w");
    if (fc == NULL || ft == NULL) {
        perror(out);
        return 1;
    }
    for (size_t c = 0; c < k; c++)
        fprintf(fc, "%s\n", classes[c]);
    fprintf(ft, "path,true_label,given_label\n");
    for (size_t i = 0; i < n; i++)
        if (flipped[i])
            fprintf(ft, "%s#%zu,%s,%s\n", DEMO_IMAGES, i, classes[picks[i].cls],
                    classes[given[i]]);
    if (fclose(fc) != 0 || fclose(ft) != 0) {
        perror(out);
        return 1;
    }
    printf("make-demo: %zu images of %zu classes (%dx%dx%d), %zu labels "
           "flipped, seed %llu\n",
           n, k, w, h, ch, n_flip, (unsigned long long)seed);

    for (size_t i = 0; i < n; i++)
        free(picks[i].path);
    for (size_t c = 0; c < k; c++)
        free(classes[c]);
    free(classes);
    free(picks);
    free(pixels);
    free(given);
    free(order);
    free(flipped);
    free(p_images);
    free(p_labels);
    free(p_classes);
    free(p_truth);
    return 0;
}
