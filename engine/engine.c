/* engine/engine.c: a scoring job in a background thread.
 *
 * The job thread owns its own store connection and everything it trains;
 * the caller's thread shares only struct engine's progress snapshot and
 * control flags, under one mutex that is never held across I/O, a batch or
 * a store call. The job wakes the caller by writing one byte to a
 * non-blocking pipe (a full pipe already means "look"), and reads the
 * pause and stop flags between batches. All signals are blocked in the job
 * thread, so SIGINT and SIGWINCH reach the caller's. */
#include "config.h"

#include "engine/engine.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "data/store.h"
#include "engine/dataset.h"
#include "engine/featpairs.h"
#include "engine/knn.h"
#include "engine/outlier.h"
#include "engine/publish.h"
#include "engine/scores.h"
#include "engine/train.h"

/* How often a running job refreshes its heartbeat in the store, so that
 * another process can tell a live run from one whose process died. */
#define ENGINE_HEARTBEAT_SECONDS  5.0
/* A crash costs at most a minute of training, and small sets, whose
 * epochs take seconds, do not rewrite the checkpoint every few. */
#define ENGINE_CHECKPOINT_SECONDS 60.0
/* All online cores by default, up to a team size no machine this code
 * was measured on comes near; each member owns per-thread buffers, so a
 * bound keeps a misreporting sysconf from allocating thousands. */
#define ENGINE_MAX_AUTO_THREADS   256
/* Wake-ups of the caller are throttled to this interval during training. */
#define ENGINE_NOTIFY_SECONDS     0.05

struct engine {
    char *db_path;
    struct engine_params params;
    pthread_t thread;
    int started;
    int pipe_rd, pipe_wr;

    pthread_mutex_t lock;
    pthread_cond_t cond; /* pause and stop changes */
    struct engine_progress snap;
    int stop, paused, finished;

    /* Job thread only. */
    double t0, last_notify, last_heartbeat, last_checkpoint;
    struct store *store;
    int64_t run_id;
};

void
engine_params_default(struct engine_params *p)
{
    memset(p, 0, sizeof *p);
    p->seed = 1;
    /* Off: with the small network that fits the time budget, ELR's pull
     * towards its own running targets hardens early confusions into
     * whole classes predicted as another (BENCHMARKS.md); the targets are
     * still kept, as evidence. */
    p->elr = 0;
    p->flip = 1;
    p->checkpoint_seconds = ENGINE_CHECKPOINT_SECONDS;
}

const char *
engine_phase_name(enum engine_phase ph)
{
    switch (ph) {
    case ENGINE_STARTING: return "starting";
    case ENGINE_LOADING: return "loading";
    case ENGINE_TRAINING: return "training";
    case ENGINE_SCORING: return "scoring";
    case ENGINE_PUBLISHING: return "publishing";
    case ENGINE_DONE: return "done";
    case ENGINE_INTERRUPTED: return "interrupted";
    case ENGINE_FAILED: return "failed";
    }
    return "?";
}

static void
engine_notify(struct engine *e)
{
    char b = 1;
    /* EAGAIN: a byte is already waiting, which says the same. */
    ssize_t w = write(e->pipe_wr, &b, 1);
    (void)w;
}

static void
engine_set_phase(struct engine *e, enum engine_phase ph, const char *msg)
{
    pthread_mutex_lock(&e->lock);
    e->snap.phase = ph;
    e->snap.elapsed = wn_monotonic() - e->t0;
    if (msg != NULL)
        snprintf(e->snap.message, sizeof e->snap.message, "%s", msg);
    if (ph == ENGINE_DONE || ph == ENGINE_INTERRUPTED || ph == ENGINE_FAILED)
        e->finished = 1;
    pthread_mutex_unlock(&e->lock);
    e->last_notify = wn_monotonic();
    engine_notify(e);
}

/* Refresh the run's heartbeat when one is due (job thread). A missed
 * heartbeat is not worth failing a run for: another process holding the
 * write lock for a moment is normal. */
static void
engine_heartbeat(struct engine *e)
{
    double now = wn_monotonic();
    if (now - e->last_heartbeat < ENGINE_HEARTBEAT_SECONDS)
        return;
    e->last_heartbeat = now;
    char *cause = NULL;
    if (store_run_mark(e->store, e->run_id, STORE_RUN_RUNNING, NULL, &cause) !=
        0)
        free(cause);
}

/* Called by the trainer at epoch boundaries, on the job thread. A
 * checkpoint that cannot be written now (another process holds the write
 * lock) is simply skipped: the next boundary tries again. */
static void
engine_keep_checkpoint(void *ctx, const void *blob, size_t len)
{
    struct engine *e = ctx;
    double now = wn_monotonic();
    if (now - e->last_checkpoint < e->params.checkpoint_seconds)
        return;
    char *cause = NULL;
    if (store_run_save_checkpoint(e->store, e->run_id, blob, len, &cause) == 0)
        e->last_checkpoint = now;
    free(cause);
}

/* Called by the trainer after every batch, on the job thread. */
static int
engine_observe(void *ctx, const struct train_status *st)
{
    struct engine *e = ctx;
    double now = wn_monotonic();
    pthread_mutex_lock(&e->lock);
    struct engine_progress *p = &e->snap;
    p->phase = ENGINE_TRAINING;
    p->fold = st->fold;
    p->folds = st->folds;
    p->epoch = st->epoch;
    p->epochs = st->epochs;
    p->batch = st->batch;
    p->batches = st->batches;
    p->images_done = st->images_done;
    p->images_total = st->images_total;
    p->loss = st->loss;
    p->accuracy = st->accuracy;
    p->images_per_sec = st->images_per_sec;
    p->gflops = st->gflops;
    p->elapsed = now - e->t0;
    p->eta =
        st->images_per_sec > 0
            ? (double)(st->images_total - st->images_done) / st->images_per_sec
            : -1.0;
    /* Pause here, between batches, until resumed or stopped. The wait
     * wakes for the heartbeat: a paused run is alive, and another winnow
     * must not take it for one whose process died and race it. */
    while (e->paused && !e->stop) {
        p->paused = 1;
        pthread_mutex_unlock(&e->lock);
        engine_notify(e);
        engine_heartbeat(e);
        pthread_mutex_lock(&e->lock);
        if (e->paused && !e->stop) {
            struct timespec until;
            clock_gettime(CLOCK_MONOTONIC, &until);
            until.tv_sec += (time_t)ENGINE_HEARTBEAT_SECONDS;
            pthread_cond_timedwait(&e->cond, &e->lock, &until);
        }
    }
    p->paused = 0;
    int stop = e->stop;
    pthread_mutex_unlock(&e->lock);

    if (now - e->last_notify >= ENGINE_NOTIFY_SECONDS ||
        st->batch == st->batches) {
        e->last_notify = now;
        engine_notify(e);
    }
    engine_heartbeat(e);
    return stop;
}

/* The parameters a run records, so `winnow info` and a resume know them. */
static char *
engine_params_text(const struct train_config *c, const struct dataset *d)
{
    return xasprintf("epochs=%d folds=%d batch=%d lr=%g momentum=%g "
                     "weight_decay=%g warmup=%d elr=%d elr_lambda=%g "
                     "elr_beta=%g flip=%d crop_pad=%d width=%d threads=%d "
                     "input=%dx%dx%d",
                     c->epochs, c->folds, c->batch_size, (double)c->lr,
                     (double)c->momentum, (double)c->weight_decay,
                     c->warmup_epochs, c->elr, (double)c->elr_lambda,
                     (double)c->elr_beta, c->flip, c->crop_pad, c->width,
                     c->threads, d->c, d->side, d->side);
}

static int
engine_threads(int requested)
{
    if (requested > 0)
        return requested;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1                         ? 1
           : n > ENGINE_MAX_AUTO_THREADS ? ENGINE_MAX_AUTO_THREADS
                                         : (int)n;
}

static void
engine_config(struct engine *e, const struct dataset *d,
              struct train_config *cfg)
{
    const struct engine_params *p = &e->params;
    train_config_default(cfg, d->n, d->side, d->c);
    if (p->epochs > 0)
        cfg->epochs = p->epochs;
    if (p->folds > 0)
        cfg->folds = p->folds;
    cfg->elr = p->elr;
    cfg->flip = p->flip && d->c == 3;
    cfg->seed = p->seed;
    cfg->threads = engine_threads(p->threads);
}

/* The run's near-duplicate pairs by features, as sample ids. */
static int
engine_feature_pairs(const struct dataset *d, const struct train_output *out,
                     struct store_pair **pairs_out, size_t *n_out, char **cause)
{
    struct featpairs_pair *fp;
    size_t n;
    int truncated;
    if (featpairs_find_grouped(out->features, d->n, out->feature_dim,
                               out->group, FEATPAIRS_DEFAULT_MIN, &fp, &n,
                               &truncated, cause) != 0)
        return -1;
    n = featpairs_rare(fp, n, d->n, FEATPAIRS_MAX_PARTNERS);
    struct store_pair *p = xcalloc(n + 1, sizeof *p);
    for (size_t i = 0; i < n; i++) {
        p[i].a = d->sample_id[fp[i].a];
        p[i].b = d->sample_id[fp[i].b];
        p[i].similarity = (double)fp[i].similarity;
    }
    free(fp);
    *pairs_out = p;
    *n_out = n;
    return 0;
}

/* Turn the trainer's evidence into scores and publish them. */
static int
engine_publish(struct engine *e, const struct dataset *d,
               const struct train_output *out, double seconds, char **cause)
{
    engine_set_phase(e, ENGINE_SCORING, NULL);
    float *votes = NULL;
    if (out->features != NULL) {
        struct knn_config kc;
        knn_config_default(&kc);
        kc.seed = e->params.seed;
        kc.threads = engine_threads(e->params.threads);
        struct knn_input ki = {
            .n = d->n,
            .dim = out->feature_dim,
            .classes = d->k,
            .features = out->features,
            .label = d->label,
            .group = out->group,
        };
        votes = xcalloc((size_t)d->n * (size_t)d->k, sizeof *votes);
        engine_heartbeat(e);
        if (knn_votes(&ki, &kc, votes, cause) != 0) {
            free(votes);
            return -1;
        }
    }
    struct scores_input in = {
        .n = d->n,
        .k = d->k,
        .label = d->label,
        .trusted = d->trusted,
        .probs = out->probs,
        .elr_target = out->elr_target,
        .aum = out->aum,
        .aum_epochs = NULL,
        .knn_votes = votes,
    };
    struct scores_result res;
    engine_heartbeat(e);
    int scored = scores_compute(&in, NULL, &res, cause);
    free(votes);
    if (scored != 0)
        return -1;
    struct outlier_input oi = {
        .n = d->n,
        .dim = out->features != NULL ? out->feature_dim : 0,
        .classes = d->k,
        .features = out->features,
        .label = d->label,
        .pixels = d->pixels,
        .channels = d->c,
        .side = d->side,
    };
    double *outlier = xmalloc(((size_t)d->n + 1) * sizeof *outlier);
    engine_heartbeat(e);
    if (outlier_scores(&oi, outlier, cause) != 0) {
        free(outlier);
        scores_result_fini(&res);
        return -1;
    }
    struct publish_input pin = {
        .n = d->n,
        .k = d->k,
        .sample_id = d->sample_id,
        .label = d->label,
        .probs = out->probs,
        .features = out->features,
        .dim = out->feature_dim,
    };
    struct store_score *rows = publish_rows(&pin, &res);
    for (int64_t i = 0; i < d->n; i++)
        rows[i].outlier = outlier[i];
    free(outlier);
    /* Near-duplicates the hash cannot see, by the run's features. */
    struct store_pair *pairs = NULL;
    size_t n_pairs = 0;
    engine_heartbeat(e);
    if (out->features != NULL &&
        engine_feature_pairs(d, out, &pairs, &n_pairs, cause) != 0) {
        free(rows);
        scores_result_fini(&res);
        return -1;
    }
    engine_set_phase(e, ENGINE_PUBLISHING, NULL);
    /* The whole matrices go in the same transaction as the scores, so a
     * done run always has them (export --probs, --features). */
    pin.pairs = pairs;
    pin.n_pairs = n_pairs;
    int rc = publish_run(e->store, e->run_id, &pin, rows, &res, seconds, cause);
    if (rc == 0) {
        pthread_mutex_lock(&e->lock);
        e->snap.noise_rate = res.noise_rate;
        pthread_mutex_unlock(&e->lock);
    }
    free(pairs);
    free(rows);
    scores_result_fini(&res);
    return rc;
}

static int
engine_job(struct engine *e, char **cause)
{
    struct dataset d = {0};
    struct train_output out = {0};
    void *resume = NULL, *ckpt = NULL;
    size_t resume_len = 0, ckpt_len = 0;
    char *params = NULL;
    int rc = -1;

    if (store_open(e->db_path, 0, &e->store, cause) != 0)
        return -1;
    engine_set_phase(e, ENGINE_LOADING, NULL);
    if (dataset_load(e->store, e->params.side, &d, cause) != 0)
        goto done;
    pthread_mutex_lock(&e->lock);
    e->snap.n_samples = d.n;
    e->snap.n_classes = d.k;
    pthread_mutex_unlock(&e->lock);

    struct train_config cfg;
    engine_config(e, &d, &cfg);
    params = engine_params_text(&cfg, &d);
    struct store_run_request req = {
        .seed = cfg.seed,
        .params = params,
        .version = PACKAGE_VERSION,
        .resume = e->params.resume,
        .stale_ms = PUBLISH_STALE_MS,
    };
    if (store_run_claim(e->store, &req, &e->run_id, &resume, &resume_len,
                        cause) != 0)
        goto done;
    pthread_mutex_lock(&e->lock);
    e->snap.run_id = e->run_id;
    e->snap.epochs = cfg.epochs;
    e->snap.folds = cfg.folds > 1 ? cfg.folds : 1;
    pthread_mutex_unlock(&e->lock);

    engine_set_phase(e, ENGINE_TRAINING, NULL);
    e->last_heartbeat = wn_monotonic();
    e->last_checkpoint = wn_monotonic();
    struct train_job job = {.data = &d,
                            .cfg = &cfg,
                            .ctx = e,
                            .observer = engine_observe,
                            .checkpoint = engine_keep_checkpoint,
                            .resume = resume,
                            .resume_len = resume_len};
    int tr = train_run(&job, &out, &ckpt, &ckpt_len, cause);
    if (tr < 0)
        goto fail_run;
    if (tr == 1) {
        if (store_run_interrupt(e->store, e->run_id, ckpt, ckpt_len, cause) !=
            0)
            goto done;
        engine_set_phase(e, ENGINE_INTERRUPTED, NULL);
        rc = 0;
        goto done;
    }
    if (engine_publish(e, &d, &out, wn_monotonic() - e->t0, cause) != 0)
        goto fail_run;
    engine_set_phase(e, ENGINE_DONE, NULL);
    rc = 0;
    goto done;

fail_run:
    if (e->run_id != 0) {
        char *c2 = NULL;
        if (store_run_mark(e->store, e->run_id, STORE_RUN_FAILED,
                           cause && *cause ? *cause : NULL, &c2) != 0)
            free(c2);
    }
done:
    free(params);
    free(resume);
    free(ckpt);
    train_output_fini(&out);
    dataset_fini(&d);
    store_close(e->store);
    e->store = NULL;
    return rc;
}

static void *
engine_main(void *arg)
{
    struct engine *e = arg;
    char *cause = NULL;
    if (engine_job(e, &cause) != 0)
        engine_set_phase(e, ENGINE_FAILED, cause ? cause : "failed");
    free(cause);
    return NULL;
}

int
engine_start(const char *db_path, const struct engine_params *p,
             struct engine **out, char **cause)
{
    struct engine *e = xcalloc(1, sizeof *e);
    e->db_path = xstrdup(db_path);
    e->params = *p;
    e->pipe_rd = e->pipe_wr = -1;
    e->snap.phase = ENGINE_STARTING;
    e->snap.noise_rate = -1.0;
    e->snap.eta = -1.0;
    e->t0 = wn_monotonic();
    pthread_mutex_init(&e->lock, NULL);
    /* The paused job's timed wait must not stretch when the clock is set. */
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&e->cond, &ca);
    pthread_condattr_destroy(&ca);

    int fds[2];
    if (pipe(fds) != 0) {
        wn_fail(cause, "cannot create a pipe: %s", strerror(errno));
        engine_free(e);
        return -1;
    }
    e->pipe_rd = fds[0];
    e->pipe_wr = fds[1];
    for (int i = 0; i < 2; i++) {
        fcntl(fds[i], F_SETFL, fcntl(fds[i], F_GETFL) | O_NONBLOCK);
        fcntl(fds[i], F_SETFD, FD_CLOEXEC);
    }

    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int rc = pthread_create(&e->thread, NULL, engine_main, e);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        wn_fail(cause, "cannot start the engine thread: %s", strerror(rc));
        engine_free(e);
        return -1;
    }
    e->started = 1;
    *out = e;
    return 0;
}

void
engine_progress(struct engine *e, struct engine_progress *snap)
{
    pthread_mutex_lock(&e->lock);
    *snap = e->snap;
    if (!e->finished)
        snap->elapsed = wn_monotonic() - e->t0;
    pthread_mutex_unlock(&e->lock);
}

int
engine_fd(const struct engine *e)
{
    return e->pipe_rd;
}

void
engine_ack(struct engine *e)
{
    char buf[64];
    while (read(e->pipe_rd, buf, sizeof buf) > 0)
        ;
}

void
engine_pause(struct engine *e, int paused)
{
    pthread_mutex_lock(&e->lock);
    e->paused = paused != 0;
    if (!e->paused)
        e->snap.paused = 0;
    pthread_cond_broadcast(&e->cond);
    pthread_mutex_unlock(&e->lock);
    engine_notify(e);
}

void
engine_request_stop(struct engine *e)
{
    pthread_mutex_lock(&e->lock);
    e->stop = 1;
    pthread_cond_broadcast(&e->cond);
    pthread_mutex_unlock(&e->lock);
}

int
engine_finished(struct engine *e)
{
    pthread_mutex_lock(&e->lock);
    int f = e->finished;
    pthread_mutex_unlock(&e->lock);
    return f;
}

void
engine_free(struct engine *e)
{
    if (e == NULL)
        return;
    if (e->started) {
        /* A job still running is stopped (and checkpointed), not lost. */
        engine_request_stop(e);
        pthread_join(e->thread, NULL);
    }
    if (e->pipe_rd >= 0)
        close(e->pipe_rd);
    if (e->pipe_wr >= 0)
        close(e->pipe_wr);
    pthread_cond_destroy(&e->cond);
    pthread_mutex_destroy(&e->lock);
    free(e->db_path);
    free(e);
}
