/* t-gemm: the sgemm wrappers against a naive triple loop in double, for
 * every transpose pair, odd shapes, padded leading dimensions, alpha and
 * beta (beta 0 must ignore NaN in C), and the thread knob. */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/gemm.h"
#include "engine/rng.h"
#include "tests/tap.h"

/* Worst |c - ref| / (sum |alpha a b| + |beta c0| + tiny) over C. */
static double
check_one(enum gemm_op ta, enum gemm_op tb, int m, int n, int k, int pad,
          float alpha, float beta, struct rng *r)
{
    int lda = (ta == GEMM_N ? k : m) + pad;
    int ldb = (tb == GEMM_N ? n : k) + pad;
    int ldc = n + pad;
    int arows = ta == GEMM_N ? m : k, brows = tb == GEMM_N ? k : n;
    float *a = malloc(sizeof(float) * (size_t)arows * lda);
    float *b = malloc(sizeof(float) * (size_t)brows * ldb);
    float *c = malloc(sizeof(float) * (size_t)m * ldc);
    float *c0 = malloc(sizeof(float) * (size_t)m * ldc);
    double worst = 0.0;

    for (int i = 0; i < arows * lda; i++)
        a[i] = rng_uniform(r) * 2.0f - 1.0f;
    for (int i = 0; i < brows * ldb; i++)
        b[i] = rng_uniform(r) * 2.0f - 1.0f;
    for (int i = 0; i < m * ldc; i++)
        c0[i] = beta == 0.0f ? NAN : rng_uniform(r) * 2.0f - 1.0f;
    memcpy(c, c0, sizeof(float) * (size_t)m * ldc);

    gemm_mul(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);

    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            double s = 0.0, mag = 1e-30;
            for (int p = 0; p < k; p++) {
                double av =
                    (double)(ta == GEMM_N ? a[i * lda + p] : a[p * lda + i]);
                double bv =
                    (double)(tb == GEMM_N ? b[p * ldb + j] : b[j * ldb + p]);
                s += av * bv;
                mag += fabs(av * bv);
            }
            s *= (double)alpha;
            mag *= fabs((double)alpha);
            if (beta != 0.0f) {
                s += (double)beta * (double)c0[i * ldc + j];
                mag += fabs((double)beta * (double)c0[i * ldc + j]);
            }
            double e = fabs((double)c[i * ldc + j] - s) / mag;
            if (!(e <= worst)) /* NaN counts as worst */
                worst = isnan(e) ? HUGE_VAL : e;
        }
    /* The padding of C must be left alone. */
    for (int i = 0; i < m; i++)
        for (int j = n; j < ldc; j++)
            if (memcmp(&c[i * ldc + j], &c0[i * ldc + j], sizeof(float)))
                worst = HUGE_VAL;
    free(a);
    free(b);
    free(c);
    free(c0);
    return worst;
}

static void
check_shorthands(struct rng *r)
{
    enum { M = 13, N = 21, K = 9 };
    float a[M * K], at[K * M], b[K * N], bt[N * K];
    float c1[M * N], c2[M * N], c3[M * N], c4[M * N];

    for (int i = 0; i < M; i++)
        for (int p = 0; p < K; p++)
            a[i * K + p] = at[p * M + i] = rng_uniform(r) - 0.5f;
    for (int p = 0; p < K; p++)
        for (int j = 0; j < N; j++)
            b[p * N + j] = bt[j * K + p] = rng_uniform(r) - 0.5f;
    gemm_mul(GEMM_N, GEMM_N, M, N, K, 1.0f, a, K, b, N, 0.0f, c1, N);
    gemm_nn(M, N, K, 1.0f, a, b, 0.0f, c2);
    gemm_nt(M, N, K, 1.0f, a, bt, 0.0f, c3);
    gemm_tn(M, N, K, 1.0f, at, b, 0.0f, c4);
    ok(memcmp(c1, c2, sizeof(c1)) == 0, "gemm_nn equals gemm_mul NN");
    double e3 = 0.0, e4 = 0.0;
    for (int i = 0; i < M * N; i++) {
        e3 = fmax(e3, fabs((double)(c3[i] - c1[i])));
        e4 = fmax(e4, fabs((double)(c4[i] - c1[i])));
    }
    ok(e3 < 1e-5, "gemm_nt on B^T equals A B (err %g)", e3);
    ok(e4 < 1e-5, "gemm_tn on A^T equals A B (err %g)", e4);
}

int
main(void)
{
    static const int shapes[][3] = {
        {1, 1, 1},      {3, 5, 7},     {17, 33, 9}, {64, 48, 130},
        {32, 288, 200}, {128, 70, 64}, {7, 1, 300},
    };
    static const enum gemm_op ops[2] = {GEMM_N, GEMM_T};
    struct rng r;

    rng_seed(&r, 42);
    for (size_t s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++)
        for (int ta = 0; ta < 2; ta++)
            for (int tb = 0; tb < 2; tb++) {
                int m = shapes[s][0], n = shapes[s][1], k = shapes[s][2];
                int pad = (int)(s % 3);
                float alpha = s % 2 ? -1.5f : 1.0f;
                float beta = s % 3 == 0 ? 0.0f : 0.5f;
                double e =
                    check_one(ops[ta], ops[tb], m, n, k, pad, alpha, beta, &r);
                ok(e < 1e-5,
                   "%c%c m=%d n=%d k=%d pad=%d alpha=%g beta=%g: rel err %g",
                   ta ? 'T' : 'N', tb ? 'T' : 'N', m, n, k, pad, (double)alpha,
                   (double)beta, e);
            }
    check_shorthands(&r);

    {
        float c = 5.0f;
        gemm_mul(GEMM_N, GEMM_N, 0, 1, 3, 1.0f, NULL, 3, NULL, 1, 0.0f, &c, 1);
        gemm_mul(GEMM_N, GEMM_N, 1, 0, 3, 1.0f, NULL, 3, NULL, 1, 0.0f, &c, 1);
        is_float(c, 5.0, 0.0);
    }

    gemm_set_threads(2);
    is_int(gemm_threads(), ==, 2);
    gemm_set_threads(1);
    is_int(gemm_threads(), ==, 1);
    ok(gemm_describe() != NULL && strlen(gemm_describe()) > 0,
       "gemm_describe: %s", gemm_describe());
    return done_testing();
}
