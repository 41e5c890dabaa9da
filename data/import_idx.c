/* data/import_idx.c: MNIST-style IDX image and label files.
 *
 * Both files are read whole (a 60,000-image set is 47 MB), checked against
 * each other, and each record becomes a sample named "<images file
 * name>#<index>". Classes are named by --class-names (one per line, label
 * value = line number from 0) or by the label values themselves. */
#include "config.h"

#include "data/import.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "data/idx.h"
#include "data/import_internal.h"

#define IDX_MAX_BYTES         ((size_t)4 << 30)
#define CLASS_NAMES_MAX_BYTES ((size_t)16 << 20)

/* Read one class name per line. */
static int
read_class_names(const char *path, char ***names_out, size_t *n_out,
                 char **cause)
{
    unsigned char *buf;
    size_t len;
    if (wn_read_file(path, CLASS_NAMES_MAX_BYTES, &buf, &len, cause) != 0)
        return -1;
    char **names = NULL;
    size_t n = 0, cap = 0;
    char *p = (char *)buf;
    size_t line = 0;
    int rc = 0;
    if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
        p += 3;
    char *stop = (char *)buf + len;
    while (p < stop) {
        line++;
        char *end = memchr(p, '\n', (size_t)(stop - p));
        size_t l = end ? (size_t)(end - p) : (size_t)(stop - p);
        if (memchr(p, '\0', l) != NULL) {
            rc = wn_fail(cause, "%s:%zu: NUL byte in class name", path, line);
            break;
        }
        while (l > 0 &&
               (p[l - 1] == '\r' || p[l - 1] == ' ' || p[l - 1] == '\t'))
            l--;
        /* A blank line is an empty name, refused below unless it is one
         * of the trailing ones; anything else must make a class name. */
        char *name = xstrndup(p, l);
        const char *why;
        if (l > 0) {
            char *raw = name;
            name = import_class_name(raw, &why);
            free(raw);
            if (name == NULL) {
                rc = wn_fail(cause, "%s:%zu: class name %s", path, line, why);
                break;
            }
        }
        wn_grow(&names, sizeof *names, &cap, n + 1);
        names[n++] = name;
        if (end == NULL)
            break;
        p = end + 1;
    }
    /* Trailing blank lines are formatting, not classes. */
    while (rc == 0 && n > 0 && names[n - 1][0] == '\0')
        free(names[--n]);
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (names[i][0] == '\0')
            rc = wn_fail(cause, "%s:%zu: empty class name", path, i + 1);
        for (size_t k = 0; k < i && rc == 0; k++)
            if (strcmp(names[i], names[k]) == 0)
                rc = wn_fail(cause,
                             "%s:%zu: class '%s' named twice (first "
                             "on line %zu)",
                             path, i + 1, names[i], k + 1);
    }
    if (rc == 0 && n == 0)
        rc = wn_fail(cause, "%s: no class names", path);
    free(buf);
    if (rc != 0) {
        for (size_t i = 0; i < n; i++)
            free(names[i]);
        free(names);
        return -1;
    }
    *names_out = names;
    *n_out = n;
    return 0;
}

int
import_idx(struct store *s, const char *images, const char *labels,
           const struct import_options *opt, struct import_result *res,
           char **cause)
{
    struct idx im = {0}, lb = {0};
    char **names = NULL;
    size_t n_names = 0;
    int *class_of = NULL;
    char *abs = NULL;
    uint32_t count, rows, cols;
    int channels;
    struct import_job job;
    import_job_init(&job, s, images, opt, res);

    int rc = idx_read(images, IDX_MAX_BYTES, &im, cause);
    if (rc == 0)
        rc = idx_read(labels, IDX_MAX_BYTES, &lb, cause);
    if (rc == 0 &&
        idx_image_shape(&im, &count, &rows, &cols, &channels, cause) != 0) {
        char *c = *cause;
        *cause = xasprintf("%s: %s", images, c);
        free(c);
        rc = -1;
    }
    if (rc == 0 && lb.ndims != 1)
        rc = wn_fail(cause,
                     "%s: not an IDX label file (%d dimensions, "
                     "expected 1)",
                     labels, lb.ndims);
    if (rc == 0 && lb.dims[0] != count)
        rc = wn_fail(cause,
                     "count mismatch: %s has %u images but %s has %u "
                     "labels",
                     images, count, labels, lb.dims[0]);
    if (rc == 0 && opt->class_names_file != NULL)
        rc = read_class_names(opt->class_names_file, &names, &n_names, cause);
    if (rc == 0 && names == NULL) {
        int max = -1;
        for (uint32_t i = 0; i < count; i++)
            if (lb.data[i] > max)
                max = lb.data[i];
        n_names = (size_t)max + 1;
        names = xcalloc(n_names, sizeof *names);
        for (size_t i = 0; i < n_names; i++)
            names[i] = xasprintf("%zu", i);
    }
    if (rc == 0) {
        abs = realpath(images, NULL);
        if (abs == NULL)
            rc = wn_fail(cause, "%s: %s", images, strerror(errno));
    }
    if (rc == 0)
        rc = import_job_begin(&job, cause);
    if (rc == 0)
        rc = store_source_ensure(s, STORE_SOURCE_IDX, abs, &job.source_id,
                                 cause);
    if (rc == 0) {
        /* Classes in label order, so label value v gets the v-th new id. */
        class_of = xcalloc(n_names, sizeof *class_of);
        for (size_t i = 0; i < n_names && rc == 0; i++) {
            rc = import_class_ensure(&job, names[i], &class_of[i], cause);
        }
    }
    const char *base = strrchr(images, '/');
    base = base ? base + 1 : images;
    size_t per = (size_t)rows * cols * (size_t)channels;
    for (uint32_t i = 0; i < count && rc == 0; i++) {
        char *path = xasprintf("%s#%u", base, i);
        if (lb.data[i] >= n_names) {
            char *why = xasprintf("label %u has no class name (%s names %zu)",
                                  lb.data[i], opt->class_names_file, n_names);
            rc = import_job_bad(&job, path, why, cause);
            free(why);
            free(path);
            continue;
        }
        if ((rc = import_job_add(&job, path, NULL, class_of[lb.data[i]],
                                 cause)) != 0)
            break;
        struct import_item *it = &job.items[job.n_items - 1];
        it->raw = im.data + (size_t)i * per;
        it->raw_w = (int)cols;
        it->raw_h = (int)rows;
        it->raw_c = channels;
    }
    if (rc == 0)
        rc = import_job_run(&job, cause);
    /* (A file of no images is refused by idx_image_shape.) */
    if (rc == 0 && import_job_added_nothing(&job))
        rc = wn_fail(cause,
                     "%s: nothing imported: all %u images were "
                     "skipped (each is named above)",
                     images, count);
    if (rc == 0)
        rc = import_job_finish(&job, cause);
    else
        import_job_abort(&job);

    import_job_fini(&job);
    for (size_t i = 0; i < n_names; i++)
        free(names[i]);
    free(names);
    free(class_of);
    free(abs);
    idx_fini(&im);
    idx_fini(&lb);
    return rc;
}
