/* app/cmd-dups.c: `winnow dups DB`, the groups of near-duplicates and
 * exact copies, label conflicts first.
 *
 * Hashes a project lacks (one made before winnow kept them) are computed
 * from the stored pixels and kept, so only the first run pays; a project
 * this process may not write is read as it is and its hashes computed
 * each time. The JSON shape is documented in winnow(1); "version" changes
 * only when a field changes meaning or goes. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/cmd.h"
#include "app/progress.h"
#include "data/dups.h"
#include "data/json.h"
#include "data/store.h"

extern const struct cmd cmd_dups;

#define DUPS_JSON_VERSION 1

struct dups_args {
    int json;
    int conflicts; /* only groups whose labels differ */
    int threshold;
    int quiet;
};

struct dups_view {
    struct dups_project p;
    struct dups d;
    char **names;
    int n_names;
    size_t *order; /* group indices: conflicts first, then by id */
    size_t n_shown;
};

static const char *
class_name(const struct dups_view *v, int id)
{
    return id >= 0 && id < v->n_names ? v->names[id] : "?";
}

static void
hash_progress(void *ctx, int64_t done, int64_t total)
{
    progress_update(ctx, (size_t)done, (size_t)total, "images", NULL);
}

/* Keep the hashes a project lacks, when it may be written. */
static int
fill_hashes(const char *db, int quiet, struct store **s_out)
{
    char *cause = NULL;
    struct store *s = NULL;
    if (store_open(db, 0, &s, &cause) != 0) {
        /* Read-only: read it as it is. */
        if (strncmp(cause, "read-only", 9) != 0) {
            cmd_error("%s: %s", db, cause);
            free(cause);
            return -1;
        }
        free(cause);
        if ((s = cmd_open_store(db, STORE_READONLY)) == NULL)
            return -1;
        *s_out = s;
        return 0;
    }
    struct progress *pr = progress_new("hashing images", quiet);
    int64_t n = 0;
    int rc = store_phash_fill(s, hash_progress, pr, &n, &cause);
    progress_free(pr);
    if (rc != 0) {
        cmd_error("dups: %s", cause);
        free(cause);
        store_close(s);
        return -1;
    }
    *s_out = s;
    return 0;
}

static void
order_groups(struct dups_view *v, int conflicts_only)
{
    v->order = xmalloc((v->d.n_groups + 1) * sizeof *v->order);
    for (int pass = 0; pass < 2; pass++)
        for (size_t g = 0; g < v->d.n_groups; g++) {
            int c = v->d.groups[g].conflict;
            if ((pass == 0 && c) || (pass == 1 && !c && !conflicts_only))
                v->order[v->n_shown++] = g;
        }
}

static const char *
group_kind(const struct dups_group *g)
{
    if (g->similar)
        return g->exact ? "alike by features, with exact copies"
                        : "alike by features";
    return g->near && g->exact ? "near and exact copies"
           : g->near           ? "near copies"
                               : "exact copies";
}

static void
print_text(const struct dups_view *v, int threshold, int conflicts_only)
{
    size_t in_groups = 0;
    for (size_t g = 0; g < v->d.n_groups; g++)
        in_groups += v->d.groups[g].n;
    if (v->d.n_groups == 0) {
        printf("no near-duplicates among %zu samples (threshold %d bits)\n",
               v->p.n, threshold);
        return;
    }
    printf("%zu group%s of near-duplicates or exact copies (%zu samples), "
           "%zu with conflicting labels; threshold %d bits\n",
           v->d.n_groups, v->d.n_groups == 1 ? "" : "s", in_groups,
           v->d.n_conflicts, threshold);
    if (conflicts_only && v->n_shown == 0)
        printf("no label conflicts\n");
    for (size_t k = 0; k < v->n_shown; k++) {
        const struct dups_group *g = &v->d.groups[v->order[k]];
        printf("\ngroup %lld: %zu samples, %s%s\n", (long long)g->id, g->n,
               group_kind(g), g->conflict ? ", label conflict" : "");
        int width = 0;
        for (size_t m = 0; m < g->n; m++) {
            int l = (int)strlen(
                class_name(v, v->p.samples[v->d.members[g->first + m]].label));
            if (l > width)
                width = l > 30 ? 30 : l;
        }
        for (size_t m = 0; m < g->n; m++) {
            uint32_t i = v->d.members[g->first + m];
            const struct dups_sample *sm = &v->p.samples[i];
            printf("  %-*s  %s", width, class_name(v, sm->label),
                   v->p.paths[i]);
            if (sm->exact != i)
                printf("  (same pixels as %s)", v->p.paths[sm->exact]);
            putchar('\n');
        }
    }
}

static void
print_json(const struct dups_view *v, int threshold)
{
    printf("{\"version\":%d,\"threshold\":%d,\"samples\":%zu,"
           "\"group_count\":%zu,\"conflict_count\":%zu,\"groups\":[",
           DUPS_JSON_VERSION, threshold, v->p.n, v->d.n_groups,
           v->d.n_conflicts);
    for (size_t k = 0; k < v->n_shown; k++) {
        const struct dups_group *g = &v->d.groups[v->order[k]];
        printf("%s\n{\"id\":%lld,\"size\":%zu,\"conflict\":%s,"
               "\"near\":%s,\"exact\":%s,\"features\":%s,\"members\":[",
               k ? "," : "", (long long)g->id, g->n,
               g->conflict ? "true" : "false", g->near ? "true" : "false",
               g->exact ? "true" : "false", g->similar ? "true" : "false");
        for (size_t m = 0; m < g->n; m++) {
            uint32_t i = v->d.members[g->first + m];
            const struct dups_sample *sm = &v->p.samples[i];
            printf("%s{\"sample\":%lld,\"path\":", m ? "," : "",
                   (long long)v->p.ids[i]);
            json_put_string(stdout, v->p.paths[i]);
            fputs(",\"label\":", stdout);
            json_put_string(stdout, class_name(v, sm->label));
            fputs(",\"same_pixels_as\":", stdout);
            if (sm->exact != i)
                json_put_string(stdout, v->p.paths[sm->exact]);
            else
                fputs("null", stdout);
            putchar('}');
        }
        fputs("]}", stdout);
    }
    fputs("]}\n", stdout);
}

static const struct cmd_option dups_options[] = {
    {.name = "conflicts",
     .kind = OPT_FLAG,
     .offset = CMD_FIELD(struct dups_args, conflicts, int),
     .help = "only the groups whose members carry different labels"},
    {.name = "threshold",
     .short_name = 't',
     .kind = OPT_INT,
     .offset = CMD_FIELD(struct dups_args, threshold, int),
     .min = 0,
     .max = DUPS_MAX_THRESHOLD,
     .argname = "N",
     .help = "hashes at most N bits apart are near-duplicates\n"
             "(default 8; 0 finds only copies whose hashes are equal)"},
    {.name = "json",
     .kind = OPT_FLAG,
     .offset = CMD_FIELD(struct dups_args, json, int),
     .help = "one JSON document: version, threshold, counts, groups\n"
             "(each with its members' paths and labels)"},
    {.name = "quiet",
     .short_name = 'q',
     .kind = OPT_FLAG,
     .offset = CMD_FIELD(struct dups_args, quiet, int),
     .help = "no progress while hashes are computed"},
    {0},
};

_Static_assert(DUPS_DEFAULT_THRESHOLD == 8, "the help says 8");

static int
run_dups(int argc, char **argv)
{
    struct dups_args a = {.threshold = DUPS_DEFAULT_THRESHOLD};
    int n, done = cmd_parse(&cmd_dups, argc, argv, &a, &n);
    if (done >= 0)
        return done;
    const char *db = argv[1];
    struct store *s;
    if (fill_hashes(db, a.quiet, &s) != 0)
        return EXIT_FAIL;
    struct dups_view v;
    memset(&v, 0, sizeof v);
    char *cause = NULL;
    struct progress *pr = progress_new("hashing images", a.quiet);
    int rc = store_snapshot_begin(s, &cause);
    if (rc == 0) {
        rc = store_class_names(s, &v.names, &v.n_names, &cause);
        if (rc == 0)
            rc = dups_scan(s, a.threshold, &v.p, &v.d, hash_progress, pr,
                           &cause);
        store_snapshot_end(s);
    }
    progress_free(pr);
    store_close(s);
    if (rc != 0) {
        cmd_error("dups: %s", cause);
        free(cause);
        store_names_free(v.names);
        return EXIT_FAIL;
    }
    order_groups(&v, a.conflicts);
    if (a.json)
        print_json(&v, a.threshold);
    else
        print_text(&v, a.threshold, a.conflicts);
    free(v.order);
    dups_fini(&v.d);
    dups_project_fini(&v.p);
    store_names_free(v.names);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        cmd_error("dups: write error on standard output");
        return EXIT_FAIL;
    }
    return EXIT_OK;
}

const struct cmd cmd_dups = {
    .name = "dups",
    .usage = "DB [--conflicts] [--threshold N] [--json]",
    .summary = "list near-duplicate and identical images, label conflicts "
               "first",
    .operands = (const struct cmd_operand[]){CMD_OPERAND_DB, {0}},
    .min_operands = 1,
    .options = dups_options,
    .notes = "Near-duplicates are images whose perceptual hashes differ in "
             "at most N\n"
             "of 63 bits: resized, re-encoded or re-toned copies. Flips and "
             "crops are\n"
             "not found. Groups join every pair within the threshold, and "
             "exact\n"
             "copies; a label conflict is a group whose members carry "
             "different\n"
             "labels now.\n",
    .run = run_dups,
};
