/* data/export_arrays.c: --probs and --features of `winnow export`.
 *
 * The matrix is read whole (store_run_array_get) and written in one go:
 * .npy through npy_save, a CSV through an outfile, so that a failed or
 * interrupted write leaves nothing under the real name. */
#include "config.h"

#include "data/export_arrays.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/csv.h"
#include "data/npy.h"
#include "data/outfile.h"
#include "data/store.h"

static int
ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* The newest matrix of that name and the project's samples now, which
 * must be the ones it has rows for. */
static int
load(struct store *s, enum store_array which, float **data, int64_t *rows,
     int *cols, struct store_label_state **states, size_t *n_states,
     int64_t *run_out, char **cause)
{
    const char *what =
        which == STORE_ARRAY_PROBS ? "probabilities" : "features";
    int64_t run;
    *data = NULL;
    *states = NULL;
    *n_states = 0;
    if (store_snapshot_begin(s, cause) != 0)
        return -1;
    int rc = store_run_array_latest(s, which, &run, cause);
    if (rc == 0 && run == 0)
        rc = wn_fail(cause,
                     "no run has kept its %s: run winnow score (or "
                     "winnow score --probs%s)",
                     what,
                     which == STORE_ARRAY_FEATURES ? " FILE --features FILE"
                                                   : " FILE");
    if (rc == 0)
        rc = store_run_array_get(s, run, which, data, rows, cols, cause);
    if (rc == 0)
        rc = store_label_states(s, states, n_states, cause);
    store_snapshot_end(s);
    if (rc == 0 && (size_t)*rows != *n_states)
        rc = wn_fail(cause,
                     "run %lld scored %lld samples and the project has %zu "
                     "now: its rows would not line up with the samples; "
                     "score again",
                     (long long)run, (long long)*rows, *n_states);
    if (rc != 0) {
        free(*data);
        *data = NULL;
        store_states_free(*states, *n_states);
        *states = NULL;
        *n_states = 0;
        return -1;
    }
    *run_out = run;
    return 0;
}

static int
write_csv(struct store *s, const char *path, const float *p, int64_t n, int k,
          const struct store_label_state *states, char **cause)
{
    char **names = NULL;
    int n_names = 0;
    if (store_class_names(s, &names, &n_names, cause) != 0)
        return -1;
    if (n_names < k) {
        store_names_free(names);
        return wn_fail(cause,
                       "project file is corrupt: %d classes, the "
                       "probabilities have %d",
                       n_names, k);
    }
    struct outfile t;
    int rc = outfile_open(&t, path, 1, cause);
    if (rc == 0) {
        FILE *f = t.f;
        fputs("path", f);
        for (int j = 0; j < k; j++) {
            fputc(',', f);
            csv_write_field(f, names[j]);
        }
        fputc('\n', f);
        for (int64_t i = 0; i < n && !ferror(f); i++) {
            csv_write_field(f, states[i].path);
            const float *row = p + (size_t)i * (size_t)k;
            /* 9 significant digits read back as the same float32. */
            for (int j = 0; j < k; j++)
                fprintf(f, ",%.9g", (double)row[j]);
            fputc('\n', f);
        }
        rc = outfile_close(&t, cause);
        if (rc == 0)
            rc = outfile_commit(&t, cause);
        if (rc != 0)
            outfile_remove(&t);
    }
    outfile_fini(&t);
    store_names_free(names);
    return rc;
}

int
export_probs(struct store *s, const char *path, int64_t *run_out, char **cause)
{
    float *p;
    int64_t n;
    int k;
    struct store_label_state *states;
    size_t n_states;
    if (load(s, STORE_ARRAY_PROBS, &p, &n, &k, &states, &n_states, run_out,
             cause) != 0)
        return -1;
    int rc = ends_with(path, ".npy")
                 ? npy_save(path, p, n, k, cause)
                 : write_csv(s, path, p, n, k, states, cause);
    free(p);
    store_states_free(states, n_states);
    return rc;
}

int
export_features(struct store *s, const char *path, int64_t *run_out,
                char **cause)
{
    if (!ends_with(path, ".npy"))
        return wn_fail(cause,
                       "%s: --features writes .npy files only "
                       "(name it FILE.npy)",
                       path);
    float *x;
    int64_t n;
    int d;
    struct store_label_state *states;
    size_t n_states;
    if (load(s, STORE_ARRAY_FEATURES, &x, &n, &d, &states, &n_states, run_out,
             cause) != 0)
        return -1;
    int rc = npy_save(path, x, n, d, cause);
    free(x);
    store_states_free(states, n_states);
    return rc;
}
