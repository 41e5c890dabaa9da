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

/* Start reading buf[0..len). The buffer is borrowed and must outlive the
 * reader. */
struct csv *csv_new(const char *buf, size_t len);
void csv_free(struct csv *c);

/* Read the next record. Returns 1 and sets *fields and *nfields (owned by the
 * reader, valid until the next call; each field NUL-terminated) and *line
 * (the 1-based line where the record starts); 0 at end of input; -1 with
 * *cause ("line 17: unterminated quoted field", "line 3: character after
 * closing quote") on malformed input. A blank line is skipped. */
WN_NODISCARD int csv_next(struct csv *c, char ***fields, size_t *nfields,
                          size_t *line, char **cause);

/* Write one field to f, quoted only where needed (comma, quote, CR, LF,
 * leading or trailing space). Errors show in ferror(f). */
void csv_write_field(FILE *f, const char *s);

#endif
