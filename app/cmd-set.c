/* app/cmd-set.c: `winnow set DB PATH LABEL`, a decision from a script.
 *
 * The same append-only event the review UI records: source human, with the
 * latest run and the sample's score in it. Setting the label a sample
 * already has is a decision too (the person checked it), so it is
 * recorded, and the sample counts as kept. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/cmd.h"
#include "data/store.h"

extern const struct cmd cmd_set;

/* "no class 'x' (classes: a, b, c)", listing at most a screenful. */
static void
unknown_class(const char *label, char **names, int n)
{
    fprintf(stderr, "winnow: set: no class '%s' (classes:", label);
    for (int i = 0; i < n && i < 50; i++)
        fprintf(stderr, "%s %s", i == 0 ? "" : ",", names[i]);
    if (n > 50)
        fprintf(stderr, ", ... %d in all", n);
    fprintf(stderr, ")\n");
}

static int
set_label(struct store *s, const char *spec, const char *label,
          const char *note)
{
    char *cause = NULL;
    char **names = NULL;
    int n = 0, cls, old, rc = EXIT_FAIL;
    int64_t id, event;
    if (store_sample_lookup(s, spec, &id, &cause) != 0 ||
        store_class_find(s, label, &cls, &cause) != 0)
        goto fail;
    if (cls < 0) {
        if (store_class_names(s, &names, &n, &cause) != 0)
            goto fail;
        unknown_class(label, names, n);
        store_names_free(names);
        return EXIT_FAIL;
    }
    if (store_label_decide(s, id, cls, note, &old, &event, &cause) != 0 ||
        store_class_names(s, &names, &n, &cause) != 0)
        goto fail;
    const char *from = old >= 0 && old < n ? names[old] : "?";
    if (old == cls)
        printf("%s: %s (kept)\n", spec, from);
    else
        printf("%s: %s -> %s\n", spec, from, names[cls]);
    store_names_free(names);
    return EXIT_OK;
fail:
    cmd_error("set: %s", cause);
    free(cause);
    return rc;
}

struct set_args {
    const char *note;
};

static const struct cmd_option set_options[] = {
    {.name = "note",
     .kind = OPT_STRING,
     .offset = CMD_FIELD(struct set_args, note, const char *),
     .argname = "TEXT",
     .help = "kept with the decision (winnow log shows it)"},
    {0},
};

static int
run_set(int argc, char **argv)
{
    struct set_args a = {0};
    int n, done = cmd_parse(&cmd_set, argc, argv, &a, &n);
    if (done >= 0)
        return done;
    const char *db = argv[1];
    struct store *s;
    if ((s = cmd_open_store(db, 0)) == NULL)
        return EXIT_FAIL;
    int rc = set_label(s, argv[2], argv[3], a.note);
    store_close(s);
    return rc;
}

const struct cmd cmd_set = {
    .name = "set",
    .usage = "DB PATH LABEL [--note TEXT]",
    .summary = "record a person's decision on one sample's label",
    .operands =
        (const struct cmd_operand[]){
            CMD_OPERAND_DB,
            {.name = "PATH",
             .what = "sample",
             .help = "the sample's path as imported (winnow export\n"
                     "--labels lists them); SOURCE:PATH picks one when\n"
                     "several imports have that path"},
            {.name = "LABEL",
             .help = "a class name; the label the sample has already\n"
                     "records that a person checked it (kept)"},
            {0},
        },
    .min_operands = 3,
    .options = set_options,
    .notes = "Every decision is a new event: winnow log lists them, winnow "
             "undo\n"
             "reverts them.\n",
    .run = run_set,
};
