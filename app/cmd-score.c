/* app/cmd-score.c: `winnow score DB`, the engine run headless.
 *
 * The engine trains in its own thread; this thread waits on the engine's
 * progress descriptor and draws the progress. SIGINT and SIGTERM do not
 * kill the process: they ask the engine to stop at the next batch, which
 * saves a checkpoint and marks the run interrupted (`--resume` goes on). */
#include "config.h"

#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/cmd.h"
#include "app/progress.h"
#include "app/score_probs.h"
#include "data/store.h"
#include "engine/dataset.h"
#include "engine/engine.h"

/* A finished epoch is logged once, keyed by fold * this + epoch: more
 * epochs than any run has (--epochs stops at 10,000). */
#define SCORE_EPOCH_KEY_FOLD 100000
/* The longest wait for progress before the loop looks again; a signal
 * cuts it short. */
#define SCORE_POLL_MS        250

extern const struct cmd cmd_score;

static volatile sig_atomic_t score_signalled;

static void
score_on_signal(int sig)
{
    (void)sig;
    score_signalled = 1;
}

static void
show_progress(struct progress *bar, const struct engine_progress *p,
              int *last_epoch, int quiet)
{
    if (quiet || p->phase != ENGINE_TRAINING)
        return;
    char extra[96];
    if (p->folds > 1)
        snprintf(extra, sizeof extra, "fold %d/%d epoch %d/%d loss %.3f",
                 p->fold, p->folds, p->epoch, p->epochs, p->loss);
    else
        snprintf(extra, sizeof extra, "epoch %d/%d loss %.3f", p->epoch,
                 p->epochs, p->loss);
    if (progress_is_tty(bar)) {
        progress_update(bar, (size_t)p->images_done, (size_t)p->images_total,
                        "img", extra);
        return;
    }
    /* A log gets one line per finished epoch. */
    int epoch_key = p->fold * SCORE_EPOCH_KEY_FOLD + p->epoch;
    if (p->batches > 0 && p->batch == p->batches && epoch_key != *last_epoch) {
        *last_epoch = epoch_key;
        progress_message(bar,
                         "score: %s: loss %.4f, training accuracy %.3f, "
                         "%.0f images/s, %.1f GFLOP/s",
                         extra, p->loss, p->accuracy, p->images_per_sec,
                         p->gflops);
    }
}

static void
print_result(const char *db, const struct engine_progress *p)
{
    struct store *s;
    char *cause = NULL;
    if (store_open(db, STORE_READONLY, &s, &cause) != 0) {
        free(cause);
        return;
    }
    struct store_run r;
    if (store_run_get(s, p->run_id, &r, &cause) == 0) {
        printf("run %lld done in %.0f s: %lld samples in %d classes scored; "
               "estimated noise rate %.1f%%\n",
               (long long)r.id, r.seconds, (long long)r.n_samples, r.n_classes,
               100.0 * r.noise_rate);
        printf("next: winnow export %s --scores scores.csv (highest score "
               "first), or winnow review %s\n",
               db, db);
        store_run_fini(&r);
    } else {
        free(cause);
    }
    store_close(s);
}

struct score_args {
    int epochs, folds, seed, threads, elr, no_flip, resume, checkpoint_every;
    int side;
    int quiet;
    const char *probs, *features;
};

#define SCORE_FIELD(m) CMD_FIELD(struct score_args, m, int)

static const struct cmd_option score_options[] = {
    {.name = "epochs",
     .kind = OPT_INT,
     .offset = SCORE_FIELD(epochs),
     .min = 1,
     .max = 10000,
     .argname = "N",
     .heading = "options:",
     .help = "training epochs (default: from the dataset size)"},
    {.name = "folds",
     .kind = OPT_INT,
     .offset = SCORE_FIELD(folds),
     .min = 1,
     .max = 100,
     .argname = "K",
     .help = "judge each sample by one of K models that never saw it\n"
             "(default 1: one model and its training dynamics)"},
    {.name = "seed",
     .kind = OPT_INT,
     .offset = SCORE_FIELD(seed),
     .min = 0,
     .max = 2147483647L,
     .argname = "S",
     .help = "random seed (default 1); the same seed and threads give\n"
             "the same scores bit for bit"},
    {.name = "threads",
     .kind = OPT_INT,
     .offset = SCORE_FIELD(threads),
     .min = 1,
     .max = 1024,
     .argname = "T",
     .help = "compute threads (default: all cores)"},
    {.name = "elr",
     .kind = OPT_FLAG,
     .offset = SCORE_FIELD(elr),
     .help = "train with early-learning regularization (off\n"
             "by default; --no-elr is accepted too)"},
    {.name = "no-elr", .kind = OPT_NO_FLAG, .offset = SCORE_FIELD(elr)},
    {.name = "no-flip",
     .kind = OPT_FLAG,
     .offset = SCORE_FIELD(no_flip),
     .help = "no horizontal flips in augmentation"},
    {.name = "side",
     .kind = OPT_INT,
     .offset = SCORE_FIELD(side),
     .min = DATASET_SIDE_MIN,
     .max = DATASET_SIDE_MAX,
     .argname = "N",
     .help = "train on N x N: each image's shorter side to N,\n"
             "the centre kept (default: a square set's own\n"
             "size up to 64, else at most 32)"},
    {.name = "resume",
     .kind = OPT_FLAG,
     .offset = SCORE_FIELD(resume),
     .help = "continue the latest interrupted run (also one\n"
             "whose process died: from its last checkpoint)"},
    {.name = "checkpoint-every",
     .kind = OPT_INT,
     .offset = SCORE_FIELD(checkpoint_every),
     .min = 0,
     .max = 86400,
     .argname = "S",
     .help = "keep a checkpoint at an epoch boundary\n"
             "at most every S seconds (default 60; 0: every\n"
             "epoch)"},
    {.name = "quiet",
     .short_name = 'q',
     .kind = OPT_FLAG,
     .offset = SCORE_FIELD(quiet),
     .help = "no progress output"},
    {.name = "probs",
     .kind = OPT_STRING,
     .offset = CMD_FIELD(struct score_args, probs, const char *),
     .argname = "FILE",
     .heading = "bring your own model (no training):",
     .help = "score from these predicted probabilities: .npy\n"
             "N x K in import order, or CSV path,CLASS,..."},
    {.name = "features",
     .kind = OPT_STRING,
     .offset = CMD_FIELD(struct score_args, features, const char *),
     .argname = "FILE",
     .help = "with --probs: .npy N x D embeddings for the\n"
             "neighbour votes"},
    {0},
};

/* --probs takes the place of training: the options that steer training
 * would be silently ignored, which is worse than refused. */
static int
check_probs_options(const struct score_args *a)
{
    const char *train = a->epochs    ? "--epochs"
                        : a->folds   ? "--folds"
                        : a->elr     ? "--elr"
                        : a->no_flip ? "--no-flip"
                        : a->side    ? "--side"
                        : a->resume  ? "--resume"
                                     : NULL;
    if (a->probs == NULL && a->features != NULL)
        return cmd_usage_error(&cmd_score, "--features goes with --probs");
    if (a->probs != NULL && train != NULL)
        return cmd_usage_error(&cmd_score,
                               "--probs scores without "
                               "training: %s does not apply",
                               train);
    return -1;
}

static int
run_score(int argc, char **argv)
{
    struct engine_params ep;
    engine_params_default(&ep);
    struct score_args a = {
        .epochs = ep.epochs,
        .folds = ep.folds,
        .seed = (int)ep.seed,
        .threads = ep.threads,
        .elr = ep.elr,
        .no_flip = !ep.flip,
        .resume = ep.resume,
        .checkpoint_every = (int)ep.checkpoint_seconds,
    };
    int n, done = cmd_parse(&cmd_score, argc, argv, &a, &n);
    if (done >= 0)
        return done;
    if ((done = check_probs_options(&a)) >= 0)
        return done;
    if (a.probs != NULL) {
        struct score_probs_args pa = {
            .db = argv[1],
            .probs = a.probs,
            .features = a.features,
            .seed = (uint64_t)a.seed,
            .threads = a.threads,
            .quiet = a.quiet,
        };
        return score_probs(&pa);
    }
    ep.epochs = a.epochs;
    ep.folds = a.folds;
    ep.seed = (uint64_t)a.seed;
    ep.threads = a.threads;
    ep.elr = a.elr;
    ep.flip = !a.no_flip;
    ep.resume = a.resume;
    ep.side = a.side;
    ep.checkpoint_seconds = (double)a.checkpoint_every;
    int quiet = a.quiet;
    const char *db = argv[1];

    /* Fail early, and with the usual words, on a file that is not ours. */
    struct store *probe;
    char *cause = NULL;
    if ((probe = cmd_open_store(db, 0)) == NULL)
        return EXIT_FAIL;
    store_close(probe);

    struct sigaction sa, old_int, old_term;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = score_on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);

    struct engine *e;
    if (engine_start(db, &ep, &e, &cause) != 0) {
        cmd_error("score: %s", cause);
        free(cause);
        return EXIT_FAIL;
    }
    struct progress *bar = progress_new("score", quiet);
    struct engine_progress p = {0};
    int last_epoch = -1, asked = 0;
    for (;;) {
        struct pollfd pfd = {.fd = engine_fd(e), .events = POLLIN};
        /* EINTR (a signal) and timeouts both just look again. */
        (void)poll(&pfd, 1, SCORE_POLL_MS);
        if (score_signalled && !asked) {
            asked = 1;
            if (!quiet)
                progress_message(bar, "winnow: score: stopping at the next "
                                      "batch and saving a checkpoint");
            engine_request_stop(e);
        }
        engine_ack(e);
        engine_progress(e, &p);
        show_progress(bar, &p, &last_epoch, quiet);
        if (engine_finished(e))
            break;
    }
    engine_free(e);
    progress_free(bar);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);

    switch (p.phase) {
    case ENGINE_DONE:
        if (!quiet)
            print_result(db, &p);
        return EXIT_OK;
    case ENGINE_INTERRUPTED:
        cmd_error("score: interrupted; run %lld saved, continue with: "
                  "winnow score %s --resume",
                  (long long)p.run_id, db);
        return EXIT_FAIL;
    default:
        cmd_error("score: %s", p.message[0] ? p.message : "failed");
        return EXIT_FAIL;
    }
}

const struct cmd cmd_score = {
    .name = "score",
    .usage = "DB [--epochs N] [--folds K] [--seed S] [--threads T] "
             "[--elr] [--no-flip] [--side N] [--resume] "
             "[--checkpoint-every S] [--quiet]\n"
             "       DB --probs FILE [--features FILE.npy] [--seed S] "
             "[--threads T]",
    .summary = "train on the project's samples and score every label",
    .operands = (const struct cmd_operand[]){CMD_OPERAND_DB, {0}},
    .min_operands = 1,
    .options = score_options,
    .help_column = 16,
    .notes = "Ctrl-C stops at the next batch and saves a checkpoint.\n",
    .run = run_score,
};
