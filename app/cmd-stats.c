/* app/cmd-stats.c: `winnow stats DB [--json]`, where a project stands.
 *
 * Everything comes from one snapshot of the project: the review progress
 * from the label history, the noise estimates from the latest finished run
 * (its matrix has a row per label the run judged and a column per class it
 * thinks is true), and how the run's proposals fared: for each flagged
 * sample a person decided on, whether the label in force is the suggestion
 * (accepted), the label the run judged (rejected) or a third one
 * (corrected).
 *
 * On a terminal the matrix is shaded with 256-colour backgrounds, deeper
 * for larger off-diagonal rates, so the confused pairs stand out; NO_COLOR,
 * TERM=dumb or a pipe turn that off, --color always|never overrides. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app/cmd.h"
#include "data/json.h"
#include "data/store.h"

extern const struct cmd cmd_stats;

/* Confused pairs shown in the text report (the JSON has them all). */
#define STATS_TOP_PAIRS 10
/* A wider matrix is left to --json. */
#define STATS_MAX_WIDTH 200

struct pair {
    int given, truth;
    double rate;
    double samples; /* rate times the samples judged with that label */
};

struct stats {
    char **names;
    int n_names;
    size_t n_samples;
    size_t review[4];
    int64_t *current, *given; /* by class */
    int64_t run;
    struct store_run info;
    double *matrix; /* k x k */
    int k;
    int64_t *judged; /* samples the run judged with each label */
    size_t flagged, accepted, rejected, corrected, auto_set;
    struct pair *pairs;
    size_t n_pairs;
    struct store_label_state *st;
    size_t n_st;
};

static int
state_cmp(const void *key, const void *elem)
{
    int64_t k = *(const int64_t *)key;
    int64_t id = ((const struct store_label_state *)elem)->sample_id;
    return (k > id) - (k < id);
}

static int
count_score(void *ctx, const struct store_score *sc, char **cause)
{
    (void)cause;
    struct stats *x = ctx;
    if (sc->label >= 0 && sc->label < x->k)
        x->judged[sc->label]++;
    if (!sc->flagged)
        return 0;
    x->flagged++;
    const struct store_label_state *st =
        x->n_st > 0
            ? bsearch(&sc->sample_id, x->st, x->n_st, sizeof *x->st, state_cmp)
            : NULL;
    if (st == NULL)
        return 0;
    if (st->review == STORE_AUTO) {
        x->auto_set++;
    } else if (st->review == STORE_KEPT || st->review == STORE_RELABELED) {
        if (st->label == sc->suggested)
            x->accepted++;
        else if (st->label == sc->label)
            x->rejected++;
        else
            x->corrected++;
    }
    return 0;
}

static int
pair_cmp(const void *a, const void *b)
{
    const struct pair *x = a, *y = b;
    if (x->rate != y->rate)
        return x->rate < y->rate ? 1 : -1;
    if (x->given != y->given)
        return x->given - y->given;
    return x->truth - y->truth;
}

static int
gather(struct store *s, struct stats *x, char **cause)
{
    if (store_class_names(s, &x->names, &x->n_names, cause) != 0 ||
        store_label_states(s, &x->st, &x->n_st, cause) != 0)
        return -1;
    size_t nc = (size_t)x->n_names + 1;
    x->current = xcalloc(nc, sizeof *x->current);
    x->given = xcalloc(nc, sizeof *x->given);
    x->n_samples = x->n_st;
    for (size_t i = 0; i < x->n_st; i++) {
        const struct store_label_state *st = &x->st[i];
        x->review[st->review]++;
        if (st->label >= 0 && st->label < x->n_names)
            x->current[st->label]++;
        if (st->given >= 0 && st->given < x->n_names)
            x->given[st->given]++;
    }
    if (store_run_newest(s, STORE_RUN_DONE, &x->run, cause) != 0)
        return -1;
    if (x->run == 0)
        return 0;
    if (store_run_get(s, x->run, &x->info, cause) != 0 ||
        store_run_noise(s, x->run, &x->matrix, &x->k, cause) != 0)
        return -1;
    if (x->k > x->n_names)
        x->k = x->n_names; /* cannot happen: classes are never removed */
    x->judged = xcalloc((size_t)x->k + 1, sizeof *x->judged);
    if (store_foreach_run_score(s, x->run, count_score, x, cause) != 0)
        return -1;
    size_t k = (size_t)x->k;
    x->pairs = xcalloc(k * k + 1, sizeof *x->pairs);
    for (int g = 0; g < x->k; g++)
        for (int t = 0; t < x->k; t++) {
            double r = x->matrix[(size_t)g * k + (size_t)t];
            if (g == t || !(r > 0.0))
                continue;
            struct pair *p = &x->pairs[x->n_pairs++];
            p->given = g;
            p->truth = t;
            p->rate = r;
            p->samples = r * (double)x->judged[g];
        }
    qsort(x->pairs, x->n_pairs, sizeof *x->pairs, pair_cmp);
    return 0;
}

static void
stats_fini(struct stats *x)
{
    store_names_free(x->names);
    store_states_free(x->st, x->n_st);
    store_run_fini(&x->info);
    free(x->current);
    free(x->given);
    free(x->matrix);
    free(x->judged);
    free(x->pairs);
}

static double
class_noise(const struct stats *x, int c)
{
    if (x->run == 0 || c >= x->k)
        return NAN;
    return 1.0 - x->matrix[(size_t)c * (size_t)x->k + (size_t)c];
}

/* ---- JSON ---- */

/* The shape of --json (winnow(1)); a new key may come without a new
 * version, a changed or removed one may not. */
#define STATS_JSON_VERSION 1

static void
print_json(const struct stats *x)
{
    FILE *f = stdout;
    fprintf(f, "{\"version\":%d,\"samples\":%zu,\"classes\":[",
            STATS_JSON_VERSION, x->n_samples);
    for (int c = 0; c < x->n_names; c++) {
        fprintf(f, "%s{\"id\":%d,\"name\":", c ? "," : "", c);
        json_put_string(f, x->names[c]);
        fprintf(f, ",\"samples\":%lld,\"given\":%lld,\"noise\":",
                (long long)x->current[c], (long long)x->given[c]);
        json_put_real(f, class_noise(x, c));
        fputc('}', f);
    }
    fprintf(f,
            "],\"review\":{\"unreviewed\":%zu,\"kept\":%zu,"
            "\"relabeled\":%zu,\"auto\":%zu},\"run\":",
            x->review[STORE_UNREVIEWED], x->review[STORE_KEPT],
            x->review[STORE_RELABELED], x->review[STORE_AUTO]);
    if (x->run == 0) {
        fputs("null,\"proposals\":null}\n", f);
        return;
    }
    fprintf(f, "{\"id\":%lld,\"finished\":", (long long)x->run);
    json_put_time(f, x->info.finished);
    fputs(",\"noise_rate\":", f);
    json_put_real(f, x->info.noise_rate);
    fprintf(f, ",\"flagged\":%zu,\"matrix\":[", x->flagged);
    for (int g = 0; g < x->k; g++) {
        fputs(g ? ",[" : "[", f);
        for (int t = 0; t < x->k; t++) {
            if (t)
                fputc(',', f);
            json_put_real(f, x->matrix[(size_t)g * (size_t)x->k + (size_t)t]);
        }
        fputc(']', f);
    }
    fputs("],\"confused\":[", f);
    for (size_t i = 0; i < x->n_pairs; i++) {
        const struct pair *p = &x->pairs[i];
        fputs(i ? ",{\"given\":" : "{\"given\":", f);
        json_put_string(f, x->names[p->given]);
        fputs(",\"true\":", f);
        json_put_string(f, x->names[p->truth]);
        fputs(",\"rate\":", f);
        json_put_real(f, p->rate);
        fputs(",\"samples\":", f);
        json_put_real(f, p->samples);
        fputc('}', f);
    }
    size_t decided = x->accepted + x->rejected + x->corrected + x->auto_set;
    fprintf(f,
            "]},\"proposals\":{\"flagged\":%zu,\"accepted\":%zu,"
            "\"rejected\":%zu,\"corrected\":%zu,\"auto\":%zu,"
            "\"open\":%zu}}\n",
            x->flagged, x->accepted, x->rejected, x->corrected, x->auto_set,
            x->flagged - decided);
}

/* ---- text ---- */

static double
pct(double part, double whole)
{
    return whole > 0 ? 100.0 * part / whole : 0.0;
}

/* Print s in exactly w columns, cut at a character boundary. */
static void
put_cell(const char *s, int w, int right)
{
    int n = 0, bytes = 0;
    const unsigned char *p = (const unsigned char *)s;
    while (p[bytes] != '\0') {
        int l = 1;
        while ((p[bytes + l] & 0xc0) == 0x80)
            l++;
        if (n + 1 > w)
            break;
        bytes += l;
        n++;
    }
    if (right)
        printf("%*s%.*s", w - n, "", bytes, s);
    else
        printf("%.*s%*s", bytes, s, w - n, "");
}

/* A background deeper for larger rates; 0 for none. */
static int
shade(double rate)
{
    if (rate >= 0.20)
        return 196;
    if (rate >= 0.10)
        return 160;
    if (rate >= 0.05)
        return 124;
    if (rate >= 0.02)
        return 88;
    if (rate > 0.0)
        return 52;
    return 0;
}

static void
print_matrix(const struct stats *x, int color)
{
    int cw = 7, rw = 5;
    for (int g = 0; g < x->k; g++) {
        int l = (int)strlen(x->names[g]);
        if (l > rw)
            rw = l > 16 ? 16 : l;
    }
    if (rw + 1 + x->k * cw > STATS_MAX_WIDTH) {
        printf("\nnoise matrix: %d classes do not fit on a line; "
               "winnow stats --json has it\n",
               x->k);
        return;
    }
    printf("\nnoise matrix (%% of each given label; rows: given label, "
           "columns: estimated true label):\n");
    put_cell("", rw + 1, 0);
    for (int t = 0; t < x->k; t++) {
        putchar(' ');
        put_cell(x->names[t], cw - 1, 1);
    }
    putchar('\n');
    for (int g = 0; g < x->k; g++) {
        put_cell(x->names[g], rw, 0);
        putchar(' ');
        for (int t = 0; t < x->k; t++) {
            double r = x->matrix[(size_t)g * (size_t)x->k + (size_t)t];
            int bg = g != t ? shade(r) : 0;
            if (color && bg)
                printf("\033[97;48;5;%dm", bg);
            if (r > 0.0)
                printf("%*.1f", cw, 100.0 * r);
            else
                printf("%*s", cw, ".");
            if (color && bg)
                fputs("\033[0m", stdout);
        }
        putchar('\n');
    }
}

static void
print_text(const char *db, const struct stats *x, int color)
{
    size_t decided = x->review[STORE_KEPT] + x->review[STORE_RELABELED];
    printf("project:   %s\n", db);
    printf("samples:   %zu\n", x->n_samples);
    printf("classes:   %d\n", x->n_names);
    printf("review:    %zu decided by a person (%zu relabeled, %zu kept), "
           "%zu auto-accepted, %zu unreviewed (%.1f%% reviewed)\n",
           decided, x->review[STORE_RELABELED], x->review[STORE_KEPT],
           x->review[STORE_AUTO], x->review[STORE_UNREVIEWED],
           pct((double)decided, (double)x->n_samples));
    if (x->run == 0) {
        printf("run:       none finished yet (winnow score %s)\n", db);
    } else {
        char when[32] = "?";
        time_t t = (time_t)(x->info.finished / 1000);
        struct tm tm;
        if (localtime_r(&t, &tm) != NULL)
            strftime(when, sizeof when, "%Y-%m-%d %H:%M", &tm);
        printf("run:       #%lld, finished %s: estimated noise rate %.1f%%, "
               "%zu flagged\n",
               (long long)x->run, when, 100.0 * x->info.noise_rate, x->flagged);
    }
    int w = 5;
    for (int c = 0; c < x->n_names; c++) {
        int l = (int)strlen(x->names[c]);
        if (l > w)
            w = l > 24 ? 24 : l;
    }
    printf("\n");
    put_cell("class", w, 0);
    printf("  samples  imported  est. noise\n");
    for (int c = 0; c < x->n_names; c++) {
        put_cell(x->names[c], w, 0);
        printf("  %7lld  %8lld", (long long)x->current[c],
               (long long)x->given[c]);
        double r = class_noise(x, c);
        if (isnan(r))
            printf("           -\n");
        else
            printf("  %9.1f%%\n", 100.0 * r);
    }
    if (x->run == 0)
        return;
    if (x->n_pairs == 0) {
        printf("\nmost confused: none (the run found no label noise)\n");
    } else {
        printf("\nmost confused (given -> probably true: %% of the given "
               "label, about how many):\n");
        for (size_t i = 0; i < x->n_pairs && i < STATS_TOP_PAIRS; i++) {
            const struct pair *p = &x->pairs[i];
            printf("  %s -> %s: %.1f%%, ~%.0f\n", x->names[p->given],
                   x->names[p->truth], 100.0 * p->rate, p->samples);
        }
    }
    print_matrix(x, color);
    size_t done = x->accepted + x->rejected + x->corrected;
    printf("\nproposals: %zu flagged; %zu decided by a person: %zu accepted, "
           "%zu rejected, %zu corrected; %zu auto-accepted; %zu open\n",
           x->flagged, done, x->accepted, x->rejected, x->corrected,
           x->auto_set, x->flagged - done - x->auto_set);
}

static int
want_color(const char *when)
{
    if (strcmp(when, "always") == 0)
        return 1;
    if (strcmp(when, "never") == 0)
        return 0;
    const char *nc = getenv("NO_COLOR"), *term = getenv("TERM");
    if (nc != NULL && *nc != '\0')
        return 0;
    if (term == NULL || strcmp(term, "dumb") == 0)
        return 0;
    return isatty(STDOUT_FILENO);
}

static const char *const color_choices[] = {"auto", "always", "never", NULL};

struct stats_args {
    int json;
    int color; /* index in color_choices */
};

static const struct cmd_option stats_options[] = {
    {.name = "json",
     .kind = OPT_FLAG,
     .offset = CMD_FIELD(struct stats_args, json, int),
     .help = "one JSON object: samples, classes (counts, noise),\n"
             "review, run (noise rate, matrix, confused pairs),\n"
             "proposals"},
    {.name = "color",
     .kind = OPT_CHOICE,
     .offset = CMD_FIELD(struct stats_args, color, int),
     .choices = color_choices,
     .argname = "WHEN",
     .help = "shade the noise matrix: auto (a terminal, unless\n"
             "NO_COLOR is set or TERM is dumb), always, never"},
    {0},
};

static int
run_stats(int argc, char **argv)
{
    struct stats_args a = {0};
    int n, done = cmd_parse(&cmd_stats, argc, argv, &a, &n);
    if (done >= 0)
        return done;
    const char *db = argv[1];
    int json = a.json;
    const char *color = color_choices[a.color];
    struct store *s;
    char *cause = NULL;
    if ((s = cmd_open_store(db, STORE_READONLY)) == NULL)
        return EXIT_FAIL;
    struct stats x;
    memset(&x, 0, sizeof x);
    int rc = store_snapshot_begin(s, &cause);
    if (rc == 0) {
        rc = gather(s, &x, &cause);
        store_snapshot_end(s);
    }
    store_close(s);
    if (rc != 0) {
        cmd_error("stats: %s", cause);
        free(cause);
        stats_fini(&x);
        return EXIT_FAIL;
    }
    if (json)
        print_json(&x);
    else
        print_text(db, &x, want_color(color));
    stats_fini(&x);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        cmd_error("stats: write error on standard output");
        return EXIT_FAIL;
    }
    return EXIT_OK;
}

const struct cmd cmd_stats = {
    .name = "stats",
    .usage = "DB [--json] [--color WHEN]",
    .summary = "show review progress, estimated label noise and the noise "
               "matrix",
    .operands = (const struct cmd_operand[]){CMD_OPERAND_DB, {0}},
    .min_operands = 1,
    .options = stats_options,
    .notes = "The noise estimates are the latest finished run's: row = the "
             "given\n"
             "label, column = the estimated true label, in % of the row. "
             "Proposals\n"
             "count the run's flagged samples a person decided on: accepted "
             "(the\n"
             "suggestion), rejected (the label the run judged), corrected "
             "(another).\n",
    .run = run_stats,
};
