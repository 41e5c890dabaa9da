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

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/cmd.h"
#include "data/export.h"
#include "data/outfile.h"
#include "data/store.h"

extern const struct cmd cmd_export;

static int
parse_policy(const struct cmd *c, const char *arg, int argc, char **argv,
             struct export_options *o)
{
    const char *p = NULL;
    if (strcmp(arg, "keep") == 0) {
        o->policy = EXPORT_KEEP;
        return 0;
    }
    if (strcmp(arg, "drop-flagged") == 0) {
        o->policy = EXPORT_DROP_FLAGGED;
        return 0;
    }
    if (strncmp(arg, "accept-above=", 13) == 0) {
        p = arg + 13;
    } else if (strcmp(arg, "accept-above") == 0) {
        /* The probability is the next word: take it from argv here so
         * getopt does not see it as an operand. */
        if (optind >= argc) {
            cmd_usage_error(c, "--unreviewed accept-above needs a "
                               "probability P");
            return -1;
        }
        p = argv[optind++];
    } else {
        cmd_usage_error(c,
                        "--unreviewed takes keep, drop-flagged or "
                        "accept-above P, not '%s'",
                        arg);
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
    o->policy = EXPORT_ACCEPT_ABOVE;
    o->accept_p = v;
    return 0;
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

static int
run_export(int argc, char **argv)
{
    const struct cmd *c = &cmd_export;
    static const struct option longopts[] = {
        {"labels", required_argument, NULL, 'l'},
        {"original", no_argument, NULL, 'O'},
        {"status", no_argument, NULL, 'S'},
        {"jsonl", required_argument, NULL, 'j'},
        {"folder", required_argument, NULL, 'f'},
        {"link", required_argument, NULL, 'L'},
        {"scores", required_argument, NULL, 's'},
        {"idx", required_argument, NULL, 'i'},
        {"unreviewed", required_argument, NULL, 'u'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct export_options opt;
    memset(&opt, 0, sizeof opt);
    const char *link = NULL;
    int quiet = 0, o;
    opterr = 0;
    optind = 1;
    while ((o = getopt_long(argc, argv, ":hq", longopts, NULL)) != -1) {
        switch (o) {
        case 'l':
            opt.labels = optarg;
            break;
        case 'O':
            opt.original = 1;
            break;
        case 'S':
            opt.status = 1;
            break;
        case 'j':
            opt.jsonl = optarg;
            break;
        case 'f':
            opt.folder = optarg;
            break;
        case 'L':
            link = optarg;
            break;
        case 's':
            opt.scores = optarg;
            break;
        case 'i':
            /* Two files: the second is taken here, before getopt would
             * move it among the operands. */
            opt.idx_images = optarg;
            if (optind >= argc || argv[optind][0] == '-')
                return cmd_usage_error(c, "--idx needs two files: IMAGES "
                                          "LABELS");
            opt.idx_labels = argv[optind++];
            break;
        case 'u':
            if (parse_policy(c, optarg, argc, argv, &opt) != 0)
                return EXIT_USAGE;
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
    const char *db;
    if (cmd_db_operand(c, argc, argv, &db) != 0)
        return EXIT_USAGE;
    if (!opt.labels && !opt.jsonl && !opt.folder && !opt.scores &&
        !opt.idx_images)
        return cmd_usage_error(c, "nothing to export: give --labels, "
                                  "--jsonl, --folder, --scores or --idx");
    if ((opt.original || opt.status) && opt.labels == NULL)
        return cmd_usage_error(c, "%s goes with --labels",
                               opt.original ? "--original" : "--status");
    if (link != NULL) {
        if (opt.folder == NULL)
            return cmd_usage_error(c, "--link goes with --folder");
        if (strcmp(link, "symbolic") == 0)
            opt.link = EXPORT_LINK_SYMBOLIC;
        else if (strcmp(link, "hard") == 0)
            opt.link = EXPORT_LINK_HARD;
        else if (strcmp(link, "copy") == 0)
            opt.link = EXPORT_LINK_COPY;
        else
            return cmd_usage_error(c,
                                   "--link takes symbolic, hard or copy, "
                                   "not '%s'",
                                   link);
    }
    if (opt.policy != EXPORT_KEEP && !opt.labels && !opt.jsonl && !opt.folder &&
        !opt.idx_images)
        return cmd_usage_error(c, "--unreviewed applies to --labels, "
                                  "--jsonl, --folder and --idx");
    if (check_names(c, &opt) != 0)
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
    int n_outputs = !!opt.labels + !!opt.jsonl + !!opt.scores + !!opt.folder +
                    !!opt.idx_images;
    opt.stop = outfile_catch_signals(n_outputs > to_stdout);
    if ((s = cmd_open_store(db, flags)) == NULL)
        return EXIT_FAIL;
    struct export_result res;
    int rc = export_run(s, &opt, &res, &cause);
    store_close(s);
    if (rc != 0) {
        cmd_error("export: %s", cause ? cause : "failed");
        free(cause);
        return EXIT_FAIL;
    }
    if (!quiet)
        print_summary(to_stdout ? stderr : stdout, &opt, &res);
    return EXIT_OK;
}

const struct cmd cmd_export = {
    .name = "export",
    .usage = "DB [--labels FILE.csv [--original] [--status]] [--jsonl FILE]\n"
             "       [--folder DIR [--link symbolic|hard|copy]] "
             "[--scores FILE.csv]\n"
             "       [--idx IMAGES LABELS] "
             "[--unreviewed keep|drop-flagged|accept-above P]",
    .summary = "write the current labels (CSV, JSON lines, class folders, "
               "IDX) or the scores",
    .help =
        "outputs (any number at once; '-' is standard output):\n"
        "  --labels FILE     path,label in import order, decisions applied\n"
        "    --original      add given_label, the imported label\n"
        "    --status        add status (unreviewed, kept, relabeled, auto)\n"
        "                    and score (the latest run's)\n"
        "  --jsonl FILE      one JSON object per sample: labels, status,\n"
        "                    scores, suggestion and label history\n"
        "  --folder DIR      DIR/<label>/<file> for every sample; DIR must\n"
        "                    not exist or be empty\n"
        "    --link MODE     symbolic (default), hard or copy; IDX samples\n"
        "                    and moved files are written as PNG from the\n"
        "                    copy kept in the project (possibly shrunk)\n"
        "  --scores FILE     the latest run, highest score first:\n"
        "                    path,given_label,suggested_label,score,flagged,\n"
        "                    self_confidence,margin,cl_flag,aum,elr,"
        "suggested_prob,\n"
        "                    knn\n"
        "  --idx IMAGES LABELS  IDX files (gzip when named .gz) for a project\n"
        "                    imported from IDX; label value = class number\n"
        "samples no person decided on:\n"
        "  --unreviewed keep          keep their label (default)\n"
        "  --unreviewed drop-flagged  leave out those the latest run flagged\n"
        "  --unreviewed accept-above P  take the suggestion where its\n"
        "                    probability is at least P, recorded in the\n"
        "                    history as source auto once the export is done\n"
        "  -q, --quiet       no summary\n"
        "Files are written under a temporary name and renamed when every\n"
        "output is complete: a failed or interrupted export writes nothing.\n",
    .run = run_export,
};
