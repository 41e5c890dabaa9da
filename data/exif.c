/* data/exif.c: Orientation from an EXIF block, and nothing else.
 *
 * An EXIF block is a small TIFF file: a byte-order mark ("II" little
 * endian, "MM" big), 42, the offset of the first IFD, then at that offset
 * a count and 12-byte entries (tag, type, count, value). Orientation lives
 * in IFD0, so one directory is read and no offset is ever followed further:
 * every read is checked against the block's length, and a block written by
 * anything, however broken, costs at most its IFD0's entries. */
#include "config.h"

#include "data/exif.h"

#include <stdint.h>
#include <string.h>

#define EXIF_TAG_ORIENTATION 0x0112
#define EXIF_TYPE_SHORT      3

struct exif_tiff {
    const unsigned char *p;
    size_t len;
    int big; /* "MM" */
};

static unsigned
exif_u16(const struct exif_tiff *t, size_t at)
{
    const unsigned char *q = t->p + at;
    return t->big ? (unsigned)q[0] << 8 | q[1] : (unsigned)q[1] << 8 | q[0];
}

static uint32_t
exif_u32(const struct exif_tiff *t, size_t at)
{
    uint32_t hi = exif_u16(t, at), lo = exif_u16(t, at + 2);
    return t->big ? hi << 16 | lo : lo << 16 | hi;
}

int
exif_orientation(const void *buf, size_t len)
{
    struct exif_tiff t = {buf, len, 0};
    if (t.len >= 6 && memcmp(t.p, "Exif\0\0", 6) == 0) {
        t.p += 6;
        t.len -= 6;
    }
    if (t.len < 8)
        return 1;
    if (memcmp(t.p, "MM", 2) == 0)
        t.big = 1;
    else if (memcmp(t.p, "II", 2) != 0)
        return 1;
    if (exif_u16(&t, 2) != 42)
        return 1;
    uint32_t ifd = exif_u32(&t, 4);
    if (ifd < 8 || ifd > t.len - 2)
        return 1;
    unsigned n = exif_u16(&t, ifd);
    size_t room = (t.len - ifd - 2) / 12;
    if (n > room)
        n = (unsigned)room; /* read the entries that are there */
    for (unsigned i = 0; i < n; i++) {
        size_t e = ifd + 2 + (size_t)i * 12;
        if (exif_u16(&t, e) != EXIF_TAG_ORIENTATION)
            continue;
        /* A SHORT with count 1 sits in the first two value bytes. */
        if (exif_u16(&t, e + 2) != EXIF_TYPE_SHORT || exif_u32(&t, e + 4) != 1)
            return 1;
        unsigned v = exif_u16(&t, e + 8);
        return v >= 1 && v <= 8 ? (int)v : 1;
    }
    return 1;
}
