/* engine/layers.c: forward and backward kernels of the CNN.
 *
 * Convolution is im2col + one sgemm per group of images: the group's
 * columns are laid side by side, col (K, G*P) with K = C_in*k*k and
 * P = H_out*W_out, so that the product W (C_out, K) x col is wide enough
 * for BLAS to run near its peak even where one image is small (an 8x8
 * plane alone gives a 64-column product). The product lands in a
 * (C_out, G*P) scratch that is copied out to NCHW while it is still in
 * cache; with G = 1 it lands in place. The backward recomputes the group's
 * im2col rather than keeping the forward's: a whole batch of columns is
 * larger than the last-level cache, so storing it costs as much memory
 * traffic as rebuilding it, and the rebuilt block then feeds both products
 * (dW += dY col^T, then dcol = W^T dY written over col and folded back by
 * col2im). Same-size convolutions (the CNN's) take a faster im2col and
 * col2im made of whole shifted planes.
 *
 * The other kernels are memory-bound, so they touch each array as few times
 * as possible: batch norm takes its statistics in one pass (per-plane sums
 * shifted by one sample of the plane, which keeps the variance from
 * cancelling, folded over the images in double) and applies scale, shift
 * and the fused ReLU in a second; its backward recomputes the normalised
 * input and the ReLU mask from the saved input instead of storing them.
 * Batch norm also comes in phases (per-plane sums, a reduction, an
 * elementwise pass) so that a caller can split the images over threads and
 * still get the one-call result bit for bit.
 *
 * Loops are written to be vectorised by GCC at -O2, whose cost model only
 * vectorises loops it can finish without a scalar epilogue: hot loops run
 * in blocks of LANES with a fixed-count inner loop, loads are unconditional
 * and choices are selects, and reductions keep LANES partial sums, added in
 * a fixed order at the end. Partial sums of a plane are then accumulated in
 * double. Every order is fixed, so results repeat bit for bit. */
#include "config.h"

#include "engine/layers.h"

#include <assert.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "engine/gemm.h"
#include "engine/rng.h"

#define LANES            16

/* Columns of one convolution product (see conv_group); chosen with
 * tests/bench/bench-gemm.c: 512 beat 1024 by 2-6% of the training step's
 * CPU time (its blocks stay in the 2 MiB L2 beside the packed copies),
 * 2048 lost 8%, 256 measured as 512 (BENCHMARKS.md). */
#define CONV_TARGET_COLS 512

void
layers_init_he(struct rng *r, float *w, size_t n, int fan_in)
{
    assert(fan_in > 0);
    rng_fill_normal(r, w, n, 0.0f, sqrtf(2.0f / (float)fan_in));
}

/* --- small vector helpers ------------------------------------------------ */

/* Sum of x[0..n) as a double, from LANES float partial sums. */
static double
layers_sum(const float *restrict x, size_t n)
{
    float acc[LANES] = {0};
    size_t i = 0;
    double s = 0.0;

    for (; i + LANES <= n; i += LANES)
        for (int j = 0; j < LANES; j++)
            acc[j] += x[i + j];
    for (; i < n; i++)
        s += (double)x[i];
    for (int j = 0; j < LANES; j++)
        s += (double)acc[j];
    return s;
}

/* y = x * scale + offset, then max(0, .) if relu. y may equal x: each
 * block is computed whole before it is stored. */
static void
layers_affine(size_t n, float *y, const float *x, float scale, float offset,
              int relu)
{
    size_t i = 0;

    if (!relu) {
        for (; i + LANES <= n; i += LANES) {
            float t[LANES];
            for (int l = 0; l < LANES; l++)
                t[l] = x[i + l] * scale + offset;
            memcpy(y + i, t, sizeof(t));
        }
        for (; i < n; i++)
            y[i] = x[i] * scale + offset;
        return;
    }
    for (; i + LANES <= n; i += LANES) {
        float t[LANES];
        for (int l = 0; l < LANES; l++) {
            float v = x[i + l] * scale + offset;
            t[l] = v > 0.0f ? v : 0.0f;
        }
        memcpy(y + i, t, sizeof(t));
    }
    for (; i < n; i++) {
        float v = x[i] * scale + offset;
        y[i] = v > 0.0f ? v : 0.0f;
    }
}

/* --- convolution ---------------------------------------------------------- */

int
conv_geom_init(struct conv_geom *g, int c_in, int h, int w, int c_out,
               int ksize, int stride, int pad)
{
    memset(g, 0, sizeof(*g));
    if (c_in < 1 || h < 1 || w < 1 || c_out < 1 || ksize < 1 || stride < 1 ||
        pad < 0 || pad >= ksize)
        return -1;
    if (h + 2 * pad < ksize || w + 2 * pad < ksize)
        return -1;
    g->c_in = c_in;
    g->h = h;
    g->w = w;
    g->c_out = c_out;
    g->ksize = ksize;
    g->stride = stride;
    g->pad = pad;
    g->h_out = (h + 2 * pad - ksize) / stride + 1;
    g->w_out = (w + 2 * pad - ksize) / stride + 1;
    return 0;
}

int
conv_group(const struct conv_geom *g, int n)
{
    int p = g->h_out * g->w_out;
    int grp = CONV_TARGET_COLS / p;

    if (grp < 1)
        grp = 1;
    if (grp > n)
        grp = n;
    return grp;
}

size_t
conv_work_floats(const struct conv_geom *g, int max_n)
{
    size_t k = (size_t)g->c_in * g->ksize * g->ksize;
    size_t grp = (size_t)conv_group(g, max_n < 1 ? 1 : max_n);
    size_t cols = grp * g->h_out * g->w_out;
    size_t rows = k + (grp > 1 ? (size_t)g->c_out : 0);
    size_t dwt = k * (size_t)g->c_out;

    if (cols != 0 && rows > SIZE_MAX / cols)
        return 0;
    if (rows * cols > SIZE_MAX - dwt)
        return 0;
    return rows * cols + dwt;
}

double
conv_flops(const struct conv_geom *g)
{
    return 2.0 * g->c_out * g->c_in * g->ksize * g->ksize * g->h_out * g->w_out;
}

/* Output columns [lo, hi) of a kernel column kx read inside the input row;
 * the rest read padding. */
static void
conv_span(const struct conv_geom *g, int kx, int *lo, int *hi)
{
    int a = g->pad - kx;            /* need ox*stride >= a */
    int b = g->w - 1 + g->pad - kx; /* need ox*stride <= b */
    int l = a <= 0 ? 0 : (a + g->stride - 1) / g->stride;
    int u = b < 0 ? 0 : b / g->stride + 1;

    if (u > g->w_out)
        u = g->w_out;
    if (l > u)
        l = u;
    *lo = l;
    *hi = u;
}

/* Same-size convolutions (stride 1, pad = (k - 1) / 2, the CNN's case)
 * have a faster im2col: a tap (dy, dx) of an image plane is the plane
 * shifted by dy * W + dx, so it is one contiguous copy with rows falling
 * off the top or bottom zeroed and the columns that wrapped around an edge
 * cleared afterwards. Rows of 8 floats (the last stage) would otherwise
 * cost a call each. */
static int
conv_is_same(const struct conv_geom *g)
{
    return g->stride == 1 && g->h_out == g->h && g->w_out == g->w;
}

/* The part of a plane that a shifted copy covers: output rows [*r0, *r1)
 * read input rows, and flat indices [*j0, *j1) can be copied without
 * leaving the plane. */
static void
conv_same_span(const struct conv_geom *g, int dy, int dx, int *r0, int *r1,
               size_t *j0, size_t *j1)
{
    int lo = dy < 0 ? -dy : 0, hi = dy > 0 ? g->h - dy : g->h;
    size_t b, e;

    if (hi < lo)
        hi = lo;
    b = (size_t)lo * g->w + (size_t)(dx < 0 ? -dx : 0);
    e = (size_t)hi * g->w;
    e = e >= (size_t)(dx > 0 ? dx : 0) ? e - (size_t)(dx > 0 ? dx : 0) : 0;
    *r0 = lo;
    *r1 = hi;
    *j0 = b;
    *j1 = e > b ? e : b;
}

/* Zero the entries of rows [r0, r1) that a shift by dx wrapped around. */
static void
conv_same_clear_edges(const struct conv_geom *g, float *plane, int r0, int r1,
                      int dx)
{
    int c0 = dx < 0 ? 0 : g->w - dx, c1 = dx < 0 ? -dx : g->w;

    if (c0 < 0)
        c0 = 0;
    if (c1 > g->w)
        c1 = g->w;
    if (dx == 0 || c0 >= c1)
        return;
    /* One store per row for the usual one-column shift: a loop here would
     * become a call to memset per row. */
    if (c1 - c0 == 1) {
        for (int r = r0; r < r1; r++)
            plane[(size_t)r * g->w + c0] = 0.0f;
        return;
    }
    for (int r = r0; r < r1; r++)
        memset(plane + (size_t)r * g->w + c0, 0,
               sizeof(float) * (size_t)(c1 - c0));
}

static void
conv_im2col_same(const struct conv_geom *g, int count, size_t ld,
                 float *restrict col, /* (K, ld) */
                 const float *restrict in /* (count, C_in, H, W) */)
{
    int ks = g->ksize;
    size_t p = (size_t)g->h * g->w;

    for (int ci = 0; ci < g->c_in; ci++)
        for (int ky = 0; ky < ks; ky++)
            for (int kx = 0; kx < ks; kx++) {
                size_t row = ((size_t)ci * ks + ky) * ks + kx;
                int dy = ky - g->pad, dx = kx - g->pad, r0, r1;
                ptrdiff_t shift = (ptrdiff_t)dy * g->w + dx;
                size_t j0, j1;

                conv_same_span(g, dy, dx, &r0, &r1, &j0, &j1);
                for (int i = 0; i < count; i++) {
                    const float *src = in + ((size_t)i * g->c_in + ci) * p;
                    float *dst = col + row * ld + (size_t)i * p;

                    memset(dst, 0, sizeof(float) * j0);
                    if (j1 > j0)
                        memcpy(dst + j0, src + j0 + shift,
                               sizeof(float) * (j1 - j0));
                    memset(dst + j1, 0, sizeof(float) * (p - j1));
                    conv_same_clear_edges(g, dst, r0, r1, dx);
                }
            }
}

/* d[0..n) += s[0..n). */
static void
layers_add(size_t n, float *restrict d, const float *restrict s)
{
    size_t i = 0;

    for (; i + LANES <= n; i += LANES)
        for (int l = 0; l < LANES; l++)
            d[i + l] += s[i + l];
    for (; i < n; i++)
        d[i] += s[i];
}

/* The adjoint of conv_im2col_same. The centre tap covers every position,
 * so it initialises the plane; the other taps have their wrapped entries
 * cleared (col is scratch) and are added as shifted contiguous runs. */
static void
conv_col2im_same(const struct conv_geom *g, int count, size_t ld,
                 float *restrict din, /* (count, C_in, H, W) */
                 float *restrict col /* (K, ld), clobbered */)
{
    int ks = g->ksize;
    size_t p = (size_t)g->h * g->w;

    for (int i = 0; i < count; i++)
        for (int ci = 0; ci < g->c_in; ci++) {
            float *dst = din + ((size_t)i * g->c_in + ci) * p;
            size_t centre = ((size_t)ci * ks + g->pad) * ks + g->pad;

            memcpy(dst, col + centre * ld + (size_t)i * p, sizeof(float) * p);
            for (int ky = 0; ky < ks; ky++)
                for (int kx = 0; kx < ks; kx++) {
                    size_t row = ((size_t)ci * ks + ky) * ks + kx;
                    int dy = ky - g->pad, dx = kx - g->pad, r0, r1;
                    ptrdiff_t shift = (ptrdiff_t)dy * g->w + dx;
                    float *src = col + row * ld + (size_t)i * p;
                    size_t j0, j1;

                    if (row == centre)
                        continue;
                    conv_same_span(g, dy, dx, &r0, &r1, &j0, &j1);
                    conv_same_clear_edges(g, src, r0, r1, dx);
                    if (j1 > j0)
                        layers_add(j1 - j0, dst + j0 + shift, src + j0);
                }
        }
}

static void
conv_im2col(const struct conv_geom *g, int count, size_t ld,
            float *restrict col, /* (K, ld), image i at column i*P */
            const float *restrict in /* (count, C_in, H, W) */)
{
    int ks = g->ksize, s = g->stride, wo = g->w_out;
    size_t p = (size_t)g->h_out * wo, plane = (size_t)g->h * g->w;

    for (int ci = 0; ci < g->c_in; ci++)
        for (int ky = 0; ky < ks; ky++)
            for (int kx = 0; kx < ks; kx++) {
                size_t row = ((size_t)ci * ks + ky) * ks + kx;
                int lo, hi, off = kx - g->pad;

                conv_span(g, kx, &lo, &hi);
                for (int i = 0; i < count; i++) {
                    const float *src = in + ((size_t)i * g->c_in + ci) * plane;
                    float *dst = col + row * ld + (size_t)i * p;

                    for (int oy = 0; oy < g->h_out; oy++, dst += wo) {
                        int iy = oy * s - g->pad + ky;
                        const float *srow;

                        if (iy < 0 || iy >= g->h) {
                            memset(dst, 0, sizeof(float) * (size_t)wo);
                            continue;
                        }
                        srow = src + (size_t)iy * g->w;
                        memset(dst, 0, sizeof(float) * (size_t)lo);
                        if (s == 1)
                            memcpy(dst + lo, srow + lo + off,
                                   sizeof(float) * (size_t)(hi - lo));
                        else
                            for (int ox = lo; ox < hi; ox++)
                                dst[ox] = srow[ox * s + off];
                        memset(dst + hi, 0, sizeof(float) * (size_t)(wo - hi));
                    }
                }
            }
}

/* din = the sum of col's entries over the input positions they came from. */
static void
conv_col2im(const struct conv_geom *g, int count, size_t ld,
            float *restrict din, /* (count, C_in, H, W) */
            const float *restrict col /* (K, ld) */)
{
    int ks = g->ksize, s = g->stride, wo = g->w_out;
    size_t p = (size_t)g->h_out * wo, plane = (size_t)g->h * g->w;

    for (int i = 0; i < count; i++)
        for (int ci = 0; ci < g->c_in; ci++) {
            float *dst = din + ((size_t)i * g->c_in + ci) * plane;

            memset(dst, 0, sizeof(float) * plane);
            for (int ky = 0; ky < ks; ky++)
                for (int kx = 0; kx < ks; kx++) {
                    size_t row = ((size_t)ci * ks + ky) * ks + kx;
                    const float *src = col + row * ld + (size_t)i * p;
                    int lo, hi, off = kx - g->pad;

                    conv_span(g, kx, &lo, &hi);
                    for (int oy = 0; oy < g->h_out; oy++, src += wo) {
                        int iy = oy * s - g->pad + ky;
                        float *drow;
                        int ox = lo;

                        if (iy < 0 || iy >= g->h)
                            continue;
                        drow = dst + (size_t)iy * g->w;
                        if (s == 1) {
                            for (; ox + LANES <= hi; ox += LANES)
                                for (int j = 0; j < LANES; j++)
                                    drow[ox + j + off] += src[ox + j];
                            for (; ox < hi; ox++)
                                drow[ox + off] += src[ox];
                        } else {
                            for (; ox < hi; ox++)
                                drow[ox * s + off] += src[ox];
                        }
                    }
                }
        }
}

void
conv_forward(const struct conv_geom *g, int n, float *out, const float *in,
             const float *weight, const float *bias, float *work)
{
    int grp = conv_group(g, n);
    int k = g->c_in * g->ksize * g->ksize;
    size_t p = (size_t)g->h_out * g->w_out;
    size_t in_img = (size_t)g->c_in * g->h * g->w;
    size_t out_img = (size_t)g->c_out * p;

    for (int i0 = 0; i0 < n; i0 += grp) {
        int cnt = n - i0 < grp ? n - i0 : grp;
        size_t cols = (size_t)cnt * p;
        float *col = work;
        float *y =
            cnt == 1 ? out + (size_t)i0 * out_img : work + (size_t)k * cols;

        assert(cols <= INT32_MAX);
        if (conv_is_same(g))
            conv_im2col_same(g, cnt, cols, col, in + (size_t)i0 * in_img);
        else
            conv_im2col(g, cnt, cols, col, in + (size_t)i0 * in_img);
        gemm_nn(g->c_out, (int)cols, k, 1.0f, weight, col, 0.0f, y);
        for (int i = 0; i < cnt; i++)
            for (int co = 0; co < g->c_out; co++) {
                float *dst = out + (size_t)(i0 + i) * out_img + co * p;
                const float *src = y + co * cols + (size_t)i * p;
                float b = bias != NULL ? bias[co] : 0.0f;

                if (dst != src)
                    memcpy(dst, src, sizeof(float) * p);
                if (bias != NULL) {
                    size_t j = 0;
                    for (; j + LANES <= p; j += LANES)
                        for (int l = 0; l < LANES; l++)
                            dst[j + l] += b;
                    for (; j < p; j++)
                        dst[j] += b;
                }
            }
    }
}

void
conv_backward(const struct conv_geom *g, int n, float *din, float *dweight,
              float *dbias, const float *dout, const float *in,
              const float *weight, float *work)
{
    int grp = conv_group(g, n);
    int k = g->c_in * g->ksize * g->ksize;
    size_t p = (size_t)g->h_out * g->w_out;
    size_t in_img = (size_t)g->c_in * g->h * g->w;
    size_t out_img = (size_t)g->c_out * p;

    if (dbias != NULL)
        for (int co = 0; co < g->c_out; co++) {
            double s = 0.0;
            for (int i = 0; i < n; i++)
                s += layers_sum(dout + (size_t)i * out_img + co * p, p);
            dbias[co] += (float)s;
        }
    /* The weight gradient is taken transposed, dW^T (K, C_out) = col dY^T,
     * which OpenBLAS runs 10-40% faster than dY col^T at the CNN's shapes
     * (few output channels against a long K); it is added to dweight once
     * at the end. */
    size_t dwt_at =
        ((size_t)k + (grp > 1 ? (size_t)g->c_out : 0)) * ((size_t)grp * p);
    float *dwt = work + dwt_at;

    memset(dwt, 0, sizeof(float) * (size_t)k * g->c_out);
    for (int i0 = 0; i0 < n; i0 += grp) {
        int cnt = n - i0 < grp ? n - i0 : grp;
        size_t cols = (size_t)cnt * p;
        float *col = work;
        const float *dy = dout + (size_t)i0 * out_img;

        if (cnt > 1) {
            float *t = work + (size_t)k * cols;
            for (int i = 0; i < cnt; i++)
                for (int co = 0; co < g->c_out; co++)
                    memcpy(t + co * cols + (size_t)i * p,
                           dy + (size_t)i * out_img + co * p,
                           sizeof(float) * p);
            dy = t;
        }
        if (conv_is_same(g))
            conv_im2col_same(g, cnt, cols, col, in + (size_t)i0 * in_img);
        else
            conv_im2col(g, cnt, cols, col, in + (size_t)i0 * in_img);
        gemm_nt(k, g->c_out, (int)cols, 1.0f, col, dy, 1.0f, dwt);
        if (din != NULL) {
            gemm_tn(k, (int)cols, g->c_out, 1.0f, weight, dy, 0.0f, col);
            if (conv_is_same(g))
                conv_col2im_same(g, cnt, cols, din + (size_t)i0 * in_img, col);
            else
                conv_col2im(g, cnt, cols, din + (size_t)i0 * in_img, col);
        }
    }
    for (int co = 0; co < g->c_out; co++)
        for (int j = 0; j < k; j++)
            dweight[(size_t)co * k + j] += dwt[(size_t)j * g->c_out + co];
}

/* --- batch normalisation ------------------------------------------------- */

/* One plane's shifted sums: k = x[0], s1 = sum(x - k), s2 = sum((x - k)^2).
 * Shifting by a sample keeps s2 - s1^2/n from cancelling when the mean is
 * large against the spread. */
static void
bn_plane_stats(size_t hw, const float *restrict x, double *out3)
{
    float k = x[0], a[LANES] = {0}, b[LANES] = {0};
    double s1 = 0.0, s2 = 0.0;
    size_t j = 0;

    for (; j + LANES <= hw; j += LANES)
        for (int l = 0; l < LANES; l++) {
            float d = x[j + l] - k;
            a[l] += d;
            b[l] += d * d;
        }
    for (; j < hw; j++) {
        double d = (double)(x[j] - k);
        s1 += d;
        s2 += d * d;
    }
    for (int l = 0; l < LANES; l++) {
        s1 += (double)a[l];
        s2 += (double)b[l];
    }
    out3[0] = (double)k;
    out3[1] = s1;
    out3[2] = s2;
}

/* Running count, mean and sum of squared deviations of one channel,
 * folded plane by plane in image order (Chan et al.'s pairwise update, in
 * double). */
struct bn_acc {
    double n, mean, m2;
};

static void
bn_fold(struct bn_acc *acc, size_t hw, const double *q)
{
    double nb = (double)hw, mb = q[0] + q[1] / nb;
    double m2b = q[2] - q[1] * q[1] / nb, n, d;

    if (acc->n == 0.0) {
        acc->n = nb;
        acc->mean = mb;
        acc->m2 = m2b;
        return;
    }
    n = acc->n + nb;
    d = mb - acc->mean;
    acc->mean += d * nb / n;
    acc->m2 += m2b + d * d * acc->n * nb / n;
    acc->n = n;
}

static void
bn_finish(const struct bn_acc *acc, float *mean, float *var)
{
    double v = acc->n > 0.0 ? acc->m2 / acc->n : 0.0;

    *mean = (float)acc->mean;
    *var = (float)(v > 0.0 ? v : 0.0);
}

/* One plane's gradient sums: g = dy where the ReLU passed it (all of dy
 * without ReLU), then sum(g) and sum(g * (x - mu)). The gate is the
 * forward's own expression, so it gives the forward's bits. */
static void
bn_plane_grads(size_t hw, const float *restrict x, const float *restrict dy,
               float mu, float scale, float offset, int relu, double *out2)
{
    float gs = relu ? scale : 0.0f, go = relu ? offset : 1.0f;
    float a[LANES] = {0}, b[LANES] = {0};
    double sg = 0.0, sgx = 0.0;
    size_t j = 0;

    for (; j + LANES <= hw; j += LANES)
        for (int l = 0; l < LANES; l++) {
            float xv = x[j + l], d = dy[j + l];
            float g = xv * gs + go > 0.0f ? d : 0.0f;
            a[l] += g;
            b[l] += g * (xv - mu);
        }
    for (; j < hw; j++) {
        float xv = x[j], d = dy[j];
        float g = xv * gs + go > 0.0f ? d : 0.0f;
        sg += (double)g;
        sgx += (double)(g * (xv - mu));
    }
    for (int l = 0; l < LANES; l++) {
        sg += (double)a[l];
        sgx += (double)b[l];
    }
    out2[0] = sg;
    out2[1] = sgx;
}

/* din = ka * g + kb * x + kc over one plane. din may be dout. */
static void
bn_plane_apply_grads(size_t hw, float *dx, const float *dy, const float *x,
                     float scale, float offset, int relu, const float *k3)
{
    float gs = relu ? scale : 0.0f, go = relu ? offset : 1.0f;
    float ka = k3[0], kb = k3[1], kc = k3[2];
    size_t j = 0;

    for (; j + LANES <= hw; j += LANES) {
        float t[LANES];
        for (int l = 0; l < LANES; l++) {
            float xv = x[j + l], d = dy[j + l];
            float g = xv * gs + go > 0.0f ? d : 0.0f;
            t[l] = ka * g + kb * xv + kc;
        }
        memcpy(dx + j, t, sizeof(t));
    }
    for (; j < hw; j++) {
        float xv = x[j], d = dy[j];
        float g = xv * gs + go > 0.0f ? d : 0.0f;
        dx[j] = ka * g + kb * xv + kc;
    }
}

/* From one channel's totals sum(g), sum(g (x - mu)): the parameter
 * gradients and the coefficients of din = scale * (g - mean(g) - xhat *
 * mean(g xhat)) expanded as ka g + kb x + kc. */
static void
bn_combine_grads(int n, size_t hw, const double *sums, size_t stride, float mu,
                 float var, float scale, float eps, float *dgamma, float *dbeta,
                 float *k3)
{
    double sg = 0.0, sgx = 0.0, count = (double)n * (double)hw;
    float inv = 1.0f / sqrtf(var + eps);

    for (int i = 0; i < n; i++) {
        sg += sums[(size_t)i * stride];
        sgx += sums[(size_t)i * stride + 1];
    }
    *dbeta += (float)sg;
    *dgamma += (float)(sgx * (double)inv);
    {
        double mg = sg / count;
        double mgx = sgx / count * (double)inv; /* mean(g * xhat) */
        double k2 = -(double)scale * mgx * (double)inv;
        k3[0] = scale;
        k3[1] = (float)k2;
        k3[2] = (float)(-(double)scale * mg - k2 * (double)mu);
    }
}

void
batchnorm_plane_stats(int n, int c, int hw, double *sums, const float *in)
{
    size_t planes = (size_t)n * c;

    for (size_t q = 0; q < planes; q++)
        bn_plane_stats((size_t)hw, in + q * hw, sums + 3 * q);
}

void
batchnorm_reduce_stats(int n, int c, int hw, float *mean, float *var,
                       const double *sums)
{
    for (int ch = 0; ch < c; ch++) {
        struct bn_acc acc = {0.0, 0.0, 0.0};
        for (int i = 0; i < n; i++)
            bn_fold(&acc, (size_t)hw, sums + 3 * ((size_t)i * c + ch));
        bn_finish(&acc, &mean[ch], &var[ch]);
    }
}

void
batchnorm_coef(int c, float *coef, const float *mean, const float *var,
               const float *gamma, const float *beta, float eps)
{
    for (int ch = 0; ch < c; ch++) {
        float scale = gamma[ch] * (1.0f / sqrtf(var[ch] + eps));
        coef[2 * ch] = scale;
        coef[2 * ch + 1] = beta[ch] - mean[ch] * scale;
    }
}

void
batchnorm_apply(int n, int c, int hw, float *out, const float *in,
                const float *coef, int relu)
{
    for (int i = 0; i < n; i++)
        for (int ch = 0; ch < c; ch++) {
            size_t at = ((size_t)i * c + ch) * hw;
            layers_affine((size_t)hw, out + at, in + at, coef[2 * ch],
                          coef[2 * ch + 1], relu);
        }
}

void
batchnorm_plane_grads(int n, int c, int hw, double *sums, const float *dout,
                      const float *in, const float *mean, const float *coef,
                      int relu)
{
    for (int i = 0; i < n; i++)
        for (int ch = 0; ch < c; ch++) {
            size_t q = (size_t)i * c + ch;
            bn_plane_grads((size_t)hw, in + q * hw, dout + q * hw, mean[ch],
                           coef[2 * ch], coef[2 * ch + 1], relu, sums + 2 * q);
        }
}

void
batchnorm_reduce_grads(int n, int c, int hw, float *gcoef, float *dgamma,
                       float *dbeta, const double *sums, const float *mean,
                       const float *var, const float *coef, float eps)
{
    for (int ch = 0; ch < c; ch++)
        bn_combine_grads(n, (size_t)hw, sums + 2 * (size_t)ch, 2 * (size_t)c,
                         mean[ch], var[ch], coef[2 * ch], eps, &dgamma[ch],
                         &dbeta[ch], gcoef + 3 * ch);
}

void
batchnorm_apply_grads(int n, int c, int hw, float *din, const float *dout,
                      const float *in, const float *coef, const float *gcoef,
                      int relu)
{
    for (int i = 0; i < n; i++)
        for (int ch = 0; ch < c; ch++) {
            size_t at = ((size_t)i * c + ch) * hw;
            bn_plane_apply_grads((size_t)hw, din + at, dout + at, in + at,
                                 coef[2 * ch], coef[2 * ch + 1], relu,
                                 gcoef + 3 * ch);
        }
}

/* The one-call forms run the same plane helpers and folds channel by
 * channel, so they give the phases' bits without scratch memory. */
void
batchnorm_forward(int n, int c, int hw, float *out, float *mean, float *var,
                  const float *in, const float *gamma, const float *beta,
                  float eps, int relu)
{
    size_t img = (size_t)c * hw;

    for (int ch = 0; ch < c; ch++) {
        struct bn_acc acc = {0.0, 0.0, 0.0};
        float coef[2];

        for (int i = 0; i < n; i++) {
            double q[3];
            bn_plane_stats((size_t)hw, in + (size_t)i * img + ch * hw, q);
            bn_fold(&acc, (size_t)hw, q);
        }
        bn_finish(&acc, &mean[ch], &var[ch]);
        batchnorm_coef(1, coef, &mean[ch], &var[ch], &gamma[ch], &beta[ch],
                       eps);
        for (int i = 0; i < n; i++) {
            size_t at = (size_t)i * img + ch * hw;
            layers_affine((size_t)hw, out + at, in + at, coef[0], coef[1],
                          relu);
        }
    }
}

void
batchnorm_backward(int n, int c, int hw, float *din, float *dgamma,
                   float *dbeta, const float *dout, const float *in,
                   const float *mean, const float *var, const float *gamma,
                   const float *beta, float eps, int relu)
{
    size_t img = (size_t)c * hw;

    for (int ch = 0; ch < c; ch++) {
        float coef[2], k3[3];
        double tot[2] = {0.0, 0.0};

        batchnorm_coef(1, coef, &mean[ch], &var[ch], &gamma[ch], &beta[ch],
                       eps);
        for (int i = 0; i < n; i++) {
            size_t at = (size_t)i * img + ch * hw;
            double q[2];
            bn_plane_grads((size_t)hw, in + at, dout + at, mean[ch], coef[0],
                           coef[1], relu, q);
            tot[0] += q[0];
            tot[1] += q[1];
        }
        bn_combine_grads(1, (size_t)hw * (size_t)n, tot, 2, mean[ch], var[ch],
                         coef[0], eps, &dgamma[ch], &dbeta[ch], k3);
        for (int i = 0; i < n; i++) {
            size_t at = (size_t)i * img + ch * hw;
            bn_plane_apply_grads((size_t)hw, din + at, dout + at, in + at,
                                 coef[0], coef[1], relu, k3);
        }
    }
}

void
batchnorm_update_running(int c, float *run_mean, float *run_var,
                         const float *mean, const float *var, size_t count,
                         float momentum)
{
    float unbias = count > 1 ? (float)count / (float)(count - 1) : 1.0f;

    for (int ch = 0; ch < c; ch++) {
        run_mean[ch] += momentum * (mean[ch] - run_mean[ch]);
        run_var[ch] += momentum * (var[ch] * unbias - run_var[ch]);
    }
}

void
batchnorm_forward_eval(int n, int c, int hw, float *out, const float *in,
                       const float *gamma, const float *beta,
                       const float *run_mean, const float *run_var, float eps,
                       int relu)
{
    size_t img = (size_t)c * hw;

    for (int ch = 0; ch < c; ch++) {
        float coef[2];
        batchnorm_coef(1, coef, &run_mean[ch], &run_var[ch], &gamma[ch],
                       &beta[ch], eps);
        for (int i = 0; i < n; i++) {
            size_t at = (size_t)i * img + ch * hw;
            layers_affine((size_t)hw, out + at, in + at, coef[0], coef[1],
                          relu);
        }
    }
}

/* --- ReLU
 * ---------------------------------------------------------------------- */

void
relu_forward(size_t n, float *out, const float *in)
{
    size_t i = 0;

    for (; i + LANES <= n; i += LANES) {
        float t[LANES];
        for (int l = 0; l < LANES; l++)
            t[l] = in[i + l] > 0.0f ? in[i + l] : 0.0f;
        memcpy(out + i, t, sizeof(t));
    }
    for (; i < n; i++)
        out[i] = in[i] > 0.0f ? in[i] : 0.0f;
}

void
relu_backward(size_t n, float *din, const float *dout, const float *out)
{
    size_t i = 0;

    for (; i + LANES <= n; i += LANES) {
        float t[LANES];
        for (int l = 0; l < LANES; l++) {
            float d = dout[i + l];
            t[l] = out[i + l] > 0.0f ? d : 0.0f;
        }
        memcpy(din + i, t, sizeof(t));
    }
    for (; i < n; i++)
        din[i] = out[i] > 0.0f ? dout[i] : 0.0f;
}

/* --- max pooling -------------------------------------------------------------
 */

/* One output row: y[ox] = max of the 2x2 window at (r0, r1)[2 ox]. */
static void
maxpool2_row_forward(int wo, float *restrict y, const float *restrict r0,
                     const float *restrict r1)
{
    int ox = 0;

    for (; ox + LANES <= wo; ox += LANES)
        for (int l = 0; l < LANES; l++) {
            int x = 2 * (ox + l);
            float a = r0[x], b = r0[x + 1], d = r1[x], e = r1[x + 1];
            float m0 = b > a ? b : a, m1 = e > d ? e : d;
            y[ox + l] = m1 > m0 ? m1 : m0;
        }
    for (; ox < wo; ox++) {
        int x = 2 * ox;
        float a = r0[x], b = r0[x + 1], d = r1[x], e = r1[x + 1];
        float m0 = b > a ? b : a, m1 = e > d ? e : d;
        y[ox] = m1 > m0 ? m1 : m0;
    }
}

/* One window's routing: the first element equal to the max m (the
 * forward's max is one of them bit for bit) takes the gradient g; rest
 * carries g until it is taken. Selects only, so blocks vectorise. */
#define MAXPOOL2_ROUTE(a, b, d, e, m, g, ga, gb, gd, ge)                       \
    do {                                                                       \
        float rest_ = (a) == (m) ? 0.0f : (g);                                 \
        (ga) = (a) == (m) ? (g) : 0.0f;                                        \
        (gb) = (b) == (m) ? rest_ : 0.0f;                                      \
        rest_ = (b) == (m) ? 0.0f : rest_;                                     \
        (gd) = (d) == (m) ? rest_ : 0.0f;                                      \
        rest_ = (d) == (m) ? 0.0f : rest_;                                     \
        (ge) = (e) == (m) ? rest_ : 0.0f;                                      \
    } while (0)

static void
maxpool2_row_backward(int wo, float *restrict d0, float *restrict d1,
                      const float *restrict r0, const float *restrict r1,
                      const float *restrict y, const float *restrict dy)
{
    int ox = 0;

    for (; ox + LANES <= wo; ox += LANES)
        for (int l = 0; l < LANES; l++) {
            int x = 2 * (ox + l);
            float a = r0[x], b = r0[x + 1], d = r1[x], e = r1[x + 1];
            MAXPOOL2_ROUTE(a, b, d, e, y[ox + l], dy[ox + l], d0[x], d0[x + 1],
                           d1[x], d1[x + 1]);
        }
    for (; ox < wo; ox++) {
        int x = 2 * ox;
        float a = r0[x], b = r0[x + 1], d = r1[x], e = r1[x + 1];
        MAXPOOL2_ROUTE(a, b, d, e, y[ox], dy[ox], d0[x], d0[x + 1], d1[x],
                       d1[x + 1]);
    }
}

void
maxpool2_forward(int n, int c, int h, int w, float *out, const float *in)
{
    int ho = h / 2, wo = w / 2;
    size_t planes = (size_t)n * c;

    for (size_t q = 0; q < planes; q++)
        for (int oy = 0; oy < ho; oy++) {
            const float *r0 = in + (q * h + 2 * oy) * (size_t)w;
            maxpool2_row_forward(wo, out + (q * ho + oy) * (size_t)wo, r0,
                                 r0 + w);
        }
}

void
maxpool2_backward(int n, int c, int h, int w, float *din, const float *dout,
                  const float *in, const float *out)
{
    int ho = h / 2, wo = w / 2;
    size_t planes = (size_t)n * c;

    for (size_t q = 0; q < planes; q++) {
        for (int oy = 0; oy < ho; oy++) {
            size_t at = (q * h + 2 * oy) * (size_t)w;
            size_t ot = (q * ho + oy) * (size_t)wo;

            maxpool2_row_backward(wo, din + at, din + at + w, in + at,
                                  in + at + w, out + ot, dout + ot);
            if (w & 1) {
                din[at + w - 1] = 0.0f;
                din[at + 2 * (size_t)w - 1] = 0.0f;
            }
        }
        if (h & 1)
            memset(din + (q * h + (size_t)h - 1) * w, 0, sizeof(float) * w);
    }
}

/* --- global average pooling ----------------------------------------------- */

void
avgpool_forward(int n, int c, int hw, float *out, const float *in)
{
    size_t planes = (size_t)n * c;

    for (size_t q = 0; q < planes; q++)
        out[q] = (float)(layers_sum(in + q * hw, (size_t)hw) / hw);
}

void
avgpool_backward(int n, int c, int hw, float *din, const float *dout)
{
    size_t planes = (size_t)n * c;

    for (size_t q = 0; q < planes; q++) {
        float g = dout[q] / (float)hw;
        float *d = din + q * hw;
        for (int j = 0; j < hw; j++)
            d[j] = g;
    }
}

/* --- linear
 * ------------------------------------------------------------------- */

void
linear_forward(int n, int in_dim, int out_dim, float *out, const float *in,
               const float *weight, const float *bias)
{
    gemm_nt(n, out_dim, in_dim, 1.0f, in, weight, 0.0f, out);
    if (bias != NULL)
        for (int i = 0; i < n; i++)
            for (int o = 0; o < out_dim; o++)
                out[(size_t)i * out_dim + o] += bias[o];
}

void
linear_backward(int n, int in_dim, int out_dim, float *din, float *dweight,
                float *dbias, const float *dout, const float *in,
                const float *weight)
{
    gemm_tn(out_dim, in_dim, n, 1.0f, dout, in, 1.0f, dweight);
    if (dbias != NULL)
        for (int o = 0; o < out_dim; o++) {
            double s = 0.0;
            for (int i = 0; i < n; i++)
                s += (double)dout[(size_t)i * out_dim + o];
            dbias[o] += (float)s;
        }
    if (din != NULL)
        gemm_nn(n, in_dim, out_dim, 1.0f, dout, weight, 0.0f, din);
}

/* --- softmax and cross-entropy -------------------------------------------- */

/* probs = softmax(logits) for one row; returns log(sum(exp(x - max)))
 * + max, the log-partition. */
static float
softmax_row(int k, float *p, const float *x)
{
    float mx = x[0];
    double s = 0.0;

    for (int j = 1; j < k; j++)
        mx = x[j] > mx ? x[j] : mx;
    for (int j = 0; j < k; j++) {
        p[j] = expf(x[j] - mx);
        s += (double)p[j];
    }
    for (int j = 0; j < k; j++)
        p[j] = (float)((double)p[j] / s);
    return mx + (float)log(s);
}

void
softmax_forward(int n, int k, float *probs, const float *logits)
{
    for (int i = 0; i < n; i++)
        softmax_row(k, probs + (size_t)i * k, logits + (size_t)i * k);
}

void
softmax_backward_add(int n, int k, float *dlogits, const float *probs,
                     const float *dprobs)
{
    for (int i = 0; i < n; i++) {
        const float *p = probs + (size_t)i * k;
        const float *dp = dprobs + (size_t)i * k;
        float *dx = dlogits + (size_t)i * k;
        double dot = 0.0;

        for (int j = 0; j < k; j++)
            dot += (double)p[j] * (double)dp[j];
        for (int j = 0; j < k; j++)
            dx[j] += p[j] * (dp[j] - (float)dot);
    }
}

float
softmax_xent_forward(int n, int k, float *probs, float *losses,
                     const float *logits, const int *labels,
                     const float *targets, const float *weights)
{
    double total = 0.0;

    assert((labels == NULL) != (targets == NULL));
    for (int i = 0; i < n; i++) {
        const float *x = logits + (size_t)i * k;
        float lz = softmax_row(k, probs + (size_t)i * k, x);
        double li = 0.0;

        /* -log p_j = lz - x_j, exact even where p_j underflows to 0. */
        if (labels != NULL) {
            assert(labels[i] >= 0 && labels[i] < k);
            li = (double)(lz - x[labels[i]]);
        } else {
            const float *t = targets + (size_t)i * k;
            for (int j = 0; j < k; j++)
                if (t[j] != 0.0f)
                    li += (double)t[j] * (double)(lz - x[j]);
        }
        if (losses != NULL)
            losses[i] = (float)li;
        total += (weights != NULL ? (double)weights[i] : 1.0) * li;
    }
    return n > 0 ? (float)(total / n) : 0.0f;
}

void
softmax_xent_backward(int n, int k, float *dlogits, const float *probs,
                      const int *labels, const float *targets,
                      const float *weights)
{
    assert((labels == NULL) != (targets == NULL));
    for (int i = 0; i < n; i++) {
        const float *p = probs + (size_t)i * k;
        float *dx = dlogits + (size_t)i * k;
        float w = (weights != NULL ? weights[i] : 1.0f) / (float)n;

        if (labels != NULL) {
            for (int j = 0; j < k; j++)
                dx[j] = w * p[j];
            dx[labels[i]] -= w;
        } else {
            /* Rows need not sum to 1: d/dx of -sum t log p is
             * p * sum(t) - t. */
            const float *t = targets + (size_t)i * k;
            float tsum = 0.0f;
            for (int j = 0; j < k; j++)
                tsum += t[j];
            for (int j = 0; j < k; j++)
                dx[j] = w * (p[j] * tsum - t[j]);
        }
    }
}
