/* jpegset: a class-folder dataset copied as JPEGs, for the photo import
 * benchmark (tests/bench/photos.sh), which needs sets that do not ship:
 * CIFAR-10's PNGs as 30,000 small JPEGs, and flowers17 enlarged to
 * camera-sized photos.
 *
 *   jpegset SRC DST WIDTH HEIGHT [QUALITY]
 *
 * Every image SRC/<class>/<file> (PNG, JPEG or WebP: what winnow's own
 * decoder reads, image_read) becomes DST/<class>/<file stem>.jpg, resized
 * to exactly WIDTH x HEIGHT (0 0: kept at its size) and saved at QUALITY
 * (default 90, baseline, 4:2:0 as libjpeg's defaults, like a camera's).
 * Class folder names lose trailing white space and CRs, as noisetool's
 * (the CIFAR-10 copy has "cat\r" folders). Prints the count and bytes.
 * Not part of make check: `make bench-tools`. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "data/base.h"
#include "data/image.h"
#include "tests/fixtures.h"

WN_PRINTF(1, 2) WN_NORETURN static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("jpegset: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static int
parse_int(const char *s, int lo, int hi, const char *what)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
        die("bad %s '%s' (expected %d to %d)", what, s, lo, hi);
    return (int)v;
}

static int
str_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The entries of dir that are directories (want_dirs) or regular files,
 * sorted, so that a set is made in the same order every time. */
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

/* The file name with its last extension replaced by ".jpg". */
static char *
jpg_name(const char *name)
{
    const char *dot = strrchr(name, '.');
    size_t stem =
        dot != NULL && dot != name ? (size_t)(dot - name) : strlen(name);
    return xasprintf("%.*s.jpg", (int)stem, name);
}

/* Convert one file; returns the JPEG's size in bytes. */
static size_t
convert(const char *src, const char *dst, int width, int height, int quality)
{
    struct image im, sized = {0};
    char *cause = NULL;
    if (image_read(src, &im, &cause) != 0)
        die("%s", cause);
    const struct image *out = &im;
    if (width > 0 && (im.width != width || im.height != height)) {
        if (image_resize(&im, width, height, &sized, &cause) != 0)
            die("%s: %s", src, cause);
        out = &sized;
    }
    struct fx_jpeg_opt opt = {.quality = quality};
    size_t len;
    unsigned char *jpg = fx_jpeg_mem(out->pixels, out->width, out->height,
                                     out->channels, &opt, &len);
    fx_write(dst, jpg, len);
    free(jpg);
    image_fini(&sized);
    image_fini(&im);
    return len;
}

int
main(int argc, char **argv)
{
    if (argc != 5 && argc != 6) {
        fputs("usage: jpegset SRC DST WIDTH HEIGHT [QUALITY]\n", stderr);
        return 2;
    }
    const char *root = argv[1], *outdir = argv[2];
    int width = parse_int(argv[3], 0, IMAGE_MAX_SIDE, "width");
    int height = parse_int(argv[4], 0, IMAGE_MAX_SIDE, "height");
    int quality = argc == 6 ? parse_int(argv[5], 1, 100, "quality") : 90;
    if ((width == 0) != (height == 0))
        die("width and height are both 0 (keep the size) or neither");

    size_t k, count = 0;
    unsigned long long bytes = 0;
    char **classes = list_dir(root, 1, &k);
    if (k == 0)
        die("%s: no class folders", root);
    for (size_t c = 0; c < k; c++) {
        char *from = xasprintf("%s/%s", root, classes[c]);
        char *clean = clean_name(classes[c]);
        char *to = xasprintf("%s/%s", outdir, clean);
        fx_mkdirs(to);
        size_t nf;
        char **files = list_dir(from, 0, &nf);
        for (size_t i = 0; i < nf; i++) {
            char *src = xasprintf("%s/%s", from, files[i]);
            char *name = jpg_name(files[i]);
            char *dst = xasprintf("%s/%s", to, name);
            bytes += convert(src, dst, width, height, quality);
            count++;
            free(dst);
            free(name);
            free(src);
            free(files[i]);
        }
        free(files);
        free(to);
        free(clean);
        free(from);
        free(classes[c]);
    }
    free(classes);
    printf("%zu JPEGs, %.1f MiB, in %s\n", count,
           (double)bytes / (1024.0 * 1024.0), outdir);
    return 0;
}
