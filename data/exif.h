/* data/exif.h: the one EXIF tag winnow reads, Orientation. */
#ifndef WINNOW_DATA_EXIF_H
#define WINNOW_DATA_EXIF_H

#include <stddef.h>

/* The Orientation (tag 0x0112 of IFD0, 1..8) of an EXIF block: a TIFF
 * structure, with or without the "Exif\0\0" that JPEG's APP1 puts before
 * it (WebP's EXIF chunk is written both ways). 1, upright, when the block
 * has no such tag or is malformed: a bad tag must not cost the photo. */
int exif_orientation(const void *buf, size_t len);

#endif
