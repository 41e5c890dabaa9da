/* data/probs.c: checking probability matrices and reading them from CSV.
 *
 * The CSV rows are matched to the project's samples through an array of
 * (path, sample) pairs sorted by path and searched by bisection: O(N log N)
 * to build for N paths, no hashing to get wrong, and 24 bytes a sample
 * (the pair, and the line that gave the sample its row for the message
 * about a path given twice) on top of the N x K result. */
#include "config.h"

#include "data/probs.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "data/csv.h"

int
probs_check_row(const float *row, int k, const char *const *classes,
                char **cause)
{
    double sum = 0.0;
    char idx[24];
    for (int j = 0; j < k; j++) {
        const char *what = classes ? classes[j] : idx;
        const char *q = classes ? "'" : "";
        if (classes == NULL)
            snprintf(idx, sizeof idx, "%d", j);
        double v = row[j];
        if (isnan(v))
            return wn_fail(cause, "class %s%s%s is NaN", q, what, q);
        if (isinf(v))
            return wn_fail(cause, "class %s%s%s is infinite", q, what, q);
        if (v < 0.0)
            return wn_fail(cause, "class %s%s%s is negative (%g)", q, what, q,
                           v);
        if (v > 1.0 + PROBS_EPS)
            return wn_fail(cause, "class %s%s%s is above 1 (%g)", q, what, q,
                           v);
        sum += v;
    }
    if (!(fabs(sum - 1.0) <= PROBS_SUM_TOLERANCE))
        return wn_fail(cause, "the row sums to %.9g (expected 1 within %g)",
                       sum, PROBS_SUM_TOLERANCE);
    return 0;
}

int
probs_check(const float *p, int64_t n, int k, const char *const *classes,
            int64_t *bad_row, char **cause)
{
    for (int64_t i = 0; i < n; i++) {
        char *why = NULL;
        if (probs_check_row(p + (size_t)i * (size_t)k, k, classes, &why) != 0) {
            if (bad_row != NULL)
                *bad_row = i;
            wn_fail(cause, "row %lld: %s", (long long)i, why);
            free(why);
            return -1;
        }
    }
    return 0;
}

/* --- the CSV */

struct probs_entry {
    const char *path; /* borrowed from the caller's list */
    int64_t i;
};

struct probs_index { /* the entries sorted by path, for bisection */
    struct probs_entry *e;
    int64_t n;
};

static int
probs_cmp_entry(const void *pa, const void *pb)
{
    const struct probs_entry *a = pa, *b = pb;
    int c = strcmp(a->path, b->path);
    return c ? c : (a->i > b->i) - (a->i < b->i);
}

/* The sample with this path, or -1. */
static int64_t
probs_find(const struct probs_index *x, const char *path)
{
    int64_t lo = 0, hi = x->n;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        int c = strcmp(x->e[mid].path, path);
        if (c == 0)
            return x->e[mid].i;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

/* s without surrounding spaces and tabs, into a new string. */
static char *
probs_trim(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t len = strlen(s);
    while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    return xstrndup(s, len);
}

struct probs_reader {
    const char *name;
    const char *const *classes;
    int k;
    size_t nf;      /* fields in the header */
    int path_col;   /* field of the path */
    int *class_col; /* (K) field of each class */
};

/* Map the header's columns to the classes. */
static int
probs_header(struct probs_reader *r, char **fields, size_t nf, size_t line,
             char **cause)
{
    int rc = -1;
    r->nf = nf;
    r->path_col = -1;
    for (int j = 0; j < r->k; j++)
        r->class_col[j] = -1;
    for (size_t f = 0; f < nf; f++) {
        char *h = probs_trim(fields[f]);
        int j = 0;
        while (j < r->k && strcmp(r->classes[j], h) != 0)
            j++;
        if (r->path_col < 0 && strcasecmp(h, "path") == 0) {
            r->path_col = (int)f;
        } else if (j == r->k) {
            wn_fail(cause,
                    "%s: line %zu: column '%s' is not a class of the "
                    "project",
                    r->name, line, h);
            free(h);
            goto out;
        } else if (r->class_col[j] >= 0) {
            wn_fail(cause, "%s: line %zu: column '%s' given twice", r->name,
                    line, h);
            free(h);
            goto out;
        } else {
            r->class_col[j] = (int)f;
        }
        free(h);
    }
    if (r->path_col < 0) {
        wn_fail(cause, "%s: the header has no 'path' column", r->name);
        goto out;
    }
    for (int j = 0; j < r->k; j++) {
        if (r->class_col[j] < 0) {
            wn_fail(cause, "%s: line %zu: class '%s' has no column", r->name,
                    line, r->classes[j]);
            goto out;
        }
    }
    rc = 0;
out:
    return rc;
}

/* Parse one probability field into *v. */
static int
probs_number(const char *field, double *v)
{
    char *s = probs_trim(field), *end;
    errno = 0;
    *v = strtod(s, &end);
    int ok = end != s && *end == '\0' && errno != ERANGE;
    /* An underflow to a tiny value is still the number written. */
    if (!ok && errno == ERANGE && end != s && *end == '\0' && fabs(*v) < 1.0)
        ok = 1;
    free(s);
    return ok ? 0 : -1;
}

int
probs_read_csv(const char *buf, size_t len, const char *name,
               const char *const *paths, int64_t n, const char *const *classes,
               int k, float **out, char **cause)
{
    struct probs_reader r = {name, classes, k, 0, -1, NULL};
    struct probs_index x = {NULL, n};
    int64_t *seen_line = NULL; /* line of each sample's row, 0 for none */
    float *p = NULL;
    struct csv *c = NULL;
    char **fields;
    size_t nf, line, kk;
    char *why = NULL;
    int rc = -1, r_next, header = 1;

    *out = NULL;
    if (k < 1 || n < 0)
        return wn_fail(cause, "%s: no classes or samples", name);
    if (wn_mul_size((size_t)n, (size_t)k, &kk) != 0 ||
        wn_mul_size(kk, sizeof *p, &kk) != 0)
        return wn_fail(cause, "%s: %lld x %d probabilities: too many", name,
                       (long long)n, k);
    p = malloc(kk ? kk : 1);
    x.e = malloc(n ? (size_t)n * sizeof *x.e : 1);
    seen_line = calloc(n ? (size_t)n : 1, sizeof *seen_line);
    r.class_col = xcalloc((size_t)k, sizeof *r.class_col);
    if (p == NULL || x.e == NULL || seen_line == NULL) {
        wn_fail(cause, "%s: out of memory for %lld x %d probabilities", name,
                (long long)n, k);
        goto out;
    }
    for (int64_t i = 0; i < n; i++) {
        x.e[i].path = paths[i];
        x.e[i].i = i;
    }
    qsort(x.e, (size_t)n, sizeof *x.e, probs_cmp_entry);

    c = csv_new(buf, len);
    int64_t rows = 0;
    while ((r_next = csv_next(c, &fields, &nf, &line, &why)) == 1) {
        if (header) {
            if (probs_header(&r, fields, nf, line, cause) != 0)
                goto out;
            header = 0;
            continue;
        }
        if (nf != r.nf) {
            wn_fail(cause, "%s:%zu: %zu fields, the header has %zu", name, line,
                    nf, r.nf);
            goto out;
        }
        char *path = probs_trim(fields[r.path_col]);
        int64_t i = path[0] ? probs_find(&x, path) : -1;
        if (path[0] == '\0')
            wn_fail(cause, "%s:%zu: missing path", name, line);
        else if (i < 0)
            wn_fail(cause, "%s:%zu: path '%s' is not in the project", name,
                    line, path);
        else if (seen_line[i] != 0)
            wn_fail(cause,
                    "%s:%zu: path '%s' listed again (first on line "
                    "%lld)",
                    name, line, path, (long long)seen_line[i]);
        free(path);
        if (i < 0 || seen_line[i] != 0)
            goto out;
        seen_line[i] = (int64_t)line;
        float *row = p + (size_t)i * (size_t)k;
        for (int j = 0; j < k; j++) {
            double v;
            const char *f = fields[r.class_col[j]];
            if (probs_number(f, &v) != 0) {
                wn_fail(cause, "%s:%zu: class '%s': '%s' is not a number", name,
                        line, classes[j], f);
                goto out;
            }
            row[j] = (float)v;
        }
        if (probs_check_row(row, k, classes, &why) != 0) {
            wn_fail(cause, "%s:%zu: %s", name, line, why);
            goto out;
        }
        rows++;
    }
    if (r_next < 0) {
        wn_fail(cause, "%s: %s", name, why);
        goto out;
    }
    if (header) {
        wn_fail(cause,
                "%s: empty file (expected a header with a path "
                "column and one column per class)",
                name);
        goto out;
    }
    if (rows < n) {
        int64_t first = -1;
        for (int64_t i = 0; i < n && first < 0; i++)
            if (seen_line[i] == 0)
                first = i;
        if (n - rows > 1)
            wn_fail(cause, "%s: path '%s' has no row (and %lld more)", name,
                    paths[first], (long long)(n - rows - 1));
        else
            wn_fail(cause, "%s: path '%s' has no row", name, paths[first]);
        goto out;
    }
    *out = p;
    p = NULL;
    rc = 0;
out:
    csv_free(c);
    free(why);
    free(r.class_col);
    free(seen_line);
    free(x.e);
    free(p);
    return rc;
}
