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
#include "data/store.h"

extern const struct cmd cmd_info;

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
           const struct dups *d)
{
    printf("project:    %s (%.1f MB)\n", db,
           (double)sum->file_bytes / 1e6);
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
                       (double)(sum->runs[i].finished -
                                sum->runs[i].started) /
                           1000.0);
            }
            printf("\n");
        }
    }
    printf("decisions:  %lld label events by a person\n",
           (long long)sum->n_human_events);
}

static int
run_info(int argc, char **argv)
{
    int n, done = cmd_parse(&cmd_info, argc, argv, NULL, &n);
    if (done >= 0)
        return done;
    const char *db = argv[1];
    struct store *s;
    char *cause = NULL;
    if ((s = cmd_open_store(db, STORE_READONLY)) == NULL)
        return EXIT_FAIL;
    struct store_summary sum;
    struct dups_project p;
    struct dups d;
    int rc = store_summary_get(s, &sum, &cause);
    if (rc == 0) {
        rc = dups_scan(s, DUPS_DEFAULT_THRESHOLD, &p, &d, NULL, NULL, &cause);
        if (rc != 0)
            store_summary_fini(&sum);
    }
    store_close(s);
    if (rc != 0) {
        cmd_error("%s: %s", db, cause);
        free(cause);
        return EXIT_FAIL;
    }
    print_info(db, &sum, &d);
    store_summary_fini(&sum);
    dups_fini(&d);
    dups_project_fini(&p);
    return EXIT_OK;
}

const struct cmd cmd_info = {
    .name = "info",
    .usage = "DB",
    .summary = "show what a project holds: samples, classes, sizes, "
               "duplicates, near-duplicates, sources, runs",
    .operands = (const struct cmd_operand[]){CMD_OPERAND_DB, {0}},
    .min_operands = 1,
    .run = run_info,
};
