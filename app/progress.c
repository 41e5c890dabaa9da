#include "config.h"

#include "app/progress.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct progress {
    char *what;
    int quiet, tty;
    int bar_shown;
    double start, last_draw;
    size_t last_done;
};

struct progress *
progress_new(const char *what, int quiet)
{
    struct progress *p = xcalloc(1, sizeof *p);
    p->what = xstrdup(what);
    p->quiet = quiet;
    const char *term = getenv("TERM");
    p->tty = isatty(STDERR_FILENO) && term != NULL && strcmp(term, "dumb");
    p->start = wn_monotonic();
    /* A log's first line comes after a full interval: short jobs print
     * only their summary. */
    p->last_draw = p->tty ? -1.0 : p->start;
    return p;
}

int
progress_is_tty(const struct progress *p)
{
    return p->tty;
}

static void
progress_clear(struct progress *p)
{
    if (p->bar_shown) {
        fputs("\r\033[K", stderr);
        p->bar_shown = 0;
    }
}

static void
format_eta(char *buf, size_t len, double seconds)
{
    if (seconds < 0 || seconds > 360000)
        snprintf(buf, len, "--:--");
    else if (seconds >= 3600)
        snprintf(buf, len, "%d:%02d:%02d", (int)seconds / 3600,
                 (int)seconds / 60 % 60, (int)seconds % 60);
    else
        snprintf(buf, len, "%d:%02d", (int)seconds / 60, (int)seconds % 60);
}

void
progress_update(struct progress *p, size_t done, size_t total, const char *unit,
                const char *extra)
{
    if (p->quiet)
        return;
    double now = wn_monotonic();
    int finished = total > 0 && done >= total;
    /* A terminal gets ten frames a second; a log gets a line every ten
     * seconds, so a long job still shows it is alive. */
    double every = p->tty ? 0.1 : 10.0;
    if (!finished && p->last_draw >= 0 && now - p->last_draw < every)
        return;
    if (!p->tty && finished)
        return; /* the caller's summary says it */
    p->last_draw = now;
    double elapsed = now - p->start;
    double rate = elapsed > 0 ? (double)done / elapsed : 0.0;
    char eta[32] = "";
    if (total > 0 && rate > 0)
        format_eta(eta, sizeof eta, (double)(total - done) / rate);
    if (p->tty) {
        char bar[31];
        int width = 30, fill = 0;
        if (total > 0)
            fill = (int)((double)width * (double)done / (double)total);
        for (int i = 0; i < width; i++)
            bar[i] = i < fill ? '#' : '.';
        bar[width] = '\0';
        fprintf(stderr, "\r\033[K%s [%s] %3d%% %zu/%zu %.0f %s/s ETA %s%s%s",
                p->what, bar,
                total ? (int)(100.0 * (double)done / (double)total) : 0, done,
                total, rate, unit, eta[0] ? eta : "--:--", extra ? "  " : "",
                extra ? extra : "");
        p->bar_shown = 1;
    } else {
        fprintf(stderr, "%s: %zu/%zu %s, %.0f %s/s%s%s%s%s\n", p->what, done,
                total, unit, rate, unit, eta[0] ? ", ETA " : "", eta,
                extra ? ", " : "", extra ? extra : "");
    }
    fflush(stderr);
    p->last_done = done;
}

void
progress_message(struct progress *p, const char *fmt, ...)
{
    progress_clear(p);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    /* Redraw the bar at the next update, not after the throttle. */
    p->last_draw = -1.0;
}

void
progress_free(struct progress *p)
{
    if (p == NULL)
        return;
    progress_clear(p);
    fflush(stderr);
    free(p->what);
    free(p);
}
