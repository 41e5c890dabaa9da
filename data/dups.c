/* data/dups.c: near pairs by multi-index hashing, and groups.
 *
 * The search splits each 64-bit hash into 4 chunks of 16 bits and files
 * every hash under each chunk's value (4 tables of 65,536 buckets, built
 * by counting sort). Two hashes at most T bits apart differ in at most
 * floor(T / 4) bits in one chunk at least (pigeonhole: were every chunk
 * r + 1 bits apart, they would differ in 4r + 4 > T). So each hash looks in
 * the buckets of its chunk values with up to r = floor(T / 4) bits flipped
 * (1, 17, 137 buckets a chunk for r = 0, 1, 2) and checks each hash found
 * there by its full distance. At T = 8 that is 548 buckets a hash, about
 * 8 of 1,000,000 random hashes each: linear in n while the buckets stay
 * small. More, smaller chunks would need fewer flips but fill each bucket
 * with n / 2^bits hashes, which costs more than the flips at a million
 * samples; 16 bits is where the two balance (BENCHMARKS.md).
 *
 * A pair is reported from the first chunk within r bits only, so each once
 * without a set of pairs seen. Equal hashes (flat images, exact copies)
 * are joined before the search, which then sees each value once: a
 * thousand blank frames are one bucket entry, not a million pairs. */
#include "config.h"

#include "data/dups.h"

#include <stdlib.h>
#include <string.h>

#define DUPS_CHUNKS     4
#define DUPS_CHUNK_BITS 16
#define DUPS_BUCKETS    (1u << DUPS_CHUNK_BITS)

typedef void (*dups_pair_fn)(void *ctx, uint32_t a, uint32_t b, int d);

static unsigned
dups_chunk(uint64_t h, int c)
{
    return (unsigned)(h >> (DUPS_CHUNK_BITS * c)) & (DUPS_BUCKETS - 1);
}

/* Call fn for every pair (a < b) of hashes at most threshold bits apart;
 * the hashes need not be distinct. */
static int
dups_search(const uint64_t *h, size_t n, int threshold, dups_pair_fn fn,
            void *ctx, char **cause)
{
    if (threshold < 0 || threshold > DUPS_MAX_THRESHOLD)
        return wn_fail(cause, "threshold %d out of range (0 to %d)",
                       threshold, DUPS_MAX_THRESHOLD);
    if (n > UINT32_MAX)
        return wn_fail(cause, "too many hashes: %zu", n);
    if (n < 2)
        return 0;
    int r = threshold / DUPS_CHUNKS;
    /* The chunk masks of up to r bits, fewest first. */
    size_t n_masks = 0;
    uint16_t *masks = xmalloc(DUPS_BUCKETS * sizeof *masks);
    for (int bits = 0; bits <= r; bits++)
        for (uint32_t m = 0; m < DUPS_BUCKETS; m++)
            if (__builtin_popcount(m) == bits)
                masks[n_masks++] = (uint16_t)m;

    uint32_t *start[DUPS_CHUNKS], *order[DUPS_CHUNKS];
    for (int c = 0; c < DUPS_CHUNKS; c++) {
        uint32_t *st = xcalloc(DUPS_BUCKETS + 1, sizeof *st);
        uint32_t *ord = xmalloc(n * sizeof *ord);
        for (size_t i = 0; i < n; i++)
            st[dups_chunk(h[i], c) + 1]++;
        for (uint32_t v = 0; v < DUPS_BUCKETS; v++)
            st[v + 1] += st[v];
        /* Filled in index order: each bucket ascends. */
        uint32_t *fill = xmalloc(DUPS_BUCKETS * sizeof *fill);
        memcpy(fill, st, DUPS_BUCKETS * sizeof *fill);
        for (size_t i = 0; i < n; i++)
            ord[fill[dups_chunk(h[i], c)]++] = (uint32_t)i;
        free(fill);
        start[c] = st;
        order[c] = ord;
    }

    for (size_t i = 0; i < n; i++) {
        for (int c = 0; c < DUPS_CHUNKS; c++) {
            unsigned ci = dups_chunk(h[i], c);
            for (size_t k = 0; k < n_masks; k++) {
                unsigned v = ci ^ masks[k];
                uint32_t lo = start[c][v], hi = start[c][v + 1];
                /* Only partners after i: skip the bucket's head. */
                while (lo < hi) {
                    uint32_t mid = lo + (hi - lo) / 2;
                    if (order[c][mid] <= i)
                        lo = mid + 1;
                    else
                        hi = mid;
                }
                for (uint32_t e = lo; e < start[c][v + 1]; e++) {
                    uint32_t j = order[c][e];
                    uint64_t x = h[i] ^ h[j];
                    int d = __builtin_popcountll(x);
                    if (d > threshold)
                        continue;
                    int earlier = 0;
                    for (int c2 = 0; c2 < c && !earlier; c2++)
                        earlier = __builtin_popcount(dups_chunk(x, c2)) <= r;
                    if (!earlier)
                        fn(ctx, (uint32_t)i, j, d);
                }
            }
        }
    }
    for (int c = 0; c < DUPS_CHUNKS; c++) {
        free(start[c]);
        free(order[c]);
    }
    free(masks);
    return 0;
}

struct dups_pair_list {
    struct dups_pair *v;
    size_t n, cap;
};

static void
dups_collect(void *ctx, uint32_t a, uint32_t b, int d)
{
    struct dups_pair_list *l = ctx;
    wn_grow(&l->v, sizeof *l->v, &l->cap, l->n + 1);
    l->v[l->n++] = (struct dups_pair){.a = a, .b = b, .distance = d};
}

static int
dups_pair_cmp(const void *pa, const void *pb)
{
    const struct dups_pair *a = pa, *b = pb;
    if (a->a != b->a)
        return a->a < b->a ? -1 : 1;
    return (a->b > b->b) - (a->b < b->b);
}

int
dups_pairs(const uint64_t *hashes, size_t n, int threshold,
           struct dups_pair **out, size_t *n_out, char **cause)
{
    struct dups_pair_list l = {0};
    *out = NULL;
    *n_out = 0;
    if (dups_search(hashes, n, threshold, dups_collect, &l, cause) != 0) {
        free(l.v);
        return -1;
    }
    if (l.n > 1)
        qsort(l.v, l.n, sizeof *l.v, dups_pair_cmp);
    *out = l.v;
    *n_out = l.n;
    return 0;
}

/* ---- union-find ---- */

void
dups_uf_init(struct dups_uf *uf, size_t n)
{
    uf->n = n;
    uf->parent = xmalloc((n > 0 ? n : 1) * sizeof *uf->parent);
    for (size_t i = 0; i < n; i++)
        uf->parent[i] = (uint32_t)i;
}

void
dups_uf_fini(struct dups_uf *uf)
{
    free(uf->parent);
    uf->parent = NULL;
    uf->n = 0;
}

uint32_t
dups_uf_find(struct dups_uf *uf, uint32_t x)
{
    /* Path halving: every other node on the way points to its
     * grandparent, so paths stay short without a second pass. */
    while (uf->parent[x] != x) {
        uf->parent[x] = uf->parent[uf->parent[x]];
        x = uf->parent[x];
    }
    return x;
}

void
dups_uf_union(struct dups_uf *uf, uint32_t a, uint32_t b)
{
    a = dups_uf_find(uf, a);
    b = dups_uf_find(uf, b);
    /* The smaller index roots the set: the group's first sample. */
    if (a < b)
        uf->parent[b] = a;
    else if (b < a)
        uf->parent[a] = b;
}

/* ---- groups ---- */

struct dups_keyed {
    uint64_t hash;
    uint32_t index;
};

static int
dups_keyed_cmp(const void *pa, const void *pb)
{
    const struct dups_keyed *a = pa, *b = pb;
    if (a->hash != b->hash)
        return a->hash < b->hash ? -1 : 1;
    return (a->index > b->index) - (a->index < b->index);
}

struct dups_join {
    struct dups_uf *uf;
    const uint32_t *rep; /* distinct hash -> a sample with it */
};

static void
dups_join_pair(void *ctx, uint32_t a, uint32_t b, int d)
{
    struct dups_join *j = ctx;
    (void)d;
    dups_uf_union(j->uf, j->rep[a], j->rep[b]);
}

int
dups_group(const struct dups_sample *samples, size_t n, int threshold,
           struct dups *out, char **cause)
{
    memset(out, 0, sizeof *out);
    if (n > UINT32_MAX)
        return wn_fail(cause, "too many samples: %zu", n);
    struct dups_uf uf;
    dups_uf_init(&uf, n);
    for (size_t i = 0; i < n; i++) {
        uint32_t e = samples[i].exact;
        if (e < n && e != i)
            dups_uf_union(&uf, (uint32_t)i, e);
    }

    /* Equal hashes joined here; the search sees each value once. */
    struct dups_keyed *k = xmalloc((n > 0 ? n : 1) * sizeof *k);
    for (size_t i = 0; i < n; i++)
        k[i] = (struct dups_keyed){samples[i].phash, (uint32_t)i};
    qsort(k, n, sizeof *k, dups_keyed_cmp);
    uint64_t *uniq = xmalloc((n > 0 ? n : 1) * sizeof *uniq);
    uint32_t *rep = xmalloc((n > 0 ? n : 1) * sizeof *rep);
    size_t n_uniq = 0;
    for (size_t i = 0; i < n; i++) {
        if (n_uniq > 0 && uniq[n_uniq - 1] == k[i].hash) {
            dups_uf_union(&uf, rep[n_uniq - 1], k[i].index);
            continue;
        }
        uniq[n_uniq] = k[i].hash;
        rep[n_uniq++] = k[i].index;
    }
    free(k);
    struct dups_join join = {&uf, rep};
    int rc = dups_search(uniq, n_uniq, threshold, dups_join_pair, &join,
                         cause);
    free(uniq);
    free(rep);
    if (rc != 0) {
        dups_uf_fini(&uf);
        return -1;
    }

    /* Sizes by root, then ids in order of the roots (first members). */
    uint32_t *size = xcalloc(n > 0 ? n : 1, sizeof *size);
    for (size_t i = 0; i < n; i++)
        size[dups_uf_find(&uf, (uint32_t)i)]++;
    out->group_of = xcalloc(n > 0 ? n : 1, sizeof *out->group_of);
    out->n_samples = n;
    size_t n_members = 0;
    for (size_t i = 0; i < n; i++)
        if (dups_uf_find(&uf, (uint32_t)i) == i && size[i] >= 2) {
            out->n_groups++;
            n_members += size[i];
        }
    out->groups = xcalloc(out->n_groups > 0 ? out->n_groups : 1,
                          sizeof *out->groups);
    out->members = xmalloc((n_members > 0 ? n_members : 1) *
                           sizeof *out->members);
    size_t g = 0, at = 0;
    for (size_t i = 0; i < n; i++) {
        if (dups_uf_find(&uf, (uint32_t)i) != i || size[i] < 2)
            continue;
        struct dups_group *gr = &out->groups[g];
        gr->id = (int64_t)(g + 1);
        gr->first = at;
        at += size[i];
        out->group_of[i] = gr->id;
        g++;
    }
    /* Members in ascending order: the walk goes by index. */
    for (size_t i = 0; i < n; i++) {
        uint32_t root = dups_uf_find(&uf, (uint32_t)i);
        int64_t id = out->group_of[root];
        if (size[root] < 2)
            continue;
        struct dups_group *gr = &out->groups[id - 1];
        out->members[gr->first + gr->n++] = (uint32_t)i;
        out->group_of[i] = id;
    }
    for (size_t gi = 0; gi < out->n_groups; gi++) {
        struct dups_group *gr = &out->groups[gi];
        const struct dups_sample *first = &samples[out->members[gr->first]];
        int split = -1;
        for (size_t m = 0; m < gr->n; m++) {
            uint32_t i = out->members[gr->first + m];
            const struct dups_sample *sm = &samples[i];
            if (sm->label != first->label)
                gr->conflict = 1;
            if (sm->exact != i)
                gr->exact = 1;
            if (sm->exact != first->exact)
                gr->near = 1;
            if (sm->split >= 0) {
                if (split >= 0 && sm->split != split)
                    gr->leak = 1;
                split = sm->split;
            }
        }
        out->n_conflicts += (size_t)gr->conflict;
        out->n_leaks += (size_t)gr->leak;
    }
    free(size);
    dups_uf_fini(&uf);
    return 0;
}

void
dups_fini(struct dups *d)
{
    if (d == NULL)
        return;
    free(d->groups);
    free(d->members);
    free(d->group_of);
    memset(d, 0, sizeof *d);
}
