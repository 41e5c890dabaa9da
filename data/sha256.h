/* data/sha256.h: SHA-256 (FIPS 180-4), for content hashes of decoded
 * images. A leaf module. */
#ifndef WINNOW_DATA_SHA256_H
#define WINNOW_DATA_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_LEN 32

struct sha256 { /* plain data: embed it, sha256_init it */
    uint32_t h[8];
    uint64_t nbytes;
    unsigned char block[64];
    size_t fill;
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t len);
void sha256_final(struct sha256 *s, unsigned char out[SHA256_LEN]);
/* One-shot convenience. */
void sha256(const void *data, size_t len, unsigned char out[SHA256_LEN]);
/* Lower-case hex of a digest; out must hold 2*SHA256_LEN+1 bytes. */
void sha256_hex(const unsigned char digest[SHA256_LEN], char *out);

#endif
