#include "config.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "app/cmd.h"
#include "data/store.h"

extern const struct cmd cmd_import, cmd_info, cmd_score, cmd_export,
    cmd_stats, cmd_log, cmd_set, cmd_undo, cmd_review, cmd_demo;

const struct cmd *const commands[] = {
    &cmd_import,
    &cmd_info,
    &cmd_score,
    &cmd_export,
    &cmd_stats,
    &cmd_log,
    &cmd_set,
    &cmd_undo,
    &cmd_review,
    &cmd_demo,
    NULL,
};

const struct cmd *
cmd_find(const char *name)
{
    for (const struct cmd *const *c = commands; *c != NULL; c++)
        if (strcmp((*c)->name, name) == 0)
            return *c;
    return NULL;
}

void
cmd_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("winnow: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

int
cmd_usage_error(const struct cmd *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "winnow: %s: ", c->name);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    fprintf(stderr, "usage: winnow %s %s\n", c->name, c->usage);
    return EXIT_USAGE;
}

struct store *
cmd_open_store(const char *db, int flags)
{
    struct store *s;
    char *cause = NULL;
    if (store_open(db, flags, &s, &cause) != 0) {
        cmd_error("%s: %s", db, cause);
        free(cause);
        return NULL;
    }
    return s;
}

int
cmd_option_error(const struct cmd *c, int o, char **argv)
{
    if (o == ':')
        return cmd_usage_error(c, "option '%s' needs an argument",
                               argv[optind - 1]);
    return cmd_usage_error(c, "unknown option '%s'", argv[optind - 1]);
}

int
cmd_help_only(const struct cmd *c, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int o;
    opterr = 0;
    optind = 1;
    while ((o = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        if (o == 'h') {
            cmd_print_help(c, stdout);
            return EXIT_OK;
        }
        return cmd_option_error(c, o, argv);
    }
    return -1;
}

int
cmd_db_operand(const struct cmd *c, int argc, char **argv, const char **db)
{
    if (argc - optind < 1)
        return cmd_usage_error(c, "missing project file DB");
    if (argc - optind > 1)
        return cmd_usage_error(c, "unexpected argument '%s'", argv[optind + 1]);
    *db = argv[optind];
    return 0;
}

void
cmd_print_help(const struct cmd *c, FILE *f)
{
    fprintf(f, "usage: winnow %s %s\n\n%s\n", c->name, c->usage, c->summary);
    if (c->help != NULL && *c->help)
        fprintf(f, "\n%s", c->help);
}

int
cmd_parse_int(const struct cmd *c, const char *opt, const char *arg, long min,
              long max, long *out)
{
    char *end;
    long v = strtol(arg, &end, 10);
    if (*arg == '\0' || *end != '\0' || v < min || v > max) {
        cmd_usage_error(c, "%s takes a whole number from %ld to %ld, not '%s'",
                        opt, min, max, arg);
        return -1;
    }
    *out = v;
    return 0;
}
