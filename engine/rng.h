/* engine/rng.h: the engine's one source of randomness. xoshiro128** with
 * its state in a plain struct that the caller owns and passes in, so a seed
 * makes a run repeatable and two streams never share hidden state. Not for
 * cryptography. */
#ifndef WINNOW_ENGINE_RNG_H
#define WINNOW_ENGINE_RNG_H

#include <stddef.h>
#include <stdint.h>

struct rng { /* plain data: copy it to fork a stream, fwrite it to save */
    uint32_t s[4];
};

/* Expand a 64-bit seed into a full state (any seed, 0 included, is fine). */
void rng_seed(struct rng *r, uint64_t seed);
/* The next 32 random bits. */
uint32_t rng_u32(struct rng *r);
/* Uniform in [0, 1), 24 bits of resolution. */
float rng_uniform(struct rng *r);
/* Uniform integer in [0, n), without modulo bias; n > 0. */
uint32_t rng_below(struct rng *r, uint32_t n);
/* Standard normal (mean 0, variance 1). */
float rng_normal(struct rng *r);
/* Fill a[0..n) with normal samples of the given mean and standard
 * deviation. */
void rng_fill_normal(struct rng *r, float *a, size_t n, float mean,
                     float stddev);
/* Fisher-Yates shuffle of a[0..n) in place; n < 2^32. */
void rng_shuffle(struct rng *r, int *a, size_t n);
/* a[i] = i, then shuffled: a random permutation of 0..n-1. */
void rng_permutation(struct rng *r, int *a, size_t n);

#endif
