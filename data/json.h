/* data/json.h: a small JSON writer, for every output meant for programs
 * (export --jsonl, stats --json and any --json to come). Each call writes
 * one value to f; the caller writes the punctuation between them and
 * checks ferror(f) once at the end. A leaf: uses only data/base.h.
 *
 * Numbers are written with the decimal point of the C locale, so the
 * process must keep LC_NUMERIC at "C" (app/main.c does). */
#ifndef WINNOW_DATA_JSON_H
#define WINNOW_DATA_JSON_H

#include <stdint.h>
#include <stdio.h>

/* s as a JSON string, with every escape JSON needs (quotes, backslashes,
 * control characters and DEL); bytes that are not UTF-8 become U+FFFD, so
 * the output always parses, whatever the input. */
void json_put_string(FILE *f, const char *s);

/* v as a JSON number with 6 significant digits, or null for NAN and
 * infinities, which JSON cannot express. */
void json_put_real(FILE *f, double v);

/* s as a JSON string, or null when s is NULL. */
void json_put_string_or_null(FILE *f, const char *s);

/* A row id, or null when it is 0 or less (no such row). */
void json_put_id(FILE *f, int64_t id);

/* ms since the Unix epoch as an ISO 8601 UTC string with milliseconds,
 * "2026-01-31T12:00:00.000Z". */
void json_put_time(FILE *f, int64_t ms);

#endif
