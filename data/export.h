/* data/export.h: every way labels leave a project.
 *
 * One call writes any set of outputs (a label CSV, JSON lines, a class
 * folder tree, an IDX pair, the scores CSV) from one consistent snapshot
 * of the project, all or nothing: each file is written under a temporary
 * name beside its real one (a folder tree under DIR.tmp-PID) and renamed
 * into place only when every output is complete, so a failure or an
 * interruption leaves nothing under a real name (data/outfile.h). "-" is
 * standard output, and a path naming a device or a FIFO is written
 * directly; neither can be taken back. */
#ifndef WINNOW_DATA_EXPORT_H
#define WINNOW_DATA_EXPORT_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "data/base.h"
#include "data/store.h"

enum export_link {
    EXPORT_LINK_SYMBOLIC, /* symbolic link to the source file */
    EXPORT_LINK_HARD,     /* hard link, a copy where none can be made */
    EXPORT_LINK_COPY,     /* a copy of the source file */
};

/* What happens to samples no person decided on. */
enum export_policy {
    EXPORT_KEEP,         /* keep their label */
    EXPORT_DROP_FLAGGED, /* leave out those the latest run flagged */
    EXPORT_ACCEPT_ABOVE, /* take the suggestion when its probability is at
                          * least accept_p, recorded as "auto" events */
};

struct export_options { /* plain data, all borrowed */
    const char *labels; /* CSV: path,label; "-" stdout; NULL none */
    int original;       /* labels: add given_label */
    int status;         /* labels: add status,score */
    const char *jsonl;  /* one JSON object per sample */
    const char *folder; /* DIR/<class>/<name> */
    enum export_link link;
    const char *scores; /* the latest run's scores, highest first */
    const char *idx_images, *idx_labels; /* both or neither */
    enum export_policy policy;
    double accept_p;
    /* Label outputs keep one sample of each group of near-duplicates and
     * exact copies (data/dups.h, the default threshold): its first in
     * import order. */
    int dedupe;
    /* Set from a signal handler: the export stops at the next sample (a
     * blocked write returns EINTR when the handler was installed without
     * SA_RESTART), removes what it wrote and fails with "interrupted". */
    const volatile sig_atomic_t *stop;
};

struct export_result { /* plain data */
    int64_t run_id;    /* the run whose scores were used, 0 if none */
    size_t samples;    /* in the label outputs */
    size_t dropped;    /* left out by drop-flagged */
    size_t deduped;    /* left out by dedupe (not counted in dropped) */
    size_t excluded;   /* dropped as duplicates by a person */
    size_t accepted;   /* suggestions accepted (auto events recorded) */
    size_t review[4];  /* of samples, by enum store_review */
    size_t linked;     /* folder: links to source files */
    size_t copied;     /* folder: copies of source files */
    size_t rendered;   /* folder: PNGs written from the stored pixels */
};

/* Write every output o names. The store must be open for writing when the
 * policy is EXPORT_ACCEPT_ABOVE: the accepted suggestions are recorded only
 * once every output is complete, just before the renames. Fails before
 * writing anything for a folder that exists and is not empty, a class name
 * that is not a valid file name (with folder), a project not imported from
 * IDX files (with idx_images), or a policy or scores export without a
 * finished run. */
WN_NODISCARD int export_run(struct store *s, const struct export_options *o,
                            struct export_result *res, char **cause);

#endif
