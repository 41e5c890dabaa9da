/* engine/knn.c: nearest neighbours by blocked matrix products.
 *
 * The features are centred (the mean over all samples removed, since
 * post-ReLU features all share one positive direction that would make
 * every cosine large) and scaled to unit length once. Then, group by
 * group, a block of queries times the group's references gives a block of
 * similarities, and each query keeps its k best in a small sorted array:
 * scanning the references in a fixed order and replacing only on a strictly
 * larger similarity makes ties go to the earlier reference, so the choice
 * never depends on the thread that did the work. Blocks are dealt to the
 * members of a thread team (engine/par.h), each with its own scratch; BLAS
 * runs one thread per member, as everywhere in the engine. */
#include "config.h"

#include "engine/knn.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/gemm.h"
#include "engine/par.h"
#include "engine/rng.h"

#define KNN_BLOCK         128 /* queries per product */
#define KNN_MAX_K         256
/* Enough neighbours that a 60/40 label split shows through the binomial
 * noise of the vote, few enough to stay local. */
#define KNN_NEIGHBOURS    20
/* 30,000 references per query: every sample for sets up to that size
 * (N^2 * dim products, ~2 s for 30,000 on two cores), a sample of that
 * size beyond, so time grows linearly with N. */
#define KNN_MAX_REFERENCE 30000

void
knn_config_default(struct knn_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->k = KNN_NEIGHBOURS;
    cfg->max_reference = KNN_MAX_REFERENCE;
    cfg->seed = 1;
    cfg->threads = 1;
}

/* One group's work, shared by the team. */
struct knn_job {
    const struct knn_input *in;
    const struct knn_config *cfg;
    const float *x;         /* (N, dim) centred, unit length */
    const int32_t *queries; /* members of the group */
    int64_t n_queries;
    const int32_t *refs; /* the references among them */
    const float *ref_x;  /* (n_refs, dim) their rows, packed */
    int64_t n_refs;
    float **scratch; /* per member: block of queries and sims */
    float *votes;
};

static void
knn_block(const struct knn_job *j, float *scratch, int64_t q0, int qn)
{
    const struct knn_input *in = j->in;
    int dim = in->dim, k = j->cfg->k;
    float *qx = scratch;                            /* (qn, dim) */
    float *sim = scratch + (size_t)KNN_BLOCK * dim; /* (qn, n_refs) */
    float best_sim[KNN_MAX_K];
    int32_t best_idx[KNN_MAX_K];

    for (int q = 0; q < qn; q++)
        memcpy(qx + (size_t)q * dim,
               j->x + (size_t)j->queries[q0 + q] * (size_t)dim,
               (size_t)dim * sizeof *qx);
    gemm_nt(qn, (int)j->n_refs, dim, 1.0f, qx, j->ref_x, 0.0f, sim);

    for (int q = 0; q < qn; q++) {
        int32_t self = j->queries[q0 + q];
        const float *row = sim + (size_t)q * (size_t)j->n_refs;
        int found = 0;
        for (int64_t r = 0; r < j->n_refs; r++) {
            float s = row[r];
            if (j->refs[r] == self)
                continue;
            if (found == k && !(s > best_sim[k - 1]))
                continue;
            int at = found < k ? found++ : k - 1;
            while (at > 0 && s > best_sim[at - 1]) {
                best_sim[at] = best_sim[at - 1];
                best_idx[at] = best_idx[at - 1];
                at--;
            }
            best_sim[at] = s;
            best_idx[at] = j->refs[r];
        }
        float *v = j->votes + (size_t)self * (size_t)in->classes;
        for (int c = 0; c < in->classes; c++)
            v[c] = 0.0f;
        /* Whole counts first, one division each: a unanimous vote is
         * exactly 1. */
        for (int t = 0; t < found; t++)
            v[in->label[best_idx[t]]] += 1.0f;
        for (int c = 0; found > 0 && c < in->classes; c++)
            v[c] /= (float)found;
    }
}

static void
knn_member(void *ctx, int t, int threads)
{
    const struct knn_job *j = ctx;
    int64_t blocks = (j->n_queries + KNN_BLOCK - 1) / KNN_BLOCK;
    /* Blocks dealt round-robin: neighbouring blocks cost the same. */
    for (int64_t b = t; b < blocks; b += threads) {
        int64_t q0 = b * KNN_BLOCK;
        int qn = (int)(j->n_queries - q0 < KNN_BLOCK ? j->n_queries - q0
                                                     : KNN_BLOCK);
        knn_block(j, j->scratch[t], q0, qn);
    }
}

static int
knn_check(const struct knn_input *in, const struct knn_config *cfg,
          char **cause)
{
    if (in->n < 0 || in->dim < 1 || in->classes < 1)
        return wn_fail(cause, "nearest neighbours: bad sizes");
    if (cfg->k < 1 || cfg->k > KNN_MAX_K || cfg->max_reference < 1 ||
        cfg->threads < 1)
        return wn_fail(cause, "nearest neighbours: bad settings");
    if (in->n > INT32_MAX)
        return wn_fail(cause, "nearest neighbours: too many samples");
    for (int64_t i = 0; i < in->n; i++) {
        if (in->label[i] < 0 || in->label[i] >= in->classes)
            return wn_fail(cause, "nearest neighbours: label out of range");
        if (in->group != NULL && in->group[i] < 0)
            return wn_fail(cause, "nearest neighbours: negative group");
    }
    size_t cells;
    if (wn_mul_size((size_t)in->n, (size_t)in->dim, &cells) != 0 ||
        wn_mul_size(cells, sizeof(float), &cells) != 0)
        return wn_fail(cause, "nearest neighbours: too many features");
    return 0;
}

/* Centre the features and scale each row to unit length; a row that is
 * all mean stays zero and is then equally (dis)similar to everyone. */
static float *
knn_normalise(const struct knn_input *in)
{
    size_t n = (size_t)in->n, dim = (size_t)in->dim;
    float *x = xmalloc(n * dim * sizeof *x);
    double *mean = xcalloc(dim, sizeof *mean);
    for (size_t i = 0; i < n; i++)
        for (size_t d = 0; d < dim; d++)
            mean[d] += (double)in->features[i * dim + d];
    for (size_t d = 0; d < dim; d++)
        mean[d] /= n > 0 ? (double)n : 1.0;
    for (size_t i = 0; i < n; i++) {
        float *row = x + i * dim;
        double norm = 0;
        for (size_t d = 0; d < dim; d++) {
            double v = (double)in->features[i * dim + d] - mean[d];
            row[d] = (float)v;
            norm += v * v;
        }
        float scale = norm > 0 ? (float)(1.0 / sqrt(norm)) : 0.0f;
        for (size_t d = 0; d < dim; d++)
            row[d] *= scale;
    }
    free(mean);
    return x;
}

int
knn_votes(const struct knn_input *in, const struct knn_config *cfg,
          float *votes, char **cause)
{
    if (knn_check(in, cfg, cause) != 0)
        return -1;
    size_t n = (size_t)in->n, dim = (size_t)in->dim;
    if (n == 0)
        return 0;
    memset(votes, 0, n * (size_t)in->classes * sizeof *votes);

    /* Samples ordered by group (counting sort, index order within). */
    int32_t groups = 0;
    for (size_t i = 0; i < n; i++) {
        int32_t g = in->group != NULL ? in->group[i] : 0;
        if (g + 1 > groups)
            groups = g + 1;
    }
    int64_t *start = xcalloc((size_t)groups + 1, sizeof *start);
    for (size_t i = 0; i < n; i++)
        start[(in->group != NULL ? in->group[i] : 0) + 1]++;
    int64_t largest = 0;
    for (int32_t g = 0; g < groups; g++) {
        if (start[g + 1] > largest)
            largest = start[g + 1];
        start[g + 1] += start[g];
    }
    int32_t *member = xmalloc(n * sizeof *member);
    {
        int64_t *fill = xmalloc((size_t)groups * sizeof *fill);
        memcpy(fill, start, (size_t)groups * sizeof *fill);
        for (size_t i = 0; i < n; i++)
            member[fill[in->group != NULL ? in->group[i] : 0]++] = (int32_t)i;
        free(fill);
    }

    int64_t max_refs =
        largest < cfg->max_reference ? largest : cfg->max_reference;
    float *x = knn_normalise(in);
    int32_t *refs = xmalloc((size_t)largest * sizeof *refs);
    float *ref_x = xmalloc((size_t)max_refs * dim * sizeof *ref_x);
    int threads = cfg->threads;
    if ((int64_t)threads * KNN_BLOCK > (int64_t)n)
        threads = (int)((n + KNN_BLOCK - 1) / KNN_BLOCK);
    float **scratch = xcalloc((size_t)threads, sizeof *scratch);
    struct par *team = NULL;
    struct rng rng;
    int rc = -1;
    for (int t = 0; t < threads; t++) {
        size_t cells = (size_t)KNN_BLOCK * (dim + (size_t)max_refs);
        scratch[t] = malloc(cells * sizeof(float));
        if (scratch[t] == NULL) {
            wn_fail(cause, "nearest neighbours: out of memory");
            goto done;
        }
    }
    if (par_new(threads, &team, cause) != 0)
        goto done;

    rng_seed(&rng, cfg->seed);
    for (int32_t g = 0; g < groups; g++) {
        const int32_t *mem = member + start[g];
        int64_t count = start[g + 1] - start[g];
        if (count == 0)
            continue;
        memcpy(refs, mem, (size_t)count * sizeof *refs);
        int64_t n_refs = count;
        if (count > cfg->max_reference) {
            /* A seeded partial shuffle picks the references, then index
             * order again so that ties go the same way at any size. */
            for (int64_t i = 0; i < cfg->max_reference; i++) {
                int64_t r = i + (int64_t)rng_below(&rng, (uint32_t)(count - i));
                int32_t tmp = refs[i];
                refs[i] = refs[r];
                refs[r] = tmp;
            }
            n_refs = cfg->max_reference;
            uint8_t *picked = xcalloc(n, 1);
            for (int64_t i = 0; i < n_refs; i++)
                picked[refs[i]] = 1;
            int64_t m = 0;
            for (int64_t i = 0; i < count; i++)
                if (picked[mem[i]])
                    refs[m++] = mem[i];
            free(picked);
        }
        for (int64_t r = 0; r < n_refs; r++)
            memcpy(ref_x + (size_t)r * dim, x + (size_t)refs[r] * dim,
                   dim * sizeof *ref_x);
        struct knn_job job = {
            .in = in,
            .cfg = cfg,
            .x = x,
            .queries = mem,
            .n_queries = count,
            .refs = refs,
            .ref_x = ref_x,
            .n_refs = n_refs,
            .scratch = scratch,
            .votes = votes,
        };
        par_run(team, knn_member, &job);
    }
    par_free(team);
    rc = 0;
done:
    for (int t = 0; t < threads; t++)
        free(scratch[t]);
    free(scratch);
    free(ref_x);
    free(refs);
    free(x);
    free(member);
    free(start);
    return rc;
}
