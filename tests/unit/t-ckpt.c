/* t-ckpt: the trainer's checkpoint (engine/ckpt.c).
 *
 * A state full of distinct values is saved and loaded into a second one
 * of the same shape, and every field compared; for both kinds of run
 * (one model, which keeps targets and margins; folds, which keep the
 * finished folds' predictions). The bytes are checked against the layout
 * written out here by hand, the one train.c wrote before the table
 * existed, so a checkpoint of an interrupted run still loads after an
 * upgrade. Then every way a blob can be wrong: magic, key, each
 * truncation, a byte too many, a position this run cannot be at. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "engine/ckpt.h"
#include "engine/rng.h"
#include "tests/tap.h"

enum { N = 7, K = 3, FEAT = 5, NPARAMS = 40, NVEL = 33 };

/* A state and the arrays it points at. */
struct fixture {
    struct ckpt_state st;
    float params[NPARAMS], velocity[NVEL];
    int32_t order[N], fold_of[N];
    float probs[N * K], features[N * FEAT], target[N * K];
    double margin_sum[N];
    int32_t margin_n[N];
};

/* The shape of a run with folds (1: one model), its arrays pointed at. */
static void
fixture_init(struct fixture *f, int folds)
{
    memset(f, 0, sizeof *f);
    struct ckpt_state *s = &f->st;
    s->n = N;
    s->k = K;
    s->folds = folds;
    s->epochs = 4;
    s->feat_dim = FEAT;
    s->key = UINT64_C(0x0123456789abcdef) + (uint64_t)folds;
    s->params = f->params;
    s->n_params = NPARAMS;
    s->velocity = f->velocity;
    s->n_velocity = NVEL;
    s->order = f->order;
    s->fold_of = f->fold_of;
    s->probs = f->probs;
    s->features = f->features;
    if (folds == 1) {
        s->target = f->target;
        s->margin_sum = f->margin_sum;
        s->margin_n = f->margin_n;
    }
}

/* Distinct values in every field a save writes. */
static void
fixture_fill(struct fixture *f, uint64_t seed)
{
    struct ckpt_state *s = &f->st;
    struct rng r;
    rng_seed(&r, seed);
    s->fold = s->folds - 1;
    s->epoch = 2;
    s->batch = 3;
    s->n_train = N - 1;
    rng_seed(&s->rng, seed + 100);
    s->loss_sum = 12.5 + (double)seed;
    s->correct = 17.0;
    s->seen = 23;
    s->images_done = 1234567;
    s->gflop = 0.75;
    for (int i = 0; i < NPARAMS; i++)
        f->params[i] = rng_normal(&r);
    for (int i = 0; i < NVEL; i++)
        f->velocity[i] = rng_normal(&r);
    int perm[N];
    rng_permutation(&r, perm, N);
    for (int i = 0; i < N; i++) {
        f->order[i] = perm[i];
        f->fold_of[i] = (int32_t)rng_below(&r, (uint32_t)s->folds);
        f->margin_sum[i] = (double)rng_normal(&r);
        f->margin_n[i] = (int32_t)rng_below(&r, 5);
    }
    for (int i = 0; i < N * K; i++) {
        f->probs[i] = rng_uniform(&r);
        f->target[i] = rng_uniform(&r);
    }
    for (int i = 0; i < N * FEAT; i++)
        f->features[i] = rng_normal(&r);
}

#define SAME(field) (memcmp(&a->field, &b->field, sizeof a->field) == 0)
#define SAME_ARRAY(field, count)                                               \
    (memcmp(a->field, b->field, (size_t)(count) * sizeof *a->field) == 0)

/* Every field a checkpoint holds, compared one by one. */
static void
compare_states(const struct ckpt_state *a, const struct ckpt_state *b,
               const char *what)
{
    ok(SAME(fold) && SAME(epoch) && SAME(batch) && SAME(n_train),
       "%s: the position (fold, epoch, batch, n_train)", what);
    ok(SAME(rng), "%s: the generator's state", what);
    ok(SAME(loss_sum) && SAME(correct) && SAME(seen), "%s: the epoch's sums",
       what);
    ok(SAME(images_done) && SAME(gflop), "%s: the job's counts", what);
    ok(SAME_ARRAY(params, a->n_params), "%s: the parameters", what);
    ok(SAME_ARRAY(velocity, a->n_velocity), "%s: the velocity", what);
    ok(SAME_ARRAY(order, a->n) && SAME_ARRAY(fold_of, a->n),
       "%s: the order and the folds", what);
    if (a->folds > 1)
        ok(SAME_ARRAY(probs, a->n * a->k) &&
               SAME_ARRAY(features, a->n * a->feat_dim),
           "%s: the finished folds' predictions and features", what);
    if (a->target != NULL)
        ok(SAME_ARRAY(target, a->n * a->k), "%s: the ELR targets", what);
    if (a->margin_sum != NULL)
        ok(SAME_ARRAY(margin_sum, a->n) && SAME_ARRAY(margin_n, a->n),
           "%s: the margin sums and counts", what);
}

static void
test_round_trip(int folds, const char *what)
{
    struct fixture *a = calloc(1, sizeof *a), *b = calloc(1, sizeof *b);
    char *cause = NULL;
    void *blob;
    size_t len;
    if (a == NULL || b == NULL)
        bail("out of memory");
    fixture_init(a, folds);
    fixture_fill(a, 7);
    fixture_init(b, folds);
    ckpt_save(&a->st, &blob, &len);
    int rc = ckpt_load(&b->st, blob, len, &cause);
    ok(rc == 0, "%s: the checkpoint loads (%s)", what,
       cause != NULL ? cause : "no cause");
    compare_states(&a->st, &b->st, what);
    /* Arrays a run of this kind does not save keep what they had. */
    if (folds == 1)
        ok(b->probs[0] == 0.0f && b->features[0] == 0.0f,
           "%s: predictions are not in a one-model checkpoint", what);
    else
        ok(b->target[0] == 0.0f && b->margin_n[0] == 0,
           "%s: targets and margins are not in a folds checkpoint", what);

    /* Saving the loaded state gives the same bytes. */
    void *again;
    size_t len2;
    ckpt_save(&b->st, &again, &len2);
    ok(len2 == len && memcmp(again, blob, len) == 0,
       "%s: saving what was loaded gives the same %zu bytes", what, len);
    free(again);
    free(blob);
    free(cause);
    free(a);
    free(b);
}

/* The layout train.c has written since WNCKPT02, spelt out by hand. */
struct expect {
    unsigned char buf[4096];
    size_t len;
};

static void
put(struct expect *e, const void *p, size_t n)
{
    if (e->len + n > sizeof e->buf)
        bail("expected layout overflows");
    memcpy(e->buf + e->len, p, n);
    e->len += n;
}

static void
test_layout(int folds, const char *what)
{
    struct fixture *f = calloc(1, sizeof *f);
    struct expect *e = calloc(1, sizeof *e);
    if (f == NULL || e == NULL)
        bail("out of memory");
    fixture_init(f, folds);
    fixture_fill(f, 11);
    const struct ckpt_state *s = &f->st;
    int64_t hdr[4] = {s->fold, s->epoch, s->batch, s->n_train};
    put(e, "WNCKPT02", 8);
    put(e, &s->key, 8);
    put(e, hdr, sizeof hdr);
    put(e, s->rng.s, 16);
    put(e, &s->loss_sum, 8);
    put(e, &s->correct, 8);
    put(e, &s->seen, 8);
    put(e, &s->images_done, 8);
    put(e, &s->gflop, 8);
    put(e, f->params, sizeof f->params);
    put(e, f->velocity, sizeof f->velocity);
    put(e, f->order, sizeof f->order);
    put(e, f->fold_of, sizeof f->fold_of);
    if (folds > 1) {
        put(e, f->probs, sizeof f->probs);
        put(e, f->features, sizeof f->features);
    } else {
        put(e, f->target, sizeof f->target);
        put(e, f->margin_sum, sizeof f->margin_sum);
        put(e, f->margin_n, sizeof f->margin_n);
    }
    void *blob;
    size_t len;
    ckpt_save(s, &blob, &len);
    ok(len == e->len && memcmp(blob, e->buf, len) == 0,
       "%s: the bytes are the WNCKPT02 layout (%zu of %zu bytes)", what, len,
       e->len);

    /* And a blob made by hand in that layout loads. */
    struct fixture *g = calloc(1, sizeof *g);
    char *cause = NULL;
    if (g == NULL)
        bail("out of memory");
    fixture_init(g, folds);
    ok(ckpt_load(&g->st, e->buf, e->len, &cause) == 0,
       "%s: a blob in that layout loads (%s)", what,
       cause != NULL ? cause : "no cause");
    compare_states(s, &g->st, what);
    free(cause);
    free(blob);
    free(g);
    free(e);
    free(f);
}

/* Load blob into a fresh state of the fixture's shape; returns the cause
 * (caller frees), or NULL if it loaded. */
static char *
load_fails(int folds, const void *blob, size_t len)
{
    struct fixture *f = calloc(1, sizeof *f);
    char *cause = NULL;
    if (f == NULL)
        bail("out of memory");
    fixture_init(f, folds);
    if (ckpt_load(&f->st, blob, len, &cause) == 0) {
        free(cause);
        cause = NULL;
    } else if (cause == NULL) {
        cause = xstrdup("(failed without a cause)");
    }
    free(f);
    return cause;
}

static int
mentions(const char *cause, const char *want)
{
    return cause != NULL && strstr(cause, want) != NULL;
}

static void
test_damage(void)
{
    struct fixture *f = calloc(1, sizeof *f);
    if (f == NULL)
        bail("out of memory");
    fixture_init(f, 1);
    fixture_fill(f, 3);
    unsigned char *blob;
    void *raw;
    size_t len;
    ckpt_save(&f->st, &raw, &len);
    blob = raw;
    unsigned char *copy = malloc(len + 1);
    if (copy == NULL)
        bail("out of memory");

    char *c = load_fails(1, blob, len);
    ok(c == NULL, "the intact blob loads");
    free(c);

    memcpy(copy, blob, len);
    copy[0] ^= 1;
    c = load_fails(1, copy, len);
    ok(mentions(c, "not a winnow checkpoint"), "a wrong magic: %s", c);
    free(c);

    memcpy(copy, blob, len);
    copy[CKPT_MAGIC_LEN] ^= 1;
    c = load_fails(1, copy, len);
    ok(mentions(c, "other samples or settings"), "another run's key: %s", c);
    free(c);
    /* The same blob for a run with folds has another key too. */
    c = load_fails(3, blob, len);
    ok(mentions(c, "other samples or settings"),
       "a folds run refuses a one-model checkpoint: %s", c);
    free(c);

    int all_refused = 1;
    for (size_t cut = 0; cut < len; cut++) {
        c = load_fails(1, blob, cut);
        all_refused &= c != NULL;
        free(c);
    }
    ok(all_refused, "every truncation (0 to %zu bytes) is refused", len - 1);

    memcpy(copy, blob, len);
    copy[len] = 0;
    c = load_fails(1, copy, len + 1);
    ok(mentions(c, "truncated or damaged"), "a byte too many: %s", c);
    free(c);

    /* Positions this run cannot be at: each header field in turn. */
    static const struct {
        int field;
        int64_t value;
        const char *what;
    } bad[] = {
        {0, 1, "fold past the folds"},
        {0, -1, "negative fold"},
        {1, 4, "epoch past the epochs"},
        {2, -1, "negative batch"},
        {3, N + 1, "more training samples than samples"},
    };
    for (size_t i = 0; i < WN_ARRAY_LEN(bad); i++) {
        memcpy(copy, blob, len);
        memcpy(copy + CKPT_MAGIC_LEN + 8 + 8 * (size_t)bad[i].field,
               &bad[i].value, 8);
        c = load_fails(1, copy, len);
        ok(mentions(c, "truncated or damaged"), "%s: %s", bad[i].what, c);
        free(c);
    }
    /* An order entry out of range; order follows the 40 bytes of sums and
     * counts and the two model blocks. */
    size_t at = CKPT_MAGIC_LEN + 8 + 32 + 16 + 40 + sizeof f->params +
                sizeof f->velocity;
    int32_t wild = N;
    memcpy(copy, blob, len);
    memcpy(copy + at, &wild, sizeof wild);
    c = load_fails(1, copy, len);
    ok(mentions(c, "truncated or damaged"), "a sample index past N: %s", c);
    free(c);

    free(copy);
    free(raw);
    free(f);
}

static void
test_key(void)
{
    uint64_t v[] = {100, 10, 1, 15, 128, 1, 5000, 1};
    uint64_t w[] = {100, 10, 1, 15, 128, 2, 5000, 1};
    /* By hand: h = basis; for each word h = (h ^ word) * prime. */
    uint64_t h = UINT64_C(1469598103934665603);
    for (size_t i = 0; i < WN_ARRAY_LEN(v); i++)
        h = (h ^ v[i]) * UINT64_C(1099511628211);
    ok(ckpt_key(v, WN_ARRAY_LEN(v)) == h,
       "the key is the one every checkpoint so far carries");
    ok(ckpt_key(v, WN_ARRAY_LEN(v)) != ckpt_key(w, WN_ARRAY_LEN(w)),
       "another seed, another key");
}

int
main(void)
{
    test_round_trip(1, "one model");
    test_round_trip(3, "three folds");
    test_layout(1, "one model");
    test_layout(3, "three folds");
    test_damage();
    test_key();
    return done_testing();
}
