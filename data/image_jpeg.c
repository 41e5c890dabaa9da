/* data/image_jpeg.c: the JPEG decoder, the only file that sees libjpeg.
 *
 * This is libjpeg-turbo's libjpeg API (jpeglib.h, libjpeg62-turbo), not
 * its TurboJPEG API. TurboJPEG 2.1.5 (libturbojpeg0-dev) scales and reads
 * CMYK too, but it cannot hand over the APP1 marker that holds the EXIF
 * orientation (marker access came with TurboJPEG 3), has no hook to bound
 * the scans of a hostile progressive file, and can only stop on the first
 * warning or on none, where we must stop on the end of the data and on
 * nothing else. The libjpeg API gives all of these, and only it:
 *
 * - errors come to our error_exit, which formats libjpeg's message into
 *   the decoder state and longjmps back (libjpeg's own would exit());
 *   messages are never printed;
 * - the end of the data is a warning to libjpeg (JWRN_JPEG_EOF; it pads
 *   the rest with gray). We make it an error, "truncated JPEG data",
 *   like PNG's: a photo with a gray band would be trained on and shown as
 *   if whole, and which rows are real cannot be told (the Huffman decoder
 *   reads ahead, and a progressive file cut between scans looks complete
 *   but blurred). So, as PNG's missing IEND, a missing EOI is truncation
 *   too, and image data that stops at a marker before the last row
 *   (JWRN_HIT_MARKER) is refused as corrupt. Other warnings (a few
 *   corrupt bytes that libjpeg resynchronises past) are dropped, as djpeg
 *   would go on;
 * - the size is checked against the limits from the header, before
 *   jpeg_start_decompress allocates anything image-sized;
 * - the scale: with a min_side, the smallest of libjpeg's DCT scales
 *   M/8 (M = 1..8) whose longest side is still >= min_side. At 1/8 only
 *   the DC coefficients are decoded, so a 12-megapixel photo costs about
 *   what a 200-kilopixel one does;
 * - CMYK and YCCK (Adobe) are read as CMYK and turned into RGB here:
 *   R = (255 - C)(255 - K) / 255 and so on, where Adobe's files (an Adobe
 *   APP14 marker, as Photoshop writes) store 255 - C, so they are
 *   inverted first;
 * - the EXIF orientation is read from the first APP1 "Exif" marker
 *   (jpeg_save_markers) and applied by image_decode after us.
 *
 * All state that must survive the longjmp lives in a struct owned by the
 * caller of the function that calls setjmp, as in image_png.c. */
#include "config.h"

#include "data/image.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jerror.h>
#include <jpeglib.h>

#include "data/exif.h"
#include "data/image_internal.h"

/* Scans in a progressive file: real encoders write about 10; thousands of
 * empty ones make each one cost a pass over the whole coefficient buffer. */
#define JPEG_MAX_SCANS 500

struct jpeg_dec {
    struct jpeg_decompress_struct cinfo;
    struct jpeg_error_mgr err;
    struct jpeg_progress_mgr progress;
    jmp_buf jmp;
    uint8_t *px; /* becomes the image's on success */
    JSAMPROW *rows;
    int width, height, channels;
    int full_w, full_h, orientation;
    char msg[IMAGE_MSG_LEN];
};

static struct jpeg_dec *
jpeg_dec_of(j_common_ptr cinfo)
{
    /* The error manager is a member of the decoder state: go back to it. */
    return (struct jpeg_dec *)(void *)((char *)cinfo->err -
                                       offsetof(struct jpeg_dec, err));
}

static WN_NORETURN void
jpeg_fail_now(struct jpeg_dec *d)
{
    longjmp(d->jmp, 1);
}

static WN_NORETURN void
jpeg_error_exit(j_common_ptr cinfo)
{
    struct jpeg_dec *d = jpeg_dec_of(cinfo);
    char text[JMSG_LENGTH_MAX];
    (*cinfo->err->format_message)(cinfo, text);
    /* "Bogus marker length" -> "bogus marker length", as our causes read;
     * "JPEG ..." and "DHT ..." keep their capitals. */
    if (text[0] >= 'A' && text[0] <= 'Z' && text[1] >= 'a' && text[1] <= 'z')
        text[0] = (char)(text[0] - 'A' + 'a');
    snprintf(d->msg, sizeof d->msg, "%s", text);
    jpeg_fail_now(d);
}

static void
jpeg_emit_message(j_common_ptr cinfo, int level)
{
    struct jpeg_dec *d = jpeg_dec_of(cinfo);
    if (level != -1)
        return;
    if (cinfo->err->msg_code == JWRN_JPEG_EOF) {
        snprintf(d->msg, sizeof d->msg, "truncated JPEG data");
        jpeg_fail_now(d);
    }
    /* The image data stopped at a marker while rows were still owed: the
     * rest would be gray, the same harm as a cut file. And it is how a
     * file of a few hundred bytes claims 58 million pixels that libjpeg
     * would then decode from nothing. */
    if (cinfo->err->msg_code == JWRN_HIT_MARKER) {
        snprintf(d->msg, sizeof d->msg,
                 "corrupt JPEG data: premature end of data segment");
        jpeg_fail_now(d);
    }
}

static void
jpeg_output_message(j_common_ptr cinfo)
{
    (void)cinfo;
}

static void
jpeg_progress(j_common_ptr cinfo)
{
    j_decompress_ptr dinfo = (j_decompress_ptr)cinfo;
    if (dinfo->input_scan_number > JPEG_MAX_SCANS) {
        struct jpeg_dec *d = jpeg_dec_of(cinfo);
        snprintf(d->msg, sizeof d->msg, "corrupt JPEG data: more than %d scans",
                 JPEG_MAX_SCANS);
        jpeg_fail_now(d);
    }
}

/* The first APP1 marker that is EXIF decides; 1 when there is none. */
static int
jpeg_orientation(j_decompress_ptr cinfo)
{
    for (jpeg_saved_marker_ptr m = cinfo->marker_list; m != NULL; m = m->next)
        if (m->marker == JPEG_APP0 + 1 && m->data_length >= 6 &&
            memcmp(m->data, "Exif\0\0", 6) == 0)
            return exif_orientation(m->data, m->data_length);
    return 1;
}

/* CMYK (4 samples a pixel, n pixels) to RGB in place: pixel i is written
 * to [3i, 3i + 2], below 4i, the first byte of pixel i not yet read. */
static void
jpeg_cmyk_to_rgb(uint8_t *px, size_t n, int inverted)
{
    unsigned flip = inverted ? 0u : 255u;
    for (size_t i = 0; i < n; i++) {
        unsigned c = px[4 * i] ^ flip, m = px[4 * i + 1] ^ flip;
        unsigned y = px[4 * i + 2] ^ flip, k = px[4 * i + 3] ^ flip;
        /* Now each is 255 - ink: no ink is 255. */
        px[3 * i] = (uint8_t)IMAGE_DIV255(c * k);
        px[3 * i + 1] = (uint8_t)IMAGE_DIV255(m * k);
        px[3 * i + 2] = (uint8_t)IMAGE_DIV255(y * k);
    }
}

/* Everything between jpeg_mem_src and the finished pixels. Any libjpeg
 * call may longjmp out; everything allocated is recorded in d first. */
static void
jpeg_decode_body(struct jpeg_dec *d, int min_side)
{
    j_decompress_ptr cinfo = &d->cinfo;
    jpeg_save_markers(cinfo, JPEG_APP0 + 1, 0xffff);
    if (jpeg_read_header(cinfo, TRUE) != JPEG_HEADER_OK) {
        snprintf(d->msg, sizeof d->msg, "no image in JPEG data");
        jpeg_fail_now(d);
    }
    JDIMENSION w = cinfo->image_width, h = cinfo->image_height;
    if (image_too_large(w, h)) {
        snprintf(d->msg, sizeof d->msg, "image too large: %lux%lu",
                 (unsigned long)w, (unsigned long)h);
        jpeg_fail_now(d);
    }
    d->full_w = (int)w;
    d->full_h = (int)h;
    d->orientation = jpeg_orientation(cinfo);

    int cmyk = 0;
    switch (cinfo->jpeg_color_space) {
    case JCS_GRAYSCALE: cinfo->out_color_space = JCS_GRAYSCALE; break;
    case JCS_CMYK:
    case JCS_YCCK:
        cinfo->out_color_space = JCS_CMYK;
        cmyk = 1;
        break;
    default: cinfo->out_color_space = JCS_RGB; break;
    }

    if (min_side > 0) {
        JDIMENSION full = w > h ? w : h;
        JDIMENSION want =
            (JDIMENSION)min_side < full ? (JDIMENSION)min_side : full;
        for (unsigned m = 1; m <= 8; m++) {
            cinfo->scale_num = m;
            cinfo->scale_denom = 8;
            jpeg_calc_output_dimensions(cinfo);
            JDIMENSION ow = cinfo->output_width, oh = cinfo->output_height;
            if ((ow > oh ? ow : oh) >= want)
                break;
        }
    }

    jpeg_start_decompress(cinfo);
    int comps = cinfo->output_components;
    if (comps != (cmyk ? 4 : cinfo->out_color_space == JCS_RGB ? 3 : 1)) {
        snprintf(d->msg, sizeof d->msg, "unexpected JPEG output layout");
        jpeg_fail_now(d);
    }
    JDIMENSION ow = cinfo->output_width, oh = cinfo->output_height;
    /* Never larger than the header's size, checked above. */
    size_t stride = (size_t)ow * (size_t)comps;
    d->px = malloc(stride * oh);
    d->rows = malloc((size_t)oh * sizeof *d->rows);
    if (d->px == NULL || d->rows == NULL) {
        snprintf(d->msg, sizeof d->msg, "out of memory");
        jpeg_fail_now(d);
    }
    for (JDIMENSION y = 0; y < oh; y++)
        d->rows[y] = d->px + (size_t)y * stride;
    while (cinfo->output_scanline < oh) {
        JDIMENSION at = cinfo->output_scanline;
        if (jpeg_read_scanlines(cinfo, d->rows + at, oh - at) == 0) {
            /* Only a suspending source returns no rows; ours cannot. */
            snprintf(d->msg, sizeof d->msg, "truncated JPEG data");
            jpeg_fail_now(d);
        }
    }
    jpeg_finish_decompress(cinfo);

    size_t n = (size_t)ow * oh;
    if (cmyk) {
        jpeg_cmyk_to_rgb(d->px, n, cinfo->saw_Adobe_marker);
        uint8_t *p = realloc(d->px, n * 3);
        if (p != NULL)
            d->px = p;
    }
    d->width = (int)ow;
    d->height = (int)oh;
    d->channels = comps == 1 ? 1 : 3;
}

/* Holds the setjmp and nothing else, so no local can be clobbered. */
static int
jpeg_decode_guarded(struct jpeg_dec *d, const void *buf, size_t len,
                    int min_side)
{
    if (setjmp(d->jmp))
        return -1;
    /* Creating can fail too (out of memory), through error_exit; the
     * struct is zeroed, so destroying it afterwards is safe either way. */
    jpeg_create_decompress(&d->cinfo);
    d->cinfo.progress = &d->progress;
    jpeg_mem_src(&d->cinfo, buf, (unsigned long)len);
    jpeg_decode_body(d, min_side);
    return 0;
}

int
image_decode_jpeg(const void *buf, size_t len, int min_side, struct image *out,
                  struct image_info *info, char **cause)
{
    memset(out, 0, sizeof *out);
    struct jpeg_dec *d = calloc(1, sizeof *d);
    if (d == NULL)
        return wn_fail(cause, "out of memory");
    d->cinfo.err = jpeg_std_error(&d->err);
    d->err.error_exit = jpeg_error_exit;
    d->err.emit_message = jpeg_emit_message;
    d->err.output_message = jpeg_output_message;
    d->progress.progress_monitor = jpeg_progress;
    int rc = jpeg_decode_guarded(d, buf, len, min_side);
    jpeg_destroy_decompress(&d->cinfo);
    free(d->rows);
    if (rc != 0) {
        free(d->px);
        wn_fail(cause, "%s", d->msg[0] != '\0' ? d->msg : "corrupt JPEG data");
        free(d);
        return -1;
    }
    out->width = d->width;
    out->height = d->height;
    out->channels = d->channels;
    out->pixels = d->px;
    info->width = d->full_w;
    info->height = d->full_h;
    info->orientation = d->orientation;
    free(d);
    return 0;
}
