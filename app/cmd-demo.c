/* app/cmd-demo.c: `winnow demo [DB]`, the whole product in a minute.
 *
 * The demo dataset ships with winnow: 2,000 CIFAR-10 test images (200 per
 * class) in IDX files, with 10% of the labels flipped to another class on
 * purpose and the flips recorded in truth.csv (made by
 * tests/bench/make-demo.sh). The demo imports them into a project file
 * (once: a second run reopens it), opens the review screen, which starts
 * scoring in the background, and on the way out tells how many of the
 * planted errors the person found.
 *
 * The data is looked for in $WINNOW_DEMO_DATA, then where `make install`
 * put it, then in the source tree of an uninstalled build. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/cmd.h"
#include "app/progress.h"
#include "app/review_cmd.h"
#include "data/csv.h"
#include "data/import.h"
#include "data/store.h"
#include "ui/review.h"

extern const struct cmd cmd_demo;

#ifndef WINNOW_DEMO_DIR
#define WINNOW_DEMO_DIR ""
#endif
#ifndef WINNOW_DEMO_SRCDIR
#define WINNOW_DEMO_SRCDIR ""
#endif

#define DEMO_DB      "winnow-demo.db"
#define DEMO_IMAGES  "demo-images-idx3-ubyte.gz"
#define DEMO_LABELS  "demo-labels-idx1-ubyte.gz"
#define DEMO_CLASSES "classes.txt"
#define DEMO_TRUTH   "truth.csv"
/* Epochs of the demo's run: enough for a useful ranking of 2,000 images
 * in about a minute on two cores. */
#define DEMO_EPOCHS  12

static char *
demo_file(const char *dir, const char *name)
{
    return xasprintf("%s/%s", dir, name);
}

/* The first folder that holds the demo's images file. */
static const char *
demo_dir(void)
{
    const char *env = getenv("WINNOW_DEMO_DATA");
    const char *dirs[] = {WINNOW_DEMO_DIR, WINNOW_DEMO_SRCDIR};
    if (env != NULL && env[0] != '\0') {
        /* Asked for: that folder or nothing. */
        dirs[0] = env;
        dirs[1] = "";
    }
    for (size_t i = 0; i < WN_ARRAY_LEN(dirs); i++) {
        if (dirs[i][0] == '\0')
            continue;
        char *f = demo_file(dirs[i], DEMO_IMAGES);
        int ok = access(f, R_OK) == 0;
        free(f);
        if (ok)
            return dirs[i];
    }
    return NULL;
}

static void
demo_progress(void *ctx, size_t done, size_t total)
{
    progress_update(ctx, done, total, "images", NULL);
}

static void
demo_report_bad(void *ctx, const char *path, const char *reason)
{
    progress_message(ctx, "winnow: demo: %s: %s", path, reason);
}

static void
demo_remove(const char *db)
{
    char *wal = xasprintf("%s-wal", db), *shm = xasprintf("%s-shm", db);
    unlink(db);
    unlink(wal);
    unlink(shm);
    free(wal);
    free(shm);
}

static int
demo_import(const char *db, const char *dir)
{
    struct store *s;
    char *cause = NULL;
    if (store_open(db, STORE_CREATE, &s, &cause) != 0) {
        cmd_error("demo: %s: %s", db, cause);
        free(cause);
        return -1;
    }
    char *images = demo_file(dir, DEMO_IMAGES);
    char *labels = demo_file(dir, DEMO_LABELS);
    char *names = demo_file(dir, DEMO_CLASSES);
    struct progress *bar = progress_new("demo", 0);
    struct import_options opt = {
        .class_names_file = names,
        .report = demo_report_bad,
        .progress = demo_progress,
        .ctx = bar,
    };
    struct import_result res = {0};
    int rc = import_idx(s, images, labels, &opt, &res, &cause);
    progress_free(bar);
    store_close(s);
    if (rc != 0) {
        cmd_error("demo: %s", cause);
        free(cause);
        demo_remove(db);
    } else {
        printf("demo: imported %lld CIFAR-10 images into %s (10%% "
               "mislabeled on purpose)\n",
               (long long)res.st.imported, db);
    }
    import_result_fini(&res);
    free(images);
    free(labels);
    free(names);
    return rc;
}

static int
demo_state_cmp(const void *a, const void *b)
{
    return strcmp(((const struct store_label_state *)a)->path,
                  ((const struct store_label_state *)b)->path);
}

static int
demo_class(char **names, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0)
            return i;
    return -1;
}

struct demo_tally {
    int64_t flipped, fixed, wrong, unreviewed, broken, samples;
};

/* Compare the project's labels with truth.csv (path,true_label,
 * given_label: one row per flipped sample). */
static int
demo_tally(const char *db, const char *truth, struct demo_tally *t,
           char **cause)
{
    struct store *s = NULL;
    struct store_label_state *st = NULL;
    size_t n = 0;
    char **names = NULL;
    int k = 0, rc = -1;
    unsigned char *buf = NULL;
    size_t len;
    struct csv *csv = NULL;
    char *flipped_mark = NULL;
    memset(t, 0, sizeof *t);
    if (store_open(db, STORE_READONLY, &s, cause) != 0)
        return -1;
    if (store_label_states(s, &st, &n, cause) != 0 ||
        store_class_names(s, &names, &k, cause) != 0 ||
        wn_read_file(truth, (size_t)64 << 20, &buf, &len, cause) != 0)
        goto done;
    qsort(st, n, sizeof *st, demo_state_cmp);
    flipped_mark = xcalloc(n ? n : 1, 1);
    csv = csv_new((const char *)buf, len);
    char **f;
    size_t nf, line;
    int r;
    while ((r = csv_next(csv, &f, &nf, &line, cause)) == 1) {
        if (line == 1 || nf < 3)
            continue; /* the header */
        struct store_label_state key = {.path = f[0]};
        struct store_label_state *x =
            n > 0 ? bsearch(&key, st, n, sizeof *st, demo_state_cmp) : NULL;
        int truth_label = demo_class(names, k, f[1]);
        if (x == NULL || truth_label < 0)
            continue;
        flipped_mark[x - st] = 1;
        t->flipped++;
        int decided = x->review == STORE_KEPT || x->review == STORE_RELABELED;
        if (!decided)
            t->unreviewed++;
        else if (x->label == truth_label)
            t->fixed++;
        else
            t->wrong++;
    }
    if (r < 0)
        goto done;
    /* A correct label a person changed is an error made, not found. */
    for (size_t i = 0; i < n; i++)
        if (!flipped_mark[i] && st[i].label != st[i].given)
            t->broken++;
    t->samples = (int64_t)n;
    rc = 0;
done:
    csv_free(csv);
    free(buf);
    free(flipped_mark);
    store_names_free(names);
    store_states_free(st, n);
    store_close(s);
    return rc;
}

static void
demo_report(const char *db, const char *dir)
{
    struct demo_tally t;
    char *cause = NULL;
    char *truth = demo_file(dir, DEMO_TRUTH);
    if (demo_tally(db, truth, &t, &cause) != 0) {
        cmd_error("demo: cannot count the planted errors: %s", cause);
        free(cause);
        free(truth);
        return;
    }
    free(truth);
    printf("demo: %lld of the %lld labels were flipped on purpose: you "
           "found and fixed %lld;\n"
           "demo: %lld are still unreviewed",
           (long long)t.flipped, (long long)t.samples, (long long)t.fixed,
           (long long)t.unreviewed);
    if (t.wrong > 0)
        printf(", %lld got a label that is still wrong", (long long)t.wrong);
    printf(".\n");
    if (t.broken > 0)
        printf("demo: %lld correct label%s changed to a wrong one.\n",
               (long long)t.broken, t.broken == 1 ? " was" : "s were");
    printf("demo: go on with: winnow demo%s%s\n"
           "demo: the cleaned labels: winnow export %s --labels clean.csv\n",
           strcmp(db, DEMO_DB) == 0 ? "" : " ",
           strcmp(db, DEMO_DB) == 0 ? "" : db, db);
}

static int
run_demo(int argc, char **argv)
{
    const struct cmd *c = &cmd_demo;
    struct review_options o;
    int n, done = review_cmd_parse(c, argc, argv, &o, &n);
    if (done >= 0)
        return done;
    const char *db = n == 1 ? argv[1] : DEMO_DB;
    if (o.epochs == 0)
        o.epochs = DEMO_EPOCHS;

    const char *dir = demo_dir();
    if (dir == NULL) {
        const char *env = getenv("WINNOW_DEMO_DATA");
        if (env != NULL && env[0] != '\0')
            cmd_error("demo: the demo data is not in %s ($WINNOW_DEMO_DATA): "
                      "no " DEMO_IMAGES " there",
                      env);
        else
            cmd_error("demo: the demo data is not installed (looked in %s "
                      "and %s)",
                      WINNOW_DEMO_DIR[0] ? WINNOW_DEMO_DIR : "-",
                      WINNOW_DEMO_SRCDIR[0] ? WINNOW_DEMO_SRCDIR : "-");
        return EXIT_FAIL;
    }
    if (access(db, F_OK) == 0) {
        printf("demo: reopening %s\n", db);
    } else if (errno != ENOENT) {
        cmd_error("demo: %s: %s", db, strerror(errno));
        return EXIT_FAIL;
    } else if (demo_import(db, dir) != 0) {
        return EXIT_FAIL;
    }
    fflush(stdout);
    if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
        cmd_error("demo: the review screen needs a terminal; run `winnow "
                  "demo%s%s` in one",
                  n == 1 ? " " : "", n == 1 ? db : "");
        return EXIT_FAIL;
    }

    review_cmd_budgets();
    struct review_result res;
    char *cause = NULL;
    if (review_run(db, &o, &res, &cause) != 0) {
        cmd_error("demo: %s: %s", db, cause);
        free(cause);
        return EXIT_FAIL;
    }
    review_cmd_report(db, &res);
    demo_report(db, dir);
    return EXIT_OK;
}

const struct cmd cmd_demo = {
    .name = "demo",
    .usage = "[DB] [--threads T] [--epochs N] [--no-engine] [--debug FILE]",
    .summary = "review a small CIFAR-10 set with known label errors",
    .operands = (const struct cmd_operand[]){CMD_OPERAND_DB, {0}},
    .options = review_cmd_options,
    .help_column = 17,
    .notes = "Imports 2,000 CIFAR-10 images, 10% of them labeled wrong on "
             "purpose, into DB\n"
             "(default " DEMO_DB "; an existing one is reopened), starts "
             "scoring and opens\n"
             "the review screen. On quit it tells how many of the planted "
             "errors were fixed.\n"
             "The options are those of `winnow review`; --epochs defaults "
             "to 12 here.\n"
             "WINNOW_DEMO_DATA=DIR uses the demo files in DIR.\n",
    .run = run_demo,
};
