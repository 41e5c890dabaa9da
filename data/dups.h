/* data/dups.h: near-duplicate pairs and groups among a project's samples.
 *
 * dups_pairs finds every pair of perceptual hashes (data/phash.h) within a
 * Hamming distance, far from quadratically; dups_group joins those pairs
 * and the exact duplicates (equal pixels) into groups and says which carry
 * different labels. Both are pure (data/base.h only); dups_load (in
 * data/dups_load.c) reads what they need from a project. */
#ifndef WINNOW_DATA_DUPS_H
#define WINNOW_DATA_DUPS_H

#include <stddef.h>
#include <stdint.h>

#include "data/base.h"

struct store;

/* Hashes at most this many bits apart are near-duplicates. Measured on
 * pairs made from CIFAR-10 (tests/bench/dups.sh, BENCHMARKS.md): at 8,
 * precision 0.997 and recall 0.984 of resized, re-encoded and re-toned
 * copies; 10 finds 1% more of them but three times the pairs among 30,000
 * distinct images, and false pairs grow as the square of the project.
 * Hashes have 31 of their 63 bits set, so distances are even: 9 is 8. */
#define DUPS_DEFAULT_THRESHOLD 8
/* Past this the search costs too much to be worth it (and at 16 or more
 * of 63 bits, unrelated images start to pair). */
#define DUPS_MAX_THRESHOLD     15

struct dups_pair { /* plain data */
    uint32_t a, b; /* sample indices, a < b */
    int distance;
};

/* Every pair of hashes[0..n) at most threshold bits apart, each once,
 * sorted by (a, b); *out is the caller's (free()). n fits in 32 bits. */
WN_NODISCARD int dups_pairs(const uint64_t *hashes, size_t n, int threshold,
                            struct dups_pair **out, size_t *n_out,
                            char **cause);

/* Union-find over n elements; the root of a set is its smallest element,
 * so a group's root is its first sample in import order. */
struct dups_uf { /* dups_uf_init / dups_uf_fini */
    uint32_t *parent;
    size_t n;
};
void dups_uf_init(struct dups_uf *uf, size_t n);
void dups_uf_fini(struct dups_uf *uf);
uint32_t dups_uf_find(struct dups_uf *uf, uint32_t x);
void dups_uf_union(struct dups_uf *uf, uint32_t a, uint32_t b);

/* One sample as grouping sees it. */
struct dups_sample { /* plain data */
    uint64_t phash;
    /* Index of the first sample with the same pixels (itself if none
     * earlier): exact duplicates are group members too. */
    uint32_t exact;
    int label; /* current label */
    int split; /* train/test/... id, or -1 when the project has none */
};

struct dups_group {  /* plain data */
    int64_t id;      /* 1.. in order of the first member */
    size_t first, n; /* members: dups.members[first .. first + n) */
    int conflict;    /* members carry different labels */
    int leak;        /* members lie in different splits (known ones) */
    int exact;       /* some members have equal pixels */
    int near;        /* some members are near (not equal) */
    int similar;     /* the run's features join what the hash did not */
};

struct dups {                  /* owned arrays: dups_fini */
    struct dups_group *groups; /* by id */
    size_t n_groups;
    uint32_t *members; /* each group's sample indices, ascending */
    int64_t *group_of; /* by sample: its group's id, 0 when none */
    size_t n_samples;
    size_t n_conflicts, n_leaks;
};

/* Group samples[0..n): near pairs (threshold bits) and exact duplicates.
 * Samples in no pair stay out of every group. */
WN_NODISCARD int dups_group(const struct dups_sample *samples, size_t n,
                            int threshold, struct dups *out, char **cause);
/* The same, joining extra[0..n_extra) too: pairs by other evidence (a
 * run's features, engine/featpairs.h), indices into samples. */
WN_NODISCARD int dups_group_with(const struct dups_sample *samples, size_t n,
                                 int threshold, const struct dups_pair *extra,
                                 size_t n_extra, struct dups *out,
                                 char **cause);
void dups_fini(struct dups *d);

/* ---- from a project (data/dups_load.c) ---- */

/* Called now and then while hashes are computed. */
typedef void (*dups_progress_fn)(void *ctx, int64_t done, int64_t total);

/* Every sample of the project, in import order, as grouping needs it,
 * with its id and path. Hashes the project lacks (a project made before
 * they were kept) are computed from the stored pixels, in memory only: see
 * store_phash_fill to keep them. Runs in the caller's snapshot or
 * transaction if one is open. */
struct dups_project { /* dups_project_fini */
    size_t n;
    struct dups_sample *samples;
    int64_t *ids;
    char **paths;
    size_t computed; /* hashes computed here, not read */
    /* The newest finished run's pairs by features (distance -1), among
     * the samples it scored; none before a run. */
    struct dups_pair *similar;
    size_t n_similar;
};
WN_NODISCARD int dups_load(struct store *s, struct dups_project *out,
                           dups_progress_fn fn, void *ctx, char **cause);
void dups_project_fini(struct dups_project *p);
/* dups_load, then dups_group at threshold: the project's groups. On
 * failure both are empty. */
WN_NODISCARD int dups_scan(struct store *s, int threshold,
                           struct dups_project *p, struct dups *d,
                           dups_progress_fn fn, void *ctx, char **cause);

#endif
