/* app/cmd-export.c: `winnow export DB` with any set of --labels, --jsonl,
 * --folder, --scores and --idx, in one pass (data/export.c does the work).
 *
 * Signals do not kill an export: SIGINT, SIGTERM and SIGHUP set a flag the
 * writer checks at every sample (data/outfile.h), and a write blocked on a
 * pipe returns at once. The writer then removes its temporary files and
 * folders, so only SIGKILL can leave one behind (named NAME.tmp-PID, never
 * NAME). SIGPIPE, when there are files to clean up, is ignored (as SIGXFSZ
 * is, for every command, in app/main.c) so that a closed pipe is an error
 * like a full disk, cleaned up the same way. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/cmd.h"
#include "data/export.h"
#include "data/export_arrays.h"
#include "data/outfile.h"
#include "data/store.h"

extern const struct cmd cmd_export;

static const char *const policy_choices[] = {"keep", "drop-flagged",
                                             "accept-above P", NULL};
static const char *const policy_help[] = {
    "keep their label (default)",
    "leave out those the latest run flagged",
    "take the suggestion where its\n"
    "probability is at least P, recorded in the\n"
    "history as source auto once the export is done",
};

/* --unreviewed POLICY: accept-above takes a probability, as the next word
 * or after '=' (accept-above=0.9). */
static int
parse_policy(const struct cmd *c, const struct cmd_option *o, const char *arg,
             char **more, int n_more, void *field)
{
    struct export_options *opt = field;
    const char *p = NULL;
    int took = 0;
    if (strcmp(arg, "keep") == 0) {
        opt->policy = EXPORT_KEEP;
        return 0;
    }
    if (strcmp(arg, "drop-flagged") == 0) {
        opt->policy = EXPORT_DROP_FLAGGED;
        return 0;
    }
    if (strncmp(arg, "accept-above=", 13) == 0) {
        p = arg + 13;
    } else if (strcmp(arg, "accept-above") == 0) {
        if (n_more < 1) {
            cmd_usage_error(c, "--unreviewed accept-above needs a "
                               "probability P");
            return -1;
        }
        p = more[0];
        took = 1;
    } else {
        cmd_bad_choice(c, o, arg);
        return -1;
    }
    char *end;
    double v = strtod(p, &end);
    if (*p == '\0' || *end != '\0' || !(v >= 0.0 && v <= 1.0)) {
        cmd_usage_error(c,
                        "accept-above takes a probability from 0 to 1, "
                        "not '%s'",
                        p);
        return -1;
    }
    opt->policy = EXPORT_ACCEPT_ABOVE;
    opt->accept_p = v;
    return took;
}

/* Two outputs may not share a name (they would share a temporary) and
 * only one may be standard output. */
static int
check_names(const struct cmd *c, const struct export_options *o)
{
    const char *names[6] = {o->labels, o->jsonl,      o->folder,
                            o->scores, o->idx_images, o->idx_labels};
    int n_stdout = 0;
    for (int i = 0; i < 6; i++) {
        if (names[i] == NULL)
            continue;
        if (strcmp(names[i], "-") == 0) {
            if (i == 2 || i >= 4)
                return cmd_usage_error(c, "%s cannot be standard output",
                                       i == 2 ? "--folder" : "--idx");
            n_stdout++;
            continue;
        }
        for (int k = 0; k < i; k++)
            if (names[k] != NULL && strcmp(names[k], names[i]) == 0)
                return cmd_usage_error(c, "'%s' is named for two outputs",
                                       names[i]);
    }
    if (n_stdout > 1)
        return cmd_usage_error(c, "only one output can be standard output "
                                  "('-')");
    return 0;
}

static void
print_summary(FILE *f, const struct export_options *o,
              const struct export_result *r)
{
    int labels = o->labels || o->jsonl || o->folder || o->idx_images;
    if (labels) {
        fprintf(f,
                "exported %zu samples: %zu relabeled, %zu kept, %zu "
                "auto-accepted, %zu unreviewed",
                r->samples, r->review[STORE_RELABELED], r->review[STORE_KEPT],
                r->review[STORE_AUTO], r->review[STORE_UNREVIEWED]);
        if (o->policy == EXPORT_DROP_FLAGGED)
            fprintf(f, "; %zu flagged samples left out", r->dropped);
        if (o->dedupe)
            fprintf(f, "; %zu near-duplicates and copies left out", r->deduped);
        if (r->excluded > 0)
            fprintf(f, "; %zu dropped as duplicates in review left out",
                    r->excluded);
        fputc('\n', f);
    }
    if (r->accepted > 0)
        fprintf(f,
                "accepted %zu suggestions of run %lld (recorded as auto; "
                "winnow log shows them)\n",
                r->accepted, (long long)r->run_id);
    if (o->folder != NULL)
        fprintf(f,
                "%s: %zu links, %zu copies, %zu PNGs from the stored "
                "pixels\n",
                o->folder, r->linked, r->copied, r->rendered);
}

static const char *const link_choices[] = {"symbolic", "hard", "copy", NULL};

struct export_args {
    struct export_options opt;
    const char *idx[2]; /* IMAGES, LABELS */
    int link;           /* index in link_choices, -1 if not given */
    int quiet;
    const char *probs, *features; /* data/export_arrays.h */
};

#define EXPORT_FIELD(m, t) CMD_FIELD(struct export_args, m, t)

static const struct cmd_option export_options[] = {
    {.name = "labels",
     .kind = OPT_STRING,
     .offset = EXPORT_FIELD(opt.labels, const char *),
     .argname = "FILE",
     .heading = "outputs (any number at once; '-' is standard output):",
     .help = "path,label in import order, decisions applied"},
    {.name = "original",
     .kind = OPT_FLAG,
     .offset = EXPORT_FIELD(opt.original, int),
     .nested = 1,
     .help = "add given_label, the imported label"},
    {.name = "status",
     .kind = OPT_FLAG,
     .offset = EXPORT_FIELD(opt.status, int),
     .nested = 1,
     .help = "add status (unreviewed, kept, relabeled, auto)\n"
             "and score (the latest run's)"},
    {.name = "jsonl",
     .kind = OPT_STRING,
     .offset = EXPORT_FIELD(opt.jsonl, const char *),
     .argname = "FILE",
     .help = "one JSON object per sample: labels, status,\n"
             "scores, suggestion and label history"},
    {.name = "folder",
     .kind = OPT_STRING,
     .offset = EXPORT_FIELD(opt.folder, const char *),
     .argname = "DIR",
     .help = "DIR/<label>/<file> for every sample; DIR must\n"
             "not exist or be empty"},
    {.name = "link",
     .kind = OPT_CHOICE,
     .offset = EXPORT_FIELD(link, int),
     .choices = link_choices,
     .argname = "MODE",
     .nested = 1,
     .help = "symbolic (default), hard or copy; IDX samples\n"
             "and moved files are written as PNG from the\n"
             "copy kept in the project (possibly shrunk)"},
    {.name = "scores",
     .kind = OPT_STRING,
     .offset = EXPORT_FIELD(opt.scores, const char *),
     .argname = "FILE",
     .help = "the latest run, highest score first:\n"
             "path,given_label,suggested_label,score,flagged,\n"
             "self_confidence,margin,cl_flag,aum,elr,suggested_prob,\n"
             "knn,dup_group (near-duplicate group, as winnow dups\n"
             "numbers it; empty for none)"},
    {.name = "idx",
     .kind = OPT_PAIR,
     .offset = EXPORT_FIELD(idx, const char **),
     .argname = "IMAGES LABELS",
     .help = "IDX files (gzip when named .gz) for a project\n"
             "imported from IDX; label value = class number"},
    {.name = "probs",
     .kind = OPT_STRING,
     .offset = EXPORT_FIELD(probs, const char *),
     .argname = "FILE",
     .help = "the latest run's predicted probabilities: FILE.npy\n"
             "(N x K float32, import order) or CSV path,CLASS,..."},
    {.name = "features",
     .kind = OPT_STRING,
     .offset = EXPORT_FIELD(features, const char *),
     .argname = "FILE.npy",
     .help = "the latest features: N x D float32, import order"},
    {.name = "unreviewed",
     .kind = OPT_CALL,
     .offset = EXPORT_FIELD(opt, struct export_options),
     .parse = parse_policy,
     .choices = policy_choices,
     .choice_help = policy_help,
     .argname = "POLICY",
     .heading = "samples no person decided on:"},
    {.name = "dedupe",
     .kind = OPT_FLAG,
     .offset = EXPORT_FIELD(opt.dedupe, int),
     .heading = "near-duplicates and exact copies (winnow dups):",
     .help = "keep only the first sample of each group (import\n"
             "order) in --labels, --jsonl, --folder and --idx"},
    {.name = "quiet",
     .short_name = 'q',
     .kind = OPT_FLAG,
     .offset = EXPORT_FIELD(quiet, int),
     .help = "no summary"},
    {0},
};

/* --probs and --features against each other and the other outputs;
 * --features is never standard output (a .npy on a terminal helps no
 * one). */
static int
check_array_names(const struct cmd *c, const struct export_args *a)
{
    const struct export_options *o = &a->opt;
    const char *others[] = {o->labels,     o->jsonl,      o->folder, o->scores,
                            o->idx_images, o->idx_labels, a->probs};
    const char *mine[] = {a->probs, a->features};
    if (a->features != NULL && strcmp(a->features, "-") == 0)
        return cmd_usage_error(c, "--features cannot be standard output");
    for (int m = 0; m < 2; m++) {
        if (mine[m] == NULL)
            continue;
        int n_others = m == 0 ? 6 : 7;
        for (int i = 0; i < n_others; i++)
            if (others[i] != NULL && strcmp(others[i], mine[m]) == 0)
                return cmd_usage_error(
                    c,
                    strcmp(mine[m], "-") == 0
                        ? "only one output can be standard output ('-')"
                        : "'%s' is named for two outputs",
                    mine[m]);
    }
    return 0;
}

static int
run_export(int argc, char **argv)
{
    const struct cmd *c = &cmd_export;
    struct export_args a;
    memset(&a, 0, sizeof a);
    a.link = -1;
    int n, done = cmd_parse(c, argc, argv, &a, &n);
    if (done >= 0)
        return done;
    struct export_options opt = a.opt;
    opt.idx_images = a.idx[0];
    opt.idx_labels = a.idx[1];
    int quiet = a.quiet;
    const char *db = argv[1];
    int arrays = a.probs != NULL || a.features != NULL;
    int tables =
        opt.labels || opt.jsonl || opt.folder || opt.scores || opt.idx_images;
    if (!tables && !arrays)
        return cmd_usage_error(c, "nothing to export: give --labels, "
                                  "--jsonl, --folder, --scores, --idx, "
                                  "--probs or --features");
    if ((opt.original || opt.status) && opt.labels == NULL)
        return cmd_usage_error(c, "%s goes with --labels",
                               opt.original ? "--original" : "--status");
    if (a.link >= 0) {
        if (opt.folder == NULL)
            return cmd_usage_error(c, "--link goes with --folder");
        opt.link = a.link == 0   ? EXPORT_LINK_SYMBOLIC
                   : a.link == 1 ? EXPORT_LINK_HARD
                                 : EXPORT_LINK_COPY;
    }
    if (opt.policy != EXPORT_KEEP && !opt.labels && !opt.jsonl && !opt.folder &&
        !opt.idx_images)
        return cmd_usage_error(c, "--unreviewed applies to --labels, "
                                  "--jsonl, --folder and --idx");
    if (opt.dedupe && !opt.labels && !opt.jsonl && !opt.folder &&
        !opt.idx_images)
        return cmd_usage_error(c, "--dedupe applies to --labels, --jsonl, "
                                  "--folder and --idx");
    if (check_names(c, &opt) != 0 || check_array_names(c, &a) != 0)
        return EXIT_USAGE;

    struct store *s;
    char *cause = NULL;
    /* Only accepting suggestions writes to the project. */
    int flags = opt.policy == EXPORT_ACCEPT_ABOVE ? 0 : STORE_READONLY;
    /* Before the project opens: SQLite writes its shared-memory file too,
     * and a file size limit must not kill us there either. */
    int to_stdout = (opt.labels && strcmp(opt.labels, "-") == 0) ||
                    (opt.jsonl && strcmp(opt.jsonl, "-") == 0) ||
                    (opt.scores && strcmp(opt.scores, "-") == 0);
    to_stdout |= a.probs != NULL && strcmp(a.probs, "-") == 0;
    int n_outputs = !!opt.labels + !!opt.jsonl + !!opt.scores + !!opt.folder +
                    !!opt.idx_images + !!a.probs + !!a.features;
    opt.stop = outfile_catch_signals(n_outputs > to_stdout);
    if ((s = cmd_open_store(db, flags)) == NULL)
        return EXIT_FAIL;
    struct export_result res;
    int rc = tables ? export_run(s, &opt, &res, &cause) : 0;
    int64_t probs_run = 0, features_run = 0;
    if (rc == 0 && a.probs != NULL)
        rc = export_probs(s, a.probs, &probs_run, &cause);
    if (rc == 0 && a.features != NULL)
        rc = export_features(s, a.features, &features_run, &cause);
    store_close(s);
    if (rc != 0) {
        cmd_error("export: %s", cause ? cause : "failed");
        free(cause);
        return EXIT_FAIL;
    }
    FILE *f = to_stdout ? stderr : stdout;
    if (!quiet && tables)
        print_summary(f, &opt, &res);
    if (!quiet && probs_run)
        fprintf(f, "%s: the probabilities of run %lld\n", a.probs,
                (long long)probs_run);
    if (!quiet && features_run)
        fprintf(f, "%s: the features of run %lld\n", a.features,
                (long long)features_run);
    return EXIT_OK;
}

const struct cmd cmd_export = {
    .name = "export",
    .usage = "DB [--labels FILE.csv [--original] [--status]] [--jsonl FILE]\n"
             "       [--folder DIR [--link symbolic|hard|copy]] "
             "[--scores FILE.csv]\n"
             "       [--idx IMAGES LABELS] "
             "[--unreviewed keep|drop-flagged|accept-above P]\n"
             "       [--dedupe]",
    .summary = "write the current labels (CSV, JSON lines, class folders, "
               "IDX) or the scores",
    .operands = (const struct cmd_operand[]){CMD_OPERAND_DB, {0}},
    .min_operands = 1,
    .options = export_options,
    .help_column = 20,
    .notes =
        "Files are written under a temporary name and renamed when every\n"
        "output is complete: a failed or interrupted export writes nothing.\n",
    .run = run_export,
};
