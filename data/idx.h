/* data/idx.h: IDX files of the MNIST family, plain or gzip (zlib reads
 * both). A leaf module but for zlib.
 *
 * Only unsigned-byte data (type 0x08) occurs in image datasets and is
 * supported. Images are N x rows x cols (gray) or N x rows x cols x C with C
 * 1 or 3; labels are N. */
#ifndef WINNOW_DATA_IDX_H
#define WINNOW_DATA_IDX_H

#include <stddef.h>
#include <stdint.h>

#include "data/base.h"

#define IDX_MAX_DIMS 4

struct idx { /* plain data; data owned (idx_fini) */
    int ndims;
    uint32_t dims[IDX_MAX_DIMS];
    uint8_t *data; /* the product of dims bytes */
    size_t size;
};

/* Parse an IDX file held in memory (already decompressed). Causes: "not an
 * IDX file (magic 0x...)", "unsupported IDX data type 0x0d", "header says
 * 47040000 bytes of data but the file has 1000", ... */
WN_NODISCARD int idx_parse(const void *buf, size_t len, struct idx *out,
                           char **cause);
/* Read a file, gunzipping when it is gzip; refuses more than max_bytes of
 * decompressed data. The cause names the path. */
WN_NODISCARD int idx_read(const char *path, size_t max_bytes, struct idx *out,
                          char **cause);
/* Check the shape of an image file (3 dims, or 4 with 1 or 3 channels) and
 * report it. */
WN_NODISCARD int idx_image_shape(const struct idx *x, uint32_t *count,
                                 uint32_t *rows, uint32_t *cols, int *channels,
                                 char **cause);
/* Write an unsigned-byte IDX file (gzip when path ends in ".gz"). Writes
 * path directly; callers wanting atomicity use a temporary name. */
WN_NODISCARD int idx_write(const char *path, int ndims, const uint32_t *dims,
                           const uint8_t *data, char **cause);
void idx_fini(struct idx *x);

#endif
