/* app/review_cmd.h: what `winnow review` and `winnow demo` share: their
 * options, the thread budgets set before the screen starts, and the lines
 * printed after it ends. */
#ifndef WINNOW_APP_REVIEW_CMD_H
#define WINNOW_APP_REVIEW_CMD_H

#include "app/cmd.h"
#include "ui/review.h"

/* Parse --threads, --epochs, --no-engine, --debug (and WINNOW_UI_TIMING)
 * into o; operands start at argv[*operands_at]. -1 when the command is
 * over (help printed, or a usage error), with its exit status in
 * *exit_out. */
int review_cmd_parse(const struct cmd *c, int argc, char **argv,
                     struct review_options *o, int *operands_at, int *exit_out);
/* Set the process-wide thread budgets of the UI (chafa). */
void review_cmd_budgets(void);
/* What the session left behind, on stdout. */
void review_cmd_report(const char *db, const struct review_result *r);

#endif
