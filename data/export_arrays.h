/* data/export_arrays.h: a run's probabilities and features out of the
 * project, for numpy, pandas, cleanlab or scikit-learn to take over.
 *
 * The rows are the samples in import order, as `export --labels` writes
 * them, so they line up only while the project holds the samples the run
 * scored: after an import the export fails and says to score again. */
#ifndef WINNOW_DATA_EXPORT_ARRAYS_H
#define WINNOW_DATA_EXPORT_ARRAYS_H

#include <stdint.h>

#include "data/base.h"

struct store;

/* The probabilities of the newest done run that kept them: path ending in
 * ".npy" gets a float32 N x K .npy file; any other name (and "-",
 * standard output) a CSV with a header "path,CLASS,..." and one row per
 * sample, each value printed so it reads back as the same float32.
 * *run_out gets the run's id. The file appears whole or not at all. */
WN_NODISCARD int export_probs(struct store *s, const char *path,
                              int64_t *run_out, char **cause);

/* The features of the newest done run that kept them, as a float32 N x D
 * .npy file (path must end in ".npy"). */
WN_NODISCARD int export_features(struct store *s, const char *path,
                                 int64_t *run_out, char **cause);

#endif
