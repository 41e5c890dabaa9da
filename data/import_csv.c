/* data/import_csv.c: a CSV manifest, "path,label" plus any other columns.
 *
 * Paths are relative to the manifest's folder and may not leave it (a
 * manifest is a description of one dataset, and "../" or an absolute path
 * is almost always a manifest written for another machine). Classes are
 * created in sorted order of their names, as for folders, so the same
 * labels get the same ids whichever way they were imported. */
#include "config.h"

#include "data/import.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "data/csv.h"
#include "data/import_internal.h"

#define CSV_MAX_BYTES ((size_t)2 << 30)

/* Column index of name in the header (case-insensitive, spaces trimmed),
 * or -1. */
static long
header_column(char **fields, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++) {
        const char *f = fields[i];
        while (*f == ' ' || *f == '\t')
            f++;
        size_t len = strlen(f);
        while (len > 0 && (f[len - 1] == ' ' || f[len - 1] == '\t'))
            len--;
        if (len == strlen(name) && strncasecmp(f, name, len) == 0)
            return (long)i;
    }
    return -1;
}

struct row {
    char *path;  /* normalised, relative to the manifest folder */
    char *label;
    size_t line;
    size_t idx; /* position in the manifest's rows */
};

static int
row_cmp_path(const void *a, const void *b)
{
    const struct row *x = a, *y = b;
    int c = strcmp(x->path, y->path);
    if (c != 0)
        return c;
    return x->line < y->line ? -1 : x->line > y->line;
}

static int
str_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *
trimmed(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t len = strlen(s);
    while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    return xstrndup(s, len);
}

int
import_csv(struct store *s, const char *manifest,
           const struct import_options *opt, struct import_result *res,
           char **cause)
{
    unsigned char *buf;
    size_t len;
    if (wn_read_file(manifest, CSV_MAX_BYTES, &buf, &len, cause) != 0)
        return -1;
    char *abs = realpath(manifest, NULL);
    if (abs == NULL) {
        int e = errno;
        free(buf);
        return wn_fail(cause, "%s: %s", manifest, strerror(e));
    }
    /* Folder of the manifest as the user named it, for opening files. */
    const char *slash = strrchr(manifest, '/');
    char *dir = slash ? xstrndup(manifest, (size_t)(slash - manifest) + 1)
                      : xstrdup("");

    struct import_job job;
    import_job_init(&job, s, manifest, opt, res);
    struct csv *c = csv_new((const char *)buf, len);
    struct row *rows = NULL;
    size_t n_rows = 0, cap_rows = 0;
    char **fields;
    size_t nf, line;
    long col_path = -1, col_label = -1;
    char *err = NULL;

    int rc = import_job_begin(&job, cause);
    if (rc == 0)
        rc = store_source_ensure(s, STORE_SOURCE_CSV, abs, &job.source_id,
                                 cause);
    if (rc == 0) {
        int r = csv_next(c, &fields, &nf, &line, &err);
        if (r < 0)
            rc = wn_fail(cause, "%s: %s", manifest, err);
        else if (r == 0)
            rc = wn_fail(cause, "%s: empty manifest (expected a header "
                                "with path and label columns)",
                         manifest);
        else {
            col_path = header_column(fields, nf, "path");
            col_label = header_column(fields, nf, "label");
            if (col_path < 0 || col_label < 0)
                rc = wn_fail(cause, "%s: the header has no '%s' column",
                             manifest, col_path < 0 ? "path" : "label");
        }
    }
    /* Rows first: classes are made from the whole set of labels. */
    while (rc == 0) {
        int r = csv_next(c, &fields, &nf, &line, &err);
        if (r < 0) {
            /* The rest of the file cannot be trusted to be split right. */
            rc = wn_fail(cause, "%s: %s", manifest, err);
            break;
        }
        if (r == 0)
            break;
        char *where = xasprintf("%s:%zu", manifest, line);
        char *path = (size_t)col_path < nf ? trimmed(fields[col_path]) : NULL;
        char *label = (size_t)col_label < nf ? trimmed(fields[col_label])
                                              : NULL;
        char *norm = NULL, *cls = NULL;
        const char *bad_label = NULL;
        if (path == NULL || *path == '\0')
            rc = import_job_bad(&job, where, "missing path", cause);
        else if (label == NULL || *label == '\0')
            rc = import_job_bad(&job, where, "missing label", cause);
        else if ((cls = import_class_name(label, &bad_label)) == NULL) {
            char *reason = xasprintf("label %s", bad_label);
            rc = import_job_bad(&job, where, reason, cause);
            free(reason);
        } else if (n_rows >= STORE_MAX_SAMPLES) {
            /* Before the rows fill memory: a 2 GB manifest is ~100
             * million of them. */
            rc = wn_fail(cause, "%s: too many samples: more than %d rows "
                                "(max %d)",
                         manifest, STORE_MAX_SAMPLES, STORE_MAX_SAMPLES);
        } else if ((norm = import_normalize_relative(path)) == NULL) {
            char *why = xasprintf("path '%s' leaves the manifest's folder",
                                  path);
            rc = import_job_bad(&job, where, why, cause);
            free(why);
        } else {
            wn_grow(&rows, sizeof *rows, &cap_rows, n_rows + 1);
            rows[n_rows].path = norm;
            rows[n_rows].label = cls;
            rows[n_rows].line = line;
            rows[n_rows].idx = n_rows;
            n_rows++;
            norm = NULL;
            cls = NULL;
        }
        free(cls);
        free(norm);
        free(path);
        free(label);
        free(where);
    }

    /* A path listed twice: the first row wins, later ones are reported. */
    if (rc == 0 && n_rows > 1) {
        struct row *sorted = xmalloc(n_rows * sizeof *sorted);
        memcpy(sorted, rows, n_rows * sizeof *sorted);
        qsort(sorted, n_rows, sizeof *sorted, row_cmp_path);
        for (size_t i = 1; i < n_rows && rc == 0; i++)
            if (strcmp(sorted[i].path, sorted[i - 1].path) == 0) {
                size_t first = sorted[i - 1].line;
                for (size_t k = i - 1; k > 0 &&
                     strcmp(sorted[k - 1].path, sorted[i].path) == 0; k--)
                    first = sorted[k - 1].line;
                char *where = xasprintf("%s:%zu", manifest, sorted[i].line);
                char *why = xasprintf("path '%s' listed again (first on line "
                                      "%zu)", sorted[i].path, first);
                rc = import_job_bad(&job, where, why, cause);
                free(why);
                free(where);
                /* Mark the later row so it is not imported. */
                free(rows[sorted[i].idx].label);
                rows[sorted[i].idx].label = NULL;
            }
        free(sorted);
    }

    if (rc == 0) {
        char **labels = xmalloc((n_rows + 1) * sizeof *labels);
        size_t nl = 0;
        for (size_t i = 0; i < n_rows; i++)
            if (rows[i].label != NULL)
                labels[nl++] = rows[i].label;
        qsort(labels, nl, sizeof *labels, str_cmp);
        for (size_t i = 0; i < nl && rc == 0; i++) {
            if (i > 0 && strcmp(labels[i], labels[i - 1]) == 0)
                continue;
            int id;
            rc = import_class_ensure(&job, labels[i], &id, cause);
        }
        free(labels);
    }
    for (size_t i = 0; i < n_rows && rc == 0; i++) {
        if (rows[i].label == NULL)
            continue;
        int id;
        rc = store_class_find(s, rows[i].label, &id, cause);
        if (rc != 0)
            break;
        /* No filter by name: a manifest names its files on purpose, and
         * the decoder tells by content what each is, or that it is
         * "not an image (PNG, JPEG or WebP)". */
        rc = import_job_add(&job, xstrdup(rows[i].path),
                            xasprintf("%s%s", dir, rows[i].path), id, cause);
    }
    if (rc == 0 && n_rows == 0 && res->st.skipped == 0)
        rc = wn_fail(cause, "%s: no rows after the header", manifest);
    if (rc == 0)
        rc = import_job_run(&job, cause);
    if (rc == 0)
        rc = import_job_finish(&job, cause);
    else
        import_job_abort(&job);

    for (size_t i = 0; i < n_rows; i++) {
        free(rows[i].path);
        free(rows[i].label);
    }
    free(rows);
    free(err);
    csv_free(c);
    import_job_fini(&job);
    free(dir);
    free(abs);
    free(buf);
    return rc;
}
