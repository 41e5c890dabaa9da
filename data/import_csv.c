/* data/import_csv.c: a CSV manifest, a path and a label column plus any
 * others.
 *
 * Manifests come from spreadsheets, pandas and shell loops, so the columns
 * are found by the names people give them (IMPORT_PATH_COLUMNS and
 * IMPORT_LABEL_COLUMNS, or the names the user passes), the separator is
 * detected (csv_sniff_sep), and a file without a header takes its first
 * two columns. A relative path is read under the root (the manifest's
 * folder unless given) and may not leave it through "..": a manifest is a
 * description of one dataset, and "../" is almost always one written for
 * another machine's layout. An absolute path is read as named, since
 * someone wrote it out in full. Either way only what a row names is read,
 * and only if it is a regular file: a FIFO would block the import on open,
 * a device would be read without end. A link named by a row is followed,
 * as the folder walk follows links; a hidden file named by a row is read,
 * since naming it is asking for it. Classes are created in sorted order of
 * their names, as for folders, so the same labels get the same ids
 * whichever way they were imported. */
#include "config.h"

#include "data/import.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

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

/* Header columns named in an error, at most: a header of a thousand
 * columns is one of the wrong shape, and its start says so. */
#define CSV_NAMED_COLUMNS 12

static const char *const path_columns[] = {IMPORT_PATH_COLUMNS, NULL};
static const char *const label_columns[] = {IMPORT_LABEL_COLUMNS, NULL};

struct row {
    char *path; /* normalised: absolute, or relative to the root */
    char *file; /* what is opened: the root prefixed to a relative path */
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

/* "a, b, c" from the header's fields, trimmed, for an error. */
static char *
header_names(char **fields, size_t n)
{
    char *out = xstrdup("");
    for (size_t i = 0; i < n && i < CSV_NAMED_COLUMNS; i++) {
        char *t = trimmed(fields[i]);
        char *next = xasprintf("%s%s'%s'", out, i > 0 ? ", " : "", t);
        free(t);
        free(out);
        out = next;
    }
    if (n > CSV_NAMED_COLUMNS) {
        char *next = xasprintf("%s, ... (%zu in all)", out, n);
        free(out);
        out = next;
    }
    return out;
}

/* The column a role (path or label) is read from: the one named by
 * given, or the first of defaults the header has. option names the
 * option that sets it, for the error. */
static int
header_pick(char **fields, size_t nf, const char *manifest, char sep,
            int sep_given, const char *role, const char *given,
            const char *option, const char *const *defaults, long *col,
            char **cause)
{
    if (given != NULL) {
        *col = header_column(fields, nf, given);
    } else {
        *col = -1;
        for (size_t i = 0; defaults[i] != NULL && *col < 0; i++)
            *col = header_column(fields, nf, defaults[i]);
    }
    if (*col >= 0)
        return 0;
    char *names = header_names(fields, nf);
    char *what, *fix;
    if (given != NULL) {
        what = xasprintf("no column '%s' (%s)", given, option);
        /* One column: most likely split at the wrong separator. */
        fix = xstrdup(sep_given && nf == 1 ? "; check --sep" : "");
    } else {
        char *tried = xstrdup("");
        for (size_t i = 0; defaults[i] != NULL; i++) {
            char *next =
                xasprintf("%s%s%s", tried, i > 0 ? ", " : "", defaults[i]);
            free(tried);
            tried = next;
        }
        what = xasprintf("no %s column (tried %s)", role, tried);
        free(tried);
        fix = xasprintf("; name it with %s%s", option,
                        sep_given ? ", or check --sep"
                                  : ", or give --no-header if the first "
                                    "line is a row");
    }
    int rc = wn_fail(cause,
                     "%s: %s in the header; split at %s, its "
                     "columns are %s%s",
                     manifest, what, csv_sep_name(sep), names, fix);
    free(fix);
    free(what);
    free(names);
    return rc;
}

/* A column number from 1, for a manifest without a header; dflt (from 0)
 * when none is given. */
static int
number_pick(const char *manifest, const char *given, const char *option,
            long dflt, long *col, char **cause)
{
    if (given == NULL) {
        *col = dflt;
        return 0;
    }
    char *end;
    errno = 0;
    long v = strtol(given, &end, 10);
    if (errno != 0 || end == given || *end != '\0' || v < 1 || v > (1L << 20))
        return wn_fail(cause,
                       "%s: %s '%s': without a header, columns are "
                       "numbered from 1",
                       manifest, option, given);
    *col = v - 1;
    return 0;
}

/* The path as stored (absolute, or relative to the root) and the file
 * opened; NULL and *why when the path climbs out of the root or names no
 * file. root_shown is the root for messages, NULL for the manifest's
 * folder. */
static char *
row_path(const char *path, const char *root, const char *root_shown,
         char **file, char **why)
{
    char *norm;
    if (path[0] == '/') {
        /* "/a/../b" is "/b" lexically, as for relative paths; a link on
         * the way is the user's to have meant. */
        const char *rel = path;
        while (*rel == '/')
            rel++;
        char *r = import_normalize_relative(rel);
        if (r == NULL) {
            *why = xasprintf("path '%s' names no file", path);
            return NULL;
        }
        norm = xasprintf("/%s", r);
        free(r);
        *file = xstrdup(norm);
        return norm;
    }
    norm = import_normalize_relative(path);
    if (norm == NULL) {
        if (root_shown == NULL)
            *why = xasprintf("path '%s' leaves the manifest's folder", path);
        else
            *why = xasprintf("path '%s' leaves the root folder %s", path,
                             root_shown);
        return NULL;
    }
    *file = xasprintf("%s%s", root, norm);
    return norm;
}

/* The prefix a relative path is read under ("" for the current folder,
 * else ending in '/'), from opt->root or the manifest's folder. */
static char *
csv_root(const char *manifest, const char *root, char **cause)
{
    if (root == NULL) {
        const char *slash = strrchr(manifest, '/');
        return slash ? xstrndup(manifest, (size_t)(slash - manifest) + 1)
                     : xstrdup("");
    }
    struct stat st;
    if (stat(root, &st) != 0) {
        wn_fail(cause, "--root %s: %s", root, strerror(errno));
        return NULL;
    }
    if (!S_ISDIR(st.st_mode)) {
        wn_fail(cause, "--root %s: not a folder", root);
        return NULL;
    }
    size_t n = strlen(root);
    return n > 0 && root[n - 1] == '/' ? xstrdup(root) : xasprintf("%s/", root);
}

/* Why an import of every row skipped added nothing, and what would help:
 * files not found usually mean the paths are relative to another folder. */
static int
csv_nothing(const char *manifest, const char *root,
            const struct import_result *res, size_t n_records, char **cause)
{
    const char *missing = strerror(ENOENT);
    int any_missing = 0;
    for (size_t i = 0; i < res->n_reasons; i++)
        if (strcmp(res->reasons[i].reason, missing) == 0)
            any_missing = 1;
    if (!any_missing)
        return wn_fail(cause,
                       "%s: nothing imported: all %zu rows were "
                       "skipped (each is named above)",
                       manifest, n_records);
    return wn_fail(cause,
                   "%s: nothing imported: all %zu rows were skipped "
                   "(each is named above); relative paths are read "
                   "under %s (--root names another folder)",
                   manifest, n_records, *root ? root : "./");
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

    struct import_job job;
    import_job_init(&job, s, manifest, opt, res);
    struct csv *c = NULL;
    struct row *rows = NULL;
    size_t n_rows = 0, cap_rows = 0, n_records = 0;
    char **fields;
    size_t nf, line;
    long col_path = -1, col_label = -1;
    char *err = NULL;
    char sep = opt->sep;
    int rc = 0;

    char *root = csv_root(manifest, opt->root, cause);
    if (root == NULL)
        rc = -1;
    if (rc == 0 && sep == 0 &&
        csv_sniff_sep((const char *)buf, len, &sep, &err) != 0)
        rc = wn_fail(cause,
                     "%s: cannot tell the separator: %s; give it "
                     "with --sep",
                     manifest, err);
    if (rc == 0) {
        c = csv_new_sep((const char *)buf, len, sep);
        rc = import_job_begin(&job, cause);
    }
    if (rc == 0)
        rc = store_source_ensure(s, STORE_SOURCE_CSV, abs, &job.source_id,
                                 cause);
    if (rc == 0 && opt->no_header) {
        rc = number_pick(manifest, opt->path_column, "--path-column", 0,
                         &col_path, cause);
        if (rc == 0)
            rc = number_pick(manifest, opt->label_column, "--label-column", 1,
                             &col_label, cause);
    } else if (rc == 0) {
        int r = csv_next(c, &fields, &nf, &line, &err);
        if (r < 0)
            rc = wn_fail(cause, "%s: %s", manifest, err);
        else if (r == 0)
            rc = wn_fail(cause,
                         "%s: empty manifest (expected a header "
                         "with path and label columns)",
                         manifest);
        else
            rc = header_pick(fields, nf, manifest, sep, opt->sep != 0, "path",
                             opt->path_column, "--path-column", path_columns,
                             &col_path, cause);
        if (rc == 0)
            rc = header_pick(fields, nf, manifest, sep, opt->sep != 0, "label",
                             opt->label_column, "--label-column", label_columns,
                             &col_label, cause);
    }
    if (rc == 0 && col_path == col_label)
        rc = wn_fail(cause,
                     "%s: path and label would both be read from "
                     "column %ld",
                     manifest, col_path + 1);
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
        n_records++;
        char *where = xasprintf("%s:%zu", manifest, line);
        char *path = (size_t)col_path < nf ? trimmed(fields[col_path]) : NULL;
        char *label =
            (size_t)col_label < nf ? trimmed(fields[col_label]) : NULL;
        char *norm = NULL, *file = NULL, *cls = NULL, *why = NULL;
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
            rc = wn_fail(cause,
                         "%s: too many samples: more than %d rows "
                         "(max %d)",
                         manifest, STORE_MAX_SAMPLES, STORE_MAX_SAMPLES);
        } else if ((norm = row_path(path, root, opt->root, &file, &why)) ==
                   NULL) {
            rc = import_job_bad(&job, where, why, cause);
        } else {
            wn_grow(&rows, sizeof *rows, &cap_rows, n_rows + 1);
            rows[n_rows].path = norm;
            rows[n_rows].file = file;
            rows[n_rows].label = cls;
            rows[n_rows].line = line;
            rows[n_rows].idx = n_rows;
            n_rows++;
            norm = NULL;
            file = NULL;
            cls = NULL;
        }
        free(why);
        free(cls);
        free(file);
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
                for (size_t k = i - 1;
                     k > 0 && strcmp(sorted[k - 1].path, sorted[i].path) == 0;
                     k--)
                    first = sorted[k - 1].line;
                char *where = xasprintf("%s:%zu", manifest, sorted[i].line);
                char *why = xasprintf("path '%s' listed again (first on line "
                                      "%zu)",
                                      sorted[i].path, first);
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
         * "not an image (PNG, JPEG or WebP)". It is never opened when it
         * is not a regular file: a FIFO would block the import. A file
         * that is not there is left to the decoder to name, unless the
         * project has it already. */
        struct stat st;
        if (stat(rows[i].file, &st) == 0 && !S_ISREG(st.st_mode)) {
            rc =
                import_job_bad(&job, rows[i].file, "not a regular file", cause);
            continue;
        }
        rc = import_job_add(&job, xstrdup(rows[i].path), rows[i].file, id,
                            cause);
        rows[i].file = NULL;
    }
    if (rc == 0 && n_rows == 0 && res->st.skipped == 0)
        rc = wn_fail(cause,
                     opt->no_header ? "%s: no rows"
                                    : "%s: no rows after the header",
                     manifest);
    if (rc == 0)
        rc = import_job_run(&job, cause);
    if (rc == 0 && import_job_added_nothing(&job))
        rc = csv_nothing(manifest, root, res, n_records, cause);
    if (rc == 0)
        rc = import_job_finish(&job, cause);
    else
        import_job_abort(&job);

    for (size_t i = 0; i < n_rows; i++) {
        free(rows[i].path);
        free(rows[i].file);
        free(rows[i].label);
    }
    free(rows);
    free(err);
    csv_free(c);
    import_job_fini(&job);
    free(root);
    free(abs);
    free(buf);
    return rc;
}
