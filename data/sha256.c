/* data/sha256.c: SHA-256 as FIPS 180-4 defines it.
 *
 * Straight from the standard: a 64-byte block buffer, a compression function
 * with the message schedule kept in a 16-word ring (so the working set stays
 * in registers and L1), and rounds unrolled eight at a time by rotating the
 * roles of a..h through a macro rather than moving values between them.
 * Whole blocks are hashed straight from the caller's buffer; only a partial
 * head or tail is copied. Big-endian loads are done byte by byte, which
 * compilers turn into a single load and bswap on every target that has one,
 * and which never reads unaligned. */
#include "config.h"

#include "data/sha256.h"

#include <string.h>

static const uint32_t sha256_k[64] = {
    0x428a2f98u, 0x71374491u, 0xb5c0fbcfu, 0xe9b5dba5u, 0x3956c25bu,
    0x59f111f1u, 0x923f82a4u, 0xab1c5ed5u, 0xd807aa98u, 0x12835b01u,
    0x243185beu, 0x550c7dc3u, 0x72be5d74u, 0x80deb1feu, 0x9bdc06a7u,
    0xc19bf174u, 0xe49b69c1u, 0xefbe4786u, 0x0fc19dc6u, 0x240ca1ccu,
    0x2de92c6fu, 0x4a7484aau, 0x5cb0a9dcu, 0x76f988dau, 0x983e5152u,
    0xa831c66du, 0xb00327c8u, 0xbf597fc7u, 0xc6e00bf3u, 0xd5a79147u,
    0x06ca6351u, 0x14292967u, 0x27b70a85u, 0x2e1b2138u, 0x4d2c6dfcu,
    0x53380d13u, 0x650a7354u, 0x766a0abbu, 0x81c2c92eu, 0x92722c85u,
    0xa2bfe8a1u, 0xa81a664bu, 0xc24b8b70u, 0xc76c51a3u, 0xd192e819u,
    0xd6990624u, 0xf40e3585u, 0x106aa070u, 0x19a4c116u, 0x1e376c08u,
    0x2748774cu, 0x34b0bcb5u, 0x391c0cb3u, 0x4ed8aa4au, 0x5b9cca4fu,
    0x682e6ff3u, 0x748f82eeu, 0x78a5636fu, 0x84c87814u, 0x8cc70208u,
    0x90befffau, 0xa4506cebu, 0xbef9a3f7u, 0xc67178f2u,
};

#define ROTR(x, n)   (((x) >> (n)) | ((x) << (32 - (n))))
#define CH(x, y, z)  (((x) & (y)) ^ (~(x) & (z)))
#define MAJ(x, y, z) (((x) & (y)) | ((z) & ((x) | (y))))
#define BSIG0(x)     (ROTR(x, 2) ^ ROTR(x, 13) ^ ROTR(x, 22))
#define BSIG1(x)     (ROTR(x, 6) ^ ROTR(x, 11) ^ ROTR(x, 25))
#define SSIG0(x)     (ROTR(x, 7) ^ ROTR(x, 18) ^ ((x) >> 3))
#define SSIG1(x)     (ROTR(x, 17) ^ ROTR(x, 19) ^ ((x) >> 10))

static uint32_t
sha256_load_be(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           (uint32_t)p[3];
}

static void
sha256_store_be(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* One round; the caller passes the eight variables in rotated order so that
 * no assignments shuffle them. w[i & 15] must already hold W_i. */
#define ROUND(a, b, c, d, e, f, g, h, i)                                       \
    do {                                                                       \
        uint32_t t1_ = (h) + BSIG1(e) + CH(e, f, g) + sha256_k[i] + w[(i)&15]; \
        (d) += t1_;                                                            \
        (h) = t1_ + BSIG0(a) + MAJ(a, b, c);                                   \
    } while (0)

/* W_i for i >= 16, computed in place in the ring. */
#define SCHED(i)                                                               \
    (w[(i)&15] +=                                                              \
     SSIG1(w[((i)-2) & 15]) + w[((i)-7) & 15] + SSIG0(w[((i)-15) & 15]))

#define EIGHT(i)                                                               \
    do {                                                                       \
        ROUND(a, b, c, d, e, f, g, h, (i) + 0);                                \
        ROUND(h, a, b, c, d, e, f, g, (i) + 1);                                \
        ROUND(g, h, a, b, c, d, e, f, (i) + 2);                                \
        ROUND(f, g, h, a, b, c, d, e, (i) + 3);                                \
        ROUND(e, f, g, h, a, b, c, d, (i) + 4);                                \
        ROUND(d, e, f, g, h, a, b, c, (i) + 5);                                \
        ROUND(c, d, e, f, g, h, a, b, (i) + 6);                                \
        ROUND(b, c, d, e, f, g, h, a, (i) + 7);                                \
    } while (0)

#define SCHED8(i)                                                              \
    do {                                                                       \
        SCHED((i) + 0);                                                        \
        SCHED((i) + 1);                                                        \
        SCHED((i) + 2);                                                        \
        SCHED((i) + 3);                                                        \
        SCHED((i) + 4);                                                        \
        SCHED((i) + 5);                                                        \
        SCHED((i) + 6);                                                        \
        SCHED((i) + 7);                                                        \
    } while (0)

static void
sha256_blocks(uint32_t h_state[8], const unsigned char *p, size_t nblocks)
{
    uint32_t w[16];
    while (nblocks-- > 0) {
        for (int i = 0; i < 16; i++)
            w[i] = sha256_load_be(p + 4 * i);
        uint32_t a = h_state[0], b = h_state[1], c = h_state[2];
        uint32_t d = h_state[3], e = h_state[4], f = h_state[5];
        uint32_t g = h_state[6], h = h_state[7];
        EIGHT(0);
        EIGHT(8);
        for (int i = 16; i < 64; i += 16) {
            /* The schedule for a group of eight only depends on words
             * at least two rounds old, so filling it ahead is exact. */
            SCHED8(i);
            EIGHT(i);
            SCHED8(i + 8);
            EIGHT(i + 8);
        }
        h_state[0] += a;
        h_state[1] += b;
        h_state[2] += c;
        h_state[3] += d;
        h_state[4] += e;
        h_state[5] += f;
        h_state[6] += g;
        h_state[7] += h;
        p += 64;
    }
}

void
sha256_init(struct sha256 *s)
{
    static const uint32_t iv[8] = {
        0x6a09e667u, 0xbb67ae85u, 0x3c6ef372u, 0xa54ff53au,
        0x510e527fu, 0x9b05688cu, 0x1f83d9abu, 0x5be0cd19u,
    };
    memcpy(s->h, iv, sizeof iv);
    s->nbytes = 0;
    s->fill = 0;
}

void
sha256_update(struct sha256 *s, const void *data, size_t len)
{
    const unsigned char *p = data;
    if (len == 0)
        return; /* data may be NULL then */
    s->nbytes += len;
    if (s->fill > 0) {
        size_t take = 64 - s->fill;
        if (take > len)
            take = len;
        memcpy(s->block + s->fill, p, take);
        s->fill += take;
        p += take;
        len -= take;
        if (s->fill < 64)
            return;
        sha256_blocks(s->h, s->block, 1);
        s->fill = 0;
    }
    if (len >= 64) {
        size_t n = len / 64;
        sha256_blocks(s->h, p, n);
        p += n * 64;
        len -= n * 64;
    }
    if (len > 0) {
        memcpy(s->block, p, len);
        s->fill = len;
    }
}

void
sha256_final(struct sha256 *s, unsigned char out[SHA256_LEN])
{
    uint64_t bits = s->nbytes * 8u;
    s->block[s->fill++] = 0x80;
    if (s->fill > 56) {
        memset(s->block + s->fill, 0, 64 - s->fill);
        sha256_blocks(s->h, s->block, 1);
        s->fill = 0;
    }
    memset(s->block + s->fill, 0, 56 - s->fill);
    sha256_store_be(s->block + 56, (uint32_t)(bits >> 32));
    sha256_store_be(s->block + 60, (uint32_t)bits);
    sha256_blocks(s->h, s->block, 1);
    for (int i = 0; i < 8; i++)
        sha256_store_be(out + 4 * i, s->h[i]);
    /* Leave no digest-related state behind for a careless reuse to pick
     * up; a reused struct must go through sha256_init again. */
    memset(s, 0, sizeof *s);
}

void
sha256(const void *data, size_t len, unsigned char out[SHA256_LEN])
{
    struct sha256 s;
    sha256_init(&s);
    sha256_update(&s, data, len);
    sha256_final(&s, out);
}

void
sha256_hex(const unsigned char digest[SHA256_LEN], char *out)
{
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < SHA256_LEN; i++) {
        out[2 * i] = hex[digest[i] >> 4];
        out[2 * i + 1] = hex[digest[i] & 15];
    }
    out[2 * SHA256_LEN] = '\0';
}
