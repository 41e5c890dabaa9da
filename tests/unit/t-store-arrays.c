/* A run's matrices in the store (data/store_arrays.c): probabilities kept
 * bit for bit across several chunks, features as float16 rounded as numpy
 * rounds (to nearest even, subnormals included) or as float32 when a value
 * is past float16's range, a replaced matrix, and which run is the newest
 * that kept one. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/base.h"
#include "data/store.h"
#include "tests/fixtures.h"
#include "tests/tap.h"

static int64_t
new_run(struct store *s)
{
    char *cause = NULL;
    int64_t id;
    if (store_run_create(s, 1, "p", "v", &id, &cause) != 0)
        bail("run: %s", cause);
    return id;
}

static void
test_probs_chunks(struct store *s, int64_t run)
{
    /* 3000 x 400 float32 is 4.8 MB: two chunks of 4 MB. */
    int64_t n = 3000;
    int k = 400;
    float *p = xmalloc((size_t)n * (size_t)k * sizeof *p);
    for (size_t i = 0; i < (size_t)n * (size_t)k; i++)
        p[i] = (float)((i * 2654435761u) % 1000003u) / 1000003.0f;
    char *cause = NULL;
    ok(store_run_array_put(s, run, STORE_ARRAY_PROBS, p, n, k, &cause) == 0,
       "put 3000 x 400 probabilities");
    float *q = NULL;
    int64_t rows;
    int cols;
    ok(store_run_array_get(s, run, STORE_ARRAY_PROBS, &q, &rows, &cols,
                           &cause) == 0,
       "get them back");
    is_int(rows, ==, n);
    is_int(cols, ==, k);
    ok(q != NULL && memcmp(p, q, (size_t)n * (size_t)k * sizeof *p) == 0,
       "bit for bit across chunks");
    free(q);
    /* A second put replaces the first. */
    ok(store_run_array_put(s, run, STORE_ARRAY_PROBS, p, 2, k, &cause) == 0,
       "replace with 2 rows");
    ok(store_run_array_get(s, run, STORE_ARRAY_PROBS, &q, &rows, &cols,
                           &cause) == 0 &&
           rows == 2 && memcmp(p, q, 2 * (size_t)k * sizeof *p) == 0,
       "only the new matrix is left");
    free(q);
    free(p);
}

static void
test_features(struct store *s, int64_t run)
{
    /* What numpy.float32(v).astype(numpy.float16) gives (numpy 1.24):
     * ties to even, the largest finite half, a subnormal, a tiny value
     * that rounds to 0. */
    const float in[] = {1.0f,  0.1f,  -2.5f,          65504.0f,
                        1e-6f, 1e-8f, 1.00048828125f, 1.00146484375f};
    const float want[] = {
        1.0f, 0.0999755859375f, -2.5f, 65504.0f, 1.0132789611816406e-06f, 0.0f,
        1.0f, 1.001953125f};
    char *cause = NULL;
    float *q = NULL;
    int64_t rows;
    int cols;
    ok(store_run_array_put(s, run, STORE_ARRAY_FEATURES, in, 2, 4, &cause) ==
               0 &&
           store_run_array_get(s, run, STORE_ARRAY_FEATURES, &q, &rows, &cols,
                               &cause) == 0,
       "features in and out");
    is_int(rows, ==, 2);
    is_int(cols, ==, 4);
    for (int i = 0; q != NULL && i < 8; i++)
        ok(q[i] == want[i], "float16 of %.9g is %.9g (got %.9g)", (double)in[i],
           (double)want[i], (double)q[i]);
    free(q);
    const float big[] = {1.0f, 70000.0f, -3.0f, 0.1f};
    ok(store_run_array_put(s, run, STORE_ARRAY_FEATURES, big, 1, 4, &cause) ==
               0 &&
           store_run_array_get(s, run, STORE_ARRAY_FEATURES, &q, &rows, &cols,
                               &cause) == 0 &&
           memcmp(q, big, sizeof big) == 0,
       "a value past 65504 keeps the matrix float32");
    free(q);
}

static void
test_latest(struct store *s, int64_t run)
{
    char *cause = NULL;
    int64_t id = -1;
    ok(store_run_array_latest(s, STORE_ARRAY_PROBS, &id, &cause) == 0 &&
           id == 0,
       "a run not done is nobody's latest");
    ok(store_run_mark(s, run, STORE_RUN_DONE, NULL, &cause) == 0,
       "mark it done");
    ok(store_run_array_latest(s, STORE_ARRAY_PROBS, &id, &cause) == 0 &&
           id == run,
       "then it is");
    int64_t other = new_run(s);
    float *q = (float *)1;
    int64_t rows = -1;
    int cols = -1;
    ok(store_run_array_get(s, other, STORE_ARRAY_PROBS, &q, &rows, &cols,
                           &cause) == 0 &&
           q == NULL && rows == 0,
       "a run without a matrix gives none");
}

int
main(void)
{
    char *dir = fx_tmpdir("arrays");
    char *db = fx_path(dir, "a.db");
    struct store *s;
    char *cause = NULL;
    if (store_open(db, STORE_CREATE, &s, &cause) != 0)
        bail("open: %s", cause);
    int64_t run = new_run(s);
    test_probs_chunks(s, run);
    test_features(s, run);
    test_latest(s, run);
    store_close(s);
    fx_rmtree(dir);
    free(db);
    free(dir);
    return done_testing();
}
