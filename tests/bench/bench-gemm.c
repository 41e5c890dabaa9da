/* bench-gemm: how fast this machine multiplies, and how close the CNN's
 * training step comes to it.
 *
 * For each thread count asked for (default: 1 and 2) it prints
 *   1. the sgemm peak: the best GFLOP/s of large square products, with
 *      OpenBLAS itself using that many threads;
 *   2. each of the default CNN's convolution products at the shapes the
 *      layers really call (forward, weight gradient, input gradient) on one
 *      BLAS thread, as each member of the model's thread team runs them on
 *      its share of the batch, and the time one member's products take;
 *   3. a full training step of the default CNN (forward, softmax
 *      cross-entropy, backward, SGD) on a batch of 128 3x32x32 images:
 *      images/s, the effective GFLOP/s of its products, that as a share of
 *      the peak, and the share of the step spent outside sgemm;
 *   4. inference (eval-mode forward) images/s;
 *   5. the step's profile (model_profile_print): each layer's share of the
 *      step and its GFLOP/s, averaged over the timed steps.
 *
 * -w WIDTH sets the first stage's channels (default 16, what `winnow
 * score` trains; 32 is model_config_default's); -s times the step alone,
 * for a profiler such as perf. Not built by make check:
 * `make bench-tools`, then
 *
 *   ./bench-gemm [-s] [-w WIDTH] [THREADS...]
 *
 * The peak and the step are measured in the same process, one after the
 * other, so that their ratio holds on a machine shared with other work;
 * figures are the best of several runs. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "engine/gemm.h"
#include "engine/layers.h"
#include "engine/model.h"
#include "engine/optim.h"
#include "engine/rng.h"

#define BATCH 128

static int width = 16;
/* -s: the step alone, for a profiler (no peak, no products). */
static int step_only;

static double
now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* CPU seconds used by the whole process: the team's total work, which
 * does not grow when other programs share the cores. */
static double
cpu_seconds(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)u.ru_utime.tv_sec + (double)u.ru_utime.tv_usec * 1e-6 +
           (double)u.ru_stime.tv_sec + (double)u.ru_stime.tv_usec * 1e-6;
}

static float *
randoms(size_t n, struct rng *r)
{
    float *p = malloc(sizeof(float) * (n ? n : 1));
    if (p == NULL) {
        fprintf(stderr, "bench-gemm: out of memory\n");
        exit(1);
    }
    for (size_t i = 0; i < n; i++)
        p[i] = rng_uniform(r) - 0.5f;
    return p;
}

/* CPU seconds per call of the last time_gemm's best run. */
static double gemm_cpu;

/* Best seconds per call of one product over a few runs of ~0.2 s. */
static double
time_gemm(enum gemm_op ta, enum gemm_op tb, int m, int n, int k, struct rng *r)
{
    float *a = randoms((size_t)m * k, r), *b = randoms((size_t)k * n, r);
    float *c = randoms((size_t)m * n, r);
    double flops = 2.0 * m * n * k, best = 1e30;
    int reps = (int)(2e10 / 100.0 / flops) + 1;

    gemm_mul(ta, tb, m, n, k, 1.0f, a, ta == GEMM_N ? k : m, b,
             tb == GEMM_N ? n : k, 0.0f, c, n);
    gemm_cpu = 1e30;
    for (int run = 0; run < 5; run++) {
        double t0 = now(), c0 = cpu_seconds();
        for (int i = 0; i < reps; i++)
            gemm_mul(ta, tb, m, n, k, 1.0f, a, ta == GEMM_N ? k : m, b,
                     tb == GEMM_N ? n : k, 0.0f, c, n);
        double t = (now() - t0) / reps, cpu = (cpu_seconds() - c0) / reps;
        if (t < best)
            best = t;
        if (cpu < gemm_cpu)
            gemm_cpu = cpu;
    }
    free(a);
    free(b);
    free(c);
    return best;
}

/* The best GFLOP/s of wall time; *per_cpu gets the best per CPU-second,
 * which other programs on the cores inflate far less than wall time. */
static double
peak(struct rng *r, double *per_cpu)
{
    static const int sizes[] = {1024, 2048, 3072};
    double best = 0.0;

    *per_cpu = 0.0;
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        int s = sizes[i];
        double f = 2.0 * s * s * s;
        double g = f / time_gemm(GEMM_N, GEMM_N, s, s, s, r);
        printf("  square %4d: %6.1f GFLOP/s, %6.1f per CPU-second\n", s,
               g * 1e-9, f / gemm_cpu * 1e-9);
        if (g > best)
            best = g;
        if (f / gemm_cpu > *per_cpu)
            *per_cpu = f / gemm_cpu;
    }
    return best;
}

/* The products of one team member's share (slice images) of a training
 * batch, shape by shape; returns the seconds they take together. */
static double
conv_products(const struct model_config *cfg, int slice, struct rng *r)
{
    int c = cfg->channels, h = cfg->height, w = cfg->width, first = 1;
    double total = 0.0;

    printf("  %-22s %5s %6s %5s %-8s %-8s %-8s\n", "conv", "group", "cols", "K",
           "fwd", "dW", "dX");
    for (int s = 0; s < cfg->stages; s++) {
        for (int k = 0; k < cfg->convs_per_stage; k++) {
            struct conv_geom g;
            if (conv_geom_init(&g, c, h, w, cfg->widths[s], 3, 1, 1) == -1)
                exit(1);
            int grp = conv_group(&g, slice);
            int cols = grp * g.h_out * g.w_out, kk = c * 9;
            double calls = (double)slice / grp, f = 2.0 * g.c_out * cols * kk;
            double tf = time_gemm(GEMM_N, GEMM_N, g.c_out, cols, kk, r);
            double tw = time_gemm(GEMM_N, GEMM_T, g.c_out, kk, cols, r);
            double tx =
                first ? 0.0 : time_gemm(GEMM_T, GEMM_N, kk, cols, g.c_out, r);
            char name[64];
            snprintf(name, sizeof(name), "%dx%dx%d -> %d", c, h, w, g.c_out);
            printf("  %-22s %5d %6d %5d %5.0f GF %5.0f GF %5.0f GF\n", name,
                   grp, cols, kk, f / tf * 1e-9, f / tw * 1e-9,
                   first ? 0.0 : f / tx * 1e-9);
            total += calls * (tf + tw + tx);
            c = cfg->widths[s];
            first = 0;
        }
        h /= 2;
        w /= 2;
    }
    return total;
}

static void
train_step(struct model *m, const float *x, const int *labels, float *probs,
           float *dlogits, int classes)
{
    static const struct optim_sgd opt = {0.9f, 5e-4f, 1};
    const float *logits = model_forward(m, x, BATCH, 1);
    softmax_xent_forward(BATCH, classes, probs, NULL, logits, labels, NULL,
                         NULL);
    softmax_xent_backward(BATCH, classes, dlogits, probs, labels, NULL, NULL);
    model_backward(m, dlogits);
    model_sgd_step(m, &opt, 0.01f);
}

static void
bench_threads(int threads)
{
    struct model_config cfg;
    struct model *m;
    struct rng r;
    char *cause = NULL;
    int classes = 10, labels[BATCH];
    double pk, pk_cpu = 1e30, tg, best = 1e30, best_eval = 1e30, cpu = 1e30;

    printf("threads %d\n", threads);
    gemm_set_blas_threads(threads);
    rng_seed(&r, 1);
    pk = step_only ? 1e30 : peak(&r, &pk_cpu);
    printf("  sgemm peak (OpenBLAS, %d threads): %.1f GFLOP/s\n", threads,
           pk * 1e-9);

    /* From here on the engine's way: a team of `threads`, one BLAS thread
     * each. */
    gemm_set_threads(threads);
    model_config_default(&cfg, 3, 32, 32, classes, BATCH);
    for (int s = 0; s < cfg.stages; s++)
        cfg.widths[s] = width << s;
    printf("  products of one member (%d images), 1 BLAS thread:\n",
           (BATCH + threads - 1) / threads);
    tg = step_only ? 0.0
                   : conv_products(&cfg, (BATCH + threads - 1) / threads, &r);

    if (model_new(&cfg, &m, &cause) == -1) {
        fprintf(stderr, "bench-gemm: %s\n", cause);
        exit(1);
    }
    model_init(m, &r);
    float *x = randoms((size_t)BATCH * 3 * 32 * 32, &r);
    float *probs = randoms((size_t)BATCH * classes, &r);
    float *dlogits = randoms((size_t)BATCH * classes, &r);
    for (int i = 0; i < BATCH; i++)
        labels[i] = (int)rng_below(&r, (uint32_t)classes);

    for (int i = 0; i < 3; i++)
        train_step(m, x, labels, probs, dlogits, classes);
    model_profile_start(m);
    for (int run = 0; run < 5; run++) {
        int steps = 8;
        double t0 = now(), c0 = cpu_seconds();
        for (int i = 0; i < steps; i++)
            train_step(m, x, labels, probs, dlogits, classes);
        double t = (now() - t0) / steps, c = (cpu_seconds() - c0) / steps;
        if (t < best)
            best = t;
        if (c < cpu)
            cpu = c;
        t0 = now();
        for (int i = 0; i < steps; i++)
            model_forward(m, x, BATCH, 0);
        t = (now() - t0) / steps;
        if (t < best_eval)
            best_eval = t;
    }
    double flops = model_flops(m) * BATCH;
    printf("  train step, batch %d: %.1f ms, %.0f images/s, "
           "%.1f GFLOP/s = %.0f%% of peak\n",
           BATCH, best * 1e3, BATCH / best, flops / best * 1e-9,
           100.0 * flops / best / pk);
    printf("  of which one member's sgemm %.1f ms (%.0f%%), the rest %.1f "
           "ms\n",
           tg * 1e3, 100.0 * tg / best, (best - tg) * 1e3);
    printf("  CPU time per step (all threads): %.1f ms, %.1f GFLOP per "
           "CPU-second = %.0f%% of the peak's\n",
           cpu * 1e3, flops / cpu * 1e-9, 100.0 * flops / cpu / pk_cpu);
    printf("  inference: %.0f images/s\n", BATCH / best_eval);
    model_profile_print(m, stdout);
    printf("\n");
    free(x);
    free(probs);
    free(dlogits);
    model_free(m);
}

int
main(int argc, char **argv)
{
    int i = 1;

    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "-s") == 0) {
            step_only = 1;
            continue;
        }
        if (strcmp(argv[i], "-w") != 0 || i + 1 == argc ||
            (width = atoi(argv[i + 1])) < 1) {
            fprintf(stderr, "usage: bench-gemm [-s] [-w WIDTH] [THREADS...]\n");
            return 2;
        }
        i++;
    }
    printf("%s, widths %d/%d/%d\n", gemm_describe(), width, 2 * width,
           4 * width);
    if (i == argc) {
        bench_threads(1);
        bench_threads(2);
    }
    for (; i < argc; i++)
        bench_threads(atoi(argv[i]));
    return 0;
}
