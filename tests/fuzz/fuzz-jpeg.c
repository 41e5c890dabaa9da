/* tests/fuzz/fuzz-jpeg.c: the JPEG decoder (data/image_jpeg.c, data/exif.c)
 * behind image_decode, and what an import does next: the checks are in
 * fuzz-image.h, shared with fuzz-webp. The seeds
 * (corpus/jpeg, written by `mkpng seeds jpeg`) cover what photo collections
 * hold; libjpeg is the system's, not instrumented. */
#include "config.h"

#include "tests/fuzz/fuzz-image.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_image_run(data, size);
    return 0;
}
