/* data/import_folder.c: ROOT/<class>/ ** / *.{png,jpg,jpeg,webp}, the
 * ImageFolder layout.
 *
 * Class folders are the directories directly under ROOT; everything below
 * a class folder, at any depth, belongs to that class. Entries are visited
 * in byte order of their names so an import is repeatable. Symbolic links
 * are followed (datasets are often assembled from links), and a directory
 * already on the path being walked is a loop, reported and not entered. */
#include "config.h"

#include "data/import.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "data/import_internal.h"

struct walk_dir {
    dev_t dev;
    ino_t ino;
};

struct walk {
    struct import_job *job;
    struct walk_dir *stack; /* directories on the current path */
    size_t depth, cap;
};

static int
name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names in dir, without "." entries and hidden files. On failure
 * return -1 with errno set. */
static int
list_dir(const char *dir, char ***names_out, size_t *n_out)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return -1;
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    errno = 0;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue; /* ., .., and hidden files such as .DS_Store */
        wn_grow(&names, sizeof *names, &cap, n + 1);
        names[n++] = xstrdup(e->d_name);
    }
    int err = errno;
    closedir(d);
    if (err != 0) {
        for (size_t i = 0; i < n; i++)
            free(names[i]);
        free(names);
        errno = err;
        return -1;
    }
    if (n > 1)
        qsort(names, n, sizeof *names, name_cmp);
    *names_out = names;
    *n_out = n;
    return 0;
}

static void
free_names(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

static char *
join(const char *a, const char *b)
{
    return xasprintf("%s/%s", a, b);
}

/* Walk one directory of a class: rel is its path relative to ROOT. */
static int
walk_class_dir(struct walk *w, const char *fs_dir, const char *rel, int label,
               size_t *found, char **cause)
{
    struct stat st;
    if (stat(fs_dir, &st) != 0)
        return import_job_bad(w->job, fs_dir, strerror(errno), cause);
    for (size_t i = 0; i < w->depth; i++)
        if (w->stack[i].dev == st.st_dev && w->stack[i].ino == st.st_ino)
            return import_job_bad(w->job, fs_dir,
                                  "directory loop (a link to a folder above "
                                  "it), not entered",
                                  cause);
    char **names;
    size_t n;
    if (list_dir(fs_dir, &names, &n) != 0)
        return import_job_bad(w->job, fs_dir, strerror(errno), cause);
    wn_grow(&w->stack, sizeof *w->stack, &w->cap, w->depth + 1);
    w->stack[w->depth].dev = st.st_dev;
    w->stack[w->depth].ino = st.st_ino;
    w->depth++;

    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        char *fs = join(fs_dir, names[i]);
        char *r = join(rel, names[i]);
        struct stat est;
        if (stat(fs, &est) != 0) {
            /* A dangling link or a file that vanished. */
            rc = import_job_bad(w->job, fs, strerror(errno), cause);
        } else if (S_ISDIR(est.st_mode)) {
            rc = walk_class_dir(w, fs, r, label, found, cause);
        } else if (!S_ISREG(est.st_mode)) {
            rc = import_job_bad(w->job, fs, "not a regular file", cause);
        } else if (!import_has_image_extension(names[i])) {
            rc = import_job_bad(w->job, fs,
                                "unknown extension (not .png, .jpg, .jpeg "
                                "or .webp)",
                                cause);
        } else {
            /* The job owns fs and r now, even when it fails. */
            rc = import_job_add(w->job, r, fs, label, cause);
            (*found)++;
            continue;
        }
        free(fs);
        free(r);
    }
    w->depth--;
    free_names(names, n);
    return rc;
}

int
import_folder(struct store *s, const char *root,
              const struct import_options *opt, struct import_result *res,
              char **cause)
{
    struct stat st;
    if (stat(root, &st) != 0)
        return wn_fail(cause, "%s: %s", root, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return wn_fail(cause, "%s: not a folder", root);
    char *abs = realpath(root, NULL);
    if (abs == NULL)
        return wn_fail(cause, "%s: %s", root, strerror(errno));

    char **names = NULL;
    size_t n = 0;
    if (list_dir(root, &names, &n) != 0) {
        int e = errno;
        free(abs);
        return wn_fail(cause, "%s: %s", root, strerror(e));
    }

    struct import_job job;
    import_job_init(&job, s, root, opt, res);
    struct walk w = {.job = &job};
    /* Strip trailing slashes so reported paths read "root/cat/1.png". */
    char *base = xstrdup(root);
    for (size_t l = strlen(base); l > 1 && base[l - 1] == '/'; l--)
        base[l - 1] = '\0';

    /* The root is on the path too: a link back to it is a loop. */
    wn_grow(&w.stack, sizeof *w.stack, &w.cap, 1);
    w.stack[0].dev = st.st_dev;
    w.stack[0].ino = st.st_ino;
    w.depth = 1;

    int rc = import_job_begin(&job, cause);
    if (rc == 0)
        rc = store_source_ensure(s, STORE_SOURCE_FOLDER, abs, &job.source_id,
                                 cause);
    size_t n_class_dirs = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        char *fs = join(base, names[i]);
        struct stat cst;
        if (stat(fs, &cst) != 0) {
            rc = import_job_bad(&job, fs, strerror(errno), cause);
        } else if (S_ISDIR(cst.st_mode)) {
            n_class_dirs++;
            /* The class is created only once it has an image: an empty
             * folder is reported, not turned into an empty class. */
            int label = -1;
            size_t first = job.n_items, found = 0;
            rc = walk_class_dir(&w, fs, names[i], -1, &found, cause);
            if (rc == 0 && found == 0) {
                rc = import_job_bad(&job, fs,
                                    "empty class folder (no "
                                    "images), no class created",
                                    cause);
            } else if (rc == 0) {
                /* Folders copied from Windows often end in "\r" (CIFAR-10's
                 * do in one common copy): "cat\r" is the class "cat". */
                const char *why;
                char *cls = import_class_name(names[i], &why);
                if (cls == NULL) {
                    char *r = xasprintf("class folder name %s", why);
                    rc = import_job_bad(&job, fs, r, cause);
                    free(r);
                    /* Its images go too: they have no class. */
                    for (size_t k = first; k < job.n_items; k++) {
                        free(job.items[k].path);
                        free(job.items[k].file);
                    }
                    job.n_items = first;
                } else {
                    rc = import_class_ensure(&job, cls, &label, cause);
                }
                free(cls);
                for (size_t k = first; k < job.n_items; k++)
                    job.items[k].label = label;
            }
        } else if (import_has_image_extension(names[i])) {
            rc = import_job_bad(&job, fs, "image outside any class folder",
                                cause);
        }
        /* Other files at the top (README, labels.txt) are not images of
         * the dataset and are passed over silently. */
        free(fs);
    }
    if (rc == 0 && n_class_dirs == 0)
        rc = wn_fail(cause,
                     "%s: no class folders (expected ROOT/<class>/"
                     "*.{png,jpg,jpeg,webp})",
                     root);
    if (rc == 0)
        rc = import_job_run(&job, cause);
    if (rc == 0 && import_job_added_nothing(&job) && job.n_items == 0)
        rc = wn_fail(cause,
                     "%s: nothing imported: no " IMPORT_FORMATS
                     " images found under %s/<class>/ folders; put "
                     "each class's images in a folder named after "
                     "it",
                     root, base);
    else if (rc == 0 && import_job_added_nothing(&job))
        rc = wn_fail(cause,
                     "%s: nothing imported: none of the %zu images "
                     "found could be read (each is named above)",
                     root, job.n_items);
    if (rc == 0)
        rc = import_job_finish(&job, cause);
    else
        import_job_abort(&job);
    import_job_fini(&job);
    free(w.stack);
    free(base);
    free_names(names, n);
    free(abs);
    return rc;
}
