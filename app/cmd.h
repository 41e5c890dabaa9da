/* app/cmd.h: one subcommand per file (app/cmd-*.c), each exporting a
 * struct cmd; main.c walks the table in commands.c. */
#ifndef WINNOW_APP_CMD_H
#define WINNOW_APP_CMD_H

#include <stddef.h>
#include <stdio.h>

#include "data/base.h"

struct cmd;
struct store;

/* Exit statuses: a test pins each. */
enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

struct cmd_option;

/* What an option's argument is, and where cmd_parse stores it: into the
 * field at the row's offset in the struct the command passes (CMD_FIELD
 * checks the field's type). */
enum cmd_option_kind {
    OPT_FLAG,    /* no argument; sets an int to 1 */
    OPT_NO_FLAG, /* no argument; sets an int to 0 (--no-elr after --elr) */
    OPT_INT,     /* a whole number in [min, max]; an int */
    OPT_DOUBLE,  /* a number in [dmin, dmax]; a double */
    OPT_STRING,  /* any word; a const char * into argv */
    OPT_CHOICE,  /* one of choices; an int, its index */
    OPT_PAIR,    /* two words (--idx IMAGES LABELS); const char *[2] */
    OPT_CALL,    /* parse does it (an argument some words long) */
};

/* An OPT_CALL option's parser: arg is the option's argument and more the
 * n_more words after it; store into field and return how many of more it
 * took, or print a usage error (cmd_usage_error) and return -1. */
typedef int (*cmd_option_fn)(const struct cmd *c, const struct cmd_option *o,
                             const char *arg, char **more, int n_more,
                             void *field);

/* One row of a command's option table, which is at once what the parser
 * accepts and what --help shows. A table ends with a row whose name is
 * NULL. --help (-h) is every command's and is not in the tables. Given
 * twice, an option's last value counts. */
struct cmd_option {
    const char *name; /* long name, without the dashes */
    int short_name;   /* the letter of -X, or 0 */
    enum cmd_option_kind kind;
    size_t offset;     /* CMD_FIELD(struct, member, type) */
    long min, max;     /* OPT_INT */
    double dmin, dmax; /* OPT_DOUBLE */
    /* OPT_CHOICE: the words it takes, NULL-terminated; OPT_CALL: what
     * --help and cmd_bad_choice show ("accept-above P"). */
    const char *const *choices;
    /* --help: one row per choice, choice_help[i] beside "--NAME CHOICE",
     * instead of one row for the option. */
    const char *const *choice_help;
    const char *argname; /* the argument in --help ("N", "IMAGES LABELS") */
    const char *heading; /* --help: a line printed before this row */
    int nested;          /* --help: indented under the row before */
    /* --help, beside "-X, --NAME ARG"; '\n' starts a line indented as far
     * as the first one. An option without help or choice_help is not
     * shown (one kept for old command lines, like --no-elr). */
    const char *help;
    cmd_option_fn parse; /* OPT_CALL */
};

/* The offset of member m in struct type s, which must have type t (after
 * arrays decay: const char ** for an OPT_PAIR), or the table does not
 * build. */
#define CMD_FIELD(s, m, t) _Generic(((s *)NULL)->m, t : offsetof(s, m))

/* An operand, for the messages ("missing sample PATH") and --help. */
struct cmd_operand {
    const char *name;    /* "PATH" */
    const char *what;    /* "sample", or NULL */
    const char *help;    /* --help row, or NULL for none */
    const char *heading; /* --help: a line printed before this row */
};

/* The project file, every command's first operand. */
#define CMD_OPERAND_DB                                                         \
    {                                                                          \
        .name = "DB", .what = "project file"                                   \
    }

struct cmd {
    const char *name;
    const char *usage;   /* after "winnow NAME " */
    const char *summary; /* one line for `winnow --help` */
    /* The operands in order, NULL-name-terminated; the first min_operands
     * must be given, the others may be. */
    const struct cmd_operand *operands;
    int min_operands;
    const struct cmd_option *options; /* may be NULL: none but --help */
    /* --help: the column the rows' help starts at (0: just past the
     * widest row), and what follows the rows. */
    int help_column;
    const char *notes;
    int (*run)(int argc, char **argv); /* argv[0] is the command name */
};

extern const struct cmd *const commands[];
const struct cmd *cmd_find(const char *name);

/* "winnow: <what>: <why>" on stderr. */
WN_PRINTF(1, 2) void cmd_error(const char *fmt, ...);
/* A usage error: the message, then "usage: winnow NAME USAGE"; returns
 * EXIT_USAGE. */
WN_PRINTF(2, 3) int cmd_usage_error(const struct cmd *c, const char *fmt, ...);
/* Parse argv (argc words, argv[0] the command name) by c's options and
 * operands, in the GNU way: options and operands in any order, "--" ends
 * the options, a long option may be shortened to any prefix that is not
 * ambiguous. Each option's value goes to its field in *out (fields of
 * options not given are left alone: set the defaults first); the operands
 * are moved to argv[1..*n_operands] in their order. Returns -1 to go on,
 * or the exit status: EXIT_OK after --help (printed), EXIT_USAGE after a
 * usage error (printed). */
int cmd_parse(const struct cmd *c, int argc, char **argv, void *out,
              int *n_operands);
/* The usage error for an operand beyond those a command takes. */
int cmd_extra_operand(const struct cmd *c, const char *arg);
/* The usage error for an argument of o that is none of its choices. */
int cmd_bad_choice(const struct cmd *c, const struct cmd_option *o,
                   const char *arg);
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
