/* data/phash.h: a perceptual hash of an image, for finding near-duplicates.
 * A leaf module (data/image.h, data/base.h).
 *
 * Two copies of one picture (resized, re-encoded, a little brighter or of
 * more contrast) get hashes a few bits apart; different pictures get
 * hashes about half their bits apart. Flips, crops and other framing move
 * the hash as far as a different picture: other evidence must find those. */
#ifndef WINNOW_DATA_PHASH_H
#define WINNOW_DATA_PHASH_H

#include <stdint.h>

#include "data/base.h"

struct image;

/* Bits of a hash that carry information; the top bit is always 0. */
#define PHASH_BITS 63

/* The hash of an image of any size and 1 or 3 channels. Pure: safe from
 * any thread. A flat image (one grey level) hashes to 0. */
uint64_t phash_image(const struct image *im);
/* The same from bare pixels: w x h, channels deep, rows packed. */
uint64_t phash_pixels(const uint8_t *pixels, int w, int h, int channels);

/* Number of bits in which two hashes differ. */
static inline int
phash_distance(uint64_t a, uint64_t b)
{
    return __builtin_popcountll(a ^ b);
}

#endif
