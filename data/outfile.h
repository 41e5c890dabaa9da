/* data/outfile.h: outputs that appear whole or not at all.
 *
 * A file is written under a temporary name beside its real one,
 * NAME.tmp-PID (NAME.tmp-PID.gz for NAME.gz, whose suffix tells a writer
 * to compress), and a folder tree under DIR.tmp-PID; outfile_commit
 * renames it into place once the caller knows the output is complete, and
 * outfile_remove deletes it otherwise, so a failure leaves nothing under
 * the real name. "-" is standard output, and a path naming a device or a
 * FIFO is written directly: neither can be taken back. A symbolic link to
 * a file is followed, so the file it names is replaced and the link kept.
 *
 * An outfile belongs to one thread. Its life: outfile_open or
 * outfile_open_dir; writes; outfile_close (flush, close, report a write
 * error); outfile_commit, or outfile_remove on any failure; then
 * outfile_fini, always, even after a failed open. */
#ifndef WINNOW_DATA_OUTFILE_H
#define WINNOW_DATA_OUTFILE_H

#include <signal.h>
#include <stdio.h>

#include "data/base.h"

struct outfile {      /* plain data, owned by the caller */
    const char *name; /* as given, for messages; borrowed */
    char *final;      /* renamed to at the end; NULL: written in place */
    char *tmp;        /* written here (a folder writer's root); NULL once
                       * committed */
    FILE *f;          /* open file outputs; NULL for folders, for files
                       * opened without want_file, and once closed */
    int is_stdout, is_dir;
    int in_place; /* a device or FIFO: tmp is the name itself */
};

/* Open the file output name ("-" for standard output). With want_file 0
 * the temporary is only created, for a writer that opens it by name (tmp).
 * Fails on a folder or on a temporary that cannot be made. */
WN_NODISCARD int outfile_open(struct outfile *t, const char *name,
                              int want_file, char **cause);

/* Start a folder tree at tmp. name must not exist or be an empty folder;
 * a folder that fills up meanwhile makes outfile_commit fail. */
WN_NODISCARD int outfile_open_dir(struct outfile *t, const char *name,
                                  char **cause);

/* Flush and close a file output (standard output is only flushed); a
 * write error seen since the open fails here, naming the output. Does
 * nothing for a folder or an output already closed. */
WN_NODISCARD int outfile_close(struct outfile *t, char **cause);

/* Rename the temporary onto the real name. */
WN_NODISCARD int outfile_commit(struct outfile *t, char **cause);

/* Drop what was written: the temporary file or tree is deleted and
 * whatever standard output still buffers is discarded. */
void outfile_remove(struct outfile *t);

/* Free the names; t may then be opened again. */
void outfile_fini(struct outfile *t);

/* The output as messages name it: its name, or "standard output". */
const char *outfile_what(const struct outfile *t);

/* strerror(e), with the message of a full disk in the project's case. */
const char *outfile_strerror(int e);

/* Let SIGINT, SIGTERM and SIGHUP set the returned flag instead of killing
 * the process, so a writer that checks it can remove its temporaries and
 * fail with "interrupted". The handler is installed without SA_RESTART: a
 * write blocked on a pipe returns at once with EINTR. With files (there
 * are temporaries to clean up) SIGPIPE is ignored too, so a closed pipe
 * is a write error like a full disk; without, it ends the process quietly
 * as it does any filter. Call once, from the main thread. */
const volatile sig_atomic_t *outfile_catch_signals(int files);

#endif
