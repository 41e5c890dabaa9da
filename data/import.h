/* data/import.h: bringing a labeled dataset into a project file.
 *
 * Three importers share one pipeline: list the items (class folders, CSV
 * rows, IDX records), decode each image once, hash its pixels, keep a copy
 * no larger than max_side, and add it with its label. A bad item is reported
 * through the callback and skipped; with strict set, the first bad item
 * aborts the import and the project is left exactly as it was (the whole
 * import is one transaction). Otherwise the import commits in batches.
 * Going past the project's limits (STORE_MAX_CLASSES, STORE_MAX_SAMPLES)
 * fails the import while listing, before anything is decoded or kept.
 * An import that adds no sample and finds none of its items already in
 * the project (everything skipped, nothing found) fails with a cause that
 * says why, and leaves the project as it was; importing again a source
 * that is all there succeeds, adding nothing. */
#ifndef WINNOW_DATA_IMPORT_H
#define WINNOW_DATA_IMPORT_H

#include <stddef.h>
#include <stdint.h>

#include "data/base.h"
#include "data/store.h"

/* The longest side kept of a larger image: the review screen's image on a
 * 200x60 terminal is about 90 x 35 cells, and a photo kept at 128 looks
 * there as one kept at 160 does, in two thirds of the bytes, where one kept
 * at 64 is blocks (BENCHMARKS.md, "What is kept"). Smaller images are kept
 * at their own size. */
#define IMPORT_DEFAULT_MAX_SIDE 128

/* A bad item: path as the user knows it, and why. */
typedef void (*import_report_fn)(void *ctx, const char *path,
                                 const char *reason);
/* Progress: items done of total (total 0 while still listing). */
typedef void (*import_progress_fn)(void *ctx, size_t done, size_t total);

struct import_options { /* plain data */
    int strict;
    int max_side;                 /* longest side kept; 0 = default */
    const char *class_names_file; /* IDX only: one name per line */
    /* CSV only. The columns: a header name (any case, blanks trimmed),
     * or with no_header a column number from 1; NULL for the defaults
     * (IMPORT_PATH_COLUMNS, IMPORT_LABEL_COLUMNS; without a header the
     * first two columns). */
    const char *path_column;
    const char *label_column;
    int no_header;    /* the first record is a row */
    char sep;         /* ',', ';' or '\t'; 0 = detect */
    const char *root; /* relative paths are under it; NULL =
                                       the manifest's folder */
    int threads;      /* decoding threads; 0 = all cores */
    import_report_fn report;
    import_progress_fn progress;
    void *ctx;
};

struct import_reason {
    char *reason;
    int64_t count;
};

struct import_result { /* import_result_fini frees */
    struct store_import_stats st;
    struct import_reason *reasons; /* why items were skipped, most first */
    size_t n_reasons;
    int n_new_classes;
    double seconds;
};

/* ROOT/<class>/.../NAME.{png,jpg,jpeg,webp} (any case) at any depth; class
 * names are the folder names, new ones numbered in sorted order. */
WN_NODISCARD int import_folder(struct store *s, const char *root,
                               const struct import_options *opt,
                               struct import_result *res, char **cause);
/* The header names a manifest's columns are looked for by, in order. */
#define IMPORT_PATH_COLUMNS  "path", "filename", "file", "image", "image_path"
#define IMPORT_LABEL_COLUMNS "label", "class", "category", "target"

/* A manifest of path and label columns, separated by ',', ';' or tab
 * (csv_sniff_sep decides unless opt->sep is set). A path is absolute, or
 * relative to opt->root (default: the manifest's folder) and may not leave
 * it; it is stored as written, normalised. */
WN_NODISCARD int import_csv(struct store *s, const char *manifest,
                            const struct import_options *opt,
                            struct import_result *res, char **cause);
/* MNIST-style IDX images and labels, plain or gzip. */
WN_NODISCARD int import_idx(struct store *s, const char *images,
                            const char *labels,
                            const struct import_options *opt,
                            struct import_result *res, char **cause);

void import_result_fini(struct import_result *res);

#endif
