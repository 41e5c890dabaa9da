/* tests/unit/t-sha256.c: SHA-256 against the FIPS 180-4 / NIST example
 * vectors, the padding edges (lengths around 55, 56 and 64 bytes, whose
 * expected digests come from an independent implementation, Python's
 * hashlib), and incremental updates split at every and at odd boundaries,
 * which must agree with the one-shot digest. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/base.h"
#include "data/sha256.h"
#include "tests/tap.h"

static void
hex_of(const void *data, size_t len, char *out)
{
    unsigned char d[SHA256_LEN];
    sha256(data, len, d);
    sha256_hex(d, out);
}

static void
pattern(unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)((i * 7 + 3) & 255);
}

static void
test_vectors(void)
{
    char hex[2 * SHA256_LEN + 1];

    hex_of("", 0, hex);
    is_str(hex,
           "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    hex_of(NULL, 0, hex);
    is_str(hex,
           "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    hex_of("abc", 3, hex);
    is_str(hex,
           "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *m448 =
        "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    hex_of(m448, strlen(m448), hex);
    is_str(hex,
           "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    const char *m896 = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklm"
                       "nhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopq"
                       "rstu";
    hex_of(m896, strlen(m896), hex);
    is_str(hex,
           "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");

    /* One million 'a', fed in chunks of 1000 as the standard describes,
     * and in one piece. */
    unsigned char *a = xmalloc(1000000);
    memset(a, 'a', 1000000);
    struct sha256 s;
    unsigned char d[SHA256_LEN];
    sha256_init(&s);
    for (int i = 0; i < 1000; i++)
        sha256_update(&s, a, 1000);
    sha256_final(&s, d);
    sha256_hex(d, hex);
    is_str(hex,
           "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    hex_of(a, 1000000, hex);
    is_str(hex,
           "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    free(a);
}

static void
test_padding_edges(void)
{
    static const struct {
        size_t len;
        const char *hex;
    } cases[] = {
        {55,
         "e7313d333c272e639f790978283f9eb392e843d0f29b7016828bb1daa4aac70b"},
        {56,
         "4324d65f3c103567f5589c710bc08f8523f929a9272e3af36fc968e52abc6c27"},
        {57,
         "35df609437dcfea3279283ab79fd554e2bf78f8f7ae2de532d8ee300b09e8f73"},
        {63,
         "81c80242132f230c3bd41b3e63bbcff16107339549214a99614ff26664625055"},
        {64,
         "39e3d7b6b5d075d37d053ad89b24b41bef4f3c29760c84447cab3f3be1882241"},
        {65,
         "aacca6ff74fdbb296d165a45cecfa04e5127bc008770fbbdd48006f2d2fae95e"},
        {119,
         "9ce7368e4daf32341631b492e80359dc9f594b48453cd0dd5bf0b19279cc177e"},
        {120,
         "7836b787757e95e58b3ca5aec90b1b004e8deba1e50e9675af9cabf1a13a04b5"},
        {127,
         "a8d23e75d936f303d248888d9b165ee543f4cbafcad3c9dd2a79bd84faa11d07"},
        {128,
         "d2742f1f4ac6bb7ca2b239ee18402ba8b3f9f8e652d2a72973c2b9ba11c08cf6"},
        {129,
         "307f8fc2c1622b92762e818d39a185d4d667ad49a4b07ceae1f4afa008a93ec4"},
        {100000,
         "d96bab6a55ee326ba206dd4a85a6e95e14360d7fabbf448f03e689c24382b7d0"},
    };
    unsigned char *buf = xmalloc(100000);
    pattern(buf, 100000);
    for (size_t i = 0; i < WN_ARRAY_LEN(cases); i++) {
        char hex[2 * SHA256_LEN + 1];
        hex_of(buf, cases[i].len, hex);
        if (!is_str(hex, cases[i].hex))
            diag("length %zu", cases[i].len);
    }
    free(buf);
}

/* Every two-way split of a 200-byte message, and three-way splits at odd
 * sizes, must give the one-shot digest. */
static void
test_incremental(void)
{
    enum { N = 200 };
    unsigned char msg[N];
    unsigned char want[SHA256_LEN], got[SHA256_LEN];
    pattern(msg, N);
    sha256(msg, N, want);

    int bad = 0;
    for (size_t cut = 0; cut <= N; cut++) {
        struct sha256 s;
        sha256_init(&s);
        sha256_update(&s, msg, cut);
        sha256_update(&s, msg + cut, N - cut);
        sha256_final(&s, got);
        if (memcmp(got, want, SHA256_LEN) != 0) {
            diag("two-way split at %zu differs", cut);
            bad++;
        }
    }
    ok(bad == 0, "every two-way split matches the one-shot digest");

    bad = 0;
    for (size_t a = 0; a <= N; a += 3)
        for (size_t b = a; b <= N; b += 7) {
            struct sha256 s;
            sha256_init(&s);
            sha256_update(&s, msg, a);
            sha256_update(&s, msg + a, b - a);
            sha256_update(&s, NULL, 0);
            sha256_update(&s, msg + b, N - b);
            sha256_final(&s, got);
            if (memcmp(got, want, SHA256_LEN) != 0)
                bad++;
        }
    ok(bad == 0, "three-way splits at odd sizes match (%d differ)", bad);

    /* Byte at a time, then odd chunk sizes cycling 1, 3, 5, ..., 63. */
    struct sha256 s;
    sha256_init(&s);
    for (size_t i = 0; i < N; i++)
        sha256_update(&s, msg + i, 1);
    sha256_final(&s, got);
    ok(memcmp(got, want, SHA256_LEN) == 0, "byte-at-a-time matches");

    sha256_init(&s);
    size_t off = 0, step = 1;
    while (off < N) {
        size_t n = step < N - off ? step : N - off;
        sha256_update(&s, msg + off, n);
        off += n;
        step = step >= 63 ? 1 : step + 2;
    }
    sha256_final(&s, got);
    ok(memcmp(got, want, SHA256_LEN) == 0, "odd chunk sizes match");
}

static void
test_hex(void)
{
    unsigned char d[SHA256_LEN];
    for (int i = 0; i < SHA256_LEN; i++)
        d[i] = (unsigned char)(i * 8 + 7);
    char hex[2 * SHA256_LEN + 2];
    hex[2 * SHA256_LEN + 1] = 'X';
    sha256_hex(d, hex);
    is_str(hex,
           "070f171f272f373f474f575f676f777f878f979fa7afb7bfc7cfd7dfe7eff7ff");
    ok(hex[2 * SHA256_LEN + 1] == 'X', "sha256_hex writes 65 bytes only");
}

int
main(void)
{
    test_vectors();
    test_padding_edges();
    test_incremental();
    test_hex();
    return done_testing();
}
