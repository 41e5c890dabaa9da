/* app/score_probs.h: `winnow score DB --probs FILE [--features FILE]`,
 * a run from probabilities another model computed. */
#ifndef WINNOW_APP_SCORE_PROBS_H
#define WINNOW_APP_SCORE_PROBS_H

#include <stdint.h>

struct score_probs_args { /* plain data, borrowed */
    const char *db;
    const char *probs;    /* .npy (by its magic) or CSV */
    const char *features; /* .npy, or NULL */
    uint64_t seed;
    int threads; /* 0: all cores */
    int quiet;
};

/* Check every input, score, publish; errors printed as "winnow: score:
 * FILE: ...". Returns the exit status. */
int score_probs(const struct score_probs_args *a);

#endif
