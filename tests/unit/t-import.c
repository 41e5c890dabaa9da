/* Unit tests of the import pipeline: path normalisation, and that the
 * decoding threads change nothing about what lands in the project. */
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
        ok(got != NULL && strcmp(got, want) == 0, "'%s' -> '%s' (got '%s')",
           in, want, got ? got : "(null)");
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

/* Import root with the given thread count and describe the result. */
static void
import_with(const char *dir, const char *root, int threads,
            struct digest *out, struct import_result *res)
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

    ok(import_has_png_extension("x.png"), "x.png is a PNG name");
    ok(import_has_png_extension("X.PNG"), "X.PNG is a PNG name");
    ok(!import_has_png_extension(".png"), "a bare .png is not");
    ok(!import_has_png_extension("x.jpg"), "x.jpg is not");

    /* Enough images, of mixed sizes, that several decoding windows and
     * threads are involved. */
    char *dir = fx_tmpdir("import");
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
