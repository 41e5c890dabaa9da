/* engine/par.c: the team behind par.h. One mutex guards a generation
 * counter: par_run publishes the function, bumps the generation and
 * broadcasts; each worker runs its share once per generation and the last
 * one to finish signals the caller. Phases are milliseconds long and few
 * per batch, so a condition variable's wake-up (microseconds) costs
 * nothing worth a spin loop, and sleeping workers leave the cores to BLAS
 * or to other programs. */
#include "config.h"

#include "engine/par.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

struct par_worker {
    struct par *team;
    int index;
    pthread_t thread;
};

struct par {
    int threads, started;
    struct par_worker *workers;
    pthread_mutex_t lock;
    pthread_cond_t go, done;
    unsigned long generation;
    int pending, stop;
    par_fn fn;
    void *ctx;
};

static void *
par_main(void *arg)
{
    struct par_worker *w = arg;
    struct par *p = w->team;
    unsigned long seen = 0;

    pthread_mutex_lock(&p->lock);
    for (;;) {
        while (p->generation == seen && !p->stop)
            pthread_cond_wait(&p->go, &p->lock);
        if (p->stop)
            break;
        seen = p->generation;
        par_fn fn = p->fn;
        void *ctx = p->ctx;
        pthread_mutex_unlock(&p->lock);

        fn(ctx, w->index, p->threads);

        pthread_mutex_lock(&p->lock);
        if (--p->pending == 0)
            pthread_cond_signal(&p->done);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

int
par_new(int threads, struct par **out, char **cause)
{
    struct par *p;
    sigset_t all, old;
    int rc = 0;

    *out = NULL;
    if (threads < 1)
        threads = 1;
    p = xcalloc(1, sizeof(*p));
    p->threads = threads;
    p->workers = xcalloc((size_t)threads, sizeof(*p->workers));
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->go, NULL);
    pthread_cond_init(&p->done, NULL);

    /* Workers take no signals: they belong to whoever created the team. */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    for (int i = 1; i < threads; i++) {
        p->workers[i].team = p;
        p->workers[i].index = i;
        rc = pthread_create(&p->workers[i].thread, NULL, par_main,
                            &p->workers[i]);
        if (rc != 0)
            break;
        p->started++;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        wn_fail(cause, "cannot start a worker thread: %s", strerror(rc));
        par_free(p);
        return -1;
    }
    *out = p;
    return 0;
}

void
par_free(struct par *p)
{
    if (p == NULL)
        return;
    pthread_mutex_lock(&p->lock);
    p->stop = 1;
    pthread_cond_broadcast(&p->go);
    pthread_mutex_unlock(&p->lock);
    for (int i = 1; i <= p->started; i++)
        pthread_join(p->workers[i].thread, NULL);
    pthread_cond_destroy(&p->go);
    pthread_cond_destroy(&p->done);
    pthread_mutex_destroy(&p->lock);
    free(p->workers);
    free(p);
}

int
par_threads(const struct par *p)
{
    return p->threads;
}

void
par_run(struct par *p, par_fn fn, void *ctx)
{
    if (p->threads == 1) {
        fn(ctx, 0, 1);
        return;
    }
    pthread_mutex_lock(&p->lock);
    p->fn = fn;
    p->ctx = ctx;
    p->pending = p->threads - 1;
    p->generation++;
    pthread_cond_broadcast(&p->go);
    pthread_mutex_unlock(&p->lock);

    fn(ctx, 0, p->threads);

    pthread_mutex_lock(&p->lock);
    while (p->pending > 0)
        pthread_cond_wait(&p->done, &p->lock);
    pthread_mutex_unlock(&p->lock);
}

void
par_split(int n, int t, int threads, int *lo, int *hi)
{
    *lo = (int)((long long)n * t / threads);
    *hi = (int)((long long)n * (t + 1) / threads);
}
