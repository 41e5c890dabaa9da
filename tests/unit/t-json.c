/* tests/unit/t-json.c: the JSON writer. Every escape a string can need,
 * bytes that are not UTF-8 (each one its own U+FFFD, whatever the
 * sequence it breaks), numbers and the values JSON has no number for,
 * and times. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "data/json.h"
#include "tests/tap.h"

/* What one call wrote, as a new string. */
static char *
render_string(const char *s)
{
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    if (f == NULL)
        bail("open_memstream failed");
    json_put_string(f, s);
    fclose(f);
    return out;
}

static char *
render_real(double v)
{
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    if (f == NULL)
        bail("open_memstream failed");
    json_put_real(f, v);
    fclose(f);
    return out;
}

static char *
render_time(int64_t ms)
{
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    if (f == NULL)
        bail("open_memstream failed");
    json_put_time(f, ms);
    fclose(f);
    return out;
}

#define STRING_IS(in, want)                                                    \
    do {                                                                       \
        char *got_ = render_string(in);                                        \
        is_str(got_, want);                                                    \
        free(got_);                                                            \
    } while (0)

#define REAL_IS(in, want)                                                      \
    do {                                                                       \
        char *got_ = render_real(in);                                          \
        is_str(got_, want);                                                    \
        free(got_);                                                            \
    } while (0)

static void
test_escapes(void)
{
    STRING_IS("", "\"\"");
    STRING_IS("cat", "\"cat\"");
    STRING_IS("say \"hi\"", "\"say \\\"hi\\\"\"");
    STRING_IS("a\\b", "\"a\\\\b\"");
    STRING_IS("a/b", "\"a/b\"");
    STRING_IS("l1\nl2\rl3\tl4", "\"l1\\nl2\\rl3\\tl4\"");
    STRING_IS("\x01\x08\x0c\x1b\x1f",
              "\"\\u0001\\u0008\\u000c\\u001b\\u001f\"");
    STRING_IS("del\x7f", "\"del\\u007f\"");
    STRING_IS(" ~", "\" ~\"");
}

static void
test_utf8(void)
{
    /* Valid sequences of every length pass through as bytes. */
    STRING_IS("caf\xc3\xa9", "\"caf\xc3\xa9\"");
    STRING_IS("\xe2\x82\xac 5", "\"\xe2\x82\xac 5\"");
    STRING_IS("\xf0\x9f\x98\x80", "\"\xf0\x9f\x98\x80\"");
    STRING_IS("\xf4\x8f\xbf\xbf", "\"\xf4\x8f\xbf\xbf\""); /* U+10FFFF */
    /* Each byte that does not start a valid sequence is one U+FFFD, and
     * the bytes after it are read afresh. */
    STRING_IS("\x80", "\"\\ufffd\"");
    STRING_IS("a\xff"
              "b",
              "\"a\\ufffdb\"");
    STRING_IS("\xc0\xaf", "\"\\ufffd\\ufffd\"");            /* overlong '/' */
    STRING_IS("\xe0\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\""); /* overlong */
    STRING_IS("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\""); /* surrogate */
    STRING_IS("\xf4\x90\x80\x80",
              "\"\\ufffd\\ufffd\\ufffd\\ufffd\""); /* past U+10FFFF */
    STRING_IS("\xf5\x80", "\"\\ufffd\\ufffd\"");
    STRING_IS("x\xe2\x82", "\"x\\ufffd\\ufffd\""); /* cut short at the end */
    STRING_IS("\xc3(", "\"\\ufffd(\"");            /* not a continuation */
    STRING_IS("\xe2\x82\xac\x80\xc3\xa9", "\"\xe2\x82\xac\\ufffd\xc3\xa9\"");
}

static void
test_numbers(void)
{
    REAL_IS(0.0, "0");
    REAL_IS(1.0, "1");
    REAL_IS(-1.5, "-1.5");
    REAL_IS(0.25, "0.25");
    REAL_IS(0.123456789, "0.123457");
    REAL_IS(123456789.0, "1.23457e+08");
    REAL_IS(1e-7, "1e-07");
    REAL_IS(NAN, "null");
    REAL_IS(INFINITY, "null");
    REAL_IS(-INFINITY, "null");
    /* What is written reads back within the 6 digits kept. */
    const double vals[] = {0.85, 1.0 / 3.0, 2.5e-5, 98765.4321, -0.001};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        char *s = render_real(vals[i]);
        char *end;
        double back = strtod(s, &end);
        ok(*end == '\0', "%s is a whole number", s);
        is_float(back, vals[i], fabs(vals[i]) * 1e-5);
        free(s);
    }
}

static void
test_times(void)
{
    char *s = render_time(0);
    is_str(s, "\"1970-01-01T00:00:00.000Z\"");
    free(s);
    s = render_time(INT64_C(1700000000123));
    is_str(s, "\"2023-11-14T22:13:20.123Z\"");
    free(s);
    s = render_time(INT64_C(951782400007)); /* a leap day */
    is_str(s, "\"2000-02-29T00:00:00.007Z\"");
    free(s);
}

int
main(void)
{
    test_escapes();
    test_utf8();
    test_numbers();
    test_times();
    return done_testing();
}
