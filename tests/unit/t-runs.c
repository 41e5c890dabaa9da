/* Runs and scores in the store: the run lifecycle, checkpoints, and that a
 * run's scores are published all at once or not at all. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/base.h"
#include "data/image.h"
#include "data/sha256.h"
#include "data/store.h"
#include "tests/fixtures.h"
#include "tests/tap.h"

#define N 20

static int64_t ids[N];

static void
setup(struct store *s)
{
    char *cause = NULL;
    int64_t src;
    int cls;
    if (store_source_ensure(s, STORE_SOURCE_FOLDER, "/x", &src, &cause) ||
        store_class_ensure(s, "a", &cls, &cause) ||
        store_class_ensure(s, "b", &cls, &cause))
        bail("setup: %s", cause);
    struct image im;
    if (image_alloc(&im, 2, 2, 1, &cause) != 0)
        bail("alloc: %s", cause);
    for (int i = 0; i < N; i++) {
        unsigned char h[SHA256_LEN];
        memset(im.pixels, i, 4);
        sha256(im.pixels, 4, h);
        char path[32];
        snprintf(path, sizeof path, "s%02d.png", i);
        struct store_sample_new sn = {.source_id = src,
                                      .path = path,
                                      .hash = h,
                                      .width = 2,
                                      .height = 2,
                                      .channels = 1,
                                      .stored = &im,
                                      .label = i % 2};
        if (store_sample_add(s, &sn, &ids[i], &cause) != 0)
            bail("add: %s", cause);
    }
    image_fini(&im);
}

static void
fill(struct store_score *sc, double base)
{
    for (int i = 0; i < N; i++) {
        memset(&sc[i], 0, sizeof sc[i]);
        sc[i].sample_id = ids[i];
        sc[i].score = base + i * 0.01;
        sc[i].self_confidence = base;
        sc[i].margin = NAN;
        sc[i].aum = -1.5;
        sc[i].elr = NAN;
        sc[i].knn = NAN;
        sc[i].label = i % 2;
        sc[i].suggested = (i + 1) % 2;
        sc[i].suggested_prob = 0.75;
        sc[i].flagged = i == N - 1;
    }
}

struct walk {
    int n;
    double first, last;
    int nan_margin;
};

static int
walk_one(void *ctx, const struct store_scored *row, char **cause)
{
    (void)cause;
    struct walk *w = ctx;
    if (w->n == 0)
        w->first = row->sc.score;
    w->last = row->sc.score;
    if (isnan(row->sc.margin))
        w->nan_margin++;
    w->n++;
    return 0;
}

int
main(void)
{
    char *dir = fx_tmpdir("runs");
    char *db = fx_path(dir, "p.db");
    struct store *s;
    char *cause = NULL;
    if (store_open(db, STORE_CREATE, &s, &cause) != 0)
        bail("open: %s", cause);
    setup(s);

    int64_t r1, r2, latest;
    ok(store_run_create(s, 42, "epochs=1", "test", &r1, &cause) == 0,
       "a run is created");
    struct store_run run;
    ok(store_run_get(s, r1, &run, &cause) == 0, "and read back");
    is_str(run.status, "running");
    is_int((int64_t)run.seed, ==, 42);
    ok(run.pid > 0 && run.heartbeat > 0, "it records its process and a "
                                         "heartbeat");
    store_run_fini(&run);

    struct store_score sc[N];
    fill(sc, 0.5);
    double m[4] = {0.9, 0.1, 0.2, 0.8};
    ok(store_run_publish(s, r1, sc, N, m, 2, 0.15, 3.5, &cause) == 0,
       "run 1 publishes");
    ok(store_run_latest(s, "done", &latest, &cause) == 0 && latest == r1,
       "run 1 is the latest done run");
    struct walk w = {0};
    ok(store_foreach_score(s, r1, walk_one, &w, &cause) == 0,
       "its scores walk");
    is_int(w.n, ==, N);
    ok(w.first > w.last, "highest score first");
    is_int(w.nan_margin, ==, N);
    double *mat;
    int k;
    ok(store_run_noise(s, r1, &mat, &k, &cause) == 0 && k == 2 &&
           mat[1] == 0.1 && mat[2] == 0.2,
       "the noise matrix reads back");
    free(mat);

    /* Run 2 fails midway through publishing: a sample that does not
     * exist violates a foreign key after half the rows are written. */
    ok(store_run_create(s, 42, "epochs=1", "test", &r2, &cause) == 0,
       "run 2 is created");
    fill(sc, 0.1);
    sc[N / 2].sample_id = 99999;
    ok(store_run_publish(s, r2, sc, N, m, 2, 0.15, 1.0, &cause) != 0,
       "publishing run 2 fails");
    diag("cause: %s", cause ? cause : "(none)");
    free(cause);
    cause = NULL;
    memset(&w, 0, sizeof w);
    ok(store_foreach_score(s, r2, walk_one, &w, &cause) == 0 && w.n == 0,
       "none of run 2's scores are visible");
    ok(store_run_latest(s, "done", &latest, &cause) == 0 && latest == r1,
       "run 1 is still the latest done run");
    ok(store_run_get(s, r2, &run, &cause) == 0 &&
           strcmp(run.status, "running") == 0,
       "run 2 is not marked done");
    store_run_fini(&run);

    /* Interrupt with a checkpoint, read it back. */
    const char blob[] = "training state";
    ok(store_run_interrupt(s, r2, blob, sizeof blob, &cause) == 0,
       "run 2 is interrupted with a checkpoint");
    void *got;
    size_t len;
    ok(store_run_checkpoint(s, r2, &got, &len, &cause) == 0 &&
           len == sizeof blob && memcmp(got, blob, len) == 0,
       "the checkpoint reads back");
    free(got);
    ok(store_run_latest(s, "interrupted", &latest, &cause) == 0 && latest == r2,
       "run 2 is the latest interrupted run");
    fill(sc, 0.2);
    ok(store_run_publish(s, r2, sc, N, m, 2, 0.1, 2.0, &cause) == 0,
       "the resumed run publishes");
    ok(store_run_checkpoint(s, r2, &got, &len, &cause) == 0 && len == 0,
       "a finished run drops its checkpoint");
    free(got);
    ok(store_run_set_status(s, r1, "failed", "gone", &cause) == 0,
       "status can be set");

    store_close(s);
    fx_rmtree(dir);
    free(db);
    free(dir);
    return done_testing();
}
