/* app/review_cmd.h: what `winnow review` and `winnow demo` share: their
 * options, the thread budgets set before the screen starts, and the lines
 * printed after it ends. */
#ifndef WINNOW_APP_REVIEW_CMD_H
#define WINNOW_APP_REVIEW_CMD_H

#include "app/cmd.h"
#include "ui/review.h"

/* The options of both: --threads, --epochs, --no-engine, --debug. */
extern const struct cmd_option review_cmd_options[];
/* cmd_parse into o, which starts zeroed, then WINNOW_UI_TIMING; -1 to go
 * on, else the exit status. */
int review_cmd_parse(const struct cmd *c, int argc, char **argv,
                     struct review_options *o, int *n_operands);
/* Set the process-wide thread budgets of the UI (chafa). */
void review_cmd_budgets(void);
/* What the session left behind, on stdout. */
void review_cmd_report(const char *db, const struct review_result *r);

#endif
