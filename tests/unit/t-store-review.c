/* What the review UI asks of the store: a sample's stored pixels back
 * exactly, and undoing one named decision, which writes the same event as
 * `winnow undo` and refuses (writing nothing) whatever is not a decision
 * in force at the head of its sample's history. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/base.h"
#include "data/image.h"
#include "data/sha256.h"
#include "data/store.h"
#include "tests/fixtures.h"
#include "tests/tap.h"

static int64_t
add(struct store *s, int64_t src, const char *path, int w, int h, int c,
    int label, uint32_t seed)
{
    char *cause = NULL;
    struct image im;
    if (image_alloc(&im, w, h, c, &cause) != 0)
        bail("alloc: %s", cause);
    fx_pixels(im.pixels, w, h, c, seed);
    unsigned char hash[SHA256_LEN];
    sha256(im.pixels, (size_t)w * (size_t)h * (size_t)c, hash);
    struct store_sample_new sn = {.source_id = src,
                                  .path = path,
                                  .hash = hash,
                                  .width = w * 2,
                                  .height = h * 2,
                                  .channels = c,
                                  .stored = &im,
                                  .label = label};
    int64_t id;
    if (store_sample_add(s, &sn, &id, &cause) != 0)
        bail("add %s: %s", path, cause);
    image_fini(&im);
    return id;
}

static int
events(struct store *s, int64_t sample)
{
    struct store_event *ev;
    size_t n;
    char *cause = NULL;
    if (store_events_get(s, sample, 1, &ev, &n, &cause) != 0)
        bail("events: %s", cause);
    store_events_free(ev, n);
    return (int)n;
}

static enum store_review
review_of(struct store *s, int64_t sample)
{
    struct store_label_state *st;
    size_t n;
    char *cause = NULL;
    enum store_review r = STORE_UNREVIEWED;
    if (store_label_states(s, &st, &n, &cause) != 0)
        bail("states: %s", cause);
    for (size_t i = 0; i < n; i++)
        if (st[i].sample_id == sample)
            r = st[i].review;
    store_states_free(st, n);
    return r;
}

static int
label_of(struct store *s, int64_t sample)
{
    int l;
    char *cause = NULL;
    if (store_label_current(s, sample, &l, &cause) != 0)
        bail("label: %s", cause);
    return l;
}

int
main(void)
{
    char *dir = fx_tmpdir("store-review");
    char *db = fx_path(dir, "p.db");
    struct store *s;
    char *cause = NULL;
    if (store_open(db, STORE_CREATE, &s, &cause) != 0)
        bail("open: %s", cause);
    int64_t src;
    int c;
    if (store_source_ensure(s, STORE_SOURCE_FOLDER, "/data", &src, &cause) ||
        store_class_ensure(s, "a", &c, &cause) ||
        store_class_ensure(s, "b", &c, &cause) ||
        store_class_ensure(s, "c", &c, &cause))
        bail("setup: %s", cause);
    int64_t rgb = add(s, src, "a/0.png", 5, 3, 3, 0, 7);
    int64_t gray = add(s, src, "b/1.png", 4, 6, 1, 1, 8);

    /* Pixels: exactly what was stored, with both sizes. */
    struct store_pixels px;
    ok(store_sample_pixels(s, rgb, &px, &cause) == 0, "read RGB pixels");
    is_int(px.stored_width, ==, 5);
    is_int(px.stored_height, ==, 3);
    is_int(px.channels, ==, 3);
    is_int(px.width, ==, 10);
    is_int(px.height, ==, 6);
    uint8_t want[5 * 3 * 3];
    fx_pixels(want, 5, 3, 3, 7);
    ok(px.pixels != NULL && memcmp(px.pixels, want, sizeof want) == 0,
       "RGB pixels round-trip");
    store_pixels_fini(&px);
    store_pixels_fini(&px); /* twice is harmless */
    ok(store_sample_pixels(s, gray, &px, &cause) == 0, "read gray pixels");
    uint8_t want_g[4 * 6];
    fx_pixels(want_g, 4, 6, 1, 8);
    ok(px.channels == 1 && memcmp(px.pixels, want_g, sizeof want_g) == 0,
       "gray pixels round-trip");
    store_pixels_fini(&px);
    ok(store_sample_pixels(s, 999, &px, &cause) == -1, "no such sample");
    is_str(cause, "no such sample: 999");
    free(cause);
    cause = NULL;

    /* A decision, then its undo by name. */
    int64_t ev1, ev2, ev_undo;
    int old, restored;
    if (store_label_decide(s, rgb, 2, "relabel", &old, &ev1, &cause) != 0)
        bail("decide: %s", cause);
    is_int(review_of(s, rgb), ==, STORE_RELABELED);
    ok(store_label_revert(s, ev1, &restored, &ev_undo, &cause) == 0,
       "revert the decision");
    is_int(restored, ==, 0);
    is_int(label_of(s, rgb), ==, 0);
    is_int(review_of(s, rgb), ==, STORE_UNREVIEWED);
    struct store_event *ev;
    size_t n;
    if (store_events_get(s, rgb, 0, &ev, &n, &cause) != 0)
        bail("events: %s", cause);
    ok(n == 2 && ev[1].id == ev_undo && ev[1].undoes == ev1 &&
           ev[1].source == STORE_LABEL_HUMAN && ev[1].old_label == 2 &&
           ev[1].new_label == 0 && ev[0].undone,
       "the undo is a human event naming the decision, which is undone");
    store_events_free(ev, n);

    /* Refusals write nothing. */
    int before = events(s, rgb);
    ok(store_label_revert(s, ev1, NULL, NULL, &cause) == -1,
       "an undone decision cannot be undone again");
    is_str(cause, "that decision is undone already");
    free(cause);
    cause = NULL;
    ok(store_label_revert(s, ev_undo, NULL, NULL, &cause) == -1,
       "an undo is not a decision");
    free(cause);
    cause = NULL;
    /* The import event (the first one of the sample) is not either. */
    if (store_events_get(s, rgb, 1, &ev, &n, &cause) != 0)
        bail("events: %s", cause);
    int64_t import_ev = ev[0].id;
    store_events_free(ev, n);
    ok(store_label_revert(s, import_ev, NULL, NULL, &cause) == -1,
       "an import is not a decision");
    free(cause);
    cause = NULL;
    ok(store_label_revert(s, 123456, NULL, NULL, &cause) == -1,
       "no such event");
    free(cause);
    cause = NULL;
    is_int(events(s, rgb), ==, before);

    /* A later event on the sample (another process's decision) makes an
     * undo of the earlier one refuse rather than throw the later away. */
    if (store_label_decide(s, gray, 2, NULL, NULL, &ev1, &cause) != 0 ||
        store_label_decide(s, gray, 0, NULL, NULL, &ev2, &cause) != 0)
        bail("decide: %s", cause);
    before = events(s, gray);
    ok(store_label_revert(s, ev1, NULL, NULL, &cause) == -1,
       "a decision with a later one after it is not reverted");
    is_str(cause, "the label changed since that decision");
    free(cause);
    cause = NULL;
    is_int(events(s, gray), ==, before);
    is_int(label_of(s, gray), ==, 0);
    /* Newest first works, back to the imported label. */
    ok(store_label_revert(s, ev2, &restored, NULL, &cause) == 0 &&
           restored == 2,
       "undo the newest");
    ok(store_label_revert(s, ev1, &restored, NULL, &cause) == 0 &&
           restored == 1,
       "then the one before");
    is_int(label_of(s, gray), ==, 1);
    is_int(review_of(s, gray), ==, STORE_UNREVIEWED);

    /* Inside a transaction that the caller opened, a refusal aborts it. */
    if (store_begin(s, &cause) != 0)
        bail("begin: %s", cause);
    ok(store_label_revert(s, ev1, NULL, NULL, &cause) == -1,
       "refused inside a transaction");
    free(cause);
    cause = NULL;
    ok(store_commit(s, &cause) == -1, "and the transaction is rolled back");
    free(cause);

    store_close(s);
    /* A read-only store refuses before writing. */
    if (store_open(db, STORE_READONLY, &s, &cause) != 0)
        bail("open: %s", cause);
    cause = NULL;
    ok(store_label_revert(s, ev2, NULL, NULL, &cause) == -1,
       "a read-only store refuses");
    free(cause);
    store_close(s);
    fx_rmtree(dir);
    free(dir);
    free(db);
    return done_testing();
}
