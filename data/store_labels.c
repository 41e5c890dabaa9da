/* data/store_labels.c: decisions, the label history and review state.
 *
 * label_events stays append-only here too: a decision, an undo and an
 * accepted suggestion are each one more row. Whether a decision is still
 * in force is derived, never stored: it is in force unless a later event
 * names it in `undoes`. Deriving it takes the one pass over the history
 * that also finds every sample's current label (see "review state"), done
 * in C with a sorted array of undone ids rather than a correlated
 * subquery per row, since nothing indexes `undoes`.
 *
 * Every event a person or an export adds carries the latest finished run
 * and the sample's score in it, so the history can say what the engine
 * thought when the label changed. */
#include "config.h"

#include "data/store.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data/store_internal.h"

enum label_stmt {
    LS_BEGIN_READ,
    LS_END_READ,
    LS_LOOKUP,
    LS_LOOKUP_SOURCE,
    LS_SOURCE_FILE,
    LS_STATES,
    LS_EVENTS_SCAN,
    LS_GIVEN,
    LS_EVENTS_ALL,
    LS_EVENTS_ONE,
    LS_LAST_EVENT,
    LS_RUN_SCORE,
    LS_UNDO_NEXT,
    LS_SAMPLE_PATH,
    LS_EVENT,
    LS_EVENT_INSERT,
    LS_LABEL_CURRENT,
    LS_COUNT
};

#define LS_EVENT_COLUMNS                                                       \
    "SELECT e.id, e.sample_id, s.path, coalesce(e.old_label, -1), "            \
    "e.new_label, e.source, e.time, coalesce(e.run_id, 0), e.score, e.note, "  \
    "coalesce(e.undoes, 0), coalesce(e.follows, 0), e.excluded "               \
    "FROM label_events e "                                                     \
    "JOIN samples s ON s.id = e.sample_id "

static const char *const label_sql[LS_COUNT] = {
    [LS_BEGIN_READ] = "BEGIN",
    [LS_END_READ] = "COMMIT",
    /* No index serves path alone; a scan is fine for one lookup. */
    [LS_LOOKUP] = "SELECT s.id, s.source_id, src.kind, src.location "
                  "FROM samples s JOIN sources src ON src.id = s.source_id "
                  "WHERE s.path = ?1 ORDER BY s.source_id",
    [LS_LOOKUP_SOURCE] = "SELECT id FROM samples WHERE source_id = ?1 AND "
                         "path = ?2",
    [LS_SOURCE_FILE] = "SELECT src.kind, src.location, s.path FROM samples s "
                       "JOIN sources src ON src.id = s.source_id "
                       "WHERE s.id = ?1",
    /* Only columns the (source_id, path) index holds: the scan reads it,
     * not the rows and their pixels. */
    [LS_STATES] = "SELECT s.id, s.source_id, src.kind, s.path "
                  "FROM sources src JOIN samples s ON s.source_id = src.id",
    [LS_EVENTS_SCAN] = "SELECT id, sample_id, new_label, source, "
                       "coalesce(undoes, 0), excluded FROM label_events "
                       "ORDER BY id",
    [LS_GIVEN] = "SELECT given_label FROM samples WHERE id = ?1",
    [LS_EVENTS_ALL] =
        LS_EVENT_COLUMNS "WHERE ?1 OR e.source <> 'import' ORDER BY e.id",
    [LS_EVENTS_ONE] = LS_EVENT_COLUMNS
    "WHERE e.sample_id = ?2 AND (?1 OR e.source <> 'import') ORDER BY e.id",
    [LS_LAST_EVENT] = "SELECT id, new_label FROM label_events "
                      "WHERE sample_id = ?1 ORDER BY id DESC LIMIT 1",
    [LS_RUN_SCORE] = "SELECT score FROM scores WHERE run_id = ?1 AND "
                     "sample_id = ?2",
    /* The newest human decision that is not an undo and not undone. An
     * undo is an event on the sample it reverts (as store_review.c's
     * RV_UNDONE reads it too), so the (sample_id, id) index finds it; an
     * IN list of every undo was a scan of the whole history per undo. */
    [LS_UNDO_NEXT] = "SELECT e.id, e.sample_id, e.old_label, e.new_label "
                     "FROM label_events e WHERE e.source = 'human' AND "
                     "e.undoes IS NULL AND NOT EXISTS (SELECT 1 FROM "
                     "label_events u WHERE u.sample_id = e.sample_id AND "
                     "u.undoes = e.id) ORDER BY e.id DESC LIMIT 1",
    [LS_SAMPLE_PATH] = "SELECT path FROM samples WHERE id = ?1",
    [LS_EVENT] = "SELECT sample_id, old_label, new_label FROM label_events "
                 "WHERE id = ?1",
    [LS_EVENT_INSERT] =
        "INSERT INTO label_events (sample_id, old_label, new_label, source, "
        "time, run_id, score, note, undoes) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    [LS_LABEL_CURRENT] = "SELECT new_label FROM label_events "
                         "WHERE sample_id = ?1 ORDER BY id DESC LIMIT 1",
};

static int
label_stmt(struct store *s, enum label_stmt id, sqlite3_stmt **out,
           char **cause)
{
    return store_stmt_get(s, &label_sql[id], out, cause);
}

static char *
column_dup(sqlite3_stmt *st, int col)
{
    const char *t = (const char *)sqlite3_column_text(st, col);
    return xstrdup(t != NULL ? t : "");
}

static enum store_label_source
source_of(const char *t)
{
    if (t != NULL && strcmp(t, "human") == 0)
        return STORE_LABEL_HUMAN;
    if (t != NULL && strcmp(t, "auto") == 0)
        return STORE_LABEL_AUTO;
    return STORE_LABEL_IMPORT;
}

static enum store_source_kind
kind_of(const char *t)
{
    if (t != NULL && strcmp(t, "csv") == 0)
        return STORE_SOURCE_CSV;
    if (t != NULL && strcmp(t, "idx") == 0)
        return STORE_SOURCE_IDX;
    return STORE_SOURCE_FOLDER;
}

const char *
store_review_name(enum store_review r)
{
    switch (r) {
    case STORE_UNREVIEWED: return "unreviewed";
    case STORE_KEPT: return "kept";
    case STORE_RELABELED: return "relabeled";
    case STORE_AUTO: return "auto";
    }
    return "?";
}

/* ---- appending to the history ---- */

int
store_event_insert(struct store *s, int64_t sample_id, int old_label,
                   int new_label, enum store_label_source src, int64_t run_id,
                   double score, const char *note, int64_t undoes,
                   int64_t *id_out, char **cause)
{
    sqlite3_stmt *st = NULL;
    if (label_stmt(s, LS_EVENT_INSERT, &st, cause) != 0)
        return -1;
    sqlite3_bind_int64(st, 1, sample_id);
    if (old_label >= 0) /* an import has no old label */
        sqlite3_bind_int(st, 2, old_label);
    sqlite3_bind_int(st, 3, new_label);
    if (store_bind_text(s, st, 4, store_label_source_name(src), cause) != 0)
        return -1;
    sqlite3_bind_int64(st, 5, wn_time_ms());
    if (run_id != 0)
        sqlite3_bind_int64(st, 6, run_id);
    if (!isnan(score))
        sqlite3_bind_double(st, 7, score);
    if (note != NULL && store_bind_text(s, st, 8, note, cause) != 0)
        return -1;
    if (undoes != 0)
        sqlite3_bind_int64(st, 9, undoes);
    if (store_run(s, st, cause, "add label event") != 0)
        return -1;
    if (id_out != NULL)
        *id_out = sqlite3_last_insert_rowid(s->db);
    return 0;
}

const char *
store_label_source_name(enum store_label_source src)
{
    switch (src) {
    case STORE_LABEL_IMPORT: return "import";
    case STORE_LABEL_HUMAN: return "human";
    case STORE_LABEL_AUTO: return "auto";
    }
    return "?";
}

int
store_label_current(struct store *s, int64_t sample_id, int *label_out,
                    char **cause)
{
    sqlite3_stmt *st = NULL;
    if (label_stmt(s, LS_LABEL_CURRENT, &st, cause) != 0)
        return -1;
    sqlite3_bind_int64(st, 1, sample_id);
    int r = store_row(s, st, cause, "current label");
    if (r < 0)
        return -1;
    if (r == 0) {
        *label_out = -1;
        return wn_fail(cause, "no such sample: %lld", (long long)sample_id);
    }
    *label_out = sqlite3_column_int(st, 0);
    store_done(st);
    return 0;
}

static int
store_label_insert(struct store *s, int64_t sample_id, int new_label,
                   enum store_label_source src, int64_t run_id, double score,
                   const char *note, char **cause)
{
    int old, n;
    if (store_label_current(s, sample_id, &old, cause) != 0 ||
        store_class_count(s, &n, cause) != 0)
        return -1;
    if (new_label < 0 || new_label >= n)
        return wn_fail(cause, "no such class: %d", new_label);
    return store_event_insert(s, sample_id, old, new_label, src, run_id, score,
                              note, 0, NULL, cause);
}

int
store_label_append(struct store *s, int64_t sample_id, int new_label,
                   enum store_label_source src, int64_t run_id, double score,
                   const char *note, char **cause)
{
    int own;
    if (store_wbegin(s, &own, cause) != 0)
        return -1;
    return store_wend(s, own,
                      store_label_insert(s, sample_id, new_label, src, run_id,
                                         score, note, cause),
                      cause);
}

/* ---- snapshots ---- */

int
store_snapshot_begin(struct store *s, char **cause)
{
    sqlite3_stmt *st;
    if (s->txn != STORE_TXN_NONE || !sqlite3_get_autocommit(s->db))
        return wn_fail(cause, "a transaction is already open");
    if (label_stmt(s, LS_BEGIN_READ, &st, cause) != 0)
        return -1;
    return store_run(s, st, cause, "begin snapshot");
}

void
store_snapshot_end(struct store *s)
{
    sqlite3_stmt *st;
    if (s == NULL || sqlite3_get_autocommit(s->db))
        return;
    /* A read transaction has nothing to lose: if COMMIT fails, roll back. */
    if (label_stmt(s, LS_END_READ, &st, NULL) != 0 ||
        store_run(s, st, NULL, "end snapshot") != 0)
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

/* ---- finding samples ---- */

struct lookup_hit {
    int64_t id, source_id;
    char *kind, *location;
};

static void
hits_free(struct lookup_hit *h, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(h[i].kind);
        free(h[i].location);
    }
    free(h);
}

static int
lookup_exact(struct store *s, const char *path, struct lookup_hit **out,
             size_t *n_out, char **cause)
{
    sqlite3_stmt *st;
    size_t n = 0, cap = 0;
    struct lookup_hit *h = NULL;
    int rc;
    *out = NULL;
    *n_out = 0;
    if (label_stmt(s, LS_LOOKUP, &st, cause) != 0 ||
        store_bind_text(s, st, 1, path, cause) != 0)
        return -1;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        wn_grow(&h, sizeof *h, &cap, n + 1);
        h[n].id = sqlite3_column_int64(st, 0);
        h[n].source_id = sqlite3_column_int64(st, 1);
        h[n].kind = column_dup(st, 2);
        h[n].location = column_dup(st, 3);
        n++;
    }
    store_done(st);
    if (rc != SQLITE_DONE) {
        hits_free(h, n);
        return store_fail(s, rc, cause, "find sample");
    }
    *out = h;
    *n_out = n;
    return 0;
}

/* "SOURCE:PATH": the sample, or 0 when spec has no such form or no such
 * sample. */
static int
lookup_qualified(struct store *s, const char *spec, int64_t *id_out,
                 char **cause)
{
    *id_out = 0;
    const char *colon = strchr(spec, ':');
    if (colon == NULL || colon == spec || colon - spec > 18)
        return 0;
    int64_t src = 0;
    for (const char *p = spec; p < colon; p++) {
        if (*p < '0' || *p > '9')
            return 0;
        src = src * 10 + (*p - '0');
    }
    sqlite3_stmt *st;
    if (label_stmt(s, LS_LOOKUP_SOURCE, &st, cause) != 0)
        return -1;
    sqlite3_bind_int64(st, 1, src);
    if (store_bind_text(s, st, 2, colon + 1, cause) != 0)
        return -1;
    return store_row_int64(s, st, "find sample", *id_out, id_out, cause);
}

int
store_sample_lookup(struct store *s, const char *spec, int64_t *id_out,
                    char **cause)
{
    struct lookup_hit *h;
    size_t n;
    *id_out = 0;
    if (lookup_exact(s, spec, &h, &n, cause) != 0)
        return -1;
    if (n == 1) {
        *id_out = h[0].id;
        hits_free(h, n);
        return 0;
    }
    if (n > 1) {
        /* Name every candidate in the form that selects it. */
        size_t len = 0, cap = 256;
        char *list = xmalloc(cap);
        list[0] = '\0';
        for (size_t i = 0; i < n; i++) {
            char *one = xasprintf("%s%lld:%s (%s %s)",
                                  i == 0       ? ""
                                  : i + 1 == n ? " or "
                                               : ", ",
                                  (long long)h[i].source_id, spec, h[i].kind,
                                  h[i].location);
            size_t l = strlen(one);
            wn_grow(&list, 1, &cap, len + l + 1);
            memcpy(list + len, one, l + 1);
            len += l;
            free(one);
        }
        wn_fail(cause, "'%s' is in %zu sources: say which, as %s", spec, n,
                list);
        free(list);
        hits_free(h, n);
        return -1;
    }
    hits_free(h, n);
    if (lookup_qualified(s, spec, id_out, cause) != 0)
        return -1;
    if (*id_out == 0)
        return wn_fail(cause, "no sample '%s' in the project", spec);
    return 0;
}

int
store_sample_source_file(struct store *s, int64_t sample_id, char **path_out,
                         char **cause)
{
    sqlite3_stmt *st;
    *path_out = NULL;
    if (label_stmt(s, LS_SOURCE_FILE, &st, cause) != 0)
        return -1;
    sqlite3_bind_int64(st, 1, sample_id);
    if (store_row_of(s, st, "find source", "no such sample:", sample_id,
                     cause) != 0)
        return -1;
    enum store_source_kind kind =
        kind_of((const char *)sqlite3_column_text(st, 0));
    const char *loc = (const char *)sqlite3_column_text(st, 1);
    const char *path = (const char *)sqlite3_column_text(st, 2);
    if (loc == NULL)
        loc = "";
    if (path == NULL)
        path = "";
    if (kind == STORE_SOURCE_FOLDER) {
        *path_out = xasprintf("%s/%s", loc, path);
    } else if (kind == STORE_SOURCE_CSV) {
        /* Relative to the manifest's folder; the location is absolute. */
        const char *slash = strrchr(loc, '/');
        size_t dl = slash != NULL ? (size_t)(slash - loc) : 0;
        *path_out = xasprintf("%.*s/%s", (int)dl, loc, path);
    }
    store_done(st);
    return 0;
}

/* ---- review state ----
 *
 * Every sample's state comes from two sequential reads and no query per
 * sample: the samples' ids and paths from the (source_id, path) index,
 * which holds them without the rows' pixels (a scan of the table itself
 * reads every image), then the whole history in id order, so that each
 * sample's last event is the last one met. The label a sample was given
 * is its import event's; that event is written with the sample and names
 * the same label. At a million samples this is about a second where a
 * max(id) subquery per sample took several. */

static int
cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int
has_i64(const int64_t *v, size_t n, int64_t x)
{
    return n > 0 && bsearch(&x, v, n, sizeof *v, cmp_i64) != NULL;
}

static int
state_cmp_id(const void *key, const void *elem)
{
    int64_t k = *(const int64_t *)key;
    int64_t id = ((const struct store_label_state *)elem)->sample_id;
    return (k > id) - (k < id);
}

static int
state_cmp(const void *a, const void *b)
{
    int64_t x = ((const struct store_label_state *)a)->sample_id;
    int64_t y = ((const struct store_label_state *)b)->sample_id;
    return (x > y) - (x < y);
}

/* The states of samples, sorted by id, and how to find one: directly when
 * the ids have no gaps (samples are never deleted, so they have none in a
 * project winnow made), else by binary search. */
struct state_index {
    struct store_label_state *v;
    size_t n;
    int dense;
};

static struct store_label_state *
state_find(const struct state_index *ix, int64_t id)
{
    if (ix->n == 0)
        return NULL;
    if (ix->dense) {
        if (id < ix->v[0].sample_id || id > ix->v[ix->n - 1].sample_id)
            return NULL;
        return &ix->v[id - ix->v[0].sample_id];
    }
    return bsearch(&id, ix->v, ix->n, sizeof *ix->v, state_cmp_id);
}

struct decision {
    int64_t id, undoes;
    struct store_label_state *state;
    enum store_label_source source;
};

/* Sort by id: ids without gaps (ids are unique) go straight to their
 * places, in one pass instead of a sort; others are sorted. */
static void
states_sort(struct state_index *ix)
{
    int64_t lo = ix->v[0].sample_id, hi = lo;
    for (size_t i = 1; i < ix->n; i++) {
        if (ix->v[i].sample_id < lo)
            lo = ix->v[i].sample_id;
        if (ix->v[i].sample_id > hi)
            hi = ix->v[i].sample_id;
    }
    if (hi - lo != (int64_t)ix->n - 1) {
        qsort(ix->v, ix->n, sizeof *ix->v, state_cmp);
        return;
    }
    struct store_label_state *v = xcalloc(ix->n, sizeof *v);
    for (size_t i = 0; i < ix->n; i++)
        v[ix->v[i].sample_id - lo] = ix->v[i];
    free(ix->v);
    ix->v = v;
}

/* Every sample with its path and source, sorted by id; labels unset. */
static int
states_read_samples(struct store *s, struct state_index *ix, char **cause)
{
    sqlite3_stmt *st;
    size_t cap = 0;
    int sorted = 1, rc;
    if (label_stmt(s, LS_STATES, &st, cause) != 0)
        return -1;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        wn_grow(&ix->v, sizeof *ix->v, &cap, ix->n + 1);
        struct store_label_state *x = &ix->v[ix->n++];
        x->sample_id = sqlite3_column_int64(st, 0);
        x->source_id = sqlite3_column_int64(st, 1);
        x->source_kind = kind_of((const char *)sqlite3_column_text(st, 2));
        x->path = column_dup(st, 3);
        x->given = -1;
        x->label = -1;
        x->last_event = 0;
        x->review = STORE_UNREVIEWED;
        if (ix->n > 1 && x[-1].sample_id > x->sample_id)
            sorted = 0;
    }
    store_done(st);
    if (rc != SQLITE_DONE)
        return store_fail(s, rc, cause, "read samples");
    if (!sorted)
        states_sort(ix);
    ix->dense = ix->n > 0 && ix->v[ix->n - 1].sample_id - ix->v[0].sample_id ==
                                 (int64_t)ix->n - 1;
    return 0;
}

/* One pass over the history, oldest first: each sample's given label (its
 * import event), current label and latest event, and the decisions (every
 * event but imports, few next to the samples) into *d. */
static int
states_read_events(struct store *s, const struct state_index *ix,
                   struct decision **d, size_t *nd, char **cause)
{
    sqlite3_stmt *st;
    size_t cap = 0;
    int rc;
    if (label_stmt(s, LS_EVENTS_SCAN, &st, cause) != 0)
        return -1;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_label_state *x =
            state_find(ix, sqlite3_column_int64(st, 1));
        if (x == NULL)
            continue;
        int64_t id = sqlite3_column_int64(st, 0);
        enum store_label_source src =
            source_of((const char *)sqlite3_column_text(st, 3));
        x->label = sqlite3_column_int(st, 2);
        x->last_event = id;
        /* Dropped at export: as the latest event says. */
        x->excluded = sqlite3_column_int(st, 5);
        if (src == STORE_LABEL_IMPORT) {
            if (x->given < 0)
                x->given = x->label;
            continue;
        }
        wn_grow(d, sizeof **d, &cap, *nd + 1);
        struct decision *e = &(*d)[(*nd)++];
        e->id = id;
        e->state = x;
        e->source = src;
        e->undoes = sqlite3_column_int64(st, 4);
    }
    store_done(st);
    if (rc != SQLITE_DONE)
        return store_fail(s, rc, cause, "read labels");
    return 0;
}

/* A sample whose history has no import event (only a file made by hand):
 * its given label from its row, as the rest would have had it. */
static int
states_given_from_rows(struct store *s, const struct state_index *ix,
                       char **cause)
{
    for (size_t i = 0; i < ix->n; i++) {
        struct store_label_state *x = &ix->v[i];
        if (x->given >= 0 || x->last_event == 0)
            continue;
        sqlite3_stmt *st;
        if (label_stmt(s, LS_GIVEN, &st, cause) != 0)
            return -1;
        sqlite3_bind_int64(st, 1, x->sample_id);
        int r = store_row(s, st, cause, "read labels");
        if (r < 0)
            return -1;
        if (r > 0) {
            x->given = sqlite3_column_int(st, 0);
            store_done(st);
        }
    }
    return 0;
}

/* Set review from the decision in force on each sample: the latest one
 * that is no undo and not undone. d is oldest first. */
static void
states_apply_decisions(struct state_index *ix, const struct decision *d,
                       size_t nd)
{
    int64_t *undone = NULL;
    size_t nu = 0;
    for (size_t i = 0; i < nd; i++)
        nu += d[i].undoes != 0;
    if (nu > 0) {
        undone = xcalloc(nu, sizeof *undone);
        nu = 0;
        for (size_t i = 0; i < nd; i++)
            if (d[i].undoes != 0)
                undone[nu++] = d[i].undoes;
        qsort(undone, nu, sizeof *undone, cmp_i64);
    }
    for (size_t i = 0; i < nd; i++) {
        if (d[i].undoes != 0 || has_i64(undone, nu, d[i].id))
            continue;
        d[i].state->review =
            d[i].source == STORE_LABEL_AUTO ? STORE_AUTO : STORE_KEPT;
    }
    for (size_t i = 0; i < ix->n; i++)
        if (ix->v[i].review == STORE_KEPT && ix->v[i].label != ix->v[i].given)
            ix->v[i].review = STORE_RELABELED;
    free(undone);
}

/* A sample without any event (only in a file made by hand) has no label:
 * leave it out. */
static void
states_drop_unlabeled(struct state_index *ix)
{
    size_t k = 0;
    for (size_t i = 0; i < ix->n; i++) {
        if (ix->v[i].last_event == 0) {
            free(ix->v[i].path);
            continue;
        }
        ix->v[k++] = ix->v[i];
    }
    ix->n = k;
}

int
store_label_states(struct store *s, struct store_label_state **states_out,
                   size_t *n_out, char **cause)
{
    struct state_index ix = {NULL, 0, 0};
    struct decision *d = NULL;
    size_t nd = 0;
    *states_out = NULL;
    *n_out = 0;
    if (states_read_samples(s, &ix, cause) != 0 ||
        states_read_events(s, &ix, &d, &nd, cause) != 0 ||
        states_given_from_rows(s, &ix, cause) != 0) {
        free(d);
        store_states_free(ix.v, ix.n);
        return -1;
    }
    states_apply_decisions(&ix, d, nd);
    free(d);
    states_drop_unlabeled(&ix);
    *states_out = ix.v;
    *n_out = ix.n;
    return 0;
}

void
store_states_free(struct store_label_state *states, size_t n)
{
    if (states == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        free(states[i].path);
    free(states);
}

/* ---- history ---- */

int
store_events_get(struct store *s, int64_t sample_id, int with_import,
                 struct store_event **out, size_t *n_out, char **cause)
{
    sqlite3_stmt *st;
    struct store_event *v = NULL;
    int64_t *undone = NULL;
    size_t n = 0, cap = 0, nu = 0, ucap = 0;
    int rc;
    *out = NULL;
    *n_out = 0;
    if (label_stmt(s, sample_id > 0 ? LS_EVENTS_ONE : LS_EVENTS_ALL, &st,
                   cause) != 0)
        return -1;
    sqlite3_bind_int(st, 1, with_import != 0);
    if (sample_id > 0)
        sqlite3_bind_int64(st, 2, sample_id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        wn_grow(&v, sizeof *v, &cap, n + 1);
        struct store_event *e = &v[n++];
        e->id = sqlite3_column_int64(st, 0);
        e->sample_id = sqlite3_column_int64(st, 1);
        e->path = column_dup(st, 2);
        e->old_label = sqlite3_column_int(st, 3);
        e->new_label = sqlite3_column_int(st, 4);
        e->source = source_of((const char *)sqlite3_column_text(st, 5));
        e->time = sqlite3_column_int64(st, 6);
        e->run_id = sqlite3_column_int64(st, 7);
        e->score = NAN;
        if (sqlite3_column_type(st, 8) != SQLITE_NULL)
            e->score = sqlite3_column_double(st, 8);
        e->note = sqlite3_column_type(st, 9) == SQLITE_NULL ? NULL
                                                            : column_dup(st, 9);
        e->undoes = sqlite3_column_int64(st, 10);
        e->follows = sqlite3_column_int64(st, 11);
        e->excluded = sqlite3_column_int(st, 12);
        e->undone = 0;
        if (e->undoes != 0) {
            wn_grow(&undone, sizeof *undone, &ucap, nu + 1);
            undone[nu++] = e->undoes;
        }
    }
    store_done(st);
    if (rc != SQLITE_DONE) {
        store_events_free(v, n);
        free(undone);
        return store_fail(s, rc, cause, "read label history");
    }
    /* An undo and what it reverts belong to one sample and are both
     * non-import, so the list holds both whenever it holds either. */
    if (nu > 0) {
        qsort(undone, nu, sizeof *undone, cmp_i64);
        for (size_t i = 0; i < n; i++)
            v[i].undone = has_i64(undone, nu, v[i].id);
    }
    free(undone);
    *out = v;
    *n_out = n;
    return 0;
}

void
store_events_free(struct store_event *ev, size_t n)
{
    if (ev == NULL)
        return;
    for (size_t i = 0; i < n; i++) {
        free(ev[i].path);
        free(ev[i].note);
    }
    free(ev);
}

/* ---- writing decisions ---- */

/* The latest event of a sample: its id and label. */
static int
last_event(struct store *s, int64_t sample_id, int64_t *id_out, int *label_out,
           char **cause)
{
    sqlite3_stmt *st;
    if (label_stmt(s, LS_LAST_EVENT, &st, cause) != 0)
        return -1;
    sqlite3_bind_int64(st, 1, sample_id);
    if (store_row_of(s, st, "current label", "no such sample:", sample_id,
                     cause) != 0)
        return -1;
    *id_out = sqlite3_column_int64(st, 0);
    *label_out = sqlite3_column_int(st, 1);
    store_done(st);
    return 0;
}

/* The latest finished run and the sample's score in it (0 / NAN). */
int
store_score_now(struct store *s, int64_t sample_id, int64_t *run_out,
                double *score_out, char **cause)
{
    *score_out = NAN;
    if (store_run_newest(s, STORE_RUN_DONE, run_out, cause) != 0)
        return -1;
    if (*run_out == 0)
        return 0;
    sqlite3_stmt *st;
    if (label_stmt(s, LS_RUN_SCORE, &st, cause) != 0)
        return -1;
    sqlite3_bind_int64(st, 1, *run_out);
    sqlite3_bind_int64(st, 2, sample_id);
    int r = store_row(s, st, cause, "read score");
    if (r < 0)
        return -1;
    if (r) {
        *score_out = sqlite3_column_double(st, 0);
        store_done(st);
    }
    return 0;
}

static int
check_class(struct store *s, int label, char **cause)
{
    int n;
    if (store_class_count(s, &n, cause) != 0)
        return -1;
    if (label < 0 || label >= n)
        return wn_fail(cause, "no such class: %d", label);
    return 0;
}

static int
decide(struct store *s, int64_t sample_id, int label, const char *note,
       int *old_out, int64_t *event_out, char **cause)
{
    int64_t last, run;
    int old;
    double score;
    if (check_class(s, label, cause) != 0 ||
        last_event(s, sample_id, &last, &old, cause) != 0 ||
        store_score_now(s, sample_id, &run, &score, cause) != 0)
        return -1;
    if (old_out != NULL)
        *old_out = old;
    return store_event_insert(s, sample_id, old, label, STORE_LABEL_HUMAN, run,
                              score, note, 0, event_out, cause);
}

int
store_label_decide(struct store *s, int64_t sample_id, int label,
                   const char *note, int *old_out, int64_t *event_out,
                   char **cause)
{
    int own;
    if (store_wbegin(s, &own, cause) != 0)
        return -1;
    return store_wend(
        s, own, decide(s, sample_id, label, note, old_out, event_out, cause),
        cause);
}

static int
sample_path(struct store *s, int64_t sample_id, char **out, char **cause)
{
    sqlite3_stmt *st;
    if (label_stmt(s, LS_SAMPLE_PATH, &st, cause) != 0)
        return -1;
    sqlite3_bind_int64(st, 1, sample_id);
    if (store_row_of(s, st, "read sample", "no such sample:", sample_id,
                     cause) != 0)
        return -1;
    *out = column_dup(st, 0);
    store_done(st);
    return 0;
}

/* Revert one decision event into *u. */
static int
undo_event(struct store *s, int64_t event_id, struct store_undo *u,
           char **cause)
{
    sqlite3_stmt *st;
    if (label_stmt(s, LS_EVENT, &st, cause) != 0)
        return -1;
    sqlite3_bind_int64(st, 1, event_id);
    if (store_row_of(s, st, "find decision", "no label event", event_id,
                     cause) != 0)
        return -1;
    memset(u, 0, sizeof *u);
    u->undone_id = event_id;
    u->sample_id = sqlite3_column_int64(st, 0);
    u->to = sqlite3_column_type(st, 1) == SQLITE_NULL
                ? sqlite3_column_int(st, 2)
                : sqlite3_column_int(st, 1);
    store_done(st);
    int64_t last, run;
    double score;
    if (last_event(s, u->sample_id, &last, &u->from, cause) != 0 ||
        store_score_now(s, u->sample_id, &run, &score, cause) != 0 ||
        sample_path(s, u->sample_id, &u->path, cause) != 0)
        return -1;
    if (store_event_insert(s, u->sample_id, u->from, u->to, STORE_LABEL_HUMAN,
                           run, score, NULL, u->undone_id, &u->event_id,
                           cause) != 0) {
        free(u->path);
        u->path = NULL;
        return -1;
    }
    return 0;
}

/* One undo: the newest decision in force, with every event that follows
 * the same decision. 1 done, 0 nothing left, -1 error. */
static int
undo_one(struct store *s, int step, struct store_undo **v, size_t *n,
         size_t *cap, char **cause)
{
    sqlite3_stmt *st;
    if (label_stmt(s, LS_UNDO_NEXT, &st, cause) != 0)
        return -1;
    int r = store_row(s, st, cause, "find decision");
    if (r <= 0)
        return r;
    int64_t newest = sqlite3_column_int64(st, 0);
    store_done(st);
    int64_t *ids;
    size_t k;
    if (store_event_group(s, newest, &ids, &k, cause) != 0)
        return -1;
    for (size_t i = 0; i < k; i++) {
        wn_grow(v, sizeof **v, cap, *n + 1);
        if (undo_event(s, ids[i], &(*v)[*n], cause) != 0) {
            free(ids);
            return -1;
        }
        (*v)[(*n)++].step = step;
    }
    free(ids);
    return 1;
}

static int
undo_many(struct store *s, int n, struct store_undo **v, size_t *done,
          size_t *cap, char **cause)
{
    for (int i = 0; i < n; i++) {
        int r = undo_one(s, i, v, done, cap, cause);
        if (r < 0)
            return -1;
        if (r == 0)
            break;
    }
    return 0;
}

int
store_label_undo(struct store *s, int n, struct store_undo **out, size_t *n_out,
                 char **cause)
{
    int own;
    *out = NULL;
    *n_out = 0;
    if (n <= 0)
        return 0;
    struct store_undo *v = NULL;
    size_t done = 0, cap = 0;
    if (store_wbegin(s, &own, cause) != 0)
        return -1;
    if (store_wend(s, own, undo_many(s, n, &v, &done, &cap, cause), cause) !=
        0) {
        store_undos_free(v, done);
        return -1;
    }
    *out = v;
    *n_out = done;
    return 0;
}

void
store_undos_free(struct store_undo *u, size_t n)
{
    if (u == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        free(u[i].path);
    free(u);
}

static int
auto_rows(struct store *s, const struct store_auto_label *a, size_t n,
          char **cause)
{
    for (size_t i = 0; i < n; i++) {
        int64_t last;
        int old;
        if (check_class(s, a[i].label, cause) != 0 ||
            last_event(s, a[i].sample_id, &last, &old, cause) != 0)
            return -1;
        if (last != a[i].seen_event) {
            char *path = NULL;
            if (sample_path(s, a[i].sample_id, &path, cause) != 0)
                return -1;
            wn_fail(cause, "%s: its label changed during the export", path);
            free(path);
            return -1;
        }
        if (store_event_insert(s, a[i].sample_id, old, a[i].label,
                               STORE_LABEL_AUTO, a[i].run_id, a[i].score, NULL,
                               0, NULL, cause) != 0)
            return -1;
    }
    return 0;
}

int
store_label_auto(struct store *s, const struct store_auto_label *a, size_t n,
                 char **cause)
{
    int own;
    if (n == 0)
        return 0;
    if (store_wbegin(s, &own, cause) != 0)
        return -1;
    return store_wend(s, own, auto_rows(s, a, n, cause), cause);
}
