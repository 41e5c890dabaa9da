/* tests/fuzz/fuzz-npy.c: the .npy reader, from memory and from a file,
 * checked against the writer.
 *
 * An input is a .npy file. npy_parse reads it from memory and npy_read
 * from a file; both must give the same verdict, shape and bits. What is
 * accepted must hold rows x cols values, every one of which is read, and
 * written again with npy_write (float32, row-major) must read back with
 * the same shape and the same bits. */
#include "config.h"

#include "tests/fuzz/fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/npy.h"

static void
fuzz_round_trip(const struct npy *a)
{
    char *buf = NULL;
    size_t len = 0;
    char *cause = NULL;
    FILE *f = open_memstream(&buf, &len);
    FUZZ_CHECK(f != NULL);
    FUZZ_CHECK(npy_write(f, a->data, a->rows, a->cols, &cause) == 0);
    FUZZ_CHECK(fclose(f) == 0);
    FUZZ_CHECK(len % 4 == 0 && len >= 64);
    struct npy b;
    FUZZ_CHECK(npy_parse(buf, len, &b, &cause) == 0);
    FUZZ_CHECK(b.ndim == 2 && b.rows == a->rows && b.cols == a->cols);
    size_t n = (size_t)a->rows * (size_t)a->cols;
    FUZZ_CHECK(n == 0 || memcmp(a->data, b.data, n * sizeof(float)) == 0);
    npy_fini(&b);
    free(buf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *path;
    struct npy a = {0}, b = {0};
    char *cause_a = NULL, *cause_b = NULL;

    if (path == NULL)
        path = strdup(fuzz_temp_path("input.npy"));
    int ra = npy_parse(data, size, &a, &cause_a);
    fuzz_write_file(path, data, size);
    int rb = npy_read(path, &b, &cause_b);
    FUZZ_CHECK(ra == rb);
    if (ra == 0) {
        FUZZ_CHECK(a.ndim == 1 || a.ndim == 2);
        FUZZ_CHECK(a.rows >= 0 && a.cols >= 0);
        FUZZ_CHECK(a.ndim == 2 || a.cols == 1);
        FUZZ_CHECK(a.data != NULL);
        FUZZ_CHECK(a.ndim == b.ndim && a.rows == b.rows && a.cols == b.cols);
        size_t n = (size_t)a.rows * (size_t)a.cols;
        FUZZ_CHECK(n == 0 || memcmp(a.data, b.data, n * sizeof(float)) == 0);
        fuzz_round_trip(&a);
    } else {
        FUZZ_CHECK(cause_a != NULL && cause_b != NULL);
        /* The same cause, the file's with the path in front. */
        size_t pl = strlen(path);
        FUZZ_CHECK(strncmp(cause_b, path, pl) == 0 &&
                   strcmp(cause_b + pl + 2, cause_a) == 0);
    }
    free(cause_a);
    free(cause_b);
    npy_fini(&a);
    npy_fini(&b);
    return 0;
}
