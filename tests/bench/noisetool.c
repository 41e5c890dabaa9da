/* noisetool: label noise for the detection benchmark (tests/bench/noise.sh)
 * and the figures of how much of it winnow finds.
 *
 *   noisetool inject-folder ROOT OUTDIR MODE RATE SEED
 *   noisetool inject-idx IMAGES LABELS OUTDIR MODE RATE SEED
 *   noisetool eval TRUTH.csv SCORES.csv
 *
 * inject-folder reads the images (.png, .jpg, .jpeg, .webp in any letter
 * case: what a folder import takes) of the class folders ROOT/<class>/ and
 * writes a CSV manifest a user would import (OUTDIR/manifest.csv, paths
 * img/<class>/<file> through symbolic links in OUTDIR/img, labels after
 * noise) and the truth beside it (OUTDIR/truth.csv: path, true_label,
 * given_label, flipped).
 * inject-idx writes OUTDIR/labels-noisy.idx and OUTDIR/truth.csv with the
 * paths winnow gives IDX records, "<images file name>#<index>", and the
 * label values as class names, as winnow names them without --class-names.
 *
 * MODE sym: exactly round(RATE * N) samples, drawn uniformly, get a label
 * drawn uniformly from the other classes. cifar-asym and mnist-asym: the
 * usual class-dependent protocols (Patrini et al. 2017), where a fraction
 * RATE of each listed class, drawn uniformly, gets the mapped label:
 * truck->automobile, bird->airplane, deer->horse, cat->dog, dog->cat for
 * CIFAR-10 and 2->7, 3->8, 5->6, 6->5, 7->1 for MNIST. Samples are chosen
 * by their true class, so a cat turned dog is never turned back.
 * flowers-asym does the same on Oxford 17 flowers (folders) with pairs
 * that look alike (BENCHMARKS.md says how they were chosen): colts_foot
 * <-> dandelion (yellow rayed heads), buttercup->cowslip (small yellow
 * flowers), snowdrop->lily_valley (white hanging bells), windflower->daisy
 * (white petals round a yellow centre).
 *
 * The noise comes from our own PCG32 rather than engine/rng.c: the benchmark
 * must inject the same noise for a seed whatever becomes of the engine's
 * generator, or figures from different versions would not compare.
 *
 * Class folder names lose trailing white space (the CIFAR-10 copy in
 * ../shared/datasets has "cat\r" folders); OUTDIR/img/<clean name> is then a
 * link to ROOT/<raw name>, so every path is plain.
 *
 * eval joins truth and scores on path and prints one line of key=value
 * figures; see eval_print for each. Not part of make check: build with
 * `make bench-tools` in a configured build directory. */
#include "config.h"

#include <errno.h>
#include <dirent.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "data/base.h"
#include "data/csv.h"
#include "data/idx.h"
#include "engine/gemm.h"
#include "engine/metrics.h"

#define FILE_MAX_BYTES ((size_t)1 << 31)

WN_PRINTF(1, 2) WN_NORETURN static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("noisetool: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

WN_NORETURN static void
usage(void)
{
    fputs("usage: noisetool inject-folder ROOT OUTDIR MODE RATE SEED\n"
          "       noisetool inject-idx IMAGES LABELS OUTDIR MODE RATE SEED\n"
          "       noisetool eval TRUTH.csv SCORES.csv\n"
          "       noisetool peak THREADS\n"
          "MODE: sym, cifar-asym, flowers-asym (folders), mnist-asym "
          "(IDX)\n",
          stderr);
    exit(2);
}

/* --- PCG32 (O'Neill 2014, pcg32_srandom_r / pcg32_random_r) --- */

struct pcg {
    uint64_t state, inc;
};

static uint32_t
pcg_next(struct pcg *p)
{
    uint64_t old = p->state;
    p->state = old * 6364136223846793005ULL + p->inc;
    uint32_t xorshifted = (uint32_t)(((old >> 18u) ^ old) >> 27u);
    uint32_t rot = (uint32_t)(old >> 59u);
    return (xorshifted >> rot) | (xorshifted << ((32u - rot) & 31u));
}

static void
pcg_seed(struct pcg *p, uint64_t seed)
{
    p->state = 0;
    p->inc = (0xda3e39cb94b95bdbULL << 1u) | 1u;
    pcg_next(p);
    p->state += seed;
    pcg_next(p);
}

/* Uniform in [0, n), n > 0, without modulo bias (rejection). */
static uint32_t
pcg_below(struct pcg *p, uint32_t n)
{
    uint32_t threshold = (uint32_t)(-n) % n;
    for (;;) {
        uint32_t r = pcg_next(p);
        if (r >= threshold)
            return r % n;
    }
}

/* Move m of the n items of idx, chosen uniformly, to its front (a partial
 * Fisher-Yates shuffle). */
static void
choose(struct pcg *p, size_t *idx, size_t n, size_t m)
{
    for (size_t i = 0; i < m && i < n; i++) {
        size_t j = i + pcg_below(p, (uint32_t)(n - i));
        size_t t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
    }
}

/* --- noise --- */

struct noise_map {
    const char *from, *to;
};

static const struct noise_map cifar_asym[] = {
    {"truck", "automobile"}, {"bird", "airplane"}, {"deer", "horse"},
    {"cat", "dog"},          {"dog", "cat"},
};

static const struct noise_map mnist_asym[] = {
    {"2", "7"}, {"3", "8"}, {"5", "6"}, {"6", "5"}, {"7", "1"},
};

static const struct noise_map flowers_asym[] = {
    {"colts_foot", "dandelion"}, {"dandelion", "colts_foot"},
    {"buttercup", "cowslip"},    {"snowdrop", "lily_valley"},
    {"windflower", "daisy"},
};

static int
class_find(char *const *names, int k, const char *name)
{
    for (int c = 0; c < k; c++)
        if (strcmp(names[c], name) == 0)
            return c;
    return -1;
}

static double
parse_rate(const char *s)
{
    char *end;
    errno = 0;
    double r = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || !(r >= 0.0 && r <= 1.0))
        die("bad rate '%s' (expected a number in [0, 1])", s);
    return r;
}

static uint64_t
parse_seed(const char *s)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || *s == '-')
        die("bad seed '%s'", s);
    return (uint64_t)v;
}

/* Fill given[] from truth[] by mode: "sym", or map_mode for the n_map
 * class-dependent flips of map (class names; a missing class is fatal). */
static void
inject(const char *mode, double rate, uint64_t seed, const int *truth,
       int *given, size_t n, char *const *names, int k,
       const struct noise_map *map, size_t n_map, const char *map_mode)
{
    struct pcg p;
    pcg_seed(&p, seed);
    size_t *idx = xcalloc(n ? n : 1, sizeof *idx);
    memcpy(given, truth, n * sizeof *given);
    if (n > UINT32_MAX)
        die("too many samples");
    if (strcmp(mode, "sym") == 0) {
        if (k < 2)
            die("sym noise needs at least 2 classes");
        for (size_t i = 0; i < n; i++)
            idx[i] = i;
        size_t m = (size_t)llround(rate * (double)n);
        choose(&p, idx, n, m);
        for (size_t i = 0; i < m; i++) {
            int y = truth[idx[i]];
            int r = (int)pcg_below(&p, (uint32_t)(k - 1));
            given[idx[i]] = r >= y ? r + 1 : r;
        }
    } else if (strcmp(mode, map_mode) == 0) {
        for (size_t e = 0; e < n_map; e++) {
            int from = class_find(names, k, map[e].from);
            int to = class_find(names, k, map[e].to);
            if (from < 0 || to < 0)
                die("%s: no class '%s'", mode,
                    from < 0 ? map[e].from : map[e].to);
            size_t cnt = 0;
            for (size_t i = 0; i < n; i++)
                if (truth[i] == from)
                    idx[cnt++] = i;
            size_t m = (size_t)llround(rate * (double)cnt);
            choose(&p, idx, cnt, m);
            for (size_t i = 0; i < m; i++)
                given[idx[i]] = to;
        }
    } else {
        die("unknown mode '%s' (expected sym or %s)", mode, map_mode);
    }
    free(idx);
}

/* --- output files --- */

struct out {
    FILE *f;
    char *path, *tmp;
};

static void
out_open(struct out *o, const char *dir, const char *name)
{
    o->path = xasprintf("%s/%s", dir, name);
    o->tmp = xasprintf("%s.tmp", o->path);
    o->f = fopen(o->tmp, "w");
    if (o->f == NULL)
        die("%s: %s", o->tmp, strerror(errno));
}

static void
out_close(struct out *o)
{
    int err = ferror(o->f);
    if (fclose(o->f) != 0 || err)
        die("%s: write error", o->tmp);
    if (rename(o->tmp, o->path) != 0)
        die("%s: %s", o->path, strerror(errno));
    free(o->path);
    free(o->tmp);
}

static void
mkdir_p(const char *path)
{
    char *p = xstrdup(path);
    for (char *s = p + 1; *s; s++)
        if (*s == '/') {
            *s = '\0';
            if (mkdir(p, 0777) != 0 && errno != EEXIST)
                die("%s: %s", p, strerror(errno));
            *s = '/';
        }
    if (mkdir(p, 0777) != 0 && errno != EEXIST)
        die("%s: %s", p, strerror(errno));
    free(p);
}

static void
write_truth(const char *outdir, char *const *paths, const int *truth,
            const int *given, size_t n, char *const *names)
{
    struct out o;
    out_open(&o, outdir, "truth.csv");
    fputs("path,true_label,given_label,flipped\n", o.f);
    for (size_t i = 0; i < n; i++) {
        csv_write_field(o.f, paths[i]);
        fputc(',', o.f);
        csv_write_field(o.f, names[truth[i]]);
        fputc(',', o.f);
        csv_write_field(o.f, names[given[i]]);
        fprintf(o.f, ",%d\n", truth[i] != given[i]);
    }
    out_close(&o);
}

static void
report_injected(const int *truth, const int *given, size_t n)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        m += truth[i] != given[i];
    fprintf(stderr, "noisetool: %zu samples, %zu labels changed (%.4f)\n", n, m,
            n ? (double)m / (double)n : 0.0);
}

/* --- inject-folder --- */

static int
str_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Whether a file name ends in an image extension a folder import takes. */
static int
is_image_name(const char *name)
{
    static const char *const exts[] = {".png", ".jpg", ".jpeg", ".webp"};
    size_t len = strlen(name);
    for (size_t i = 0; i < WN_ARRAY_LEN(exts); i++) {
        size_t el = strlen(exts[i]);
        if (len > el && strcasecmp(name + len - el, exts[i]) == 0)
            return 1;
    }
    return 0;
}

/* The names in dir, sorted bytewise; with want_dirs only directories, else
 * only regular files (after links) with an image extension. */
static char **
list_dir(const char *dir, int want_dirs, size_t *n_out)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        die("%s: %s", dir, strerror(errno));
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((errno = 0, e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (!want_dirs && !is_image_name(e->d_name))
            continue;
        char *full = xasprintf("%s/%s", dir, e->d_name);
        struct stat st;
        int ok = stat(full, &st) == 0 &&
                 (want_dirs ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode));
        free(full);
        if (!ok)
            continue;
        wn_grow(&names, sizeof *names, &cap, n + 1);
        names[n++] = xstrdup(e->d_name);
    }
    if (errno != 0)
        die("%s: %s", dir, strerror(errno));
    closedir(d);
    if (n > 1)
        qsort(names, n, sizeof *names, str_cmp);
    *n_out = n;
    return names;
}

static char *
clean_name(const char *s)
{
    size_t len = strlen(s);
    while (len > 0 && (s[len - 1] == '\r' || s[len - 1] == '\n' ||
                       s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    return xstrndup(s, len);
}

/* Make OUTDIR/img/<clean> a link to the absolute ROOT/<raw>, replacing an
 * old link of a previous run. */
static void
link_class(const char *root_abs, const char *raw, const char *imgdir,
           const char *clean)
{
    char *target = xasprintf("%s/%s", root_abs, raw);
    char *link = xasprintf("%s/%s", imgdir, clean);
    struct stat st;
    if (lstat(link, &st) == 0) {
        if (!S_ISLNK(st.st_mode))
            die("%s exists and is not a symbolic link", link);
        if (unlink(link) != 0)
            die("%s: %s", link, strerror(errno));
    }
    if (symlink(target, link) != 0)
        die("%s: %s", link, strerror(errno));
    free(target);
    free(link);
}

static int
cmd_inject_folder(char **argv)
{
    const char *root = argv[0], *outdir = argv[1], *mode = argv[2];
    double rate = parse_rate(argv[3]);
    uint64_t seed = parse_seed(argv[4]);
    char *root_abs = realpath(root, NULL);
    if (root_abs == NULL)
        die("%s: %s", root, strerror(errno));

    size_t k_raw;
    char **raw = list_dir(root_abs, 1, &k_raw);
    if (k_raw == 0 || k_raw > INT_MAX)
        die("%s: no class folders", root);
    int k = (int)k_raw;
    char **names = xcalloc(k_raw, sizeof *names);
    for (int c = 0; c < k; c++) {
        names[c] = clean_name(raw[c]);
        if (names[c][0] == '\0')
            die("%s: a class folder's name is blank", root);
        for (int d = 0; d < c; d++)
            if (strcmp(names[c], names[d]) == 0)
                die("%s: two class folders named '%s'", root, names[c]);
    }

    mkdir_p(outdir);
    char *imgdir = xasprintf("%s/img", outdir);
    mkdir_p(imgdir);

    char **paths = NULL;
    int *truth = NULL;
    size_t n = 0, cap = 0, cap_t = 0;
    for (int c = 0; c < k; c++) {
        link_class(root_abs, raw[c], imgdir, names[c]);
        char *dir = xasprintf("%s/%s", root_abs, raw[c]);
        size_t nf;
        char **files = list_dir(dir, 0, &nf);
        for (size_t i = 0; i < nf; i++) {
            wn_grow(&paths, sizeof *paths, &cap, n + 1);
            wn_grow(&truth, sizeof *truth, &cap_t, n + 1);
            paths[n] = xasprintf("img/%s/%s", names[c], files[i]);
            truth[n] = c;
            n++;
            free(files[i]);
        }
        free(files);
        free(dir);
    }
    if (n == 0)
        die("%s: no images", root);

    int *given = xcalloc(n, sizeof *given);
    if (strcmp(mode, "flowers-asym") == 0)
        inject(mode, rate, seed, truth, given, n, names, k, flowers_asym,
               WN_ARRAY_LEN(flowers_asym), "flowers-asym");
    else
        inject(mode, rate, seed, truth, given, n, names, k, cifar_asym,
               WN_ARRAY_LEN(cifar_asym), "cifar-asym");

    struct out o;
    out_open(&o, outdir, "manifest.csv");
    fputs("path,label\n", o.f);
    for (size_t i = 0; i < n; i++) {
        csv_write_field(o.f, paths[i]);
        fputc(',', o.f);
        csv_write_field(o.f, names[given[i]]);
        fputc('\n', o.f);
    }
    out_close(&o);
    write_truth(outdir, paths, truth, given, n, names);
    report_injected(truth, given, n);

    for (size_t i = 0; i < n; i++)
        free(paths[i]);
    for (int c = 0; c < k; c++) {
        free(raw[c]);
        free(names[c]);
    }
    free(paths);
    free(truth);
    free(given);
    free(raw);
    free(names);
    free(imgdir);
    free(root_abs);
    return 0;
}

/* --- inject-idx --- */

static int
cmd_inject_idx(char **argv)
{
    const char *images = argv[0], *labels = argv[1], *outdir = argv[2];
    const char *mode = argv[3];
    double rate = parse_rate(argv[4]);
    uint64_t seed = parse_seed(argv[5]);
    char *cause = NULL;
    struct idx im = {0}, lb = {0};
    uint32_t count, rows, cols;
    int channels;
    if (idx_read(images, FILE_MAX_BYTES, &im, &cause) != 0 ||
        idx_image_shape(&im, &count, &rows, &cols, &channels, &cause) != 0)
        die("%s: %s", images, cause);
    idx_fini(&im); /* only its count matters */
    if (idx_read(labels, FILE_MAX_BYTES, &lb, &cause) != 0)
        die("%s", cause);
    if (lb.ndims != 1 || lb.dims[0] != count)
        die("%s: not %" PRIu32 " labels", labels, count);
    size_t n = count;
    if (n == 0)
        die("%s: no images", images);

    int k = 0;
    int *truth = xcalloc(n, sizeof *truth);
    for (size_t i = 0; i < n; i++) {
        truth[i] = lb.data[i];
        if (truth[i] + 1 > k)
            k = truth[i] + 1;
    }
    char **names = xcalloc((size_t)k, sizeof *names);
    for (int c = 0; c < k; c++)
        names[c] = xasprintf("%d", c);

    int *given = xcalloc(n, sizeof *given);
    inject(mode, rate, seed, truth, given, n, names, k, mnist_asym,
           WN_ARRAY_LEN(mnist_asym), "mnist-asym");

    mkdir_p(outdir);
    uint8_t *noisy = xmalloc(n);
    for (size_t i = 0; i < n; i++)
        noisy[i] = (uint8_t)given[i];
    char *out = xasprintf("%s/labels-noisy.idx", outdir);
    char *tmp = xasprintf("%s.tmp", out);
    uint32_t dims[1] = {count};
    if (idx_write(tmp, 1, dims, noisy, &cause) != 0)
        die("%s", cause);
    if (rename(tmp, out) != 0)
        die("%s: %s", out, strerror(errno));

    const char *base = strrchr(images, '/');
    base = base ? base + 1 : images;
    char **paths = xcalloc(n, sizeof *paths);
    for (size_t i = 0; i < n; i++)
        paths[i] = xasprintf("%s#%zu", base, i);
    write_truth(outdir, paths, truth, given, n, names);
    report_injected(truth, given, n);

    for (size_t i = 0; i < n; i++)
        free(paths[i]);
    for (int c = 0; c < k; c++)
        free(names[c]);
    free(paths);
    free(names);
    free(noisy);
    free(out);
    free(tmp);
    free(truth);
    free(given);
    idx_fini(&lb);
    return 0;
}

/* --- eval --- */

/* A CSV file read whole, as rows of fields addressed by column name. */
struct table {
    char *file;
    size_t n_cols, n_rows;
    char **head; /* (n_cols) */
    char **cell; /* (n_rows, n_cols); a short row is padded with "" */
};

static void
table_read(const char *path, struct table *t)
{
    unsigned char *buf;
    size_t len;
    char *cause = NULL;
    if (wn_read_file(path, FILE_MAX_BYTES, &buf, &len, &cause) != 0)
        die("%s", cause);
    memset(t, 0, sizeof *t);
    t->file = xstrdup(path);
    struct csv *c = csv_new((const char *)buf, len);
    char **fields;
    size_t nf, line, cap = 0;
    int r = csv_next(c, &fields, &nf, &line, &cause);
    if (r <= 0)
        die("%s: %s", path, r < 0 ? cause : "empty file");
    t->n_cols = nf;
    t->head = xcalloc(nf, sizeof *t->head);
    for (size_t j = 0; j < nf; j++)
        t->head[j] = xstrdup(fields[j]);
    while ((r = csv_next(c, &fields, &nf, &line, &cause)) > 0) {
        wn_grow(&t->cell, sizeof *t->cell, &cap, (t->n_rows + 1) * t->n_cols);
        for (size_t j = 0; j < t->n_cols; j++)
            t->cell[t->n_rows * t->n_cols + j] =
                xstrdup(j < nf ? fields[j] : "");
        t->n_rows++;
    }
    if (r < 0)
        die("%s: %s", path, cause);
    csv_free(c);
    free(buf);
}

static size_t
table_col(const struct table *t, const char *name)
{
    for (size_t j = 0; j < t->n_cols; j++)
        if (strcmp(t->head[j], name) == 0)
            return j;
    die("%s: no column '%s'", t->file, name);
}

static const char *
table_get(const struct table *t, size_t row, size_t col)
{
    return t->cell[row * t->n_cols + col];
}

static void
table_fini(struct table *t)
{
    for (size_t j = 0; j < t->n_cols; j++)
        free(t->head[j]);
    for (size_t i = 0; i < t->n_rows * t->n_cols; i++)
        free(t->cell[i]);
    free(t->head);
    free(t->cell);
    free(t->file);
}

/* A number of the scores file; an empty cell (a score the run lacks) is
 * NAN, which the metrics rank last. */
static double
number(const struct table *t, size_t row, size_t col)
{
    const char *s = table_get(t, row, col);
    if (*s == '\0')
        return NAN;
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end != '\0')
        die("%s: row %zu: bad number '%s' in column %s", t->file, row + 2, s,
            t->head[col]);
    return v;
}

struct key {
    const char *path;
    size_t row;
};

static int
key_cmp(const void *a, const void *b)
{
    return strcmp(((const struct key *)a)->path, ((const struct key *)b)->path);
}

struct order_key {
    double v;
    size_t i;
};

/* Descending by score (NAN last), then ascending by row, as metrics_at_k. */
static int
order_cmp(const void *pa, const void *pb)
{
    const struct order_key *a = pa, *b = pb;
    double x = isnan(a->v) ? -(double)INFINITY : a->v;
    double y = isnan(b->v) ? -(double)INFINITY : b->v;
    if (x != y)
        return x > y ? -1 : 1;
    return a->i < b->i ? -1 : a->i > b->i;
}

static void
put(const char *key, double v)
{
    printf(" %s=%.4f", key, v);
}

static int
cmd_eval(char **argv)
{
    struct table tr, sc;
    table_read(argv[0], &tr);
    table_read(argv[1], &sc);
    size_t t_path = table_col(&tr, "path");
    size_t t_true = table_col(&tr, "true_label");
    size_t t_given = table_col(&tr, "given_label");
    size_t s_path = table_col(&sc, "path");
    size_t s_given = table_col(&sc, "given_label");
    size_t s_sugg = table_col(&sc, "suggested_label");
    size_t s_flag = table_col(&sc, "flagged");
    size_t s_sprob = table_col(&sc, "suggested_prob");
    static const char *const kinds[] = {
        "score", "self_confidence", "margin", "aum", "elr", "cl_flag", "knn"};
    enum { N_KINDS = WN_ARRAY_LEN(kinds) };
    size_t s_col[N_KINDS];
    for (size_t j = 0; j < N_KINDS; j++)
        s_col[j] = table_col(&sc, kinds[j]);

    struct key *keys = xcalloc(tr.n_rows ? tr.n_rows : 1, sizeof *keys);
    for (size_t i = 0; i < tr.n_rows; i++) {
        keys[i].path = table_get(&tr, i, t_path);
        keys[i].row = i;
    }
    qsort(keys, tr.n_rows, sizeof *keys, key_cmp);
    for (size_t i = 1; i < tr.n_rows; i++)
        if (strcmp(keys[i].path, keys[i - 1].path) == 0)
            die("%s: path '%s' twice", tr.file, keys[i].path);

    /* One entry per scored sample found in the truth, in the scores file's
     * order. */
    size_t n = 0, unmatched = 0, mismatch = 0;
    size_t cap = sc.n_rows ? sc.n_rows : 1;
    double *val[N_KINDS];
    for (size_t j = 0; j < N_KINDS; j++)
        val[j] = xcalloc(cap, sizeof *val[j]);
    uint8_t *noisy = xcalloc(cap, 1), *flagged = xcalloc(cap, 1);
    uint8_t *sugg_true = xcalloc(cap, 1), *top_true = xcalloc(cap, 1);
    uint8_t *seen = xcalloc(tr.n_rows ? tr.n_rows : 1, 1);
    for (size_t i = 0; i < sc.n_rows; i++) {
        struct key want = {table_get(&sc, i, s_path), 0};
        struct key *hit =
            bsearch(&want, keys, tr.n_rows, sizeof *keys, key_cmp);
        if (hit == NULL || seen[hit->row]) {
            unmatched++;
            continue;
        }
        seen[hit->row] = 1;
        const char *truth = table_get(&tr, hit->row, t_true);
        const char *given = table_get(&tr, hit->row, t_given);
        const char *sugg = table_get(&sc, i, s_sugg);
        if (strcmp(given, table_get(&sc, i, s_given)) != 0)
            mismatch++;
        for (size_t j = 0; j < N_KINDS; j++)
            val[j][n] = number(&sc, i, s_col[j]);
        noisy[n] = strcmp(truth, given) != 0;
        flagged[n] = number(&sc, i, s_flag) != 0.0;
        sugg_true[n] = strcmp(sugg, truth) == 0;
        /* The suggestion is the most probable class other than the given
         * label, so the model's top class is whichever of the two has the
         * higher probability: P[given] = 1 - self_confidence. */
        double p_given = 1.0 - val[1][n];
        double p_sugg = number(&sc, i, s_sprob);
        const char *top = p_sugg > p_given ? sugg : given;
        top_true[n] = strcmp(top, truth) == 0;
        n++;
    }
    size_t missing = tr.n_rows - n;

    size_t n_noisy = 0, n_flagged = 0, right_flag = 0, noisy_flag = 0;
    size_t right_top = 0, noisy_top = 0, agree = 0;
    for (size_t i = 0; i < n; i++) {
        n_noisy += noisy[i];
        n_flagged += flagged[i];
        agree += top_true[i];
        if (flagged[i] && noisy[i]) {
            noisy_flag++;
            right_flag += sugg_true[i];
        }
    }
    struct order_key *ord = xcalloc(n ? n : 1, sizeof *ord);
    for (size_t i = 0; i < n; i++) {
        ord[i].v = val[0][i];
        ord[i].i = i;
    }
    qsort(ord, n, sizeof *ord, order_cmp);
    for (size_t r = 0; r < n_noisy && r < n; r++)
        if (noisy[ord[r].i]) {
            noisy_top++;
            right_top += sugg_true[ord[r].i];
        }

    struct metrics_at_k at;
    metrics_at_k(val[0], noisy, n, n_noisy, &at);
    struct metrics_flags fl;
    metrics_flags(flagged, noisy, n, &fl);

    /* n: samples scored and in the truth; noisy: of them, given != true;
     * auroc, ap: of the combined score; p_at_k, r_at_k: precision and
     * recall of the top k = noisy; flag_*: of the flagged column;
     * suggest_right: of the noisy flagged samples, the share whose
     * suggestion is the true label; suggest_right_topk: the same over the
     * noisy ones among the top k; model_acc: share of samples whose most
     * probable class is the true label; then AUROC and AP of each score
     * column alone. unmatched, missing, label_mismatch: join problems, 0
     * in a sound run. */
    printf("n=%zu noisy=%zu flagged=%zu", n, n_noisy, n_flagged);
    put("auroc", metrics_auroc(val[0], noisy, n));
    put("ap", metrics_average_precision(val[0], noisy, n));
    put("p_at_k", at.precision);
    put("r_at_k", at.recall);
    put("flag_precision", fl.precision);
    put("flag_recall", fl.recall);
    put("flag_f1", fl.f1);
    put("suggest_right",
        noisy_flag ? (double)right_flag / (double)noisy_flag : (double)NAN);
    put("suggest_right_topk",
        noisy_top ? (double)right_top / (double)noisy_top : (double)NAN);
    put("model_acc", n ? (double)agree / (double)n : (double)NAN);
    for (size_t j = 1; j < N_KINDS; j++) {
        char *k1 = xasprintf("auroc_%s", kinds[j]);
        char *k2 = xasprintf("ap_%s", kinds[j]);
        /* A score the run lacks (aum, elr) would rank all samples equal
         * and pass for a coin toss. */
        size_t have = 0;
        for (size_t i = 0; i < n; i++)
            have += !isnan(val[j][i]);
        put(k1, have ? metrics_auroc(val[j], noisy, n) : (double)NAN);
        put(k2,
            have ? metrics_average_precision(val[j], noisy, n) : (double)NAN);
        free(k1);
        free(k2);
    }
    printf(" unmatched=%zu missing=%zu label_mismatch=%zu\n", unmatched,
           missing, mismatch);

    for (size_t j = 0; j < N_KINDS; j++)
        free(val[j]);
    free(noisy);
    free(flagged);
    free(sugg_true);
    free(top_true);
    free(seen);
    free(ord);
    free(keys);
    table_fini(&tr);
    table_fini(&sc);
    if (fflush(stdout) != 0 || ferror(stdout))
        die("standard output: write error");
    return unmatched || missing || mismatch || n == 0;
}

/* The machine's sgemm peak for a thread count: the best of several
 * 2048-cube products through engine/gemm.h with BLAS on that many
 * threads, the yardstick for the training's achieved GFLOP/s. */
static int
cmd_peak(char **argv)
{
    int threads = atoi(argv[0]);
    if (threads < 1)
        die("peak: bad thread count '%s'", argv[0]);
    enum { S = 2048 };
    float *a = xmalloc((size_t)S * S * sizeof *a);
    float *b = xmalloc((size_t)S * S * sizeof *b);
    float *c = xmalloc((size_t)S * S * sizeof *c);
    for (size_t i = 0; i < (size_t)S * S; i++) {
        a[i] = (float)(i % 7) * 0.1f;
        b[i] = (float)(i % 5) * 0.1f;
    }
    gemm_set_blas_threads(threads);
    double best = 0;
    for (int rep = 0; rep < 6; rep++) {
        double t0 = wn_monotonic();
        gemm_nn(S, S, S, 1.0f, a, b, 0.0f, c);
        double dt = wn_monotonic() - t0;
        double gf = 2.0 * S * (double)S * S / dt * 1e-9;
        if (gf > best)
            best = gf;
    }
    printf("threads=%d sgemm_peak_gflops=%.1f\n", threads, best);
    free(a);
    free(b);
    free(c);
    return 0;
}

int
main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "peak") == 0)
        return cmd_peak(argv + 2);
    if (argc == 7 && strcmp(argv[1], "inject-folder") == 0)
        return cmd_inject_folder(argv + 2);
    if (argc == 8 && strcmp(argv[1], "inject-idx") == 0)
        return cmd_inject_idx(argv + 2);
    if (argc == 4 && strcmp(argv[1], "eval") == 0)
        return cmd_eval(argv + 2);
    usage();
}
