/* tests/fuzz/fuzz-image.h: the checks fuzz-jpeg and fuzz-webp share. An
 * input goes through image_decode, the sniffing entry import uses, at full
 * size and with the default stored size as the hint. A decoded image must
 * be sane and every byte is read (hashed, as import does), so a short
 * buffer shows under ASan; a hinted decode may be smaller, never below
 * the hint; then the image is shrunk as import stores it. */
#ifndef WINNOW_TESTS_FUZZ_IMAGE_H
#define WINNOW_TESTS_FUZZ_IMAGE_H

#include <stdlib.h>
#include <string.h>

#include "data/image.h"
#include "data/import.h"
#include "data/sha256.h"
#include "tests/fuzz/fuzz.h"

static void
fuzz_image_sane(const struct image *im, const struct image_info *info)
{
    FUZZ_CHECK(im->width >= 1 && im->width <= IMAGE_MAX_SIDE);
    FUZZ_CHECK(im->height >= 1 && im->height <= IMAGE_MAX_SIDE);
    FUZZ_CHECK((size_t)im->width * (size_t)im->height <= IMAGE_MAX_PIXELS);
    FUZZ_CHECK(im->channels == 1 || im->channels == 3);
    FUZZ_CHECK(im->pixels != NULL);
    FUZZ_CHECK(info->orientation >= 1 && info->orientation <= 8);
    FUZZ_CHECK(im->width <= info->width && im->height <= info->height);

    unsigned char digest[SHA256_LEN];
    struct sha256 h;
    sha256_init(&h);
    sha256_update(&h, im->pixels,
                  (size_t)im->width * (size_t)im->height *
                      (size_t)im->channels);
    sha256_final(&h, digest);
}

/* Decode with hint min_side (0: full size); 0 if it decoded. */
static int
fuzz_image_decode(const uint8_t *data, size_t size, int min_side,
                  struct image *im, struct image_info *info)
{
    char *cause = NULL;
    if (image_decode(data, size, min_side, im, info, &cause) != 0) {
        FUZZ_CHECK(cause != NULL && cause[0] != '\0');
        FUZZ_CHECK(im->pixels == NULL);
        free(cause);
        return -1;
    }
    fuzz_image_sane(im, info);
    return 0;
}

static void
fuzz_image_run(const uint8_t *data, size_t size)
{
    struct image full, hinted, small;
    struct image_info fi, hi;
    char *cause = NULL;
    int side = IMPORT_DEFAULT_MAX_SIDE;

    int full_ok = fuzz_image_decode(data, size, 0, &full, &fi) == 0;
    if (full_ok) {
        FUZZ_CHECK(full.width == fi.width && full.height == fi.height);
        image_fini(&full);
    }
    if (fuzz_image_decode(data, size, side, &hinted, &hi) != 0)
        return;
    /* The hint changes the scale, never whether the file decodes. */
    FUZZ_CHECK(full_ok);
    FUZZ_CHECK(hi.width == fi.width && hi.height == fi.height &&
               hi.format == fi.format && hi.orientation == fi.orientation);
    int longest = hinted.width > hinted.height ? hinted.width : hinted.height;
    int full_longest = fi.width > fi.height ? fi.width : fi.height;
    FUZZ_CHECK(longest >= (side < full_longest ? side : full_longest));
    if (image_fit(&hinted, side, &small, &cause) != 0) {
        FUZZ_CHECK(cause != NULL);
        free(cause);
    } else {
        FUZZ_CHECK(small.width <= side && small.height <= side);
        FUZZ_CHECK(small.channels == hinted.channels);
        image_fini(&small);
    }
    image_fini(&hinted);
}

#endif
