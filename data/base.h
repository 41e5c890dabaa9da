/* data/base.h: the bottom of the house. Allocators that die on exhaustion
 * (for bookkeeping only: data-sized buffers use the checked helpers and fail
 * as ordinary errors), cause strings, attribute macros. Usable by every
 * layer; uses nothing else in the tree. */
#ifndef WINNOW_DATA_BASE_H
#define WINNOW_DATA_BASE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define WN_NODISCARD    __attribute__((warn_unused_result))
#define WN_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define WN_NORETURN     __attribute__((noreturn))
#define WN_UNUSED       __attribute__((unused))
#define WN_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Print "winnow: out of memory" and exit(1). */
WN_NORETURN void xalloc_die(void);
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xreallocarray(void *p, size_t n, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
WN_PRINTF(1, 2) char *xasprintf(const char *fmt, ...);
WN_PRINTF(1, 0) char *xvasprintf(const char *fmt, va_list ap);

/* Set *cause (if cause is not NULL) to a newly allocated message and return
 * -1, so that "return wn_fail(cause, ...);" reads as one step. */
WN_PRINTF(2, 3) int wn_fail(char **cause, const char *fmt, ...);

/* a * b (+ c) without overflow; return -1 if it would exceed SIZE_MAX. */
WN_NODISCARD int wn_mul_size(size_t a, size_t b, size_t *out);

/* Grow *items (of item_size bytes) so that it holds at least need items;
 * *cap tracks the capacity. Dies if memory runs out. */
void wn_grow(void *items_ptr, size_t item_size, size_t *cap, size_t need);

/* Read a whole file into a new buffer (NUL-terminated, not counted in
 * *len_out). Fails with a cause naming the path; refuses files over
 * max_bytes. */
WN_NODISCARD int wn_read_file(const char *path, size_t max_bytes,
                              unsigned char **buf_out, size_t *len_out,
                              char **cause);

/* Milliseconds since the Unix epoch (wall clock) and seconds of monotonic
 * time, for timestamps and for rates. */
int64_t wn_time_ms(void);
double wn_monotonic(void);

#endif
