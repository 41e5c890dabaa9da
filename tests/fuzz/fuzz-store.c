/* tests/fuzz/fuzz-store.c: opening a damaged project file.
 *
 * An input is a project file's bytes, written to one path per process
 * (with any -wal, -shm or -journal file of the previous input removed, so
 * each input stands alone). It is opened read-only, as `winnow info` and
 * export do, then for writing, as score and review do (which switches it
 * to WAL and may migrate it); each time it opens, the reads that every
 * command starts with run over it: the summary, the classes, every
 * sample's labels and pixels, the history, the latest finished run with
 * its scores and noise matrix. A corrupt file may fail anywhere, but only
 * with a cause, never a crash, a leak or an abort.
 *
 * SQLite itself is not instrumented (it is the system's library), so the
 * search is guided by store*.c alone; ASan still sees what SQLite hands
 * back being misused. */
#include "config.h"

#include "tests/fuzz/fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data/store.h"

static int
fuzz_sample(void *ctx, const struct store_sample *smp, char **cause)
{
    (void)cause;
    unsigned *sum = ctx;
    FUZZ_CHECK(smp->path != NULL);
    FUZZ_CHECK(smp->stored_width >= 1 && smp->stored_height >= 1);
    FUZZ_CHECK(smp->channels == 1 || smp->channels == 3);
    size_t n = (size_t)smp->stored_width * (size_t)smp->stored_height *
               (size_t)smp->channels;
    for (size_t i = 0; i < n; i++)
        *sum += smp->pixels[i];
    return 0;
}

static int
fuzz_scored(void *ctx, const struct store_scored *row, char **cause)
{
    (void)cause;
    size_t *n = ctx;
    FUZZ_CHECK(row->path != NULL);
    (*n)++;
    return 0;
}

static int
fuzz_score(void *ctx, const struct store_score *sc, char **cause)
{
    (void)cause;
    (void)sc;
    size_t *n = ctx;
    (*n)++;
    return 0;
}

static void
fuzz_reads(struct store *s)
{
    char *cause = NULL;

    struct store_summary sum;
    if (store_summary_get(s, &sum, &cause) == 0) {
        for (int i = 0; i < sum.n_classes; i++)
            FUZZ_CHECK(sum.class_names[i] != NULL);
        store_summary_fini(&sum);
    }
    free(cause);
    cause = NULL;

    char **names = NULL;
    int n_classes = 0;
    if (store_class_names(s, &names, &n_classes, &cause) == 0) {
        FUZZ_CHECK(n_classes >= 0);
        FUZZ_CHECK(names[n_classes] == NULL);
        store_names_free(names);
    }
    free(cause);
    cause = NULL;

    struct store_label_state *states = NULL;
    size_t n_states = 0;
    if (store_label_states(s, &states, &n_states, &cause) == 0)
        store_states_free(states, n_states);
    free(cause);
    cause = NULL;

    unsigned pixel_sum = 0;
    if (store_foreach_sample(s, fuzz_sample, &pixel_sum, &cause) != 0)
        FUZZ_CHECK(cause != NULL);
    free(cause);
    cause = NULL;

    struct store_event *ev = NULL;
    size_t n_ev = 0;
    if (store_events_get(s, 0, 1, &ev, &n_ev, &cause) == 0)
        store_events_free(ev, n_ev);
    free(cause);
    cause = NULL;

    int64_t run_id = 0;
    if (store_run_latest(s, "done", &run_id, &cause) == 0 && run_id > 0) {
        struct store_run run;
        if (store_run_get(s, run_id, &run, &cause) == 0)
            store_run_fini(&run);
        free(cause);
        cause = NULL;
        double *noise = NULL;
        int k = 0;
        if (store_run_noise(s, run_id, &noise, &k, &cause) == 0)
            free(noise);
        free(cause);
        cause = NULL;
        size_t n_scored = 0;
        if (store_foreach_score(s, run_id, fuzz_scored, &n_scored, &cause) != 0)
            FUZZ_CHECK(cause != NULL);
        free(cause);
        cause = NULL;
        /* The scan in sample order reads the same table another way. */
        n_scored = 0;
        if (store_foreach_run_score(s, run_id, fuzz_score, &n_scored, &cause) !=
            0)
            FUZZ_CHECK(cause != NULL);
    }
    free(cause);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char *path, *side[3];
    static const char *const suffix[3] = {"-wal", "-shm", "-journal"};

    if (path == NULL) {
        path = strdup(fuzz_temp_path("project.db"));
        FUZZ_CHECK(path != NULL);
        for (int i = 0; i < 3; i++) {
            size_t n = strlen(path) + strlen(suffix[i]) + 1;
            side[i] = malloc(n);
            FUZZ_CHECK(side[i] != NULL);
            snprintf(side[i], n, "%s%s", path, suffix[i]);
        }
    }
    static const int modes[2] = {STORE_READONLY, 0};
    for (int m = 0; m < 2; m++) {
        for (int i = 0; i < 3; i++)
            unlink(side[i]);
        fuzz_write_file(path, data, size);
        struct store *s = NULL;
        char *cause = NULL;
        if (store_open(path, modes[m], &s, &cause) == 0) {
            FUZZ_CHECK(s != NULL);
            fuzz_reads(s);
            store_close(s);
        } else {
            FUZZ_CHECK(s == NULL && cause != NULL);
        }
        free(cause);
    }
    for (int i = 0; i < 3; i++)
        unlink(side[i]);
    return 0;
}
