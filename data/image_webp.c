/* data/image_webp.c: the WebP decoder, the only file that sees libwebp.
 *
 * libwebp's advanced API (WebPGetFeatures, then WebPDecode into a buffer
 * of ours): the features give the size before anything image-sized is
 * allocated, so the limits hold as for PNG and JPEG, and WebPDecode's
 * status tells a cut file ("truncated WebP data") from a corrupt one.
 * Lossy and lossless, with alpha or without, all come out as RGB, alpha
 * composited on IMAGE_ALPHA_BACKGROUND as for PNG. Animations are refused
 * (libwebp's simple decoder does not read them; the first frame of an
 * animation is no label's evidence).
 *
 * No shrinking while decoding: libwebp decodes every macroblock at full
 * size either way, and its scaler only resamples the result, which
 * image_fit does as well and the same way for every format.
 *
 * The EXIF orientation, in the extended format's 'EXIF' chunk, is found by
 * walking the RIFF chunks here rather than through libwebpdemux: a dozen
 * bounds-checked lines instead of a second library to link and to fuzz. */
#include "config.h"

#include "data/image.h"

#include <stdlib.h>
#include <string.h>

#include <webp/decode.h>

#include "data/exif.h"
#include "data/image_internal.h"

static uint32_t
webp_le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

/* The orientation from the first EXIF chunk; 1 when there is none. Chunks
 * are a fourcc, a little-endian size and the payload padded to even. */
static int
webp_orientation(const unsigned char *b, size_t len)
{
    if (len < 12)
        return 1;
    /* The RIFF size counts from byte 8; a file may stop short of it. */
    size_t end = (size_t)webp_le32(b + 4);
    end = end > len - 8 ? len : end + 8;
    if (end < 12)
        return 1;
    size_t pos = 12;
    while (end - pos >= 8) {
        size_t size = webp_le32(b + pos + 4);
        if (size > end - pos - 8)
            return 1;
        if (memcmp(b + pos, "EXIF", 4) == 0)
            return exif_orientation(b + pos + 8, size);
        pos += 8 + size + (size & 1);
        if (pos > end)
            return 1;
    }
    return 1;
}

static const char *
webp_status_cause(VP8StatusCode st)
{
    switch (st) {
    case VP8_STATUS_NOT_ENOUGH_DATA: return "truncated WebP data";
    case VP8_STATUS_OUT_OF_MEMORY: return "out of memory";
    case VP8_STATUS_UNSUPPORTED_FEATURE: return "unsupported WebP feature";
    default: return "corrupt WebP data";
    }
}

int
image_decode_webp(const void *buf, size_t len, struct image *out,
                  struct image_info *info, char **cause)
{
    memset(out, 0, sizeof *out);
    WebPDecoderConfig cfg;
    if (!WebPInitDecoderConfig(&cfg))
        return wn_fail(cause, "libwebp version mismatch");
    VP8StatusCode st = WebPGetFeatures(buf, len, &cfg.input);
    if (st != VP8_STATUS_OK)
        return wn_fail(cause, "%s", webp_status_cause(st));
    int w = cfg.input.width, h = cfg.input.height;
    if (w < 1 || h < 1)
        return wn_fail(cause, "corrupt WebP data");
    if (image_too_large((uint32_t)w, (uint32_t)h))
        return wn_fail(cause, "image too large: %dx%d", w, h);
    if (cfg.input.has_animation)
        return wn_fail(cause, "animated WebP (not supported)");

    int alpha = cfg.input.has_alpha != 0;
    size_t bpp = alpha ? 4 : 3, n = (size_t)w * (size_t)h;
    uint8_t *px = malloc(n * bpp);
    if (px == NULL)
        return wn_fail(cause, "out of memory (%zu bytes)", n * bpp);
    cfg.output.colorspace = alpha ? MODE_RGBA : MODE_RGB;
    cfg.output.is_external_memory = 1;
    cfg.output.u.RGBA.rgba = px;
    cfg.output.u.RGBA.stride = (int)((size_t)w * bpp);
    cfg.output.u.RGBA.size = n * bpp;
    st = WebPDecode(buf, len, &cfg);
    WebPFreeDecBuffer(&cfg.output);
    if (st != VP8_STATUS_OK) {
        free(px);
        return wn_fail(cause, "%s", webp_status_cause(st));
    }
    if (alpha) {
        image_composite(px, n, 3);
        uint8_t *p = realloc(px, n * 3);
        if (p != NULL)
            px = p;
    }
    out->width = w;
    out->height = h;
    out->channels = 3;
    out->pixels = px;
    info->width = w;
    info->height = h;
    info->orientation = webp_orientation(buf, len);
    return 0;
}
