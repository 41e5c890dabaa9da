/* t-par: the thread team (engine/par.c).
 *
 * For teams of 1 to MAX_THREADS: every item of a round is done exactly
 * once, by the member par_split gives it to, member 0 being the caller;
 * the members really run side by side; the results are the same bits for
 * any team size; a team takes hundreds of rounds of varying sizes,
 * including rounds with fewer items than members; workers block every
 * signal; and freeing a team joins every worker (the process's thread
 * count is back where it was). Also run under ThreadSanitizer (make
 * check-tsan). */
#include "config.h"

#include <dirent.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/par.h"
#include "tests/tap.h"

enum { MAX_THREADS = 8, MAX_ITEMS = 1000 };

struct round {
    int n, threads;
    int runs[MAX_ITEMS];    /* times each item was done */
    int member[MAX_ITEMS];  /* who did it */
    double out[MAX_ITEMS];  /* what it computed */
    int calls[MAX_THREADS]; /* calls of each member */
    int wrong_threads;      /* a call saw another team size */
    int caller_is_zero;     /* member 0 ran on the thread of par_run */
    int signals_blocked[MAX_THREADS];
    pthread_t caller;
    /* Rendezvous: every member waits (a bounded time) for all to arrive,
     * which only happens if they run at the same time. */
    int rendezvous;
    atomic_int arrived;
    int met[MAX_THREADS];
};

/* Some floating-point work whose bits depend on the item alone. */
static double
item_value(int i)
{
    double s = 0.0;
    for (int j = 1; j <= 50; j++)
        s += sin((double)i * 0.37 + (double)j) / (double)j;
    return s;
}

static void
round_fn(void *ctx, int t, int threads)
{
    struct round *r = ctx;
    int lo, hi;
    /* Each member writes only its own slots and items: nothing shared. */
    r->calls[t]++;
    if (threads != r->threads)
        r->wrong_threads = 1;
    if (t == 0)
        r->caller_is_zero = pthread_equal(pthread_self(), r->caller);
    sigset_t mask;
    pthread_sigmask(SIG_BLOCK, NULL, &mask);
    r->signals_blocked[t] =
        sigismember(&mask, SIGINT) == 1 && sigismember(&mask, SIGTERM) == 1;
    if (r->rendezvous) {
        atomic_fetch_add(&r->arrived, 1);
        struct timespec start, now;
        clock_gettime(CLOCK_MONOTONIC, &start);
        do {
            if (atomic_load(&r->arrived) == threads) {
                r->met[t] = 1;
                break;
            }
            sched_yield();
            clock_gettime(CLOCK_MONOTONIC, &now);
        } while (now.tv_sec - start.tv_sec < 10);
    }
    par_split(r->n, t, threads, &lo, &hi);
    for (int i = lo; i < hi; i++) {
        r->runs[i]++;
        r->member[i] = t;
        r->out[i] = item_value(i);
    }
}

static void
round_start(struct round *r, int n, int threads)
{
    memset(r, 0, sizeof *r);
    atomic_init(&r->arrived, 0);
    r->n = n;
    r->threads = threads;
    r->caller = pthread_self();
}

/* Whether the round went as it should: 1 call per member, every item once,
 * by the member par_split names, member 0 on the caller. */
static int
round_ok(const struct round *r)
{
    int good = !r->wrong_threads && r->caller_is_zero;
    for (int t = 0; t < MAX_THREADS; t++)
        good &= r->calls[t] == (t < r->threads);
    for (int t = 0; t < r->threads; t++) {
        int lo, hi;
        par_split(r->n, t, r->threads, &lo, &hi);
        for (int i = lo; i < hi; i++)
            good &= r->runs[i] == 1 && r->member[i] == t;
    }
    for (int i = 0; i < r->n; i++)
        good &= r->runs[i] == 1;
    return good;
}

/* The threads of this process, from /proc (-1 where there is none). */
static int
count_threads(void)
{
    DIR *d = opendir("/proc/self/task");
    if (d == NULL)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

static struct par *
team(int threads)
{
    struct par *p;
    char *cause = NULL;
    if (par_new(threads, &p, &cause) != 0)
        bail("par_new(%d): %s", threads, cause);
    return p;
}

static void
test_teams(void)
{
    static struct round r;
    static double first[MAX_ITEMS];
    /* A runtime may start a helper thread of its own with the first
     * thread (ThreadSanitizer does): count from after one team. */
    par_free(team(2));
    int base = count_threads();
    for (int threads = 1; threads <= MAX_THREADS; threads++) {
        struct par *p = team(threads);
        ok(par_threads(p) == threads, "team of %d: par_threads", threads);
        if (base > 0)
            ok(count_threads() == base + threads - 1,
               "team of %d: %d new threads", threads, threads - 1);

        round_start(&r, MAX_ITEMS, threads);
        r.rendezvous = 1;
        par_run(p, round_fn, &r);
        int met = 1;
        for (int t = 0; t < threads; t++)
            met &= r.met[t];
        ok(round_ok(&r) && met,
           "team of %d: each of %d items done once by its member, the "
           "members side by side",
           threads, MAX_ITEMS);
        int blocked = 1;
        for (int t = 1; t < threads; t++)
            blocked &= r.signals_blocked[t];
        ok(blocked, "team of %d: workers block SIGINT and SIGTERM", threads);

        if (threads == 1)
            memcpy(first, r.out, sizeof first);
        ok(memcmp(r.out, first, sizeof first) == 0,
           "team of %d: the results are the one-thread results, bit for bit",
           threads);

        /* Many rounds of every size, n below the team size included. */
        int rounds_ok = 1;
        for (int k = 0; k < 400; k++) {
            int n = (k * 37) % (MAX_ITEMS + 1);
            if (k % 4 == 0)
                n = k % (threads + 1);
            round_start(&r, n, threads);
            par_run(p, round_fn, &r);
            rounds_ok &= round_ok(&r);
            rounds_ok &= memcmp(r.out, first, (size_t)n * sizeof *first) == 0;
        }
        ok(rounds_ok, "team of %d: 400 rounds of 0 to %d items, all right",
           threads, MAX_ITEMS);
        par_free(p);
        if (base > 0)
            ok(count_threads() == base,
               "team of %d: freeing it joins every worker", threads);
    }
}

static void
test_lifecycle(void)
{
    int base = count_threads();
    /* Made and freed with no round, and freed right after one. */
    for (int k = 0; k < 50; k++) {
        struct par *p = team(1 + k % 4);
        if (k % 2) {
            static struct round r;
            round_start(&r, 10, 1 + k % 4);
            par_run(p, round_fn, &r);
        }
        par_free(p);
    }
    if (base > 0)
        ok(count_threads() == base, "50 teams made and freed leave no thread");
    par_free(NULL);
    ok(1, "par_free(NULL) is a no-op");
    struct par *p = team(0);
    ok(par_threads(p) == 1, "a team of 0 is a team of 1");
    par_free(p);
}

static void
test_split(void)
{
    int fine = 1;
    for (int threads = 1; threads <= 9; threads++)
        for (int n = 0; n <= 40; n++) {
            int next = 0;
            for (int t = 0; t < threads; t++) {
                int lo, hi;
                par_split(n, t, threads, &lo, &hi);
                fine &= lo == next && hi >= lo && hi - lo >= n / threads &&
                        hi - lo <= n / threads + 1;
                next = hi;
            }
            fine &= next == n;
        }
    ok(fine, "par_split: contiguous shares, even to one item, covering 0..n");
    int lo, hi;
    par_split(2000000000, 7, 8, &lo, &hi);
    ok(lo == 1750000000 && hi == 2000000000,
       "par_split does not overflow on large n");
}

int
main(void)
{
    test_split();
    test_teams();
    test_lifecycle();
    return done_testing();
}
