/* tests/fuzz/fuzz-csv.c: the manifest reader, checked against the writer.
 *
 * An input is a manifest's bytes. Every record the reader returns is
 * written back with csv_write_field, and the result read again must give
 * the same records: this holds the reader's quoting rules and the
 * writer's to each other, and reading every field to its NUL lets ASan
 * check the offsets the reader turns into pointers. A record that is one
 * empty field is left out on both sides: it reads back as a blank line,
 * which the reader skips (csv.c says so). The separator detection runs on
 * every input too, and its answer reads the whole input once. */
#include "config.h"

#include "tests/fuzz/fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/csv.h"

/* The records of buf flattened into one string for comparison, every
 * record and field prefixed by its length (fields may hold any byte but
 * NUL), and their count. Returns the reader's status. */
static int
fuzz_read_all(const char *buf, size_t len, char **flat, size_t *flat_len,
              size_t *records)
{
    FILE *f = open_memstream(flat, flat_len);
    FUZZ_CHECK(f != NULL);
    struct csv *c = csv_new(buf, len);
    char **fields;
    size_t nf, line, last_line = 0;
    char *cause = NULL;
    int r;
    *records = 0;
    while ((r = csv_next(c, &fields, &nf, &line, &cause)) == 1) {
        FUZZ_CHECK(nf >= 1);
        FUZZ_CHECK(line > last_line);
        last_line = line;
        if (nf == 1 && fields[0][0] == '\0')
            continue;
        fprintf(f, "%zu:", nf);
        for (size_t i = 0; i < nf; i++) {
            size_t n = strlen(fields[i]);
            fprintf(f, "%zu:", n);
            fwrite(fields[i], 1, n, f);
        }
        (*records)++;
    }
    if (r < 0) {
        FUZZ_CHECK(cause != NULL && strncmp(cause, "line ", 5) == 0);
        free(cause);
        /* The error is sticky. */
        cause = NULL;
        FUZZ_CHECK(csv_next(c, &fields, &nf, &line, &cause) == -1);
        free(cause);
    }
    csv_free(c);
    FUZZ_CHECK(fclose(f) == 0);
    return r;
}

/* buf's records written out again, as an export would. */
static void
fuzz_rewrite(const char *buf, size_t len, char **out, size_t *out_len)
{
    FILE *f = open_memstream(out, out_len);
    FUZZ_CHECK(f != NULL);
    struct csv *c = csv_new(buf, len);
    char **fields;
    size_t nf, line;
    char *cause = NULL;
    while (csv_next(c, &fields, &nf, &line, &cause) == 1) {
        if (nf == 1 && fields[0][0] == '\0')
            continue;
        for (size_t i = 0; i < nf; i++) {
            if (i > 0)
                putc(',', f);
            csv_write_field(f, fields[i]);
        }
        putc('\n', f);
    }
    free(cause);
    csv_free(c);
    FUZZ_CHECK(fclose(f) == 0);
}

/* The detected separator is one of the three, or the cause says why. */
static void
fuzz_sniff(const char *buf, size_t len)
{
    char sep = 0, *cause = NULL;
    if (csv_sniff_sep(buf, len, &sep, &cause) != 0) {
        FUZZ_CHECK(cause != NULL && strncmp(cause, "both ", 5) == 0);
        free(cause);
        return;
    }
    FUZZ_CHECK(sep == ',' || sep == ';' || sep == '\t');
    struct csv *c = csv_new_sep(buf, len, sep);
    char **fields;
    size_t nf, line;
    while (csv_next(c, &fields, &nf, &line, &cause) == 1)
        for (size_t i = 0; i < nf; i++)
            FUZZ_CHECK(strlen(fields[i]) <= len);
    free(cause);
    csv_free(c);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    char *flat = NULL, *flat2 = NULL, *out = NULL;
    size_t flat_len, flat2_len, out_len, n1, n2;

    fuzz_sniff(buf, size);
    int r = fuzz_read_all(buf, size, &flat, &flat_len, &n1);
    /* The records read before an error round-trip too. */
    fuzz_rewrite(buf, size, &out, &out_len);
    int r2 = fuzz_read_all(out, out_len, &flat2, &flat2_len, &n2);
    FUZZ_CHECK(r2 == 0);
    FUZZ_CHECK(n1 == n2);
    FUZZ_CHECK(flat_len == flat2_len);
    FUZZ_CHECK(memcmp(flat, flat2, flat_len) == 0);
    (void)r;
    free(flat);
    free(flat2);
    free(out);
    return 0;
}
