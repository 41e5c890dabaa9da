/* data/npy.c: the .npy reader and writer.
 *
 * A .npy file is a magic string, a version, a header length, a header that
 * is a Python dict literal, then the raw array. The header is parsed by a
 * small recursive-descent reader that accepts exactly what numpy writes
 * and what its literal_eval would read of the same shape (keys in any
 * order, either quote, spaces, a trailing comma), and refuses anything
 * else with a cause naming what it expected: the header is untrusted and
 * short, so strictness costs nothing and keeps every read bounded by the
 * header's own length.
 *
 * The shape is checked against the bytes that follow the header before
 * anything is allocated, so an absurd shape is an error, never a huge
 * allocation. Data are converted in chunks (npy_convert), so that reading
 * a float64 file from disk needs only the float32 result in memory. */
#include "config.h"

#include "data/npy.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "data/outfile.h"

#define NPY_MAGIC      "\x93NUMPY"
#define NPY_MAGIC_LEN  6
/* numpy itself refuses headers over 10000 bytes unless told otherwise;
 * ours are a few dozen, so a megabyte is generous and still bounded. */
#define NPY_MAX_HEADER ((size_t)1 << 20)
/* numpy aligns the data to 64 bytes. */
#define NPY_ALIGN      64
#define NPY_CHUNK      ((size_t)1 << 20)

struct npy_header {
    size_t data_off; /* bytes before the data */
    int itemsize;    /* 2, 4 or 8 */
    int big_endian;
    int fortran;
    int ndim;
    int64_t shape[2];
};

/* --- the dict literal */

struct npy_lex {
    const char *s;
    size_t n, pos;
};

static void
npy_skip_spaces(struct npy_lex *x)
{
    while (x->pos < x->n && x->s[x->pos] == ' ')
        x->pos++;
}

static int
npy_peek(struct npy_lex *x)
{
    npy_skip_spaces(x);
    return x->pos < x->n ? (unsigned char)x->s[x->pos] : -1;
}

static int
npy_expect(struct npy_lex *x, char c, const char *after, char **cause)
{
    if (npy_peek(x) != c)
        return wn_fail(cause, "header: expected '%c' %s", c, after);
    x->pos++;
    return 0;
}

/* A quoted string without escapes into buf (of size cap). */
static int
npy_string(struct npy_lex *x, char *buf, size_t cap, const char *what,
           char **cause)
{
    int q = npy_peek(x);
    if (q != '\'' && q != '"')
        return wn_fail(cause, "header: expected a quoted %s", what);
    size_t start = ++x->pos;
    while (x->pos < x->n && x->s[x->pos] != q) {
        if (x->s[x->pos] == '\\')
            return wn_fail(cause, "header: escape in the %s", what);
        x->pos++;
    }
    if (x->pos >= x->n)
        return wn_fail(cause, "header: unterminated %s", what);
    size_t len = x->pos - start;
    x->pos++;
    if (len >= cap)
        return wn_fail(cause, "header: %s too long", what);
    memcpy(buf, x->s + start, len);
    buf[len] = '\0';
    return 0;
}

static int
npy_word(struct npy_lex *x, const char *w)
{
    size_t len = strlen(w);
    npy_skip_spaces(x);
    if (x->n - x->pos < len || memcmp(x->s + x->pos, w, len) != 0)
        return 0;
    x->pos += len;
    return 1;
}

/* A shape tuple: (), (N,), (N, K), with an optional trailing comma where
 * Python allows one; up to three dimensions are read so that a 3-D array
 * can be named as such. */
static int
npy_shape(struct npy_lex *x, struct npy_header *h, char **cause)
{
    int64_t dims[3];
    int nd = 0;
    if (npy_expect(x, '(', "to open the shape", cause) != 0)
        return -1;
    for (;;) {
        int c = npy_peek(x);
        if (c == ')')
            break;
        if (c < '0' || c > '9')
            return wn_fail(cause, "header: expected a number in the shape");
        int64_t v = 0;
        while (x->pos < x->n && x->s[x->pos] >= '0' && x->s[x->pos] <= '9') {
            int d = x->s[x->pos++] - '0';
            if (v > (INT64_MAX - d) / 10)
                return wn_fail(cause, "header: shape dimension too large");
            v = v * 10 + d;
        }
        if (nd == 3)
            return wn_fail(cause, "%d-D array or more (expected N or N x K)",
                           nd + 1);
        dims[nd++] = v;
        c = npy_peek(x);
        if (c == ',') {
            x->pos++;
            continue;
        }
        if (c != ')')
            return wn_fail(cause, "header: expected ',' or ')' in the shape");
        if (nd == 1) /* (N) is a number in parentheses, not a tuple */
            return wn_fail(cause, "header: shape is not a tuple");
    }
    x->pos++;
    if (nd == 0)
        return wn_fail(cause, "0-D array (expected N or N x K)");
    if (nd == 3)
        return wn_fail(cause, "3-D array (expected N or N x K)");
    h->ndim = nd;
    h->shape[0] = dims[0];
    h->shape[1] = nd == 2 ? dims[1] : 1;
    return 0;
}

static int
npy_descr(const char *d, struct npy_header *h, char **cause)
{
    if ((d[0] == '<' || d[0] == '>') && d[1] == 'f' &&
        (d[2] == '2' || d[2] == '4' || d[2] == '8') && d[3] == '\0') {
        h->big_endian = d[0] == '>';
        h->itemsize = d[2] - '0';
        return 0;
    }
    return wn_fail(cause,
                   "unsupported dtype '%s' (expected float16, "
                   "float32 or float64: '<f2', '<f4', '<f8')",
                   d);
}

static int
npy_dict(const char *s, size_t n, struct npy_header *h, char **cause)
{
    struct npy_lex x = {s, n, 0};
    int seen_descr = 0, seen_fortran = 0, seen_shape = 0;
    char key[32], descr[32];

    if (npy_expect(&x, '{', "at the start", cause) != 0)
        return -1;
    while (npy_peek(&x) != '}') {
        if (npy_string(&x, key, sizeof key, "key", cause) != 0)
            return -1;
        if (npy_expect(&x, ':', "after a key", cause) != 0)
            return -1;
        int *seen;
        if (strcmp(key, "descr") == 0) {
            seen = &seen_descr;
            if (npy_string(&x, descr, sizeof descr, "dtype", cause) != 0 ||
                npy_descr(descr, h, cause) != 0)
                return -1;
        } else if (strcmp(key, "fortran_order") == 0) {
            seen = &seen_fortran;
            if (npy_word(&x, "True"))
                h->fortran = 1;
            else if (npy_word(&x, "False"))
                h->fortran = 0;
            else
                return wn_fail(cause, "header: fortran_order is not True "
                                      "or False");
        } else if (strcmp(key, "shape") == 0) {
            seen = &seen_shape;
            if (npy_shape(&x, h, cause) != 0)
                return -1;
        } else {
            return wn_fail(cause, "header: unknown key '%s'", key);
        }
        if (*seen)
            return wn_fail(cause, "header: key '%s' given twice", key);
        *seen = 1;
        int c = npy_peek(&x);
        if (c == ',')
            x.pos++;
        else if (c != '}')
            return wn_fail(cause, "header: expected ',' or '}' after '%s'",
                           key);
    }
    x.pos++;
    if (!seen_descr || !seen_fortran || !seen_shape)
        return wn_fail(cause, "header: no '%s'",
                       !seen_descr   ? "descr"
                       : !seen_shape ? "shape"
                                     : "fortran_order");
    /* Only the padding may follow: spaces, then the newline that ends the
     * header. */
    npy_skip_spaces(&x);
    if (x.pos != n - 1 || s[n - 1] != '\n')
        return wn_fail(cause, "header: not padded with spaces to a newline");
    return 0;
}

/* The fixed part before the dict: magic, version, header length. On
 * success *need is the length of the whole header, data_off. */
static int
npy_prefix(const unsigned char *b, size_t len, size_t *need, size_t *dict_at,
           char **cause)
{
    if (len < NPY_MAGIC_LEN || memcmp(b, NPY_MAGIC, NPY_MAGIC_LEN) != 0)
        return wn_fail(cause, len == 0 ? "empty file"
                                       : "not a .npy file (wrong magic)");
    if (len < 10)
        return wn_fail(cause, "truncated header");
    int major = b[6], minor = b[7];
    size_t hlen;
    if (major == 1 && minor == 0) {
        hlen = (size_t)b[8] | (size_t)b[9] << 8;
        *dict_at = 10;
    } else if ((major == 2 || major == 3) && minor == 0) {
        if (len < 12)
            return wn_fail(cause, "truncated header");
        hlen = (size_t)b[8] | (size_t)b[9] << 8 | (size_t)b[10] << 16 |
               (size_t)b[11] << 24;
        *dict_at = 12;
    } else {
        return wn_fail(cause, "unsupported .npy version %d.%d", major, minor);
    }
    if (hlen == 0)
        return wn_fail(cause, "header: empty");
    if (hlen > NPY_MAX_HEADER)
        return wn_fail(cause, "header of %zu bytes (limit %zu)", hlen,
                       NPY_MAX_HEADER);
    *need = *dict_at + hlen;
    return 0;
}

/* Parse the header at the start of b (which holds at least *need bytes
 * once npy_prefix said how many). */
static int
npy_header_parse(const unsigned char *b, size_t dict_at, size_t need,
                 struct npy_header *h, char **cause)
{
    memset(h, 0, sizeof *h);
    for (size_t i = dict_at; i < need; i++) {
        /* Latin-1 (1.0, 2.0) or UTF-8 (3.0): neither is needed for the
         * keys and values we accept, so any such byte is an error. */
        if (b[i] >= 0x80 || (b[i] < 0x20 && b[i] != '\n'))
            return wn_fail(cause, "header: byte 0x%02x", b[i]);
    }
    h->data_off = need;
    return npy_dict((const char *)b + dict_at, need - dict_at, h, cause);
}

/* Check the shape against the bytes of data and return the element
 * count. */
static int
npy_check_size(const struct npy_header *h, uint64_t have, size_t *count,
               char **cause)
{
    size_t n, bytes, fbytes;
    char shape[64];
    if (h->ndim == 1)
        snprintf(shape, sizeof shape, "(%lld,)", (long long)h->shape[0]);
    else
        snprintf(shape, sizeof shape, "(%lld, %lld)", (long long)h->shape[0],
                 (long long)h->shape[1]);
    if ((uint64_t)h->shape[0] > SIZE_MAX || (uint64_t)h->shape[1] > SIZE_MAX ||
        wn_mul_size((size_t)h->shape[0], (size_t)h->shape[1], &n) != 0 ||
        wn_mul_size(n, (size_t)h->itemsize, &bytes) != 0 ||
        wn_mul_size(n, sizeof(float), &fbytes) != 0)
        return wn_fail(cause, "shape %s is too large", shape);
    if (have != bytes)
        return wn_fail(cause,
                       "shape %s needs %zu bytes of data, the file "
                       "has %llu%s",
                       shape, bytes, (unsigned long long)have,
                       have < bytes ? " (truncated?)" : "");
    *count = n;
    return 0;
}

static float
npy_half(uint16_t v)
{
    int sign = v >> 15, exp = (v >> 10) & 0x1f, frac = v & 0x3ff;
    float f;
    if (exp == 0)
        f = ldexpf((float)frac, -24); /* zero or subnormal */
    else if (exp == 31)
        f = frac ? NAN : INFINITY;
    else
        f = ldexpf((float)(frac | 0x400), exp - 25);
    return sign ? -f : f;
}

/* Convert count raw items (elements first .. first + count - 1 in file
 * order) into a's row-major array. */
static void
npy_convert(const struct npy_header *h, const unsigned char *src, size_t first,
            size_t count, struct npy *a)
{
    size_t rows = (size_t)a->rows, cols = (size_t)a->cols;
    for (size_t t = 0; t < count; t++) {
        const unsigned char *p = src + t * (size_t)h->itemsize;
        uint64_t u = 0;
        for (int b = 0; b < h->itemsize; b++) {
            int shift = h->big_endian ? 8 * (h->itemsize - 1 - b) : 8 * b;
            u |= (uint64_t)p[b] << shift;
        }
        float v;
        if (h->itemsize == 2) {
            v = npy_half((uint16_t)u);
        } else if (h->itemsize == 4) {
            uint32_t w = (uint32_t)u;
            memcpy(&v, &w, sizeof v);
        } else {
            double d;
            memcpy(&d, &u, sizeof d);
            v = (float)d;
        }
        size_t e = first + t, at = e;
        /* Column-major in the file: element e is (e % rows, e / rows). */
        if (h->fortran && h->ndim == 2)
            at = (e % rows) * cols + e / rows;
        a->data[at] = v;
    }
}

static int
npy_start(const struct npy_header *h, size_t count, struct npy *out,
          char **cause)
{
    memset(out, 0, sizeof *out);
    out->ndim = h->ndim;
    out->rows = h->shape[0];
    out->cols = h->shape[1];
    out->data = malloc(count ? count * sizeof(float) : 1);
    if (out->data == NULL)
        return wn_fail(cause, "out of memory for %zu values", count);
    return 0;
}

int
npy_parse(const void *buf, size_t len, struct npy *out, char **cause)
{
    const unsigned char *b = buf;
    struct npy_header h;
    size_t need, dict_at, count;

    memset(out, 0, sizeof *out);
    if (npy_prefix(b, len, &need, &dict_at, cause) != 0)
        return -1;
    if (len < need)
        return wn_fail(cause, "truncated header");
    if (npy_header_parse(b, dict_at, need, &h, cause) != 0 ||
        npy_check_size(&h, len - need, &count, cause) != 0 ||
        npy_start(&h, count, out, cause) != 0)
        return -1;
    npy_convert(&h, b + need, 0, count, out);
    return 0;
}

/* Read exactly n bytes or fail naming what was short. */
static int
npy_fread(FILE *f, void *dst, size_t n, const char *path, const char *what,
          char **cause)
{
    if (fread(dst, 1, n, f) == n)
        return 0;
    if (ferror(f))
        return wn_fail(cause, "%s: %s", path, strerror(errno ? errno : EIO));
    return wn_fail(cause, "%s: %s", path, what);
}

int
npy_read(const char *path, struct npy *out, char **cause)
{
    unsigned char fixed[12], *hdr = NULL, *chunk = NULL;
    struct npy_header h;
    size_t need, dict_at, count, got;
    struct stat st;
    char *why = NULL;
    int rc = -1;

    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return wn_fail(cause, "%s: %s", path, strerror(errno));
    if (fstat(fileno(f), &st) != 0) {
        wn_fail(cause, "%s: %s", path, strerror(errno));
        goto done;
    }
    if (!S_ISREG(st.st_mode)) {
        wn_fail(cause, "%s: %s", path,
                S_ISDIR(st.st_mode) ? "is a directory" : "not a regular file");
        goto done;
    }
    got = fread(fixed, 1, sizeof fixed, f);
    if (ferror(f)) {
        wn_fail(cause, "%s: %s", path, strerror(errno ? errno : EIO));
        goto done;
    }
    if (npy_prefix(fixed, got, &need, &dict_at, &why) != 0)
        goto bad;
    if ((uint64_t)st.st_size < need) {
        why = xstrdup("truncated header");
        goto bad;
    }
    hdr = xmalloc(need);
    memcpy(hdr, fixed, got < need ? got : need);
    if (need > got && npy_fread(f, hdr + got, need - got, path,
                                "truncated header", cause) != 0)
        goto done;
    if (npy_header_parse(hdr, dict_at, need, &h, &why) != 0 ||
        npy_check_size(&h, (uint64_t)st.st_size - need, &count, &why) != 0)
        goto bad;
    if (npy_start(&h, count, out, &why) != 0)
        goto bad;
    /* The header may have been read past by the first fread. */
    if (fseek(f, (long)need, SEEK_SET) != 0) {
        wn_fail(cause, "%s: %s", path, strerror(errno));
        goto done;
    }
    size_t per = NPY_CHUNK / (size_t)h.itemsize;
    chunk = xmalloc(NPY_CHUNK);
    for (size_t first = 0; first < count; first += per) {
        size_t n = count - first < per ? count - first : per;
        if (npy_fread(f, chunk, n * (size_t)h.itemsize, path,
                      "file shrank while being read", cause) != 0)
            goto done;
        npy_convert(&h, chunk, first, n, out);
    }
    rc = 0;
    goto done;
bad:
    wn_fail(cause, "%s: %s", path, why);
done:
    if (rc != 0)
        npy_fini(out);
    free(why);
    free(chunk);
    free(hdr);
    fclose(f);
    return rc;
}

int
npy_write(FILE *f, const float *data, int64_t rows, int64_t cols, char **cause)
{
    char dict[128];
    size_t n;
    if (rows < 0 || cols < 0 ||
        wn_mul_size((size_t)rows, (size_t)cols, &n) != 0)
        return wn_fail(cause, "bad shape %lld x %lld", (long long)rows,
                       (long long)cols);
    int len = snprintf(dict, sizeof dict,
                       "{'descr': '<f4', 'fortran_order': False, "
                       "'shape': (%lld, %lld), }",
                       (long long)rows, (long long)cols);
    /* Version 1.0 counts the header in 16 bits; ours always fits, but the
     * rule is kept so that a longer header would go out as 2.0. */
    size_t dict_at = 10, hlen = (size_t)len + 1;
    if (((hlen + dict_at + NPY_ALIGN - 1) / NPY_ALIGN) * NPY_ALIGN - dict_at >
        0xffff)
        dict_at = 12;
    size_t total = ((hlen + dict_at + NPY_ALIGN - 1) / NPY_ALIGN) * NPY_ALIGN;
    hlen = total - dict_at;
    unsigned char pre[12] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
    pre[6] = dict_at == 10 ? 1 : 2;
    pre[7] = 0;
    for (size_t b = 0; b < dict_at - 8; b++)
        pre[8 + b] = (unsigned char)(hlen >> (8 * b));
    fwrite(pre, 1, dict_at, f);
    fwrite(dict, 1, (size_t)len, f);
    for (size_t i = (size_t)len; i < hlen - 1; i++)
        putc(' ', f);
    putc('\n', f);

    /* Little-endian on disk whatever the host. */
    unsigned char out[4096];
    size_t fill = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t w;
        memcpy(&w, &data[i], sizeof w);
        for (int b = 0; b < 4; b++)
            out[fill++] = (unsigned char)(w >> (8 * b));
        if (fill == sizeof out) {
            fwrite(out, 1, fill, f);
            fill = 0;
        }
    }
    fwrite(out, 1, fill, f);
    if (ferror(f))
        return wn_fail(cause, "%s", outfile_strerror(errno ? errno : EIO));
    return 0;
}

int
npy_save(const char *path, const float *data, int64_t rows, int64_t cols,
         char **cause)
{
    struct outfile t;
    int rc = -1;
    char *why = NULL;
    if (outfile_open(&t, path, 1, cause) != 0) {
        outfile_fini(&t);
        return -1;
    }
    if (npy_write(t.f, data, rows, cols, &why) != 0) {
        wn_fail(cause, "%s: %s", outfile_what(&t), why);
        free(why);
    } else if (outfile_close(&t, cause) == 0 &&
               outfile_commit(&t, cause) == 0) {
        rc = 0;
    }
    if (rc != 0)
        outfile_remove(&t);
    outfile_fini(&t);
    return rc;
}

void
npy_fini(struct npy *a)
{
    if (a == NULL)
        return;
    free(a->data);
    memset(a, 0, sizeof *a);
}
