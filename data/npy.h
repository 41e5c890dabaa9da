/* data/npy.h: NumPy .npy files of floats, the way matrices of predicted
 * probabilities and embeddings travel between winnow and Python. A leaf
 * module but for data/outfile.h.
 *
 * Reads format versions 1.0, 2.0 and 3.0; dtypes float16, float32 and
 * float64 in either byte order ('<f2' '<f4' '<f8' '>f2' '>f4' '>f8'),
 * held as native float; shapes (N,) and (N, K); Fortran order is handled
 * by transposing into row-major. Writes float32 N x K, little-endian,
 * version 1.0 (2.0 only when the header would not fit 1.0's 16-bit
 * length), which numpy.load reads back bit for bit.
 *
 * Values are not judged here: NaN and infinities read as they are, and
 * the caller validates (data/probs.h for probabilities). */
#ifndef WINNOW_DATA_NPY_H
#define WINNOW_DATA_NPY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "data/base.h"

struct npy {      /* plain data; npy_fini frees data */
    int ndim;     /* 1 or 2 as the file says */
    int64_t rows; /* N */
    int64_t cols; /* K; 1 for a 1-D array */
    float *data;  /* rows x cols, row-major */
};

/* Parse a whole .npy file held in memory. Causes: "not a .npy file (wrong
 * magic)", "truncated header", "header: expected ':' after 'descr'",
 * "unsupported dtype '<i8' (expected float16, float32 or float64)",
 * "shape (3, 4) needs 48 bytes of data, the file has 40", "3-D array
 * (expected N or N x K)", ... */
WN_NODISCARD int npy_parse(const void *buf, size_t len, struct npy *out,
                           char **cause);

/* Read a file, converting as it goes so that a float64 file costs no more
 * than its float32 result. The cause names the path. */
WN_NODISCARD int npy_read(const char *path, struct npy *out, char **cause);

/* Write rows x cols float32 values (row-major) as a 2-D array to f, which
 * the caller opened (data/outfile.h) and closes. Fails only on a write
 * error seen so far. */
WN_NODISCARD int npy_write(FILE *f, const float *data, int64_t rows,
                           int64_t cols, char **cause);

/* The same through an outfile: the file appears whole or not at all. */
WN_NODISCARD int npy_save(const char *path, const float *data, int64_t rows,
                          int64_t cols, char **cause);

void npy_fini(struct npy *a);

#endif
