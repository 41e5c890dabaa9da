/* app/cmd-import.c: `winnow import DB (DIR | --csv FILE | --idx IMAGES
 * LABELS)`. Bad files are reported one per line as they are found; the
 * import goes on, and the summary says what was skipped and why. With
 * --strict the first bad file aborts and the project is left as it was; a
 * project file the failed import created is removed again. Otherwise a
 * failure (a full disk) keeps the batches committed before it, and says
 * so. An import that adds nothing and finds nothing of its source already
 * in the project fails too (exit 1), with the importer's word on why; the
 * same source imported again, all of it there, succeeds and says so. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/cmd.h"
#include "app/progress.h"
#include "data/import.h"
#include "data/store.h"

extern const struct cmd cmd_import;

struct import_ui {
    struct progress *progress;
    int quiet;
};

/* A copy of s with control characters shown as \xNN: file names and
 * manifest fields may hold a carriage return or a line break, which would
 * garble the terminal or split one report into two lines. */
static char *
printable(const char *s)
{
    char *out = xmalloc(4 * strlen(s) + 1), *o = out;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x20 || *p == 0x7f)
            o += sprintf(o, "\\x%02x", *p);
        else
            *o++ = (char)*p;
    }
    *o = '\0';
    return out;
}

static void
report_bad(void *ctx, const char *path, const char *reason)
{
    struct import_ui *ui = ctx;
    char *p = printable(path), *r = printable(reason);
    progress_message(ui->progress, "winnow: import: %s: %s", p, r);
    free(p);
    free(r);
}

static void
report_progress(void *ctx, size_t done, size_t total)
{
    struct import_ui *ui = ctx;
    progress_update(ui->progress, done, total, "images", NULL);
}

static void
remove_project(const char *db)
{
    char *wal = xasprintf("%s-wal", db), *shm = xasprintf("%s-shm", db);
    unlink(db);
    unlink(wal);
    unlink(shm);
    free(wal);
    free(shm);
}

static void
print_summary(const char *db, const struct import_result *r, int n_classes)
{
    const struct store_import_stats *st = &r->st;
    printf("imported %lld images into %s in %.1f s", (long long)st->imported,
           db, r->seconds);
    if (r->seconds > 0 && st->imported > 0)
        printf(" (%.0f images/s)", (double)st->imported / r->seconds);
    printf("\n");
    printf("classes: %d (%d new)\n", n_classes, r->n_new_classes);
    if (st->existing > 0)
        printf("already in the project: %lld (not imported again)\n",
               (long long)st->existing);
    if (st->imported == 0)
        printf("nothing new: the images of this source are in %s already\n",
               db);
    if (st->duplicates > 0)
        printf("exact duplicates of earlier samples: %lld (see winnow info)\n",
               (long long)st->duplicates);
    if (st->skipped > 0) {
        printf("skipped: %lld (each named above)\n", (long long)st->skipped);
        for (size_t i = 0; i < r->n_reasons; i++)
            printf("  %6lld  %s\n", (long long)r->reasons[i].count,
                   r->reasons[i].reason);
    }
}

struct import_args {
    struct import_options opt;
    const char *csv;
    const char *idx[2]; /* IMAGES, LABELS */
    int quiet;
};

#define IMPORT_FIELD(m, t) CMD_FIELD(struct import_args, m, t)

/* --sep: a literal tab works as well as the word, for `--sep $'\t'`. */
static int
parse_sep(const struct cmd *c, const struct cmd_option *o, const char *arg,
          char **more, int n_more, void *field)
{
    (void)o;
    (void)more;
    (void)n_more;
    char *sep = field;
    if (strcmp(arg, ",") == 0 || strcmp(arg, ";") == 0)
        *sep = arg[0];
    else if (strcmp(arg, "tab") == 0 || strcmp(arg, "\\t") == 0 ||
             strcmp(arg, "\t") == 0)
        *sep = '\t';
    else {
        cmd_usage_error(c, "--sep takes ',', ';' or tab, not '%s'", arg);
        return -1;
    }
    return 0;
}

static const struct cmd_option import_options[] = {
    {.name = "csv",
     .kind = OPT_STRING,
     .offset = IMPORT_FIELD(csv, const char *),
     .argname = "FILE",
     .help = "a manifest: a path and a label column, any\n"
             "others ignored; relative paths are under the\n"
             "manifest's folder"},
    {.name = "path-column",
     .kind = OPT_STRING,
     .offset = IMPORT_FIELD(opt.path_column, const char *),
     .argname = "NAME",
     .nested = 1,
     .help = "the column of paths (default: the first of\n"
             "path, filename, file, image, image_path)"},
    {.name = "label-column",
     .kind = OPT_STRING,
     .offset = IMPORT_FIELD(opt.label_column, const char *),
     .argname = "NAME",
     .nested = 1,
     .help = "the column of labels (default: the first of\n"
             "label, class, category, target)"},
    {.name = "no-header",
     .kind = OPT_FLAG,
     .offset = IMPORT_FIELD(opt.no_header, int),
     .nested = 1,
     .help = "the first line is a row: path in column 1,\n"
             "label in 2 (the options above take numbers)"},
    {.name = "sep",
     .kind = OPT_CALL,
     .offset = IMPORT_FIELD(opt.sep, char),
     .choices = (const char *const[]){",", ";", "tab", NULL},
     .argname = "SEP",
     .nested = 1,
     .help = "',', ';' or tab (default: detected)",
     .parse = parse_sep},
    {.name = "root",
     .kind = OPT_STRING,
     .offset = IMPORT_FIELD(opt.root, const char *),
     .argname = "DIR",
     .nested = 1,
     .help = "where relative paths are (default: the\n"
             "manifest's folder)"},
    {.name = "idx",
     .kind = OPT_PAIR,
     .offset = IMPORT_FIELD(idx, const char **),
     .argname = "IMAGES LABELS",
     .help = "MNIST-style IDX files (plain or .gz)"},
    {.name = "class-names",
     .kind = OPT_STRING,
     .offset = IMPORT_FIELD(opt.class_names_file, const char *),
     .argname = "FILE",
     .heading = "options:",
     .help = "IDX: class names, one per line, in label order"},
    {.name = "strict",
     .kind = OPT_FLAG,
     .offset = IMPORT_FIELD(opt.strict, int),
     .help = "stop at the first bad file and change nothing"},
    {.name = "max-side",
     .kind = OPT_INT,
     .offset = IMPORT_FIELD(opt.max_side, int),
     .min = 8,
     .max = 4096,
     .argname = "N",
     .help = "longest side of the copy kept in the project\n"
             "(default 128; larger images are shrunk)"},
    {.name = "threads",
     .kind = OPT_INT,
     .offset = IMPORT_FIELD(opt.threads, int),
     .min = 1,
     .max = 1024,
     .argname = "N",
     .help = "decoding threads (default: all cores)"},
    {.name = "quiet",
     .short_name = 'q',
     .kind = OPT_FLAG,
     .offset = IMPORT_FIELD(quiet, int),
     .help = "no progress, only errors and the summary"},
    {0},
};

static int
run_import(int argc, char **argv)
{
    const struct cmd *c = &cmd_import;
    struct import_args a = {0};
    int n_operands, done = cmd_parse(c, argc, argv, &a, &n_operands);
    if (done >= 0)
        return done;
    struct import_options opt = a.opt;
    const char *csv = a.csv, *idx_images = a.idx[0];
    int quiet = a.quiet;
    /* DB, then DIR unless --csv or --idx names the dataset. */
    char **operands = argv + 1;
    if (csv != NULL && idx_images != NULL)
        return cmd_usage_error(c, "--csv and --idx do not go together");
    if ((csv != NULL || idx_images != NULL) && n_operands > 1)
        return cmd_extra_operand(c, operands[1]);
    if (csv == NULL && idx_images == NULL && n_operands < 2)
        return cmd_usage_error(c, "missing dataset: a folder, --csv FILE "
                                  "or --idx IMAGES LABELS");
    const char *csv_only = opt.path_column != NULL    ? "--path-column"
                           : opt.label_column != NULL ? "--label-column"
                           : opt.no_header            ? "--no-header"
                           : opt.sep != 0             ? "--sep"
                           : opt.root != NULL         ? "--root"
                                                      : NULL;
    if (csv_only != NULL && csv == NULL)
        return cmd_usage_error(c, "%s goes with --csv", csv_only);
    if (opt.class_names_file != NULL && idx_images == NULL)
        return cmd_usage_error(c, "--class-names goes with --idx (folder "
                                  "and CSV imports name classes themselves)");
    const char *db = operands[0];

    int existed = access(db, F_OK) == 0;
    struct store *s;
    char *cause = NULL;
    if ((s = cmd_open_store(db, STORE_CREATE)) == NULL) {
        /* Creating it can fail half way too (a full disk). */
        if (!existed)
            remove_project(db);
        return EXIT_FAIL;
    }
    struct import_ui ui = {.quiet = quiet};
    ui.progress = progress_new("import", quiet);
    opt.report = report_bad;
    opt.progress = report_progress;
    opt.ctx = &ui;
    struct import_result res = {0};
    int rc;
    if (csv != NULL)
        rc = import_csv(s, csv, &opt, &res, &cause);
    else if (idx_images != NULL)
        rc = import_idx(s, idx_images, a.idx[1], &opt, &res, &cause);
    else
        rc = import_folder(s, operands[1], &opt, &res, &cause);
    progress_free(ui.progress);
    int n_classes = 0;
    char *cause2 = NULL;
    if (rc == 0 && store_class_count(s, &n_classes, &cause2) != 0) {
        free(cause2);
        n_classes = -1;
    }
    store_close(s);
    if (rc != 0) {
        char *shown = printable(cause);
        cmd_error("import: %s", shown);
        free(shown);
        free(cause);
        /* A failed import rolls back to its last commit: res counts what
         * the project keeps (--strict commits only at the end). */
        if (!existed && res.st.imported == 0)
            remove_project(db);
        else if (res.st.imported == 0)
            fprintf(stderr,
                    "winnow: import: nothing was imported; %s is as "
                    "it was\n",
                    db);
        else
            fprintf(stderr,
                    "winnow: import: the %lld images imported before "
                    "that are kept in %s; the same import again adds "
                    "the rest\n",
                    (long long)res.st.imported, db);
        import_result_fini(&res);
        return EXIT_FAIL;
    }
    print_summary(db, &res, n_classes);
    import_result_fini(&res);
    return EXIT_OK;
}

const struct cmd cmd_import = {
    .name = "import",
    .usage = "DB (DIR | --csv FILE | --idx IMAGES LABELS) [options]",
    .summary = "import a labeled image dataset into a project file",
    .operands =
        (const struct cmd_operand[]){
            CMD_OPERAND_DB,
            {.name = "DIR",
             .help = "class folders: DIR/<class>/**/*.png, .jpg, .jpeg or\n"
                     ".webp, in any letter case",
             .heading = "sources:"},
            {0},
        },
    .min_operands = 1,
    .options = import_options,
    .notes = "Importing the same source again adds only what is new.\n",
    .run = run_import,
};
