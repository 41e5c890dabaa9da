/* app/cmd-undo.c: `winnow undo DB [N]`, the last N decisions of a person
 * reverted.
 *
 * An undo appends; it never deletes. Each reverted decision gets a new
 * human event setting its sample back to the label it had before, marked as
 * undoing it, so the history keeps both and a later undo reaches the
 * decision before. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "app/cmd.h"
#include "data/store.h"

extern const struct cmd cmd_undo;

static int
undo(struct store *s, int n)
{
    char *cause = NULL;
    char **names = NULL;
    int k = 0;
    struct store_undo *u = NULL;
    size_t done = 0;
    if (store_label_undo(s, n, &u, &done, &cause) != 0 ||
        store_class_names(s, &names, &k, &cause) != 0) {
        cmd_error("undo: %s", cause);
        free(cause);
        store_undos_free(u, done);
        return EXIT_FAIL;
    }
    for (size_t i = 0; i < done; i++)
        printf("undid #%lld: %s: %s -> %s\n", (long long)u[i].undone_id,
               u[i].path,
               u[i].from >= 0 && u[i].from < k ? names[u[i].from] : "?",
               u[i].to >= 0 && u[i].to < k ? names[u[i].to] : "?");
    /* A decision carried to other samples is one step of several
     * events. */
    int steps = done > 0 ? u[done - 1].step + 1 : 0;
    store_undos_free(u, done);
    store_names_free(names);
    if (done == 0) {
        cmd_error("undo: nothing to undo (no decisions by a person)");
        return EXIT_FAIL;
    }
    if (steps < n)
        fprintf(stderr, "winnow: undo: only %d decision%s to undo\n", steps,
                steps == 1 ? "" : "s");
    return EXIT_OK;
}

static int
run_undo(int argc, char **argv)
{
    const struct cmd *c = &cmd_undo;
    int n_args, done = cmd_parse(c, argc, argv, NULL, &n_args);
    if (done >= 0)
        return done;
    long n = 1;
    if (n_args == 2 && cmd_parse_int(c, "N", argv[2], 1, 1000000, &n) != 0)
        return EXIT_USAGE;
    const char *db = argv[1];
    struct store *s;
    if ((s = cmd_open_store(db, 0)) == NULL)
        return EXIT_FAIL;
    int rc = undo(s, (int)n);
    store_close(s);
    return rc;
}

const struct cmd cmd_undo = {
    .name = "undo",
    .usage = "DB [N]",
    .summary = "revert the last N decisions of a person (default 1)",
    .operands =
        (const struct cmd_operand[]){
            CMD_OPERAND_DB,
            {.name = "N",
             .help = "how many decisions, newest first (default 1)"},
            {0},
        },
    .min_operands = 1,
    .notes = "Each undo is recorded as a new event that sets the label back;\n"
             "decisions already undone are passed over, so undo again goes\n"
             "further back. Labels accepted by an export (auto) are not\n"
             "decisions of a person and are left alone. Prints each "
             "decision\n"
             "undone as: undid #EVENT: PATH: FROM -> TO.\n",
    .run = run_undo,
};
