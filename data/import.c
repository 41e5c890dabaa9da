/* data/import.c: the import pipeline shared by the folder, CSV and IDX
 * importers.
 *
 * Decoding dominates an import (the codecs, hashing, shrinking), while SQLite
 * wants one writer. So decoder threads run ahead of the inserting thread
 * through a bounded window of slots: thread k decodes whichever item is
 * next, the inserting thread consumes items strictly in list order, so the
 * project gets the same samples in the same order whatever the thread
 * count. The window bounds memory to a few hundred decoded images. */
#include "config.h"

#include "data/import.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "data/image.h"
#include "data/import_internal.h"
#include "data/phash.h"
#include "data/sha256.h"
#include "data/store.h"

/* Items inserted per transaction when not strict: large enough that commits
 * cost little, small enough that an interrupted import keeps most work. */
#define IMPORT_BATCH          4096
/* Decoded images held between the decoders and the inserting thread. */
#define IMPORT_WINDOW         512
/* Largest image file read; larger files are refused, not read. */
#define IMPORT_MAX_FILE_BYTES (256u << 20)

void
import_job_init(struct import_job *job, struct store *s, const char *name,
                const struct import_options *opt, struct import_result *res)
{
    memset(job, 0, sizeof *job);
    job->store = s;
    job->name = name;
    job->opt = opt;
    job->res = res;
    memset(res, 0, sizeof *res);
}

void
import_job_fini(struct import_job *job)
{
    for (size_t i = 0; i < job->n_items; i++) {
        free(job->items[i].path);
        free(job->items[i].file);
    }
    free(job->items);
    job->items = NULL;
    job->n_items = job->cap_items = 0;
}

int
import_job_begin(struct import_job *job, char **cause)
{
    if (store_begin(job->store, cause) != 0)
        return -1;
    job->in_txn = 1;
    return 0;
}

static int
import_reason_cmp(const void *a, const void *b)
{
    const struct import_reason *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return strcmp(x->reason, y->reason);
}

int
import_job_finish(struct import_job *job, char **cause)
{
    if (job->res->n_reasons > 1)
        qsort(job->res->reasons, job->res->n_reasons, sizeof *job->res->reasons,
              import_reason_cmp);
    if (store_import_record(job->store, job->source_id, &job->res->st, cause) !=
            0 ||
        store_commit(job->store, cause) != 0) {
        import_job_abort(job);
        job->res->st.imported = job->kept;
        return -1;
    }
    job->in_txn = 0;
    return 0;
}

void
import_job_abort(struct import_job *job)
{
    if (job->in_txn)
        store_rollback(job->store);
    job->in_txn = 0;
}

int
import_job_add(struct import_job *job, char *path, char *file, int label,
               char **cause)
{
    if (job->n_items >= STORE_MAX_SAMPLES) {
        free(path);
        free(file);
        return wn_fail(cause,
                       "%s: too many samples: more than %d listed "
                       "(max %d)",
                       job->name, STORE_MAX_SAMPLES, STORE_MAX_SAMPLES);
    }
    wn_grow(&job->items, sizeof *job->items, &job->cap_items, job->n_items + 1);
    struct import_item *it = &job->items[job->n_items++];
    memset(it, 0, sizeof *it);
    it->path = path;
    it->file = file;
    it->label = label;
    return 0;
}

int
import_class_ensure(struct import_job *job, const char *cls, int *id_out,
                    char **cause)
{
    int before, id;
    if (store_class_count(job->store, &before, cause) != 0 ||
        store_class_find(job->store, cls, &id, cause) != 0)
        return -1;
    if (id >= 0) {
        *id_out = id;
        return 0;
    }
    /* store_class_ensure refuses too; this says which dataset and class. */
    if (before >= STORE_MAX_CLASSES)
        return wn_fail(cause,
                       "%s: too many classes: '%s' would be class %d "
                       "(max %d)",
                       job->name, cls, before + 1, STORE_MAX_CLASSES);
    if (store_class_ensure(job->store, cls, id_out, cause) != 0)
        return -1;
    if (*id_out >= before)
        job->res->n_new_classes++;
    return 0;
}

int
import_check_room(struct import_job *job, int64_t in_project, size_t n_new,
                  char **cause)
{
    if (n_new > (size_t)STORE_MAX_SAMPLES ||
        in_project > STORE_MAX_SAMPLES - (int64_t)n_new)
        return wn_fail(cause,
                       "%s: too many samples: %lld in the project and "
                       "%zu new (max %d)",
                       job->name, (long long)in_project, n_new,
                       STORE_MAX_SAMPLES);
    return 0;
}

static void
import_count_reason(struct import_result *res, const char *reason)
{
    for (size_t i = 0; i < res->n_reasons; i++)
        if (strcmp(res->reasons[i].reason, reason) == 0) {
            res->reasons[i].count++;
            return;
        }
    res->reasons =
        xreallocarray(res->reasons, res->n_reasons + 1, sizeof *res->reasons);
    res->reasons[res->n_reasons].reason = xstrdup(reason);
    res->reasons[res->n_reasons].count = 1;
    res->n_reasons++;
}

int
import_job_bad(struct import_job *job, const char *path, const char *reason,
               char **cause)
{
    job->res->st.skipped++;
    /* The summary groups reasons: details in parentheses go, and numbers
     * read N, so "image too large: 100000x100000" and "...: 9x99999" are
     * one row while "IDAT: CRC error" stays its own. */
    size_t general = strlen(reason);
    const char *paren = strstr(reason, " (");
    if (paren != NULL)
        general = (size_t)(paren - reason);
    char *key = xmalloc(general + 1);
    size_t k = 0;
    for (size_t i = 0; i < general; i++) {
        if (reason[i] >= '0' && reason[i] <= '9') {
            if (k == 0 || key[k - 1] != 'N')
                key[k++] = 'N';
            continue;
        }
        key[k++] = reason[i];
    }
    key[k] = '\0';
    import_count_reason(job->res, key);
    free(key);
    if (job->opt->strict)
        return wn_fail(cause, "%s: %s", path, reason);
    if (job->opt->report != NULL)
        job->opt->report(job->opt->ctx, path, reason);
    return 0;
}

char *
import_normalize_relative(const char *path)
{
    if (path[0] == '/' || path[0] == '\0')
        return NULL;
    size_t len = strlen(path);
    char *out = xmalloc(len + 1);
    size_t o = 0;
    const char *p = path;
    while (*p) {
        const char *end = strchr(p, '/');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n == 0 || (n == 1 && p[0] == '.')) {
            /* "//" and "./" say nothing */
        } else if (n == 2 && p[0] == '.' && p[1] == '.') {
            if (o == 0) {
                free(out);
                return NULL;
            }
            while (o > 0 && out[o - 1] != '/')
                o--;
            if (o > 0)
                o--;
        } else {
            if (o > 0)
                out[o++] = '/';
            memcpy(out + o, p, n);
            o += n;
        }
        p += n;
        if (*p == '/')
            p++;
    }
    if (o == 0) {
        free(out);
        return NULL;
    }
    out[o] = '\0';
    return out;
}

int
import_has_image_extension(const char *name)
{
    static const char *const ext[] = {".png", ".jpg", ".jpeg", ".webp"};
    size_t n = strlen(name);
    for (size_t i = 0; i < WN_ARRAY_LEN(ext); i++) {
        size_t e = strlen(ext[i]);
        if (n > e && strcasecmp(name + n - e, ext[i]) == 0)
            return 1;
    }
    return 0;
}

static int
import_is_space_or_control(unsigned char c)
{
    return c <= ' ' || c == 0x7f;
}

char *
import_class_name(const char *raw, const char **why)
{
    const unsigned char *b = (const unsigned char *)raw;
    size_t len = strlen(raw);
    while (len > 0 && import_is_space_or_control(b[len - 1]))
        len--;
    size_t start = 0;
    while (start < len && import_is_space_or_control(b[start]))
        start++;
    if (start == len) {
        *why = "is only white space or control characters";
        return NULL;
    }
    /* A tab inside is kept: it breaks no line, and a terminal shows it as
     * blanks. Other control characters could move the cursor or start an
     * escape sequence wherever the name is printed. */
    for (size_t i = start; i < len; i++)
        if ((b[i] < ' ' && b[i] != '\t') || b[i] == 0x7f) {
            *why = "has a control character inside";
            return NULL;
        }
    return xstrndup(raw + start, len - start);
}

/* ---- decoding ---- */

struct import_decoded {
    struct image stored;
    unsigned char hash[SHA256_LEN];
    int width, height, channels;
    char *error; /* reason, without the path */
};

static void
import_hash_image(const struct image *im, unsigned char out[SHA256_LEN])
{
    /* The shape is hashed too: the same bytes as 32x24 and 24x32 are
     * different images. */
    struct sha256 h;
    uint32_t shape[3] = {(uint32_t)im->width, (uint32_t)im->height,
                         (uint32_t)im->channels};
    sha256_init(&h);
    sha256_update(&h, shape, sizeof shape);
    sha256_update(&h, im->pixels,
                  (size_t)im->width * (size_t)im->height *
                      (size_t)im->channels);
    sha256_final(&h, out);
}

static void
import_decode(const struct import_item *it, int max_side,
              struct import_decoded *d)
{
    struct image full = {0};
    char *cause = NULL;
    memset(d, 0, sizeof *d);
    if (it->file != NULL) {
        unsigned char *buf;
        size_t len;
        if (wn_read_file(it->file, IMPORT_MAX_FILE_BYTES, &buf, &len, &cause) !=
            0) {
            /* wn_read_file names the file; the report names it already. */
            size_t plen = strlen(it->file);
            if (strncmp(cause, it->file, plen) == 0 &&
                strncmp(cause + plen, ": ", 2) == 0)
                memmove(cause, cause + plen + 2, strlen(cause + plen + 2) + 1);
            d->error = cause;
            return;
        }
        /* The format by content, and a JPEG decoded no larger than it
         * will be stored. The size recorded is the photo's own; the hash
         * is of the pixels as decoded, which for a JPEG depend on the
         * DCT scale and so on max_side, as they already depend on the
         * JPEG library's version. */
        struct image_info info;
        int r = image_decode(buf, len, max_side, &full, &info, &cause);
        free(buf);
        if (r != 0) {
            d->error = cause;
            return;
        }
        d->width = info.width;
        d->height = info.height;
    } else {
        if (image_alloc(&full, it->raw_w, it->raw_h, it->raw_c, &cause) != 0) {
            d->error = cause;
            return;
        }
        memcpy(full.pixels, it->raw,
               (size_t)it->raw_w * (size_t)it->raw_h * (size_t)it->raw_c);
        d->width = full.width;
        d->height = full.height;
    }
    d->channels = full.channels;
    import_hash_image(&full, d->hash);
    if (full.width <= max_side && full.height <= max_side) {
        d->stored = full; /* keep as is: no copy */
        return;
    }
    if (image_fit(&full, max_side, &d->stored, &cause) != 0)
        d->error = cause;
    image_fini(&full);
}

struct import_pool {
    pthread_mutex_t lock;
    pthread_cond_t work_cv, done_cv;
    const struct import_item *items;
    size_t n, next, consumed;
    int max_side;
    int stop;
    struct import_decoded slot[IMPORT_WINDOW];
    unsigned char ready[IMPORT_WINDOW];
};

static void *
import_worker(void *arg)
{
    struct import_pool *p = arg;
    for (;;) {
        pthread_mutex_lock(&p->lock);
        while (!p->stop && p->next < p->n &&
               p->next >= p->consumed + IMPORT_WINDOW)
            pthread_cond_wait(&p->work_cv, &p->lock);
        if (p->stop || p->next >= p->n) {
            pthread_mutex_unlock(&p->lock);
            return NULL;
        }
        size_t i = p->next++;
        pthread_mutex_unlock(&p->lock);

        struct import_decoded d;
        import_decode(&p->items[i], p->max_side, &d);

        pthread_mutex_lock(&p->lock);
        p->slot[i % IMPORT_WINDOW] = d;
        p->ready[i % IMPORT_WINDOW] = 1;
        pthread_cond_broadcast(&p->done_cv);
        pthread_mutex_unlock(&p->lock);
    }
}

static int
import_thread_count(const struct import_options *opt)
{
    if (opt->threads > 0)
        return opt->threads;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1)
        n = 1;
    return n > 64 ? 64 : (int)n;
}

/* Insert one decoded item: the sample and its import label event. */
static int
import_insert(struct import_job *job, const struct import_item *it,
              struct import_decoded *d, char **cause)
{
    if (d->error != NULL)
        return import_job_bad(job, it->file ? it->file : it->path, d->error,
                              cause);
    int64_t dup = 0;
    if (store_sample_find_hash(job->store, d->hash, &dup, cause) != 0)
        return -1;
    struct store_sample_new sn = {
        .source_id = job->source_id,
        .path = it->path,
        .hash = d->hash,
        .width = d->width,
        .height = d->height,
        .channels = d->channels,
        .stored = &d->stored,
        .label = it->label,
        .phash = phash_image(&d->stored),
        .has_phash = 1,
    };
    int64_t id;
    if (store_sample_add(job->store, &sn, &id, cause) != 0)
        return -1;
    job->res->st.imported++;
    if (dup != 0)
        job->res->st.duplicates++;
    return 0;
}

/* Drop items already in the project from this source: importing the same
 * source twice adds nothing. */
static int
import_drop_existing(struct import_job *job, char **cause)
{
    size_t o = 0;
    for (size_t i = 0; i < job->n_items; i++) {
        int exists;
        if (store_sample_exists(job->store, job->source_id, job->items[i].path,
                                &exists, cause) != 0)
            return -1;
        if (exists) {
            job->res->st.existing++;
            free(job->items[i].path);
            free(job->items[i].file);
        } else {
            job->items[o++] = job->items[i];
        }
    }
    job->n_items = o;
    return 0;
}

int
import_job_run(struct import_job *job, char **cause)
{
    double t0 = wn_monotonic();
    int64_t in_project;
    if (import_drop_existing(job, cause) != 0 ||
        store_sample_count(job->store, &in_project, cause) != 0 ||
        import_check_room(job, in_project, job->n_items, cause) != 0)
        return -1;
    int max_side =
        job->opt->max_side > 0 ? job->opt->max_side : IMPORT_DEFAULT_MAX_SIDE;
    struct import_pool *p = xcalloc(1, sizeof *p);
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->work_cv, NULL);
    pthread_cond_init(&p->done_cv, NULL);
    p->items = job->items;
    p->n = job->n_items;
    p->max_side = max_side;

    int nthreads = import_thread_count(job->opt);
    if ((size_t)nthreads > p->n)
        nthreads = p->n > 0 ? (int)p->n : 1;
    pthread_t *tid = xcalloc((size_t)nthreads, sizeof *tid);
    int started = 0;
    for (int t = 0; t < nthreads; t++) {
        if (pthread_create(&tid[t], NULL, import_worker, p) != 0)
            break;
        started++;
    }

    int rc = 0;
    if (started == 0 && p->n > 0)
        rc = wn_fail(cause, "cannot start decoding threads: %s",
                     strerror(errno ? errno : EAGAIN));
    size_t i = 0;
    for (; rc == 0 && i < p->n; i++) {
        pthread_mutex_lock(&p->lock);
        while (!p->ready[i % IMPORT_WINDOW])
            pthread_cond_wait(&p->done_cv, &p->lock);
        struct import_decoded d = p->slot[i % IMPORT_WINDOW];
        p->ready[i % IMPORT_WINDOW] = 0;
        p->consumed = i + 1;
        pthread_cond_broadcast(&p->work_cv);
        pthread_mutex_unlock(&p->lock);

        rc = import_insert(job, &job->items[i], &d, cause);
        image_fini(&d.stored);
        free(d.error);
        if (rc == 0 && !job->opt->strict && (i + 1) % IMPORT_BATCH == 0 &&
            job->res->st.imported > job->kept) {
            /* Commit what is done, so an interruption keeps it; a batch
             * of only bad files is not worth keeping, and would leave an
             * import that ends with nothing added with its classes. */
            if (store_commit(job->store, cause) == 0)
                job->kept = job->res->st.imported;
            else
                rc = -1;
            if (rc != 0 || store_begin(job->store, cause) != 0) {
                job->in_txn = 0;
                rc = -1;
            }
        }
        if (job->opt->progress != NULL && (i % 64 == 63 || i + 1 == p->n))
            job->opt->progress(job->opt->ctx, i + 1, p->n);
    }

    pthread_mutex_lock(&p->lock);
    p->stop = 1;
    pthread_cond_broadcast(&p->work_cv);
    pthread_mutex_unlock(&p->lock);
    for (int t = 0; t < started; t++)
        pthread_join(tid[t], NULL);
    /* Items decoded ahead of a failure are freed here. */
    for (size_t k = 0; k < IMPORT_WINDOW; k++)
        if (p->ready[k]) {
            image_fini(&p->slot[k].stored);
            free(p->slot[k].error);
        }
    free(tid);
    pthread_cond_destroy(&p->work_cv);
    pthread_cond_destroy(&p->done_cv);
    pthread_mutex_destroy(&p->lock);
    free(p);
    job->res->seconds += wn_monotonic() - t0;
    /* What the caller reports: the samples the project keeps, not those
     * the rollback takes back. */
    if (rc != 0)
        job->res->st.imported = job->kept;
    return rc;
}

int
import_job_added_nothing(const struct import_job *job)
{
    return job->res->st.imported == 0 && job->res->st.existing == 0;
}

void
import_result_fini(struct import_result *res)
{
    for (size_t i = 0; i < res->n_reasons; i++)
        free(res->reasons[i].reason);
    free(res->reasons);
    res->reasons = NULL;
    res->n_reasons = 0;
}
