/* engine/gemm.h: the engine's only door to BLAS. Row-major single-precision
 * matrix products, and the one knob for BLAS threads. cblas.h stays behind
 * this header (engine/gemm.c), so the rest of the engine sees plain floats
 * and ints. */
#ifndef WINNOW_ENGINE_GEMM_H
#define WINNOW_ENGINE_GEMM_H

enum gemm_op {
    GEMM_N = 0, /* use the matrix as stored */
    GEMM_T = 1  /* use its transpose */
};

/* Row-major C (m x n) = alpha * op(A) op(B) + beta * C, where op(A) is
 * m x k and op(B) is k x n. lda, ldb and ldc are the row strides of the
 * matrices as stored (A is m x k if GEMM_N, k x m if GEMM_T; likewise B).
 * With beta == 0, C may hold garbage (NaN included) on entry. Results are
 * bit-identical from run to run for a given thread count. */
void gemm_mul(enum gemm_op op_a, enum gemm_op op_b, int m, int n, int k,
              float alpha, const float *a, int lda, const float *b, int ldb,
              float beta, float *c, int ldc);

/* Shorthands for the three products the layers use, with tight strides:
 * C = alpha A B + beta C, C = alpha A B^T + beta C, C = alpha A^T B +
 * beta C. */
void gemm_nn(int m, int n, int k, float alpha, const float *a, const float *b,
             float beta, float *c);
void gemm_nt(int m, int n, int k, float alpha, const float *a, const float *b,
             float beta, float *c);
void gemm_tn(int m, int n, int k, float alpha, const float *a, const float *b,
             float beta, float *c);

/* The engine's thread budget, n >= 1: the one knob, set by app/ once,
 * before it creates a model (a model keeps the budget it was created with);
 * lower layers never choose. A model runs a team of n threads that split
 * each batch by images, and every product inside runs on one BLAS thread,
 * so this also sets BLAS to a single thread: n BLAS threads under each of
 * n members would oversubscribe the cores. Until it is called the budget
 * is 1 and BLAS keeps its own default. */
void gemm_set_threads(int n);
/* The budget in force. */
int gemm_threads(void);
/* BLAS's own thread count for one product, for benchmarks and tests that
 * time BLAS alone; gemm_set_threads resets it to 1. */
void gemm_set_blas_threads(int n);
/* A static description of the BLAS in use (library, kernel, build), for
 * logs and benchmark reports. */
const char *gemm_describe(void);

#endif
