/* data/store_review.c: the two things the review UI needs beyond the label
 * history of store_labels.c: one sample's stored pixels, and undoing one
 * named decision.
 *
 * The UI undoes its own decisions, one at a time and in its own order, so
 * "the newest decision in the file" (store_label_undo) is not the right
 * target when another winnow process decided something meanwhile. Here
 * the caller names the event; it is reverted only if nothing after it on
 * its sample is still in force (later decisions all undone, as a session
 * undoing newest first leaves them), so an undo never silently throws away
 * a later change. The event written is the one store_label_undo writes:
 * source human, the label from before the decision, `undoes` naming it. */
#include "config.h"

#include "data/store.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data/image.h"
#include "data/store_internal.h"

enum review_stmt {
    RV_PIXELS,
    RV_EVENT,
    RV_LAST_EVENT,
    RV_UNDONE,
    RV_LATER,
    RV_COUNT
};

static const char *const review_sql[RV_COUNT] = {
    [RV_PIXELS] = "SELECT width, height, channels, stored_width, "
                  "stored_height, pixels FROM samples WHERE id = ?1",
    [RV_EVENT] = "SELECT sample_id, old_label, new_label, source, "
                 "coalesce(undoes, 0) FROM label_events WHERE id = ?1",
    [RV_LAST_EVENT] = "SELECT new_label FROM label_events WHERE sample_id = "
                      "?1 ORDER BY id DESC LIMIT 1",
    [RV_UNDONE] = "SELECT 1 FROM label_events WHERE sample_id = ?1 AND "
                  "undoes = ?2 LIMIT 1",
    [RV_LATER] = "SELECT id, coalesce(undoes, 0) FROM label_events "
                 "WHERE sample_id = ?1 AND id > ?2 ORDER BY id",
};

static int
review_stmt(struct store *s, enum review_stmt id, sqlite3_stmt **out,
            char **cause)
{
    return store_stmt_get(s, &review_sql[id], out, cause);
}

/* ---- pixels ---- */

static int
pixels_read(sqlite3_stmt *st, int64_t id, struct store_pixels *out,
            char **cause)
{
    out->width = sqlite3_column_int(st, 0);
    out->height = sqlite3_column_int(st, 1);
    out->channels = sqlite3_column_int(st, 2);
    out->stored_width = sqlite3_column_int(st, 3);
    out->stored_height = sqlite3_column_int(st, 4);
    const void *blob = sqlite3_column_blob(st, 5);
    int blob_len = sqlite3_column_bytes(st, 5);
    int w = out->stored_width, h = out->stored_height, c = out->channels;
    size_t raw;
    if (blob == NULL || blob_len <= 0 || w <= 0 || h <= 0 ||
        w > IMAGE_MAX_SIDE || h > IMAGE_MAX_SIDE || (c != 1 && c != 3) ||
        wn_mul_size((size_t)w * (size_t)h, (size_t)c, &raw) != 0 ||
        raw > (size_t)UINT32_MAX)
        return wn_fail(cause, "sample %lld: corrupt pixel data", (long long)id);
    out->pixels = malloc(raw);
    if (out->pixels == NULL)
        return wn_fail(cause, "sample %lld: out of memory for %zu bytes",
                       (long long)id, raw);
    /* Exactly raw bytes, or the row is not what it claims to be. */
    uLongf got = (uLongf)raw;
    int zr = uncompress(out->pixels, &got, blob, (uLong)blob_len);
    if (zr == Z_MEM_ERROR)
        xalloc_die();
    if (zr != Z_OK || got != (uLongf)raw) {
        free(out->pixels);
        out->pixels = NULL;
        return wn_fail(cause, "sample %lld: corrupt pixel data", (long long)id);
    }
    return 0;
}

int
store_sample_pixels(struct store *s, int64_t sample_id,
                    struct store_pixels *out, char **cause)
{
    sqlite3_stmt *st;
    memset(out, 0, sizeof *out);
    if (review_stmt(s, RV_PIXELS, &st, cause) != 0)
        return -1;
    sqlite3_bind_int64(st, 1, sample_id);
    if (store_row_of(s, st, "read pixels", "no such sample:", sample_id,
                     cause) != 0)
        return -1;
    int rc = pixels_read(st, sample_id, out, cause);
    store_done(st);
    return rc;
}

void
store_pixels_fini(struct store_pixels *p)
{
    if (p == NULL)
        return;
    free(p->pixels);
    p->pixels = NULL;
}

/* ---- undoing one decision ---- */

/* Whether everything after event_id on the sample is out of force: each
 * later decision undone by a later undo. Fails with a cause if not. */
static int
revert_later(struct store *s, int64_t sample_id, int64_t event_id, char **cause)
{
    sqlite3_stmt *st;
    if (review_stmt(s, RV_LATER, &st, cause) != 0)
        return -1;
    sqlite3_bind_int64(st, 1, sample_id);
    sqlite3_bind_int64(st, 2, event_id);
    int64_t *open = NULL; /* later decisions not (yet) seen undone */
    size_t n = 0, cap = 0;
    int rc, clean = 1;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0);
        int64_t undoes = sqlite3_column_int64(st, 1);
        if (undoes == 0) {
            wn_grow(&open, sizeof *open, &cap, n + 1);
            open[n++] = id;
            continue;
        }
        /* An undo closes a later decision; one reaching further back
         * changed history under this decision. */
        size_t i = 0;
        while (i < n && open[i] != undoes)
            i++;
        if (i == n)
            clean = 0;
        else
            open[i] = open[--n];
    }
    store_done(st);
    free(open);
    if (rc != SQLITE_DONE)
        return store_fail(s, rc, cause, "read label events");
    if (!clean || n > 0)
        return wn_fail(cause, "the label changed since that decision");
    return 0;
}

int
store_revert_event(struct store *s, int64_t event_id, int64_t *sample_out,
                   int *label_out, int64_t *event_out, char **cause)
{
    sqlite3_stmt *st;
    if (review_stmt(s, RV_EVENT, &st, cause) != 0)
        return -1;
    sqlite3_bind_int64(st, 1, event_id);
    if (store_row_of(s, st, "read label event", "no label event", event_id,
                     cause) != 0)
        return -1;
    int64_t sample_id = sqlite3_column_int64(st, 0);
    int has_old = sqlite3_column_type(st, 1) != SQLITE_NULL;
    int old_label = sqlite3_column_int(st, 1);
    int new_label = sqlite3_column_int(st, 2);
    const char *src = (const char *)sqlite3_column_text(st, 3);
    int human = src != NULL && strcmp(src, "human") == 0;
    int64_t undoes = sqlite3_column_int64(st, 4);
    store_done(st);
    if (!human || undoes != 0 || !has_old)
        return wn_fail(cause, "label event %lld is not a decision",
                       (long long)event_id);

    if (review_stmt(s, RV_UNDONE, &st, cause) != 0)
        return -1;
    sqlite3_bind_int64(st, 1, sample_id);
    sqlite3_bind_int64(st, 2, event_id);
    int r = store_row(s, st, cause, "read label events");
    if (r < 0)
        return -1;
    if (r) {
        store_done(st);
        return wn_fail(cause, "that decision is undone already");
    }

    if (revert_later(s, sample_id, event_id, cause) != 0)
        return -1;
    if (review_stmt(s, RV_LAST_EVENT, &st, cause) != 0)
        return -1;
    sqlite3_bind_int64(st, 1, sample_id);
    r = store_row(s, st, cause, "read label events");
    if (r < 0)
        return -1;
    int current = r ? sqlite3_column_int(st, 0) : new_label;
    if (r)
        store_done(st);

    int64_t run;
    double score;
    if (store_score_now(s, sample_id, &run, &score, cause) != 0 ||
        store_event_insert(s, sample_id, current, old_label, STORE_LABEL_HUMAN,
                           run, score, NULL, event_id, event_out, cause) != 0)
        return -1;
    if (label_out != NULL)
        *label_out = old_label;
    if (sample_out != NULL)
        *sample_out = sample_id;
    return 0;
}

int
store_label_revert(struct store *s, int64_t event_id, int *label_out,
                   int64_t *event_out, char **cause)
{
    int own;
    if (store_wbegin(s, &own, cause) != 0)
        return -1;
    return store_wend(
        s, own,
        store_revert_event(s, event_id, NULL, label_out, event_out, cause),
        cause);
}
