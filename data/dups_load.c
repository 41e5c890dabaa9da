/* data/dups_load.c: what grouping needs, read from a project. */
#include "config.h"

#include "data/dups.h"

#include <stdlib.h>
#include <string.h>

#include "data/store.h"

/* How many computed hashes between two progress reports. */
#define DUPS_REPORT 1000

/* The index of id among ids[0..n) (ascending), or n. */
static size_t
dups_index_of(const int64_t *ids, size_t n, int64_t id)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ids[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && ids[lo] == id ? lo : n;
}

/* The newest finished run's feature pairs, as indices. */
static int
dups_load_similar(struct store *s, struct dups_project *p, char **cause)
{
    int64_t run;
    struct store_pair *v;
    size_t n;
    if (store_run_newest(s, STORE_RUN_DONE, &run, cause) != 0)
        return -1;
    if (run == 0)
        return 0;
    if (store_run_pairs_get(s, run, &v, &n, cause) != 0)
        return -1;
    p->similar = xmalloc((n > 0 ? n : 1) * sizeof *p->similar);
    for (size_t i = 0; i < n; i++) {
        size_t a = dups_index_of(p->ids, p->n, v[i].a);
        size_t b = dups_index_of(p->ids, p->n, v[i].b);
        if (a == p->n || b == p->n)
            continue;
        p->similar[p->n_similar++] =
            (struct dups_pair){(uint32_t)a, (uint32_t)b, -1};
    }
    free(v);
    return 0;
}

int
dups_load(struct store *s, struct dups_project *out, dups_progress_fn fn,
          void *ctx, char **cause)
{
    struct store_dup_row *rows;
    size_t n;
    memset(out, 0, sizeof *out);
    if (store_dup_rows(s, &rows, &n, cause) != 0)
        return -1;
    if (n > UINT32_MAX) {
        store_dup_rows_free(rows, n);
        return wn_fail(cause, "too many samples: %zu", n);
    }
    size_t missing = 0;
    for (size_t i = 0; i < n; i++)
        missing += rows[i].has_phash == 0;
    out->n = n;
    out->samples = xcalloc(n > 0 ? n : 1, sizeof *out->samples);
    out->ids = xmalloc((n > 0 ? n : 1) * sizeof *out->ids);
    out->paths = xmalloc((n > 0 ? n : 1) * sizeof *out->paths);
    for (size_t i = 0; i < n; i++) {
        out->ids[i] = rows[i].id;
        out->paths[i] = rows[i].path; /* taken over */
        rows[i].path = NULL;
    }
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        struct dups_sample *d = &out->samples[i];
        d->label = rows[i].label;
        d->split = -1; /* no split column yet */
        size_t e = dups_index_of(out->ids, n, rows[i].exact_id);
        d->exact = e < n ? (uint32_t)e : (uint32_t)i;
        d->phash = rows[i].phash;
        if (rows[i].has_phash)
            continue;
        if (store_phash_compute(s, rows[i].id, &d->phash, cause) != 0) {
            rc = -1;
            break;
        }
        out->computed++;
        if (fn != NULL &&
            (out->computed % DUPS_REPORT == 0 || out->computed == missing))
            fn(ctx, (int64_t)out->computed, (int64_t)missing);
    }
    store_dup_rows_free(rows, n);
    if (rc == 0)
        rc = dups_load_similar(s, out, cause);
    if (rc != 0)
        dups_project_fini(out);
    return rc;
}

void
dups_project_fini(struct dups_project *p)
{
    if (p == NULL)
        return;
    if (p->paths != NULL)
        for (size_t i = 0; i < p->n; i++)
            free(p->paths[i]);
    free(p->paths);
    free(p->similar);
    free(p->ids);
    free(p->samples);
    memset(p, 0, sizeof *p);
}

int
dups_scan(struct store *s, int threshold, struct dups_project *p,
          struct dups *d, dups_progress_fn fn, void *ctx, char **cause)
{
    memset(d, 0, sizeof *d);
    if (dups_load(s, p, fn, ctx, cause) != 0)
        return -1;
    if (dups_group_with(p->samples, p->n, threshold, p->similar, p->n_similar,
                        d, cause) != 0) {
        dups_project_fini(p);
        return -1;
    }
    return 0;
}
