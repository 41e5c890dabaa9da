/* data/export_folder.c: the class folder tree of an export, DIR/<class>/
 * <file>: a link to each sample's source file, a copy of it, or a PNG
 * written from the pixels kept in the project. The tree is built under the
 * temporary root data/export.c opened (data/outfile.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "data/export_internal.h"
#include "data/image.h"
#include "data/outfile.h"

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

/* Every class a sample goes to must make a folder name. */
int
export_folder_check(const struct export_job *x, char **cause)
{
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
            for (const unsigned char *q = (const unsigned char *)x->names[c];
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
    return rc;
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

int
export_folder_entry(struct export_job *x, size_t i,
                    const struct store_sample *smp, char **cause)
{
    const struct store_label_state *st = &x->st[i];
    const struct export_options *o = x->o;
    int label = x->rows[i].label;
    const char *root = x->t[T_FOLDER].tmp;
    char *dir = xasprintf("%s/%s", root, export_class_name(x, label));
    int rc = 0, e = 0;
    char *src = NULL, *made = NULL, *name = NULL;
    void *bytes = NULL;
    size_t len = 0;

    if (!x->class_made[label]) {
        if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
            rc = wn_fail(cause, "%s/%s: %s", o->folder,
                         export_class_name(x, label), strerror(errno));
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
    if (e == EINTR && export_stopped(x, cause) != 0)
        rc = -1;
    else
        rc = wn_fail(cause, "%s/%s/%s: %s", o->folder,
                     export_class_name(x, label), name, outfile_strerror(e));
done:
    free(dir);
    free(src);
    free(made);
    free(name);
    free(bytes);
    return rc;
}
