/* app/cmd-review.c: `winnow review DB` (also `winnow DB`), the review UI.
 *
 * This file only reads options and sets the process-wide budgets (chafa
 * draws on this thread, single-threaded: its per-image thread pool makes
 * small images ten times slower); ui/review.c does the rest. A timing
 * mode for the benchmarks is switched on by WINNOW_UI_TIMING=FILE, which
 * appends one key-to-screen time in milliseconds per key. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/cmd.h"
#include "app/review_cmd.h"
#include "ui/review.h"

extern const struct cmd cmd_review;

#define REVIEW_FIELD(m, t) CMD_FIELD(struct review_options, m, t)

const struct cmd_option review_cmd_options[] = {
    {.name = "threads",
     .kind = OPT_INT,
     .offset = REVIEW_FIELD(threads, int),
     .min = 1,
     .max = 1024,
     .argname = "T",
     .heading = "options:",
     .help = "compute threads of the engine (default: all cores)"},
    {.name = "epochs",
     .kind = OPT_INT,
     .offset = REVIEW_FIELD(epochs, int),
     .min = 1,
     .max = 10000,
     .argname = "N",
     .help = "training epochs of runs started here (default: from\n"
             "the dataset size)"},
    {.name = "no-engine",
     .kind = OPT_FLAG,
     .offset = REVIEW_FIELD(no_engine, int),
     .help = "do not start scoring by itself when no run has finished\n"
             "(t starts it)"},
    {.name = "debug",
     .kind = OPT_STRING,
     .offset = REVIEW_FIELD(debug_path, const char *),
     .argname = "FILE",
     .help = "append a log of what the screen did to FILE"},
    {0},
};

int
review_cmd_parse(const struct cmd *c, int argc, char **argv,
                 struct review_options *o, int *n_operands)
{
    memset(o, 0, sizeof *o);
    int done = cmd_parse(c, argc, argv, o, n_operands);
    if (done >= 0)
        return done;
    const char *timing = getenv("WINNOW_UI_TIMING");
    if (timing != NULL && timing[0] != '\0')
        o->timing_path = timing;
    return -1;
}

void
review_cmd_budgets(void)
{
    review_set_threads(1);
}

void
review_cmd_report(const char *db, const struct review_result *r)
{
    if (r->decisions > 0)
        printf("%lld decision%s this session, all saved in %s\n",
               (long long)r->decisions, r->decisions == 1 ? "" : "s", db);
    if (r->engine_stopped)
        printf("scoring stopped with a checkpoint; it resumes when the "
               "review reopens\n(or with: winnow score %s --resume)\n",
               db);
}

static int
run_review(int argc, char **argv)
{
    const struct cmd *c = &cmd_review;
    struct review_options o;
    int n, done = review_cmd_parse(c, argc, argv, &o, &n);
    if (done >= 0)
        return done;
    const char *db = argv[1];
    review_cmd_budgets();
    struct review_result res;
    char *cause = NULL;
    if (review_run(db, &o, &res, &cause) != 0) {
        cmd_error("review: %s: %s", db, cause);
        free(cause);
        return EXIT_FAIL;
    }
    review_cmd_report(db, &res);
    return EXIT_OK;
}

const struct cmd cmd_review = {
    .name = "review",
    .usage = "DB [--threads T] [--epochs N] [--no-engine] [--debug FILE]",
    .summary = "review the suspects in the terminal and fix their labels",
    .operands = (const struct cmd_operand[]){CMD_OPERAND_DB, {0}},
    .min_operands = 1,
    .options = review_cmd_options,
    .help_column = 17,
    .notes = "Keys: ? on the screen lists them all; `man winnow` too. Every "
             "decision is\n"
             "saved the moment it is made: q quits without asking.\n"
             "WINNOW_UI_TIMING=FILE appends each key's key-to-screen time "
             "(ms) to FILE.\n",
    .run = run_review,
};
