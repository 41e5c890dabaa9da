/* tests/fuzz/fuzz-probs.c: the probability CSV, checked against the
 * checks and a writer.
 *
 * An input is a probability CSV for a fixed project of four samples and
 * three classes (paths and class names below; the seeds use them). What
 * probs_read_csv accepts must pass probs_check; written back as a CSV
 * with every value to 9 significant digits (exact for float32) and the
 * rows in another order, it must read again to the same bits. A refusal
 * must name the file. */
#include "config.h"

#include "tests/fuzz/fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/csv.h"
#include "data/probs.h"

#define FUZZ_N 4
#define FUZZ_K 3

static const char *const fuzz_paths[FUZZ_N] = {"a.png", "dir/b.png",
                                               "c, \"quoted\".png", "d.png"};
static const char *const fuzz_classes[FUZZ_K] = {"cat", "dog", "bird house"};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    float *p = NULL, *q = NULL;
    char *cause = NULL;
    if (probs_read_csv((const char *)data, size, "f.csv", fuzz_paths, FUZZ_N,
                       fuzz_classes, FUZZ_K, &p, &cause) != 0) {
        FUZZ_CHECK(p == NULL && cause != NULL &&
                   strncmp(cause, "f.csv", 5) == 0);
        free(cause);
        return 0;
    }
    FUZZ_CHECK(p != NULL);
    FUZZ_CHECK(probs_check(p, FUZZ_N, FUZZ_K, fuzz_classes, NULL, NULL) == 0);

    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    FUZZ_CHECK(f != NULL);
    fputs("bird house,path,dog,cat\n", f);
    for (int t = FUZZ_N - 1; t >= 0; t--) {
        const float *row = p + (size_t)t * FUZZ_K;
        fprintf(f, "%.9g,", (double)row[2]);
        csv_write_field(f, fuzz_paths[t]);
        fprintf(f, ",%.9g,%.9g\n", (double)row[1], (double)row[0]);
    }
    FUZZ_CHECK(fclose(f) == 0);
    FUZZ_CHECK(probs_read_csv(buf, len, "g.csv", fuzz_paths, FUZZ_N,
                              fuzz_classes, FUZZ_K, &q, &cause) == 0);
    FUZZ_CHECK(memcmp(p, q, sizeof(float) * FUZZ_N * FUZZ_K) == 0);
    free(buf);
    free(p);
    free(q);
    return 0;
}
