/* app/cmd-review.c: `winnow review DB` (also `winnow DB`), the review UI.
 *
 * This file only reads options and sets the process-wide budgets (chafa
 * draws on this thread, single-threaded: its per-image thread pool makes
 * small images ten times slower); ui/review.c does the rest. A timing
 * mode for the benchmarks is switched on by WINNOW_UI_TIMING=FILE, which
 * appends one key-to-screen time in milliseconds per key. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/cmd.h"
#include "app/review_cmd.h"
#include "ui/review.h"

extern const struct cmd cmd_review;

int
review_cmd_parse(const struct cmd *c, int argc, char **argv,
                 struct review_options *o, int *operands_at, int *exit_out)
{
    static const struct option longopts[] = {
        {"threads", required_argument, NULL, 't'},
        {"epochs", required_argument, NULL, 'e'},
        {"no-engine", no_argument, NULL, 'n'},
        {"debug", required_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    long v;
    int opt;
    memset(o, 0, sizeof *o);
    opterr = 0;
    optind = 1;
    while ((opt = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (opt) {
        case 't':
            if (cmd_parse_int(c, "--threads", optarg, 1, 1024, &v) != 0) {
                *exit_out = EXIT_USAGE;
                return -1;
            }
            o->threads = (int)v;
            break;
        case 'e':
            if (cmd_parse_int(c, "--epochs", optarg, 1, 10000, &v) != 0) {
                *exit_out = EXIT_USAGE;
                return -1;
            }
            o->epochs = (int)v;
            break;
        case 'n':
            o->no_engine = 1;
            break;
        case 'd':
            o->debug_path = optarg;
            break;
        case 'h':
            cmd_print_help(c, stdout);
            *exit_out = EXIT_OK;
            return -1;
        case ':':
            *exit_out = cmd_usage_error(c, "option '%s' needs an argument",
                                        argv[optind - 1]);
            return -1;
        default:
            *exit_out =
                cmd_usage_error(c, "unknown option '%s'", argv[optind - 1]);
            return -1;
        }
    }
    const char *timing = getenv("WINNOW_UI_TIMING");
    if (timing != NULL && timing[0] != '\0')
        o->timing_path = timing;
    *operands_at = optind;
    return 0;
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
    int at, ex = EXIT_OK;
    if (review_cmd_parse(c, argc, argv, &o, &at, &ex) != 0)
        return ex;
    if (argc - at != 1)
        return cmd_usage_error(c, argc - at < 1 ? "missing project file DB"
                                                : "too many arguments");
    const char *db = argv[at];
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
    .help = "options:\n"
            "  --threads T    compute threads of the engine (default: all "
            "cores)\n"
            "  --epochs N     training epochs of runs started here (default: "
            "from\n"
            "                 the dataset size)\n"
            "  --no-engine    do not start scoring by itself when no run has "
            "finished\n"
            "                 (t starts it)\n"
            "  --debug FILE   append a log of what the screen did to FILE\n"
            "Keys: ? on the screen lists them all; `man winnow` too. Every "
            "decision is\n"
            "saved the moment it is made: q quits without asking.\n"
            "WINNOW_UI_TIMING=FILE appends each key's key-to-screen time "
            "(ms) to FILE.\n",
    .run = run_review,
};
