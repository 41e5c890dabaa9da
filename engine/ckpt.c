/* engine/ckpt.c: saving and loading the trainer's state.
 *
 * One table lists the fields in their order in the file; save and load
 * both walk it, so the two cannot drift apart, and a new field is one new
 * row. A row names a member of struct ckpt_state: either the member's own
 * bytes, or, for an array, the elements its pointer points at, as many as
 * the run's shape says. */
#include "config.h"

#include "engine/ckpt.h"

#include <stdlib.h>
#include <string.h>

/* The key is FNV-1a folded over whole 64-bit words rather than bytes, and
 * its basis lost the last digit of FNV's offset basis
 * (14695981039346656037) when it was first typed. Both stay as they are:
 * every checkpoint written so far carries a key made with them. */
#define CKPT_KEY_BASIS UINT64_C(1469598103934665603)
#define CKPT_KEY_PRIME UINT64_C(1099511628211) /* FNV's 64-bit prime */

enum ckpt_count {
    CKPT_ONE,      /* the member itself */
    CKPT_PARAMS,   /* n_params elements */
    CKPT_VELOCITY, /* n_velocity elements */
    CKPT_N,        /* n */
    CKPT_NK,       /* n * k */
    CKPT_NF,       /* n * feat_dim */
};

enum ckpt_when {
    CKPT_ALWAYS,
    CKPT_IF_FOLDS,   /* folds > 1 */
    CKPT_IF_TARGET,  /* target != NULL */
    CKPT_IF_MARGINS, /* margin_sum != NULL */
};

struct ckpt_field {
    size_t offset; /* of the member in struct ckpt_state */
    size_t size;   /* bytes of one element */
    enum ckpt_count count;
    enum ckpt_when when;
};

#define CKPT_MEMBER(m) (((struct ckpt_state *)NULL)->m)
#define CKPT_VALUE(m)                                                          \
    {                                                                          \
        offsetof(struct ckpt_state, m), sizeof CKPT_MEMBER(m), CKPT_ONE,       \
            CKPT_ALWAYS                                                        \
    }
#define CKPT_ARRAY(m, count, when)                                             \
    {                                                                          \
        offsetof(struct ckpt_state, m), sizeof *CKPT_MEMBER(m), count, when    \
    }

static const struct ckpt_field ckpt_fields[] = {
    CKPT_VALUE(fold),
    CKPT_VALUE(epoch),
    CKPT_VALUE(batch),
    CKPT_VALUE(n_train),
    CKPT_VALUE(rng),
    CKPT_VALUE(loss_sum),
    CKPT_VALUE(correct),
    CKPT_VALUE(seen),
    CKPT_VALUE(images_done),
    CKPT_VALUE(gflop),
    CKPT_ARRAY(params, CKPT_PARAMS, CKPT_ALWAYS),
    CKPT_ARRAY(velocity, CKPT_VELOCITY, CKPT_ALWAYS),
    CKPT_ARRAY(order, CKPT_N, CKPT_ALWAYS),
    CKPT_ARRAY(fold_of, CKPT_N, CKPT_ALWAYS),
    /* Predictions and features exist mid-run only for finished folds;
     * one model makes them all at the end. */
    CKPT_ARRAY(probs, CKPT_NK, CKPT_IF_FOLDS),
    CKPT_ARRAY(features, CKPT_NF, CKPT_IF_FOLDS),
    CKPT_ARRAY(target, CKPT_NK, CKPT_IF_TARGET),
    CKPT_ARRAY(margin_sum, CKPT_N, CKPT_IF_MARGINS),
    CKPT_ARRAY(margin_n, CKPT_N, CKPT_IF_MARGINS),
};

uint64_t
ckpt_key(const uint64_t *v, size_t n)
{
    uint64_t h = CKPT_KEY_BASIS;
    for (size_t i = 0; i < n; i++) {
        h ^= v[i];
        h *= CKPT_KEY_PRIME;
    }
    return h;
}

static int
ckpt_present(const struct ckpt_state *st, const struct ckpt_field *f)
{
    switch (f->when) {
    case CKPT_ALWAYS: return 1;
    case CKPT_IF_FOLDS: return st->folds > 1;
    case CKPT_IF_TARGET: return st->target != NULL;
    case CKPT_IF_MARGINS: return st->margin_sum != NULL;
    }
    return 0;
}

/* Where field f's bytes are in st, and how many. */
static unsigned char *
ckpt_place(const struct ckpt_state *st, const struct ckpt_field *f,
           size_t *bytes)
{
    const unsigned char *member = (const unsigned char *)st + f->offset;
    size_t count = 0;
    switch (f->count) {
    case CKPT_ONE:
        *bytes = f->size;
        /* The caller of a load owns st, so the bytes are writable there. */
        return (unsigned char *)(uintptr_t)member;
    case CKPT_PARAMS: count = st->n_params; break;
    case CKPT_VELOCITY: count = st->n_velocity; break;
    case CKPT_N: count = (size_t)st->n; break;
    case CKPT_NK: count = (size_t)st->n * (size_t)st->k; break;
    case CKPT_NF: count = (size_t)st->n * (size_t)st->feat_dim; break;
    }
    /* Every array member is a pointer to its elements; copied out rather
     * than read through a void ** (they are float *, int32_t *...). */
    void *elems;
    memcpy(&elems, member, sizeof elems);
    *bytes = count * f->size;
    return elems;
}

struct ckpt_writer {
    unsigned char *buf;
    size_t len, cap;
};

static void
ckpt_put(struct ckpt_writer *w, const void *p, size_t n)
{
    wn_grow(&w->buf, 1, &w->cap, w->len + n);
    memcpy(w->buf + w->len, p, n);
    w->len += n;
}

struct ckpt_reader {
    const unsigned char *p;
    size_t left;
};

static int
ckpt_get(struct ckpt_reader *r, void *out, size_t n)
{
    if (r->left < n)
        return -1;
    memcpy(out, r->p, n);
    r->p += n;
    r->left -= n;
    return 0;
}

void
ckpt_save(const struct ckpt_state *st, void **out, size_t *len)
{
    struct ckpt_writer w = {0};
    ckpt_put(&w, CKPT_MAGIC, CKPT_MAGIC_LEN);
    ckpt_put(&w, &st->key, sizeof st->key);
    for (size_t i = 0; i < WN_ARRAY_LEN(ckpt_fields); i++) {
        const struct ckpt_field *f = &ckpt_fields[i];
        size_t bytes;
        if (!ckpt_present(st, f))
            continue;
        const unsigned char *at = ckpt_place(st, f, &bytes);
        ckpt_put(&w, at, bytes);
    }
    *out = w.buf;
    *len = w.len;
}

/* Whether the position read is one this run can be at. */
static int
ckpt_position_ok(const struct ckpt_state *st)
{
    if (st->fold < 0 || st->fold >= st->folds || st->epoch < 0 ||
        st->epoch >= st->epochs || st->batch < 0 || st->n_train < 0 ||
        st->n_train > st->n)
        return 0;
    for (int64_t i = 0; i < st->n_train; i++)
        if (st->order[i] < 0 || st->order[i] >= st->n)
            return 0;
    return 1;
}

int
ckpt_load(struct ckpt_state *st, const void *blob, size_t len, char **cause)
{
    struct ckpt_reader r = {blob, len};
    char magic[CKPT_MAGIC_LEN];
    uint64_t key;
    if (ckpt_get(&r, magic, sizeof magic) != 0 ||
        memcmp(magic, CKPT_MAGIC, sizeof magic) != 0)
        return wn_fail(cause, "checkpoint: not a winnow checkpoint");
    if (ckpt_get(&r, &key, sizeof key) != 0 || key != st->key)
        return wn_fail(cause, "checkpoint: made for other samples or "
                              "settings");
    for (size_t i = 0; i < WN_ARRAY_LEN(ckpt_fields); i++) {
        const struct ckpt_field *f = &ckpt_fields[i];
        size_t bytes;
        if (!ckpt_present(st, f))
            continue;
        unsigned char *at = ckpt_place(st, f, &bytes);
        if (ckpt_get(&r, at, bytes) != 0)
            return wn_fail(cause, "checkpoint: truncated or damaged");
    }
    if (r.left != 0 || !ckpt_position_ok(st))
        return wn_fail(cause, "checkpoint: truncated or damaged");
    return 0;
}
