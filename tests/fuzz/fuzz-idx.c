/* tests/fuzz/fuzz-idx.c: the IDX reader, from memory and from a file.
 *
 * An input is an IDX file, plain or gzip. idx_parse reads it from memory
 * and idx_read from a file (through zlib, which passes plain files
 * through), so a gzip input exercises the inflate loop and a plain one
 * both paths, which must then agree exactly: same verdict, same shape,
 * same bytes. Whatever is accepted must hold the product of its
 * dimensions, every byte of which is read, and pass or fail
 * idx_image_shape consistently with those dimensions. */
#include "config.h"

#include "tests/fuzz/fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "data/idx.h"

/* What an import allows is far more; a fuzz input inflating past this is
 * a zip bomb, which idx_read must refuse cleanly. */
#define FUZZ_IDX_MAX_BYTES ((size_t)16 << 20)

static void
fuzz_check_idx(const struct idx *x)
{
    FUZZ_CHECK(x->ndims >= 1 && x->ndims <= IDX_MAX_DIMS);
    size_t size = 1;
    for (int i = 0; i < x->ndims; i++)
        size *= x->dims[i]; /* accepted, so the product fits */
    FUZZ_CHECK(size == x->size);
    FUZZ_CHECK(x->data != NULL);
    unsigned sum = 0;
    for (size_t i = 0; i < x->size; i++)
        sum += x->data[i];
    (void)sum;

    uint32_t count, rows, cols;
    int channels;
    char *cause = NULL;
    if (idx_image_shape(x, &count, &rows, &cols, &channels, &cause) == 0) {
        FUZZ_CHECK(channels == 1 || channels == 3);
        FUZZ_CHECK(count >= 1 && rows >= 1 && cols >= 1);
        FUZZ_CHECK((size_t)count * rows * cols * (size_t)channels == x->size);
    } else {
        FUZZ_CHECK(cause != NULL);
        free(cause);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *path;
    struct idx a = {0}, b = {0};
    char *cause_a = NULL, *cause_b = NULL;

    if (path == NULL)
        path = strdup(fuzz_temp_path("input.idx"));
    int ra = idx_parse(data, size, &a, &cause_a);
    fuzz_write_file(path, data, size);
    int rb = idx_read(path, FUZZ_IDX_MAX_BYTES, &b, &cause_b);
    if (ra == 0)
        fuzz_check_idx(&a);
    else
        FUZZ_CHECK(cause_a != NULL);
    if (rb == 0)
        fuzz_check_idx(&b);
    else
        FUZZ_CHECK(cause_b != NULL &&
                   strncmp(cause_b, path, strlen(path)) == 0);

    /* zlib reads a file as gzip only when it starts with the gzip magic;
     * anything else it copies as is. */
    if (!(size >= 1 && data[0] == 0x1f)) {
        FUZZ_CHECK(ra == rb);
        if (ra == 0) {
            FUZZ_CHECK(a.ndims == b.ndims && a.size == b.size);
            FUZZ_CHECK(memcmp(a.dims, b.dims, sizeof a.dims) == 0);
            FUZZ_CHECK(a.size == 0 || memcmp(a.data, b.data, a.size) == 0);
        }
    }
    free(cause_a);
    free(cause_b);
    idx_fini(&a);
    idx_fini(&b);
    return 0;
}
