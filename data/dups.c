/* data/dups.c: near pairs by multi-index hashing, and groups.
 *
 * The search splits each 64-bit hash into m chunks and files every hash
 * under each chunk's value (m tables of 2^bits buckets, built by counting
 * sort). Two hashes at most T bits apart differ in at most r = floor(T / m)
 * bits in one chunk at least (pigeonhole: were every chunk r + 1 bits
 * apart, they would differ in m(r + 1) > T). So each hash looks in the
 * buckets of its chunk values with up to r bits flipped and checks each
 * hash found there by its full distance. With 4 chunks of 16 bits and
 * T <= 3 that is r = 0, exact chunks only; at the default T = 8 it would
 * be r = 2, 548 buckets a hash holding n / 65,536 hashes each: 91 s for a
 * million. So m is chosen for n and T by the work it costs (dups_plan_for:
 * buckets looked in, hashes found in them, tables built): at a million
 * hashes and T = 8 that is 3 chunks of 21-22 bits, r = 2, 696 buckets
 * holding half a hash each (15 s); a few thousand get smaller tables.
 *
 * A pair is reported from the first chunk within r bits only, so each once
 * without a set of pairs seen. Equal hashes (flat images, exact copies)
 * are joined before the search, which then sees each value once: a
 * thousand blank frames are one bucket entry, not half a million pairs. */
#include "config.h"

#include "data/dups.h"

#include <stdlib.h>
#include <string.h>

/* Chunks are at most this wide: a table of 2^24 offsets is 64 MiB. */
#define DUPS_MAX_CHUNK_BITS 24
#define DUPS_MAX_CHUNKS     16

typedef void (*dups_pair_fn)(void *ctx, uint32_t a, uint32_t b, int d);

struct dups_plan {
    int m, r; /* chunks; bits flipped per chunk */
    int lo[DUPS_MAX_CHUNKS], bits[DUPS_MAX_CHUNKS];
};

static uint32_t
dups_chunk(const struct dups_plan *p, uint64_t h, int c)
{
    return (uint32_t)(h >> p->lo[c]) & (((uint32_t)1 << p->bits[c]) - 1);
}

/* C(b, 0) + ... + C(b, r): the buckets looked in per chunk. */
static double
dups_probes(int b, int r)
{
    double sum = 0.0, term = 1.0;
    for (int i = 0; i <= r; i++) {
        sum += term;
        term = term * (b - i) / (i + 1);
    }
    return sum;
}

/* The chunk count of least estimated work for n hashes: per hash, the
 * buckets looked in and the hashes found there (n / 2^bits a bucket for
 * hashes spread evenly), plus building the tables. */
static void
dups_plan_for(size_t n, int threshold, struct dups_plan *p)
{
    double best = -1.0;
    memset(p, 0, sizeof *p);
    p->m = 4; /* overwritten: m = 3 always fits */
    p->r = threshold / 4;
    for (int m = 2; m <= DUPS_MAX_CHUNKS; m++) {
        int b = 64 / m + (64 % m != 0);
        if (b > DUPS_MAX_CHUNK_BITS)
            continue;
        int r = threshold / m;
        double buckets = (double)((uint64_t)1 << b);
        double probes = m * dups_probes(b, r);
        double cost =
            (double)n * probes * (1.0 + (double)n / buckets) + m * buckets;
        if (best < 0.0 || cost < best) {
            best = cost;
            p->m = m;
            p->r = r;
        }
    }
    /* 64 bits in m chunks, the first 64 % m one bit wider. */
    int at = 0;
    for (int c = 0; c < p->m; c++) {
        p->lo[c] = at;
        p->bits[c] = 64 / p->m + (c < 64 % p->m);
        at += p->bits[c];
    }
}

struct dups_masks {
    uint32_t *v;
    size_t n, cap;
};

/* Every mask of up to left more bits at or above bit from, over bits. */
static void
dups_masks_gen(struct dups_masks *ms, uint32_t cur, int from, int bits,
               int left)
{
    wn_grow(&ms->v, sizeof *ms->v, &ms->cap, ms->n + 1);
    ms->v[ms->n++] = cur;
    if (left == 0)
        return;
    for (int b = from; b < bits; b++)
        dups_masks_gen(ms, cur | (uint32_t)1 << b, b + 1, bits, left - 1);
}

/* Call fn for every pair (a < b) of hashes at most threshold bits apart;
 * the hashes need not be distinct. */
static int
dups_search(const uint64_t *h, size_t n, int threshold, dups_pair_fn fn,
            void *ctx, char **cause)
{
    if (threshold < 0 || threshold > DUPS_MAX_THRESHOLD)
        return wn_fail(cause, "threshold %d out of range (0 to %d)", threshold,
                       DUPS_MAX_THRESHOLD);
    if (n >= UINT32_MAX)
        return wn_fail(cause, "too many hashes: %zu", n);
    if (n < 2)
        return 0;
    struct dups_plan p;
    dups_plan_for(n, threshold, &p);
    struct dups_masks masks[DUPS_MAX_CHUNKS];
    uint32_t *start[DUPS_MAX_CHUNKS], *order[DUPS_MAX_CHUNKS];
    for (int c = 0; c < p.m; c++) {
        size_t nb = (size_t)1 << p.bits[c];
        memset(&masks[c], 0, sizeof masks[c]);
        dups_masks_gen(&masks[c], 0, 0, p.bits[c], p.r);
        uint32_t *st = xcalloc(nb + 1, sizeof *st);
        uint32_t *ord = xmalloc(n * sizeof *ord);
        for (size_t i = 0; i < n; i++)
            st[dups_chunk(&p, h[i], c) + 1]++;
        for (size_t v = 0; v < nb; v++)
            st[v + 1] += st[v];
        /* Filled in index order, so each bucket ascends; st[v] walks to
         * the end of bucket v, which is where bucket v + 1 starts, and is
         * moved back after. */
        for (size_t i = 0; i < n; i++)
            ord[st[dups_chunk(&p, h[i], c)]++] = (uint32_t)i;
        memmove(st + 1, st, nb * sizeof *st);
        st[0] = 0;
        start[c] = st;
        order[c] = ord;
    }

    for (size_t i = 0; i < n; i++) {
        for (int c = 0; c < p.m; c++) {
            uint32_t ci = dups_chunk(&p, h[i], c);
            const uint32_t *st = start[c], *ord = order[c];
            for (size_t k = 0; k < masks[c].n; k++) {
                uint32_t v = ci ^ masks[c].v[k];
                uint32_t lo = st[v], end = st[v + 1], hi = end;
                if (lo == end)
                    continue;
                /* Only partners after i: skip the bucket's head. */
                while (lo < hi) {
                    uint32_t mid = lo + (hi - lo) / 2;
                    if (ord[mid] <= i)
                        lo = mid + 1;
                    else
                        hi = mid;
                }
                for (uint32_t e = lo; e < end; e++) {
                    uint32_t j = ord[e];
                    uint64_t x = h[i] ^ h[j];
                    int d = __builtin_popcountll(x);
                    if (d > threshold)
                        continue;
                    /* Reported by the first chunk within r bits only. */
                    int earlier = 0;
                    for (int c2 = 0; c2 < c && !earlier; c2++)
                        earlier =
                            __builtin_popcount(dups_chunk(&p, x, c2)) <= p.r;
                    if (!earlier)
                        fn(ctx, (uint32_t)i, j, d);
                }
            }
        }
    }
    for (int c = 0; c < p.m; c++) {
        free(start[c]);
        free(order[c]);
        free(masks[c].v);
    }
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
    return dups_group_with(samples, n, threshold, NULL, 0, out, cause);
}

int
dups_group_with(const struct dups_sample *samples, size_t n, int threshold,
                const struct dups_pair *extra, size_t n_extra, struct dups *out,
                char **cause)
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
    int rc = dups_search(uniq, n_uniq, threshold, dups_join_pair, &join, cause);
    free(uniq);
    free(rep);
    if (rc != 0) {
        dups_uf_fini(&uf);
        return -1;
    }
    /* Other evidence last: a pair counts as its own only where it joins
     * what the hash and the pixels left apart. */
    unsigned char *joined = xcalloc(n_extra + 1, 1);
    for (size_t i = 0; i < n_extra; i++) {
        uint32_t a = extra[i].a, b = extra[i].b;
        if (a >= n || b >= n || dups_uf_find(&uf, a) == dups_uf_find(&uf, b))
            continue;
        dups_uf_union(&uf, a, b);
        joined[i] = 1;
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
    out->groups =
        xcalloc(out->n_groups > 0 ? out->n_groups : 1, sizeof *out->groups);
    out->members =
        xmalloc((n_members > 0 ? n_members : 1) * sizeof *out->members);
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
    for (size_t i = 0; i < n_extra; i++)
        if (joined[i])
            out->groups[out->group_of[extra[i].a] - 1].similar = 1;
    free(joined);
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
