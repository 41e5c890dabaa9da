/* tests/fuzz/fuzz.h: what the fuzz targets share.
 *
 * Each target defines LLVMFuzzerTestOneInput, which libFuzzer calls with
 * one input (tests/fuzz/fuzz.mk) and replay.c calls with each file of the
 * corpus and crash folders (`make check`). A target returns 0 and lets a
 * bug show as a crash: a sanitizer report, or abort() from FUZZ_CHECK when
 * an invariant of the code under test does not hold. */
#ifndef WINNOW_TESTS_FUZZ_H
#define WINNOW_TESTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* abort() with the condition and place when cond is false: an input that
 * trips it is a bug, and libFuzzer saves it like any crash. */
#define FUZZ_CHECK(cond)                                                       \
    ((cond) ? (void)0 : fuzz_fail(#cond, __FILE__, __LINE__))
__attribute__((noreturn)) void fuzz_fail(const char *what, const char *file,
                                         int line);

/* A file path in a private folder made once per process under $TMPDIR (or
 * /tmp) and removed at exit, for code that reads a path rather than
 * memory. name is the file's name in that folder; the result is static. */
const char *fuzz_temp_path(const char *name);
/* Replace the file at path with data[0..size) (abort on failure). */
void fuzz_write_file(const char *path, const uint8_t *data, size_t size);

#endif
