/* The option tables (app/cmd.h): every option of every command is in its
 * section of man/winnow.1 and every option its usage line names is in its
 * table, so the manual, the usage and the parser cannot part; and
 * cmd_parse, on a table of every kind, stores what it should and says
 * each usage error in its one wording. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/cmd.h"
#include "tests/tap.h"

#ifndef WINNOW_MAN_PAGE
#define WINNOW_MAN_PAGE "man/winnow.1"
#endif

/* ---- the manual ---- */

/* "\-\-no\-flip": how roff writes a long option. */
static char *
roff_option(const char *name)
{
    char *out = xmalloc(4 + 2 * strlen(name) + 1), *o = out;
    o += sprintf(o, "\\-\\-");
    for (const char *p = name; *p; p++) {
        if (*p == '-')
            *o++ = '\\';
        *o++ = *p;
    }
    *o = '\0';
    return out;
}

/* The text of c's section: from `.SS "winnow NAME` to the next heading;
 * NULL if there is none. Points into man. */
static const char *
man_section(const char *man, const struct cmd *c, size_t *len)
{
    char *head = xasprintf(".SS \"winnow %s ", c->name);
    const char *start = strstr(man, head);
    if (start == NULL) {
        /* A section of its name alone, without operands. */
        head[strlen(head) - 1] = '"';
        start = strstr(man, head);
    }
    free(head);
    if (start == NULL)
        return NULL;
    const char *end = start + 1;
    while ((end = strchr(end, '\n')) != NULL &&
           strncmp(end, "\n.SS ", 5) != 0 && strncmp(end, "\n.SH ", 5) != 0)
        end++;
    *len = end != NULL ? (size_t)(end - start) : strlen(start);
    return start;
}

/* word in text[0..len), not as the start of a longer option (\-\-no
 * in \-\-no\-flip). */
static int
has_word(const char *text, size_t len, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = text; p + n <= text + len; p++) {
        if (strncmp(p, word, n) != 0)
            continue;
        const char *after = p + n;
        int longer = (*after >= 'a' && *after <= 'z') ||
                     (*after >= '0' && *after <= '9') ||
                     (after[0] == '\\' && after[1] == '-' && after[2] >= 'a' &&
                      after[2] <= 'z');
        if (!longer)
            return 1;
    }
    return 0;
}

/* In c's section, or in that of a command sharing c's table (demo's
 * section refers to review's). */
static int
documented(const char *man, const struct cmd *c, const char *word)
{
    for (const struct cmd *const *d = commands; *d != NULL; d++) {
        if (*d != c && (*d)->options != c->options)
            continue;
        size_t len;
        const char *sec = man_section(man, *d, &len);
        if (sec != NULL && has_word(sec, len, word))
            return 1;
    }
    return 0;
}

static void
test_manual(void)
{
    unsigned char *buf;
    size_t len;
    char *cause = NULL;
    if (wn_read_file(WINNOW_MAN_PAGE, (size_t)1 << 24, &buf, &len, &cause) != 0)
        bail("%s", cause);
    const char *man = (const char *)buf; /* NUL-terminated */
    int n_options = 0;
    for (const struct cmd *const *c = commands; *c != NULL; c++) {
        size_t sec_len;
        ok(man_section(man, *c, &sec_len) != NULL,
           "winnow.1 has a section for %s", (*c)->name);
        for (const struct cmd_option *o = (*c)->options; o && o->name; o++) {
            char *word = roff_option(o->name);
            ok(documented(man, *c, word), "winnow.1 documents %s --%s",
               (*c)->name, o->name);
            free(word);
            if (o->short_name != 0) {
                char letter[8];
                snprintf(letter, sizeof letter, "\\-%c", o->short_name);
                ok(documented(man, *c, letter), "winnow.1 documents %s -%c",
                   (*c)->name, o->short_name);
            }
            n_options++;
        }
    }
    ok(n_options >= 30, "the tables hold every option (%d)", n_options);
    /* The walk itself must see a missing option. */
    ok(!documented(man, commands[0], "\\-\\-no\\-such\\-option"),
       "an option the manual lacks is found missing");
    free(buf);
}

/* Every --word of a usage line is an option of the command. */
static void
test_usage_lines(void)
{
    for (const struct cmd *const *c = commands; *c != NULL; c++) {
        for (const char *p = strstr((*c)->usage, "--"); p != NULL;
             p = strstr(p, "--")) {
            p += 2;
            size_t n = strspn(p, "abcdefghijklmnopqrstuvwxyz-");
            int found = 0;
            for (const struct cmd_option *o = (*c)->options; o && o->name; o++)
                found |= strlen(o->name) == n && strncmp(o->name, p, n) == 0;
            ok(found, "%s: --%.*s of the usage line is in the table",
               (*c)->name, (int)n, p);
        }
    }
}

/* ---- the parser, on a table of every kind ---- */

struct t_args {
    int quiet, verbose, on, count;
    double ratio;
    const char *name;
    int mode;
    const char *pair[2];
    const char *call[2];
};

static const char *const t_modes[] = {"a", "b", "c", NULL};

/* --call X: X, and with X "two" the next word as well. */
static int
t_call(const struct cmd *c, const struct cmd_option *o, const char *arg,
       char **more, int n_more, void *field)
{
    (void)o;
    const char **out = field;
    out[0] = arg;
    if (strcmp(arg, "two") != 0)
        return 0;
    if (n_more < 1)
        return cmd_usage_error(c, "--call two needs a word"), -1;
    out[1] = more[0];
    return 1;
}

#define T_FIELD(m, t) CMD_FIELD(struct t_args, m, t)

static const struct cmd_option t_options[] = {
    {.name = "quiet",
     .short_name = 'q',
     .kind = OPT_FLAG,
     .offset = T_FIELD(quiet, int),
     .heading = "options:",
     .help = "say less"},
    {.name = "verbose",
     .short_name = 'v',
     .kind = OPT_FLAG,
     .offset = T_FIELD(verbose, int),
     .help = "say more"},
    {.name = "on",
     .kind = OPT_FLAG,
     .offset = T_FIELD(on, int),
     .help = "switch it on"},
    {.name = "no-on", .kind = OPT_NO_FLAG, .offset = T_FIELD(on, int)},
    {.name = "count",
     .short_name = 'c',
     .kind = OPT_INT,
     .offset = T_FIELD(count, int),
     .min = 1,
     .max = 9,
     .argname = "N",
     .help = "how many\nof them"},
    {.name = "ratio",
     .kind = OPT_DOUBLE,
     .offset = T_FIELD(ratio, double),
     .dmin = 0.0,
     .dmax = 1.0,
     .argname = "R",
     .nested = 1,
     .help = "a share"},
    {.name = "name",
     .kind = OPT_STRING,
     .offset = T_FIELD(name, const char *),
     .argname = "TEXT",
     .help = "a name"},
    {.name = "mode",
     .kind = OPT_CHOICE,
     .offset = T_FIELD(mode, int),
     .choices = t_modes,
     .argname = "M",
     .help = "a, b or c"},
    {.name = "pair",
     .kind = OPT_PAIR,
     .offset = T_FIELD(pair, const char **),
     .argname = "ONE TWO",
     .help = "two words"},
    {.name = "call",
     .kind = OPT_CALL,
     .offset = T_FIELD(call, const char **),
     .parse = t_call,
     .choices = (const char *const[]){"one", "two W", NULL},
     .choice_help = (const char *const[]){"one word", "two words"}},
    {0},
};

static const struct cmd t_cmd = {
    .name = "t",
    .usage = "DB B [C]",
    .summary = "a command for the tests",
    .operands =
        (const struct cmd_operand[]){
            CMD_OPERAND_DB,
            {.name = "B", .what = "thing"},
            {.name = "C", .help = "a third"},
            {0},
        },
    .min_operands = 2,
    .options = t_options,
    .notes = "Notes.\n",
};

struct t_run {
    int status, n;
    struct t_args a;
    char *argv[32];
    char words[512];
    char out[2048], err[2048];
};

static void
read_back(FILE *f, char *buf, size_t size)
{
    rewind(f);
    size_t n = fread(buf, 1, size - 1, f);
    buf[n] = '\0';
    fclose(f);
}

/* cmd_parse on "t" and the words of line, stdout and stderr kept. */
static void
t_parse(struct t_run *r, const char *line)
{
    memset(r, 0, sizeof *r);
    r->n = -1;
    snprintf(r->words, sizeof r->words, "t %s", line);
    int argc = 0;
    for (char *w = strtok(r->words, " "); w && argc < 31; w = strtok(NULL, " "))
        r->argv[argc++] = w;
    r->argv[argc] = NULL;
    FILE *out = tmpfile(), *err = tmpfile();
    if (out == NULL || err == NULL)
        bail("tmpfile failed");
    fflush(stdout);
    fflush(stderr);
    int saved_out = dup(1), saved_err = dup(2);
    dup2(fileno(out), 1);
    dup2(fileno(err), 2);
    r->status = cmd_parse(&t_cmd, argc, r->argv, &r->a, &r->n);
    fflush(stdout);
    fflush(stderr);
    dup2(saved_out, 1);
    dup2(saved_err, 2);
    close(saved_out);
    close(saved_err);
    read_back(out, r->out, sizeof r->out);
    read_back(err, r->err, sizeof r->err);
}

/* A usage error: exit status 2, the message, then the usage line. */
static void
usage_error(const char *line, const char *message)
{
    struct t_run r;
    t_parse(&r, line);
    char *want =
        xasprintf("winnow: t: %s\nusage: winnow t DB B [C]\n", message);
    ok(r.status == EXIT_USAGE && strcmp(r.err, want) == 0, "'%s': %s", line,
       message);
    if (strcmp(r.err, want) != 0)
        diag("got: %s", r.err);
    free(want);
}

static void
test_parse(void)
{
    struct t_run r;
    t_parse(&r, "-q x --count 3 y --name=n1 z");
    is_int(r.status, ==, -1);
    is_int(r.n, ==, 3);
    ok(r.a.quiet && r.a.count == 3 && strcmp(r.a.name, "n1") == 0,
       "options before, between and after the operands");
    ok(strcmp(r.argv[1], "x") == 0 && strcmp(r.argv[2], "y") == 0 &&
           strcmp(r.argv[3], "z") == 0,
       "the operands move to argv[1..n] in order");
    is_str(r.err, "");

    t_parse(&r, "x -- -q -");
    ok(r.status == -1 && r.n == 3 && !r.a.quiet &&
           strcmp(r.argv[2], "-q") == 0 && strcmp(r.argv[3], "-") == 0,
       "-- ends the options; - is an operand");

    t_parse(&r, "-qv -c5 x y");
    ok(r.status == -1 && r.a.quiet && r.a.verbose && r.a.count == 5,
       "short flags group, a short option's argument may join it");
    t_parse(&r, "-vc 4 x y");
    ok(r.status == -1 && r.a.verbose && r.a.count == 4,
       "or follow it as the next word");

    t_parse(&r, "--on --no-on x y");
    ok(r.status == -1 && r.a.on == 0, "--no-on after --on clears it");
    t_parse(&r, "--no-on --on x y");
    ok(r.status == -1 && r.a.on == 1, "--on after --no-on sets it");
    t_parse(&r, "--count 2 --count 7 x y");
    ok(r.status == -1 && r.a.count == 7, "the last value counts");
    t_parse(&r, "--cou 4 --ra .25 x y");
    ok(r.status == -1 && r.a.count == 4 && r.a.ratio == 0.25,
       "a long option may be shortened");
    t_parse(&r, "--mode c --pair p1 p2 x --call two w y");
    ok(r.status == -1 && r.a.mode == 2 && strcmp(r.a.pair[0], "p1") == 0 &&
           strcmp(r.a.pair[1], "p2") == 0 && strcmp(r.a.call[1], "w") == 0 &&
           r.n == 2 && strcmp(r.argv[2], "y") == 0,
       "a choice is stored as its index; a pair and a call take their words");

    usage_error("--bogus x y", "unknown option '--bogus'");
    usage_error("x y -z", "unknown option '-z'");
    usage_error("x y --name", "option '--name' needs an argument");
    usage_error("x y -c", "option '-c' needs an argument");
    usage_error("--quiet=1 x y", "option '--quiet' takes no argument");
    usage_error("--n x y", "option '--n' is ambiguous (--no-on, --name)");
    usage_error("--count 0 x y",
                "--count takes a whole number from 1 to 9, not '0'");
    usage_error("--count 3x x y",
                "--count takes a whole number from 1 to 9, not '3x'");
    usage_error("--ratio 2 x y", "--ratio takes a number from 0 to 1, not '2'");
    usage_error("--ratio nan x y",
                "--ratio takes a number from 0 to 1, not 'nan'");
    usage_error("--mode z x y", "--mode takes a, b or c, not 'z'");
    usage_error("x y --pair p1",
                "option '--pair' needs two arguments: ONE TWO");
    usage_error("--pair p1 -q x y",
                "option '--pair' needs two arguments: ONE TWO");
    usage_error("x y --call two", "--call two needs a word");
    usage_error("", "missing project file DB and thing B");
    usage_error("x", "missing thing B");
    usage_error("x y z w", "unexpected argument 'w'");
    usage_error("--count 0 --bogus", "--count takes a whole number from 1 "
                                     "to 9, not '0'");
}

static void
test_help(void)
{
    static const char want[] = "usage: winnow t DB B [C]\n"
                               "\n"
                               "a command for the tests\n"
                               "\n"
                               "  C               a third\n"
                               "options:\n"
                               "  -q, --quiet     say less\n"
                               "  -v, --verbose   say more\n"
                               "  --on            switch it on\n"
                               "  -c, --count N   how many\n"
                               "                  of them\n"
                               "    --ratio R     a share\n"
                               "  --name TEXT     a name\n"
                               "  --mode M        a, b or c\n"
                               "  --pair ONE TWO  two words\n"
                               "  --call one    one word\n"
                               "  --call two W  two words\n"
                               "Notes.\n";
    struct t_run r;
    t_parse(&r, "x --help --bogus");
    is_int(r.status, ==, EXIT_OK);
    is_str(r.out, want);
    is_str(r.err, "");
    t_parse(&r, "-h");
    ok(r.status == EXIT_OK && strcmp(r.out, want) == 0,
       "-h is --help, before the operands are counted");
    t_parse(&r, "--he");
    ok(r.status == EXIT_OK && strcmp(r.out, want) == 0,
       "and so is a prefix of --help");
}

int
main(void)
{
    test_manual();
    test_usage_lines();
    test_parse();
    test_help();
    return done_testing();
}
