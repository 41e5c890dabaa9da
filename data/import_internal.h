/* data/import_internal.h: the pipeline the three importers share. Each
 * importer lists its items (and reports bad ones as it finds them), then
 * hands the list to import_job_run, which decodes in parallel and inserts
 * in order. Not for use outside data/import*.c. */
#ifndef WINNOW_DATA_IMPORT_INTERNAL_H
#define WINNOW_DATA_IMPORT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "data/import.h"

struct import_item {
    char *path;         /* as stored and shown to the user (owned) */
    char *file;         /* file to decode (owned), or NULL for raw pixels */
    const uint8_t *raw; /* IDX: borrowed pixels, raw_w x raw_h x raw_c */
    int raw_w, raw_h, raw_c;
    int label; /* class id */
};

struct import_job {
    struct store *store;
    const char *name; /* the dataset as the user named it (for causes) */
    const struct import_options *opt;
    struct import_result *res;
    int64_t source_id;
    struct import_item *items;
    size_t n_items, cap_items;
    int in_txn;
    int64_t kept; /* res->st.imported as of the last commit */
};

/* The image formats the importers read, as messages name them. */
#define IMPORT_FORMATS "PNG, JPEG or WebP"

/* name (borrowed) prefixes the causes of the limits. */
void import_job_init(struct import_job *job, struct store *s, const char *name,
                     const struct import_options *opt,
                     struct import_result *res);
void import_job_fini(struct import_job *job);
/* Start the import's transaction (strict: the only one). */
WN_NODISCARD int import_job_begin(struct import_job *job, char **cause);
/* Finish: record the import, commit. On failure everything since the last
 * commit is rolled back. */
WN_NODISCARD int import_job_finish(struct import_job *job, char **cause);
void import_job_abort(struct import_job *job);

/* Queue an item; takes ownership of path and file (freed on failure too).
 * Fails once the list passes STORE_MAX_SAMPLES, so that a listing of
 * millions of files stops before it fills memory. */
WN_NODISCARD int import_job_add(struct import_job *job, char *path, char *file,
                                int label, char **cause);
/* Find or create a class for the import, counting it in n_new_classes
 * when new; past STORE_MAX_CLASSES it fails with "NAME: too many classes:
 * 'x' would be class N (max M)". */
WN_NODISCARD int import_class_ensure(struct import_job *job, const char *cls,
                                     int *id_out, char **cause);
/* Whether the project can take n_new more samples: "NAME: too many
 * samples: N in the project and M new (max K)" if not. */
WN_NODISCARD int import_check_room(struct import_job *job, int64_t in_project,
                                   size_t n_new, char **cause);
/* A bad item: report it and count it. Returns 0 to go on, or -1 in strict
 * mode (with *cause "path: reason"). */
WN_NODISCARD int import_job_bad(struct import_job *job, const char *path,
                                const char *reason, char **cause);
/* Decode every queued item and insert it. */
WN_NODISCARD int import_job_run(struct import_job *job, char **cause);
/* After import_job_run: whether the import added no sample and found none
 * already in the project, which the importer turns into a failure that
 * says why (an import of nothing looks like one that worked otherwise). */
int import_job_added_nothing(const struct import_job *job);

/* Lexically normalise a relative path ("a/./b//c" -> "a/b/c"); NULL if it
 * is absolute, empty, or climbs out with "..". Caller frees. */
char *import_normalize_relative(const char *path);
/* Whether a name ends in .png, .jpg, .jpeg or .webp, any case: what the
 * folder walk takes. Only a filter: the decoder goes by the content. */
int import_has_image_extension(const char *name);
/* The class a folder name or label stands for: without surrounding white
 * space and control characters, so "cat\r" (a folder copied from Windows,
 * a quoted CSV field) is "cat". NULL with *why set ("is only white space
 * or control characters", "has a control character inside") when no
 * usable name is left: a line break inside a class name would break
 * every listing of classes, an escape would be sent to the terminal of
 * whoever lists them. A tab inside is kept. Caller frees. */
char *import_class_name(const char *raw, const char **why);

#endif
