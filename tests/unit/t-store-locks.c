#include "config.h"

/* tests/unit/t-store-locks.c: opening a project that this process has open
 * already (the review screen's connection, then its engine thread's) must
 * leave the file locks of the first connection in place.
 *
 * POSIX locks belong to the process, and closing any descriptor of a file
 * drops all of them. When store_open read the header with open(2) and
 * close(2), the screen's connection lost its lock on the project; another
 * winnow closing the file then took itself for its last user, checkpointed
 * and deleted the WAL, and the screen's later decisions went to an
 * unlinked file and were lost. A child process asks the kernel (F_GETLK)
 * whether this one still holds a lock. */

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "data/base.h"
#include "data/store.h"
#include "tests/fixtures.h"
#include "tests/tap.h"

/* 1 if this process holds a lock on the file, 0 if not. The child only
 * opens, asks and exits: it has no lock of its own and touches no SQLite
 * state it inherited. */
static int
locked_here(const char *path)
{
    pid_t pid = fork();
    if (pid < 0)
        bail("fork: %s", strerror(errno));
    if (pid == 0) {
        int fd = open(path, O_RDWR | O_CLOEXEC);
        if (fd < 0)
            _exit(2);
        struct flock fl;
        memset(&fl, 0, sizeof fl);
        fl.l_type = F_WRLCK;
        fl.l_whence = SEEK_SET; /* l_start 0, l_len 0: the whole file */
        if (fcntl(fd, F_GETLK, &fl) != 0)
            _exit(2);
        _exit(fl.l_type == F_UNLCK ? 1 : 0);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            bail("waitpid: %s", strerror(errno));
    if (!WIFEXITED(st) || WEXITSTATUS(st) > 1)
        bail("the lock probe failed");
    return WEXITSTATUS(st) == 0;
}

static struct store *
open_or_bail(const char *path, int flags)
{
    struct store *s;
    char *cause = NULL;
    if (store_open(path, flags, &s, &cause) != 0)
        bail("open %s: %s", path, cause);
    return s;
}

int
main(void)
{
    char *tmp = fx_tmpdir("locks");
    char *path = fx_path(tmp, "p.db");
    char *wal = xasprintf("%s-wal", path);
    char *cause = NULL;
    int id;

    struct store *a = open_or_bail(path, STORE_CREATE);
    ok(store_class_ensure(a, "cat", &id, &cause) == 0, "a writes");
    ok(locked_here(path), "an open project is locked by its process");

    struct store *b = open_or_bail(path, 0);
    ok(locked_here(path), "a second connection leaves the lock held");
    struct store *c = open_or_bail(path, STORE_READONLY);
    ok(locked_here(path), "and so does a read-only one");

    ok(store_class_ensure(b, "dog", &id, &cause) == 0, "b writes");
    store_close(b);
    store_close(c);
    ok(locked_here(path), "closing them leaves the first one's lock");
    ok(store_class_ensure(a, "emu", &id, &cause) == 0, "a writes again");
    ok(access(wal, F_OK) == 0, "the WAL is still there");
    int n = 0;
    ok(store_class_count(a, &n, &cause) == 0, "a counts the classes");
    is_int(n, ==, 3);

    store_close(a);
    ok(!locked_here(path), "closing the last connection releases the file");

    fx_rmtree(tmp);
    free(tmp);
    free(path);
    free(wal);
    return done_testing();
}
