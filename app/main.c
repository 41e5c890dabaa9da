/* winnow: find and fix mislabeled images from the terminal.
 *
 * main() only dispatches: `winnow CMD ...` runs a command from the table in
 * commands.c, `winnow DB` is short for `winnow review DB`. */
#include "config.h"

#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "app/cmd.h"

static void
print_usage(FILE *f)
{
    fprintf(f, "usage: winnow COMMAND [ARGS]\n"
               "       winnow --help | --version\n\n"
               "Find and fix mislabeled images.\n\ncommands:\n");
    for (const struct cmd *const *c = commands; *c != NULL; c++)
        fprintf(f, "  %-8s %s\n", (*c)->name, (*c)->summary);
    fprintf(f, "\n`winnow COMMAND --help` describes a command; "
               "`man winnow` describes them all.\n");
}

int
main(int argc, char **argv)
{
    /* The environment's locale is for the screen: ncursesw and chafa need
     * its LC_CTYPE to draw UTF-8 and wide characters. Its decimal comma is
     * not wanted anywhere: what winnow writes is read by programs (CSV
     * fields split on commas, JSON, run parameters and top classes kept in
     * the project file and parsed back) and options must read 0.9 in every
     * locale, so printf and strtod keep the C locale's point for the whole
     * process. Nothing after this sets the locale again (ncurses, GLib and
     * chafa only query LC_CTYPE; tests/cli/t-locale.sh runs under a comma
     * locale). */
    setlocale(LC_ALL, "");
    setlocale(LC_NUMERIC, "C");
    /* Past `ulimit -f` a write should fail with EFBIG and reach the user
     * as a message, not kill the process halfway through a transaction. */
    signal(SIGXFSZ, SIG_IGN);
    if (argc < 2) {
        print_usage(stderr);
        return EXIT_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 ||
        strcmp(name, "help") == 0) {
        if (argc > 2 && strcmp(name, "help") == 0) {
            const struct cmd *c = cmd_find(argv[2]);
            if (c != NULL) {
                cmd_print_help(c, stdout);
                return EXIT_OK;
            }
        }
        print_usage(stdout);
        return EXIT_OK;
    }
    if (strcmp(name, "--version") == 0 || strcmp(name, "-V") == 0) {
        printf("winnow %s\n", PACKAGE_VERSION);
        return EXIT_OK;
    }
    const struct cmd *c = cmd_find(name);
    if (c != NULL)
        return c->run(argc - 1, argv + 1);
    /* `winnow DB` opens the review of an existing project file. */
    const struct cmd *review = cmd_find("review");
    if (review != NULL && name[0] != '-' && access(name, F_OK) == 0) {
        static char review_name[] = "review";
        char *args[] = {review_name, argv[1], NULL};
        return review->run(2, args);
    }
    if (name[0] == '-')
        cmd_error("unknown option '%s'", name);
    else
        cmd_error("unknown command '%s'", name);
    print_usage(stderr);
    return EXIT_USAGE;
}
