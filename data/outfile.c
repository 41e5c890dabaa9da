/* data/outfile.c: outputs written under a temporary name and renamed into
 * place when complete (data/outfile.h), and the signals that stop them. */
#include "config.h"

#include "data/outfile.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio_ext.h> /* __fpurge: glibc and musl */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void
outfile_discard(struct outfile *t)
{
    /* What a failed output left in stdout's buffer is dropped: it would
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

/* Remove what the output wrote under a temporary name. */
void
outfile_remove(struct outfile *t)
{
    outfile_discard(t);
    if (t->tmp == NULL || t->in_place)
        return;
    if (t->is_dir)
        nftw(t->tmp, rmtree_one, 16, FTW_DEPTH | FTW_PHYS);
    else
        unlink(t->tmp);
}

void
outfile_fini(struct outfile *t)
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
int
outfile_open(struct outfile *t, const char *name, int want_file, char **cause)
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
int
outfile_open_dir(struct outfile *t, const char *name, char **cause)
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

const char *
outfile_strerror(int e)
{
    return e == ENOSPC ? "no space left on device" : strerror(e);
}

/* Flush and close a file output; its cause names it. */
int
outfile_close(struct outfile *t, char **cause)
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
        return wn_fail(cause, "%s: %s", what, outfile_strerror(e ? e : EIO));
    return 0;
}

int
outfile_commit(struct outfile *t, char **cause)
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

const char *
outfile_what(const struct outfile *t)
{
    return t->is_stdout ? "standard output" : t->name;
}

static volatile sig_atomic_t outfile_stop;

static void
outfile_on_signal(int sig)
{
    (void)sig;
    outfile_stop = 1;
}

const volatile sig_atomic_t *
outfile_catch_signals(int files)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = outfile_on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: interrupt blocked writes */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    /* With nothing but standard output there is nothing to clean up: a
     * closed pipe ends us quietly, as it does any filter. */
    if (files)
        signal(SIGPIPE, SIG_IGN);
    return &outfile_stop;
}
