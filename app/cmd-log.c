/* app/cmd-log.c: `winnow log DB [PATH]`, the label history, newest first.
 *
 * One line per event, in a fixed order so scripts can split it:
 *   TIME  PATH  OLD -> NEW  SOURCE  run R  score S  #ID [marks]
 * TIME is local, "-" stands for "none" (the old label of an import, an
 * event before any run), and the marks say "undoes #N", "undone" and
 * note "TEXT". Read-only: safe beside a running review. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "app/cmd.h"
#include "data/json.h"
#include "data/store.h"

extern const struct cmd cmd_log;

/* The shape of --json (winnow(1), JSON OUTPUT); a new key may come
 * without a new version, a changed or removed one may not. */
#define LOG_JSON_VERSION 1

static const char *
label_name(char **names, int n, int id)
{
    return id >= 0 && id < n ? names[id] : "-";
}

static void
print_event(const struct store_event *e, char **names, int n)
{
    time_t t = (time_t)(e->time / 1000);
    struct tm tm;
    char when[32];
    localtime_r(&t, &tm);
    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
    printf("%s  %s  %s -> %s  %s  run ", when, e->path,
           label_name(names, n, e->old_label),
           label_name(names, n, e->new_label),
           store_label_source_name(e->source));
    if (e->run_id > 0)
        printf("%lld", (long long)e->run_id);
    else
        putchar('-');
    if (isnan(e->score))
        printf("  score -");
    else
        printf("  score %.3f", e->score);
    printf("  #%lld", (long long)e->id);
    if (e->undoes > 0)
        printf("  undoes #%lld", (long long)e->undoes);
    if (e->undone)
        printf("  undone");
    if (e->follows > 0)
        printf("  follows #%lld", (long long)e->follows);
    if (e->excluded)
        printf("  dropped");
    if (e->note != NULL)
        printf("  note \"%s\"", e->note);
    putchar('\n');
}

static void
json_label(FILE *f, char **names, int n, int id)
{
    json_put_string_or_null(f, id >= 0 && id < n ? names[id] : NULL);
}

/* One object per line, the same events in the same order as the text. */
static void
print_event_json(const struct store_event *e, char **names, int n)
{
    FILE *f = stdout;
    fprintf(f, "{\"version\":%d,\"id\":%lld,\"time\":", LOG_JSON_VERSION,
            (long long)e->id);
    json_put_time(f, e->time);
    fprintf(f, ",\"sample_id\":%lld,\"path\":", (long long)e->sample_id);
    json_put_string(f, e->path);
    fputs(",\"old_label\":", f);
    json_label(f, names, n, e->old_label);
    fputs(",\"new_label\":", f);
    json_label(f, names, n, e->new_label);
    fputs(",\"source\":", f);
    json_put_string(f, store_label_source_name(e->source));
    fputs(",\"run_id\":", f);
    json_put_id(f, e->run_id);
    fputs(",\"score\":", f);
    json_put_real(f, e->score);
    fputs(",\"note\":", f);
    json_put_string_or_null(f, e->note);
    fputs(",\"undoes\":", f);
    json_put_id(f, e->undoes);
    fprintf(f, ",\"undone\":%s,\"follows\":", e->undone ? "true" : "false");
    json_put_id(f, e->follows);
    fprintf(f, ",\"dropped\":%s}\n", e->excluded ? "true" : "false");
}

static int
show_log(struct store *s, const char *path, int all, int json)
{
    char *cause = NULL;
    char **names = NULL;
    int n = 0;
    int64_t id = 0;
    struct store_event *ev = NULL;
    size_t n_ev = 0;
    if ((path != NULL && store_sample_lookup(s, path, &id, &cause) != 0) ||
        store_class_names(s, &names, &n, &cause) != 0 ||
        store_events_get(s, id, all, &ev, &n_ev, &cause) != 0) {
        cmd_error("log: %s", cause);
        free(cause);
        store_names_free(names);
        return EXIT_FAIL;
    }
    for (size_t i = n_ev; i > 0; i--)
        (json ? print_event_json : print_event)(&ev[i - 1], names, n);
    store_events_free(ev, n_ev);
    store_names_free(names);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        cmd_error("log: write error on standard output");
        return EXIT_FAIL;
    }
    return EXIT_OK;
}

struct log_args {
    int all, json;
};

static const struct cmd_option log_options[] = {
    {.name = "all",
     .short_name = 'a',
     .kind = OPT_FLAG,
     .offset = CMD_FIELD(struct log_args, all, int),
     .help = "include the import events"},
    {.name = "json",
     .kind = OPT_FLAG,
     .offset = CMD_FIELD(struct log_args, json, int),
     .help = "one JSON object per line (winnow(1), JSON OUTPUT)"},
    {0},
};

static int
run_log(int argc, char **argv)
{
    struct log_args a = {0};
    int n, done = cmd_parse(&cmd_log, argc, argv, &a, &n);
    if (done >= 0)
        return done;
    const char *db = argv[1];
    struct store *s;
    if ((s = cmd_open_store(db, STORE_READONLY)) == NULL)
        return EXIT_FAIL;
    int rc = show_log(s, n == 2 ? argv[2] : NULL, a.all, a.json);
    store_close(s);
    return rc;
}

const struct cmd cmd_log = {
    .name = "log",
    .usage = "DB [PATH] [--all] [--json]",
    .summary = "show the label history: decisions, undos, accepted "
               "suggestions",
    .operands =
        (const struct cmd_operand[]){
            CMD_OPERAND_DB,
            {.name = "PATH",
             .help = "only this sample (SOURCE:PATH when several imports\n"
                     "have that path)"},
            {0},
        },
    .min_operands = 1,
    .options = log_options,
    .notes = "One line per event, newest first:\n"
             "  TIME  PATH  OLD -> NEW  SOURCE  run R  score S  #ID [marks]\n"
             "SOURCE is import, human or auto; R and S are the latest run "
             "then\n"
             "and the sample's score in it ('-' if none); marks: undoes #N,\n"
             "undone, follows #N (carried from that decision), dropped (as a\n"
             "duplicate, from exports), note \"TEXT\".\n",
    .run = run_log,
};
