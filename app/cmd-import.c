/* app/cmd-import.c: `winnow import DB (DIR | --csv FILE | --idx IMAGES
 * LABELS)`. Bad files are reported one per line as they are found; the
 * import goes on, and the summary says what was skipped and why. With
 * --strict the first bad file aborts and the project is left as it was; a
 * project file the failed import created is removed again. Otherwise a
 * failure (a full disk) keeps the batches committed before it, and says
 * so. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
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

static int
run_import(int argc, char **argv)
{
    const struct cmd *c = &cmd_import;
    static const struct option longopts[] = {
        {"csv", required_argument, NULL, 'c'},
        {"idx", required_argument, NULL, 'i'},
        {"class-names", required_argument, NULL, 'n'},
        {"strict", no_argument, NULL, 's'},
        {"max-side", required_argument, NULL, 'm'},
        {"threads", required_argument, NULL, 't'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct import_options opt = {0};
    const char *csv = NULL, *idx_images = NULL;
    int quiet = 0, o;
    long v;
    opterr = 0;
    optind = 1;
    while ((o = getopt_long(argc, argv, ":hq", longopts, NULL)) != -1) {
        switch (o) {
        case 'c':
            csv = optarg;
            break;
        case 'i':
            idx_images = optarg;
            break;
        case 'n':
            opt.class_names_file = optarg;
            break;
        case 's':
            opt.strict = 1;
            break;
        case 'm':
            if (cmd_parse_int(c, "--max-side", optarg, 8, 4096, &v) != 0)
                return EXIT_USAGE;
            opt.max_side = (int)v;
            break;
        case 't':
            if (cmd_parse_int(c, "--threads", optarg, 1, 1024, &v) != 0)
                return EXIT_USAGE;
            opt.threads = (int)v;
            break;
        case 'q':
            quiet = 1;
            break;
        case 'h':
            cmd_print_help(c, stdout);
            return EXIT_OK;
        default:
            return cmd_option_error(c, o, argv);
        }
    }
    /* getopt moves operands to the end in order: DB, then DIR, or the
     * LABELS file that follows --idx IMAGES. */
    int n_operands = argc - optind;
    char **operands = argv + optind;
    const char *what = csv ? "--csv" : idx_images ? "--idx" : NULL;
    if (csv != NULL && idx_images != NULL)
        return cmd_usage_error(c, "--csv and --idx do not go together");
    if (n_operands < 1)
        return cmd_usage_error(c, "missing project file DB");
    if (what == NULL && n_operands < 2)
        return cmd_usage_error(c, "missing dataset: a folder, --csv FILE "
                                  "or --idx IMAGES LABELS");
    if (idx_images != NULL && n_operands < 2)
        return cmd_usage_error(c, "--idx needs two files: IMAGES LABELS");
    if (n_operands > (csv != NULL ? 1 : 2))
        return cmd_usage_error(c, "unexpected argument '%s'",
                               operands[csv != NULL ? 1 : 2]);
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
        rc = import_idx(s, idx_images, operands[1], &opt, &res, &cause);
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
            fprintf(stderr, "winnow: import: nothing was imported; %s is as "
                            "it was\n", db);
        else
            fprintf(stderr, "winnow: import: the %lld images imported before "
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
    .help = "sources:\n"
            "  DIR                  class folders: DIR/<class>/**/*.png\n"
            "                       (also .jpg, .jpeg, .webp; any case)\n"
            "  --csv FILE           a manifest with 'path' and 'label' "
            "columns;\n"
            "                       paths relative to the manifest's folder\n"
            "  --idx IMAGES LABELS  MNIST-style IDX files (plain or .gz)\n"
            "options:\n"
            "  --class-names FILE   IDX: class names, one per line, in label "
            "order\n"
            "  --strict             stop at the first bad file and change "
            "nothing\n"
            "  --max-side N         longest side of the copy kept in the "
            "project\n"
            "                       (default 64; larger images are shrunk)\n"
            "  --threads N          decoding threads (default: all cores)\n"
            "  -q, --quiet          no progress, only errors and the summary\n"
            "Importing the same source again adds only what is new.\n",
    .run = run_import,
};
