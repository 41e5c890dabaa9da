/* data/idx.c: IDX files (magic 0x00 0x00 TYPE NDIMS, then NDIMS big-endian
 * uint32 sizes, then the data), plain or gzip.
 *
 * The header is never trusted for an allocation: idx_read inflates the
 * stream into a buffer that grows geometrically with what actually arrives
 * (up to the caller's limit), and only then checks the header against it,
 * so a 16-byte file claiming 4 GB of pixels costs a few bytes and an error.
 * The data then moves to the front of that same buffer, which becomes the
 * struct's data: one allocation per file. zlib's gzread reads plain files
 * as they are, so one path serves both.
 *
 * A dimension of 0 is well formed (an empty label file is still an IDX
 * file) and gives an empty data block; whether an empty set is acceptable
 * is the caller's question, and idx_image_shape answers "no images". */
#include "config.h"

#include "data/idx.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#define IDX_TYPE_UBYTE 0x08
#define IDX_MAX_SIDE   16384u
/* gzread and gzwrite count in unsigned int. */
#define IDX_CHUNK      ((size_t)1 << 30)

/* Check the header in buf[0..len) against len and fill out's dims and size;
 * set *offset to where the data starts. Leaves out->data alone. */
static int
idx_header(const unsigned char *b, size_t len, struct idx *out, size_t *offset,
           char **cause)
{
    if (len == 0)
        return wn_fail(cause, "not an IDX file (empty)");
    if (len < 4)
        return wn_fail(cause, "not an IDX file (only %zu bytes)", len);
    if (b[0] != 0 || b[1] != 0)
        return wn_fail(cause, "not an IDX file (magic 0x%02x%02x%02x%02x)",
                       b[0], b[1], b[2], b[3]);
    if (b[2] != IDX_TYPE_UBYTE)
        return wn_fail(cause, "unsupported IDX data type 0x%02x", b[2]);
    int ndims = b[3];
    if (ndims < 1 || ndims > IDX_MAX_DIMS)
        return wn_fail(cause,
                       "unsupported IDX dimension count %d (expected "
                       "1 to %d)",
                       ndims, IDX_MAX_DIMS);
    size_t head = 4 + 4 * (size_t)ndims;
    if (len < head)
        return wn_fail(cause,
                       "truncated IDX header (%zu bytes, %d "
                       "dimensions need %zu)",
                       len, ndims, head);
    size_t size = 1;
    bool overflow = false;
    for (int i = 0; i < ndims; i++) {
        const unsigned char *p = b + 4 + 4 * (size_t)i;
        out->dims[i] = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
                       (uint32_t)p[2] << 8 | (uint32_t)p[3];
        if (!overflow && wn_mul_size(size, out->dims[i], &size) != 0)
            overflow = true;
    }
    for (int i = ndims; i < IDX_MAX_DIMS; i++)
        out->dims[i] = 0;
    /* A zero dimension makes the set empty however large the others. */
    for (int i = 0; i < ndims; i++)
        if (out->dims[i] == 0) {
            overflow = false;
            size = 0;
        }
    if (overflow || size > SIZE_MAX - head)
        return wn_fail(cause, "IDX dimensions too large (their product "
                              "overflows)");
    if (len - head < size)
        return wn_fail(cause,
                       "header says %zu bytes of data but the file "
                       "has %zu",
                       size, len - head);
    if (len - head > size)
        return wn_fail(cause, "trailing data after %zu bytes", size);
    out->ndims = ndims;
    out->size = size;
    *offset = head;
    return 0;
}

int
idx_parse(const void *buf, size_t len, struct idx *out, char **cause)
{
    struct idx x = {0};
    size_t offset;
    if (idx_header(buf, len, &x, &offset, cause) != 0)
        return -1;
    x.data = malloc(x.size ? x.size : 1);
    if (x.data == NULL)
        return wn_fail(cause, "out of memory (%zu bytes of IDX data)", x.size);
    memcpy(x.data, (const unsigned char *)buf + offset, x.size);
    *out = x;
    return 0;
}

/* The cause of a gzip failure, from gzerror while the file is open. */
static int
idx_gz_fail(gzFile gz, const char *path, char **cause)
{
    int errnum = Z_OK;
    const char *msg = gzerror(gz, &errnum);
    /* zlib puts the path in front of its messages; we put ours there. */
    size_t n = strlen(path);
    if (strncmp(msg, path, n) == 0 && strncmp(msg + n, ": ", 2) == 0)
        msg += n + 2;
    switch (errnum) {
    case Z_BUF_ERROR: return wn_fail(cause, "%s: truncated gzip stream", path);
    case Z_MEM_ERROR: return wn_fail(cause, "%s: out of memory", path);
    case Z_DATA_ERROR:
        return wn_fail(cause, "%s: corrupt gzip data: %s", path, msg);
    default: return wn_fail(cause, "%s: %s", path, msg);
    }
}

/* Inflate the whole file into *buf_out, refusing more than max_bytes. */
static int
idx_slurp(const char *path, size_t max_bytes, unsigned char **buf_out,
          size_t *len_out, char **cause)
{
    errno = 0;
    gzFile gz = gzopen(path, "rb");
    if (gz == NULL)
        return wn_fail(cause, "%s: %s", path,
                       errno ? strerror(errno) : "out of memory");
    unsigned char *buf = NULL;
    size_t len = 0, cap = 0;
    /* One byte past the limit tells "exactly max_bytes" from "more". */
    size_t limit = max_bytes < SIZE_MAX ? max_bytes + 1 : max_bytes;
    for (;;) {
        if (len == cap) {
            if (cap == limit) {
                gzclose(gz);
                free(buf);
                return wn_fail(cause,
                               "%s: file too large (more than %zu "
                               "bytes)",
                               path, max_bytes);
            }
            size_t ncap = cap ? cap : 64 * 1024;
            if (cap > 0)
                ncap = cap > limit / 2 ? limit : cap * 2;
            if (ncap > limit)
                ncap = limit;
            unsigned char *nbuf = realloc(buf, ncap);
            if (nbuf == NULL) {
                gzclose(gz);
                free(buf);
                return wn_fail(cause, "%s: out of memory (%zu bytes)", path,
                               ncap);
            }
            buf = nbuf;
            cap = ncap;
        }
        size_t want = cap - len < IDX_CHUNK ? cap - len : IDX_CHUNK;
        int n = gzread(gz, buf + len, (unsigned)want);
        if (n < 0) {
            idx_gz_fail(gz, path, cause);
            gzclose(gz);
            free(buf);
            return -1;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    /* gzread returns what it inflated before an error and reports the error
     * on the next call; a cut-short stream shows only here or at close. */
    int errnum = Z_OK;
    gzerror(gz, &errnum);
    if (errnum != Z_OK) {
        idx_gz_fail(gz, path, cause);
        gzclose(gz);
        free(buf);
        return -1;
    }
    int rc = gzclose(gz);
    if (rc != Z_OK) {
        free(buf);
        if (rc == Z_BUF_ERROR)
            return wn_fail(cause, "%s: truncated gzip stream", path);
        if (rc == Z_ERRNO)
            return wn_fail(cause, "%s: %s", path, strerror(errno));
        return wn_fail(cause, "%s: error closing (zlib error %d)", path, rc);
    }
    *buf_out = buf;
    *len_out = len;
    return 0;
}

int
idx_read(const char *path, size_t max_bytes, struct idx *out, char **cause)
{
    unsigned char *buf = NULL;
    size_t len = 0, offset;
    if (idx_slurp(path, max_bytes, &buf, &len, cause) != 0)
        return -1;
    struct idx x = {0};
    char *why = NULL;
    if (idx_header(buf, len, &x, &offset, &why) != 0) {
        free(buf);
        wn_fail(cause, "%s: %s", path, why);
        free(why);
        return -1;
    }
    memmove(buf, buf + offset, x.size);
    /* Shrinking cannot really fail; keep the larger block if it does. */
    unsigned char *small = realloc(buf, x.size ? x.size : 1);
    x.data = small ? small : buf;
    *out = x;
    return 0;
}

int
idx_image_shape(const struct idx *x, uint32_t *count, uint32_t *rows,
                uint32_t *cols, int *channels, char **cause)
{
    int c;
    if (x->ndims == 3)
        c = 1;
    else if (x->ndims == 4 && (x->dims[3] == 1 || x->dims[3] == 3))
        c = (int)x->dims[3];
    else if (x->ndims == 4)
        return wn_fail(cause,
                       "unsupported channel count %u (expected 1 or "
                       "3)",
                       x->dims[3]);
    else
        return wn_fail(cause,
                       "not an IDX image file (%d dimensions, "
                       "expected 3 or 4)",
                       x->ndims);
    if (x->dims[1] < 1 || x->dims[1] > IDX_MAX_SIDE || x->dims[2] < 1 ||
        x->dims[2] > IDX_MAX_SIDE)
        return wn_fail(cause,
                       "image size %ux%u out of range (each side 1 "
                       "to %u)",
                       x->dims[2], x->dims[1], IDX_MAX_SIDE);
    if (x->dims[0] == 0)
        return wn_fail(cause, "no images");
    *count = x->dims[0];
    *rows = x->dims[1];
    *cols = x->dims[2];
    *channels = c;
    return 0;
}

/* The bytes of both writers: the header, then the data. */
static void
idx_header_bytes(int ndims, const uint32_t *dims, unsigned char *head)
{
    head[0] = 0;
    head[1] = 0;
    head[2] = IDX_TYPE_UBYTE;
    head[3] = (unsigned char)ndims;
    for (int i = 0; i < ndims; i++) {
        unsigned char *p = head + 4 + 4 * i;
        p[0] = (unsigned char)(dims[i] >> 24);
        p[1] = (unsigned char)(dims[i] >> 16);
        p[2] = (unsigned char)(dims[i] >> 8);
        p[3] = (unsigned char)dims[i];
    }
}

static int
idx_write_gz(const char *path, const unsigned char *head, size_t head_len,
             const uint8_t *data, size_t size, char **cause)
{
    errno = 0;
    gzFile gz = gzopen(path, "wb6");
    if (gz == NULL)
        return wn_fail(cause, "%s: %s", path,
                       errno ? strerror(errno) : "out of memory");
    const unsigned char *parts[2] = {head, data};
    size_t lens[2] = {head_len, size};
    for (int k = 0; k < 2; k++) {
        for (size_t done = 0; done < lens[k];) {
            size_t n = lens[k] - done < IDX_CHUNK ? lens[k] - done : IDX_CHUNK;
            if (gzwrite(gz, parts[k] + done, (unsigned)n) != (int)n) {
                idx_gz_fail(gz, path, cause);
                gzclose(gz);
                return -1;
            }
            done += n;
        }
    }
    errno = 0;
    int rc = gzclose(gz);
    if (rc == Z_ERRNO)
        return wn_fail(cause, "%s: %s", path, strerror(errno));
    if (rc != Z_OK)
        return wn_fail(cause, "%s: error closing (zlib error %d)", path, rc);
    return 0;
}

static int
idx_write_plain(const char *path, const unsigned char *head, size_t head_len,
                const uint8_t *data, size_t size, char **cause)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        return wn_fail(cause, "%s: %s", path, strerror(errno));
    int e = 0;
    if (fwrite(head, 1, head_len, f) != head_len ||
        (size > 0 && fwrite(data, 1, size, f) != size))
        e = errno;
    if (fclose(f) != 0 && e == 0)
        e = errno;
    if (e != 0)
        return wn_fail(cause, "%s: %s", path, strerror(e));
    return 0;
}

int
idx_write(const char *path, int ndims, const uint32_t *dims,
          const uint8_t *data, char **cause)
{
    if (ndims < 1 || ndims > IDX_MAX_DIMS)
        return wn_fail(cause,
                       "%s: unsupported IDX dimension count %d "
                       "(expected 1 to %d)",
                       path, ndims, IDX_MAX_DIMS);
    size_t size = 1;
    for (int i = 0; i < ndims; i++)
        if (wn_mul_size(size, dims[i], &size) != 0)
            return wn_fail(cause, "%s: IDX dimensions too large", path);
    unsigned char head[4 + 4 * IDX_MAX_DIMS];
    size_t head_len = 4 + 4 * (size_t)ndims;
    idx_header_bytes(ndims, dims, head);
    size_t n = strlen(path);
    if (n >= 3 && strcmp(path + n - 3, ".gz") == 0)
        return idx_write_gz(path, head, head_len, data, size, cause);
    return idx_write_plain(path, head, head_len, data, size, cause);
}

void
idx_fini(struct idx *x)
{
    if (x == NULL)
        return;
    free(x->data);
    x->data = NULL;
    x->size = 0;
    x->ndims = 0;
}
