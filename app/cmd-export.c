/* app/cmd-export.c: `winnow export DB --scores FILE.csv`.
 *
 * Every file is written under a temporary name in the same folder and
 * renamed into place once complete and closed, so an interrupted export
 * never leaves half a file under the real name. "-" writes to standard
 * output. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/cmd.h"
#include "data/csv.h"
#include "data/store.h"

extern const struct cmd cmd_export;

struct out_file {
    const char *path; /* as given; "-" for stdout */
    char *tmp;
    FILE *f;
};

/* The temporary file currently being written, removed if a signal ends
 * the export. */
static char *volatile export_tmp_path;

static void
export_on_signal(int sig)
{
    char *p = export_tmp_path;
    if (p != NULL)
        unlink(p);
    signal(sig, SIG_DFL);
    raise(sig);
}

static int
out_open(struct out_file *o, const char *path, char **cause)
{
    memset(o, 0, sizeof *o);
    o->path = path;
    if (strcmp(path, "-") == 0) {
        o->f = stdout;
        return 0;
    }
    o->tmp = xasprintf("%s.tmp-%ld", path, (long)getpid());
    o->f = fopen(o->tmp, "w");
    if (o->f == NULL) {
        int e = errno;
        free(o->tmp);
        o->tmp = NULL;
        return wn_fail(cause, "%s: %s", path, strerror(e));
    }
    export_tmp_path = o->tmp;
    return 0;
}

/* Close and rename into place; on any error remove the temporary file. */
static int
out_close(struct out_file *o, int ok, char **cause)
{
    if (o->f == stdout) {
        if (fflush(stdout) != 0 || ferror(stdout))
            return wn_fail(cause, "standard output: %s", strerror(errno));
        return ok ? 0 : -1;
    }
    int err = ferror(o->f);
    int e = errno;
    if (fclose(o->f) != 0) {
        err = 1;
        e = errno;
    }
    int rc = 0;
    if (!ok) {
        rc = -1;
    } else if (err) {
        rc = wn_fail(cause, "%s: %s", o->path, strerror(e ? e : EIO));
    } else if (rename(o->tmp, o->path) != 0) {
        rc = wn_fail(cause, "%s: %s", o->path, strerror(errno));
    }
    if (rc != 0)
        unlink(o->tmp);
    export_tmp_path = NULL;
    free(o->tmp);
    o->tmp = NULL;
    return rc;
}

static void
put_real(FILE *f, double v)
{
    if (!isnan(v))
        fprintf(f, "%.6g", v);
}

struct scores_ctx {
    FILE *f;
    char **names;
    int n_names;
};

static const char *
class_name(const struct scores_ctx *x, int id)
{
    return id >= 0 && id < x->n_names ? x->names[id] : "";
}

static int
write_score_row(void *ctx, const struct store_scored *row, char **cause)
{
    (void)cause;
    struct scores_ctx *x = ctx;
    const struct store_score *sc = &row->sc;
    FILE *f = x->f;
    csv_write_field(f, row->path);
    fputc(',', f);
    csv_write_field(f, class_name(x, sc->label));
    fputc(',', f);
    csv_write_field(f, class_name(x, sc->suggested));
    fprintf(f, ",%.6g,%d,", sc->score, sc->flagged);
    put_real(f, sc->self_confidence);
    fputc(',', f);
    put_real(f, sc->margin);
    fprintf(f, ",%d,", sc->cl_flag);
    put_real(f, sc->aum);
    fputc(',', f);
    put_real(f, sc->elr);
    fputc(',', f);
    put_real(f, sc->suggested_prob);
    fputc('\n', f);
    return ferror(f) ? wn_fail(cause, "write error") : 0;
}

static int
export_scores(struct store *s, const char *path, char **cause)
{
    int64_t run;
    if (store_run_latest(s, "done", &run, cause) != 0)
        return -1;
    if (run == 0)
        return wn_fail(cause, "no finished run to export (winnow score "
                              "first)");
    struct scores_ctx x = {0};
    if (store_class_names(s, &x.names, &x.n_names, cause) != 0)
        return -1;
    struct out_file o;
    if (out_open(&o, path, cause) != 0) {
        store_names_free(x.names);
        return -1;
    }
    x.f = o.f;
    fputs("path,given_label,suggested_label,score,flagged,self_confidence,"
          "margin,cl_flag,aum,elr,suggested_prob\n",
          o.f);
    int rc = store_foreach_score(s, run, write_score_row, &x, cause);
    rc = out_close(&o, rc == 0, rc == 0 ? cause : NULL);
    store_names_free(x.names);
    return rc;
}

static int
run_export(int argc, char **argv)
{
    const struct cmd *c = &cmd_export;
    static const struct option longopts[] = {
        {"scores", required_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *scores = NULL;
    int o;
    opterr = 0;
    optind = 1;
    while ((o = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (o) {
        case 's':
            scores = optarg;
            break;
        case 'h':
            cmd_print_help(c, stdout);
            return EXIT_OK;
        case ':':
            return cmd_usage_error(c, "option '%s' needs an argument",
                                   argv[optind - 1]);
        default:
            return cmd_usage_error(c, "unknown option '%s'",
                                   argv[optind - 1]);
        }
    }
    if (argc - optind != 1)
        return cmd_usage_error(c, argc - optind < 1
                                      ? "missing project file DB"
                                      : "too many arguments");
    if (scores == NULL)
        return cmd_usage_error(c, "nothing to export: give --scores FILE");
    const char *db = argv[optind];
    struct store *s;
    char *cause = NULL;
    if (store_open(db, STORE_READONLY, &s, &cause) != 0) {
        cmd_error("%s: %s", db, cause);
        free(cause);
        return EXIT_FAIL;
    }
    signal(SIGINT, export_on_signal);
    signal(SIGTERM, export_on_signal);
    signal(SIGHUP, export_on_signal);
    int rc = export_scores(s, scores, &cause);
    store_close(s);
    if (rc != 0) {
        cmd_error("export: %s", cause ? cause : "failed");
        free(cause);
        return EXIT_FAIL;
    }
    return EXIT_OK;
}

const struct cmd cmd_export = {
    .name = "export",
    .usage = "DB --scores FILE.csv",
    .summary = "write the scores of the latest run ('-' for standard output)",
    .help = "  --scores FILE  one row per sample, highest score first:\n"
            "                 path,given_label,suggested_label,score,flagged,\n"
            "                 self_confidence,margin,cl_flag,aum,elr,"
            "suggested_prob\n",
    .run = run_export,
};
