/* engine/ivf.c: the neighbour search behind ivf.h.
 *
 * Large sets: spherical k-means on a seeded sample of the rows gives the
 * lists' centres; every row goes to the list of its nearest centre; the
 * rows are copied list by list so that a list is one contiguous matrix.
 * A set up to exact_max rows is one list that every row searches, which
 * is brute force through the same code.
 *
 * The search takes the rows a list at a time, in blocks of IVF_BLOCK: one
 * product against the centres picks each row's probed lists, then for each
 * list that any row of the block probes, the rows that probe it are
 * multiplied by it in one product. Each row keeps its k best in a small
 * sorted array ordered by similarity, then row index, so the answer is
 * the same whatever order the candidates come in. Blocks are dealt from a
 * shared counter (lists differ in size, so a fixed deal would leave members
 * idle), which changes who does a block but not what it computes: the
 * blocks and their products are fixed by the rows and the settings. */
#include "config.h"

#include "engine/ivf.h"

#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "engine/gemm.h"
#include "engine/par.h"
#include "engine/rng.h"

#define IVF_BLOCK          128 /* rows per product */
#define IVF_MAX_K          256
/* Brute force up to here: 30,000^2 * 64 products take ~2 s on two cores,
 * and the answer is then exact. */
#define IVF_EXACT_MAX      30000
/* k-means sees this many rows per list (enough to place a centre, few
 * enough that training costs less than one pass over the set) and runs
 * this many rounds; the search corrects what the centres get wrong. */
#define IVF_TRAIN_PER_LIST 64
#define IVF_ROUNDS         10
#define IVF_MAX_PROBES     1024
/* Columns of one product: 128 x 8192 similarities, 4 MiB of scratch. */
#define IVF_COLUMNS        8192

void
ivf_config_default(struct ivf_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->exact_max = IVF_EXACT_MAX;
    cfg->seed = 1;
}

/* The lists: their centres and, list by list, the rows and their
 * features. */
struct ivf_index {
    int dim, lists;
    float *centre; /* (lists, dim), unit length or zero */
    int64_t
        *start;   /* (lists + 1): list l holds places [start[l], start[l+1]) */
    int32_t *row; /* (n): the row at each place */
    const float *x; /* (n, dim): the rows in place order */
    float *own_x;   /* x when it is a copy, else NULL */
    int64_t largest;
};

/* A product of blocks of rows against the centres, keeping each row's best
 * centre (ties to the lower list). */
struct ivf_assign_job {
    const float *x;
    int64_t n;
    const struct ivf_index *ix;
    int32_t *home;
    float *home_sim; /* or NULL */
    float **scratch;
};

static int
ivf_best(const float *s, int lists, float *best_out)
{
    int best = 0;
    for (int l = 1; l < lists; l++)
        if (s[l] > s[best])
            best = l;
    *best_out = s[best];
    return best;
}

static void
ivf_assign_member(void *ctx, int t, int threads)
{
    const struct ivf_assign_job *j = ctx;
    int dim = j->ix->dim, lists = j->ix->lists;
    int64_t blocks = (j->n + IVF_BLOCK - 1) / IVF_BLOCK;
    for (int64_t b = t; b < blocks; b += threads) {
        int64_t r0 = b * IVF_BLOCK;
        int qn = (int)(j->n - r0 < IVF_BLOCK ? j->n - r0 : IVF_BLOCK);
        float *sim = j->scratch[t];
        gemm_nt(qn, lists, dim, 1.0f, j->x + (size_t)r0 * (size_t)dim,
                j->ix->centre, 0.0f, sim);
        for (int q = 0; q < qn; q++) {
            float s;
            j->home[r0 + q] = ivf_best(sim + (size_t)q * lists, lists, &s);
            if (j->home_sim != NULL)
                j->home_sim[r0 + q] = s;
        }
    }
}

static void
ivf_assign(struct par *team, float **scratch, const struct ivf_index *ix,
           const float *x, int64_t n, int32_t *home, float *home_sim)
{
    struct ivf_assign_job job = {x, n, ix, home, home_sim, scratch};
    par_run(team, ivf_assign_member, &job);
}

static void
ivf_unit(float *v, int dim)
{
    double norm = 0;
    for (int d = 0; d < dim; d++)
        norm += (double)v[d] * (double)v[d];
    float scale = norm > 0 ? (float)(1.0 / sqrt(norm)) : 0.0f;
    for (int d = 0; d < dim; d++)
        v[d] *= scale;
}

/* Spherical k-means on a seeded sample: centres start at sampled rows;
 * each round moves a centre to the normalised sum of its rows. A list left
 * empty takes the sampled row its centre fits worst, so no list is
 * wasted. Sums are taken in sample order on one thread: the same centres
 * for any team. */
static void
ivf_train(struct ivf_index *ix, const float *x, int64_t n, uint64_t seed,
          struct par *team, float **scratch)
{
    int dim = ix->dim, lists = ix->lists;
    int64_t t_n = (int64_t)lists * IVF_TRAIN_PER_LIST;
    if (t_n > n)
        t_n = n;
    int32_t *pick = xmalloc((size_t)n * sizeof *pick);
    for (int64_t i = 0; i < n; i++)
        pick[i] = (int32_t)i;
    struct rng rng;
    rng_seed(&rng, seed);
    for (int64_t i = 0; i < t_n; i++) {
        int64_t r = i + (int64_t)rng_below(&rng, (uint32_t)(n - i));
        int32_t tmp = pick[i];
        pick[i] = pick[r];
        pick[r] = tmp;
    }
    float *tx = xmalloc((size_t)t_n * (size_t)dim * sizeof *tx);
    for (int64_t i = 0; i < t_n; i++)
        memcpy(tx + (size_t)i * dim, x + (size_t)pick[i] * dim,
               (size_t)dim * sizeof *tx);
    free(pick);
    memcpy(ix->centre, tx, (size_t)lists * (size_t)dim * sizeof *tx);

    int32_t *home = xmalloc((size_t)t_n * sizeof *home);
    float *fit = xmalloc((size_t)t_n * sizeof *fit);
    double *sum = xmalloc((size_t)lists * (size_t)dim * sizeof *sum);
    int64_t *count = xmalloc((size_t)lists * sizeof *count);
    for (int round = 0; round < IVF_ROUNDS; round++) {
        ivf_assign(team, scratch, ix, tx, t_n, home, fit);
        memset(sum, 0, (size_t)lists * (size_t)dim * sizeof *sum);
        memset(count, 0, (size_t)lists * sizeof *count);
        for (int64_t i = 0; i < t_n; i++) {
            double *s = sum + (size_t)home[i] * dim;
            const float *v = tx + (size_t)i * dim;
            for (int d = 0; d < dim; d++)
                s[d] += (double)v[d];
            count[home[i]]++;
        }
        for (int l = 0; l < lists; l++) {
            float *c = ix->centre + (size_t)l * dim;
            if (count[l] > 0) {
                for (int d = 0; d < dim; d++)
                    c[d] = (float)sum[(size_t)l * dim + d];
                ivf_unit(c, dim);
                continue;
            }
            int64_t worst = 0;
            for (int64_t i = 1; i < t_n; i++)
                if (fit[i] < fit[worst])
                    worst = i;
            memcpy(c, tx + (size_t)worst * dim, (size_t)dim * sizeof *c);
            fit[worst] = INFINITY; /* not taken twice */
        }
    }
    free(count);
    free(sum);
    free(fit);
    free(home);
    free(tx);
}

/* Place every row in its list: a counting sort by list, row order within
 * a list. */
static void
ivf_fill(struct ivf_index *ix, const float *x, int64_t n, const int32_t *home)
{
    int dim = ix->dim;
    for (int64_t i = 0; i < n; i++)
        ix->start[home[i] + 1]++;
    for (int l = 0; l < ix->lists; l++) {
        if (ix->start[l + 1] > ix->largest)
            ix->largest = ix->start[l + 1];
        ix->start[l + 1] += ix->start[l];
    }
    int64_t *fill = xmalloc((size_t)ix->lists * sizeof *fill);
    memcpy(fill, ix->start, (size_t)ix->lists * sizeof *fill);
    for (int64_t i = 0; i < n; i++) {
        int64_t at = fill[home[i]]++;
        ix->row[at] = (int32_t)i;
        memcpy(ix->own_x + (size_t)at * dim, x + (size_t)i * dim,
               (size_t)dim * sizeof *ix->own_x);
    }
    free(fill);
}

/* The search's shared state. */
struct ivf_search_job {
    const struct ivf_index *ix;
    int k, probes;
    int64_t units;
    const int32_t *unit_list; /* (units): the list of each block */
    const int64_t *unit_from; /* (units): its first place */
    atomic_llong next;        /* the next block to take */
    float **scratch;
    int32_t *nbr;
    float *sim; /* or NULL */
};

struct ivf_scratch_layout {
    size_t sub, csim, sim, best_sim, best_row, probe, sel, mark, total;
};

/* One allocation per member, carved in this order (floats first, then
 * 32-bit ints, then bytes, so every part stays aligned). */
static struct ivf_scratch_layout
ivf_layout(const struct ivf_index *ix, int k, int probes)
{
    struct ivf_scratch_layout s;
    size_t at = 0, b = IVF_BLOCK;
    s.sub = at, at += b * (size_t)ix->dim;
    s.csim = at, at += b * (size_t)ix->lists;
    size_t cols =
        (size_t)(ix->largest < IVF_COLUMNS ? ix->largest : IVF_COLUMNS);
    s.sim = at, at += b * cols;
    s.best_sim = at, at += b * (size_t)k;
    s.best_row = at, at += b * (size_t)k;
    s.probe = at, at += b * (size_t)probes;
    s.sel = at, at += b;
    s.mark = at, at += ((size_t)ix->lists + 3) / 4;
    s.total = at;
    return s;
}

/* Keep (s, r) among a row's best, ordered by similarity, then index. */
static void
ivf_keep(float *best_sim, int32_t *best_row, int *found, int k, float s,
         int32_t r)
{
    if (*found == k &&
        !(s > best_sim[k - 1] || (s == best_sim[k - 1] && r < best_row[k - 1])))
        return;
    int at = *found < k ? (*found)++ : k - 1;
    while (at > 0 && (s > best_sim[at - 1] ||
                      (s == best_sim[at - 1] && r < best_row[at - 1]))) {
        best_sim[at] = best_sim[at - 1];
        best_row[at] = best_row[at - 1];
        at--;
    }
    best_sim[at] = s;
    best_row[at] = r;
}

/* The probes of a row: the lists of its best centres, ties to the lower
 * list. */
static void
ivf_probes(const float *csim, int lists, int probes, int32_t *probe)
{
    float best[IVF_MAX_PROBES];
    int found = 0;
    for (int l = 0; l < lists; l++) {
        float s = csim[l];
        if (found == probes && !(s > best[probes - 1]))
            continue;
        int at = found < probes ? found++ : probes - 1;
        while (at > 0 && s > best[at - 1]) {
            best[at] = best[at - 1];
            probe[at] = probe[at - 1];
            at--;
        }
        best[at] = s;
        probe[at] = l;
    }
}

static void
ivf_search_block(struct ivf_search_job *j, float *scratch, int list,
                 int64_t from)
{
    const struct ivf_index *ix = j->ix;
    int dim = ix->dim, lists = ix->lists, k = j->k, probes = j->probes;
    int64_t end = ix->start[list + 1];
    int qn = (int)(end - from < IVF_BLOCK ? end - from : IVF_BLOCK);
    struct ivf_scratch_layout lay = ivf_layout(ix, k, probes);
    float *sub = scratch + lay.sub, *csim = scratch + lay.csim;
    float *sim = scratch + lay.sim, *best_sim = scratch + lay.best_sim;
    int32_t *best_row = (int32_t *)(scratch + lay.best_row);
    int32_t *probe = (int32_t *)(scratch + lay.probe);
    int32_t *sel = (int32_t *)(scratch + lay.sel);
    uint8_t *mark = (uint8_t *)(scratch + lay.mark);
    const float *qx = ix->x + (size_t)from * dim;
    int found[IVF_BLOCK];

    if (lists > 1) {
        gemm_nt(qn, lists, dim, 1.0f, qx, ix->centre, 0.0f, csim);
        for (int q = 0; q < qn; q++)
            ivf_probes(csim + (size_t)q * lists, lists, probes,
                       probe + (size_t)q * probes);
    } else {
        for (int q = 0; q < qn; q++)
            probe[q] = 0;
    }
    memset(mark, 0, (size_t)lists);
    for (int q = 0; q < qn; q++) {
        found[q] = 0;
        for (int p = 0; p < probes; p++)
            mark[probe[(size_t)q * probes + p]] = 1;
    }

    for (int l = 0; l < lists; l++) {
        if (!mark[l])
            continue;
        int m = 0;
        for (int q = 0; q < qn; q++)
            for (int p = 0; p < probes; p++)
                if (probe[(size_t)q * probes + p] == l) {
                    sel[m++] = q;
                    break;
                }
        const float *a = qx;
        if (m < qn) {
            for (int i = 0; i < m; i++)
                memcpy(sub + (size_t)i * dim, qx + (size_t)sel[i] * dim,
                       (size_t)dim * sizeof *sub);
            a = sub;
        }
        /* A list in pieces, so that scratch stays small even when the
         * k-means puts most rows in one list (features that collapsed). */
        for (int64_t c0 = ix->start[l]; c0 < ix->start[l + 1];
             c0 += IVF_COLUMNS) {
            int64_t size = ix->start[l + 1] - c0;
            if (size > IVF_COLUMNS)
                size = IVF_COLUMNS;
            gemm_nt(m, (int)size, dim, 1.0f, a, ix->x + (size_t)c0 * dim, 0.0f,
                    sim);
            for (int i = 0; i < m; i++) {
                int q = sel[i];
                int32_t self = ix->row[from + q];
                const float *s = sim + (size_t)i * (size_t)size;
                float *bs = best_sim + (size_t)q * k;
                int32_t *br = best_row + (size_t)q * k;
                for (int64_t r = 0; r < size; r++)
                    if (ix->row[c0 + r] != self)
                        ivf_keep(bs, br, &found[q], k, s[r], ix->row[c0 + r]);
            }
        }
    }

    for (int q = 0; q < qn; q++) {
        size_t at = (size_t)ix->row[from + q] * (size_t)k;
        for (int t = 0; t < k; t++)
            j->nbr[at + t] = t < found[q] ? best_row[(size_t)q * k + t] : -1;
        for (int t = 0; j->sim != NULL && t < k; t++)
            j->sim[at + t] =
                t < found[q] ? best_sim[(size_t)q * k + t] : -INFINITY;
    }
}

static void
ivf_search_member(void *ctx, int t, int threads)
{
    (void)threads;
    struct ivf_search_job *j = ctx;
    for (;;) {
        int64_t u = atomic_fetch_add(&j->next, 1);
        if (u >= j->units)
            return;
        ivf_search_block(j, j->scratch[t], j->unit_list[u], j->unit_from[u]);
    }
}

static void
ivf_search(const struct ivf_index *ix, int k, int probes, struct par *team,
           float **scratch, int32_t *nbr, float *sim)
{
    int64_t units = 0;
    for (int l = 0; l < ix->lists; l++)
        units += (ix->start[l + 1] - ix->start[l] + IVF_BLOCK - 1) / IVF_BLOCK;
    int32_t *unit_list = xmalloc((size_t)units * sizeof *unit_list);
    int64_t *unit_from = xmalloc((size_t)units * sizeof *unit_from);
    int64_t u = 0;
    for (int l = 0; l < ix->lists; l++)
        for (int64_t p = ix->start[l]; p < ix->start[l + 1]; p += IVF_BLOCK) {
            unit_list[u] = l;
            unit_from[u++] = p;
        }
    struct ivf_search_job job = {
        .ix = ix,
        .k = k,
        .probes = probes,
        .units = units,
        .unit_list = unit_list,
        .unit_from = unit_from,
        .scratch = scratch,
        .nbr = nbr,
        .sim = sim,
    };
    atomic_init(&job.next, 0);
    par_run(team, ivf_search_member, &job);
    free(unit_from);
    free(unit_list);
}

/* The automatic probes: enough lists that a row's true neighbours, which
 * straddle the borders of its own list, are nearly all searched. At a
 * million rows (1,000 lists) 8 probes found 95.9% of them on the hard
 * synthetic set and 16 found all (BENCHMARKS.md, "Scale"); more lists cut
 * the data finer, so the probes grow with them. A row costs
 * probes * N / lists products. */
static int
ivf_auto_probes(int lists)
{
    int p = lists / 64;
    if (p < 16)
        p = 16;
    return p < lists ? p : lists;
}

void
ivf_plan(int64_t n, const struct ivf_config *cfg, int *lists, int *probes)
{
    *lists = 1;
    *probes = 1;
    if (n <= cfg->exact_max)
        return;
    int64_t l = cfg->lists > 0 ? cfg->lists : (int64_t)llround(sqrt((double)n));
    *lists = (int)(l < n ? l : n);
    *probes = cfg->probes > 0 ? cfg->probes : ivf_auto_probes(*lists);
    if (*probes > *lists)
        *probes = *lists;
}

static float **
ivf_scratch_new(int threads, size_t floats)
{
    float **s = xcalloc((size_t)threads, sizeof *s);
    for (int t = 0; t < threads; t++) {
        s[t] = malloc(floats * sizeof(float));
        if (s[t] == NULL) {
            for (int u = 0; u < t; u++)
                free(s[u]);
            free(s);
            return NULL;
        }
    }
    return s;
}

static void
ivf_scratch_free(float **s, int threads)
{
    for (int t = 0; s != NULL && t < threads; t++)
        free(s[t]);
    free(s);
}

int
ivf_neighbours(const float *x, int64_t n, int dim, int k,
               const struct ivf_config *cfg, struct par *team, int32_t *nbr,
               float *sim, char **cause)
{
    if (n < 0 || n > INT32_MAX || dim < 1 || k < 1 || k > IVF_MAX_K)
        return wn_fail(cause, "nearest neighbours: bad sizes");
    if (cfg->exact_max < 0 || cfg->lists < 0 || cfg->probes < 0 ||
        cfg->probes > IVF_MAX_PROBES)
        return wn_fail(cause, "nearest neighbours: bad index settings");
    if (n == 0)
        return 0;
    int threads = par_threads(team);
    struct ivf_index ix = {.dim = dim, .x = x};
    int probes;
    ivf_plan(n, cfg, &ix.lists, &probes);
    ix.start = xcalloc((size_t)ix.lists + 1, sizeof *ix.start);
    ix.row = xmalloc((size_t)n * sizeof *ix.row);
    ix.centre = xcalloc((size_t)ix.lists * (size_t)dim, sizeof *ix.centre);
    float **scratch = NULL;
    int rc = -1;

    if (ix.lists == 1) {
        for (int64_t i = 0; i < n; i++)
            ix.row[i] = (int32_t)i;
        ix.start[1] = n;
        ix.largest = n;
    } else {
        /* Training and placing need a block against every centre. */
        scratch = ivf_scratch_new(threads, (size_t)IVF_BLOCK * ix.lists);
        ix.own_x = malloc((size_t)n * (size_t)dim * sizeof *ix.own_x);
        if (scratch == NULL || ix.own_x == NULL)
            goto oom;
        ivf_train(&ix, x, n, cfg->seed, team, scratch);
        int32_t *home = xmalloc((size_t)n * sizeof *home);
        ivf_assign(team, scratch, &ix, x, n, home, NULL);
        ivf_fill(&ix, x, n, home);
        free(home);
        ix.x = ix.own_x;
        ivf_scratch_free(scratch, threads);
    }
    scratch = ivf_scratch_new(threads, ivf_layout(&ix, k, probes).total);
    if (scratch == NULL)
        goto oom;
    ivf_search(&ix, k, probes, team, scratch, nbr, sim);
    rc = 0;
    goto done;
oom:
    wn_fail(cause, "nearest neighbours: out of memory");
done:
    ivf_scratch_free(scratch, threads);
    free(ix.own_x);
    free(ix.centre);
    free(ix.row);
    free(ix.start);
    return rc;
}
