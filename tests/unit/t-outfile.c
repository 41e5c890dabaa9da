/* tests/unit/t-outfile.c: outputs that appear whole or not at all. While
 * a file or folder is written only its temporary exists; a commit puts it
 * under the real name, a removal leaves the folder as it was (an older
 * file of the same name untouched); and a write error is reported at
 * close, naming the output. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "data/base.h"
#include "data/outfile.h"
#include "tests/fixtures.h"
#include "tests/tap.h"

static char *dir;

static int
exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

/* The entries of the test folder, sorted, joined by spaces. */
static char *
listing(void)
{
    struct dirent **ents;
    int n = scandir(dir, &ents, NULL, alphasort);
    if (n < 0)
        bail("scandir %s: %s", dir, strerror(errno));
    char *out = xstrdup("");
    for (int i = 0; i < n; i++) {
        const char *nm = ents[i]->d_name;
        if (strcmp(nm, ".") != 0 && strcmp(nm, "..") != 0) {
            char *t = xasprintf("%s%s%s", out, *out ? " " : "", nm);
            free(out);
            out = t;
        }
        free(ents[i]);
    }
    free(ents);
    return out;
}

static void
listing_is(const char *want, const char *what)
{
    char *got = listing();
    ok(strcmp(got, want) == 0, "%s: folder holds '%s'", what, got);
    if (strcmp(got, want) != 0)
        diag("expected '%s'", want);
    free(got);
}

static char *
slurp(const char *path)
{
    unsigned char *buf = NULL;
    size_t len;
    char *cause = NULL;
    if (wn_read_file(path, 1 << 20, &buf, &len, &cause) != 0) {
        diag("%s", cause);
        free(cause);
        return xstrdup("(unreadable)");
    }
    return (char *)buf;
}

static void
content_is(const char *path, const char *want)
{
    char *got = slurp(path);
    is_str(got, want);
    free(got);
}

static void
clear(void)
{
    fx_rmtree(dir);
    fx_mkdirs(dir);
}

static void
test_commit(void)
{
    clear();
    char *real = fx_path(dir, "out.csv");
    char *tmp = xasprintf("%s.tmp-%ld", real, (long)getpid());
    char *cause = NULL;
    struct outfile t;
    ok(outfile_open(&t, real, 1, &cause) == 0, "open a new file");
    is_str(t.tmp, tmp);
    ok(t.f != NULL && !t.is_stdout && !t.in_place, "a stream to the "
                                                   "temporary");
    fputs("a,b\n", t.f);
    ok(exists(tmp) && !exists(real), "while writing only the temporary "
                                     "exists");
    ok(outfile_close(&t, &cause) == 0, "close");
    ok(t.f == NULL, "the stream is gone");
    ok(outfile_close(&t, &cause) == 0, "a second close does nothing");
    ok(!exists(real), "nothing under the real name before the commit");
    ok(outfile_commit(&t, &cause) == 0, "commit");
    ok(t.tmp == NULL, "nothing left to remove");
    content_is(real, "a,b\n");
    listing_is("out.csv", "after the commit");
    outfile_remove(&t); /* after a commit: nothing to do */
    ok(exists(real), "a removal after the commit keeps the file");
    outfile_fini(&t);
    free(real);
    free(tmp);
}

static void
test_replace_and_fail(void)
{
    clear();
    char *real = fx_path(dir, "labels.csv");
    fx_write(real, "old\n", 4);
    char *cause = NULL;
    struct outfile t;
    ok(outfile_open(&t, real, 1, &cause) == 0, "open over an existing file");
    fputs("new\n", t.f);
    ok(outfile_close(&t, &cause) == 0, "close");
    content_is(real, "old\n");
    ok(outfile_commit(&t, &cause) == 0, "commit");
    content_is(real, "new\n");
    outfile_fini(&t);

    /* A failure before the commit: the temporary goes, the old file stays,
     * whether the stream was still open or already closed. */
    for (int closed = 0; closed <= 1; closed++) {
        ok(outfile_open(&t, real, 1, &cause) == 0, "open again");
        fputs("partial", t.f);
        if (closed)
            ok(outfile_close(&t, &cause) == 0, "close");
        outfile_remove(&t);
        outfile_fini(&t);
        content_is(real, "new\n");
        listing_is("labels.csv",
                   closed ? "a removal after close" : "a removal while open");
    }

    /* Nothing at all under a name that did not exist. */
    char *fresh = fx_path(dir, "fresh.jsonl");
    ok(outfile_open(&t, fresh, 1, &cause) == 0, "open a new name");
    fputs("{}\n", t.f);
    outfile_remove(&t);
    outfile_fini(&t);
    ok(!exists(fresh), "a failed new output leaves no file");
    listing_is("labels.csv", "after a failed new output");
    free(fresh);
    free(real);
}

static void
test_names(void)
{
    clear();
    char *cause = NULL;
    struct outfile t;

    /* A .gz name keeps its suffix, which tells writers to compress. */
    char *gz = fx_path(dir, "images.gz");
    char *want = xasprintf("%s/images.tmp-%ld.gz", dir, (long)getpid());
    ok(outfile_open(&t, gz, 0, &cause) == 0, "open a .gz name by name only");
    is_str(t.tmp, want);
    ok(t.f == NULL && exists(t.tmp), "the temporary is made, not opened");
    outfile_remove(&t);
    outfile_fini(&t);
    listing_is("", "after removing a temporary made by name");
    free(gz);
    free(want);

    /* A symbolic link: the file it names is replaced, the link kept. */
    char *target = fx_path(dir, "target.csv");
    char *link = fx_path(dir, "link.csv");
    fx_write(target, "old", 3);
    if (symlink("target.csv", link) != 0)
        bail("symlink: %s", strerror(errno));
    ok(outfile_open(&t, link, 1, &cause) == 0, "open through a link");
    fputs("new", t.f);
    ok(outfile_close(&t, &cause) == 0 && outfile_commit(&t, &cause) == 0,
       "close and commit");
    outfile_fini(&t);
    struct stat st;
    ok(lstat(link, &st) == 0 && S_ISLNK(st.st_mode), "the link is kept");
    content_is(target, "new");
    free(target);
    free(link);

    /* Standard output is written as it goes, nothing to rename. */
    ok(outfile_open(&t, "-", 1, &cause) == 0, "open standard output");
    ok(t.is_stdout && t.f == stdout && t.tmp == NULL, "stdout, no "
                                                      "temporary");
    is_str(outfile_what(&t), "standard output");
    ok(outfile_close(&t, &cause) == 0 && outfile_commit(&t, &cause) == 0,
       "close and commit standard output");
    outfile_fini(&t);

    /* A folder cannot be a file output; a missing folder fails at open. */
    ok(outfile_open(&t, dir, 1, &cause) == -1, "a folder is refused");
    char *w = xasprintf("%s: is a folder", dir);
    is_str(cause, w);
    free(w);
    free(cause);
    cause = NULL;
    outfile_fini(&t);
    char *deep = fx_path(dir, "no/such.csv");
    ok(outfile_open(&t, deep, 1, &cause) == -1, "a missing folder fails");
    w = xasprintf("%s: %s", deep, strerror(ENOENT));
    is_str(cause, w);
    free(w);
    free(cause);
    cause = NULL;
    outfile_fini(&t);
    free(deep);
}

static void
test_write_error(void)
{
    struct stat st;
    if (stat("/dev/full", &st) != 0 || !S_ISCHR(st.st_mode)) {
        tap_skip("no /dev/full");
        return;
    }
    char *cause = NULL;
    struct outfile t;
    ok(outfile_open(&t, "/dev/full", 1, &cause) == 0, "open /dev/full");
    ok(t.in_place, "a device is written in place");
    for (int i = 0; i < 10000; i++)
        fputs("0123456789", t.f);
    ok(outfile_close(&t, &cause) == -1, "the full disk fails at close");
    is_str(cause, "/dev/full: no space left on device");
    free(cause);
    outfile_remove(&t);
    outfile_fini(&t);
    ok(stat("/dev/full", &st) == 0, "a device is never removed");
}

static void
test_folder(void)
{
    clear();
    char *cause = NULL;
    struct outfile t;
    char *tree = fx_path(dir, "tree");
    char *slashed = xasprintf("%s//", tree);
    ok(outfile_open_dir(&t, slashed, &cause) == 0, "open a folder tree");
    char *want = xasprintf("%s.tmp-%ld", tree, (long)getpid());
    is_str(t.tmp, want);
    char *sub = fx_path(t.tmp, "cat");
    fx_mkdirs(sub);
    char *file = fx_path(sub, "1.png");
    fx_write(file, "x", 1);
    ok(!exists(tree), "nothing under the real name while building");
    ok(outfile_commit(&t, &cause) == 0, "commit the tree");
    outfile_fini(&t);
    char *done = fx_path(tree, "cat/1.png");
    content_is(done, "x");
    free(done);
    free(file);
    free(sub);

    /* A folder with something in it is refused; an empty one replaced. */
    ok(outfile_open_dir(&t, tree, &cause) == -1, "a full folder is refused");
    char *w = xasprintf("%s: folder exists and is not empty", tree);
    is_str(cause, w);
    free(w);
    free(cause);
    cause = NULL;
    outfile_fini(&t);
    fx_rmtree(tree);
    fx_mkdirs(tree);
    ok(outfile_open_dir(&t, tree, &cause) == 0, "an empty folder is taken");
    sub = fx_path(t.tmp, "dog");
    fx_mkdirs(sub);
    free(sub);

    /* A folder that fills up meanwhile makes the commit fail. */
    char *late = fx_path(tree, "late");
    fx_write(late, "", 0);
    ok(outfile_commit(&t, &cause) == -1, "a folder filled meanwhile "
                                         "fails the commit");
    w = xasprintf("%s: folder exists and is not empty", tree);
    is_str(cause, w);
    free(w);
    free(cause);
    cause = NULL;
    outfile_remove(&t);
    outfile_fini(&t);
    ok(!exists(want), "a removed tree is gone, subfolders and all");
    listing_is("tree", "after a failed folder");
    free(late);
    free(want);
    free(slashed);
    free(tree);
}

static void
test_signals(void)
{
    const volatile sig_atomic_t *stop = outfile_catch_signals(1);
    ok(stop != NULL && *stop == 0, "the flag starts clear");
    raise(SIGTERM);
    ok(*stop == 1, "SIGTERM sets the flag instead of ending the process");
    raise(SIGPIPE);
    ok(1, "SIGPIPE is ignored when there are files");
}

int
main(void)
{
    dir = fx_tmpdir("outfile");
    test_commit();
    test_replace_and_fail();
    test_names();
    test_write_error();
    test_folder();
    test_signals();
    fx_rmtree(dir);
    free(dir);
    return done_testing();
}
