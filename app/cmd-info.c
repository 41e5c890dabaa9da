/* app/cmd-info.c: `winnow info DB`, what a project holds. Read-only: it
 * never migrates or writes, so it is safe beside a running review (the
 * perceptual hashes of a project made before they were kept are computed
 * in memory, each time, until `winnow dups` keeps them). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/cmd.h"
#include "data/dups.h"
#include "data/json.h"
#include "data/store.h"

extern const struct cmd cmd_info;

/* The shape of --json (winnow(1), "JSON OUTPUT"); a new key may come
 * without a new version, a changed or removed one may not. */
#define INFO_JSON_VERSION 1

/* What the summary does not hold of each run: its settings, which for a
 * run from --probs say where the probabilities came from. */
struct info_runs {
    char **params; /* parallel to store_summary.runs; NULL entries */
    size_t n;
    int schema;
};

static int
info_runs_get(struct store *s, const struct store_summary *sum,
              struct info_runs *out, char **cause)
{
    out->n = sum->n_runs;
    out->params = xcalloc(sum->n_runs + 1, sizeof *out->params);
    out->schema = store_opened_version(s);
    for (size_t i = 0; i < sum->n_runs; i++) {
        struct store_run r;
        if (store_run_get(s, sum->runs[i].id, &r, cause) != 0)
            return -1;
        out->params[i] = r.params;
        r.params = NULL;
        store_run_fini(&r);
    }
    return 0;
}

static void
info_runs_fini(struct info_runs *r)
{
    for (size_t i = 0; r->params != NULL && i < r->n; i++)
        free(r->params[i]);
    free(r->params);
}

static int
from_probs(const char *params)
{
    return params != NULL && strncmp(params, "probs=", 6) == 0;
}

static void
print_time(int64_t ms)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    char buf[32];
    localtime_r(&t, &tm);
    strftime(buf, sizeof buf, "%Y-%m-%d %H:%M", &tm);
    fputs(buf, stdout);
}

static const char *
channels_name(int c)
{
    return c == 1 ? "gray" : c == 3 ? "RGB" : "?";
}

static void
print_near(const struct dups *d)
{
    size_t in_groups = 0, near = 0;
    for (size_t g = 0; g < d->n_groups; g++)
        if (d->groups[g].near) {
            near++;
            in_groups += d->groups[g].n;
        }
    if (near == 0) {
        printf("near-duplicates: none (threshold %d bits)\n",
               DUPS_DEFAULT_THRESHOLD);
        return;
    }
    printf("near-duplicates: %zu groups of similar images (%zu samples), "
           "threshold %d bits\n",
           near, in_groups, DUPS_DEFAULT_THRESHOLD);
    /* Groups of near copies and exact ones alike: what winnow dups lists. */
    printf("label conflicts: %zu groups of near or exact copies with "
           "different labels (winnow dups --conflicts)\n",
           d->n_conflicts);
}

static void
print_info(const char *db, const struct store_summary *sum,
           const struct info_runs *ri, const struct dups *d)
{
    printf("project:    %s (%.1f MB)\n", db, (double)sum->file_bytes / 1e6);
    printf("samples:    %lld\n", (long long)sum->n_samples);
    printf("classes:    %d\n", sum->n_classes);
    int width = 5;
    for (int i = 0; i < sum->n_classes; i++) {
        int l = (int)strlen(sum->class_names[i]);
        if (l > width)
            width = l > 40 ? 40 : l;
    }
    for (int i = 0; i < sum->n_classes; i++) {
        printf("  %-*s %8lld", width, sum->class_names[i],
               (long long)sum->class_counts[i]);
        if (sum->class_given[i] != sum->class_counts[i])
            printf("  (imported as %lld)", (long long)sum->class_given[i]);
        printf("\n");
    }
    printf("image sizes:\n");
    for (size_t i = 0; i < sum->n_sizes; i++)
        printf("  %dx%d %-4s %8lld\n", sum->sizes[i].width,
               sum->sizes[i].height, channels_name(sum->sizes[i].channels),
               (long long)sum->sizes[i].count);
    if (sum->dup_groups == 0)
        printf("duplicates: none\n");
    else
        printf("duplicates: %lld groups of identical images (%lld samples), "
               "%lld with conflicting labels\n",
               (long long)sum->dup_groups, (long long)sum->dup_samples,
               (long long)sum->dup_conflicts);
    print_near(d);
    int done = 0;
    for (size_t i = 0; i < sum->n_runs; i++)
        done |= strcmp(sum->runs[i].status, "done") == 0;
    if (done)
        printf("outliers:   %lld samples score %.1f or more (winnow review: "
               "o ranks by it)\n",
               (long long)sum->n_outliers, STORE_OUTLIER_HIGH);
    printf("sources:\n");
    for (size_t i = 0; i < sum->n_sources; i++) {
        const struct store_source_info *src = &sum->sources[i];
        printf("  %-6s %s: %lld samples, %d import%s, last ", src->kind,
               src->location, (long long)src->samples, src->n_imports,
               src->n_imports == 1 ? "" : "s");
        print_time(src->last_import);
        printf("\n");
    }
    if (sum->n_runs == 0) {
        printf("runs:       none yet (winnow score %s)\n", db);
    } else {
        printf("runs:       %zu\n", sum->n_runs);
        for (size_t i = 0; i < sum->n_runs; i++) {
            printf("  #%lld %-11s started ", (long long)sum->runs[i].id,
                   sum->runs[i].status);
            print_time(sum->runs[i].started);
            if (sum->runs[i].finished > 0) {
                printf(", took %.0f s",
                       (double)(sum->runs[i].finished - sum->runs[i].started) /
                           1000.0);
            }
            printf("\n");
            if (from_probs(ri->params[i]))
                printf("      from %s\n", ri->params[i]);
        }
    }
    printf("decisions:  %lld label events by a person\n",
           (long long)sum->n_human_events);
}

static void
json_time_or_null(FILE *f, int64_t ms)
{
    if (ms > 0)
        json_put_time(f, ms);
    else
        fputs("null", f);
}

static void
print_json(const char *db, const struct store_summary *sum,
           const struct info_runs *ri, const struct dups *d)
{
    FILE *f = stdout;
    fprintf(f, "{\"version\":%d,\"project\":", INFO_JSON_VERSION);
    json_put_string(f, db);
    fprintf(f,
            ",\"schema\":%d,\"file_bytes\":%lld,\"samples\":%lld,"
            "\"classes\":[",
            ri->schema, (long long)sum->file_bytes, (long long)sum->n_samples);
    for (int i = 0; i < sum->n_classes; i++) {
        fprintf(f, "%s{\"id\":%d,\"name\":", i ? "," : "", i);
        json_put_string(f, sum->class_names[i]);
        fprintf(f, ",\"samples\":%lld,\"given\":%lld}",
                (long long)sum->class_counts[i],
                (long long)sum->class_given[i]);
    }
    fputs("],\"sizes\":[", f);
    for (size_t i = 0; i < sum->n_sizes; i++)
        fprintf(f,
                "%s{\"width\":%d,\"height\":%d,\"channels\":%d,"
                "\"count\":%lld}",
                i ? "," : "", sum->sizes[i].width, sum->sizes[i].height,
                sum->sizes[i].channels, (long long)sum->sizes[i].count);
    fprintf(f,
            "],\"duplicates\":{\"groups\":%lld,\"samples\":%lld,"
            "\"conflicts\":%lld}",
            (long long)sum->dup_groups, (long long)sum->dup_samples,
            (long long)sum->dup_conflicts);
    size_t near = 0, in_near = 0;
    for (size_t g = 0; g < d->n_groups; g++)
        if (d->groups[g].near) {
            near++;
            in_near += d->groups[g].n;
        }
    fprintf(f,
            ",\"near_duplicates\":{\"threshold\":%d,\"groups\":%zu,"
            "\"samples\":%zu,\"conflicts\":%zu},\"outliers\":%lld,"
            "\"sources\":[",
            DUPS_DEFAULT_THRESHOLD, near, in_near, d->n_conflicts,
            (long long)sum->n_outliers);
    for (size_t i = 0; i < sum->n_sources; i++) {
        const struct store_source_info *src = &sum->sources[i];
        fputs(i ? ",{\"kind\":" : "{\"kind\":", f);
        json_put_string(f, src->kind);
        fputs(",\"location\":", f);
        json_put_string(f, src->location);
        fprintf(f, ",\"samples\":%lld,\"imports\":%d,\"last_import\":",
                (long long)src->samples, src->n_imports);
        json_time_or_null(f, src->last_import);
        fputc('}', f);
    }
    fputs("],\"runs\":[", f);
    for (size_t i = 0; i < sum->n_runs; i++) {
        const struct store_run_info *r = &sum->runs[i];
        fprintf(f, "%s{\"id\":%lld,\"status\":", i ? "," : "",
                (long long)r->id);
        json_put_string(f, r->status);
        fputs(",\"started\":", f);
        json_time_or_null(f, r->started);
        fputs(",\"finished\":", f);
        json_time_or_null(f, r->finished);
        fprintf(f, ",\"origin\":\"%s\",\"params\":",
                from_probs(ri->params[i]) ? "probs" : "training");
        json_put_string_or_null(f, ri->params[i]);
        fputc('}', f);
    }
    fprintf(f, "],\"human_events\":%lld}\n", (long long)sum->n_human_events);
}

struct info_args {
    int json;
};

static const struct cmd_option info_options[] = {
    {.name = "json",
     .kind = OPT_FLAG,
     .offset = CMD_FIELD(struct info_args, json, int),
     .help = "one JSON object (its shape: winnow(1), JSON OUTPUT)"},
    {0},
};

static int
run_info(int argc, char **argv)
{
    struct info_args a = {0};
    int n, done = cmd_parse(&cmd_info, argc, argv, &a, &n);
    if (done >= 0)
        return done;
    const char *db = argv[1];
    struct store *s;
    char *cause = NULL;
    if ((s = cmd_open_store(db, STORE_READONLY)) == NULL)
        return EXIT_FAIL;
    struct store_summary sum;
    struct info_runs ri = {0};
    struct dups_project p;
    struct dups d;
    int rc = store_summary_get(s, &sum, &cause);
    if (rc == 0 && (rc = info_runs_get(s, &sum, &ri, &cause)) != 0)
        store_summary_fini(&sum);
    if (rc == 0 && (rc = dups_scan(s, DUPS_DEFAULT_THRESHOLD, &p, &d, NULL,
                                   NULL, &cause)) != 0)
        store_summary_fini(&sum);
    store_close(s);
    if (rc != 0) {
        info_runs_fini(&ri);
        cmd_error("%s: %s", db, cause);
        free(cause);
        return EXIT_FAIL;
    }
    if (a.json)
        print_json(db, &sum, &ri, &d);
    else
        print_info(db, &sum, &ri, &d);
    info_runs_fini(&ri);
    store_summary_fini(&sum);
    dups_fini(&d);
    dups_project_fini(&p);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        cmd_error("info: write error on standard output");
        return EXIT_FAIL;
    }
    return EXIT_OK;
}

const struct cmd cmd_info = {
    .name = "info",
    .usage = "DB [--json]",
    .summary = "show what a project holds: samples, classes, sizes, "
               "duplicates, near-duplicates, sources, runs",
    .operands = (const struct cmd_operand[]){CMD_OPERAND_DB, {0}},
    .min_operands = 1,
    .options = info_options,
    .run = run_info,
};
