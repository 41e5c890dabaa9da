/* ui/review.h: the review screen, `winnow review DB`.
 *
 * A full-screen ncurses UI over one project file: the queue ranked by
 * noise score, the current sample drawn large, examples of its classes,
 * the engine's progress. Every decision is committed to the store as it
 * is made; the engine (engine/engine.h) scores in a background thread and
 * the queue re-ranks when a run publishes. The terminal is restored on
 * every way out, SIGINT and SIGTERM included. Call from the main thread,
 * after setlocale and after app/ has set the thread budgets. */
#ifndef WINNOW_UI_REVIEW_H
#define WINNOW_UI_REVIEW_H

#include <stdint.h>

#include "data/base.h"

struct review_options {      /* plain data */
    int threads;             /* engine compute threads; 0: all cores */
    int epochs;              /* engine epochs; 0: the engine's choice */
    int no_engine;           /* do not start scoring unless asked (t) */
    const char *timing_path; /* append key-to-screen times (ms), or NULL */
    const char *debug_path;  /* a log of what happened, or NULL */
};

struct review_result { /* plain data */
    int64_t decisions; /* label decisions made (and not undone) */
    int64_t kept, relabeled;
    int engine_stopped; /* scoring was stopped with a checkpoint on quit */
};

/* The threads that render images (ui/cells.h), for every later review:
 * process-wide, so app/ sets it once, before review_run. The UI layer
 * keeps its image library to itself; this is all app/ needs of it. */
void review_set_threads(int n);

/* Run the UI until the person quits or a signal asks to. Needs a terminal
 * on stdin and stdout. Returns 0 (filling *res, which may be NULL), or -1
 * with a cause after restoring the terminal. */
WN_NODISCARD int review_run(const char *db_path, const struct review_options *o,
                            struct review_result *res, char **cause);

#endif
