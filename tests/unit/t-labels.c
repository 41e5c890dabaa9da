/* Decisions, history and review state in the store: finding samples by
 * path, their source files, decisions with the run's score, undo walking
 * back past what is undone, accepted suggestions all or nothing, and a
 * snapshot that does not move while another connection writes. */
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

#define N 6

static int64_t ids[N + 1]; /* [N]: same path, other source */
static int64_t src_folder, src_csv, src_idx;

static void
add(struct store *s, int64_t src, const char *path, int label, int seed,
    int64_t *id)
{
    char *cause = NULL;
    struct image im;
    if (image_alloc(&im, 2, 2, 1, &cause) != 0)
        bail("alloc: %s", cause);
    memset(im.pixels, seed, 4);
    unsigned char h[SHA256_LEN];
    sha256(im.pixels, 4, h);
    struct store_sample_new sn = {.source_id = src,
                                  .path = path,
                                  .hash = h,
                                  .width = 2,
                                  .height = 2,
                                  .channels = 1,
                                  .stored = &im,
                                  .label = label};
    if (store_sample_add(s, &sn, id, &cause) != 0)
        bail("add %s: %s", path, cause);
    image_fini(&im);
}

static void
setup(struct store *s)
{
    char *cause = NULL;
    int c;
    if (store_source_ensure(s, STORE_SOURCE_FOLDER, "/data/root", &src_folder,
                            &cause) ||
        store_source_ensure(s, STORE_SOURCE_CSV, "/data/m/list.csv", &src_csv,
                            &cause) ||
        store_source_ensure(s, STORE_SOURCE_IDX, "/data/img.idx", &src_idx,
                            &cause) ||
        store_class_ensure(s, "a", &c, &cause) ||
        store_class_ensure(s, "b", &c, &cause) ||
        store_class_ensure(s, "c", &c, &cause))
        bail("setup: %s", cause);
    for (int i = 0; i < N - 1; i++) {
        char path[32];
        snprintf(path, sizeof path, "a/%d.png", i);
        add(s, src_folder, path, 0, i, &ids[i]);
    }
    add(s, src_idx, "img.idx#0", 1, 50, &ids[N - 1]);
    add(s, src_csv, "a/0.png", 2, 60, &ids[N]);
}

static void
publish_run(struct store *s, int64_t *run)
{
    char *cause = NULL;
    struct store_score sc[N + 1];
    memset(sc, 0, sizeof sc);
    for (int i = 0; i <= N; i++) {
        sc[i].sample_id = ids[i];
        sc[i].score = 0.1 * (i + 1);
        sc[i].self_confidence = sc[i].margin = sc[i].aum = NAN;
        sc[i].elr = sc[i].knn = NAN;
        sc[i].label = i == N - 1 ? 1 : i == N ? 2 : 0;
        sc[i].suggested = 1;
        sc[i].suggested_prob = 0.9;
        sc[i].flagged = i == 2;
    }
    double m[9] = {0.8, 0.2, 0, 0, 1, 0, 0, 0, 1};
    if (store_run_create(s, 1, "", "test", run, &cause) != 0 ||
        store_run_publish(s, *run, sc, N + 1, m, 3, 0.1, 1.0, &cause) != 0)
        bail("run: %s", cause);
}

static enum store_review
review_of(struct store *s, int64_t id)
{
    char *cause = NULL;
    struct store_label_state *st;
    size_t n;
    if (store_label_states(s, &st, &n, &cause) != 0)
        bail("states: %s", cause);
    enum store_review r = (enum store_review) - 1;
    for (size_t i = 0; i < n; i++)
        if (st[i].sample_id == id)
            r = st[i].review;
    store_states_free(st, n);
    return r;
}

static int
label_of(struct store *s, int64_t id)
{
    char *cause = NULL;
    int l;
    if (store_label_current(s, id, &l, &cause) != 0)
        bail("label: %s", cause);
    return l;
}

static void
test_lookup(struct store *s)
{
    char *cause = NULL;
    int64_t id;
    ok(store_sample_lookup(s, "a/1.png", &id, &cause) == 0 && id == ids[1],
       "a path from one source finds its sample");
    ok(store_sample_lookup(s, "a/0.png", &id, &cause) != 0,
       "a path in two sources is refused");
    ok(cause != NULL && strstr(cause, "in 2 sources") != NULL &&
           strstr(cause, "/data/root") != NULL &&
           strstr(cause, "/data/m/list.csv") != NULL,
       "and the cause names both: %s", cause ? cause : "");
    free(cause);
    cause = NULL;
    char spec[64];
    snprintf(spec, sizeof spec, "%lld:a/0.png", (long long)src_csv);
    ok(store_sample_lookup(s, spec, &id, &cause) == 0 && id == ids[N],
       "SOURCE:PATH picks one");
    ok(store_sample_lookup(s, "img.idx#0", &id, &cause) == 0 &&
           id == ids[N - 1],
       "an IDX path is found");
    ok(store_sample_lookup(s, "nope.png", &id, &cause) != 0 && cause &&
           strcmp(cause, "no sample 'nope.png' in the project") == 0,
       "an unknown path is named");
    free(cause);
    cause = NULL;
    ok(store_sample_lookup(s, "99:a/0.png", &id, &cause) != 0,
       "an unknown source is no sample");
    free(cause);
    cause = NULL;

    char *p;
    ok(store_sample_source_file(s, ids[1], &p, &cause) == 0 && p &&
           strcmp(p, "/data/root/a/1.png") == 0,
       "a folder sample's file is ROOT/path");
    free(p);
    ok(store_sample_source_file(s, ids[N], &p, &cause) == 0 && p &&
           strcmp(p, "/data/m/a/0.png") == 0,
       "a CSV sample's file is beside the manifest");
    free(p);
    ok(store_sample_source_file(s, ids[N - 1], &p, &cause) == 0 && p == NULL,
       "an IDX sample has no file");
}

static void
test_decisions(struct store *s, int64_t run)
{
    char *cause = NULL;
    int old = -1;
    int64_t ev = 0;
    is_int(review_of(s, ids[0]), ==, STORE_UNREVIEWED);
    ok(store_label_decide(s, ids[0], 1, "looks like b", &old, &ev, &cause) == 0,
       "a decision is recorded");
    is_int(old, ==, 0);
    is_int(label_of(s, ids[0]), ==, 1);
    is_int(review_of(s, ids[0]), ==, STORE_RELABELED);
    ok(store_label_decide(s, ids[1], 0, NULL, &old, NULL, &cause) == 0,
       "setting the label it has is recorded too");
    is_int(review_of(s, ids[1]), ==, STORE_KEPT);
    ok(store_label_decide(s, ids[1], 7, NULL, NULL, NULL, &cause) != 0,
       "an unknown class is refused");
    free(cause);
    cause = NULL;

    struct store_event *e;
    size_t n;
    ok(store_events_get(s, ids[0], 0, &e, &n, &cause) == 0 && n == 1,
       "one decision on sample 0, import left out");
    ok(n == 1 && e[0].id == ev && e[0].source == STORE_LABEL_HUMAN &&
           e[0].old_label == 0 && e[0].new_label == 1 && e[0].run_id == run &&
           fabs(e[0].score - 0.1) < 1e-9 && e[0].note != NULL &&
           strcmp(e[0].note, "looks like b") == 0 &&
           strcmp(e[0].path, "a/0.png") == 0,
       "it carries the labels, the run, the score and the note");
    store_events_free(e, n);
    ok(store_events_get(s, ids[0], 1, &e, &n, &cause) == 0 && n == 2 &&
           e[0].source == STORE_LABEL_IMPORT && e[0].old_label == -1 &&
           e[0].run_id == 0 && isnan(e[0].score),
       "with imports: the import event first, without run or score");
    store_events_free(e, n);
    ok(store_events_get(s, 0, 1, &e, &n, &cause) == 0 && n == N + 1 + 2,
       "all events: one import per sample and the two decisions");
    store_events_free(e, n);
}

/* Samples the engine would trust: after every decision is undone, none
 * (an undo restores a label, it does not vouch for it). */
struct trust {
    int human;
};

static int
trust_one(void *ctx, const struct store_sample *smp, char **cause)
{
    (void)cause;
    struct trust *t = ctx;
    t->human += smp->human != 0;
    return 0;
}

static void
test_undo(struct store *s)
{
    char *cause = NULL;
    /* Decisions so far: #a sample 0 -> b, #b sample 1 kept. Add two more
     * on sample 2: a -> c, then c -> b. */
    int64_t e3, e4;
    if (store_label_decide(s, ids[2], 2, NULL, NULL, &e3, &cause) != 0 ||
        store_label_decide(s, ids[2], 1, NULL, NULL, &e4, &cause) != 0)
        bail("decide: %s", cause);
    struct store_undo *u;
    size_t n;
    ok(store_label_undo(s, 1, &u, &n, &cause) == 0 && n == 1,
       "undo 1 undoes one decision");
    ok(n == 1 && u[0].undone_id == e4 && u[0].sample_id == ids[2] &&
           u[0].from == 1 && u[0].to == 2 && strcmp(u[0].path, "a/2.png") == 0,
       "the newest: sample 2 back from b to c");
    int64_t undo1 = n == 1 ? u[0].event_id : 0;
    store_undos_free(u, n);
    is_int(label_of(s, ids[2]), ==, 2);
    ok(store_label_undo(s, 1, &u, &n, &cause) == 0 && n == 1 &&
           u[0].undone_id == e3 && u[0].to == 0,
       "undo again passes over the undo and the undone: sample 2 back to a");
    store_undos_free(u, n);
    is_int(label_of(s, ids[2]), ==, 0);
    is_int(review_of(s, ids[2]), ==, STORE_UNREVIEWED);

    struct store_event *e;
    size_t ne;
    ok(store_events_get(s, ids[2], 0, &e, &ne, &cause) == 0 && ne == 4,
       "the history keeps all four events");
    ok(ne == 4 && e[0].undone && e[1].undone && !e[2].undone &&
           e[2].undoes == e4 && e[2].id == undo1 && e[3].undoes == e3,
       "the decisions are marked undone, the undos name them");
    store_events_free(e, ne);

    ok(store_label_undo(s, 5, &u, &n, &cause) == 0 && n == 2,
       "undo 5 with two decisions left undoes two");
    store_undos_free(u, n);
    is_int(label_of(s, ids[0]), ==, 0);
    is_int(review_of(s, ids[0]), ==, STORE_UNREVIEWED);
    is_int(review_of(s, ids[1]), ==, STORE_UNREVIEWED);
    ok(store_label_undo(s, 1, &u, &n, &cause) == 0 && n == 0,
       "then nothing is left to undo");
    store_undos_free(u, n);
    struct trust t = {0};
    if (store_foreach_sample(s, trust_one, &t, &cause) != 0)
        bail("walk: %s", cause);
    is_int(t.human, ==, 0);
}

static void
test_auto(struct store *s, int64_t run)
{
    char *cause = NULL;
    struct store_label_state *st;
    size_t n;
    if (store_label_states(s, &st, &n, &cause) != 0 || n != N + 1)
        bail("states: %s", cause);
    struct store_auto_label a[2] = {
        {.sample_id = st[3].sample_id,
         .seen_event = st[3].last_event,
         .label = 1,
         .run_id = run,
         .score = 0.4},
        {.sample_id = st[4].sample_id,
         .seen_event = st[4].last_event,
         .label = 1,
         .run_id = run,
         .score = 0.5},
    };
    /* A person decides on sample 4 after the export read it. */
    if (store_label_decide(s, ids[4], 2, NULL, NULL, NULL, &cause) != 0)
        bail("decide: %s", cause);
    ok(store_label_auto(s, a, 2, &cause) != 0 && cause &&
           strstr(cause, "a/4.png") != NULL,
       "a suggestion on a sample that changed meanwhile fails");
    diag("cause: %s", cause ? cause : "(none)");
    free(cause);
    cause = NULL;
    is_int(label_of(s, ids[3]), ==, 0);
    store_states_free(st, n);
    if (store_label_states(s, &st, &n, &cause) != 0)
        bail("states: %s", cause);
    a[1].seen_event = st[4].last_event;
    ok(store_label_auto(s, a, 2, &cause) == 0, "then both are recorded");
    is_int(label_of(s, ids[3]), ==, 1);
    is_int(review_of(s, ids[3]), ==, STORE_AUTO);
    store_states_free(st, n);
    struct store_event *e;
    size_t ne;
    ok(store_events_get(s, ids[3], 0, &e, &ne, &cause) == 0 && ne == 1 &&
           e[0].source == STORE_LABEL_AUTO && e[0].run_id == run &&
           fabs(e[0].score - 0.4) < 1e-9 && e[0].old_label == 0,
       "an accepted suggestion is an auto event with its run and score");
    store_events_free(e, ne);
    struct store_undo *u;
    ok(store_label_undo(s, 1, &u, &ne, &cause) == 0 && ne == 1 &&
           u[0].sample_id == ids[4] && u[0].to == 0,
       "undo reverts the person's last decision, passing over the auto "
       "events after it");
    store_undos_free(u, ne);
    is_int(label_of(s, ids[3]), ==, 1);
}

static void
test_snapshot(const char *db, struct store *s)
{
    char *cause = NULL;
    struct store *other;
    if (store_open(db, 0, &other, &cause) != 0)
        bail("open: %s", cause);
    ok(store_snapshot_begin(s, &cause) == 0, "a snapshot begins");
    is_int(label_of(s, ids[1]), ==, 0);
    ok(store_label_decide(other, ids[1], 2, NULL, NULL, NULL, &cause) == 0,
       "another connection decides meanwhile");
    is_int(label_of(s, ids[1]), ==, 0);
    ok(store_label_decide(s, ids[1], 1, NULL, NULL, NULL, &cause) != 0,
       "no writes inside a snapshot");
    free(cause);
    cause = NULL;
    store_snapshot_end(s);
    is_int(label_of(s, ids[1]), ==, 2);
    store_close(other);
}

int
main(void)
{
    char *dir = fx_tmpdir("labels");
    char *db = fx_path(dir, "p.db");
    struct store *s;
    char *cause = NULL;
    if (store_open(db, STORE_CREATE, &s, &cause) != 0)
        bail("open: %s", cause);
    setup(s);
    int64_t run;
    publish_run(s, &run);

    test_lookup(s);
    test_decisions(s, run);
    test_undo(s);
    test_auto(s, run);
    test_snapshot(db, s);
    is_str(store_review_name(STORE_RELABELED), "relabeled");

    store_close(s);
    fx_rmtree(dir);
    free(db);
    free(dir);
    return done_testing();
}
