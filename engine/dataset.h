/* engine/dataset.h: every sample of a project in one contiguous tensor.
 *
 * Pixels stay 8-bit, (N, C, S, S): a 50,000-image set at 64x64 RGB is 600
 * MB as bytes and four times that as floats, and dataset_batch converts
 * (and augments) one batch at a time anyway. The per-channel mean and standard
 * deviation for normalisation are computed once here.
 *
 * A photo is not stretched to the square: its shorter side becomes S and
 * the centre S x S is kept (dataset_batch's random shifts then crop within
 * it). A label rarely depends on the edges of a photo, and a flower
 * squashed to two thirds of its width is a different shape. */
#ifndef WINNOW_ENGINE_DATASET_H
#define WINNOW_ENGINE_DATASET_H

#include <stdint.h>

#include "data/base.h"

struct rng;
struct store;

/* A set of one square size up to this trains at its own size (CIFAR's 32,
 * MNIST's 28). */
#define DATASET_SQUARE_MAX_SIDE 64
/* Any other set (photos, mixed sizes, larger squares) trains at its
 * largest shorter side up to this: on photos, 32 found the wrong labels as
 * well as 48 and 64, in a third of the time (BENCHMARKS.md, "Photos");
 * score --side asks for more. */
#define DATASET_PHOTO_SIDE      32
/* The range of an explicit side (score --side). */
#define DATASET_SIDE_MIN        8
#define DATASET_SIDE_MAX        256

struct dataset { /* plain data; dataset_fini frees the arrays */
    int64_t n;
    int c;                 /* 1 or 3: 3 if any sample is colour */
    int side;              /* S: shorter side to S, centre S x S */
    int k;                 /* classes in the project */
    uint8_t *pixels;       /* (N, C, S, S) */
    int32_t *label;        /* current label, the training target */
    int32_t *given;        /* imported label */
    uint8_t *trusted;      /* 1: a person confirmed or set this label */
    int64_t *sample_id;    /* store ids, import order */
    float mean[3], std[3]; /* per channel, in pixel units (0..255) */
};

/* The input side for a set of stored sizes: their own size when all share
 * one square size up to DATASET_SQUARE_MAX_SIDE, else the largest of their
 * shorter sides, at most DATASET_PHOTO_SIDE. */
int dataset_choose_side(int all_same_square, int common_side,
                        int max_short_side);

/* Load every sample of the store (which the caller owns and keeps open)
 * at side S = side, or the one dataset_choose_side picks when side is 0. */
WN_NODISCARD int dataset_load(struct store *s, int side, struct dataset *out,
                              char **cause);
void dataset_fini(struct dataset *d);

/* A batch for the network: the samples idx[0..bn) as floats in x (bn, C,
 * S, S), each channel normalised by the set's mean and deviation, and
 * their labels in y. Each image is shifted by a random offset in [-pad,
 * pad] on both axes, the uncovered border black, and with flip mirrored
 * left to right half the time. r is drawn from only for pad > 0 or flip,
 * always in the same order, so a seed repeats a batch bit for bit. */
void dataset_batch(const struct dataset *d, const int32_t *idx, int bn, int pad,
                   int flip, struct rng *r, float *x, int *y);

#endif
