/* tests/bench/probsbench.c: a project of N tiny samples in K classes and
 * an N x K .npy of random but valid probabilities for it, made in
 * seconds through the store API (importing a million PNG files would take
 * far longer than what is measured), for tests/bench/probs.sh.
 *
 *   probsbench DB PROBS.npy N K [SEED]
 *
 * Each sample is an 8x8 gray image with a distinct pixel pattern; its
 * label is uniform over the classes. Each probability row puts a random
 * share of its mass on the label (a few rows on another class, so there
 * is something to find) and spreads the rest at random. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/image.h"
#include "data/npy.h"
#include "data/sha256.h"
#include "data/store.h"

static uint64_t rng_state;

static uint64_t
next_u64(void)
{
    /* splitmix64: enough for test data, and the same on every machine */
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double
next_unit(void)
{
    return (double)(next_u64() >> 11) / 9007199254740992.0;
}

static int
fail(const char *what, char *cause)
{
    fprintf(stderr, "probsbench: %s: %s\n", what, cause ? cause : "failed");
    free(cause);
    return 1;
}

int
main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: probsbench DB PROBS.npy N K [SEED]\n");
        return 2;
    }
    int64_t n = atoll(argv[3]);
    int k = atoi(argv[4]);
    rng_state = argc > 5 ? strtoull(argv[5], NULL, 10) : 1;
    if (n < 1 || k < 2 || k > STORE_MAX_CLASSES || n > STORE_MAX_SAMPLES) {
        fprintf(stderr, "probsbench: bad N or K\n");
        return 2;
    }
    char *cause = NULL;
    struct store *s;
    if (store_open(argv[1], STORE_CREATE, &s, &cause) != 0)
        return fail(argv[1], cause);
    int64_t src;
    if (store_begin(s, &cause) != 0 ||
        store_source_ensure(s, STORE_SOURCE_CSV, "/bench/manifest.csv", &src,
                            &cause) != 0)
        return fail("source", cause);
    for (int c = 0; c < k; c++) {
        char name[32];
        int id;
        snprintf(name, sizeof name, "class%03d", c);
        if (store_class_ensure(s, name, &id, &cause) != 0)
            return fail("class", cause);
    }
    uint8_t px[64];
    struct image im = {.width = 8, .height = 8, .channels = 1, .pixels = px};
    int32_t *label = malloc((size_t)n * sizeof *label);
    for (int64_t i = 0; i < n; i++) {
        char path[32];
        unsigned char hash[SHA256_LEN];
        snprintf(path, sizeof path, "img/%08lld.png", (long long)i);
        for (int j = 0; j < 64; j++)
            px[j] = (uint8_t)((i >> (j % 24)) & 1 ? 255 : 0);
        sha256(path, strlen(path), hash);
        label[i] = (int32_t)(next_u64() % (uint64_t)k);
        struct store_sample_new in = {
            .source_id = src,
            .path = path,
            .hash = hash,
            .width = 8,
            .height = 8,
            .channels = 1,
            .stored = &im,
            .label = label[i],
        };
        int64_t id;
        if (store_sample_add(s, &in, &id, &cause) != 0)
            return fail(path, cause);
    }
    if (store_commit(s, &cause) != 0)
        return fail("commit", cause);
    store_close(s);

    float *p = malloc((size_t)n * (size_t)k * sizeof *p);
    for (int64_t i = 0; i < n; i++) {
        float *row = p + (size_t)i * (size_t)k;
        double sum = 0;
        for (int j = 0; j < k; j++) {
            row[j] = (float)next_unit();
            sum += (double)row[j];
        }
        int top =
            next_unit() < 0.05 ? (int)(next_u64() % (uint64_t)k) : label[i];
        double share = 0.3 + 0.6 * next_unit();
        for (int j = 0; j < k; j++)
            row[j] = (float)((1 - share) * (double)row[j] / sum);
        row[top] += (float)share;
    }
    if (npy_save(argv[2], p, n, k, &cause) != 0)
        return fail(argv[2], cause);
    free(p);
    free(label);
    return 0;
}
