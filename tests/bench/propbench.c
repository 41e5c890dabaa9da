/* propbench: how many wrong labels one person fixes per 100 keypresses in
 * the review screen, with and without carrying decisions to more samples
 * (tests/bench/propagate.sh; figures in BENCHMARKS.md).
 *
 *   propbench DB TRUTH.csv KEYS
 *
 * DB is a scored project whose labels carry injected noise, TRUTH.csv the
 * truth noisetool wrote beside it (path, true_label, ...). A simulated
 * person, who always knows the true label, works down the queue as the
 * screen ranks it (the newest run's score, highest first), one key per
 * decision (Enter when the suggestion is right, else a digit). With
 * propagation, after each decision it looks at what the screen offers
 * (ui/review_group.c, the same rules and limits): near-duplicates (p),
 * and after a relabel the most similar suspects (P); it opens a list of
 * 3 or more (near-duplicates: at most 20; the message says how many), and
 * applies it (Enter) after unchecking every sample the decision would
 * make wrong (moving with j, Space) when that fixes more labels than it
 * costs keys, else dismisses it (Esc): the key that opened it is spent
 * either way. Samples decided by propagation leave the queue, as
 * on screen. Prints the wrong labels fixed after 100, 300 and KEYS keys.
 *
 * Built with `make bench-tools`; not part of make check. The store is
 * only read: decisions live in this process. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/base.h"
#include "data/dups.h"
#include "data/store.h"

/* As ui/review_group.c. */
#define SIMILAR_MAX     20
#define SIMILAR_MIN     0.5
/* The longest near-duplicate list the person opens, and the shortest
 * list of either kind (the message says how long they are). */
#define NEAR_MAX_OPENED 20
#define LIST_MIN_OPENED 3

struct sample {
    int64_t id;
    int label, truth;
    int decided;
    int suggested; /* -1 unscored */
    double score;
    long row; /* in the run's features, -1 if none */
};

struct sim {
    struct sample *s;
    size_t n;
    struct dups_project p;
    struct dups d;
    float *feat;
    int cols;
    long keys, fixed;
};

/* qsort has no context: the arrays the comparisons read. */
static const struct sample *sort_samples;
static char **sort_paths;

static int
by_score(const void *a, const void *b)
{
    const struct sample *s = sort_samples;
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    if (s[x].score != s[y].score)
        return s[x].score > s[y].score ? -1 : 1;
    return (s[x].id > s[y].id) - (s[x].id < s[y].id);
}

static int
by_path(const void *a, const void *b)
{
    return strcmp(sort_paths[*(const size_t *)a],
                  sort_paths[*(const size_t *)b]);
}

static int
collect_score(void *ctx, const struct store_scored *row, char **cause)
{
    struct sim *m = ctx;
    (void)cause;
    for (size_t lo = 0, hi = m->n; lo < hi;) {
        size_t mid = (lo + hi) / 2;
        if (m->s[mid].id < row->sc.sample_id) {
            lo = mid + 1;
        } else if (m->s[mid].id > row->sc.sample_id) {
            hi = mid;
        } else {
            m->s[mid].score = row->sc.score;
            /* As review_load.c: the label when the model agrees. */
            double p_label = 1.0 - row->sc.self_confidence;
            m->s[mid].suggested = row->sc.suggested;
            if (row->sc.suggested != row->sc.label &&
                !(row->sc.suggested_prob > p_label))
                m->s[mid].suggested = row->sc.label;
            break;
        }
    }
    return 0;
}

static double
cosine(const float *a, const float *b, int d)
{
    double ab = 0, aa = 0, bb = 0;
    for (int i = 0; i < d; i++) {
        double x = a[i], y = b[i];
        ab += x * y;
        aa += x * x;
        bb += y * y;
    }
    return aa > 0 && bb > 0 ? ab / sqrt(aa * bb) : 0.0;
}

struct cand {
    size_t i;
    double sim;
};

static int
cand_cmp(const void *a, const void *b)
{
    const struct cand *x = a, *y = b;
    if (x->sim != y->sim)
        return x->sim < y->sim ? 1 : -1;
    return (x->i > y->i) - (x->i < y->i);
}

/* The person goes through an offered list: unchecks what the decision
 * would make wrong, applies if anything in it helps, else dismisses. The
 * list costs `open` keys to see. */
static void
take_offer(struct sim *m, const size_t *list, size_t n, int label, int open)
{
    long keys = open, gain = 0, pos = 0;
    for (size_t k = 0; k < n; k++) {
        const struct sample *x = &m->s[list[k]];
        if (x->truth != label) { /* uncheck: move there, Space */
            keys += (long)k - pos + 1;
            pos = (long)k;
        } else if (x->label != x->truth) {
            gain++;
        }
    }
    /* Worth it only if it fixes more than the keys it takes. */
    if (gain <= keys - open + 1) {
        m->keys += open + (open > 0); /* Esc, if it was opened */
        return;
    }
    m->keys += keys + 1; /* Enter */
    for (size_t k = 0; k < n; k++) {
        struct sample *x = &m->s[list[k]];
        if (x->truth != label)
            continue;
        m->fixed += x->label != x->truth;
        x->label = label;
        x->decided = 1;
    }
}

static void
propagate(struct sim *m, size_t i, int old, int label)
{
    size_t *list = xmalloc((m->n + 1) * sizeof *list);
    size_t n = 0;
    int64_t g = m->d.group_of[i];
    if (g != 0) {
        const struct dups_group *grp = &m->d.groups[g - 1];
        for (size_t k = 0; k < grp->n; k++) {
            size_t j = m->d.members[grp->first + k];
            if (j != i && !(m->s[j].label == label && m->s[j].decided))
                list[n++] = j;
        }
        /* "8814 near-duplicates (p)" is not a list anyone opens. */
        if (n >= LIST_MIN_OPENED && n <= NEAR_MAX_OPENED)
            take_offer(m, list, n, label, 1); /* p */
    }
    const struct sample *me = &m->s[i];
    if (old == label || m->feat == NULL || me->row < 0) {
        free(list);
        return;
    }
    struct cand *c = xmalloc((m->n + 1) * sizeof *c);
    size_t nc = 0;
    const float *f0 = m->feat + (size_t)me->row * (size_t)m->cols;
    for (size_t j = 0; j < m->n; j++) {
        const struct sample *x = &m->s[j];
        if (j == i || x->decided || x->label != old || x->suggested != label ||
            x->row < 0 || (g != 0 && m->d.group_of[j] == g))
            continue;
        double sim =
            cosine(f0, m->feat + (size_t)x->row * (size_t)m->cols, m->cols);
        if (sim >= SIMILAR_MIN)
            c[nc++] = (struct cand){j, sim};
    }
    qsort(c, nc, sizeof *c, cand_cmp);
    if (nc > SIMILAR_MAX)
        nc = SIMILAR_MAX;
    for (size_t k = 0; k < nc; k++)
        list[k] = c[k].i;
    if (nc >= LIST_MIN_OPENED)
        take_offer(m, list, nc, label, 1); /* P */
    free(c);
    free(list);
}

static void
simulate(struct sim *m, const size_t *order, int with, long budget, long *at100,
         long *at300)
{
    m->keys = m->fixed = 0;
    *at100 = *at300 = -1;
    for (size_t i = 0; i < m->n; i++) {
        m->s[i].label = m->p.samples[i].label;
        m->s[i].decided = 0;
    }
    for (size_t k = 0; k < m->n && m->keys < budget; k++) {
        struct sample *x = &m->s[order[k]];
        if (x->decided)
            continue;
        int old = x->label;
        m->keys++;
        m->fixed += x->label != x->truth;
        x->label = x->truth;
        x->decided = 1;
        if (with)
            propagate(m, order[k], old, x->truth);
        if (*at100 < 0 && m->keys >= 100)
            *at100 = m->fixed;
        if (*at300 < 0 && m->keys >= 300)
            *at300 = m->fixed;
    }
}

int
main(int argc, char **argv)
{
    if (argc != 4) {
        fputs("usage: propbench DB TRUTH.csv KEYS\n", stderr);
        return 2;
    }
    long budget = strtol(argv[3], NULL, 10);
    struct store *st;
    char *cause = NULL;
    if (store_open(argv[1], STORE_READONLY, &st, &cause) != 0) {
        fprintf(stderr, "propbench: %s: %s\n", argv[1], cause);
        return 1;
    }
    struct sim m = {0};
    if (dups_scan(st, DUPS_DEFAULT_THRESHOLD, &m.p, &m.d, NULL, NULL, &cause) !=
        0) {
        fprintf(stderr, "propbench: %s\n", cause);
        return 1;
    }
    m.n = m.p.n;
    m.s = xcalloc(m.n + 1, sizeof *m.s);
    char **names;
    int k;
    if (store_class_names(st, &names, &k, &cause) != 0)
        return 1;
    for (size_t i = 0; i < m.n; i++) {
        m.s[i].id = m.p.ids[i];
        m.s[i].truth = -1;
        m.s[i].suggested = -1;
        m.s[i].score = -1;
        m.s[i].row = (long)i;
    }
    int64_t run;
    if (store_run_newest(st, STORE_RUN_DONE, &run, &cause) != 0 || run == 0 ||
        store_foreach_score(st, run, collect_score, &m, &cause) != 0) {
        fprintf(stderr, "propbench: no finished run\n");
        return 1;
    }
    int64_t rows = 0;
    if (store_run_array_get(st, run, STORE_ARRAY_FEATURES, &m.feat, &rows,
                            &m.cols, &cause) != 0 ||
        (size_t)rows != m.n) {
        free(m.feat);
        m.feat = NULL;
    }
    /* The truth by path. */
    FILE *f = fopen(argv[2], "r");
    if (f == NULL) {
        perror(argv[2]);
        return 1;
    }
    size_t *order = xmalloc((m.n + 1) * sizeof *order);
    for (size_t i = 0; i < m.n; i++)
        order[i] = i;
    sort_paths = m.p.paths;
    qsort(order, m.n, sizeof *order, by_path);
    char line[4096];
    size_t matched = 0, wrong = 0;
    if (fgets(line, sizeof line, f) == NULL)
        return 1;
    while (fgets(line, sizeof line, f) != NULL) {
        char *path = strtok(line, ",");
        char *truth = strtok(NULL, ",\n");
        if (path == NULL || truth == NULL)
            continue;
        int t = -1;
        for (int c = 0; c < k; c++)
            if (strcmp(names[c], truth) == 0)
                t = c;
        size_t lo = 0, hi = m.n;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            int c = strcmp(m.p.paths[order[mid]], path);
            if (c == 0) {
                size_t i = order[mid];
                m.s[i].truth = t;
                matched++;
                wrong += m.p.samples[i].label != t;
                break;
            }
            if (c < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
    }
    fclose(f);
    if (matched != m.n) {
        fprintf(stderr, "propbench: truth for %zu of %zu samples\n", matched,
                m.n);
        return 1;
    }
    for (size_t i = 0; i < m.n; i++)
        order[i] = i;
    sort_samples = m.s;
    qsort(order, m.n, sizeof *order, by_score);
    printf("%zu samples, %zu wrong labels, %zu near-duplicate groups; "
           "run %lld%s\n",
           m.n, wrong, m.d.n_groups, (long long)run,
           m.feat != NULL ? "" : " (no features: no similar suspects)");
    printf("\n| review | fixed at 100 keys | at 300 | at %ld | keys | "
           "fixed per 100 keys |\n| --- | ---: | ---: | ---: | ---: | ---: "
           "|\n",
           budget);
    for (int with = 0; with <= 1; with++) {
        long a100, a300;
        simulate(&m, order, with, budget, &a100, &a300);
        printf("| %s | %ld | %ld | %ld | %ld | %.1f |\n",
               with ? "with propagation (p, P)" : "one sample a key", a100,
               a300, m.fixed, m.keys,
               m.keys > 0 ? 100.0 * (double)m.fixed / (double)m.keys : 0.0);
    }
    free(order);
    free(m.feat);
    free(m.s);
    store_names_free(names);
    dups_fini(&m.d);
    dups_project_fini(&m.p);
    store_close(st);
    return 0;
}
