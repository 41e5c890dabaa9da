/* engine/par.h: a fixed team of threads that run one function together.
 * The model splits each training phase over the team by images (or
 * channels); every split is fixed by the team size, so results repeat bit
 * for bit for a given size. Workers sleep on a condition variable between
 * phases: nothing spins, so the team never competes with other threads for
 * the cores it leaves idle. */
#ifndef WINNOW_ENGINE_PAR_H
#define WINNOW_ENGINE_PAR_H

#include "data/base.h"

struct par; /* opaque */

/* Called on every member of the team: t in [0, threads), t = 0 being the
 * thread that called par_run. */
typedef void (*par_fn)(void *ctx, int t, int threads);

/* Start a team of `threads` (>= 1; the caller counts as one, so threads - 1
 * new threads). On failure return -1 and set *cause. */
WN_NODISCARD int par_new(int threads, struct par **out, char **cause);
/* Stop and join the workers. Accepts NULL. */
void par_free(struct par *p);
int par_threads(const struct par *p);
/* Run fn on every member and return when all have finished. One caller at
 * a time (the team belongs to its owner's thread). */
void par_run(struct par *p, par_fn fn, void *ctx);
/* The share [*lo, *hi) of t among threads in a range of n items: contiguous
 * and as even as possible. */
void par_split(int n, int t, int threads, int *lo, int *hi);

#endif
