/* data/image.h: decoded images, the decoders for PNG, JPEG and WebP behind
 * one call, the PNG encoder, and the resamplers. Each library stays in its
 * own file: libpng in image_png.c, libjpeg in image_jpeg.c, libwebp in
 * image_webp.c.
 *
 * Every image in winnow is 8-bit, interleaved, row-major, with 1 channel
 * (gray) or 3 (RGB), and upright: decoding normalises every variant of
 * every format to one of the two, composites alpha on a background and
 * applies the EXIF orientation, so nothing above this module ever sees bit
 * depths, palettes, alpha, CMYK or a photo lying on its side. */
#ifndef WINNOW_DATA_IMAGE_H
#define WINNOW_DATA_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "data/base.h"

/* Larger images are refused before anything is allocated for them. */
#define IMAGE_MAX_SIDE   16384
#define IMAGE_MAX_PIXELS (64u * 1024u * 1024u)

struct image { /* plain data; pixels owned by the struct (image_fini) */
    int width, height;
    int channels;    /* 1 or 3 */
    uint8_t *pixels; /* width * height * channels bytes */
};

/* Background that alpha is composited on (white, as viewers show it). */
#define IMAGE_ALPHA_BACKGROUND 255

enum image_format {
    IMAGE_FORMAT_UNKNOWN,
    IMAGE_FORMAT_PNG,
    IMAGE_FORMAT_JPEG,
    IMAGE_FORMAT_WEBP
};

/* The format by the first bytes of a file, whatever its name says. */
enum image_format image_sniff(const void *buf, size_t len);
/* "PNG", "JPEG", "WebP" or "unknown". */
const char *image_format_name(enum image_format f);

struct image_info {
    enum image_format format;
    /* Full size, upright, before any shrinking while decoding: what the
     * user would call the photo's size. */
    int width, height;
    int orientation; /* the EXIF orientation applied, 1 (none) to 8 */
};

/* Decode a PNG, JPEG or WebP held in memory, chosen by image_sniff. When
 * min_side > 0 the decoder may return a smaller image, never with its
 * longest side below min_side (or below the full size's, if smaller):
 * JPEG is decoded at the smallest DCT scale (1/8 .. 8/8) that keeps it,
 * at a fraction of the cost of a full decode. min_side 0 decodes at full
 * size. info (may be NULL) tells the format and the full size. On failure
 * -1 with *cause a lower-case reason without the file name: "empty file",
 * "not an image (PNG, JPEG or WebP)", the codec's ("truncated JPEG data",
 * "truncated WebP data", "image too large: 20000x20000", ...). */
WN_NODISCARD int image_decode(const void *buf, size_t len, int min_side,
                              struct image *out, struct image_info *info,
                              char **cause);
/* Read and decode a file at full size; the cause names the path. */
WN_NODISCARD int image_read(const char *path, struct image *out, char **cause);

/* Decode a PNG held in memory. Gray (with or without alpha) becomes 1
 * channel, everything else 3. On failure return -1 with *cause set to a
 * lower-case reason without the file name ("not a PNG file", "truncated
 * PNG data", "CRC error", "image too large: 100000x100000"). */
WN_NODISCARD int image_decode_png(const void *buf, size_t len,
                                  struct image *out, char **cause);
/* Read and decode a file; the cause names the path. */
WN_NODISCARD int image_read_png(const char *path, struct image *out,
                                char **cause);
/* Encode as an 8-bit gray or RGB PNG into a new buffer (free()). */
WN_NODISCARD int image_encode_png(const struct image *im, void **buf_out,
                                  size_t *len_out, char **cause);
/* Write a PNG file; the cause names the path. Writes path directly: callers
 * that need atomicity write to a temporary name and rename. */
WN_NODISCARD int image_write_png(const char *path, const struct image *im,
                                 char **cause);

/* Allocate pixels for a w x h x c image (checked size); fails as an ordinary
 * error when too large. */
WN_NODISCARD int image_alloc(struct image *im, int width, int height,
                             int channels, char **cause);
/* Shrink so that the longest side is at most max_side (area averaging, so
 * small details average rather than alias); copies when already small
 * enough. Never enlarges. */
WN_NODISCARD int image_fit(const struct image *src, int max_side,
                           struct image *out, char **cause);
/* Resample to exactly w x h (bilinear when enlarging, area averaging when
 * shrinking), same channel count. */
WN_NODISCARD int image_resize(const struct image *src, int width, int height,
                              struct image *out, char **cause);
void image_fini(struct image *im);

#endif
