/* data/csv.c: an RFC 4180 reader and a field writer.
 *
 * The reader walks the borrowed buffer once, byte by byte, and copies each
 * record's field bytes into one text buffer that it reuses (every field
 * NUL-terminated), noting where each field starts; only when the record is
 * complete does it turn those offsets into pointers, since the text buffer
 * may move while it grows. Both buffers grow geometrically and are reused
 * across records, so the work is linear in the input whatever the shape of
 * the file (one huge field, or a record of a million commas), and the field
 * count per record is capped so that a pathological file costs an error
 * rather than gigabytes of pointers.
 *
 * A CRLF, a lone LF and a lone CR each end one line, inside quoted fields
 * too, so the line numbers in causes and in *line match what an editor
 * shows. A quote inside an unquoted field is kept as it is (as Python's csv
 * module does): such fields are common in hand-made files and harmless. The
 * first error is sticky: later calls repeat it rather than resynchronize,
 * since the rest of the file cannot be trusted to be split right.
 *
 * The separator is ',' unless the caller names another. csv_sniff_sep
 * reads the first records once with each candidate rather than counting
 * bytes, so that a ';' inside a quoted path is no evidence for ';'.
 *
 * The writer quotes what the reader would otherwise misread: separators,
 * quotes, line ends, edge spaces (which importers trim) and a leading
 * byte-order mark. An empty field stays bare, so a record must not consist
 * of a single empty field: it would read back as a skipped blank line. */
#include "config.h"

#include "data/csv.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Far more columns than any manifest has, and still only 16 MB of offsets
 * and pointers. */
#define CSV_MAX_FIELDS ((size_t)1 << 20)

struct csv {
    const unsigned char *buf;
    size_t len;
    size_t pos;
    size_t line; /* of the byte at pos */
    unsigned char sep;
    char *error; /* sticky, once set */

    char *text; /* the current record's fields, each NUL-terminated */
    size_t text_len, text_cap;
    size_t *starts; /* offset of each field in text */
    char **fields;
    size_t nfields, fields_cap;
};

struct csv *
csv_new(const char *buf, size_t len)
{
    return csv_new_sep(buf, len, ',');
}

struct csv *
csv_new_sep(const char *buf, size_t len, char sep)
{
    struct csv *c = xcalloc(1, sizeof *c);
    c->buf = (const unsigned char *)buf;
    c->len = len;
    c->line = 1;
    c->sep = (unsigned char)sep;
    if (len >= 3 && c->buf[0] == 0xef && c->buf[1] == 0xbb && c->buf[2] == 0xbf)
        c->pos = 3;
    return c;
}

void
csv_free(struct csv *c)
{
    if (c == NULL)
        return;
    free(c->error);
    free(c->text);
    free(c->starts);
    free(c->fields);
    free(c);
}

static void
csv_put(struct csv *c, char ch)
{
    if (c->text_len == c->text_cap)
        wn_grow(&c->text, 1, &c->text_cap, c->text_len + 1);
    c->text[c->text_len++] = ch;
}

static int
csv_fail(struct csv *c, size_t line, const char *what, char **cause)
{
    c->error = xasprintf("line %zu: %s", line, what);
    return wn_fail(cause, "%s", c->error);
}

static int
csv_begin_field(struct csv *c, char **cause)
{
    if (c->nfields == CSV_MAX_FIELDS)
        return csv_fail(c, c->line, "too many fields", cause);
    if (c->nfields == c->fields_cap) {
        size_t cap = c->fields_cap;
        wn_grow(&c->starts, sizeof *c->starts, &c->fields_cap, c->nfields + 1);
        wn_grow(&c->fields, sizeof *c->fields, &cap, c->nfields + 1);
    }
    c->starts[c->nfields++] = c->text_len;
    return 0;
}

/* Consume the line end at pos (CRLF, LF or CR), if there is one. */
static bool
csv_eol(struct csv *c)
{
    if (c->pos >= c->len)
        return false;
    if (c->buf[c->pos] == '\n') {
        c->pos++;
    } else if (c->buf[c->pos] == '\r') {
        c->pos++;
        if (c->pos < c->len && c->buf[c->pos] == '\n')
            c->pos++;
    } else {
        return false;
    }
    c->line++;
    return true;
}

/* A quoted field, pos just past the opening quote. Returns 0 at the closing
 * quote's end, with pos on what follows it. */
static int
csv_quoted(struct csv *c, char **cause)
{
    size_t opened = c->line;
    for (;;) {
        if (c->pos >= c->len)
            return csv_fail(c, opened, "unterminated quoted field", cause);
        unsigned char ch = c->buf[c->pos];
        if (ch == '"') {
            if (c->pos + 1 < c->len && c->buf[c->pos + 1] == '"') {
                csv_put(c, '"');
                c->pos += 2;
                continue;
            }
            c->pos++;
            return 0;
        }
        if (ch == '\0')
            return csv_fail(c, c->line, "NUL byte in input", cause);
        if (ch == '\r' || ch == '\n') {
            /* Keep the newline as written, but count it once. */
            size_t from = c->pos;
            csv_eol(c);
            for (size_t i = from; i < c->pos; i++)
                csv_put(c, (char)c->buf[i]);
            continue;
        }
        csv_put(c, (char)ch);
        c->pos++;
    }
}

/* One record, pos on its first byte (not a line end, not the end). Leaves
 * pos past the record's line end. */
static int
csv_record(struct csv *c, char **cause)
{
    for (;;) {
        if (csv_begin_field(c, cause) != 0)
            return -1;
        if (c->pos < c->len && c->buf[c->pos] == '"') {
            c->pos++;
            if (csv_quoted(c, cause) != 0)
                return -1;
            if (c->pos < c->len && c->buf[c->pos] != c->sep &&
                c->buf[c->pos] != '\r' && c->buf[c->pos] != '\n')
                return csv_fail(c, c->line, "character after closing quote",
                                cause);
        } else {
            while (c->pos < c->len) {
                unsigned char ch = c->buf[c->pos];
                if (ch == c->sep || ch == '\r' || ch == '\n')
                    break;
                if (ch == '\0')
                    return csv_fail(c, c->line, "NUL byte in input", cause);
                csv_put(c, (char)ch);
                c->pos++;
            }
        }
        csv_put(c, '\0');
        if (c->pos < c->len && c->buf[c->pos] == c->sep) {
            c->pos++;
            continue;
        }
        csv_eol(c);
        return 0;
    }
}

int
csv_next(struct csv *c, char ***fields, size_t *nfields, size_t *line,
         char **cause)
{
    if (c->error != NULL)
        return wn_fail(cause, "%s", c->error);
    while (csv_eol(c))
        ; /* blank lines */
    if (c->pos >= c->len)
        return 0;
    c->text_len = 0;
    c->nfields = 0;
    size_t first = c->line;
    if (csv_record(c, cause) != 0)
        return -1;
    for (size_t i = 0; i < c->nfields; i++)
        c->fields[i] = c->text + c->starts[i];
    *fields = c->fields;
    *nfields = c->nfields;
    *line = first;
    return 1;
}

/* ---- separator detection ---- */

/* The header and a few rows: enough to see a consistent shape, few enough
 * that a huge first field costs one pass over it. */
#define CSV_SNIFF_RECORDS 5

static const char csv_seps[] = {',', ';', '\t'};

const char *
csv_sep_name(char sep)
{
    switch (sep) {
    case ',': return "','";
    case ';': return "';'";
    case '\t': return "tab";
    default: return "an unusual separator";
    }
}

/* How the first records split with sep: *viable when the first record has
 * two fields or more, *consistent when every record sampled has as many
 * as the first and none of them is malformed. */
static void
csv_sniff_one(const char *buf, size_t len, char sep, bool *viable,
              bool *consistent)
{
    struct csv *c = csv_new_sep(buf, len, sep);
    char **fields;
    size_t nf, line, first = 0;
    char *cause = NULL;
    *viable = false;
    *consistent = true;
    for (int i = 0; i < CSV_SNIFF_RECORDS; i++) {
        int r = csv_next(c, &fields, &nf, &line, &cause);
        if (r < 0)
            *consistent = false;
        if (r <= 0)
            break;
        if (i == 0) {
            first = nf;
            *viable = nf >= 2;
        } else if (nf != first) {
            *consistent = false;
        }
    }
    free(cause);
    csv_free(c);
}

int
csv_sniff_sep(const char *buf, size_t len, char *sep_out, char **cause)
{
    char viable[3], consistent[3];
    size_t n_viable = 0, n_consistent = 0;
    for (size_t i = 0; i < sizeof csv_seps; i++) {
        bool v, k;
        csv_sniff_one(buf, len, csv_seps[i], &v, &k);
        if (v)
            viable[n_viable++] = csv_seps[i];
        if (v && k)
            consistent[n_consistent++] = csv_seps[i];
    }
    if (n_consistent == 1) {
        *sep_out = consistent[0];
        return 0;
    }
    /* Two separators that both give a table are a guess either way, and a
     * wrong guess would import the wrong column as paths. */
    if (n_consistent > 1)
        return wn_fail(cause,
                       "both %s and %s split the first lines into "
                       "the same number of columns",
                       csv_sep_name(consistent[0]),
                       csv_sep_name(consistent[1]));
    if (n_viable > 1)
        return wn_fail(cause,
                       "both %s and %s split the first line, and "
                       "neither splits the next lines alike",
                       csv_sep_name(viable[0]), csv_sep_name(viable[1]));
    /* One candidate splits the first line: ragged rows after it are the
     * importer's to report, row by row. None: a file of one column, whose
     * header the importer names in its error. */
    *sep_out = n_viable == 1 ? viable[0] : ',';
    return 0;
}

void
csv_write_field(FILE *f, const char *s)
{
    size_t n = strlen(s);
    bool quote = n > 0 && (s[0] == ' ' || s[0] == '\t' || s[n - 1] == ' ' ||
                           s[n - 1] == '\t');
    if (!quote)
        quote = strpbrk(s, ",\"\r\n") != NULL;
    /* A leading byte-order mark would be taken for the file's own if the
     * field came first; inside quotes it is data. */
    if (!quote)
        quote = strncmp(s, "\xef\xbb\xbf", 3) == 0;
    if (!quote) {
        fwrite(s, 1, n, f);
        return;
    }
    putc('"', f);
    for (const char *p = s; *p; p++) {
        if (*p == '"')
            putc('"', f);
        putc(*p, f);
    }
    putc('"', f);
}
