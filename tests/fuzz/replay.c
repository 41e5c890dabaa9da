/* tests/fuzz/replay.c: a main() that feeds files to a fuzz target, so that
 * `make check` replays the seed corpus and every crash found so far with
 * the ordinary compiler (and under the sanitizer build in distcheck),
 * without clang or libFuzzer.
 *
 *   t-fuzz-NAME            replays $TESTS_SRCDIR/fuzz/corpus/NAME and
 *                          $TESTS_SRCDIR/fuzz/crashes/NAME
 *   t-fuzz-NAME PATH...    replays these files and folders
 *
 * Each file runs in a child process, given exactly its bytes in a buffer
 * of that size (as libFuzzer does), and gives one TAP line: ok when the
 * child returned normally, so a crash, a sanitizer report (leaks too, at
 * the child's exit) or a hang past REPLAY_TIMEOUT names its file and the
 * rest still run. Names starting with "." or "README" are not inputs. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "data/base.h"
#include "tests/fuzz/fuzz.h"
#include "tests/tap.h"

#ifndef FUZZ_NAME
#error "FUZZ_NAME must name the target (png, csv, idx, store)"
#endif

/* Seconds one input may take; libFuzzer's own default is 1200, but every
 * input of a corpus ran in well under one. */
#define REPLAY_TIMEOUT 60

/* Read the file and run the target on it; in the child. */
static void
replay_child(const char *path)
{
    unsigned char *buf = NULL;
    size_t len = 0;
    char *cause = NULL;
    alarm(REPLAY_TIMEOUT);
    if (wn_read_file(path, (size_t)64 << 20, &buf, &len, &cause) != 0) {
        fprintf(stderr, "replay: %s\n", cause);
        _exit(2);
    }
    /* Exactly len bytes, so ASan sees a read past the end. */
    uint8_t *data = malloc(len ? len : 1);
    if (data == NULL)
        _exit(2);
    memcpy(data, buf, len);
    free(buf);
    LLVMFuzzerTestOneInput(data, len);
    free(data);
    exit(0); /* through exit, so LeakSanitizer runs */
}

static void
replay_file(const char *path, const char *label)
{
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0)
        bail("fork: %s", strerror(errno));
    if (pid == 0)
        replay_child(path);
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            bail("waitpid: %s", strerror(errno));
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        ok(1, "%s", label);
    else if (WIFEXITED(status))
        ok(0, "%s (exit %d)", label, WEXITSTATUS(status));
    else
        ok(0, "%s (%s)", label,
           WTERMSIG(status) == SIGALRM ? "timed out"
                                       : strsignal(WTERMSIG(status)));
}

static int
replay_is_input(const struct dirent *e)
{
    return e->d_name[0] != '.' && strncmp(e->d_name, "README", 6) != 0;
}

/* Every input of a folder, in name order; returns how many. */
static int
replay_dir(const char *dir, const char *label)
{
    struct dirent **list;
    int n = scandir(dir, &list, replay_is_input, alphasort);
    if (n < 0) {
        ok(0, "%s: %s", label, strerror(errno));
        return 0;
    }
    for (int i = 0; i < n; i++) {
        char *path = xasprintf("%s/%s", dir, list[i]->d_name);
        char *name = xasprintf("%s/%s", label, list[i]->d_name);
        replay_file(path, name);
        free(path);
        free(name);
        free(list[i]);
    }
    free(list);
    return n;
}

static void
replay_arg(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        ok(0, "%s: %s", path, strerror(errno));
    else if (S_ISDIR(st.st_mode))
        replay_dir(path, path);
    else
        replay_file(path, path);
}

int
main(int argc, char **argv)
{
    if (argc > 1) {
        for (int i = 1; i < argc; i++)
            replay_arg(argv[i]);
        return done_testing();
    }
    const char *src = getenv("TESTS_SRCDIR");
    if (src == NULL || *src == '\0') {
        fprintf(stderr, "usage: %s [FILE|DIR]... (or set TESTS_SRCDIR)\n",
                argv[0]);
        return 2;
    }
    char *corpus = xasprintf("%s/fuzz/corpus/%s", src, FUZZ_NAME);
    char *crashes = xasprintf("%s/fuzz/crashes/%s", src, FUZZ_NAME);
    /* An empty or missing corpus would pass without testing anything. */
    int n = replay_dir(corpus, "corpus/" FUZZ_NAME);
    ok(n >= 10, "corpus/%s has %d inputs", FUZZ_NAME, n);
    struct stat st;
    ok(stat(crashes, &st) == 0 && S_ISDIR(st.st_mode), "crashes/%s is there",
       FUZZ_NAME);
    replay_dir(crashes, "crashes/" FUZZ_NAME);
    free(corpus);
    free(crashes);
    return done_testing();
}
