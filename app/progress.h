/* app/progress.h: progress of a long job on stderr. On a terminal, one
 * line redrawn in place (a bar, percent, rate, ETA), at most ten times a
 * second; otherwise plain lines, each a complete record, at a slow pace;
 * nothing when quiet. Messages printed through progress_message never
 * collide with the bar. */
#ifndef WINNOW_APP_PROGRESS_H
#define WINNOW_APP_PROGRESS_H

#include <stddef.h>

#include "data/base.h"

struct progress;

struct progress *progress_new(const char *what, int quiet);
/* done of total units (total 0: unknown); extra is appended ("epoch 3/20"),
 * may be NULL. */
void progress_update(struct progress *p, size_t done, size_t total,
                     const char *unit, const char *extra);
/* A line on stderr that must not be overwritten by the bar. */
WN_PRINTF(2, 3) void progress_message(struct progress *p, const char *fmt, ...);
/* Clear the bar (a terminal) and free. */
void progress_free(struct progress *p);
/* Whether stderr is a terminal that gets a bar. */
int progress_is_tty(const struct progress *p);

#endif
