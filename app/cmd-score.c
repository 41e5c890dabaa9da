/* app/cmd-score.c: `winnow score DB`, the engine run headless.
 *
 * The engine trains in its own thread; this thread waits on the engine's
 * progress descriptor and draws the progress. SIGINT and SIGTERM do not
 * kill the process: they ask the engine to stop at the next batch, which
 * saves a checkpoint and marks the run interrupted (`--resume` goes on). */
#include "config.h"

#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/cmd.h"
#include "app/progress.h"
#include "data/store.h"
#include "engine/engine.h"

/* A finished epoch is logged once, keyed by fold * this + epoch: more
 * epochs than any run has (--epochs stops at 10,000). */
#define SCORE_EPOCH_KEY_FOLD 100000
/* The longest wait for progress before the loop looks again; a signal
 * cuts it short. */
#define SCORE_POLL_MS 250

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
    if (p->batches > 0 && p->batch == p->batches &&
        epoch_key != *last_epoch) {
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
               (long long)r.id, r.seconds, (long long)r.n_samples,
               r.n_classes, 100.0 * r.noise_rate);
        printf("next: winnow export %s --scores scores.csv (highest score "
               "first), or winnow review %s\n",
               db, db);
        store_run_fini(&r);
    } else {
        free(cause);
    }
    store_close(s);
}

static int
run_score(int argc, char **argv)
{
    const struct cmd *c = &cmd_score;
    static const struct option longopts[] = {
        {"epochs", required_argument, NULL, 'e'},
        {"folds", required_argument, NULL, 'k'},
        {"seed", required_argument, NULL, 's'},
        {"threads", required_argument, NULL, 't'},
        {"elr", no_argument, NULL, 'L'},
        {"no-elr", no_argument, NULL, 'E'},
        {"no-flip", no_argument, NULL, 'F'},
        {"resume", no_argument, NULL, 'r'},
        {"checkpoint-every", required_argument, NULL, 'c'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct engine_params ep;
    engine_params_default(&ep);
    int quiet = 0, o;
    long v;
    opterr = 0;
    optind = 1;
    while ((o = getopt_long(argc, argv, ":hq", longopts, NULL)) != -1) {
        switch (o) {
        case 'e':
            if (cmd_parse_int(c, "--epochs", optarg, 1, 10000, &v) != 0)
                return EXIT_USAGE;
            ep.epochs = (int)v;
            break;
        case 'k':
            if (cmd_parse_int(c, "--folds", optarg, 1, 100, &v) != 0)
                return EXIT_USAGE;
            ep.folds = (int)v;
            break;
        case 's':
            if (cmd_parse_int(c, "--seed", optarg, 0, 2147483647L, &v) != 0)
                return EXIT_USAGE;
            ep.seed = (uint64_t)v;
            break;
        case 't':
            if (cmd_parse_int(c, "--threads", optarg, 1, 1024, &v) != 0)
                return EXIT_USAGE;
            ep.threads = (int)v;
            break;
        case 'L':
            ep.elr = 1;
            break;
        case 'E':
            ep.elr = 0;
            break;
        case 'F':
            ep.flip = 0;
            break;
        case 'c':
            if (cmd_parse_int(c, "--checkpoint-every", optarg, 0, 86400,
                              &v) != 0)
                return EXIT_USAGE;
            ep.checkpoint_seconds = (double)v;
            break;
        case 'r':
            ep.resume = 1;
            break;
        case 'q':
            quiet = 1;
            break;
        case 'h':
            cmd_print_help(c, stdout);
            return EXIT_OK;
        default:
            return cmd_option_error(c, o, argv);
        }
    }
    if (argc - optind != 1)
        return cmd_usage_error(c, argc - optind < 1
                                      ? "missing project file DB"
                                      : "too many arguments");
    const char *db = argv[optind];

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
             "[--elr] [--no-flip] [--resume] [--checkpoint-every S] "
             "[--quiet]",
    .summary = "train on the project's samples and score every label",
    .help = "options:\n"
            "  --epochs N    training epochs (default: from the dataset "
            "size)\n"
            "  --folds K     judge each sample by one of K models that never "
            "saw it\n"
            "                (default 1: one model and its training "
            "dynamics)\n"
            "  --seed S      random seed (default 1); the same seed and "
            "threads give\n"
            "                the same scores bit for bit\n"
            "  --threads T   compute threads (default: all cores)\n"
            "  --elr         train with early-learning regularization (off\n"
            "                by default; --no-elr is accepted too)\n"
            "  --no-flip     no horizontal flips in augmentation\n"
            "  --resume      continue the latest interrupted run (also one\n"
            "                whose process died: from its last checkpoint)\n"
            "  --checkpoint-every S  keep a checkpoint at an epoch boundary\n"
            "                at most every S seconds (default 60; 0: every\n"
            "                epoch)\n"
            "  -q, --quiet   no progress output\n"
            "Ctrl-C stops at the next batch and saves a checkpoint.\n",
    .run = run_score,
};
