/* tests/fuzz/fuzz-webp.c: the WebP decoder (data/image_webp.c, data/exif.c)
 * behind image_decode, and what an import does next: the checks are in
 * fuzz-image.h, shared with fuzz-jpeg. The seeds
 * (corpus/webp, written by `mkpng seeds webp`) cover what photo collections
 * hold; libwebp is the system's, not instrumented. */
#include "config.h"

#include "tests/fuzz/fuzz-image.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_image_run(data, size);
    return 0;
}
