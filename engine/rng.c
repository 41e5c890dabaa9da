/* engine/rng.c: xoshiro128** (Blackman and Vigna), seeded through
 * splitmix64 so that nearby seeds give unrelated streams. Everything is
 * integer arithmetic or correctly rounded float operations on integers,
 * except rng_normal, which uses libm (logf, cosf); runs on one machine and
 * libm repeat bit for bit. Normals come from Box-Muller keeping one value of
 * the pair: the state stays four words and every call costs the same. */
#include "config.h"

#include "engine/rng.h"

#include <math.h>

static uint64_t
rng_splitmix64(uint64_t *x)
{
    uint64_t z = (*x += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

void
rng_seed(struct rng *r, uint64_t seed)
{
    uint64_t x = seed;
    uint64_t a = rng_splitmix64(&x);
    uint64_t b = rng_splitmix64(&x);

    r->s[0] = (uint32_t)a;
    r->s[1] = (uint32_t)(a >> 32);
    r->s[2] = (uint32_t)b;
    r->s[3] = (uint32_t)(b >> 32);
    /* The all-zero state is a fixed point; splitmix64 makes it all but
     * impossible, but a cheap guard costs nothing. */
    if ((r->s[0] | r->s[1] | r->s[2] | r->s[3]) == 0)
        r->s[0] = 1;
}

static uint32_t
rng_rotl(uint32_t x, int k)
{
    return (x << k) | (x >> (32 - k));
}

uint32_t
rng_u32(struct rng *r)
{
    uint32_t *s = r->s;
    uint32_t result = rng_rotl(s[1] * 5, 7) * 9;
    uint32_t t = s[1] << 9;

    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rng_rotl(s[3], 11);
    return result;
}

float
rng_uniform(struct rng *r)
{
    return (float)(rng_u32(r) >> 8) * 0x1.0p-24f;
}

uint32_t
rng_below(struct rng *r, uint32_t n)
{
    /* Lemire's multiply-shift with rejection of the biased low range. */
    uint64_t m = (uint64_t)rng_u32(r) * n;
    uint32_t low = (uint32_t)m;

    if (low < n) {
        uint32_t threshold = (uint32_t)-n % n;
        while (low < threshold) {
            m = (uint64_t)rng_u32(r) * n;
            low = (uint32_t)m;
        }
    }
    return (uint32_t)(m >> 32);
}

float
rng_normal(struct rng *r)
{
    /* u1 in (0, 1] so that logf never sees zero. */
    float u1 = (float)((rng_u32(r) >> 8) + 1) * 0x1.0p-24f;
    float u2 = rng_uniform(r);

    return sqrtf(-2.0f * logf(u1)) * cosf(6.2831853071795864769f * u2);
}

void
rng_fill_normal(struct rng *r, float *a, size_t n, float mean, float stddev)
{
    for (size_t i = 0; i < n; i++)
        a[i] = mean + stddev * rng_normal(r);
}

void
rng_shuffle(struct rng *r, int *a, size_t n)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = rng_below(r, (uint32_t)i);
        int t = a[i - 1];
        a[i - 1] = a[j];
        a[j] = t;
    }
}

void
rng_permutation(struct rng *r, int *a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        a[i] = (int)i;
    rng_shuffle(r, a, n);
}
