/* tests/unit/t-csv.c: the CSV reader and writer.
 *
 * Most cases parse a string and compare a rendering of every record with
 * its line number ("1[a|b]3[c]", CR and LF shown as \r and \n, an error as
 * "ERR(cause)"), so one line states the whole expected result. The writer
 * is checked for exact output on a few strings and then by round trips
 * through the reader, including a few thousand random fields over an
 * alphabet of the characters that matter. */
#include "config.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/base.h"
#include "data/csv.h"
#include "tests/tap.h"

struct buf {
    char *s;
    size_t len, cap;
};

static void
buf_add(struct buf *b, const char *s, size_t n)
{
    wn_grow(&b->s, 1, &b->cap, b->len + n + 1);
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

static void
buf_str(struct buf *b, const char *s)
{
    buf_add(b, s, strlen(s));
}

/* Render every record of in[0..len), or the records before an error and
 * then the error. */
static char *
render_sep(const char *in, size_t len, char sep)
{
    struct buf b = {0};
    buf_str(&b, "");
    struct csv *c = csv_new_sep(in, len, sep);
    char **fields;
    size_t nf, line;
    char *cause = NULL;
    int r;
    while ((r = csv_next(c, &fields, &nf, &line, &cause)) == 1) {
        char num[32];
        snprintf(num, sizeof num, "%zu[", line);
        buf_str(&b, num);
        for (size_t i = 0; i < nf; i++) {
            if (i > 0)
                buf_str(&b, "|");
            for (const char *p = fields[i]; *p; p++)
                if (*p == '\r')
                    buf_str(&b, "\\r");
                else if (*p == '\n')
                    buf_str(&b, "\\n");
                else
                    buf_add(&b, p, 1);
        }
        buf_str(&b, "]");
    }
    if (r < 0) {
        buf_str(&b, "ERR(");
        buf_str(&b, cause ? cause : "(no cause)");
        buf_str(&b, ")");
        free(cause);
        /* The error is sticky: the rest of the file is not trusted. */
        cause = NULL;
        if (csv_next(c, &fields, &nf, &line, &cause) != -1 || cause == NULL)
            buf_str(&b, "NOT-STICKY");
        free(cause);
    }
    csv_free(c);
    return b.s;
}

static char *
render(const char *in, size_t len)
{
    return render_sep(in, len, ',');
}

#define CHECK(in, want)                                                        \
    do {                                                                       \
        char *got_ = render((in), sizeof(in) - 1);                             \
        is_str(got_, (want));                                                  \
        free(got_);                                                            \
    } while (0)

#define CHECK_SEP(sep, in, want)                                               \
    do {                                                                       \
        char *got_ = render_sep((in), sizeof(in) - 1, (sep));                  \
        is_str(got_, (want));                                                  \
        free(got_);                                                            \
    } while (0)

static void
test_basics(void)
{
    CHECK("", "");
    CHECK("a,b\nc,d\n", "1[a|b]2[c|d]");
    CHECK("a,b\nc,d", "1[a|b]2[c|d]"); /* no final newline */
    CHECK("one", "1[one]");
    CHECK("a,b\r\nc,d\r\n", "1[a|b]2[c|d]");
    CHECK("a,b\rc,d\r", "1[a|b]2[c|d]");
    CHECK("a\r\nb\nc\rd", "1[a]2[b]3[c]4[d]");
    /* Different field counts are the importer's business. */
    CHECK("a\nb,c,d\n", "1[a]2[b|c|d]");
    /* Spaces belong to the field; a quote inside an unquoted field is kept. */
    CHECK(" a , b \n", "1[ a | b ]");
    CHECK("ab\"c,d\n", "1[ab\"c|d]");
    CHECK("x, \"y\"\n", "1[x| \"y\"]");
}

static void
test_bom(void)
{
    CHECK("\xef\xbb\xbfpath,label\nx,y\n", "1[path|label]2[x|y]");
    CHECK("\xef\xbb\xbf", "");
    CHECK("\xef\xbb\xbf\"q\"\n", "1[q]");
    /* Only a leading mark is one. */
    CHECK("a\n\xef\xbb\xbfz\n", "1[a]2[\xef\xbb\xbfz]");
    /* A partial mark is data. */
    CHECK("\xef\xbb", "1[\xef\xbb]");
}

static void
test_blank_and_empty(void)
{
    CHECK("\n\na\n\r\n\nb\n\n", "3[a]6[b]");
    CHECK("\r\n\r\n", "");
    CHECK("\r\r\na\r", "3[a]");
    CHECK(",a,,\n", "1[|a||]");
    CHECK(",\n", "1[|]");
    CHECK("a,\n", "1[a|]");
    CHECK("a,", "1[a|]");
    CHECK("\"\"\n", "1[]"); /* a quoted empty field is a record */
    CHECK("\"\",\"\"", "1[|]");
}

static void
test_quotes(void)
{
    CHECK("\"a,b\",\"c\"\"d\"\n", "1[a,b|c\"d]");
    CHECK("\"\"\"\"\n", "1[\"]");
    CHECK("\"\"\"\"\"\"", "1[\"\"]");
    CHECK("\"x\"", "1[x]");
    CHECK("\"x\",", "1[x|]");
    CHECK("\" a \"\r\n", "1[ a ]");
    /* Embedded line ends are kept as written and counted once each. */
    CHECK("\"x\ny\",z\nnext\n", "1[x\\ny|z]3[next]");
    CHECK("\"x\r\ny\"\r\nnext\r\n", "1[x\\r\\ny]3[next]");
    CHECK("\"x\ry\"\rnext", "1[x\\ry]3[next]");
    CHECK("h\n\"a\n\nb\"\nc\n", "1[h]2[a\\n\\nb]5[c]");
    CHECK("h\n\"a\r\n\r\nb\",\"\n\"\n\nc\n", "1[h]2[a\\r\\n\\r\\nb|\\n]7[c]");
}

static void
test_errors(void)
{
    CHECK("a\n\"bc\n", "1[a]ERR(line 2: unterminated quoted field)");
    /* Named by the line the field opens on, not where the file ends. */
    CHECK("a\nb\n\"c\nd\ne", "1[a]2[b]ERR(line 3: unterminated quoted field)");
    CHECK("\"", "ERR(line 1: unterminated quoted field)");
    CHECK("\"ab\"\"", "ERR(line 1: unterminated quoted field)");
    CHECK("a\n\"b\"c\n", "1[a]ERR(line 2: character after closing quote)");
    CHECK("\"a\nb\"x", "ERR(line 2: character after closing quote)");
    CHECK("\"a\" ,b", "ERR(line 1: character after closing quote)");
    CHECK("x,\"a\"\"b\"\"\"c", "ERR(line 1: character after closing quote)");
    CHECK("a\nb\0c\n", "1[a]ERR(line 2: NUL byte in input)");
    CHECK("a\n\n\"x\n\0\"", "1[a]ERR(line 4: NUL byte in input)");
    CHECK("\0", "ERR(line 1: NUL byte in input)");
}

/* Another separator: it splits as ',' did, and ',' becomes data. */
static void
test_separators(void)
{
    CHECK_SEP(';', "path;label\r\na,b.png;cat\r\n",
              "1[path|label]2[a,b.png|cat]");
    CHECK_SEP(';', "\"x;y\";\"q\"\"\"\n", "1[x;y|q\"]");
    CHECK_SEP(';', ";a;;\n", "1[|a||]");
    CHECK_SEP(';', "\"a\",b\n", "ERR(line 1: character after closing quote)");
    CHECK_SEP('\t', "path\tlabel\na b.png\t cat\n",
              "1[path|label]2[a b.png| cat]");
    CHECK_SEP('\t', "\"a\tb\"\tc\n", "1[a\tb|c]");
    CHECK_SEP('\t', "\xef\xbb\xbfp\tl\n", "1[p|l]");
}

/* csv_sniff_sep on s: the separator's name, or ERR(cause). */
static char *
sniff(const char *s)
{
    char sep = 0, *cause = NULL;
    if (csv_sniff_sep(s, strlen(s), &sep, &cause) != 0) {
        char *out = xasprintf("ERR(%s)", cause);
        free(cause);
        return out;
    }
    return xstrdup(csv_sep_name(sep));
}

#define SNIFF(in, want)                                                        \
    do {                                                                       \
        char *got_ = sniff(in);                                                \
        is_str(got_, (want));                                                  \
        free(got_);                                                            \
    } while (0)

static void
test_sniff(void)
{
    SNIFF("path,label\na.png,cat\n", "','");
    SNIFF("path;label\na.png;cat\n", "';'");
    SNIFF("path\tlabel\na.png\tcat\n", "tab");
    SNIFF("\xef\xbb\xbfpath;label\r\na.png;cat\r\n", "';'");
    /* A separator inside quotes, or inside later fields, is no evidence. */
    SNIFF("\"p,q\";label\n\"a,b.png\";cat\n", "';'");
    SNIFF("path;label\nimg/a,b.png;cat\nimg/c.png;dog\n", "';'");
    SNIFF("path,label,note\na.png,cat,x; y\nb.png,dog,\n", "','");
    /* Ragged rows: the one separator that splits the header wins. */
    SNIFF("path;label\na.png\nb.png;dog;extra\n", "';'");
    /* One column, or nothing at all: ',' and the importer says more. */
    SNIFF("path\na.png\n", "','");
    SNIFF("", "','");
    SNIFF("\n\n", "','");
    /* Two that fit alike are a guess: refused. */
    SNIFF("a,b;c\n1,2;3\n",
          "ERR(both ',' and ';' split the first lines into the same "
          "number of columns)");
    SNIFF("a,b;c\n1,2\n3;4\n",
          "ERR(both ',' and ';' split the first line, and neither splits "
          "the next lines alike)");
    /* Only the first five records are read: a sixth that would settle
     * it is not. */
    SNIFF("a;b,c\na;b,c\na;b,c\na;b,c\na;b,c\nd;e,f,g\n",
          "ERR(both ',' and ';' split the first lines into the same "
          "number of columns)");
    is_str(csv_sep_name(','), "','");
    is_str(csv_sep_name('\t'), "tab");
}

/* Fields stay valid until the next call and are NUL-terminated even when the
 * input is not. */
static void
test_ownership(void)
{
    static const char in[] = {'a', ',', 'b', 'c'}; /* no terminator */
    struct csv *c = csv_new(in, sizeof in);
    char **f;
    size_t nf, line;
    char *cause = NULL;
    is_int(csv_next(c, &f, &nf, &line, &cause), ==, 1);
    is_int(nf, ==, 2);
    is_str(f[0], "a");
    is_str(f[1], "bc");
    ok(f[1] < in || f[1] >= in + sizeof in, "fields are the reader's copies");
    is_int(csv_next(c, &f, &nf, &line, &cause), ==, 0);
    is_int(csv_next(c, &f, &nf, &line, &cause), ==, 0);
    ok(cause == NULL, "end of input is not an error");
    csv_free(c);
    csv_free(NULL);
}

/* Sizes that would show quadratic behaviour as a timeout, and the cap on
 * fields per record. */
static void
test_pathological(void)
{
    size_t n = (size_t)8 << 20;
    char *in = xmalloc(n + 3);
    in[0] = '"';
    memset(in + 1, 'x', n);
    in[n + 1] = '"';
    in[n + 2] = '\n';
    struct csv *c = csv_new(in, n + 3);
    char **f;
    size_t nf, line;
    char *cause = NULL;
    is_int(csv_next(c, &f, &nf, &line, &cause), ==, 1);
    is_int(strlen(f[0]), ==, n);
    csv_free(c);

    /* 2^20 fields are allowed, one more is not. */
    size_t commas = ((size_t)1 << 20) - 1;
    memset(in, ',', commas);
    c = csv_new(in, commas);
    is_int(csv_next(c, &f, &nf, &line, &cause), ==, 1);
    is_int(nf, ==, commas + 1);
    ok(f[nf - 1][0] == '\0' && f[nf / 2][0] == '\0', "all fields are empty");
    csv_free(c);
    in[commas] = ',';
    c = csv_new(in, commas + 1);
    is_int(csv_next(c, &f, &nf, &line, &cause), ==, -1);
    is_str(cause, "line 1: too many fields");
    free(cause);
    cause = NULL;
    csv_free(c);

    /* Many short records reuse the reader's buffers. */
    size_t rows = 200000;
    for (size_t i = 0; i < rows; i++)
        memcpy(in + 4 * i, "a,b\n", 4);
    c = csv_new(in, 4 * rows);
    size_t seen = 0, last = 0;
    int r;
    while ((r = csv_next(c, &f, &nf, &line, &cause)) == 1) {
        seen++;
        last = line;
    }
    is_int(r, ==, 0);
    is_int(seen, ==, rows);
    is_int(last, ==, rows);
    csv_free(c);
    free(in);
}

static char *
write_fields(const char *const *s, size_t n)
{
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    if (f == NULL)
        bail("open_memstream failed");
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            putc(',', f);
        csv_write_field(f, s[i]);
    }
    if (ferror(f) || fclose(f) != 0)
        bail("writing to memory failed");
    return out;
}

static void
test_write_exact(void)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"plain", "plain"},
        {"", ""},
        {"in side", "in side"},
        {"a,b", "\"a,b\""},
        {"say \"hi\"", "\"say \"\"hi\"\"\""},
        {"\"", "\"\"\"\""},
        {"x\ny", "\"x\ny\""},
        {"x\r\ny", "\"x\r\ny\""},
        {"x\ry", "\"x\ry\""},
        {" lead", "\" lead\""},
        {"trail ", "\"trail \""},
        {"tab\t", "\"tab\t\""},
        {"\xef\xbb\xbfx", "\"\xef\xbb\xbfx\""},
        {"caf\xc3\xa9/\xe2\x82\xac.png", "caf\xc3\xa9/\xe2\x82\xac.png"},
    };
    for (size_t i = 0; i < WN_ARRAY_LEN(cases); i++) {
        char *got = write_fields(&cases[i].in, 1);
        is_str(got, cases[i].out);
        free(got);
    }
}

/* Write records of the given fields, then read them back. */
static int
round_trip(const char *const *s, size_t nrec, size_t per)
{
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    if (f == NULL)
        bail("open_memstream failed");
    for (size_t r = 0; r < nrec; r++) {
        for (size_t i = 0; i < per; i++) {
            if (i > 0)
                putc(',', f);
            csv_write_field(f, s[r * per + i]);
        }
        fputs(r % 2 ? "\r\n" : "\n", f);
    }
    if (ferror(f) || fclose(f) != 0)
        bail("writing to memory failed");
    struct csv *c = csv_new(out, len);
    char **fields;
    size_t nf, line;
    char *cause = NULL;
    int good = 1;
    for (size_t r = 0; r < nrec && good; r++) {
        if (csv_next(c, &fields, &nf, &line, &cause) != 1 || nf != per) {
            diag("record %zu: %s", r, cause ? cause : "wrong field count");
            good = 0;
            break;
        }
        for (size_t i = 0; i < per; i++)
            if (strcmp(fields[i], s[r * per + i]) != 0) {
                diag("record %zu field %zu: wrote [%s] read [%s]", r, i,
                     s[r * per + i], fields[i]);
                good = 0;
            }
    }
    if (good && csv_next(c, &fields, &nf, &line, &cause) != 0)
        good = 0;
    free(cause);
    csv_free(c);
    free(out);
    return good;
}

static void
test_round_trip(void)
{
    static const char *const tricky[] = {
        "plain",    "",
        "a,b",      "\"",
        "\"\"",     "say \"hi\"",
        "x\ny",     "x\r\ny",
        "x\ry",     "\n",
        "\r\n",     " ",
        " lead",    "trail ",
        ",",        ",,\"\n\r",
        "\"start",  "end\"",
        "mid\"dle", "\n\n\n",
        "tab\t",    "\xef\xbb\xbf-bom",
        "a\"\"b",   "ok",
    };
    ok(round_trip(tricky, WN_ARRAY_LEN(tricky) / 2, 2),
       "tricky fields round trip");
    /* A field starting with a byte-order mark, first in the file. */
    static const char *const bom[] = {"\xef\xbb\xbfx", "y"};
    ok(round_trip(bom, 1, 2), "a BOM-led first field survives");

    /* Random fields over the characters that matter. */
    static const char alphabet[] = "a,\"\r\n x";
    enum { NREC = 3000, PER = 3 };
    char *store = xmalloc((size_t)NREC * PER * 9);
    const char **s = xmalloc((size_t)NREC * PER * sizeof *s);
    uint32_t x = 2463534242u;
    for (size_t i = 0; i < (size_t)NREC * PER; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        size_t n = x % 9;
        char *p = store + i * 9;
        for (size_t k = 0; k < n; k++) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            p[k] = alphabet[x % (sizeof alphabet - 1)];
        }
        p[n] = '\0';
        s[i] = p;
    }
    ok(round_trip(s, NREC, PER), "%d random records round trip", NREC);
    free(s);
    free(store);
}

static void
test_bad_fixtures(void)
{
    static const struct {
        const char *name, *cause;
    } known[] = {
        {"csv-unterminated-quote.csv", "line 3: unterminated quoted field"},
        {"csv-char-after-quote.csv", "line 3: character after closing quote"},
        {"csv-nul-byte.csv", "line 2: NUL byte in input"},
    };
    const char *src = getenv("TESTS_SRCDIR");
    if (src == NULL) {
        tap_skip("TESTS_SRCDIR is not set (run under make check)");
        return;
    }
    char *dir = xasprintf("%s/data/bad", src);
    DIR *d = opendir(dir);
    ok(d != NULL, "open %s", dir);
    size_t n = 0, n_known = 0;
    struct dirent *e;
    while (d != NULL && (e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (strncmp(e->d_name, "csv-", 4) != 0 || len < 4 ||
            strcmp(e->d_name + len - 4, ".csv") != 0)
            continue;
        n++;
        char *path = xasprintf("%s/%s", dir, e->d_name);
        unsigned char *buf;
        size_t blen;
        char *cause = NULL;
        if (wn_read_file(path, 1 << 20, &buf, &blen, &cause) != 0)
            bail("%s", cause);
        struct csv *c = csv_new((const char *)buf, blen);
        char **f;
        size_t nf, line;
        int r;
        while ((r = csv_next(c, &f, &nf, &line, &cause)) == 1)
            ;
        ok(r == -1 && cause != NULL && strncmp(cause, "line ", 5) == 0,
           "%s fails cleanly (%s)", e->d_name, cause ? cause : "no error");
        for (size_t i = 0; i < WN_ARRAY_LEN(known); i++)
            if (strcmp(known[i].name, e->d_name) == 0) {
                n_known++;
                is_str(cause, known[i].cause);
            }
        free(cause);
        csv_free(c);
        free(buf);
        free(path);
    }
    if (d != NULL)
        closedir(d);
    is_int(n_known, ==, WN_ARRAY_LEN(known));
    ok(n >= n_known, "%zu bad CSV fixtures", n);
    free(dir);
}

int
main(void)
{
    test_basics();
    test_bom();
    test_blank_and_empty();
    test_quotes();
    test_errors();
    test_separators();
    test_sniff();
    test_ownership();
    test_pathological();
    test_write_exact();
    test_round_trip();
    test_bad_fixtures();
    return done_testing();
}
