/* data/image_internal.h: what the codecs (image_png.c, image_jpeg.c,
 * image_webp.c) share with image.c, which sniffs and dispatches to them.
 * Not for use outside data/image*.c and data/exif.c. */
#ifndef WINNOW_DATA_IMAGE_INTERNAL_H
#define WINNOW_DATA_IMAGE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "data/image.h"

/* Room for an error message from a library or from us. */
#define IMAGE_MSG_LEN   160

/* round(x / 255) for x in [0, 255 * 255], without a division. */
#define IMAGE_DIV255(x) ((((x) + 128u) + (((x) + 128u) >> 8)) >> 8)

/* c composited on IMAGE_ALPHA_BACKGROUND with alpha a. */
static inline unsigned
image_over_bg(unsigned c, unsigned a)
{
    unsigned x = c * a + IMAGE_ALPHA_BACKGROUND * (255u - a);
    return IMAGE_DIV255(x);
}

/* Whether a claimed size is over the limits (checked before allocating). */
static inline int
image_too_large(uint32_t w, uint32_t h)
{
    return w > IMAGE_MAX_SIDE || h > IMAGE_MAX_SIDE ||
           (uint64_t)w * h > IMAGE_MAX_PIXELS;
}

/* A struct image that the codecs and the resamplers can trust. */
int image_valid(const struct image *im);

/* Composite gray+alpha or RGBA (n pixels) down to gray or RGB in place. */
void image_composite(uint8_t *px, size_t n, int channels);

/* The decoders behind image_decode. Each fills out and info on success
 * (info->format and info->orientation excepted: the caller sets them),
 * and on failure frees what it made and returns -1 with *cause set.
 * min_side as for image_decode; only JPEG uses it. */
WN_NODISCARD int image_decode_jpeg(const void *buf, size_t len, int min_side,
                                   struct image *out, struct image_info *info,
                                   char **cause);
WN_NODISCARD int image_decode_webp(const void *buf, size_t len,
                                   struct image *out, struct image_info *info,
                                   char **cause);

/* Turn a stored image upright by its EXIF orientation (1..8; anything
 * else is left as 1). Replaces im's pixels. */
WN_NODISCARD int image_orient(struct image *im, int orientation, char **cause);

#endif
