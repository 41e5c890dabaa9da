/* engine/ivf.h: every row's nearest other rows among a set of unit
 * vectors, exactly for small sets and through an inverted-file index for
 * large ones.
 *
 * Brute force costs N^2 products: a million rows make 10^12 of them. The
 * index (an IVF, "inverted file": Jegou et al., "Product quantization for
 * nearest neighbor search", TPAMI 2011, without the quantisation) clusters
 * the rows into lists by spherical k-means and searches each row only in
 * the few lists whose centres are nearest to it, exactly, by blocked
 * matrix products. Similarity is the inner product, the cosine for unit
 * rows. The answer for a row depends on the rows, the settings and the
 * seed only: never on the thread count, nor on the order work was done. */
#ifndef WINNOW_ENGINE_IVF_H
#define WINNOW_ENGINE_IVF_H

#include <stdint.h>

#include "data/base.h"

struct par;

struct ivf_config { /* plain data; ivf_config_default fills it */
    /* Sets of at most this many rows are searched exactly. */
    int64_t exact_max;
    /* Larger sets: lists of the index (0: about sqrt(N)), and how many of
     * the nearest lists each row searches (0: the automatic choice). */
    int lists;
    int probes;
    uint64_t seed; /* the k-means sample and its starting centres */
};

void ivf_config_default(struct ivf_config *cfg);

/* The lists and probes a set of n rows gets (1 and 1: exact). */
void ivf_plan(int64_t n, const struct ivf_config *cfg, int *lists, int *probes);

/* For each of the n rows of x (n, dim), the k rows with the largest inner
 * product with it, itself excluded, into nbr (n, k) as row indices, best
 * first, ties to the lower index; -1 fills the places of a row that has
 * fewer than k others. sim (n, k), unless NULL, gets those inner products
 * (-inf in the unfilled places): what a search for near-duplicates or
 * outliers needs beside the indices. The work is shared by the team. On
 * bad sizes or when memory runs out return -1 with a cause. */
WN_NODISCARD int ivf_neighbours(const float *x, int64_t n, int dim, int k,
                                const struct ivf_config *cfg, struct par *team,
                                int32_t *nbr, float *sim, char **cause);

#endif
