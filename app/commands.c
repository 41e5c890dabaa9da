/* app/commands.c: the table of commands, and what they share: the
 * messages, the option parser and --help.
 *
 * Every command declares its options and operands as data (struct cmd in
 * app/cmd.h) and parses through cmd_parse, so each kind of usage error has
 * one wording for all commands, and --help is printed from the same rows
 * the parser reads (tests/unit/t-options.c checks man/winnow.1 against
 * them). The parser follows getopt_long, which the commands used before:
 * operands and options mix, "--" ends the options, a long option may be
 * shortened, short flags may be grouped (-qa). */
#include "config.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "app/cmd.h"
#include "data/store.h"

extern const struct cmd cmd_import, cmd_info, cmd_score, cmd_export, cmd_stats,
    cmd_log, cmd_set, cmd_undo, cmd_review, cmd_demo, cmd_dups;

const struct cmd *const commands[] = {
    &cmd_import, &cmd_info, &cmd_score, &cmd_export, &cmd_stats, &cmd_dups,
    &cmd_log,    &cmd_set,  &cmd_undo,  &cmd_review, &cmd_demo,  NULL,
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

static int
parse_double(const struct cmd *c, const char *opt, const char *arg, double min,
             double max, double *out)
{
    char *end;
    double v = strtod(arg, &end);
    /* !(in range) also refuses nan. */
    if (*arg == '\0' || *end != '\0' || !(v >= min && v <= max)) {
        cmd_usage_error(c, "%s takes a number from %g to %g, not '%s'", opt,
                        min, max, arg);
        return -1;
    }
    *out = v;
    return 0;
}

int
cmd_extra_operand(const struct cmd *c, const char *arg)
{
    return cmd_usage_error(c, "unexpected argument '%s'", arg);
}

/* "a, b or c" of a NULL-terminated list, into buf. */
static void
join_words(char *buf, size_t size, const char *const *words,
           const char *last_sep)
{
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = 0; words[i] != NULL; i++) {
        const char *sep = i == 0 ? "" : words[i + 1] == NULL ? last_sep : ", ";
        int n = snprintf(buf + len, size - len, "%s%s", sep, words[i]);
        if (n < 0 || (size_t)n >= size - len)
            return; /* cut short: the message is still an error */
        len += (size_t)n;
    }
}

int
cmd_bad_choice(const struct cmd *c, const struct cmd_option *o, const char *arg)
{
    char list[256];
    join_words(list, sizeof list, o->choices, " or ");
    return cmd_usage_error(c, "--%s takes %s, not '%s'", o->name, list, arg);
}

static int
missing_operands(const struct cmd *c, int given)
{
    char *names[16];
    char list[256];
    size_t n = 0;
    for (int i = given; i < c->min_operands && n + 1 < WN_ARRAY_LEN(names);
         i++) {
        const struct cmd_operand *op = &c->operands[i];
        /* Each name with what it is ("project file DB"), in buffers that
         * live until the message is out. */
        names[n++] = op->what != NULL ? xasprintf("%s %s", op->what, op->name)
                                      : xstrdup(op->name);
    }
    names[n] = NULL;
    join_words(list, sizeof list, (const char *const *)names, " and ");
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    return cmd_usage_error(c, "missing %s", list);
}

/* --help, as a row of every table for the lookups below. */
static const struct cmd_option help_row = {
    .name = "help",
    .short_name = 'h',
    .kind = OPT_FLAG,
};

/* The next row of c's table after o, then help_row, then NULL. */
static const struct cmd_option *
next_row(const struct cmd *c, const struct cmd_option *o)
{
    if (o == NULL)
        o = c->options != NULL && c->options->name != NULL ? c->options
                                                           : &help_row;
    else if (o == &help_row)
        o = NULL;
    else if ((++o)->name == NULL)
        o = &help_row;
    return o;
}

/* The row of a long option given as "--word" (word up to any '='): an
 * exact name, else the one name it begins. NULL after a usage error. */
static const struct cmd_option *
find_long(const struct cmd *c, const char *word, size_t len)
{
    const struct cmd_option *found = NULL;
    int n_found = 0;
    for (const struct cmd_option *o = next_row(c, NULL); o != NULL;
         o = next_row(c, o)) {
        if (strncmp(o->name, word, len) != 0)
            continue;
        if (o->name[len] == '\0')
            return o;
        if (n_found++ == 0)
            found = o;
    }
    if (len > 0 && n_found == 1)
        return found;
    if (len == 0 || n_found == 0) {
        cmd_usage_error(c, "unknown option '--%.*s'", (int)len, word);
        return NULL;
    }
    char list[256];
    size_t at = 0;
    list[0] = '\0';
    for (const struct cmd_option *o = next_row(c, NULL); o != NULL;
         o = next_row(c, o)) {
        if (strncmp(o->name, word, len) != 0 || at >= sizeof list)
            continue;
        int k = snprintf(list + at, sizeof list - at, "%s--%s",
                         at == 0 ? "" : ", ", o->name);
        at += k > 0 ? (size_t)k : 0;
    }
    cmd_usage_error(c, "option '--%.*s' is ambiguous (%s)", (int)len, word,
                    list);
    return NULL;
}

static const struct cmd_option *
find_short(const struct cmd *c, int letter)
{
    for (const struct cmd_option *o = next_row(c, NULL); o != NULL;
         o = next_row(c, o))
        if (o->short_name == letter)
            return o;
    return NULL;
}

static int
takes_argument(const struct cmd_option *o)
{
    return o->kind != OPT_FLAG && o->kind != OPT_NO_FLAG;
}

/* Store o's value, from arg (NULL for a flag) and, for the kinds that take
 * more than one word, from more[0..n_more). Returns the words of more
 * taken, or -1 after a usage error. */
static int
store_option(const struct cmd *c, const struct cmd_option *o, const char *arg,
             char **more, int n_more, void *out)
{
    char *field = (char *)out + o->offset;
    char opt[64];
    snprintf(opt, sizeof opt, "--%s", o->name);
    switch (o->kind) {
    case OPT_FLAG:
    case OPT_NO_FLAG: *(int *)field = o->kind == OPT_FLAG; return 0;
    case OPT_INT: {
        long v;
        if (cmd_parse_int(c, opt, arg, o->min, o->max, &v) != 0)
            return -1;
        *(int *)field = (int)v;
        return 0;
    }
    case OPT_DOUBLE:
        return parse_double(c, opt, arg, o->dmin, o->dmax, (double *)field);
    case OPT_STRING: *(const char **)field = arg; return 0;
    case OPT_CHOICE:
        for (int i = 0; o->choices[i] != NULL; i++) {
            if (strcmp(o->choices[i], arg) == 0) {
                *(int *)field = i;
                return 0;
            }
        }
        cmd_bad_choice(c, o, arg);
        return -1;
    case OPT_PAIR:
        /* A word like an option is not taken as the second file: the
         * user more likely forgot it. */
        if (n_more < 1 || (more[0][0] == '-' && more[0][1] != '\0')) {
            cmd_usage_error(c, "option '%s' needs two arguments: %s", opt,
                            o->argname);
            return -1;
        }
        ((const char **)field)[0] = arg;
        ((const char **)field)[1] = more[0];
        return 1;
    case OPT_CALL: return o->parse(c, o, arg, more, n_more, field);
    }
    return -1;
}

/* One word of options at argv[*i] ("--name[=arg]" or "-abc"), with the
 * words after it it takes; moves *i past them. Returns -1 to go on, else
 * the exit status. */
static int
parse_word(const struct cmd *c, int argc, char **argv, int *i, void *out)
{
    const char *word = argv[*i];
    if (word[1] == '-') {
        const char *name = word + 2, *eq = strchr(name, '=');
        size_t len = eq != NULL ? (size_t)(eq - name) : strlen(name);
        const struct cmd_option *o = find_long(c, name, len);
        if (o == NULL)
            return EXIT_USAGE;
        if (o == &help_row && eq == NULL) {
            cmd_print_help(c, stdout);
            return EXIT_OK;
        }
        const char *arg = NULL;
        (*i)++;
        if (takes_argument(o)) {
            if (eq != NULL) {
                arg = eq + 1;
            } else if (*i < argc) {
                arg = argv[(*i)++];
            } else {
                return cmd_usage_error(c, "option '--%s' needs an argument",
                                       o->name);
            }
        } else if (eq != NULL) {
            return cmd_usage_error(c, "option '--%s' takes no argument",
                                   o->name);
        }
        int took = store_option(c, o, arg, argv + *i, argc - *i, out);
        if (took < 0)
            return EXIT_USAGE;
        *i += took;
        return -1;
    }
    /* -abc: flags, the last of which may take the rest of the word or the
     * next word as its argument. */
    (*i)++;
    for (const char *p = word + 1; *p != '\0'; p++) {
        const struct cmd_option *o = find_short(c, (unsigned char)*p);
        if (o == NULL)
            return cmd_usage_error(c, "unknown option '-%c'", *p);
        if (o == &help_row) {
            cmd_print_help(c, stdout);
            return EXIT_OK;
        }
        const char *arg = NULL;
        if (takes_argument(o)) {
            if (p[1] != '\0')
                arg = p + 1;
            else if (*i < argc)
                arg = argv[(*i)++];
            else
                return cmd_usage_error(c, "option '-%c' needs an argument", *p);
        }
        int took = store_option(c, o, arg, argv + *i, argc - *i, out);
        if (took < 0)
            return EXIT_USAGE;
        *i += took;
        if (arg != NULL)
            break;
    }
    return -1;
}

int
cmd_parse(const struct cmd *c, int argc, char **argv, void *out,
          int *n_operands)
{
    int n = 0, max = 0, options_end = 0;
    while (c->operands != NULL && c->operands[max].name != NULL)
        max++;
    /* Operands move down to argv[1..n]; a slot is reused only once its
     * word has been read. */
    for (int i = 1; i < argc;) {
        const char *word = argv[i];
        if (options_end || word[0] != '-' || word[1] == '\0') {
            argv[1 + n++] = argv[i++];
            continue;
        }
        if (strcmp(word, "--") == 0) {
            options_end = 1;
            i++;
            continue;
        }
        int done = parse_word(c, argc, argv, &i, out);
        if (done >= 0)
            return done;
    }
    if (n < c->min_operands)
        return missing_operands(c, n);
    if (n > max)
        return cmd_extra_operand(c, argv[1 + max]);
    *n_operands = n;
    return -1;
}

/* One row of --help: left ("  -q, --quiet") padded to column, then help,
 * whose further lines start at column too; a left part too wide for the
 * column gets two spaces. */
static void
print_row(FILE *f, const char *left, int column, const char *help)
{
    int len = fprintf(f, "%s", left);
    if (help == NULL || *help == '\0') {
        fputc('\n', f);
        return;
    }
    fprintf(f, "%*s", len + 2 > column ? 2 : column - len, "");
    for (const char *p = help; *p != '\0';) {
        const char *nl = strchr(p, '\n');
        size_t n = nl != NULL ? (size_t)(nl - p) : strlen(p);
        if (p != help)
            fprintf(f, "%*s", column, "");
        fprintf(f, "%.*s\n", (int)n, p);
        p += n + (nl != NULL);
    }
}

static void
option_left(char *buf, size_t size, const struct cmd_option *o, const char *arg)
{
    char letter[8] = "";
    if (o->short_name != 0)
        snprintf(letter, sizeof letter, "-%c, ", o->short_name);
    snprintf(buf, size, "  %s%s--%s%s%s", o->nested ? "  " : "", letter,
             o->name, arg != NULL ? " " : "", arg != NULL ? arg : "");
}

/* The column of the rows' help: c's, or two past the widest row. */
static int
help_column(const struct cmd *c)
{
    char left[128];
    int width = 0;
    if (c->help_column > 0)
        return c->help_column;
    for (const struct cmd_operand *op = c->operands; op && op->name; op++)
        if (op->help != NULL && (int)strlen(op->name) + 2 > width)
            width = (int)strlen(op->name) + 2;
    for (const struct cmd_option *o = c->options; o && o->name; o++) {
        if (o->choice_help != NULL || o->help == NULL)
            continue; /* rows of their own, or none */
        option_left(left, sizeof left, o, o->argname);
        if ((int)strlen(left) > width)
            width = (int)strlen(left);
    }
    return width + 2;
}

void
cmd_print_help(const struct cmd *c, FILE *f)
{
    char left[128];
    int column = help_column(c), rows = 0;
    fprintf(f, "usage: winnow %s %s\n\n%s\n", c->name, c->usage, c->summary);
    for (const struct cmd_operand *op = c->operands; op && op->name; op++) {
        if (op->help == NULL)
            continue;
        if (rows++ == 0)
            fputc('\n', f);
        if (op->heading != NULL)
            fprintf(f, "%s\n", op->heading);
        snprintf(left, sizeof left, "  %s", op->name);
        print_row(f, left, column, op->help);
    }
    for (const struct cmd_option *o = c->options; o && o->name; o++) {
        if (o->help == NULL && o->choice_help == NULL)
            continue;
        if (rows++ == 0)
            fputc('\n', f);
        if (o->heading != NULL)
            fprintf(f, "%s\n", o->heading);
        if (o->choice_help == NULL) {
            option_left(left, sizeof left, o, o->argname);
            print_row(f, left, column, o->help);
            continue;
        }
        /* A row per choice ("--unreviewed keep"), aligned together. */
        int own = 0;
        for (int i = 0; o->choices[i] != NULL; i++) {
            option_left(left, sizeof left, o, o->choices[i]);
            if ((int)strlen(left) + 2 > own)
                own = (int)strlen(left) + 2;
        }
        for (int i = 0; o->choices[i] != NULL; i++) {
            option_left(left, sizeof left, o, o->choices[i]);
            print_row(f, left, own, o->choice_help[i]);
        }
    }
    if (c->notes != NULL && *c->notes != '\0')
        fprintf(f, "%s%s", rows == 0 ? "\n" : "", c->notes);
}
