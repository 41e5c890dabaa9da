/* tests/fixtures.h: small files the tests make for themselves. */
#ifndef WINNOW_TESTS_FIXTURES_H
#define WINNOW_TESTS_FIXTURES_H

#include <stddef.h>
#include <stdint.h>

/* A new empty directory under $TMPDIR (or /tmp); removed with fx_rmtree. */
char *fx_tmpdir(const char *tag);
void fx_rmtree(const char *path);
/* Join path parts; caller frees. */
char *fx_path(const char *dir, const char *name);
/* mkdir -p. */
void fx_mkdirs(const char *path);
/* Write bytes to a file (dies on failure). */
void fx_write(const char *path, const void *data, size_t len);
/* Write an 8-bit gray (channels 1) or RGB (3) PNG whose pixels are a
 * function of seed, so distinct seeds give distinct images. */
void fx_png(const char *path, int width, int height, int channels,
            uint32_t seed);
/* Fill a buffer with the same pixels fx_png writes. */
void fx_pixels(uint8_t *px, int width, int height, int channels,
               uint32_t seed);
/* Pixels of a picture rather than of noise: a few soft coloured blobs on
 * a background, placed by seed (distinct seeds, distinct pictures), so a
 * resized or re-toned copy keeps its low frequencies (tests of the
 * perceptual hash). */
void fx_blobs(uint8_t *px, int width, int height, int channels,
              uint32_t seed);

#endif
