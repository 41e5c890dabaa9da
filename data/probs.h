/* data/probs.h: predicted probabilities brought in from another model.
 * A leaf module but for data/csv.h.
 *
 * Whatever the format (.npy through data/npy.h, or a CSV here), the
 * result is an N x K float matrix in the project's sample order that
 * probs_check has passed: every value finite, none below 0 or above
 * 1 + PROBS_EPS, each row summing to 1 within PROBS_SUM_TOLERANCE.
 *
 * cleanlab checks only the range, [-1e-6, 1 + 1e-6], and not the sums;
 * winnow refuses negative values outright and rows off by more than
 * PROBS_SUM_TOLERANCE, which a softmax in float32 over a thousand
 * classes stays far within (about 1e-4 at worst), while a column left out
 * or a matrix of logits does not. */
#ifndef WINNOW_DATA_PROBS_H
#define WINNOW_DATA_PROBS_H

#include <stddef.h>
#include <stdint.h>

#include "data/base.h"

#define PROBS_SUM_TOLERANCE 1e-3
#define PROBS_EPS           1e-6

/* Check one row of k values. The cause names the class by classes[j], or
 * by its index when classes is NULL: "class 'cat' is NaN", "class 2 is
 * negative (-0.25)", "the row sums to 0.9 (expected 1 within 0.001)". */
WN_NODISCARD int probs_check_row(const float *row, int k,
                                 const char *const *classes, char **cause);

/* Check n rows; on the first bad one set *bad_row (0-based, as numpy
 * indexes it) when bad_row is not NULL and fail with "row 17: " and the
 * row's cause. */
WN_NODISCARD int probs_check(const float *p, int64_t n, int k,
                             const char *const *classes, int64_t *bad_row,
                             char **cause);

/* Read a CSV of probabilities from buf[0..len): a header with a 'path'
 * column (case-insensitive, the first such) and one column per class,
 * named exactly as the class (spaces around trimmed), in any order; then
 * one row per sample. Rows are matched to paths[0..n) by exact path and
 * the result *out (n x k, row i for paths[i], owned by the caller) is
 * checked with probs_check_row. Fails with a cause naming the file (name)
 * and the line: "probs.csv:7: path 'a.png' is not in the project",
 * "probs.csv:9: path 'b.png' listed again (first on line 4)",
 * "probs.csv: line 1: column 'horse' is not a class of the project",
 * "probs.csv: line 1: class 'dog' has no column", "probs.csv:3: class
 * 'cat': 'x' is not a number", "probs.csv: path 'c.png' has no row (and 2
 * more)". paths may hold up to ten million entries. */
WN_NODISCARD int probs_read_csv(const char *buf, size_t len, const char *name,
                                const char *const *paths, int64_t n,
                                const char *const *classes, int k, float **out,
                                char **cause);

#endif
