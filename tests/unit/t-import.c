/* Unit tests of the import pipeline: path normalisation, class names, the
 * project's limits (checked here through the functions that enforce them:
 * ten million files are not made to reach one), and that the decoding
 * threads change nothing about what lands in the project. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/base.h"
#include "data/import.h"
#include "data/import_internal.h"
#include "data/store.h"
#include "tests/fixtures.h"
#include "tests/tap.h"

static void
check_norm(const char *in, const char *want)
{
    char *got = import_normalize_relative(in);
    if (want == NULL)
        ok(got == NULL, "'%s' is refused", in);
    else
        ok(got != NULL && strcmp(got, want) == 0, "'%s' -> '%s' (got '%s')", in,
           want, got ? got : "(null)");
    free(got);
}

struct digest {
    char buf[1 << 16];
    size_t len;
};

static int
digest_one(void *ctx, const struct store_sample *smp, char **cause)
{
    (void)cause;
    struct digest *d = ctx;
    size_t px = (size_t)smp->stored_width * (size_t)smp->stored_height *
                (size_t)smp->channels;
    unsigned sum = 0;
    for (size_t i = 0; i < px; i++)
        sum = sum * 31u + smp->pixels[i];
    d->len += (size_t)snprintf(d->buf + d->len, sizeof d->buf - d->len,
                               "%s:%d:%dx%d:%u\n", smp->path, smp->label,
                               smp->stored_width, smp->stored_height, sum);
    return 0;
}

static void
check_class_name(const char *raw, const char *want, const char *want_why)
{
    const char *why = NULL;
    char *got = import_class_name(raw, &why);
    if (want != NULL)
        ok(got != NULL && strcmp(got, want) == 0,
           "class name of a raw name -> '%s' (got '%s')", want,
           got ? got : "(null)");
    else
        ok(got == NULL && why != NULL && strcmp(why, want_why) == 0,
           "a raw name is refused: %s (got %s)", want_why, why ? why : "-");
    free(got);
}

/* cause is read after rc is computed: the call fills it. */
static void
expect_cause(int rc, char **cause, const char *want, const char *what)
{
    ok(rc == -1 && *cause != NULL && strcmp(*cause, want) == 0, "%s: %s", what,
       *cause ? *cause : "(no cause)");
    free(*cause);
    *cause = NULL;
}

/* The limits, at and past each boundary. */
static void
test_limits(const char *dir)
{
    char *cause = NULL;
    ok(store_check_limits(STORE_MAX_CLASSES, STORE_MAX_SAMPLES, &cause) == 0,
       "a project at both limits is within them");
    expect_cause(store_check_limits(STORE_MAX_CLASSES + 1, 0, &cause), &cause,
                 "too many classes: 1001 (max 1000)", "one class too many");
    expect_cause(store_check_limits(0, STORE_MAX_SAMPLES + 1LL, &cause), &cause,
                 "too many samples: 10000001 (max 10000000)",
                 "one sample too many");

    char *db = fx_path(dir, "limits.db");
    struct store *s;
    cause = NULL;
    if (store_open(db, STORE_CREATE, &s, &cause) != 0)
        bail("open: %s", cause);
    struct import_options opt = {0};
    struct import_result res;
    struct import_job job;
    import_job_init(&job, s, "ds", &opt, &res);

    /* Samples: the room left, counting those in the project. */
    cause = NULL;
    ok(import_check_room(&job, STORE_MAX_SAMPLES - 1, 1, &cause) == 0,
       "the last sample fits");
    expect_cause(import_check_room(&job, STORE_MAX_SAMPLES - 1, 2, &cause),
                 &cause,
                 "ds: too many samples: 9999999 in the project and 2 new "
                 "(max 10000000)",
                 "one past the limit with the project's samples");
    expect_cause(
        import_check_room(&job, 0, (size_t)STORE_MAX_SAMPLES + 1, &cause),
        &cause,
        "ds: too many samples: 0 in the project and 10000001 new "
        "(max 10000000)",
        "one past the limit in a new project");
    /* The listing stops at the limit (n_items stands in for ten million
     * queued items; the path and file are freed, as ASan checks). */
    job.n_items = STORE_MAX_SAMPLES;
    expect_cause(
        import_job_add(&job, xstrdup("x.png"), xstrdup("ds/x.png"), 0, &cause),
        &cause,
        "ds: too many samples: more than 10000000 listed "
        "(max 10000000)",
        "the listing stops past the limit");
    job.n_items = 0;
    ok(import_job_add(&job, xstrdup("x.png"), xstrdup("ds/x.png"), 0, &cause) ==
               0 &&
           job.n_items == 1,
       "below the limit an item is queued");

    /* Classes: a real project filled to the limit. */
    if (store_begin(s, &cause) != 0)
        bail("begin: %s", cause);
    int id = -1, bad = 0;
    for (int i = 0; i < STORE_MAX_CLASSES; i++) {
        char name[32];
        snprintf(name, sizeof name, "c%04d", i);
        if (import_class_ensure(&job, name, &id, &cause) != 0 || id != i) {
            if (bad++ == 0)
                diag("class %d: %s", i, cause ? cause : "wrong id");
            free(cause);
            cause = NULL;
        }
    }
    ok(bad == 0 && res.n_new_classes == STORE_MAX_CLASSES,
       "1000 classes are made (%d new)", res.n_new_classes);
    ok(import_class_ensure(&job, "c0999", &id, &cause) == 0 && id == 999 &&
           res.n_new_classes == STORE_MAX_CLASSES,
       "an existing class is found at the limit");
    expect_cause(import_class_ensure(&job, "one-more", &id, &cause), &cause,
                 "ds: too many classes: 'one-more' would be class 1001 "
                 "(max 1000)",
                 "a new class past the limit is refused");
    expect_cause(store_class_ensure(s, "one-more", &id, &cause), &cause,
                 "too many classes: 1001 (max 1000)",
                 "and the store refuses it too");
    store_rollback(s);
    import_job_fini(&job);
    import_result_fini(&res);
    store_close(s);
    free(db);
}

/* Import root with the given thread count and describe the result. */
static void
import_with(const char *dir, const char *root, int threads, struct digest *out,
            struct import_result *res)
{
    char *db = xasprintf("%s/t%d.db", dir, threads);
    struct store *s;
    char *cause = NULL;
    if (store_open(db, STORE_CREATE, &s, &cause) != 0)
        bail("open: %s", cause);
    struct import_options opt = {.threads = threads, .max_side = 16};
    if (import_folder(s, root, &opt, res, &cause) != 0)
        bail("import: %s", cause);
    memset(out, 0, sizeof *out);
    if (store_foreach_sample(s, digest_one, out, &cause) != 0)
        bail("walk: %s", cause);
    store_close(s);
    free(db);
}

int
main(void)
{
    check_norm("a/b.png", "a/b.png");
    check_norm("./a//b/./c.png", "a/b/c.png");
    check_norm("a/../b.png", "b.png");
    check_norm("a/b/../../c.png", "c.png");
    check_norm("../a.png", NULL);
    check_norm("a/../../b.png", NULL);
    check_norm("/etc/passwd", NULL);
    check_norm("", NULL);
    check_norm(".", NULL);
    check_norm("a/..", NULL);

    ok(import_has_image_extension("x.png"), "x.png is an image name");
    ok(import_has_image_extension("X.PNG"), "X.PNG is an image name");
    ok(!import_has_image_extension(".png"), "a bare .png is not");
    ok(import_has_image_extension("x.jpg") &&
           import_has_image_extension("x.JPEG") &&
           import_has_image_extension("x.Jpg") &&
           import_has_image_extension("x.webp") &&
           import_has_image_extension("x.WebP"),
       ".jpg .jpeg .webp in any case are image names");
    ok(!import_has_image_extension("x.gif") &&
           !import_has_image_extension("x.jpg.txt") &&
           !import_has_image_extension("jpeg") &&
           !import_has_image_extension("x.pn"),
       ".gif, .jpg.txt, a bare jpeg and .pn are not");

    check_class_name("cat", "cat", NULL);
    check_class_name("cat\r", "cat", NULL);
    check_class_name(" \t cat dog \n", "cat dog", NULL);
    check_class_name("\xf0\x9f\x90\xb1", "\xf0\x9f\x90\xb1", NULL);
    check_class_name("a/b,\"c\"", "a/b,\"c\"", NULL);
    check_class_name("\xff\xfe", "\xff\xfe", NULL);
    check_class_name("new\nline", NULL, "has a control character inside");
    check_class_name("tab\there", "tab\there", NULL);
    check_class_name("esc\x1b[2J", NULL, "has a control character inside");
    check_class_name("del\x7f!", NULL, "has a control character inside");
    check_class_name("\r\n", NULL, "is only white space or control characters");
    check_class_name("", NULL, "is only white space or control characters");

    /* Enough images, of mixed sizes, that several decoding windows and
     * threads are involved. */
    char *dir = fx_tmpdir("import");
    test_limits(dir);
    char *root = fx_path(dir, "ds");
    for (int i = 0; i < 700; i++) {
        char *cls = xasprintf("%s/class%d", root, i % 3);
        fx_mkdirs(cls);
        char *p = xasprintf("%s/%04d.png", cls, i);
        fx_png(p, 8 + i % 29, 6 + i % 13, i % 2 ? 3 : 1, (uint32_t)i);
        free(p);
        free(cls);
    }
    struct digest *one = xmalloc(sizeof *one), *many = xmalloc(sizeof *many);
    struct import_result r1, r4;
    import_with(dir, root, 1, one, &r1);
    import_with(dir, root, 4, many, &r4);
    is_int(r1.st.imported, ==, 700);
    is_int(r4.st.imported, ==, 700);
    ok(one->len > 0 && one->len == many->len &&
           memcmp(one->buf, many->buf, one->len) == 0,
       "1 and 4 decoding threads give the same samples in the same order");
    ok(strstr(one->buf, "class0/0000.png:0:8x6:") != NULL,
       "paths are relative to the root and labels follow the folders");
    ok(strstr(one->buf, ":16x") != NULL,
       "images over --max-side are shrunk to it");
    import_result_fini(&r1);
    import_result_fini(&r4);
    free(one);
    free(many);
    fx_rmtree(dir);
    free(root);
    free(dir);
    return done_testing();
}
