/* t-dups: the perceptual hash on made pairs and non-pairs, the multi-index
 * search against brute force, union-find, groups and conflicts, and a
 * project of the schema before hashes getting them on first need. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/base.h"
#include "data/dups.h"
#include "data/image.h"
#include "data/phash.h"
#include "data/store.h"
#include "tests/fixtures.h"
#include "tests/tap.h"

static uint64_t rng_state = 42;

static uint64_t
rnd(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static void
blobs(struct image *im, int size, uint32_t seed)
{
    char *cause = NULL;
    if (image_alloc(im, size, size, 3, &cause) != 0)
        bail("%s", cause);
    fx_blobs(im->pixels, size, size, 3, seed);
}

static void
test_phash(void)
{
    const int t = DUPS_DEFAULT_THRESHOLD;
    int worst_copy = 0, nearest_other = 64;
    for (uint32_t seed = 1; seed <= 20; seed++) {
        struct image a, b;
        char *cause = NULL;
        blobs(&a, 32, seed);
        uint64_t h = phash_image(&a);
        ok(__builtin_popcountll(h) >= 25 && h >> 63 == 0,
           "seed %u: about half of 63 bits set", seed);
        /* Made copies: smaller, larger, brighter, of more contrast, and
         * noisy as a lossy re-encoding leaves it. */
        int d[5];
        if (image_resize(&a, 24, 24, &b, &cause) != 0)
            bail("%s", cause);
        d[0] = phash_distance(h, phash_image(&b));
        image_fini(&b);
        if (image_resize(&a, 64, 64, &b, &cause) != 0)
            bail("%s", cause);
        d[1] = phash_distance(h, phash_image(&b));
        image_fini(&b);
        struct image c;
        blobs(&c, 32, seed);
        size_t n = 32 * 32 * 3;
        for (size_t i = 0; i < n; i++)
            c.pixels[i] = (uint8_t)(c.pixels[i] > 225 ? 255 : c.pixels[i] + 30);
        d[2] = phash_distance(h, phash_image(&c));
        for (size_t i = 0; i < n; i++) {
            int v = (a.pixels[i] - 128) * 5 / 4 + 128;
            c.pixels[i] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
        }
        d[3] = phash_distance(h, phash_image(&c));
        for (size_t i = 0; i < n; i++) {
            int v = a.pixels[i] + (int)(rnd() % 9) - 4;
            c.pixels[i] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
        }
        d[4] = phash_distance(h, phash_image(&c));
        image_fini(&c);
        for (int k = 0; k < 5; k++)
            if (d[k] > worst_copy)
                worst_copy = d[k];
        for (uint32_t other = seed + 1; other <= 20; other++) {
            blobs(&b, 32, other);
            int dd = phash_distance(h, phash_image(&b));
            if (dd < nearest_other)
                nearest_other = dd;
            image_fini(&b);
        }
        image_fini(&a);
    }
    ok(worst_copy <= t, "every made copy within %d bits (worst %d)", t,
       worst_copy);
    ok(nearest_other > t,
       "no two distinct pictures within %d bits "
       "(nearest %d)",
       t, nearest_other);

    struct image flat;
    char *cause = NULL;
    if (image_alloc(&flat, 20, 10, 1, &cause) != 0)
        bail("%s", cause);
    memset(flat.pixels, 77, 200);
    is_int((int64_t)phash_image(&flat), ==, 0);
    image_fini(&flat);
    /* Gray and its RGB copy hash alike. */
    struct image rgb, gray;
    blobs(&rgb, 16, 5);
    if (image_alloc(&gray, 16, 16, 1, &cause) != 0)
        bail("%s", cause);
    for (int i = 0; i < 256; i++) {
        const uint8_t *p = rgb.pixels + i * 3;
        uint8_t g = (uint8_t)(0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2] + 0.5);
        gray.pixels[i] = g;
        memset(rgb.pixels + i * 3, g, 3);
    }
    ok(phash_distance(phash_image(&rgb), phash_image(&gray)) <= 2,
       "a gray image and its RGB copy hash alike");
    image_fini(&rgb);
    image_fini(&gray);
}

/* Brute force: every pair within t, in (a, b) order. */
static size_t
brute(const uint64_t *h, size_t n, int t, struct dups_pair **out)
{
    size_t m = 0, cap = 0;
    *out = NULL;
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++) {
            int d = phash_distance(h[i], h[j]);
            if (d > t)
                continue;
            wn_grow(out, sizeof **out, &cap, m + 1);
            (*out)[m++] = (struct dups_pair){(uint32_t)i, (uint32_t)j, d};
        }
    return m;
}

static void
test_search(void)
{
    static const size_t sizes[] = {0, 1, 2, 60, 3000, 20000};
    static const int thresholds[] = {0, 3, 4, 8, 12, 15};
    for (size_t si = 0; si < WN_ARRAY_LEN(sizes); si++)
        for (size_t ti = 0; ti < WN_ARRAY_LEN(thresholds); ti++) {
            size_t n = sizes[si];
            int t = thresholds[ti];
            uint64_t *h = xmalloc((n + 1) * sizeof *h);
            for (size_t i = 0; i < n; i++) {
                /* A third are planted near an earlier hash, some equal. */
                if (i > 0 && rnd() % 3 == 0) {
                    uint64_t v = h[rnd() % i];
                    int flips = (int)(rnd() % (uint64_t)(t + 3));
                    for (int f = 0; f < flips; f++)
                        v ^= (uint64_t)1 << (rnd() % 64);
                    h[i] = v;
                } else {
                    h[i] = rnd();
                }
            }
            struct dups_pair *p, *q;
            size_t np, nq = brute(h, n, t, &q);
            char *cause = NULL;
            int rc = dups_pairs(h, n, t, &p, &np, &cause);
            ok(rc == 0 && np == nq &&
                   (np == 0 || memcmp(p, q, np * sizeof *p) == 0),
               "n=%zu T=%d: the index finds the %zu pairs brute force "
               "finds (%zu)",
               n, t, nq, np);
            free(p);
            free(q);
            free(h);
        }
    struct dups_pair *p;
    size_t np;
    char *cause = NULL;
    uint64_t one = 0;
    ok(dups_pairs(&one, 1, DUPS_MAX_THRESHOLD + 1, &p, &np, &cause) == -1 &&
           strcmp(cause, "threshold 16 out of range (0 to 15)") == 0,
       "a threshold past the maximum fails, naming it");
    free(cause);
}

static void
test_union_find(void)
{
    struct dups_uf uf;
    dups_uf_init(&uf, 10);
    dups_uf_union(&uf, 7, 3);
    dups_uf_union(&uf, 9, 7);
    dups_uf_union(&uf, 5, 6);
    is_int(dups_uf_find(&uf, 9), ==, 3);
    is_int(dups_uf_find(&uf, 6), ==, 5);
    is_int(dups_uf_find(&uf, 4), ==, 4);
    dups_uf_union(&uf, 6, 9);
    is_int(dups_uf_find(&uf, 7), ==, 3);
    is_int(dups_uf_find(&uf, 5), ==, 3);
    dups_uf_fini(&uf);
}

static void
test_groups(void)
{
    uint64_t base = 0x0123456789abcdefu >> 1, other = 0x7edcba9876543210u;
    /* 0 and 3 near (3 bits), 3 and 5 near: one group of three, labels
     * 1, 1, 2: a conflict. 1 and 4 exact duplicates, same label, in
     * different splits: a leak. 2 alone; 6 near no one. */
    struct dups_sample s[7] = {
        {.phash = base, .exact = 0, .label = 1, .split = -1},
        {.phash = other, .exact = 1, .label = 0, .split = 0},
        {.phash = ~base >> 1, .exact = 2, .label = 0, .split = -1},
        {.phash = base ^ 0x7, .exact = 3, .label = 1, .split = -1},
        {.phash = other, .exact = 1, .label = 0, .split = 1},
        {.phash = base ^ 0x7 ^ 0x700, .exact = 5, .label = 2, .split = -1},
        {.phash = base ^ 0xffff0000u, .exact = 6, .label = 2, .split = -1},
    };
    struct dups d;
    char *cause = NULL;
    ok(dups_group(s, 7, 4, &d, &cause) == 0, "grouping runs");
    is_int((int64_t)d.n_groups, ==, 2);
    is_int((int64_t)d.n_conflicts, ==, 1);
    is_int((int64_t)d.n_leaks, ==, 1);
    const struct dups_group *g1 = &d.groups[0], *g2 = &d.groups[1];
    ok(g1->id == 1 && g1->n == 3 && d.members[g1->first] == 0 &&
           d.members[g1->first + 1] == 3 && d.members[g1->first + 2] == 5,
       "group 1 is samples 0, 3, 5 in import order");
    ok(g1->conflict && !g1->leak && !g1->exact && g1->near,
       "group 1: a label conflict of near copies");
    ok(g2->id == 2 && g2->n == 2 && d.members[g2->first] == 1 &&
           d.members[g2->first + 1] == 4,
       "group 2 is samples 1 and 4");
    ok(!g2->conflict && g2->leak && g2->exact && !g2->near,
       "group 2: exact duplicates across splits");
    int64_t want[7] = {1, 2, 0, 1, 2, 1, 0};
    int same = 1;
    for (int i = 0; i < 7; i++)
        same &= d.group_of[i] == want[i];
    ok(same, "every sample's group id (0 for none)");
    dups_fini(&d);
    /* At threshold 2 the near pairs fall apart; exact ones stay. */
    ok(dups_group(s, 7, 2, &d, &cause) == 0 && d.n_groups == 1 &&
           d.groups[0].n == 2 && d.n_conflicts == 0,
       "a lower threshold keeps only the exact group");
    dups_fini(&d);
    /* A pair by features joins two samples the hash keeps apart. */
    struct dups_pair extra[] = {{0, 6, -1}};
    ok(dups_group_with(s, 7, 2, extra, 1, &d, &cause) == 0 && d.n_groups == 2 &&
           d.group_of[0] == 1 && d.group_of[6] == 1 && d.groups[0].similar &&
           d.group_of[1] == 2 && !d.groups[1].similar,
       "a feature pair joins its samples into a group marked similar");
    dups_fini(&d);
    ok(dups_group(s, 0, 8, &d, &cause) == 0 && d.n_groups == 0,
       "no samples, no groups");
    dups_fini(&d);
}

static void
add_sample(struct store *s, int64_t src, const char *path, uint32_t seed,
           int label, int with_hash)
{
    struct image im;
    char *cause = NULL;
    blobs(&im, 32, seed);
    unsigned char hash[SHA256_LEN] = {0};
    memcpy(hash, &seed, sizeof seed);
    struct store_sample_new sn = {
        .source_id = src,
        .path = path,
        .hash = hash,
        .width = 32,
        .height = 32,
        .channels = 3,
        .stored = &im,
        .label = label,
        .phash = phash_image(&im),
        .has_phash = with_hash,
    };
    int64_t id;
    if (store_sample_add(s, &sn, &id, &cause) != 0)
        bail("%s", cause);
    image_fini(&im);
}

/* A project whose samples have no hashes (as one made before schema 2,
 * once migrated) gets them from its pixels: the same hashes import
 * keeps. */
static void
test_fill(void)
{
    char *dir = fx_tmpdir("t-dups");
    char *db = fx_path(dir, "p.db");
    struct store *s;
    char *cause = NULL;
    if (store_open(db, STORE_CREATE, &s, &cause) != 0)
        bail("%s", cause);
    int64_t src;
    int cat, dog;
    if (store_source_ensure(s, STORE_SOURCE_FOLDER, "/x", &src, &cause) ||
        store_class_ensure(s, "cat", &cat, &cause) ||
        store_class_ensure(s, "dog", &dog, &cause))
        bail("%s", cause);
    add_sample(s, src, "a.png", 1, cat, 1);
    add_sample(s, src, "b.png", 2, cat, 0);
    add_sample(s, src, "c.png", 1, dog, 0);
    add_sample(s, src, "d.png", 3, dog, 0);

    struct dups_project p;
    ok(dups_load(s, &p, NULL, NULL, &cause) == 0 && p.n == 4 && p.computed == 3,
       "load computes the three missing hashes in memory");
    ok(p.samples[0].phash == p.samples[2].phash,
       "a computed hash equals the kept one of the same pixels");
    ok(p.samples[2].exact == 0 && p.samples[3].exact == 3,
       "c.png is the exact twin of a.png by their content hashes");
    struct dups d;
    ok(dups_group(p.samples, p.n, DUPS_DEFAULT_THRESHOLD, &d, &cause) == 0 &&
           d.n_groups == 1 && d.n_conflicts == 1 && d.group_of[0] == 1 &&
           d.group_of[2] == 1,
       "a.png and c.png: one group, a label conflict");
    dups_fini(&d);
    dups_project_fini(&p);

    int64_t n = -1;
    ok(store_phash_fill(s, NULL, NULL, &n, &cause) == 0 && n == 3,
       "fill keeps the three missing hashes");
    ok(dups_load(s, &p, NULL, NULL, &cause) == 0 && p.computed == 0,
       "after fill nothing is computed");
    dups_project_fini(&p);
    ok(store_phash_fill(s, NULL, NULL, &n, &cause) == 0 && n == 0,
       "a second fill finds nothing to do");
    store_close(s);

    if (store_open(db, STORE_READONLY, &s, &cause) != 0)
        bail("%s", cause);
    ok(dups_load(s, &p, NULL, NULL, &cause) == 0 && p.n == 4,
       "a read-only project loads");
    dups_project_fini(&p);
    store_close(s);
    fx_rmtree(dir);
    free(db);
    free(dir);
}

int
main(void)
{
    test_phash();
    test_search();
    test_union_find();
    test_groups();
    test_fill();
    return done_testing();
}
