/* data/export.c: the label CSV, JSON lines, class folders, IDX and scores.
 *
 * An export is three steps. First everything is read in one snapshot of
 * the project (labels and review state, the latest finished run's scores,
 * the history) and the policy for unreviewed samples is applied in memory,
 * so every check that can refuse the export (a non-empty folder, a class
 * name that cannot be a folder, a project not from IDX) runs before a byte
 * is written. Then one walk in import order writes a row to each output at
 * once, each under a temporary name. Last, when every output is complete
 * and closed, the accepted suggestions are committed and the temporaries
 * renamed: a failure anywhere before that removes every temporary, and
 * nothing appears under a real name.
 *
 * The renames are the one step that cannot be undone as a group; each is
 * atomic, they run back to back, and they only fail on a file system gone
 * wrong. */
#include "config.h"

#include "data/export.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <stdio_ext.h> /* __fpurge: glibc and musl */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "data/csv.h"
#include "data/idx.h"
#include "data/image.h"

/* ---- JSON ---- */

/* Length of the UTF-8 sequence at s, or 0 if it is not one. */
static size_t
utf8_len(const unsigned char *s)
{
    size_t n;
    uint32_t c;
    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf) {
        n = 2;
        c = s[0] & 0x1fu;
    } else if (s[0] >= 0xe0 && s[0] <= 0xef) {
        n = 3;
        c = s[0] & 0x0fu;
    } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        n = 4;
        c = s[0] & 0x07u;
    } else {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3fu);
    }
    /* Overlong forms, surrogates and values past U+10FFFF. */
    if ((n == 3 && c < 0x800) || (n == 4 && (c < 0x10000 || c > 0x10ffff)) ||
        (c >= 0xd800 && c <= 0xdfff))
        return 0;
    return n;
}

void
export_json_string(FILE *f, const char *str)
{
    const unsigned char *s = (const unsigned char *)str;
    fputc('"', f);
    while (*s != '\0') {
        size_t n = utf8_len(s);
        if (n == 0) {
            fputs("\\ufffd", f);
            s++;
            continue;
        }
        if (n > 1) {
            fwrite(s, 1, n, f);
            s += n;
            continue;
        }
        unsigned char c = *s++;
        switch (c) {
        case '"':
            fputs("\\\"", f);
            break;
        case '\\':
            fputs("\\\\", f);
            break;
        case '\n':
            fputs("\\n", f);
            break;
        case '\r':
            fputs("\\r", f);
            break;
        case '\t':
            fputs("\\t", f);
            break;
        default:
            if (c < 0x20 || c == 0x7f)
                fprintf(f, "\\u%04x", c);
            else
                fputc(c, f);
        }
    }
    fputc('"', f);
}

void
export_json_real(FILE *f, double v)
{
    if (isnan(v) || isinf(v))
        fputs("null", f);
    else
        fprintf(f, "%.6g", v);
}

void
export_json_time(FILE *f, int64_t ms)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    char buf[32];
    gmtime_r(&t, &tm);
    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    fprintf(f, "\"%s.%03dZ\"", buf, (int)(ms % 1000));
}

/* ---- targets: where an output is written, and where it ends up ---- */

struct target {
    const char *name; /* as given, for messages */
    char *final;      /* renamed to at the end; NULL: written in place */
    char *tmp;        /* written here */
    FILE *f;          /* NULL for the folder and IDX targets */
    int is_stdout, is_dir;
    int in_place; /* a device or FIFO: tmp is the name itself */
};

static void
target_discard(struct target *t)
{
    /* What a failed export left in stdout's buffer is dropped: it would
     * only add to a partial output, and flushing it at exit could block
     * forever on a pipe nobody reads (the very case of an interrupt). */
    if (t->f != NULL && t->is_stdout)
        __fpurge(t->f);
    else if (t->f != NULL)
        fclose(t->f);
    t->f = NULL;
}

static int
rmtree_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

/* Remove what the target wrote under a temporary name. */
static void
target_remove(struct target *t)
{
    target_discard(t);
    if (t->tmp == NULL || t->in_place)
        return;
    if (t->is_dir)
        nftw(t->tmp, rmtree_one, 16, FTW_DEPTH | FTW_PHYS);
    else
        unlink(t->tmp);
}

static void
target_fini(struct target *t)
{
    free(t->final);
    free(t->tmp);
    memset(t, 0, sizeof *t);
}

/* Open a file output. A device or FIFO is written in place; a symbolic
 * link to a file is followed, so the file it names is replaced and the link
 * kept; anything else is written to NAME.tmp-PID (NAME.tmp-PID.gz for a
 * .gz name, whose suffix says how to write it). With want_file 0 the
 * temporary is only created, for a writer that opens it by name. */
static int
target_open_file(struct target *t, const char *name, int want_file,
                 char **cause)
{
    struct stat st;
    memset(t, 0, sizeof *t);
    t->name = name;
    if (strcmp(name, "-") == 0) {
        t->is_stdout = 1;
        t->f = stdout;
        return 0;
    }
    if (stat(name, &st) == 0) {
        if (S_ISDIR(st.st_mode))
            return wn_fail(cause, "%s: is a folder", name);
        if (!S_ISREG(st.st_mode)) {
            t->in_place = 1;
            t->tmp = xstrdup(name);
            if (want_file && (t->f = fopen(name, "w")) == NULL)
                return wn_fail(cause, "%s: %s", name, strerror(errno));
            return 0;
        }
    }
    struct stat lst;
    if (lstat(name, &lst) == 0 && S_ISLNK(lst.st_mode))
        t->final = realpath(name, NULL);
    if (t->final == NULL)
        t->final = xstrdup(name);
    size_t n = strlen(t->final);
    if (n > 3 && strcmp(t->final + n - 3, ".gz") == 0)
        t->tmp = xasprintf("%.*s.tmp-%ld.gz", (int)(n - 3), t->final,
                           (long)getpid());
    else
        t->tmp = xasprintf("%s.tmp-%ld", t->final, (long)getpid());
    int fd = open(t->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0) {
        int e = errno;
        free(t->tmp);
        t->tmp = NULL;
        return wn_fail(cause, "%s: %s", name, strerror(e));
    }
    if (!want_file) {
        close(fd);
        return 0;
    }
    t->f = fdopen(fd, "w");
    if (t->f == NULL) {
        int e = errno;
        close(fd);
        return wn_fail(cause, "%s: %s", name, strerror(e));
    }
    return 0;
}

/* DIR must not exist or be an empty folder; the tree is built in
 * DIR.tmp-PID and renamed onto it. */
static int
target_open_dir(struct target *t, const char *name, char **cause)
{
    memset(t, 0, sizeof *t);
    t->name = name;
    t->is_dir = 1;
    size_t n = strlen(name);
    while (n > 1 && name[n - 1] == '/')
        n--;
    if (n == 0 || (n == 1 && name[0] == '/'))
        return wn_fail(cause, "%s: not a folder to export into", name);
    t->final = xstrndup(name, n);
    struct stat st;
    if (stat(t->final, &st) == 0) {
        if (!S_ISDIR(st.st_mode))
            return wn_fail(cause, "%s: exists and is not a folder", name);
        /* An empty folder is replaced by the rename; the check is
         * repeated by rename itself, which refuses a folder that filled up
         * meanwhile. */
        DIR *d = opendir(t->final);
        if (d == NULL)
            return wn_fail(cause, "%s: %s", name, strerror(errno));
        struct dirent *de;
        int empty = 1;
        while (empty && (de = readdir(d)) != NULL)
            if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
                empty = 0;
        closedir(d);
        if (!empty)
            return wn_fail(cause, "%s: folder exists and is not empty", name);
    }
    t->tmp = xasprintf("%s.tmp-%ld", t->final, (long)getpid());
    if (mkdir(t->tmp, 0777) != 0) {
        int e = errno;
        free(t->tmp);
        t->tmp = NULL;
        return wn_fail(cause, "%s: %s", name, strerror(e));
    }
    return 0;
}

static const char *
errno_text(int e)
{
    return e == ENOSPC ? "no space left on device" : strerror(e);
}

/* Flush and close a file output; its cause names it. */
static int
target_close(struct target *t, char **cause)
{
    if (t->f == NULL)
        return 0;
    const char *what = t->is_stdout ? "standard output" : t->name;
    int err = ferror(t->f) != 0;
    int e = errno;
    if (fflush(t->f) != 0 && !err) {
        err = 1;
        e = errno;
    }
    if (!t->is_stdout) {
        if (fclose(t->f) != 0 && !err) {
            err = 1;
            e = errno;
        }
    }
    t->f = NULL;
    if (err)
        return wn_fail(cause, "%s: %s", what, errno_text(e ? e : EIO));
    return 0;
}

static int
target_commit(struct target *t, char **cause)
{
    if (t->final == NULL || t->tmp == NULL)
        return 0;
    if (rename(t->tmp, t->final) != 0) {
        int e = errno;
        if (t->is_dir && (e == ENOTEMPTY || e == EEXIST))
            return wn_fail(cause, "%s: folder exists and is not empty",
                           t->name);
        return wn_fail(cause, "%s: %s", t->name, strerror(e));
    }
    free(t->tmp);
    t->tmp = NULL;
    return 0;
}

/* ---- the export ---- */

enum {
    T_SCORES,
    T_LABELS,
    T_JSONL,
    T_FOLDER,
    T_IDX_IMAGES,
    T_IDX_LABELS,
    T_COUNT
};

struct row { /* one sample as it is exported */
    int label;
    enum store_review review;
    int include;
    int has_score;
    struct store_score sc;
};

struct export_job {
    struct store *s;
    const struct export_options *o;
    struct export_result *res;
    char **names;
    int n_names;
    int64_t run;
    struct store_label_state *st;
    size_t n;
    struct row *rows;
    struct store_event *ev; /* by sample, then id */
    size_t n_ev, ev_at;
    struct store_auto_label *accepted;
    int64_t now;
    struct target t[T_COUNT];
    int *class_made; /* folder: class folder exists */
    uint8_t *idx_px, *idx_lb;
    size_t idx_n, idx_cap, idx_per;
    int idx_w, idx_h, idx_c;
    uint8_t *pixbuf;
    size_t pixcap;
    size_t at; /* the walk's position */
};

static const char *
class_name(const struct export_job *x, int id)
{
    return id >= 0 && id < x->n_names ? x->names[id] : "";
}

static int
stopped(const struct export_job *x, char **cause)
{
    if (x->o->stop != NULL && *x->o->stop)
        return wn_fail(cause, "interrupted");
    return 0;
}

static int
row_cmp_id(const void *key, const void *elem)
{
    int64_t k = *(const int64_t *)key;
    int64_t id = ((const struct store_label_state *)elem)->sample_id;
    return (k > id) - (k < id);
}

static int
collect_score(void *ctx, const struct store_scored *r, char **cause)
{
    (void)cause;
    struct export_job *x = ctx;
    const struct store_label_state *hit =
        x->n > 0
            ? bsearch(&r->sc.sample_id, x->st, x->n, sizeof *x->st, row_cmp_id)
            : NULL;
    if (hit != NULL) {
        struct row *w = &x->rows[hit - x->st];
        w->has_score = 1;
        w->sc = r->sc;
    }
    return 0;
}

static int
ev_cmp(const void *a, const void *b)
{
    const struct store_event *x = a, *y = b;
    if (x->sample_id != y->sample_id)
        return (x->sample_id > y->sample_id) - (x->sample_id < y->sample_id);
    return (x->id > y->id) - (x->id < y->id);
}

/* Apply the policy for unreviewed samples. A run's verdict counts only for
 * a sample whose label is still the one the run judged. */
static void
apply_policy(struct export_job *x)
{
    const struct export_options *o = x->o;
    size_t cap = 0;
    for (size_t i = 0; i < x->n; i++) {
        const struct store_label_state *st = &x->st[i];
        struct row *w = &x->rows[i];
        w->label = st->label;
        w->review = st->review;
        w->include = 1;
        int open = st->review == STORE_UNREVIEWED || st->review == STORE_AUTO;
        if (!open || !w->has_score || w->sc.label != st->label)
            continue;
        if (o->policy == EXPORT_DROP_FLAGGED && w->sc.flagged) {
            w->include = 0;
            x->res->dropped++;
        } else if (o->policy == EXPORT_ACCEPT_ABOVE && w->sc.suggested >= 0 &&
                   w->sc.suggested < x->n_names &&
                   w->sc.suggested != st->label &&
                   !isnan(w->sc.suggested_prob) &&
                   w->sc.suggested_prob >= o->accept_p) {
            w->label = w->sc.suggested;
            w->review = STORE_AUTO;
            wn_grow(&x->accepted, sizeof *x->accepted, &cap,
                    x->res->accepted + 1);
            struct store_auto_label *a = &x->accepted[x->res->accepted++];
            a->sample_id = st->sample_id;
            a->seen_event = st->last_event;
            a->label = w->label;
            a->run_id = x->run;
            a->score = w->sc.score;
        }
    }
}

/* Why a class name cannot be a folder name, or NULL. */
static const char *
bad_folder_name(const char *name)
{
    if (*name == '\0')
        return "it is empty";
    if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return "it names a folder itself";
    if (strchr(name, '/') != NULL)
        return "it contains '/'";
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return "it contains a control character";
    return NULL;
}

/* Everything that can refuse the export, before anything is written. */
static int
check_outputs(struct export_job *x, char **cause)
{
    const struct export_options *o = x->o;
    if (o->folder != NULL) {
        int *used = xcalloc((size_t)x->n_names + 1, sizeof *used);
        for (size_t i = 0; i < x->n; i++)
            if (x->rows[i].include && x->rows[i].label >= 0 &&
                x->rows[i].label < x->n_names)
                used[x->rows[i].label] = 1;
        int rc = 0;
        for (int c = 0; c < x->n_names && rc == 0; c++) {
            const char *why = used[c] ? bad_folder_name(x->names[c]) : NULL;
            if (why != NULL) {
                /* Show the name with its control characters escaped. */
                char *shown = xmalloc(4 * strlen(x->names[c]) + 1), *p = shown;
                for (const unsigned char *q =
                         (const unsigned char *)x->names[c];
                     *q; q++) {
                    if (*q < 0x20 || *q == 0x7f)
                        p += sprintf(p, "\\x%02x", *q);
                    else
                        *p++ = (char)*q;
                }
                *p = '\0';
                rc = wn_fail(cause,
                             "--folder: class '%s' cannot be a folder name "
                             "(%s)",
                             shown, why);
                free(shown);
            }
        }
        free(used);
        if (rc != 0)
            return -1;
    }
    if (o->idx_images != NULL) {
        if (x->n_names > 256)
            return wn_fail(cause,
                           "--idx: %d classes do not fit in an IDX label "
                           "file (at most 256)",
                           x->n_names);
        for (size_t i = 0; i < x->n; i++)
            if (x->rows[i].include && x->st[i].source_kind != STORE_SOURCE_IDX)
                return wn_fail(cause,
                               "--idx: the project has samples not imported "
                               "from IDX files (%s came from a %s)",
                               x->st[i].path,
                               x->st[i].source_kind == STORE_SOURCE_CSV
                                   ? "CSV manifest"
                                   : "folder");
    }
    return 0;
}

static int
target_failed(struct export_job *x, int which, char **cause)
{
    struct target *t = &x->t[which];
    if (t->f == NULL || !ferror(t->f))
        return 0;
    int e = errno;
    if (e == EINTR && stopped(x, cause) != 0)
        return -1;
    return wn_fail(cause, "%s: %s", t->is_stdout ? "standard output" : t->name,
                   errno_text(e ? e : EIO));
}

/* ---- scores ---- */

static void
put_real(FILE *f, double v)
{
    if (!isnan(v))
        fprintf(f, "%.6g", v);
}

static int
write_score_row(void *ctx, const struct store_scored *row, char **cause)
{
    struct export_job *x = ctx;
    const struct store_score *sc = &row->sc;
    FILE *f = x->t[T_SCORES].f;
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
    fputc(',', f);
    put_real(f, sc->knn);
    fputc('\n', f);
    if (target_failed(x, T_SCORES, cause) != 0)
        return -1;
    return stopped(x, cause);
}

static int
write_scores(struct export_job *x, char **cause)
{
    fputs("path,given_label,suggested_label,score,flagged,self_confidence,"
          "margin,cl_flag,aum,elr,suggested_prob,knn\n",
          x->t[T_SCORES].f);
    return store_foreach_score(x->s, x->run, write_score_row, x, cause);
}

/* ---- one sample to each output ---- */

static void
write_label_row(struct export_job *x, size_t i)
{
    FILE *f = x->t[T_LABELS].f;
    const struct row *w = &x->rows[i];
    csv_write_field(f, x->st[i].path);
    fputc(',', f);
    csv_write_field(f, class_name(x, w->label));
    if (x->o->original) {
        fputc(',', f);
        csv_write_field(f, class_name(x, x->st[i].given));
    }
    if (x->o->status) {
        fprintf(f, ",%s,", store_review_name(w->review));
        if (w->has_score)
            put_real(f, w->sc.score);
    }
    fputc('\n', f);
}

static void
json_label(FILE *f, const struct export_job *x, int id)
{
    if (id >= 0 && id < x->n_names)
        export_json_string(f, x->names[id]);
    else
        fputs("null", f);
}

static void
json_event(FILE *f, const struct export_job *x, const struct store_event *e)
{
    /* id 0: the event this export is about to record. */
    if (e->id > 0)
        fprintf(f, "{\"id\":%lld,\"time\":", (long long)e->id);
    else
        fputs("{\"id\":null,\"time\":", f);
    export_json_time(f, e->time);
    fputs(",\"old\":", f);
    json_label(f, x, e->old_label);
    fputs(",\"new\":", f);
    json_label(f, x, e->new_label);
    fprintf(f,
            ",\"source\":\"%s\",\"run\":", store_label_source_name(e->source));
    if (e->run_id > 0)
        fprintf(f, "%lld", (long long)e->run_id);
    else
        fputs("null", f);
    fputs(",\"score\":", f);
    export_json_real(f, e->score);
    fputs(",\"note\":", f);
    if (e->note != NULL)
        export_json_string(f, e->note);
    else
        fputs("null", f);
    fputs(",\"undoes\":", f);
    if (e->undoes > 0)
        fprintf(f, "%lld", (long long)e->undoes);
    else
        fputs("null", f);
    fprintf(f, ",\"undone\":%s}", e->undone ? "true" : "false");
}

static void
write_json_row(struct export_job *x, size_t i)
{
    FILE *f = x->t[T_JSONL].f;
    const struct store_label_state *st = &x->st[i];
    const struct row *w = &x->rows[i];
    const struct store_score *sc = &w->sc;
    fputs("{\"path\":", f);
    export_json_string(f, st->path);
    fprintf(f, ",\"source\":\"%s\",\"given_label\":",
            store_source_kind_name(st->source_kind));
    json_label(f, x, st->given);
    fputs(",\"label\":", f);
    json_label(f, x, w->label);
    fprintf(f, ",\"status\":\"%s\",\"run\":", store_review_name(w->review));
    if (w->has_score) {
        fprintf(f, "%lld,\"score\":", (long long)x->run);
        export_json_real(f, sc->score);
        fputs(",\"scores\":{\"self_confidence\":", f);
        export_json_real(f, sc->self_confidence);
        fputs(",\"margin\":", f);
        export_json_real(f, sc->margin);
        fprintf(f, ",\"cl_flag\":%d,\"aum\":", sc->cl_flag);
        export_json_real(f, sc->aum);
        fputs(",\"elr\":", f);
        export_json_real(f, sc->elr);
        fputs(",\"knn\":", f);
        export_json_real(f, sc->knn);
        fputs("},\"judged_label\":", f);
        json_label(f, x, sc->label);
        fprintf(f, ",\"flagged\":%s,\"suggested_label\":",
                sc->flagged ? "true" : "false");
        json_label(f, x, sc->suggested);
        fputs(",\"suggested_prob\":", f);
        export_json_real(f, sc->suggested_prob);
    } else {
        fputs("null,\"score\":null,\"scores\":null,\"judged_label\":null,"
              "\"flagged\":null,\"suggested_label\":null,"
              "\"suggested_prob\":null",
              f);
    }
    fputs(",\"history\":[", f);
    int first = 1;
    while (x->ev_at < x->n_ev && x->ev[x->ev_at].sample_id < st->sample_id)
        x->ev_at++;
    for (; x->ev_at < x->n_ev && x->ev[x->ev_at].sample_id == st->sample_id;
         x->ev_at++) {
        if (!first)
            fputc(',', f);
        first = 0;
        json_event(f, x, &x->ev[x->ev_at]);
    }
    if (w->review == STORE_AUTO && w->label != st->label) {
        /* The event this export records when it succeeds. */
        struct store_event e = {.id = 0,
                                .old_label = st->label,
                                .new_label = w->label,
                                .source = STORE_LABEL_AUTO,
                                .time = x->now,
                                .run_id = x->run,
                                .score = sc->score};
        if (!first)
            fputc(',', f);
        json_event(f, x, &e);
    }
    fputs("]}\n", f);
}

/* The file name of a sample in its class folder: its path with '/' as '_'
 * (a leading '.' as '_' too, or importers would pass it over as hidden),
 * ending in .png when it is written from the stored pixels. */
static char *
folder_file_name(const char *path, int as_png)
{
    size_t n = strlen(path);
    int add = 0;
    if (as_png && (n < 4 || strcasecmp(path + n - 4, ".png") != 0))
        add = 1;
    char *name = xasprintf("%s%s", path, add ? ".png" : "");
    for (char *p = name; *p; p++)
        if (*p == '/')
            *p = '_';
    if (name[0] == '.' || name[0] == '\0') {
        char *t = xasprintf("_%s", name);
        free(name);
        name = t;
    }
    return name;
}

/* name with "~k" before its extension. */
static char *
numbered(const char *name, int k)
{
    const char *dot = strrchr(name, '.');
    if (dot == NULL || dot == name)
        return xasprintf("%s~%d", name, k);
    return xasprintf("%.*s~%d%s", (int)(dot - name), name, k, dot);
}

static int
write_all(int fd, const void *buf, size_t len)
{
    const unsigned char *p = buf;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0)
            return -1; /* EINTR too: a signal asks to stop */
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

enum entry_kind { ENTRY_SYMLINK, ENTRY_HARDLINK, ENTRY_BYTES };

/* Make one entry under a name not yet taken in the class folder: a link
 * to src, or a file with the given bytes. Returns the errno of a failure,
 * 0 on success; EXDEV/EPERM/EMLINK from a hard link let the caller fall
 * back to a copy. */
static int
make_entry(const char *dir, const char *name, enum entry_kind kind,
           const char *src, const void *bytes, size_t len, char **made)
{
    for (int k = 1;; k++) {
        char *nm = k == 1 ? xstrdup(name) : numbered(name, k);
        char *p = xasprintf("%s/%s", dir, nm);
        free(nm);
        int r, e = 0;
        if (kind == ENTRY_SYMLINK) {
            r = symlink(src, p);
        } else if (kind == ENTRY_HARDLINK) {
            /* The file, not a link that may lead to it. */
            r = linkat(AT_FDCWD, src, AT_FDCWD, p, AT_SYMLINK_FOLLOW);
        } else {
            r = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
            if (r >= 0) {
                int fd = r;
                r = write_all(fd, bytes, len);
                if (r != 0)
                    e = errno;
                if (close(fd) != 0 && r == 0) {
                    r = -1;
                    e = errno;
                }
                if (r != 0) {
                    unlink(p);
                    errno = e;
                }
            }
        }
        if (r == 0) {
            *made = p;
            return 0;
        }
        e = errno;
        free(p);
        if (e != EEXIST)
            return e;
    }
}

static int
folder_entry(struct export_job *x, size_t i, const struct store_sample *smp,
             char **cause)
{
    const struct store_label_state *st = &x->st[i];
    const struct export_options *o = x->o;
    int label = x->rows[i].label;
    const char *root = x->t[T_FOLDER].tmp;
    char *dir = xasprintf("%s/%s", root, class_name(x, label));
    int rc = 0, e = 0;
    char *src = NULL, *made = NULL, *name = NULL;
    void *bytes = NULL;
    size_t len = 0;

    if (!x->class_made[label]) {
        if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
            rc = wn_fail(cause, "%s/%s: %s", o->folder, class_name(x, label),
                         strerror(errno));
            goto done;
        }
        x->class_made[label] = 1;
    }
    if (store_sample_source_file(x->s, st->sample_id, &src, cause) != 0) {
        rc = -1;
        goto done;
    }
    struct stat sst;
    if (src != NULL && (stat(src, &sst) != 0 || !S_ISREG(sst.st_mode))) {
        free(src);
        src = NULL; /* moved or gone: the stored copy stands in */
    }
    if (src != NULL && o->link != EXPORT_LINK_COPY) {
        name = folder_file_name(st->path, 0);
        e = make_entry(dir, name,
                       o->link == EXPORT_LINK_SYMBOLIC ? ENTRY_SYMLINK
                                                       : ENTRY_HARDLINK,
                       src, NULL, 0, &made);
        if (e == 0) {
            x->res->linked++;
            goto done;
        }
        if (o->link == EXPORT_LINK_SYMBOLIC ||
            (e != EXDEV && e != EPERM && e != EMLINK))
            goto fail;
        /* No hard link across file systems: a copy does. */
    }
    if (src != NULL) {
        unsigned char *buf;
        if (wn_read_file(src, (size_t)1 << 31, &buf, &len, cause) != 0) {
            rc = -1;
            goto done;
        }
        bytes = buf;
        free(name);
        name = folder_file_name(st->path, 0);
        e = make_entry(dir, name, ENTRY_BYTES, NULL, bytes, len, &made);
        if (e != 0)
            goto fail;
        x->res->copied++;
        goto done;
    }
    /* An IDX sample or a source that moved: the stored copy, as a PNG. */
    size_t raw = (size_t)smp->stored_width * (size_t)smp->stored_height *
                 (size_t)smp->channels;
    if (raw > x->pixcap) {
        free(x->pixbuf);
        x->pixbuf = xmalloc(raw);
        x->pixcap = raw;
    }
    memcpy(x->pixbuf, smp->pixels, raw);
    struct image im = {.width = smp->stored_width,
                       .height = smp->stored_height,
                       .channels = smp->channels,
                       .pixels = x->pixbuf};
    char *why = NULL;
    if (image_encode_png(&im, &bytes, &len, &why) != 0) {
        rc = wn_fail(cause, "%s: %s", st->path, why);
        free(why);
        goto done;
    }
    free(name);
    name = folder_file_name(st->path, 1);
    e = make_entry(dir, name, ENTRY_BYTES, NULL, bytes, len, &made);
    if (e != 0)
        goto fail;
    x->res->rendered++;
    goto done;
fail:
    if (e == EINTR && stopped(x, cause) != 0)
        rc = -1;
    else
        rc = wn_fail(cause, "%s/%s/%s: %s", o->folder, class_name(x, label),
                     name, errno_text(e));
done:
    free(dir);
    free(src);
    free(made);
    free(name);
    free(bytes);
    return rc;
}

static int
idx_append(struct export_job *x, size_t i, const struct store_sample *smp,
           char **cause)
{
    const char *path = x->st[i].path;
    if (smp->stored_width != smp->width || smp->stored_height != smp->height)
        return wn_fail(cause,
                       "--idx: %s was shrunk on import (%dx%d kept of "
                       "%dx%d); IDX needs the full images",
                       path, smp->stored_width, smp->stored_height, smp->width,
                       smp->height);
    if (x->idx_n == 0) {
        x->idx_w = smp->width;
        x->idx_h = smp->height;
        x->idx_c = smp->channels;
        x->idx_per =
            (size_t)smp->width * (size_t)smp->height * (size_t)smp->channels;
    } else if (smp->width != x->idx_w || smp->height != x->idx_h ||
               smp->channels != x->idx_c) {
        return wn_fail(cause,
                       "--idx: samples differ in size (%s is %dx%dx%d, "
                       "earlier ones %dx%dx%d)",
                       path, smp->width, smp->height, smp->channels, x->idx_w,
                       x->idx_h, x->idx_c);
    }
    if (x->idx_n + 1 > x->idx_cap) {
        size_t cap = x->idx_cap ? 2 * x->idx_cap : 1024, bytes;
        if (wn_mul_size(cap, x->idx_per, &bytes) != 0)
            return wn_fail(cause, "--idx: too many images");
        uint8_t *px = realloc(x->idx_px, bytes);
        if (px == NULL)
            return wn_fail(cause, "--idx: out of memory for %zu bytes", bytes);
        x->idx_px = px;
        x->idx_lb = xreallocarray(x->idx_lb, cap, 1);
        x->idx_cap = cap;
    }
    memcpy(x->idx_px + x->idx_n * x->idx_per, smp->pixels, x->idx_per);
    x->idx_lb[x->idx_n++] = (uint8_t)x->rows[i].label;
    return 0;
}

static int
export_one(struct export_job *x, size_t i, const struct store_sample *smp,
           char **cause)
{
    if (stopped(x, cause) != 0)
        return -1;
    if (!x->rows[i].include)
        return 0;
    enum store_review r = x->rows[i].review;
    x->res->samples++;
    x->res->review[r]++;
    if (x->t[T_LABELS].f != NULL) {
        write_label_row(x, i);
        if (target_failed(x, T_LABELS, cause) != 0)
            return -1;
    }
    if (x->t[T_JSONL].f != NULL) {
        write_json_row(x, i);
        if (target_failed(x, T_JSONL, cause) != 0)
            return -1;
    }
    if (x->o->folder != NULL && folder_entry(x, i, smp, cause) != 0)
        return -1;
    if (x->o->idx_images != NULL && idx_append(x, i, smp, cause) != 0)
        return -1;
    return 0;
}

static int
walk_sample(void *ctx, const struct store_sample *smp, char **cause)
{
    struct export_job *x = ctx;
    size_t i = x->at++;
    /* The snapshot keeps both lists the same. */
    if (i >= x->n || x->st[i].sample_id != smp->id)
        return wn_fail(cause, "the project changed during the export");
    return export_one(x, i, smp, cause);
}

static int
open_targets(struct export_job *x, char **cause)
{
    const struct export_options *o = x->o;
    if (o->scores != NULL &&
        target_open_file(&x->t[T_SCORES], o->scores, 1, cause) != 0)
        return -1;
    if (o->labels != NULL &&
        target_open_file(&x->t[T_LABELS], o->labels, 1, cause) != 0)
        return -1;
    if (o->jsonl != NULL &&
        target_open_file(&x->t[T_JSONL], o->jsonl, 1, cause) != 0)
        return -1;
    if (o->idx_images != NULL &&
        (target_open_file(&x->t[T_IDX_IMAGES], o->idx_images, 0, cause) != 0 ||
         target_open_file(&x->t[T_IDX_LABELS], o->idx_labels, 0, cause) != 0))
        return -1;
    if (o->folder != NULL &&
        target_open_dir(&x->t[T_FOLDER], o->folder, cause) != 0)
        return -1;
    if (o->labels != NULL) {
        FILE *f = x->t[T_LABELS].f;
        fputs("path,label", f);
        if (o->original)
            fputs(",given_label", f);
        if (o->status)
            fputs(",status,score", f);
        fputc('\n', f);
    }
    return 0;
}

static int
write_idx(struct export_job *x, char **cause)
{
    if (x->idx_n == 0)
        return wn_fail(cause, "--idx: no samples to write");
    if (x->idx_n > UINT32_MAX)
        return wn_fail(cause, "--idx: too many images for IDX");
    uint32_t dims[4] = {(uint32_t)x->idx_n, (uint32_t)x->idx_h,
                        (uint32_t)x->idx_w, (uint32_t)x->idx_c};
    uint32_t ldims[1] = {(uint32_t)x->idx_n};
    char *why = NULL;
    struct target *ti = &x->t[T_IDX_IMAGES], *tl = &x->t[T_IDX_LABELS];
    if (idx_write(ti->tmp, x->idx_c == 1 ? 3 : 4, dims, x->idx_px, &why) != 0 ||
        idx_write(tl->tmp, 1, ldims, x->idx_lb, &why) != 0) {
        /* idx_write names the temporary; the person knows the real name. */
        const char *colon = strrchr(why, ':');
        wn_fail(cause, "--idx: %s", colon != NULL ? colon + 2 : why);
        free(why);
        return -1;
    }
    return 0;
}

static int
read_project(struct export_job *x, char **cause)
{
    const struct export_options *o = x->o;
    if (store_class_names(x->s, &x->names, &x->n_names, cause) != 0 ||
        store_run_newest(x->s, STORE_RUN_DONE, &x->run, cause) != 0)
        return -1;
    x->res->run_id = x->run;
    if (x->run == 0 && o->scores != NULL)
        return wn_fail(cause, "no finished run to export (winnow score "
                              "first)");
    if (x->run == 0 && o->policy != EXPORT_KEEP)
        return wn_fail(cause,
                       "--unreviewed %s needs a finished run (winnow score "
                       "first)",
                       o->policy == EXPORT_DROP_FLAGGED ? "drop-flagged"
                                                        : "accept-above");
    if (store_label_states(x->s, &x->st, &x->n, cause) != 0)
        return -1;
    x->rows = xcalloc(x->n, sizeof *x->rows);
    if (x->run != 0 &&
        store_foreach_score(x->s, x->run, collect_score, x, cause) != 0)
        return -1;
    if (o->jsonl != NULL) {
        if (store_events_get(x->s, 0, 1, &x->ev, &x->n_ev, cause) != 0)
            return -1;
        if (x->n_ev > 0)
            qsort(x->ev, x->n_ev, sizeof *x->ev, ev_cmp);
    }
    apply_policy(x);
    return check_outputs(x, cause);
}

static int
write_outputs(struct export_job *x, char **cause)
{
    const struct export_options *o = x->o;
    if (open_targets(x, cause) != 0)
        return -1;
    if (o->folder != NULL)
        x->class_made = xcalloc((size_t)x->n_names + 1, sizeof(int));
    if (o->scores != NULL && write_scores(x, cause) != 0)
        return -1;
    if (o->folder != NULL || o->idx_images != NULL)
        return store_foreach_sample(x->s, walk_sample, x, cause);
    for (size_t i = 0; i < x->n; i++)
        if (export_one(x, i, NULL, cause) != 0)
            return -1;
    return 0;
}

static int
finish(struct export_job *x, char **cause)
{
    for (int i = 0; i < T_COUNT; i++)
        if (target_close(&x->t[i], cause) != 0)
            return -1;
    if (x->o->idx_images != NULL && write_idx(x, cause) != 0)
        return -1;
    if (stopped(x, cause) != 0)
        return -1;
    if (x->res->accepted > 0 &&
        store_label_auto(x->s, x->accepted, x->res->accepted, cause) != 0)
        return -1;
    for (int i = 0; i < T_COUNT; i++)
        if (target_commit(&x->t[i], cause) != 0)
            return -1;
    return 0;
}

int
export_run(struct store *s, const struct export_options *o,
           struct export_result *res, char **cause)
{
    struct export_job x;
    memset(&x, 0, sizeof x);
    memset(res, 0, sizeof *res);
    x.s = s;
    x.o = o;
    x.res = res;
    x.now = wn_time_ms();
    if (o->idx_images != NULL && o->idx_labels == NULL)
        return wn_fail(cause, "--idx needs an images and a labels file");

    int rc = store_snapshot_begin(s, cause);
    if (rc == 0) {
        rc = read_project(&x, cause);
        if (rc == 0)
            rc = write_outputs(&x, cause);
        store_snapshot_end(s);
    }
    if (rc == 0)
        rc = finish(&x, cause);
    if (rc != 0)
        for (int i = 0; i < T_COUNT; i++)
            target_remove(&x.t[i]);
    for (int i = 0; i < T_COUNT; i++)
        target_fini(&x.t[i]);
    store_names_free(x.names);
    store_states_free(x.st, x.n);
    store_events_free(x.ev, x.n_ev);
    free(x.rows);
    free(x.accepted);
    free(x.class_made);
    free(x.idx_px);
    free(x.idx_lb);
    free(x.pixbuf);
    return rc;
}
