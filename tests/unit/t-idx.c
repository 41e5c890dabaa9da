/* tests/unit/t-idx.c: IDX parsing, reading (plain and gzip), shapes and
 * writing.
 *
 * Files are written with idx_write into a temporary directory and read
 * back; crafted headers go through idx_parse for every cause; the corrupt
 * files in tests/data/bad must each fail with a cause naming the file. */
#include "config.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data/base.h"
#include "data/idx.h"
#include "tests/fixtures.h"
#include "tests/tap.h"

static char *tmp;

/* An IDX image of bytes: header for ndims dims, then n bytes of data. */
static size_t
craft(unsigned char *out, int type, int ndims, const uint32_t *dims, size_t n)
{
    out[0] = 0;
    out[1] = 0;
    out[2] = (unsigned char)type;
    out[3] = (unsigned char)ndims;
    for (int i = 0; i < ndims; i++) {
        out[4 + 4 * i] = (unsigned char)(dims[i] >> 24);
        out[5 + 4 * i] = (unsigned char)(dims[i] >> 16);
        out[6 + 4 * i] = (unsigned char)(dims[i] >> 8);
        out[7 + 4 * i] = (unsigned char)dims[i];
    }
    size_t head = 4 + 4 * (size_t)ndims;
    for (size_t i = 0; i < n; i++)
        out[head + i] = (unsigned char)(i * 13 + 1);
    return head + n;
}

/* idx_parse must fail with exactly want. */
static void
parse_fails(const void *buf, size_t len, const char *want)
{
    struct idx x = {0};
    char *cause = NULL;
    int r = idx_parse(buf, len, &x, &cause);
    is_int(r, ==, -1);
    is_str(cause, want);
    ok(x.data == NULL, "nothing handed out on failure (%s)", want);
    free(cause);
    idx_fini(&x);
}

static void
test_parse(void)
{
    static unsigned char b[64 + 1000];
    struct idx x = {0};
    char *cause = NULL;

    uint32_t d1[] = {3};
    size_t n = craft(b, 8, 1, d1, 3);
    is_int(idx_parse(b, n, &x, &cause), ==, 0);
    is_int(x.ndims, ==, 1);
    is_int(x.dims[0], ==, 3);
    is_int(x.size, ==, 3);
    ok(x.data != NULL && memcmp(x.data, b + 8, 3) == 0, "label bytes");
    b[8] ^= 0xff;
    ok(x.data[0] != b[8], "the data is a copy");
    idx_fini(&x);
    ok(x.data == NULL && x.size == 0, "idx_fini clears");
    idx_fini(&x);
    idx_fini(NULL);

    /* Big-endian dims, all four. */
    uint32_t d4[] = {2, 3, 4, 3};
    n = craft(b, 8, 4, d4, 72);
    is_int(idx_parse(b, n, &x, &cause), ==, 0);
    ok(x.ndims == 4 && x.dims[0] == 2 && x.dims[1] == 3 && x.dims[2] == 4 &&
           x.dims[3] == 3 && x.size == 72,
       "4 dims parsed");
    ok(memcmp(x.data, b + 20, 72) == 0, "image bytes");
    idx_fini(&x);

    /* A zero dimension is an empty set, however large the others. */
    uint32_t dz[] = {0, 0xffffffffu, 0xffffffffu, 0xffffffffu};
    n = craft(b, 8, 4, dz, 0);
    is_int(idx_parse(b, n, &x, &cause), ==, 0);
    is_int(x.size, ==, 0);
    idx_fini(&x);

    parse_fails(b, 0, "not an IDX file (empty)");
    parse_fails("\0\0\x08", 3, "not an IDX file (only 3 bytes)");
    parse_fails("\x01\x02\x08\x01\0\0\0\0", 8,
                "not an IDX file (magic 0x01020801)");
    parse_fails("\0\x01\x08\x01\0\0\0\0", 8,
                "not an IDX file (magic 0x00010801)");
    n = craft(b, 0x0d, 1, d1, 12);
    parse_fails(b, n, "unsupported IDX data type 0x0d");
    n = craft(b, 0x09, 1, d1, 3);
    parse_fails(b, n, "unsupported IDX data type 0x09");
    n = craft(b, 8, 0, d1, 1);
    parse_fails(b, n, "unsupported IDX dimension count 0 (expected 1 to 4)");
    uint32_t d5[] = {1, 1, 1, 1, 1};
    n = craft(b, 8, 5, d5, 1);
    parse_fails(b, n, "unsupported IDX dimension count 5 (expected 1 to 4)");
    uint32_t d3[] = {2, 3, 3};
    craft(b, 8, 3, d3, 0);
    parse_fails(b, 12, "truncated IDX header (12 bytes, 3 dimensions need 16)");
    parse_fails(b, 4, "truncated IDX header (4 bytes, 3 dimensions need 16)");

    /* The data must be exactly the product of the dims. */
    uint32_t mnist[] = {60000, 28, 28};
    n = craft(b, 8, 3, mnist, 1000);
    parse_fails(b, n,
                "header says 47040000 bytes of data but the file has 1000");
    n = craft(b, 8, 3, d3, 17);
    parse_fails(b, n, "header says 18 bytes of data but the file has 17");
    n = craft(b, 8, 3, d3, 0);
    parse_fails(b, n, "header says 18 bytes of data but the file has 0");
    n = craft(b, 8, 3, d3, 19);
    parse_fails(b, n, "trailing data after 18 bytes");
    n = craft(b, 8, 3, d3, 18);
    is_int(idx_parse(b, n, &x, &cause), ==, 0);
    idx_fini(&x);
    uint32_t huge[] = {0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu};
    n = craft(b, 8, 4, huge, 8);
    parse_fails(b, n, "IDX dimensions too large (their product overflows)");
}

/* idx_image_shape on a parsed header with no check of the data. */
static int
shape_of(int ndims, const uint32_t *dims, uint32_t *count, uint32_t *rows,
         uint32_t *cols, int *ch, char **cause)
{
    struct idx x = {.ndims = ndims};
    memcpy(x.dims, dims, (size_t)ndims * sizeof *dims);
    return idx_image_shape(&x, count, rows, cols, ch, cause);
}

static void
shape_fails(int ndims, const uint32_t *dims, const char *want)
{
    uint32_t count = 7, rows = 7, cols = 7;
    int ch = 7;
    char *cause = NULL;
    is_int(shape_of(ndims, dims, &count, &rows, &cols, &ch, &cause), ==, -1);
    is_str(cause, want);
    free(cause);
}

static void
test_shape(void)
{
    uint32_t count, rows, cols;
    int ch;
    char *cause = NULL;

    uint32_t gray[] = {5, 28, 30};
    is_int(shape_of(3, gray, &count, &rows, &cols, &ch, &cause), ==, 0);
    ok(count == 5 && rows == 28 && cols == 30 && ch == 1, "gray shape");
    uint32_t rgb[] = {2, 32, 16, 3};
    is_int(shape_of(4, rgb, &count, &rows, &cols, &ch, &cause), ==, 0);
    ok(count == 2 && rows == 32 && cols == 16 && ch == 3, "rgb shape");
    uint32_t one[] = {4, 8, 9, 1};
    is_int(shape_of(4, one, &count, &rows, &cols, &ch, &cause), ==, 0);
    ok(count == 4 && rows == 8 && cols == 9 && ch == 1, "4 dims, 1 channel");
    uint32_t edge[] = {1, 16384, 1};
    is_int(shape_of(3, edge, &count, &rows, &cols, &ch, &cause), ==, 0);

    uint32_t lab[] = {10};
    shape_fails(1, lab,
                "not an IDX image file (1 dimensions, expected 3 or "
                "4)");
    shape_fails(2, gray,
                "not an IDX image file (2 dimensions, expected 3 or "
                "4)");
    uint32_t two[] = {4, 8, 9, 2};
    shape_fails(4, two, "unsupported channel count 2 (expected 1 or 3)");
    uint32_t four[] = {4, 8, 9, 4};
    shape_fails(4, four, "unsupported channel count 4 (expected 1 or 3)");
    uint32_t none[] = {0, 28, 28};
    shape_fails(3, none, "no images");
    uint32_t zr[] = {1, 0, 3};
    shape_fails(3, zr, "image size 3x0 out of range (each side 1 to 16384)");
    uint32_t zc[] = {1, 3, 0, 3};
    shape_fails(4, zc, "image size 0x3 out of range (each side 1 to 16384)");
    uint32_t tall[] = {1, 16385, 1};
    shape_fails(3, tall,
                "image size 1x16385 out of range (each side 1 to 16384)");
    uint32_t wide[] = {1, 2, 16385};
    shape_fails(3, wide,
                "image size 16385x2 out of range (each side 1 to 16384)");
}

static uint8_t *
pattern(size_t n, unsigned seed)
{
    uint8_t *p = xmalloc(n ? n : 1);
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(i * 31 + seed + i / 251);
    return p;
}

static unsigned char *
slurp(const char *path, size_t *len)
{
    unsigned char *buf;
    char *cause = NULL;
    if (wn_read_file(path, 1 << 24, &buf, len, &cause) != 0)
        bail("%s", cause);
    return buf;
}

/* Write with idx_write, read back with idx_read, compare. */
static void
round_trip(const char *name, int ndims, const uint32_t *dims)
{
    size_t size = 1;
    for (int i = 0; i < ndims; i++)
        size *= dims[i];
    uint8_t *data = pattern(size, (unsigned)ndims);
    char *path = fx_path(tmp, name);
    char *cause = NULL;
    struct idx x = {0};
    is_int(idx_write(path, ndims, dims, data, &cause), ==, 0);
    if (cause)
        diag("%s", cause);

    size_t flen;
    unsigned char *raw = slurp(path, &flen);
    int gz = strstr(name, ".gz") != NULL;
    if (gz)
        ok(flen > 2 && raw[0] == 0x1f && raw[1] == 0x8b,
           "%s is gzip-compressed", name);
    else
        ok(flen == 4 + 4 * (size_t)ndims + size && raw[0] == 0 && raw[1] == 0 &&
               raw[2] == 8 && raw[3] == ndims &&
               raw[4] == (dims[0] >> 24 & 0xff) && raw[7] == (dims[0] & 0xff),
           "%s has the plain layout", name);
    free(raw);

    is_int(idx_read(path, 1 << 24, &x, &cause), ==, 0);
    if (cause)
        diag("%s", cause);
    is_int(x.ndims, ==, ndims);
    ok(memcmp(x.dims, dims, (size_t)ndims * sizeof *dims) == 0, "%s dims",
       name);
    is_int(x.size, ==, size);
    ok(x.data != NULL && memcmp(x.data, data, size) == 0, "%s data", name);
    idx_fini(&x);
    free(path);
    free(data);
}

static void
test_write_read(void)
{
    uint32_t gray[] = {5, 4, 3};
    round_trip("gray.idx", 3, gray);
    round_trip("gray.idx.gz", 3, gray);
    uint32_t rgb[] = {2, 3, 4, 3};
    round_trip("rgb-idx3-ubyte", 4, rgb);
    round_trip("rgb-idx3-ubyte.gz", 4, rgb);
    uint32_t labels[] = {1000};
    round_trip("labels.idx", 1, labels);
    round_trip("labels.idx.gz", 1, labels);
    uint32_t empty[] = {0};
    round_trip("empty.idx", 1, empty);
    round_trip("empty.idx.gz", 1, empty);
    /* Larger than the reader's first buffer, so it has to grow. */
    uint32_t many[] = {300, 28, 28};
    round_trip("many.idx", 3, many);
    round_trip("many.idx.gz", 3, many);

    /* The shape of what was read. */
    char *path = fx_path(tmp, "rgb-idx3-ubyte.gz");
    struct idx x = {0};
    char *cause = NULL;
    uint32_t count, rows, cols;
    int ch;
    is_int(idx_read(path, 1 << 20, &x, &cause), ==, 0);
    is_int(idx_image_shape(&x, &count, &rows, &cols, &ch, &cause), ==, 0);
    ok(count == 2 && rows == 3 && cols == 4 && ch == 3, "rgb shape read");
    idx_fini(&x);
    free(path);

    /* gzip is recognized by content, not by name. */
    char *gz = fx_path(tmp, "gray.idx.gz");
    char *renamed = fx_path(tmp, "gray-really-gzip.idx");
    if (rename(gz, renamed) != 0)
        bail("rename %s", gz);
    is_int(idx_read(renamed, 1 << 20, &x, &cause), ==, 0);
    is_int(x.size, ==, 60);
    idx_fini(&x);
    free(renamed);
    free(gz);
}

static void
read_fails(const char *path, size_t max, const char *want)
{
    struct idx x = {0};
    char *cause = NULL;
    is_int(idx_read(path, max, &x, &cause), ==, -1);
    char *full = xasprintf("%s: %s", path, want);
    is_str(cause, full);
    ok(x.data == NULL, "nothing handed out (%s)", want);
    free(full);
    free(cause);
}

static void
test_read_errors(void)
{
    char *missing = fx_path(tmp, "missing.idx");
    read_fails(missing, 1 << 20, "No such file or directory");
    free(missing);
    read_fails(tmp, 1 << 20, "Is a directory");

    /* The limit is on decompressed bytes: exactly max is fine. */
    uint32_t gray[] = {5, 4, 3};
    char *plain = fx_path(tmp, "gray.idx");
    struct idx x = {0};
    char *cause = NULL;
    is_int(idx_read(plain, 76, &x, &cause), ==, 0);
    idx_fini(&x);
    read_fails(plain, 75, "file too large (more than 75 bytes)");
    read_fails(plain, 0, "file too large (more than 0 bytes)");
    uint8_t *zeros = xcalloc(1, 200000);
    uint32_t big[] = {200000};
    char *bomb = fx_path(tmp, "zeros.idx.gz");
    is_int(idx_write(bomb, 1, big, zeros, &cause), ==, 0);
    size_t blen;
    free(slurp(bomb, &blen));
    ok(blen < 2000, "200 kB of zeros compress to %zu bytes", blen);
    read_fails(bomb, 100000, "file too large (more than 100000 bytes)");
    free(bomb);
    free(zeros);

    /* A header claiming 4 GB over 10 bytes of data: an error, not an
     * attempt to allocate 4 GB. */
    unsigned char b[32];
    uint32_t lie[] = {65536, 65536};
    size_t n = craft(b, 8, 2, lie, 10);
    char *liar = fx_path(tmp, "liar.idx");
    fx_write(liar, b, n);
    read_fails(liar, (size_t)1 << 33,
               "header says 4294967296 bytes of data but the file has 10");
    free(liar);

    /* Parse errors arrive with the path in front. */
    n = craft(b, 8, 3, gray, 3);
    char *shortf = fx_path(tmp, "short.idx");
    fx_write(shortf, b, n);
    read_fails(shortf, 1 << 20,
               "header says 60 bytes of data but the file has 3");
    free(shortf);

    /* A gzip stream cut short, and one with a damaged checksum. */
    char *gzpath = fx_path(tmp, "many.idx.gz");
    size_t glen;
    unsigned char *g = slurp(gzpath, &glen);
    char *cut = fx_path(tmp, "cut.idx.gz");
    fx_write(cut, g, glen / 2);
    read_fails(cut, 1 << 20, "truncated gzip stream");
    fx_write(cut, g, glen - 1);
    read_fails(cut, 1 << 20, "truncated gzip stream");
    g[glen - 6] ^= 0x55; /* in the CRC-32 */
    fx_write(cut, g, glen);
    read_fails(cut, 1 << 20, "corrupt gzip data: incorrect data check");
    g[glen - 6] ^= 0x55;
    memset(g + 10, 0xff, glen - 10 > 64 ? 64 : glen - 10);
    fx_write(cut, g, glen);
    struct idx y = {0};
    is_int(idx_read(cut, 1 << 20, &y, &cause), ==, -1);
    char *want = xasprintf("%s: corrupt gzip data: ", cut);
    ok(cause != NULL && strncmp(cause, want, strlen(want)) == 0,
       "bad deflate data: %s", cause ? cause : "(none)");
    free(want);
    free(cause);
    cause = NULL;
    free(cut);
    free(g);
    free(gzpath);
    free(plain);
}

static void
write_fails(const char *path, int ndims, const uint32_t *dims,
            const uint8_t *data, const char *want)
{
    char *cause = NULL;
    is_int(idx_write(path, ndims, dims, data, &cause), ==, -1);
    char *full = xasprintf("%s: %s", path, want);
    is_str(cause, full);
    free(full);
    free(cause);
}

static void
test_write_errors(void)
{
    uint8_t data[60] = {0};
    uint32_t gray[] = {5, 4, 3};
    char *nodir = fx_path(tmp, "no/such/dir.idx");
    write_fails(nodir, 3, gray, data, "No such file or directory");
    free(nodir);
    char *nodirgz = fx_path(tmp, "no/such/dir.idx.gz");
    write_fails(nodirgz, 3, gray, data, "No such file or directory");
    free(nodirgz);
    char *p = fx_path(tmp, "bad.idx");
    write_fails(p, 0, gray, data,
                "unsupported IDX dimension count 0 (expected 1 to 4)");
    write_fails(p, 5, gray, data,
                "unsupported IDX dimension count 5 (expected 1 to 4)");
    uint32_t huge[] = {0xffffffffu, 0xffffffffu, 0xffffffffu, 2};
    write_fails(p, 4, huge, data, "IDX dimensions too large");
    ok(access(p, F_OK) != 0, "nothing written for bad dims");
    free(p);

    /* A full disk shows at the close, which is checked too. */
    if (access("/dev/full", W_OK) == 0) {
        write_fails("/dev/full", 3, gray, data, "No space left on device");
        char *full = fx_path(tmp, "full.idx.gz");
        if (symlink("/dev/full", full) != 0)
            bail("symlink %s", full);
        write_fails(full, 3, gray, data, "No space left on device");
        free(full);
    } else {
        tap_skip("no /dev/full");
    }
}

/* Each fixture must fail: in idx_read, or (for files that are well formed
 * but no usable image set) in idx_image_shape. */
static void
test_bad_fixtures(void)
{
    static const struct {
        const char *name, *cause; /* cause after "PATH: " */
        int shape;                /* fails in idx_image_shape */
    } known[] = {
        {"idx-bad-magic.idx", "not an IDX file (magic 0x89504e47)", 0},
        {"idx-lying-header.idx",
         "header says 47040000 bytes of data but the file has 100", 0},
        {"idx-wrong-type.idx", "unsupported IDX data type 0x0d", 0},
        {"idx-truncated.idx.gz", "truncated gzip stream", 0},
        {"idx-trailing-data.idx", "trailing data after 18 bytes", 0},
        {"idx-empty.idx", "not an IDX file (empty)", 0},
        {"idx-corrupt-crc.idx.gz", "corrupt gzip data: incorrect data check",
         0},
        {"idx-no-images.idx", "no images", 1},
        {"idx-huge-side.idx.gz",
         "image size 1x20000 out of range (each side 1 to 16384)", 1},
        {"idx-bad-channels.idx",
         "unsupported channel count 2 (expected 1 or 3)", 1},
    };
    const char *src = getenv("TESTS_SRCDIR");
    if (src == NULL) {
        tap_skip("TESTS_SRCDIR is not set (run under make check)");
        return;
    }
    char *dir = xasprintf("%s/data/bad", src);
    DIR *d = opendir(dir);
    ok(d != NULL, "open %s", dir);
    size_t n = 0, n_known = 0;
    struct dirent *e;
    while (d != NULL && (e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, "idx-", 4) != 0)
            continue;
        n++;
        char *path = xasprintf("%s/%s", dir, e->d_name);
        struct idx x = {0};
        char *cause = NULL;
        uint32_t count, rows, cols;
        int ch, shape = 0;
        if (idx_read(path, 1 << 24, &x, &cause) == 0) {
            shape = 1;
            if (idx_image_shape(&x, &count, &rows, &cols, &ch, &cause) == 0)
                cause = NULL;
        }
        char *prefix = xasprintf("%s: ", path);
        ok(cause != NULL &&
               (shape || strncmp(cause, prefix, strlen(prefix)) == 0),
           "%s fails cleanly (%s)", e->d_name, cause ? cause : "no error");
        for (size_t i = 0; i < WN_ARRAY_LEN(known); i++) {
            if (strcmp(known[i].name, e->d_name) != 0)
                continue;
            n_known++;
            char *want = known[i].shape
                             ? xstrdup(known[i].cause)
                             : xasprintf("%s%s", prefix, known[i].cause);
            is_str(cause, want);
            is_int(shape, ==, known[i].shape);
            free(want);
        }
        idx_fini(&x);
        free(prefix);
        free(cause);
        free(path);
    }
    if (d != NULL)
        closedir(d);
    is_int(n_known, ==, WN_ARRAY_LEN(known));
    ok(n >= n_known, "%zu bad IDX fixtures", n);
    free(dir);
}

int
main(void)
{
    tmp = fx_tmpdir("t-idx");
    test_parse();
    test_shape();
    test_write_read();
    test_read_errors();
    test_write_errors();
    test_bad_fixtures();
    fx_rmtree(tmp);
    free(tmp);
    return done_testing();
}
