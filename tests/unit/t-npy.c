/* tests/unit/t-npy.c: the .npy reader and writer.
 *
 * Files are built here byte by byte (npy_make: a header dict as numpy
 * would pad it, then raw data), so each case states the header it tries.
 * The writer's output is checked byte for byte, read back bit for bit, and
 * every truncation of it must fail cleanly. When a python3 with numpy is
 * installed (./setup installs python3-numpy), numpy reads what we write
 * and writes what we read, in every dtype, byte order and memory order;
 * otherwise those cases are skipped. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data/base.h"
#include "data/npy.h"
#include "tests/fixtures.h"
#include "tests/tap.h"

static char *dir;

struct bytes {
    unsigned char *b;
    size_t len;
};

/* A .npy file of the given version whose header is dict (padded with
 * spaces and a newline to 64 bytes, as numpy does) followed by data. */
static struct bytes
npy_make(int major, const char *dict, const void *data, size_t dlen)
{
    size_t pre = major == 1 ? 10 : 12, dl = strlen(dict);
    size_t total = ((pre + dl + 1 + 63) / 64) * 64, hlen = total - pre;
    struct bytes r;
    r.len = total + dlen;
    r.b = xmalloc(r.len + 1);
    memcpy(r.b, "\x93NUMPY", 6);
    r.b[6] = (unsigned char)major;
    r.b[7] = 0;
    for (size_t i = 0; i < pre - 8; i++)
        r.b[8 + i] = (unsigned char)(hlen >> (8 * i));
    memset(r.b + pre, ' ', hlen);
    memcpy(r.b + pre, dict, dl);
    r.b[total - 1] = '\n';
    if (dlen)
        memcpy(r.b + total, data, dlen);
    return r;
}

/* Parse and return the cause, or "ok" (both static-ish: caller frees). */
static char *
try_parse(struct bytes f, struct npy *a)
{
    char *cause = NULL;
    struct npy tmp;
    if (a == NULL)
        a = &tmp;
    if (npy_parse(f.b, f.len, a, &cause) != 0)
        return cause;
    if (a == &tmp)
        npy_fini(a);
    return xstrdup("ok");
}

static void
check_cause(int major, const char *dict, size_t dlen, const char *want)
{
    unsigned char data[256] = {0};
    struct bytes f = npy_make(major, dict, data, dlen);
    char *got = try_parse(f, NULL);
    ok(strstr(got, want) != NULL, "%s -> '%s' (want '%s')", dict, got, want);
    free(got);
    free(f.b);
}

static void
test_writer(void)
{
    float v[12];
    for (int i = 0; i < 12; i++)
        v[i] = (float)i / 7.0f - 0.5f;
    v[5] = -0.0f;
    char *path = fx_path(dir, "w.npy");
    char *cause = NULL;
    ok(npy_save(path, v, 3, 4, &cause) == 0, "npy_save: %s",
       cause ? cause : "ok");
    unsigned char *buf;
    size_t len;
    if (wn_read_file(path, 1 << 20, &buf, &len, &cause) != 0)
        bail("%s", cause);
    const char *want = "{'descr': '<f4', 'fortran_order': False, "
                       "'shape': (3, 4), }";
    is_int(len, ==, 128 + 48);
    ok(memcmp(buf, "\x93NUMPY\x01\x00", 8) == 0, "magic and version 1.0");
    is_int(buf[8] | buf[9] << 8, ==, 118);
    ok(memcmp(buf + 10, want, strlen(want)) == 0, "the header dict");
    ok(buf[127] == '\n' && buf[126] == ' ', "padded to 64 bytes");
    /* little-endian float32, bit for bit */
    int same = 1;
    for (int i = 0; i < 12; i++) {
        uint32_t w;
        memcpy(&w, &v[i], 4);
        for (int b = 0; b < 4; b++)
            same &= buf[128 + 4 * i + b] == (unsigned char)(w >> (8 * b));
    }
    ok(same, "the data little-endian");

    struct npy a;
    ok(npy_read(path, &a, &cause) == 0, "npy_read what we wrote");
    ok(a.ndim == 2 && a.rows == 3 && a.cols == 4, "shape 3 x 4");
    ok(memcmp(a.data, v, sizeof v) == 0, "read back bit for bit");
    npy_fini(&a);
    ok(npy_parse(buf, len, &a, &cause) == 0 && memcmp(a.data, v, sizeof v) == 0,
       "npy_parse agrees");
    npy_fini(&a);

    /* Every truncation fails with a cause, none crashes. */
    int all = 1;
    for (size_t cut = 0; cut < len; cut++) {
        char *c2 = NULL;
        if (npy_parse(buf, cut, &a, &c2) == 0) {
            all = 0;
            npy_fini(&a);
        }
        free(c2);
    }
    ok(all, "every truncation fails");
    struct bytes trunc = {buf, len - 3};
    char *got = try_parse(trunc, NULL);
    is_str(got, "shape (3, 4) needs 48 bytes of data, the file has 45 "
                "(truncated?)");
    free(got);
    fx_write(path, buf, 100);
    int rc = npy_read(path, &a, &cause);
    ok(rc != 0 && strstr(cause, "w.npy: truncated header") != NULL,
       "a file cut in its header: %s", cause);
    free(cause);
    cause = NULL;
    fx_write(path, buf, len - 1);
    rc = npy_read(path, &a, &cause);
    ok(rc != 0 && strstr(cause, "w.npy: shape (3, 4) needs 48 bytes") != NULL,
       "a file cut in its data: %s", cause);
    free(cause);
    cause = NULL;
    free(buf);

    /* Zero rows is an array like any other. */
    ok(npy_save(path, v, 0, 4, &cause) == 0 &&
           npy_read(path, &a, &cause) == 0 && a.rows == 0 && a.cols == 4,
       "0 x 4 round trip");
    npy_fini(&a);
    rc = npy_read(dir, &a, &cause);
    ok(rc != 0 && strstr(cause, "is a directory") != NULL,
       "a folder is refused: %s", cause);
    free(cause);
    cause = NULL;
    char *missing = fx_path(dir, "missing.npy");
    rc = npy_read(missing, &a, &cause);
    ok(rc != 0 && strstr(cause, "missing.npy: No such file") != NULL,
       "a missing file is named: %s", cause);
    free(cause);
    free(missing);
    free(path);
}

static void
test_dtypes(void)
{
    struct npy a;
    /* 0.25, -2 as float64 little-endian and big-endian */
    unsigned char le8[16] = {0, 0, 0, 0, 0, 0, 0xd0, 0x3f,
                             0, 0, 0, 0, 0, 0, 0,    0xc0};
    unsigned char be8[16] = {0x3f, 0xd0, 0, 0, 0, 0, 0, 0,
                             0xc0, 0,    0, 0, 0, 0, 0, 0};
    unsigned char be4[8] = {0x3e, 0x80, 0, 0, 0xc0, 0, 0, 0};
    /* float16: 0.25 = 0x3400, -2 = 0xc000, a subnormal 2^-24 = 0x0001 */
    unsigned char le2[6] = {0x00, 0x34, 0x00, 0xc0, 0x01, 0x00};
    unsigned char be2[6] = {0x34, 0x00, 0xc0, 0x00, 0x00, 0x01};
    struct {
        const char *dict;
        const unsigned char *d;
        size_t n;
        int count;
    } c[] = {
        {"{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", le8, 16,
         2},
        {"{'descr': '>f8', 'fortran_order': False, 'shape': (2,), }", be8, 16,
         2},
        {"{'descr': '>f4', 'fortran_order': False, 'shape': (1, 2), }", be4, 8,
         2},
        {"{'descr': '<f2', 'fortran_order': False, 'shape': (3,), }", le2, 6,
         3},
        {"{'descr': '>f2', 'fortran_order': False, 'shape': (3, 1), }", be2, 6,
         3},
    };
    for (size_t i = 0; i < WN_ARRAY_LEN(c); i++) {
        struct bytes f = npy_make(1, c[i].dict, c[i].d, c[i].n);
        char *got = try_parse(f, &a);
        is_str(got, "ok");
        if (strcmp(got, "ok") == 0) {
            ok(a.data[0] == 0.25f && a.data[1] == -2.0f &&
                   (c[i].count < 3 || a.data[2] == ldexpf(1.0f, -24)),
               "%s converted", c[i].dict);
            npy_fini(&a);
        }
        free(got);
        free(f.b);
    }
}

static void
test_headers(void)
{
    struct npy a;
    float d[6] = {1, 2, 3, 4, 5, 6};
    /* Any key order, double quotes, no trailing comma, spaces. */
    const char *good[] = {
        "{'shape': (2, 3), 'fortran_order': False, 'descr': '<f4'}",
        "{ \"descr\" : \"<f4\" , \"fortran_order\":False,\"shape\":(2,3,) ,}",
        "{'fortran_order': False, 'descr': '<f4', 'shape': (2, 3)  }",
    };
    for (size_t i = 0; i < WN_ARRAY_LEN(good); i++) {
        for (int major = 1; major <= 3; major++) {
            struct bytes f = npy_make(major, good[i], d, sizeof d);
            char *got = try_parse(f, &a);
            ok(strcmp(got, "ok") == 0 && a.rows == 2 && a.cols == 3 &&
                   a.data[5] == 6.0f,
               "version %d.0: %s: %s", major, good[i], got);
            if (strcmp(got, "ok") == 0)
                npy_fini(&a);
            free(got);
            free(f.b);
        }
    }
    /* Fortran order: the file holds columns, we return rows. */
    struct bytes f = npy_make(
        1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", d,
        sizeof d);
    char *got = try_parse(f, &a);
    is_str(got, "ok");
    float want[6] = {1, 3, 5, 2, 4, 6};
    ok(memcmp(a.data, want, sizeof want) == 0, "Fortran order transposed");
    npy_fini(&a);
    free(got);
    free(f.b);
    f = npy_make(1,
                 "{'descr': '<f4', 'fortran_order': False, "
                 "'shape': (6,), }",
                 d, sizeof d);
    got = try_parse(f, &a);
    ok(strcmp(got, "ok") == 0 && a.ndim == 1 && a.rows == 6 && a.cols == 1,
       "a 1-D array is N x 1");
    npy_fini(&a);
    free(got);
    free(f.b);

    const char *base = "'fortran_order': False, 'shape': (2, 3)";
    char dict[256];
    snprintf(dict, sizeof dict, "{'descr': '<i8', %s}", base);
    check_cause(1, dict, 48, "unsupported dtype '<i8'");
    snprintf(dict, sizeof dict, "{'descr': '|f4', %s}", base);
    check_cause(1, dict, 24, "unsupported dtype '|f4'");
    check_cause(1,
                "{'descr': '<f4', 'fortran_order': False, "
                "'shape': (2, 3, 4), }",
                96, "3-D array");
    check_cause(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (), }", 4,
                "0-D array");
    check_cause(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3), }",
                12, "shape is not a tuple");
    check_cause(1,
                "{'descr': '<f4', 'fortran_order': False, "
                "'shape': (4611686018427387904, 4), }",
                16, "shape (4611686018427387904, 4) is too large");
    check_cause(1,
                "{'descr': '<f4', 'fortran_order': False, "
                "'shape': (99999999999999999999, 4), }",
                16, "shape dimension too large");
    check_cause(1,
                "{'descr': '<f4', 'fortran_order': False, "
                "'shape': (1000000, 1000), }",
                16, "needs 4000000000 bytes of data, the file has 16");
    check_cause(1,
                "{'descr': '<f4', 'fortran_order': False, "
                "'shape': (1, 2), }",
                16,
                "needs 8 bytes of data, the "
                "file has 16");
    check_cause(1, "{'descr': '<f4', 'shape': (2, 3), }", 24,
                "header: no 'fortran_order'");
    check_cause(1,
                "{'descr': '<f4', 'fortran_order': False, "
                "'shape': (2, 3), 'extra': 1}",
                24, "header: unknown key 'extra'");
    check_cause(1,
                "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, "
                "'shape': (2, 3)}",
                24, "key 'descr' given twice");
    check_cause(1, "{'descr': '<f4', 'fortran_order': 0, 'shape': (2, 3)}", 24,
                "fortran_order is not True or False");
    check_cause(1, "{'descr': '<f4' 'fortran_order': False, 'shape': (2, 3)}",
                24, "expected ',' or '}' after 'descr'");
    check_cause(1, "['descr', '<f4']", 24, "expected '{' at the start");
    check_cause(1,
                "{'descr': '<f4', 'fortran_order': False, "
                "'shape': (2, 3)} x",
                24, "not padded with spaces");
    check_cause(1,
                "{'descr': '<f4', 'fortran_order': False, "
                "'shape': (2, -3)}",
                24, "expected a number in the shape");
    check_cause(1, "{'descr': '<f\\x34'}", 24, "escape in the dtype");
    check_cause(1,
                "{'descr': '<f4', 'fortran_order': False, "
                "'shape': (2, 3)}\t",
                24, "header: byte 0x09");

    unsigned char bad[64] = "\x93NUMPY\x04\x00";
    struct bytes b = {bad, sizeof bad};
    got = try_parse(b, NULL);
    is_str(got, "unsupported .npy version 4.0");
    free(got);
    memcpy(bad, "\x93NUMPX", 6);
    got = try_parse(b, NULL);
    is_str(got, "not a .npy file (wrong magic)");
    free(got);
    b.len = 0;
    got = try_parse(b, NULL);
    is_str(got, "empty file");
    free(got);
    /* A header length past the end of the file. */
    memcpy(bad, "\x93NUMPY\x01\x00\xff\x00", 10);
    b.len = sizeof bad;
    got = try_parse(b, NULL);
    is_str(got, "truncated header");
    free(got);
    memcpy(bad, "\x93NUMPY\x02\x00\xff\xff\xff\x7f", 12);
    got = try_parse(b, NULL);
    is_str(got, "header of 2147483647 bytes (limit 1048576)");
    free(got);
}

/* A python3 that has numpy, or NULL. */
static const char *
python_numpy(void)
{
    static const char *const cands[] = {"/usr/bin/python3", "python3"};
    for (size_t i = 0; i < WN_ARRAY_LEN(cands); i++) {
        char cmd[256];
        snprintf(cmd, sizeof cmd, "%s -c 'import numpy' >/dev/null 2>&1",
                 cands[i]);
        if (system(cmd) == 0)
            return cands[i];
    }
    return NULL;
}

static void
test_numpy(void)
{
    const char *py = python_numpy();
    if (py == NULL) {
        tap_skip("python3 with numpy not installed (python3-numpy)");
        return;
    }
    /* numpy loads what we write, bit for bit (compared as uint32). */
    enum { R = 5, C = 7 };
    float v[R * C];
    for (int i = 0; i < R * C; i++)
        v[i] = sinf((float)i) / 3.0f;
    v[3] = NAN;
    v[4] = -INFINITY;
    v[6] = 1e-42f; /* subnormal */
    char *path = fx_path(dir, "to-numpy.npy");
    char *cause = NULL;
    if (npy_save(path, v, R, C, &cause) != 0)
        bail("%s", cause);
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "%s -c 'import numpy, sys; a = numpy.load(sys.argv[1]); "
             "assert a.dtype == numpy.float32 and a.shape == (%d, %d); "
             "print(\" \".join(\"%%08x\" %% x for x in "
             "a.view(numpy.uint32).ravel()))' '%s'",
             py, R, C, path);
    FILE *p = popen(cmd, "r");
    char line[8192] = "";
    if (p == NULL || fgets(line, sizeof line, p) == NULL)
        line[0] = '\0';
    int st = p ? pclose(p) : -1;
    char want[8192] = "", *w = want;
    for (int i = 0; i < R * C; i++) {
        uint32_t u;
        memcpy(&u, &v[i], 4);
        w += sprintf(w, "%s%08x", i ? " " : "", u);
    }
    strcat(want, "\n");
    ok(st == 0 && strcmp(line, want) == 0, "numpy.load reads our file bit "
                                           "for bit");

    /* We read what numpy writes: each dtype, byte order, memory order. */
    const char *kinds[] = {"<f4", ">f4", "<f8", ">f8", "<f2", ">f2"};
    for (size_t k = 0; k < WN_ARRAY_LEN(kinds); k++) {
        for (int fortran = 0; fortran < 2; fortran++) {
            char *out = fx_path(dir, "from-numpy.npy");
            snprintf(cmd, sizeof cmd,
                     "%s -c 'import numpy, sys; "
                     "a = (numpy.arange(12).reshape(3, 4) / 8 - 0.5)"
                     ".astype(\"%s\"); "
                     "numpy.save(sys.argv[1], numpy.asfortranarray(a) "
                     "if %d else a)' '%s'",
                     py, kinds[k], fortran, out);
            struct npy a = {0};
            int good = system(cmd) == 0 && npy_read(out, &a, &cause) == 0 &&
                       a.rows == 3 && a.cols == 4;
            for (int i = 0; good && i < 12; i++)
                good = a.data[i] == (float)i / 8.0f - 0.5f;
            ok(good, "numpy's %s%s file reads right", kinds[k],
               fortran ? " Fortran-order" : "");
            npy_fini(&a);
            free(out);
        }
    }
    /* A header numpy writes as version 3.0 when asked. */
    char *out = fx_path(dir, "v3.npy");
    snprintf(cmd, sizeof cmd,
             "%s -c 'import numpy, sys; from numpy.lib import format; "
             "f = open(sys.argv[1], \"wb\"); a = numpy.ones((2, 2), "
             "numpy.float32) / 2; format.write_array(f, a, version=(3, 0))' "
             "'%s'",
             py, out);
    struct npy a = {0};
    ok(system(cmd) == 0 && npy_read(out, &a, &cause) == 0 && a.rows == 2 &&
           a.data[3] == 0.5f,
       "numpy's version 3.0 file reads right");
    npy_fini(&a);
    free(out);
    free(path);
}

int
main(void)
{
    dir = fx_tmpdir("npy");
    test_writer();
    test_dtypes();
    test_headers();
    test_numpy();
    fx_rmtree(dir);
    free(dir);
    return done_testing();
}
