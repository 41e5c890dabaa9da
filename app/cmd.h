/* app/cmd.h: one subcommand per file (app/cmd-*.c), each exporting a
 * struct cmd; main.c walks the table in commands.c. */
#ifndef WINNOW_APP_CMD_H
#define WINNOW_APP_CMD_H

#include <stdio.h>

#include "data/base.h"

struct store;

/* Exit statuses: a test pins each. */
enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

struct cmd {
    const char *name;
    const char *usage;   /* after "winnow NAME " */
    const char *summary; /* one line for `winnow --help` */
    const char *help;    /* the options, for `winnow NAME --help` */
    int (*run)(int argc, char **argv); /* argv[0] is the command name */
};

extern const struct cmd *const commands[];
const struct cmd *cmd_find(const char *name);

/* "winnow: <what>: <why>" on stderr. */
WN_PRINTF(1, 2) void cmd_error(const char *fmt, ...);
/* A usage error: the message, then "usage: winnow NAME USAGE"; returns
 * EXIT_USAGE. */
WN_PRINTF(2, 3) int cmd_usage_error(const struct cmd *c, const char *fmt, ...);
/* The usage error for what getopt_long returned as o (':' for a missing
 * argument, anything else for an unknown option); returns EXIT_USAGE. */
int cmd_option_error(const struct cmd *c, int o, char **argv);
/* The option loop of a command whose only option is --help: return -1 to
 * go on (optind then at the first operand), else the exit status (help
 * printed, or a usage error). */
int cmd_help_only(const struct cmd *c, int argc, char **argv);
/* The one operand DB of a command, after its options: set *db and return
 * 0, or print the usage error and return EXIT_USAGE. */
int cmd_db_operand(const struct cmd *c, int argc, char **argv,
                   const char **db);
/* Open a project file with store_open's flags; on failure print
 * "winnow: DB: why" and return NULL. */
struct store *cmd_open_store(const char *db, int flags);
/* Print `winnow NAME --help` to f. */
void cmd_print_help(const struct cmd *c, FILE *f);

/* Parse a whole number in [min, max] from an option argument; on failure
 * print a usage error and return -1. */
int cmd_parse_int(const struct cmd *c, const char *opt, const char *arg,
                  long min, long max, long *out);

#endif
