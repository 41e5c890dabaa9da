/* tests/fuzz/fuzz-png.c: the PNG decoder, and what an import does next.
 *
 * An input is a PNG file as image_decode_png sees it. A decoded image must
 * be sane (size within the limits, 1 or 3 channels) and every pixel byte
 * is read, so a buffer shorter than width x height x channels shows up
 * under ASan; then it goes through what the importer does with it: hashed,
 * and shrunk to the default stored size. Small images are also encoded
 * and decoded again, which must give back the same pixels: the encoder
 * writes only 8-bit gray or RGB, so nothing may be lost.
 *
 * A mutation almost always breaks the CRC of the chunk it lands in, and
 * libpng stops there, so the search would hardly get past the first
 * chunk: a copy of the input with every chunk's CRC made right is decoded
 * as well. (libpng and zlib are the system's, not instrumented: coverage
 * guides the search through image.c only.) */
#include "config.h"

#include "tests/fuzz/fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "data/image.h"
#include "data/import.h"
#include "data/sha256.h"

#include <zlib.h>

/* Larger images skip the round trip: it would only slow the search. */
#define FUZZ_ROUNDTRIP_PIXELS (256u * 256u)

static void
fuzz_check_image(const struct image *im)
{
    FUZZ_CHECK(im->width >= 1 && im->width <= IMAGE_MAX_SIDE);
    FUZZ_CHECK(im->height >= 1 && im->height <= IMAGE_MAX_SIDE);
    FUZZ_CHECK((size_t)im->width * (size_t)im->height <= IMAGE_MAX_PIXELS);
    FUZZ_CHECK(im->channels == 1 || im->channels == 3);
    FUZZ_CHECK(im->pixels != NULL);
}

static uint32_t
fuzz_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           (uint32_t)p[3];
}

/* A copy of a PNG with the CRC of every whole chunk recomputed, or NULL
 * when that changes nothing. */
static uint8_t *
fuzz_fix_crcs(const uint8_t *data, size_t size)
{
    if (size < 8 + 12)
        return NULL;
    uint8_t *copy = malloc(size);
    FUZZ_CHECK(copy != NULL);
    memcpy(copy, data, size);
    int changed = 0;
    for (size_t pos = 8; size - pos >= 12;) {
        uint32_t len = fuzz_be32(copy + pos);
        if (len > size - pos - 12)
            break;
        uLong crc = crc32(0L, copy + pos + 4, (uInt)len + 4);
        uint8_t *at = copy + pos + 8 + len;
        if (fuzz_be32(at) != (uint32_t)crc) {
            at[0] = (uint8_t)(crc >> 24);
            at[1] = (uint8_t)(crc >> 16);
            at[2] = (uint8_t)(crc >> 8);
            at[3] = (uint8_t)crc;
            changed = 1;
        }
        pos += 12 + (size_t)len;
    }
    if (!changed) {
        free(copy);
        return NULL;
    }
    return copy;
}

static void
fuzz_decode(const uint8_t *data, size_t size)
{
    struct image im, small, again;
    char *cause = NULL;

    if (image_decode_png(data, size, &im, &cause) != 0) {
        FUZZ_CHECK(cause != NULL && cause[0] != '\0');
        FUZZ_CHECK(im.pixels == NULL);
        free(cause);
        return;
    }
    fuzz_check_image(&im);
    size_t bytes = (size_t)im.width * (size_t)im.height * (size_t)im.channels;

    /* As import_hash_image: every byte is read. */
    unsigned char digest[SHA256_LEN];
    struct sha256 h;
    sha256_init(&h);
    sha256_update(&h, im.pixels, bytes);
    sha256_final(&h, digest);

    if (image_fit(&im, IMPORT_DEFAULT_MAX_SIDE, &small, &cause) != 0) {
        FUZZ_CHECK(cause != NULL);
        free(cause);
        cause = NULL;
    } else {
        fuzz_check_image(&small);
        FUZZ_CHECK(small.width <= IMPORT_DEFAULT_MAX_SIDE &&
                   small.height <= IMPORT_DEFAULT_MAX_SIDE);
        FUZZ_CHECK(small.width <= im.width && small.height <= im.height);
        FUZZ_CHECK(small.channels == im.channels);
        image_fini(&small);
    }

    if ((size_t)im.width * (size_t)im.height <= FUZZ_ROUNDTRIP_PIXELS) {
        void *png = NULL;
        size_t len = 0;
        FUZZ_CHECK(image_encode_png(&im, &png, &len, &cause) == 0);
        FUZZ_CHECK(image_decode_png(png, len, &again, &cause) == 0);
        FUZZ_CHECK(again.width == im.width && again.height == im.height &&
                   again.channels == im.channels);
        FUZZ_CHECK(memcmp(again.pixels, im.pixels, bytes) == 0);
        image_fini(&again);
        free(png);
    }
    image_fini(&im);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_decode(data, size);
    uint8_t *fixed = fuzz_fix_crcs(data, size);
    if (fixed != NULL) {
        fuzz_decode(fixed, size);
        free(fixed);
    }
    return 0;
}
