/* t-rng: the engine's random generator (engine/rng.c).
 *
 * The expected values do not come from rng.c: splitmix64's first outputs
 * for seed 0 are the published ones, xoshiro128**'s first four from the
 * state {1, 2, 3, 4} were worked out by hand (below), and longer streams
 * are compared with the reference algorithm of Blackman and Vigna written
 * out again here. Then the helpers: ranges, determinism, and that each
 * draws what it should from the stream. */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data/base.h"
#include "engine/rng.h"
#include "tests/tap.h"

/* xoshiro128** as published (prng.di.unimi.it/xoshiro128starstar.c). */
static uint32_t
ref_rotl(uint32_t x, int k)
{
    return (x << k) | (x >> (32 - k));
}

static uint32_t
ref_next(uint32_t s[4])
{
    const uint32_t result = ref_rotl(s[1] * 5, 7) * 9;
    const uint32_t t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = ref_rotl(s[3], 11);
    return result;
}

static void
test_reference(void)
{
    struct rng r;
    /* From {1, 2, 3, 4}: out = rotl(2 * 5, 7) * 9 = 1280 * 9 = 11520, and
     * the state becomes {7, 0, 1026, 12288}; then s[1] = 0 gives 0 and
     * the state {12295, 1029, 1029, 25165824}; then rotl(1029 * 5, 7) * 9
     * = 658560 * 9 = 5927040 and {25179138, 12295, 540162, 2107404}; then
     * rotl(12295 * 5, 7) * 9 = 7868800 * 9 = 70819200. */
    static const uint32_t by_hand[] = {11520, 0, 5927040, 70819200};
    r.s[0] = 1;
    r.s[1] = 2;
    r.s[2] = 3;
    r.s[3] = 4;
    uint32_t first = rng_u32(&r);
    ok(first == by_hand[0] && r.s[0] == 7u && r.s[1] == 0u && r.s[2] == 1026u &&
           r.s[3] == 12288u,
       "xoshiro128** from {1, 2, 3, 4}: 11520, state {7, 0, 1026, 12288}");
    int same = 1;
    for (size_t i = 1; i < WN_ARRAY_LEN(by_hand); i++)
        same &= rng_u32(&r) == by_hand[i];
    ok(same, "then 0, 5927040, 70819200");

    /* splitmix64 from 0 gives 0xe220a8397b1dcdaf, 0x6e789e6aa1b965f4: the
     * seed's state is their halves, low first. */
    rng_seed(&r, 0);
    ok(r.s[0] == 0x7b1dcdafu && r.s[1] == 0xe220a839u &&
           r.s[2] == 0xa1b965f4u && r.s[3] == 0x6e789e6au,
       "seed 0 expands through splitmix64 (%08x %08x %08x %08x)", r.s[0],
       r.s[1], r.s[2], r.s[3]);

    /* A long stream against the reference, from several seeds. */
    static const uint64_t seeds[] = {0, 1, 42, UINT64_C(0xffffffffffffffff)};
    int all = 1;
    for (size_t k = 0; k < WN_ARRAY_LEN(seeds); k++) {
        uint32_t s[4];
        rng_seed(&r, seeds[k]);
        memcpy(s, r.s, sizeof s);
        all &= (s[0] | s[1] | s[2] | s[3]) != 0;
        for (int i = 0; i < 100000; i++)
            all &= rng_u32(&r) == ref_next(s);
    }
    ok(all, "100,000 outputs from each of 4 seeds match the reference");
}

static void
test_determinism(void)
{
    struct rng a, b;
    rng_seed(&a, 2024);
    rng_seed(&b, 2024);
    int same = 1;
    for (int i = 0; i < 1000; i++)
        same &= rng_u32(&a) == rng_u32(&b);
    ok(same, "one seed, one stream");

    /* A copy of the struct is a fork: both go on alike, and the original
     * is not disturbed by the copy's draws. */
    b = a;
    uint32_t x = rng_u32(&b), y = rng_u32(&a);
    ok(x == y, "a copied state continues the same stream");

    int differ = 0;
    rng_seed(&a, 1);
    rng_seed(&b, 2);
    for (int i = 0; i < 32; i++)
        differ += rng_u32(&a) != rng_u32(&b);
    ok(differ >= 30, "seeds 1 and 2 give unrelated streams (%d of 32 differ)",
       differ);
}

static void
test_uniform(void)
{
    struct rng a, b;
    rng_seed(&a, 5);
    rng_seed(&b, 5);
    int exact = 1, in_range = 1;
    double sum = 0.0;
    enum { M = 200000 };
    for (int i = 0; i < M; i++) {
        float u = rng_uniform(&a);
        /* The top 24 bits of one draw, scaled by 2^-24. */
        exact &= u == (float)(rng_u32(&b) >> 8) / 16777216.0f;
        in_range &= u >= 0.0f && u < 1.0f;
        sum += (double)u;
    }
    ok(exact, "rng_uniform is the top 24 bits of one draw over 2^24");
    ok(in_range, "rng_uniform stays in [0, 1)");
    is_float(sum / M, 0.5, 0.003);
    /* The extremes: all-zero and all-one top bits. */
    struct rng z = {{0, 0, 0, 0}};
    ok(rng_uniform(&z) == 0.0f, "zero bits give 0");
    /* The output is rotl(s[1] * 5, 7) * 9: undo each step for all ones
     * (9 * 0x38e38e39 and 5 * 0xcccccccd are 1 modulo 2^32). */
    uint32_t v = 0xffffffffu * 0x38e38e39u;
    v = (v >> 7) | (v << 25);
    a.s[0] = a.s[2] = a.s[3] = 0;
    a.s[1] = v * 0xcccccccdu;
    float top = rng_uniform(&a);
    ok(top < 1.0f && top == 1.0f - 1.0f / 16777216.0f,
       "all bits give 1 - 2^-24 (%.9g), never 1", (double)top);
}

static void
test_below(void)
{
    struct rng a, b;
    static const uint32_t ns[] = {
        1, 2, 3, 7, 10, 1000, 65537, 0x80000001u, 0xfffffffbu, 0xffffffffu};
    int in_range = 1;
    rng_seed(&a, 9);
    for (size_t k = 0; k < WN_ARRAY_LEN(ns); k++)
        for (int i = 0; i < 20000; i++)
            in_range &= rng_below(&a, ns[k]) < ns[k];
    ok(in_range, "rng_below(n) < n for n from 1 to 2^32 - 1");

    /* No modulo bias: with n = 3 * 2^30 a quarter of the 32-bit draws
     * would fold onto the low third without the rejection step. */
    int counts[3] = {0};
    rng_seed(&a, 10);
    enum { M = 300000 };
    for (int i = 0; i < M; i++)
        counts[rng_below(&a, 0xc0000000u) / 0x40000000u]++;
    int even = 1;
    for (int i = 0; i < 3; i++)
        even &= abs(counts[i] - M / 3) < 1500; /* about 6 sigma */
    ok(even, "thirds of [0, 3 * 2^30) are even: %d %d %d", counts[0], counts[1],
       counts[2]);

    /* Lemire's method: the high word of draw * n, one draw when its low
     * word is not in the rejected range. */
    rng_seed(&a, 11);
    rng_seed(&b, 11);
    int lemire = 1;
    for (int i = 0; i < 1000; i++) {
        uint64_t m = (uint64_t)rng_u32(&b) * 10u;
        if ((uint32_t)m < (uint32_t)(-10u) % 10u)
            break; /* a rejection: the streams part here */
        lemire &= rng_below(&a, 10) == (uint32_t)(m >> 32);
    }
    ok(lemire, "rng_below(10) is the high word of draw * 10");

    rng_seed(&a, 12);
    rng_seed(&b, 12);
    int same = 1;
    for (int i = 0; i < 1000; i++)
        same &= rng_below(&a, 1000) == rng_below(&b, 1000);
    ok(same, "rng_below repeats for a seed");
}

static void
test_normal(void)
{
    struct rng a, b;
    enum { M = 200000 };
    float *x = malloc(M * sizeof *x), *y = malloc(M * sizeof *y);
    if (x == NULL || y == NULL)
        bail("out of memory");
    rng_seed(&a, 13);
    rng_seed(&b, 13);
    rng_fill_normal(&a, x, M, 2.0f, 3.0f);
    int same = 1, finite = 1;
    for (int i = 0; i < M; i++) {
        y[i] = 2.0f + 3.0f * rng_normal(&b);
        same &= x[i] == y[i];
        finite &= isfinite(x[i]);
    }
    ok(same, "rng_fill_normal is mean + stddev * rng_normal, in order");
    ok(finite, "normal samples are finite");
    double s = 0.0, s2 = 0.0;
    for (int i = 0; i < M; i++) {
        s += (double)x[i];
        s2 += (double)x[i] * (double)x[i];
    }
    double mean = s / M, var = s2 / M - mean * mean;
    is_float(mean, 2.0, 0.03);
    is_float(var, 9.0, 0.15);
    struct rng c;
    rng_seed(&c, 14);
    struct rng d = c;
    (void)rng_normal(&c);
    (void)rng_u32(&d);
    (void)rng_u32(&d);
    ok(memcmp(&c, &d, sizeof c) == 0, "a normal costs exactly two draws");
    free(x);
    free(y);
}

static void
test_shuffle(void)
{
    struct rng a, b;
    enum { M = 1000 };
    int p[M], q[M], seen[M];
    rng_seed(&a, 15);
    rng_seed(&b, 15);
    rng_permutation(&a, p, M);
    rng_permutation(&b, q, M);
    ok(memcmp(p, q, sizeof p) == 0, "a permutation repeats for a seed");
    memset(seen, 0, sizeof seen);
    int perm = 1, moved = 0;
    for (int i = 0; i < M; i++) {
        perm &= p[i] >= 0 && p[i] < M && seen[p[i]]++ == 0;
        moved += p[i] != i;
    }
    ok(perm && moved > M * 9 / 10,
       "rng_permutation is a permutation (%d of %d moved)", moved, M);

    /* Fisher-Yates from the top: a[i - 1] swapped with a[below(i)]. */
    int r[M], s[M];
    for (int i = 0; i < M; i++)
        r[i] = s[i] = 3 * i + 1;
    rng_seed(&a, 16);
    rng_seed(&b, 16);
    rng_shuffle(&a, r, M);
    for (int i = M; i > 1; i--) {
        int j = (int)rng_below(&b, (uint32_t)i), t = s[i - 1];
        s[i - 1] = s[j];
        s[j] = t;
    }
    ok(memcmp(r, s, sizeof r) == 0, "rng_shuffle is Fisher-Yates, top down");

    int one[1] = {5};
    rng_shuffle(&a, one, 1);
    rng_shuffle(&a, one, 0);
    ok(one[0] == 5, "shuffles of 0 and 1 elements change nothing");

    /* Every position takes every value about equally often. */
    enum { SMALL = 4, ROUNDS = 40000 };
    int where[SMALL][SMALL] = {{0}};
    for (int k = 0; k < ROUNDS; k++) {
        int v[SMALL];
        rng_permutation(&a, v, SMALL);
        for (int i = 0; i < SMALL; i++)
            where[i][v[i]]++;
    }
    int flat = 1;
    for (int i = 0; i < SMALL; i++)
        for (int j = 0; j < SMALL; j++)
            flat &= abs(where[i][j] - ROUNDS / SMALL) < 600;
    ok(flat, "each of 4 positions takes each value a quarter of the time");
}

int
main(void)
{
    test_reference();
    test_determinism();
    test_uniform();
    test_below();
    test_normal();
    test_shuffle();
    return done_testing();
}
