/* tests/unit/t-probs.c: the probability checks and the probability CSV.
 *
 * Each bad CSV is one string and the exact cause it must give, so the
 * table below is also the catalogue of messages. The project in these
 * cases has three samples (a.png, b.png, c.png) and the classes cat, dog
 * and "bird house". */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/base.h"
#include "data/probs.h"
#include "tests/tap.h"

static const char *const paths[] = {"a.png", "b.png", "c.png"};
static const char *const classes[] = {"cat", "dog", "bird house"};

static char *
read_csv(const char *csv, float **out)
{
    char *cause = NULL;
    if (probs_read_csv(csv, strlen(csv), "p.csv", paths, 3, classes, 3, out,
                       &cause) != 0)
        return cause;
    return xstrdup("ok");
}

static void
test_rows(void)
{
    float good[3] = {0.5f, 0.25f, 0.25f};
    char *cause = NULL;
    ok(probs_check_row(good, 3, classes, &cause) == 0, "a good row");
    struct {
        float v[3];
        const char *want;
    } bad[] = {
        {{NAN, 0.5f, 0.5f}, "class 'cat' is NaN"},
        {{0.5f, INFINITY, 0.5f}, "class 'dog' is infinite"},
        {{0.5f, 0.75f, -0.25f}, "class 'bird house' is negative (-0.25)"},
        {{1.5f, 0.0f, 0.0f}, "class 'cat' is above 1 (1.5)"},
        {{0.5f, 0.25f, 0.125f},
         "the row sums to 0.875 (expected 1 within 0.001)"},
        {{0.5f, 0.25f, 0.252f},
         "the row sums to 1.002 (expected 1 within 0.001)"},
    };
    for (size_t i = 0; i < WN_ARRAY_LEN(bad); i++) {
        cause = NULL;
        int rc = probs_check_row(bad[i].v, 3, classes, &cause);
        ok(rc != 0 && cause && strcmp(cause, bad[i].want) == 0, "%s (got %s)",
           bad[i].want, cause ? cause : "ok");
        free(cause);
    }
    float near[3] = {0.5f, 0.25f, 0.2509f};
    cause = NULL;
    ok(probs_check_row(near, 3, classes, &cause) == 0,
       "a sum off by 0.0009 passes");
    float m[9] = {1, 0, 0, 0, 1, 0, 0.5f, 0.5f, 0.5f};
    int64_t row = -1;
    int rc = probs_check(m, 3, 3, NULL, &row, &cause);
    ok(rc != 0 && row == 2 &&
           strcmp(cause, "row 2: the row sums to 1.5 (expected 1 within "
                         "0.001)") == 0,
       "probs_check names the first bad row: %s", cause ? cause : "ok");
    free(cause);
    cause = NULL;
    m[8] = 0.0f;
    m[1] = NAN;
    rc = probs_check(m, 3, 3, NULL, &row, &cause);
    ok(rc != 0 && row == 0 && strcmp(cause, "row 0: class 1 is NaN") == 0,
       "classes by index without names: %s", cause ? cause : "ok");
    free(cause);
    m[1] = 0.0f;
    ok(probs_check(m, 3, 3, NULL, NULL, NULL) == 0, "a good matrix");
}

static void
test_good(void)
{
    float *p = NULL;
    /* Columns in any order, path not first, rows in any order, a BOM,
     * CRLF, spaces around numbers and names, exponents. */
    char *got = read_csv("\xef\xbb\xbf"
                         "dog, bird house ,PATH,cat\r\n"
                         "0.25,0.25,c.png,0.5\r\n"
                         " 1 ,0,a.png,0\r\n"
                         "0,1e-1,b.png,9e-1\r\n",
                         &p);
    is_str(got, "ok");
    float want[9] = {0, 1, 0, 0.9f, 0, 0.1f, 0.5f, 0.25f, 0.25f};
    ok(p && memcmp(p, want, sizeof want) == 0, "rows matched by path");
    free(p);
    free(got);
}

static void
test_bad(void)
{
    static const struct {
        const char *csv, *want;
    } c[] = {
        {"", "p.csv: empty file (expected a header with a path column and "
             "one column per class)"},
        {"file,cat,dog,bird house\n", "p.csv: line 1: column 'file' is not "
                                      "a class of the project"},
        {"cat,dog,bird house\n", "p.csv: the header has no 'path' column"},
        {"path,cat,dog,bird house,horse\n",
         "p.csv: line 1: column 'horse' is not a class of the project"},
        {"path,cat,dog\n", "p.csv: line 1: class 'bird house' has no column"},
        {"path,cat,dog,cat,bird house\n",
         "p.csv: line 1: column 'cat' given twice"},
        {"path,cat,dog,bird house\na.png,1,0,0\nd.png,1,0,0\n",
         "p.csv:3: path 'd.png' is not in the project"},
        {"path,cat,dog,bird house\na.png,1,0,0\nb.png,1,0,0\na.png,0,1,0\n",
         "p.csv:4: path 'a.png' listed again (first on line 2)"},
        {"path,cat,dog,bird house\n,1,0,0\n", "p.csv:2: missing path"},
        {"path,cat,dog,bird house\na.png,1,0\n",
         "p.csv:2: 3 fields, the header has 4"},
        {"path,cat,dog,bird house\na.png,1,zero,0\n",
         "p.csv:2: class 'dog': 'zero' is not a number"},
        {"path,cat,dog,bird house\na.png,1,,0\n",
         "p.csv:2: class 'dog': '' is not a number"},
        {"path,cat,dog,bird house\na.png,1,0,0x\n",
         "p.csv:2: class 'bird house': '0x' is not a number"},
        {"path,cat,dog,bird house\na.png,1,0,1e999\n",
         "p.csv:2: class 'bird house': '1e999' is not a number"},
        {"path,cat,dog,bird house\na.png,nan,0.5,0.5\n",
         "p.csv:2: class 'cat' is NaN"},
        {"path,cat,dog,bird house\na.png,1.25,0,-0.25\n",
         "p.csv:2: class 'cat' is above 1 (1.25)"},
        {"path,cat,dog,bird house\na.png,0.75,0.5,-0.25\n",
         "p.csv:2: class 'bird house' is negative (-0.25)"},
        {"path,cat,dog,bird house\na.png,0.5,0.25,0\n",
         "p.csv:2: the row sums to 0.75 (expected 1 within 0.001)"},
        {"path,cat,dog,bird house\na.png,1,0,0\n",
         "p.csv: path 'b.png' has no row (and 1 more)"},
        {"path,cat,dog,bird house\na.png,1,0,0\nc.png,1,0,0\n",
         "p.csv: path 'b.png' has no row"},
        {"path,cat,dog,bird house\na.png,1,0,0\n\"b.png,1,0,0\n",
         "p.csv: line 3: unterminated quoted field"},
    };
    for (size_t i = 0; i < WN_ARRAY_LEN(c); i++) {
        float *p = (float *)&p; /* must come back NULL */
        char *got = read_csv(c[i].csv, &p);
        ok(strcmp(got, c[i].want) == 0 && p == NULL, "%s (got %s)", c[i].want,
           got);
        free(got);
    }
}

/* Many samples in shuffled order find their rows. */
static void
test_many(void)
{
    enum { N = 200000 };
    char **names = xcalloc(N, sizeof *names);
    const char *const two[] = {"x", "y"};
    size_t cap = 0, len = 0;
    char *csv = NULL;
    wn_grow(&csv, 1, &cap, 16);
    len = (size_t)sprintf(csv, "y,path,x\n");
    for (int i = 0; i < N; i++)
        names[i] = xasprintf("img/%07d.png", i);
    for (int t = 0; t < N; t++) {
        int i = (int)(((uint64_t)t * 7919) % N); /* a permutation */
        double q = (double)(i % 1000) / 1000.0;
        wn_grow(&csv, 1, &cap, len + 64);
        len +=
            (size_t)sprintf(csv + len, "%.3f,%s,%.3f\n", 1.0 - q, names[i], q);
    }
    float *p = NULL;
    char *cause = NULL;
    int rc = probs_read_csv(csv, len, "big.csv", (const char *const *)names, N,
                            two, 2, &p, &cause);
    ok(rc == 0, "%d rows read: %s", N, cause ? cause : "ok");
    int good = rc == 0;
    for (int i = 0; good && i < N; i++)
        good = p[2 * i] == (float)((double)(i % 1000) / 1000.0);
    ok(good, "each row went to its sample");
    free(p);
    free(cause);
    free(csv);
    for (int i = 0; i < N; i++)
        free(names[i]);
    free(names);
}

int
main(void)
{
    test_rows();
    test_good();
    test_bad();
    test_many();
    return done_testing();
}
