/* data/export.c: an export's job, and its file formats: the label CSV,
 * JSON lines, IDX and the scores CSV (the class folder tree is in
 * data/export_folder.c, the temporaries and renames in data/outfile.c).
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

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data/csv.h"
#include "data/export_internal.h"
#include "data/idx.h"
#include "data/json.h"
#include "data/outfile.h"

const char *
export_class_name(const struct export_job *x, int id)
{
    return id >= 0 && id < x->n_names ? x->names[id] : "";
}

int
export_stopped(const struct export_job *x, char **cause)
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
collect_score(void *ctx, const struct store_score *sc, char **cause)
{
    (void)cause;
    struct export_job *x = ctx;
    const struct store_label_state *hit =
        x->n > 0
            ? bsearch(&sc->sample_id, x->st, x->n, sizeof *x->st, row_cmp_id)
            : NULL;
    if (hit != NULL) {
        struct row *w = &x->rows[hit - x->st];
        w->has_score = 1;
        w->sc = *sc;
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

/* A person dropped these as duplicates of a member they kept (the review
 * screen's duplicates view): every export of labels leaves them out. */
static void
apply_excluded(struct export_job *x)
{
    for (size_t i = 0; i < x->n; i++) {
        if (!x->st[i].excluded || !x->rows[i].include)
            continue;
        x->rows[i].include = 0;
        x->res->excluded++;
    }
}

/* The member a group keeps: the first (import order) that a person did
 * not drop, so that the one they kept stays; the first when all were. */
static uint32_t
dedupe_keeper(const struct export_job *x, const struct dups_group *g)
{
    for (size_t k = 0; k < g->n; k++) {
        uint32_t m = x->dups.members[g->first + k];
        if (!x->st[m].excluded)
            return m;
    }
    return x->dups.members[g->first];
}

/* Leave out every member of a group but its keeper: the group's copies are
 * one sample, whatever else left the keeper out. */
static void
apply_dedupe(struct export_job *x)
{
    for (size_t i = 0; i < x->n; i++) {
        int64_t g = x->dups.group_of[i];
        if (g == 0 || dedupe_keeper(x, &x->dups.groups[g - 1]) == i ||
            !x->rows[i].include)
            continue;
        x->rows[i].include = 0;
        x->res->deduped++;
    }
}

/* Everything that can refuse the export, before anything is written. */
static int
check_outputs(struct export_job *x, char **cause)
{
    const struct export_options *o = x->o;
    if (o->folder != NULL && export_folder_check(x, cause) != 0)
        return -1;
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
    struct outfile *t = &x->t[which];
    if (t->f == NULL || !ferror(t->f))
        return 0;
    int e = errno;
    if (e == EINTR && export_stopped(x, cause) != 0)
        return -1;
    return wn_fail(cause, "%s: %s", outfile_what(t),
                   outfile_strerror(e ? e : EIO));
}

/* ---- scores ---- */

static void
put_real(FILE *f, double v)
{
    if (!isnan(v))
        fprintf(f, "%.6g", v);
}

static int
write_score_row(struct export_job *x, size_t i, char **cause)
{
    const struct store_score *sc = &x->rows[i].sc;
    FILE *f = x->t[T_SCORES].f;
    csv_write_field(f, x->st[i].path);
    fputc(',', f);
    csv_write_field(f, export_class_name(x, sc->label));
    fputc(',', f);
    csv_write_field(f, export_class_name(x, sc->suggested));
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
    fputc(',', f);
    const struct store_label_state *hit =
        x->n > 0
            ? bsearch(&sc->sample_id, x->st, x->n, sizeof *x->st, row_cmp_id)
            : NULL;
    if (hit != NULL && x->dups.group_of[hit - x->st] != 0)
        fprintf(f, "%lld", (long long)x->dups.group_of[hit - x->st]);
    fputc(',', f);
    put_real(f, sc->outlier);
    fputc('\n', f);
    if (target_failed(x, T_SCORES, cause) != 0)
        return -1;
    return export_stopped(x, cause);
}

/* A scored row's place in the scores file. */
struct score_key {
    double score;
    int64_t id;
    size_t i;
};

static int
score_key_cmp(const void *a, const void *b)
{
    const struct score_key *x = a, *y = b;
    if (x->score != y->score) {
        if (isnan(x->score) || isnan(y->score))
            return isnan(x->score) ? 1 : -1;
        return x->score > y->score ? -1 : 1;
    }
    return (x->id > y->id) - (x->id < y->id);
}

/* Highest score first, ties in import order, from the scores read in the
 * first step: sorting them here costs a fraction of what reading the
 * project again in score order did (a seek into every sample's row). */
static int
write_scores(struct export_job *x, char **cause)
{
    fputs("path,given_label,suggested_label,score,flagged,self_confidence,"
          "margin,cl_flag,aum,elr,suggested_prob,knn,dup_group,outlier\n",
          x->t[T_SCORES].f);
    struct score_key *k = xcalloc(x->n + 1, sizeof *k);
    size_t nk = 0;
    for (size_t i = 0; i < x->n; i++)
        if (x->rows[i].has_score) {
            k[nk].score = x->rows[i].sc.score;
            k[nk].id = x->st[i].sample_id;
            k[nk++].i = i;
        }
    qsort(k, nk, sizeof *k, score_key_cmp);
    int r = 0;
    for (size_t j = 0; j < nk && r == 0; j++)
        r = write_score_row(x, k[j].i, cause);
    free(k);
    return r;
}

/* ---- one sample to each output ---- */

static void
write_label_row(struct export_job *x, size_t i)
{
    FILE *f = x->t[T_LABELS].f;
    const struct row *w = &x->rows[i];
    csv_write_field(f, x->st[i].path);
    fputc(',', f);
    csv_write_field(f, export_class_name(x, w->label));
    if (x->o->original) {
        fputc(',', f);
        csv_write_field(f, export_class_name(x, x->st[i].given));
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
    json_put_string_or_null(f,
                            id >= 0 && id < x->n_names ? x->names[id] : NULL);
}

static void
json_event(FILE *f, const struct export_job *x, const struct store_event *e)
{
    /* id 0: the event this export is about to record. */
    if (e->id > 0)
        fprintf(f, "{\"id\":%lld,\"time\":", (long long)e->id);
    else
        fputs("{\"id\":null,\"time\":", f);
    json_put_time(f, e->time);
    fputs(",\"old\":", f);
    json_label(f, x, e->old_label);
    fputs(",\"new\":", f);
    json_label(f, x, e->new_label);
    fprintf(f,
            ",\"source\":\"%s\",\"run\":", store_label_source_name(e->source));
    json_put_id(f, e->run_id);
    fputs(",\"score\":", f);
    json_put_real(f, e->score);
    fputs(",\"note\":", f);
    json_put_string_or_null(f, e->note);
    fputs(",\"undoes\":", f);
    json_put_id(f, e->undoes);
    fprintf(f, ",\"undone\":%s}", e->undone ? "true" : "false");
}

static void
write_json_row(struct export_job *x, size_t i)
{
    FILE *f = x->t[T_JSONL].f;
    const struct store_label_state *st = &x->st[i];
    const struct row *w = &x->rows[i];
    const struct store_score *sc = &w->sc;
    /* version: the shape of winnow(1)'s JSON OUTPUT. */
    fputs("{\"version\":1,\"path\":", f);
    json_put_string(f, st->path);
    fprintf(f, ",\"source\":\"%s\",\"given_label\":",
            store_source_kind_name(st->source_kind));
    json_label(f, x, st->given);
    fputs(",\"label\":", f);
    json_label(f, x, w->label);
    fprintf(f, ",\"status\":\"%s\",\"run\":", store_review_name(w->review));
    if (w->has_score) {
        fprintf(f, "%lld,\"score\":", (long long)x->run);
        json_put_real(f, sc->score);
        fputs(",\"scores\":{\"self_confidence\":", f);
        json_put_real(f, sc->self_confidence);
        fputs(",\"margin\":", f);
        json_put_real(f, sc->margin);
        fprintf(f, ",\"cl_flag\":%d,\"aum\":", sc->cl_flag);
        json_put_real(f, sc->aum);
        fputs(",\"elr\":", f);
        json_put_real(f, sc->elr);
        fputs(",\"knn\":", f);
        json_put_real(f, sc->knn);
        fputs("},\"judged_label\":", f);
        json_label(f, x, sc->label);
        fprintf(f, ",\"flagged\":%s,\"suggested_label\":",
                sc->flagged ? "true" : "false");
        json_label(f, x, sc->suggested);
        fputs(",\"suggested_prob\":", f);
        json_put_real(f, sc->suggested_prob);
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
    if (export_stopped(x, cause) != 0)
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
    if (x->o->folder != NULL && export_folder_entry(x, i, smp, cause) != 0)
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
        outfile_open(&x->t[T_SCORES], o->scores, 1, cause) != 0)
        return -1;
    if (o->labels != NULL &&
        outfile_open(&x->t[T_LABELS], o->labels, 1, cause) != 0)
        return -1;
    if (o->jsonl != NULL &&
        outfile_open(&x->t[T_JSONL], o->jsonl, 1, cause) != 0)
        return -1;
    if (o->idx_images != NULL &&
        (outfile_open(&x->t[T_IDX_IMAGES], o->idx_images, 0, cause) != 0 ||
         outfile_open(&x->t[T_IDX_LABELS], o->idx_labels, 0, cause) != 0))
        return -1;
    if (o->folder != NULL &&
        outfile_open_dir(&x->t[T_FOLDER], o->folder, cause) != 0)
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
    struct outfile *ti = &x->t[T_IDX_IMAGES], *tl = &x->t[T_IDX_LABELS];
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
        store_foreach_run_score(x->s, x->run, collect_score, x, cause) != 0)
        return -1;
    if (o->jsonl != NULL) {
        if (store_events_get(x->s, 0, 1, &x->ev, &x->n_ev, cause) != 0)
            return -1;
        if (x->n_ev > 0)
            qsort(x->ev, x->n_ev, sizeof *x->ev, ev_cmp);
    }
    if (o->scores != NULL || o->dedupe) {
        if (dups_scan(x->s, DUPS_DEFAULT_THRESHOLD, &x->dp, &x->dups, NULL,
                      NULL, cause) != 0)
            return -1;
        /* The snapshot keeps both lists the same. */
        int same = x->dp.n == x->n;
        for (size_t i = 0; same && i < x->n; i++)
            same = x->dp.ids[i] == x->st[i].sample_id;
        if (!same)
            return wn_fail(cause, "the project changed during the export");
    }
    apply_policy(x);
    apply_excluded(x);
    if (o->dedupe)
        apply_dedupe(x);
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
        if (outfile_close(&x->t[i], cause) != 0)
            return -1;
    if (x->o->idx_images != NULL && write_idx(x, cause) != 0)
        return -1;
    if (export_stopped(x, cause) != 0)
        return -1;
    if (x->res->accepted > 0 &&
        store_label_auto(x->s, x->accepted, x->res->accepted, cause) != 0)
        return -1;
    for (int i = 0; i < T_COUNT; i++)
        if (outfile_commit(&x->t[i], cause) != 0)
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
            outfile_remove(&x.t[i]);
    for (int i = 0; i < T_COUNT; i++)
        outfile_fini(&x.t[i]);
    store_names_free(x.names);
    store_states_free(x.st, x.n);
    store_events_free(x.ev, x.n_ev);
    free(x.rows);
    free(x.accepted);
    free(x.class_made);
    free(x.idx_px);
    free(x.idx_lb);
    free(x.pixbuf);
    dups_fini(&x.dups);
    dups_project_fini(&x.dp);
    return rc;
}
