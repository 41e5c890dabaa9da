/* app/score_probs.c: a run from someone else's probabilities.
 *
 * Every input is read and judged before anything is written: the shapes
 * against the project (N samples in import order, K classes), each row
 * by probs_check_row, the features for NaN and infinities. Only then does
 * engine/byom.c score and claim a run, so a bad file leaves no trace.
 *
 * A .npy file is known by its magic bytes and anything else is read as a
 * CSV: a path column matches its rows to samples, so it may come in any
 * order and from any tool; a .npy's rows must be in import order, the
 * order `winnow export --labels` writes. */
#include "config.h"

#include "app/score_probs.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/cmd.h"
#include "data/npy.h"
#include "data/probs.h"
#include "data/sha256.h"
#include "data/store.h"
#include "engine/byom.h"

/* A CSV of probabilities is read whole: ten million rows of a few classes
 * stay far below this, and a thousand classes a row are past any sane
 * CSV anyway (use .npy). */
#define SCORE_PROBS_CSV_MAX     ((size_t)8 << 30)
#define SCORE_PROBS_MAX_THREADS 256

struct project { /* what the run needs of the project, in import order */
    int64_t n;
    int k;
    char **classes; /* store_names_free */
    struct store_label_state *states;
    size_t n_states;
    const char **paths; /* into states */
    int64_t *sample_id;
    int32_t *label;
    uint8_t *trusted;
};

static void
project_fini(struct project *p)
{
    store_names_free(p->classes);
    store_states_free(p->states, p->n_states);
    free(p->paths);
    free(p->sample_id);
    free(p->label);
    free(p->trusted);
    memset(p, 0, sizeof *p);
}

static int
project_load(struct store *s, struct project *p, char **cause)
{
    memset(p, 0, sizeof *p);
    if (store_snapshot_begin(s, cause) != 0)
        return -1;
    int rc = store_class_names(s, &p->classes, &p->k, cause);
    if (rc == 0)
        rc = store_label_states(s, &p->states, &p->n_states, cause);
    store_snapshot_end(s);
    if (rc != 0)
        return -1;
    p->n = (int64_t)p->n_states;
    if (p->n == 0)
        return wn_fail(cause, "the project has no samples to score");
    if (p->k < 2)
        return wn_fail(cause,
                       "the project has %d class%s: scoring needs "
                       "at least 2",
                       p->k, p->k == 1 ? "" : "es");
    size_t n = (size_t)p->n;
    p->paths = xcalloc(n, sizeof *p->paths);
    p->sample_id = xcalloc(n, sizeof *p->sample_id);
    p->label = xcalloc(n, sizeof *p->label);
    p->trusted = xcalloc(n, sizeof *p->trusted);
    for (size_t i = 0; i < n; i++) {
        const struct store_label_state *x = &p->states[i];
        p->paths[i] = x->path;
        p->sample_id[i] = x->sample_id;
        p->label[i] = x->label;
        /* A decision in force, as the engine trusts a person's label:
         * its confident learning never flags it and its score is 0. */
        p->trusted[i] = x->review == STORE_KEPT || x->review == STORE_RELABELED;
    }
    return 0;
}

static int
is_npy(const char *path, char **cause)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return wn_fail(cause, "%s", strerror(errno));
    unsigned char m[6] = {0};
    size_t got = fread(m, 1, sizeof m, f);
    fclose(f);
    return got == sizeof m && memcmp(m, "\x93NUMPY", 6) == 0;
}

/* The hex SHA-256 of a file, which the run records beside its name. */
static int
file_sha256(const char *path, char hex[2 * SHA256_LEN + 1], char **cause)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return wn_fail(cause, "%s", strerror(errno));
    struct sha256 h;
    sha256_init(&h);
    unsigned char *buf = xmalloc((size_t)1 << 20), d[SHA256_LEN];
    size_t got;
    while ((got = fread(buf, 1, (size_t)1 << 20, f)) > 0)
        sha256_update(&h, buf, got);
    int bad = ferror(f);
    fclose(f);
    free(buf);
    if (bad)
        return wn_fail(cause, "read error");
    sha256_final(&h, d);
    sha256_hex(d, hex);
    return 0;
}

/* "row 17 (cat/3.png): class 'dog' is NaN": the row as numpy counts it,
 * and the sample it stands for. */
static int
npy_row_error(const struct project *p, const float *probs, int64_t row,
              char **cause)
{
    char *why = NULL;
    if (probs_check_row(probs + (size_t)row * (size_t)p->k, p->k,
                        (const char *const *)p->classes, &why) == 0)
        why = xstrdup("bad row");
    wn_fail(cause, "row %lld (%s): %s", (long long)row, p->paths[row], why);
    free(why);
    return -1;
}

static int
read_probs_npy(const char *path, const struct project *p, float **out,
               char **cause)
{
    struct npy a;
    if (npy_read(path, &a, cause) != 0)
        return -1;
    int rc = 0;
    if (a.ndim != 2)
        rc = wn_fail(cause,
                     "a 1-D array of %lld values: expected N x K, "
                     "one row per sample and one column per class",
                     (long long)a.rows);
    else if (a.rows != p->n)
        rc = wn_fail(cause,
                     "%lld rows, the project has %lld samples (one "
                     "row per sample, in the order export --labels "
                     "writes)",
                     (long long)a.rows, (long long)p->n);
    else if (a.cols != p->k)
        rc = wn_fail(cause, "%lld columns, the project has %d classes",
                     (long long)a.cols, p->k);
    int64_t bad = -1;
    if (rc == 0 &&
        probs_check(a.data, p->n, p->k, (const char *const *)p->classes, &bad,
                    NULL) != 0)
        rc = npy_row_error(p, a.data, bad, cause);
    if (rc != 0) {
        npy_fini(&a);
        return -1;
    }
    *out = a.data; /* ours now: npy_fini is not called */
    return 0;
}

static int
read_probs_csv(const char *path, const struct project *p, float **out,
               char **cause)
{
    unsigned char *buf;
    size_t len;
    if (wn_read_file(path, SCORE_PROBS_CSV_MAX, &buf, &len, cause) != 0)
        return -1;
    int rc = probs_read_csv((const char *)buf, len, path, p->paths, p->n,
                            (const char *const *)p->classes, p->k, out, cause);
    free(buf);
    return rc;
}

static int
read_features(const char *path, const struct project *p, struct npy *a,
              char **cause)
{
    if (npy_read(path, a, cause) != 0)
        return -1;
    int rc = 0;
    if (a->rows != p->n)
        rc = wn_fail(cause,
                     "%lld rows, the project has %lld samples (one "
                     "row per sample, in the order export --labels "
                     "writes)",
                     (long long)a->rows, (long long)p->n);
    else if (a->cols > INT_MAX)
        rc = wn_fail(cause, "%lld columns is too many", (long long)a->cols);
    for (int64_t i = 0; rc == 0 && i < a->rows; i++)
        for (int64_t j = 0; j < a->cols; j++) {
            float v = a->data[(size_t)i * (size_t)a->cols + (size_t)j];
            if (!isfinite(v)) {
                rc = wn_fail(cause, "row %lld (%s), column %lld is %s",
                             (long long)i, p->paths[i], (long long)j,
                             isnan(v) ? "NaN" : "infinite");
                break;
            }
        }
    if (rc != 0)
        npy_fini(a);
    return rc;
}

/* The run's record of where its input came from. */
static char *
origin_text(const char *probs, const char *probs_sha, const char *features,
            const char *features_sha)
{
    char *ap = realpath(probs, NULL), *af = NULL;
    if (features != NULL)
        af = realpath(features, NULL);
    char *t = features != NULL
                  ? xasprintf("probs=%s sha256=%s features=%s sha256=%s",
                              ap ? ap : probs, probs_sha, af ? af : features,
                              features_sha)
                  : xasprintf("probs=%s sha256=%s", ap ? ap : probs, probs_sha);
    free(ap);
    free(af);
    return t;
}

static int
threads_default(int requested)
{
    if (requested > 0)
        return requested;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1                         ? 1
           : n > SCORE_PROBS_MAX_THREADS ? SCORE_PROBS_MAX_THREADS
                                         : (int)n;
}

/* The readers of data/ name the file themselves ("FILE: why",
 * "FILE:7: why"); the checks here do not. */
static int
fail_file(const char *file, char *cause)
{
    size_t l = strlen(file);
    if (cause != NULL && strncmp(cause, file, l) == 0 && cause[l] == ':')
        cmd_error("score: %s", cause);
    else
        cmd_error("score: %s: %s", file, cause ? cause : "failed");
    free(cause);
    return EXIT_FAIL;
}

int
score_probs(const struct score_probs_args *a)
{
    char *cause = NULL;
    struct store *s = cmd_open_store(a->db, 0);
    if (s == NULL)
        return EXIT_FAIL;
    struct project p;
    float *probs = NULL;
    struct npy feat = {0};
    char *params = NULL;
    char probs_sha[2 * SHA256_LEN + 1], feat_sha[2 * SHA256_LEN + 1] = "";
    int rc = EXIT_FAIL;
    if (project_load(s, &p, &cause) != 0) {
        cmd_error("score: %s: %s", a->db, cause);
        free(cause);
        goto done;
    }
    int npy = is_npy(a->probs, &cause);
    int r = npy < 0 ? -1
            : npy   ? read_probs_npy(a->probs, &p, &probs, &cause)
                    : read_probs_csv(a->probs, &p, &probs, &cause);
    if (r != 0 || file_sha256(a->probs, probs_sha, &cause) != 0) {
        rc = fail_file(a->probs, cause);
        goto done;
    }
    if (a->features != NULL &&
        (read_features(a->features, &p, &feat, &cause) != 0 ||
         file_sha256(a->features, feat_sha, &cause) != 0)) {
        rc = fail_file(a->features, cause);
        goto done;
    }
    params = origin_text(a->probs, probs_sha, a->features, feat_sha);
    struct byom_input in = {
        .n = p.n,
        .k = p.k,
        .sample_id = p.sample_id,
        .label = p.label,
        .trusted = p.trusted,
        .probs = probs,
        .features = feat.data,
        .dim = (int)feat.cols,
        .params = params,
        .seed = a->seed,
        .threads = threads_default(a->threads),
    };
    struct byom_result res;
    if (byom_run(s, &in, &res, &cause) != 0) {
        cmd_error("score: %s", cause);
        free(cause);
        goto done;
    }
    if (!a->quiet) {
        printf("run %lld done: %lld samples in %d classes scored from %s; "
               "%lld flagged, estimated noise rate %.1f%%\n",
               (long long)res.run_id, (long long)p.n, p.k, a->probs,
               (long long)res.n_flagged, 100.0 * res.noise_rate);
        printf("next: winnow export %s --scores scores.csv (highest score "
               "first), or winnow review %s\n",
               a->db, a->db);
    }
    rc = EXIT_OK;
done:
    free(params);
    free(probs);
    npy_fini(&feat);
    project_fini(&p);
    store_close(s);
    return rc;
}
