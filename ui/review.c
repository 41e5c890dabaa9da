/* ui/review.c: the review screen's loop and lifetime.
 *
 * One thread, one loop: poll() waits on the keyboard, a self-pipe that
 * the signal handlers write to, and the engine's progress descriptor,
 * with a short timeout; then every pending key is handled
 * (ui/review_keys.c), and the screen is drawn once (ui/review_draw.c).
 * Key handlers only change state and return flags (REVIEW_REDRAW,
 * REVIEW_QUIT); drawing reads the state and nothing else. This file holds
 * what spans the session: opening the store and the terminal, signals,
 * the engine, the loop, and the way out; the queue is filled by
 * ui/review_load.c.
 *
 * Signal handlers only set flags and write a byte to the self-pipe: curses
 * is never touched from a handler. SIGWINCH is ours too (installed after
 * newterm, replacing ncurses' handler), so a resize wakes poll() at once
 * and the loop calls resizeterm itself.
 *
 * The engine runs in its own thread with its own connection; the UI reads
 * its snapshot when the pipe says so, and reloads the queue when a run is
 * published, by the engine or by another winnow process (the latest
 * finished run is checked every few seconds). */
#include "config.h"

#include "ui/review.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <curses.h>

#include "data/store.h"
#include "engine/engine.h"
#include "ui/cells.h"
#include "ui/picker.h"
#include "ui/queue.h"
#include "ui/review_internal.h"
#include "ui/undo.h"

/* Colour pairs below this are the UI's; the image renderer takes the
 * rest. */
#define REVIEW_FIRST_IMAGE_PAIR    16
/* Rendered images kept: the current sample at one size, thumbnails at
 * another, and a few hundred of both for going back and forth. */
#define REVIEW_CACHE_ENTRIES       512
/* How long a message stays on the bottom line. */
#define REVIEW_MESSAGE_SECONDS     6.0
/* How often to look for a run published by another process. */
#define REVIEW_RUN_CHECK_SECONDS   3.0
/* The loop's poll() timeout while the engine runs: a timeout redraws the
 * status line, so its elapsed time and ETA move on twice a second even
 * when no progress arrives (a long batch), without waking more often. */
#define REVIEW_POLL_ENGINE_MS      500
/* The timeout with no engine: only the message expiry (seconds) and the
 * check for another process's run (seconds) wait on the clock, so once a
 * second is on time for both and keeps an idle screen idle. */
#define REVIEW_POLL_IDLE_MS        1000
/* On the way out, how long each wait for the engine's pipe lasts before
 * engine_finished is asked again: short against a stop that takes a
 * fraction of a second, so q quits without a lag a person would notice. */
#define REVIEW_QUIT_POLL_MS        50
/* A stop that takes longer than this gets a line saying what we wait
 * for; most stops end sooner, and a message that flashes up and vanishes
 * would only puzzle. */
#define REVIEW_QUIT_NOTICE_SECONDS 0.15
/* How long ncurses waits after Esc for the rest of a key's escape
 * sequence. Its default, a second, makes Esc (cancel) feel broken; a
 * terminal sends a sequence in one write, so a few tens of milliseconds
 * still tell an arrow key from Esc followed by a letter. */
#define REVIEW_ESC_DELAY_MS        25

/* ---- signals ---- */

/* Set while curses owns the terminal: an exit from deep below (an
 * allocation that fails dies with a message) restores it first. */
static int review_screen_up;

static void
review_at_exit(void)
{
    if (review_screen_up && !isendwin())
        endwin();
}

static volatile sig_atomic_t review_sig_quit;
static volatile sig_atomic_t review_sig_winch;
static int review_sig_fd = -1;

static void
review_on_signal(int sig)
{
    int saved = errno;
    if (sig == SIGWINCH)
        review_sig_winch = 1;
    else if (review_sig_quit < 100)
        review_sig_quit++;
    if (review_sig_fd >= 0) {
        char b = (char)sig;
        ssize_t w = write(review_sig_fd, &b, 1);
        (void)w; /* a full pipe already says "look" */
    }
    errno = saved;
}

/* ---- messages and the log ---- */

WN_PRINTF(2, 3)
void
review_log(struct review *rv, const char *fmt, ...)
{
    if (rv->debug == NULL)
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(rv->debug, "%.3f ", wn_monotonic());
    vfprintf(rv->debug, fmt, ap);
    fputc('\n', rv->debug);
    fflush(rv->debug);
    va_end(ap);
}

WN_PRINTF(3, 4)
void
review_say(struct review *rv, int error, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rv->msg, sizeof rv->msg, fmt, ap);
    va_end(ap);
    rv->msg_error = error;
    rv->msg_until = wn_monotonic() + REVIEW_MESSAGE_SECONDS;
    review_log(rv, "say: %s", rv->msg);
}

const char *
review_class(const struct review *rv, int id)
{
    if (id >= 0 && id < rv->n_classes)
        return rv->classes[id];
    return "?";
}

/* ---- the engine ---- */

/* Note whether the newest run was interrupted: what t would resume. */
static void
review_check_interrupted(struct review *rv)
{
    int64_t latest = 0;
    char *cause = NULL;
    rv->interrupted = 0;
    if (store_run_latest(rv->store, NULL, &latest, &cause) == 0 &&
        latest != 0) {
        struct store_run r;
        if (store_run_get(rv->store, latest, &r, &cause) == 0) {
            if (r.state == STORE_RUN_INTERRUPTED)
                rv->interrupted = latest;
            store_run_fini(&r);
        }
    }
    free(cause);
}

static void
review_engine_start(struct review *rv, int fresh)
{
    char *cause = NULL;
    review_check_interrupted(rv);
    int resume = !fresh && rv->interrupted != 0;

    struct engine_params p;
    engine_params_default(&p);
    p.threads = rv->opt->threads;
    p.epochs = rv->opt->epochs;
    p.resume = resume;
    if (engine_start(rv->db_path, &p, &rv->eng, &cause) != 0) {
        review_say(rv, 1, "cannot start scoring: %s", cause);
        free(cause);
        rv->eng = NULL;
        return;
    }
    rv->eng_resuming = resume;
    rv->eng_stopping = 0;
    engine_progress(rv->eng, &rv->snap);
    review_say(rv, 0,
               resume ? "scoring resumes from its checkpoint"
                      : "scoring started");
}

/* The engine's pipe said something: take the snapshot, and finish up
 * when the job has ended. */
static int
review_engine_update(struct review *rv)
{
    if (rv->eng == NULL)
        return 0;
    engine_ack(rv->eng);
    engine_progress(rv->eng, &rv->snap);
    if (!engine_finished(rv->eng))
        return REVIEW_REDRAW;
    struct engine_progress p = rv->snap;
    int resumed = rv->eng_resuming;
    engine_free(rv->eng);
    rv->eng = NULL;
    review_log(rv, "engine ended: %s %s", engine_phase_name(p.phase),
               p.message);
    review_check_interrupted(rv);
    char *cause = NULL;
    switch (p.phase) {
    case ENGINE_DONE:
        if (review_load(rv, &cause) != 0) {
            review_say(rv, 1, "cannot read the new scores: %s", cause);
            free(cause);
        } else {
            review_reranked(rv, p.run_id);
        }
        break;
    case ENGINE_INTERRUPTED:
        review_say(rv, 0,
                   "scoring stopped; its checkpoint is saved (t "
                   "resumes)");
        break;
    default:
        /* A checkpoint that no longer fits (other settings): start over. */
        if (resumed) {
            review_log(rv, "resume failed (%s); starting afresh", p.message);
            review_engine_start(rv, 1);
        } else {
            review_say(rv, 1, "scoring failed: %s",
                       p.message[0] ? p.message : "unknown error");
        }
        break;
    }
    return REVIEW_REDRAW;
}

void
review_engine_toggle(struct review *rv)
{
    if (rv->eng == NULL) {
        review_engine_start(rv, 0);
        return;
    }
    if (rv->eng_stopping)
        return;
    struct engine_progress p;
    engine_progress(rv->eng, &p);
    int paused = !p.paused;
    engine_pause(rv->eng, paused);
    review_say(rv, 0,
               paused ? "scoring paused (t resumes)" : "scoring resumed");
}

void
review_engine_stop(struct review *rv)
{
    if (rv->eng == NULL) {
        review_say(rv, 0, "the engine is not running (t starts it)");
        return;
    }
    engine_request_stop(rv->eng);
    rv->eng_stopping = 1;
    review_say(rv, 0, "stopping at the next batch, with a checkpoint");
}

/* ---- set-up, loop, tear-down ---- */

static void
review_resize(void)
{
    struct winsize ws;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 &&
        ws.ws_col > 0)
        resizeterm(ws.ws_row, ws.ws_col);
}

/* Stop a running engine on the way out: it saves a checkpoint at the next
 * batch. Say so if that takes more than a moment; a second signal gives
 * up waiting (the store stays consistent: SQLite rolls back whatever the
 * thread had not committed). Returns 1 when the engine was abandoned. */
static int
review_engine_quit(struct review *rv)
{
    if (rv->eng == NULL)
        return 0;
    if (engine_finished(rv->eng)) {
        engine_free(rv->eng);
        rv->eng = NULL;
        return 0;
    }
    engine_request_stop(rv->eng);
    rv->res.engine_stopped = 1;
    double t0 = wn_monotonic();
    int shown = 0;
    sig_atomic_t signals = review_sig_quit;
    while (!engine_finished(rv->eng)) {
        struct pollfd pfd = {.fd = engine_fd(rv->eng), .events = POLLIN};
        (void)poll(&pfd, 1, REVIEW_QUIT_POLL_MS);
        engine_ack(rv->eng);
        if (review_sig_quit > signals)
            return 1;
        if (!shown && wn_monotonic() - t0 > REVIEW_QUIT_NOTICE_SECONDS) {
            shown = 1;
            review_draw_stopping(rv);
        }
    }
    engine_free(rv->eng);
    rv->eng = NULL;
    return 0;
}

static int
review_loop(struct review *rv, int sig_rd)
{
    int redraw = REVIEW_REDRAW;
    double t_keys = 0.0;
    int pending = 0;
    for (;;) {
        if (review_sig_quit)
            return 0;
        if (redraw) {
            review_draw(rv);
            redraw = 0;
            if (pending > 0 && rv->timing != NULL) {
                double ms = (wn_monotonic() - t_keys) * 1000.0;
                for (int i = 0; i < pending; i++)
                    fprintf(rv->timing, "%.3f\n", ms);
                fflush(rv->timing);
            }
            pending = 0;
        }
        struct pollfd pfd[3] = {
            {.fd = STDIN_FILENO, .events = POLLIN},
            {.fd = sig_rd, .events = POLLIN},
            {.fd = rv->eng != NULL ? engine_fd(rv->eng) : -1, .events = POLLIN},
        };
        int timeout =
            rv->eng != NULL ? REVIEW_POLL_ENGINE_MS : REVIEW_POLL_IDLE_MS;
        int n = poll(pfd, 3, timeout);
        double now = wn_monotonic();
        if (n < 0 && errno != EINTR)
            return -1;
        if (pfd[1].revents & POLLIN) {
            char buf[64];
            while (read(sig_rd, buf, sizeof buf) > 0)
                ;
        }
        if (review_sig_quit)
            return 0;
        if (review_sig_winch) {
            review_sig_winch = 0;
            review_resize();
            redraw |= REVIEW_REDRAW;
        }
        if (rv->eng != NULL && (pfd[2].revents & POLLIN))
            redraw |= review_engine_update(rv);
        else if (rv->eng != NULL && n == 0)
            redraw |= REVIEW_REDRAW; /* elapsed time and ETA move on */
        int nk = 0;
        int f = review_keys(rv, &nk);
        if (nk > 0) {
            t_keys = now;
            pending += nk;
        }
        if (f & REVIEW_QUIT)
            return 0;
        redraw |= f;
        /* A run published by another process re-ranks the queue too. */
        if (rv->eng == NULL &&
            now - rv->last_run_check > REVIEW_RUN_CHECK_SECONDS) {
            int64_t latest = 0;
            char *cause = NULL;
            rv->last_run_check = now;
            if (store_run_newest(rv->store, STORE_RUN_DONE, &latest, &cause) ==
                    0 &&
                latest != rv->run_id) {
                if (review_load(rv, &cause) == 0)
                    review_reranked(rv, latest);
                redraw |= REVIEW_REDRAW;
            }
            free(cause);
        }
        if (rv->msg[0] != '\0' && now >= rv->msg_until) {
            rv->msg[0] = '\0';
            redraw |= REVIEW_REDRAW;
        }
    }
}

static void
review_fini(struct review *rv)
{
    picker_free(rv->picker);
    review_offer_clear(rv);
    review_groups_free(rv->groups);
    cells_cache_free(rv->cache);
    cells_renderer_free(rv->rend);
    queue_free(rv->q);
    undo_free(rv->u);
    store_names_free(rv->classes);
    store_close(rv->store);
    if (rv->timing != NULL)
        fclose(rv->timing);
    if (rv->debug != NULL)
        fclose(rv->debug);
}

void
review_set_threads(int n)
{
    cells_set_threads(n);
}

int
review_run(const char *db_path, const struct review_options *o,
           struct review_result *res, char **cause)
{
    struct review rv;
    memset(&rv, 0, sizeof rv);
    rv.db_path = db_path;
    rv.opt = o;
    rv.noise_rate = NAN;

    if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))
        return wn_fail(cause, "review needs a terminal");
    if (store_open(db_path, 0, &rv.store, cause) != 0)
        return -1;
    /* Every reload finds the near-duplicate groups: a project from before
     * hashes were kept gets them kept once, here, not computed each time. */
    if (store_class_names(rv.store, &rv.classes, &rv.n_classes, cause) != 0 ||
        store_phash_fill(rv.store, NULL, NULL, NULL, cause) != 0)
        goto fail;
    if (o->timing_path != NULL &&
        (rv.timing = fopen(o->timing_path, "a")) == NULL) {
        wn_fail(cause, "%s: %s", o->timing_path, strerror(errno));
        goto fail;
    }
    if (o->debug_path != NULL &&
        (rv.debug = fopen(o->debug_path, "a")) == NULL) {
        wn_fail(cause, "%s: %s", o->debug_path, strerror(errno));
        goto fail;
    }
    rv.q = queue_new();
    rv.u = undo_new();
    if (review_load(&rv, cause) != 0)
        goto fail;
    if (queue_size(rv.q) == 0) {
        wn_fail(cause, "the project has no samples (winnow import first)");
        goto fail;
    }

    int sig_pipe[2];
    if (pipe(sig_pipe) != 0) {
        wn_fail(cause, "cannot create a pipe: %s", strerror(errno));
        goto fail;
    }
    for (int i = 0; i < 2; i++) {
        fcntl(sig_pipe[i], F_SETFL, fcntl(sig_pipe[i], F_GETFL) | O_NONBLOCK);
        fcntl(sig_pipe[i], F_SETFD, FD_CLOEXEC);
    }

    SCREEN *scr = newterm(NULL, stdout, stdin);
    if (scr == NULL) {
        const char *term = getenv("TERM");
        wn_fail(cause, "cannot use the terminal (TERM=%s)",
                term != NULL ? term : "");
        close(sig_pipe[0]);
        close(sig_pipe[1]);
        goto fail;
    }
    static int at_exit_set;
    if (!at_exit_set && atexit(review_at_exit) == 0)
        at_exit_set = 1;
    review_screen_up = 1;
    review_sig_quit = 0;
    review_sig_winch = 0;
    review_sig_fd = sig_pipe[1];
    struct sigaction sa, old_int, old_term, old_hup, old_winch;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = review_on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    sigaction(SIGHUP, &sa, &old_hup);
    sigaction(SIGWINCH, &sa, &old_winch);

    review_colors(&rv);
    cbreak();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    nodelay(stdscr, TRUE);
    curs_set(0);
    set_escdelay(REVIEW_ESC_DELAY_MS);
    mousemask(BUTTON1_PRESSED | BUTTON1_CLICKED | BUTTON4_PRESSED
#ifdef BUTTON5_PRESSED
                  | BUTTON5_PRESSED
#endif
              ,
              NULL);
    mouseinterval(0);
    rv.rend = cells_renderer_new(REVIEW_FIRST_IMAGE_PAIR);
    rv.cache = cells_cache_new(rv.rend, REVIEW_CACHE_ENTRIES);
    review_log(&rv, "screen %dx%d, colours %d, pairs %d, images in %s", COLS,
               LINES, COLORS, COLOR_PAIRS,
               cells_mode_name(cells_renderer_mode(rv.rend)));

    review_check_interrupted(&rv);
    if (rv.run_id == 0 && !o->no_engine)
        review_engine_start(&rv, 0);
    int rc = review_loop(&rv, sig_pipe[0]);
    int abandoned = review_engine_quit(&rv);

    endwin();
    review_screen_up = 0;
    delscreen(scr);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    sigaction(SIGHUP, &old_hup, NULL);
    sigaction(SIGWINCH, &old_winch, NULL);
    review_sig_fd = -1;
    close(sig_pipe[0]);
    close(sig_pipe[1]);

    if (abandoned) {
        /* The engine thread still runs: leave its memory to the exit. */
        rv.eng = NULL;
    }
    struct queue_counts c;
    queue_counts(rv.q, &c);
    rv.res.kept = (int64_t)c.kept;
    rv.res.relabeled = (int64_t)c.relabeled;
    if (res != NULL)
        *res = rv.res;
    review_fini(&rv);
    if (rc != 0)
        return wn_fail(cause, "waiting for input: %s", strerror(errno));
    return 0;
fail:
    review_fini(&rv);
    return -1;
}
