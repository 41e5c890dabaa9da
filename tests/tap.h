/* tests/tap.h: a page of TAP for the unit tests. A failure prints the file,
 * the line and both values as TAP diagnostics. */
#ifndef WINNOW_TESTS_TAP_H
#define WINNOW_TESTS_TAP_H

#include <stdint.h>

void tap_plan(int n); /* 0: no plan yet, printed by tap_done */
int tap_done(void);   /* prints a late plan; exit status */
int tap_ok(int cond, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int tap_is_int(int64_t a, const char *op, int64_t b, const char *file, int line,
               const char *what);
int tap_is_float(double a, double b, double tol, const char *file, int line,
                 const char *what);
int tap_is_str(const char *a, const char *b, const char *file, int line,
               const char *what);
void tap_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void tap_skip(const char *why);
__attribute__((noreturn)) void tap_bail(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

#define plan(n)        tap_plan(n)
#define done_testing() tap_done()
#define ok(c, ...)     tap_ok(!!(c), __FILE__, __LINE__, __VA_ARGS__)
#define is_int(a, op, b)                                                       \
    tap_is_int((a), #op, (b), __FILE__, __LINE__, #a " " #op " " #b)
#define is_float(a, b, t)                                                      \
    tap_is_float((a), (b), (t), __FILE__, __LINE__, #a " ~ " #b)
#define is_str(a, b) tap_is_str((a), (b), __FILE__, __LINE__, #a " == " #b)
#define diag(...)    tap_diag(__VA_ARGS__)
#define bail(...)    tap_bail(__VA_ARGS__)

#endif
