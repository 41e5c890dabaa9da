#include "config.h"

#include "tests/tap.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_n, tap_failed, tap_planned;

void
tap_plan(int n)
{
    if (n > 0) {
        printf("1..%d\n", n);
        tap_planned = n;
    }
}

int
tap_done(void)
{
    if (!tap_planned)
        printf("1..%d\n", tap_n);
    else if (tap_planned != tap_n)
        printf("# planned %d tests but ran %d\n", tap_planned, tap_n);
    fflush(stdout);
    return tap_failed || (tap_planned && tap_planned != tap_n) ? 1 : 0;
}

static int
tap_result(int cond, const char *file, int line, const char *fmt, va_list ap)
{
    tap_n++;
    printf("%s %d - ", cond ? "ok" : "not ok", tap_n);
    vprintf(fmt, ap);
    printf("\n");
    if (!cond) {
        tap_failed++;
        printf("#   Failed at %s:%d\n", file, line);
    }
    fflush(stdout);
    return cond;
}

int
tap_ok(int cond, const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = tap_result(cond, file, line, fmt, ap);
    va_end(ap);
    return r;
}

static int
tap_ok_plain(int cond, const char *file, int line, const char *what)
{
    return tap_ok(cond, file, line, "%s", what);
}

int
tap_is_int(int64_t a, const char *op, int64_t b, const char *file, int line,
           const char *what)
{
    int cond;
    if (strcmp(op, "==") == 0)
        cond = a == b;
    else if (strcmp(op, "!=") == 0)
        cond = a != b;
    else if (strcmp(op, "<") == 0)
        cond = a < b;
    else if (strcmp(op, "<=") == 0)
        cond = a <= b;
    else if (strcmp(op, ">") == 0)
        cond = a > b;
    else if (strcmp(op, ">=") == 0)
        cond = a >= b;
    else
        tap_bail("unknown operator %s", op);
    if (!tap_ok_plain(cond, file, line, what))
        printf("#   left:  %lld\n#   right: %lld\n", (long long)a,
               (long long)b);
    return cond;
}

int
tap_is_float(double a, double b, double tol, const char *file, int line,
             const char *what)
{
    int cond = isfinite(a) && isfinite(b) && fabs(a - b) <= tol;
    if (!tap_ok_plain(cond, file, line, what))
        printf("#   left:  %.9g\n#   right: %.9g\n#   tolerance: %.3g\n", a, b,
               tol);
    return cond;
}

int
tap_is_str(const char *a, const char *b, const char *file, int line,
           const char *what)
{
    int cond = a != NULL && b != NULL && strcmp(a, b) == 0;
    if (!tap_ok_plain(cond, file, line, what))
        printf("#   left:  %s\n#   right: %s\n", a ? a : "(null)",
               b ? b : "(null)");
    return cond;
}

void
tap_diag(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("# ");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    fflush(stdout);
}

void
tap_skip(const char *why)
{
    tap_n++;
    printf("ok %d # SKIP %s\n", tap_n, why);
}

void
tap_bail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("Bail out! ");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    fflush(stdout);
    exit(1);
}
