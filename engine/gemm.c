/* engine/gemm.c: thin wrappers over OpenBLAS's cblas_sgemm, and the thread
 * budget. The engine parallelises above BLAS (engine/par.h): on this
 * class of machine two single-threaded products side by side beat one
 * product split by OpenBLAS on the CNN's narrow shapes, and OpenBLAS's idle
 * workers spin between calls, which would steal the cores from the
 * engine's own memory-bound kernels. A product's result does not depend on
 * which thread runs it, so results repeat bit for bit for a given budget.
 * The wrappers add no copies: a call costs what cblas_sgemm costs. */
#include "config.h"

#include "engine/gemm.h"

#include <assert.h>
#include <cblas.h>

void
gemm_mul(enum gemm_op op_a, enum gemm_op op_b, int m, int n, int k, float alpha,
         const float *a, int lda, const float *b, int ldb, float beta, float *c,
         int ldc)
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

/* Written by app/ once before any model exists; read by model_new. */
static int gemm_budget = 1;

void
gemm_set_threads(int n)
{
    gemm_budget = n < 1 ? 1 : n;
    openblas_set_num_threads(1);
}

int
gemm_threads(void)
{
    return gemm_budget;
}

void
gemm_set_blas_threads(int n)
{
    openblas_set_num_threads(n < 1 ? 1 : n);
}

const char *
gemm_describe(void)
{
    return openblas_get_config();
}
