/* data/export_internal.h: what the export's files share (data/export.c,
 * the job and the file formats; data/export_folder.c, the class folder
 * tree). Not for use outside them. */
#ifndef WINNOW_DATA_EXPORT_INTERNAL_H
#define WINNOW_DATA_EXPORT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "data/dups.h"
#include "data/export.h"
#include "data/outfile.h"
#include "data/store.h"

enum { /* the outputs, in the order they are opened and renamed */
       T_SCORES,
       T_LABELS,
       T_JSONL,
       T_FOLDER,
       T_IDX_IMAGES,
       T_IDX_LABELS,
       T_COUNT
};

struct row { /* one sample as it is exported */
    int label;
    enum store_review review;
    int include;
    int has_score;
    struct store_score sc;
};

struct export_job {
    struct store *s;
    const struct export_options *o;
    struct export_result *res;
    char **names;
    int n_names;
    int64_t run;
    struct store_label_state *st;
    size_t n;
    struct row *rows;
    struct store_event *ev; /* by sample, then id */
    size_t n_ev, ev_at;
    struct store_auto_label *accepted;
    int64_t now;
    struct outfile t[T_COUNT];
    int *class_made; /* folder: class folder exists */
    uint8_t *idx_px, *idx_lb;
    size_t idx_n, idx_cap, idx_per;
    int idx_w, idx_h, idx_c;
    uint8_t *pixbuf;
    size_t pixcap;
    size_t at; /* the walk's position */
    /* Near-duplicate groups, with --scores or dedupe; dups.group_of by
     * the index of st. */
    struct dups_project dp;
    struct dups dups;
};

/* The name of class id, "" for none. */
const char *export_class_name(const struct export_job *x, int id);

/* -1 with cause "interrupted" once the stop flag is set, else 0. */
WN_NODISCARD int export_stopped(const struct export_job *x, char **cause);

/* --folder: refuse a class that cannot be a folder name, before anything
 * is written. */
WN_NODISCARD int export_folder_check(const struct export_job *x, char **cause);

/* --folder: sample i's entry in its class folder under the tree's
 * temporary root: a link to its source file, a copy, or a PNG from the
 * stored pixels of smp. */
WN_NODISCARD int export_folder_entry(struct export_job *x, size_t i,
                                     const struct store_sample *smp,
                                     char **cause);

#endif
