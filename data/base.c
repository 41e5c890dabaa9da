#include "config.h"

#include "data/base.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

void
xalloc_die(void)
{
    fputs("winnow: out of memory\n", stderr);
    exit(1);
}

void *
xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p == NULL)
        xalloc_die();
    return p;
}

void *
xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (p == NULL)
        xalloc_die();
    return p;
}

void *
xreallocarray(void *p, size_t n, size_t size)
{
    size_t bytes;
    if (wn_mul_size(n, size, &bytes) != 0)
        xalloc_die();
    p = realloc(p, bytes ? bytes : 1);
    if (p == NULL)
        xalloc_die();
    return p;
}

char *
xstrdup(const char *s)
{
    return xstrndup(s, strlen(s));
}

char *
xstrndup(const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *p = xmalloc(len + 1);
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

char *
xvasprintf(const char *fmt, va_list ap)
{
    va_list copy;
    va_copy(copy, ap);
    int n = vsnprintf(NULL, 0, fmt, copy);
    va_end(copy);
    if (n < 0)
        xalloc_die();
    char *p = xmalloc((size_t)n + 1);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    return p;
}

char *
xasprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *p = xvasprintf(fmt, ap);
    va_end(ap);
    return p;
}

int
wn_fail(char **cause, const char *fmt, ...)
{
    if (cause != NULL) {
        va_list ap;
        va_start(ap, fmt);
        *cause = xvasprintf(fmt, ap);
        va_end(ap);
    }
    return -1;
}

int
wn_mul_size(size_t a, size_t b, size_t *out)
{
    if (b != 0 && a > SIZE_MAX / b)
        return -1;
    *out = a * b;
    return 0;
}

void
wn_grow(void *items_ptr, size_t item_size, size_t *cap, size_t need)
{
    void **items = items_ptr;
    if (need <= *cap)
        return;
    size_t n = *cap ? *cap : 16;
    while (n < need) {
        if (n > SIZE_MAX / 2)
            xalloc_die();
        n *= 2;
    }
    *items = xreallocarray(*items, n, item_size);
    *cap = n;
}

int
wn_read_file(const char *path, size_t max_bytes, unsigned char **buf_out,
             size_t *len_out, char **cause)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return wn_fail(cause, "%s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0) {
        int e = errno;
        fclose(f);
        return wn_fail(cause, "%s: %s", path, strerror(e));
    }
    if (S_ISDIR(st.st_mode)) {
        fclose(f);
        return wn_fail(cause, "%s: is a directory", path);
    }
    if (st.st_size < 0 || (uint64_t)st.st_size > max_bytes) {
        fclose(f);
        return wn_fail(cause, "%s: file too large (%lld bytes, limit %zu)",
                       path, (long long)st.st_size, max_bytes);
    }
    size_t cap = (size_t)st.st_size + 1, len = 0;
    unsigned char *buf = xmalloc(cap);
    for (;;) {
        size_t n = fread(buf + len, 1, cap - 1 - len, f);
        len += n;
        if (len < cap - 1) {
            if (ferror(f)) {
                int e = errno;
                free(buf);
                fclose(f);
                return wn_fail(cause, "%s: read error: %s", path,
                               strerror(e ? e : EIO));
            }
            break;
        }
        /* Full: at end of file (the usual case), or the file grew since
         * fstat (or is a pipe) and we read on, within the limit. */
        int c = fgetc(f);
        if (c == EOF)
            break;
        if (cap - 1 >= max_bytes) {
            free(buf);
            fclose(f);
            return wn_fail(cause, "%s: file too large (limit %zu bytes)", path,
                           max_bytes);
        }
        size_t ncap = (cap - 1) * 2 + 4096;
        if (ncap - 1 > max_bytes)
            ncap = max_bytes + 1;
        buf = xreallocarray(buf, ncap, 1);
        cap = ncap;
        buf[len++] = (unsigned char)c;
    }
    fclose(f);
    buf[len] = '\0';
    *buf_out = buf;
    *len_out = len;
    return 0;
}

int64_t
wn_time_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

double
wn_monotonic(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}
