/* data/csv.h: an RFC 4180 reader for manifests. A leaf module.
 *
 * Accepts what real exports contain: a UTF-8 byte-order mark, CRLF or LF
 * line ends, quoted fields with "" escapes and embedded newlines, and a
 * missing final newline. Parses from memory (the caller reads the file), so
 * the fuzz target and the importer share one code path. */
#ifndef WINNOW_DATA_CSV_H
#define WINNOW_DATA_CSV_H

#include <stddef.h>
#include <stdio.h>

#include "data/base.h"

struct csv; /* opaque */

/* Start reading buf[0..len), fields separated by ','. The buffer is
 * borrowed and must outlive the reader. */
struct csv *csv_new(const char *buf, size_t len);
/* The same with another separator (';' and tab are the usual ones); sep
 * must not be '"', CR, LF or NUL. */
struct csv *csv_new_sep(const char *buf, size_t len, char sep);
void csv_free(struct csv *c);

/* Read the next record. Returns 1 and sets *fields and *nfields (owned by the
 * reader, valid until the next call; each field NUL-terminated) and *line
 * (the 1-based line where the record starts); 0 at end of input; -1 with
 * *cause ("line 17: unterminated quoted field", "line 3: character after
 * closing quote") on malformed input. A blank line is skipped. */
WN_NODISCARD int csv_next(struct csv *c, char ***fields, size_t *nfields,
                          size_t *line, char **cause);

/* Which of ',', ';' and tab separates the fields of buf[0..len), judged
 * by its first five records (quotes honoured): the one separator that
 * splits the first record into two fields or more and every other record
 * sampled into as many. When none splits them alike, the one that splits
 * the first record, if only one does; when none splits the first record,
 * ','. Returns 0 with *sep_out set, or -1 with *cause ("both ',' and ';'
 * split ...") when two separators fit equally. */
WN_NODISCARD int csv_sniff_sep(const char *buf, size_t len, char *sep_out,
                               char **cause);
/* "','", "';'" or "tab", for messages. */
const char *csv_sep_name(char sep);

/* Write one field to f, quoted only where needed (comma, quote, CR, LF,
 * leading or trailing space). Errors show in ferror(f). */
void csv_write_field(FILE *f, const char *s);

#endif
