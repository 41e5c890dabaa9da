/* engine/gemm.c: thin wrappers over OpenBLAS's cblas_sgemm. OpenBLAS splits
 * a product over threads by blocks of C, never along k, so every element of
 * C is summed in the same order whatever the thread count; the thread count
 * still changes the kernels' blocking, hence "bit-identical for a given
 * thread count" in the header. The wrappers add no copies: a call costs
 * what cblas_sgemm costs. */
#include "config.h"

#include "engine/gemm.h"

#include <assert.h>
#include <cblas.h>

void
gemm_mul(enum gemm_op op_a, enum gemm_op op_b, int m, int n, int k,
         float alpha, const float *a, int lda, const float *b, int ldb,
         float beta, float *c, int ldc)
{
    assert(m >= 0 && n >= 0 && k >= 0);
    if (m == 0 || n == 0)
        return;
    cblas_sgemm(CblasRowMajor, op_a == GEMM_T ? CblasTrans : CblasNoTrans,
                op_b == GEMM_T ? CblasTrans : CblasNoTrans, m, n, k, alpha, a,
                lda, b, ldb, beta, c, ldc);
}

void
gemm_nn(int m, int n, int k, float alpha, const float *a, const float *b,
        float beta, float *c)
{
    gemm_mul(GEMM_N, GEMM_N, m, n, k, alpha, a, k, b, n, beta, c, n);
}

void
gemm_nt(int m, int n, int k, float alpha, const float *a, const float *b,
        float beta, float *c)
{
    gemm_mul(GEMM_N, GEMM_T, m, n, k, alpha, a, k, b, k, beta, c, n);
}

void
gemm_tn(int m, int n, int k, float alpha, const float *a, const float *b,
        float beta, float *c)
{
    gemm_mul(GEMM_T, GEMM_N, m, n, k, alpha, a, m, b, n, beta, c, n);
}

void
gemm_set_threads(int n)
{
    openblas_set_num_threads(n < 1 ? 1 : n);
}

int
gemm_threads(void)
{
    return openblas_get_num_threads();
}

const char *
gemm_describe(void)
{
    return openblas_get_config();
}
