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
void fx_pixels(uint8_t *px, int width, int height, int channels, uint32_t seed);
/* Pixels of a picture rather than of noise: a few soft coloured blobs on
 * a background, placed by seed (distinct seeds, distinct pictures), so a
 * resized or re-toned copy keeps its low frequencies (tests of the
 * perceptual hash). */
void fx_blobs(uint8_t *px, int width, int height, int channels, uint32_t seed);

struct fx_jpeg_opt {
    int quality;     /* 0: 90 */
    int progressive; /* jpeg_simple_progression */
    int orientation; /* 1..8: an APP1 EXIF block with that tag; 0: none */
    int ycck;        /* channels 4: stored as YCCK rather than CMYK */
    int no_adobe;    /* channels 4: no Adobe marker (plain, not inverted) */
    int many_scans;  /* channels 3: a valid progressive file of 568 scans */
};
/* A JPEG of px (channels 1 gray, 3 RGB, 4 CMYK as given: Adobe's files
 * hold 255 - ink) in a new buffer (free()); opt may be NULL. */
unsigned char *fx_jpeg_mem(const uint8_t *px, int width, int height,
                           int channels, const struct fx_jpeg_opt *opt,
                           size_t *len_out);
/* A WebP of px (channels 3 RGB or 4 RGBA), lossy (quality 90) or
 * lossless; orientation 1..8 adds a VP8X header and an EXIF chunk. New
 * buffer (free()). */
unsigned char *fx_webp_mem(const uint8_t *px, int width, int height,
                           int channels, int lossless, int orientation,
                           size_t *len_out);
/* As fx_png, in the format the name's extension says (.jpg, .jpeg, .webp;
 * anything else is PNG). WebP is always RGB. */
void fx_image_file(const char *path, int width, int height, int channels,
                   uint32_t seed);

#endif
