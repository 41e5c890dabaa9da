/* tests/fuzz/fuzz.c: the helpers of fuzz.h, linked into every target.
 *
 * The temporary folder is made once and reused by every input, so a run
 * of millions of inputs costs one mkdtemp and leaves one folder behind at
 * most (when the process dies on a crash, atexit handlers do not run). */
#include "config.h"

#include "tests/fuzz/fuzz.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char fuzz_dir[4096];
static char fuzz_path[4096 + 256];

void
fuzz_fail(const char *what, const char *file, int line)
{
    fprintf(stderr, "%s:%d: fuzz check failed: %s\n", file, line, what);
    abort();
}

/* Remove the folder and whatever the code under test left in it (SQLite's
 * -wal and -shm files, say). */
static void
fuzz_cleanup(void)
{
    DIR *d = opendir(fuzz_dir);
    if (d == NULL)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char p[sizeof fuzz_path];
        snprintf(p, sizeof p, "%s/%s", fuzz_dir, e->d_name);
        unlink(p);
    }
    closedir(d);
    rmdir(fuzz_dir);
}

const char *
fuzz_temp_path(const char *name)
{
    if (fuzz_dir[0] == '\0') {
        const char *tmp = getenv("TMPDIR");
        if (tmp == NULL || *tmp == '\0')
            tmp = "/tmp";
        snprintf(fuzz_dir, sizeof fuzz_dir, "%s/winnow-fuzz-XXXXXX", tmp);
        if (mkdtemp(fuzz_dir) == NULL) {
            fprintf(stderr, "fuzz: mkdtemp %s: %s\n", fuzz_dir,
                    strerror(errno));
            abort();
        }
        atexit(fuzz_cleanup);
    }
    snprintf(fuzz_path, sizeof fuzz_path, "%s/%s", fuzz_dir, name);
    return fuzz_path;
}

void
fuzz_write_file(const char *path, const uint8_t *data, size_t size)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        fprintf(stderr, "fuzz: %s: %s\n", path, strerror(errno));
        abort();
    }
    size_t done = 0;
    while (done < size) {
        ssize_t n = write(fd, data + done, size - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            fprintf(stderr, "fuzz: %s: %s\n", path, strerror(errno));
            abort();
        }
        done += (size_t)n;
    }
    if (close(fd) != 0) {
        fprintf(stderr, "fuzz: %s: %s\n", path, strerror(errno));
        abort();
    }
}
