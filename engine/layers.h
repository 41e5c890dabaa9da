/* engine/layers.h: the CNN's kernels, each a plain function over float
 * arrays with its sizes as arguments, _forward beside _backward. Tensors
 * are float32, NCHW, contiguous; each pointer's shape is noted beside it.
 *
 * Conventions shared by every _backward:
 *   - input gradients (din) are overwritten; a NULL din skips that work
 *     where the header says so (the first layer needs none);
 *   - parameter gradients (dweight, dbias, dgamma, dbeta) are ADDED to, so
 *     the caller zeroes them once per step;
 *   - nothing allocates: scratch memory comes in through `work`, sized by
 *     the matching _work_floats function, allocated once by the caller.
 * No kernel starts threads; only the BLAS calls inside use the thread count
 * that app/ chose (gemm_set_threads). Every reduction runs in a fixed order,
 * so results repeat bit for bit for a given BLAS thread count. */
#ifndef WINNOW_ENGINE_LAYERS_H
#define WINNOW_ENGINE_LAYERS_H

#include <stddef.h>

struct rng;

/* He (Kaiming) initialisation for a layer followed by ReLU: w[0..n) drawn
 * from a normal of mean 0 and variance 2 / fan_in. */
void layers_init_he(struct rng *r, float *w, size_t n, int fan_in);

/* --- 2-D convolution (cross-correlation), square kernel, zero padding. */
struct conv_geom {    /* plain data, filled by conv_geom_init */
    int c_in, h, w;   /* input planes and their size */
    int c_out, ksize; /* output planes, kernel ksize x ksize */
    int stride, pad;
    int h_out, w_out; /* derived */
};

/* Fill g; return 0, or -1 if the sizes make no output or are not
 * positive. */
int conv_geom_init(struct conv_geom *g, int c_in, int h, int w, int c_out,
                   int ksize, int stride, int pad);
/* Floats of scratch that conv_forward and conv_backward need for batches
 * of up to max_n images (0 if it would overflow size_t). */
size_t conv_work_floats(const struct conv_geom *g, int max_n);
/* Images per sgemm call for a batch of n (the group is chosen so that one
 * product has ~512 columns). */
int conv_group(const struct conv_geom *g, int n);
/* FLOPs (multiply and add counted apart) of one image's forward product;
 * backward costs twice that (once without din). */
double conv_flops(const struct conv_geom *g);

void conv_forward(const struct conv_geom *g, int n, /* n images */
                  float *out,          /* (N, C_out, H_out, W_out) */
                  const float *in,     /* (N, C_in, H, W) */
                  const float *weight, /* (C_out, C_in, K, K) */
                  const float *bias,   /* (C_out) or NULL */
                  float *work);
/* din may be NULL (not computed); dbias may be NULL. */
void conv_backward(const struct conv_geom *g, int n, /* n images */
                   float *din,          /* (N, C_in, H, W) or NULL */
                   float *dweight,      /* (C_out, C_in, K, K), added to */
                   float *dbias,        /* (C_out) or NULL, added to */
                   const float *dout,   /* (N, C_out, H_out, W_out) */
                   const float *in,     /* (N, C_in, H, W) */
                   const float *weight, /* (C_out, C_in, K, K) */
                   float *work);

/* --- Batch normalisation over (N, H, W) for each channel, with an
 * optional ReLU fused after it (relu != 0): out = max(0, gamma * xhat +
 * beta). Training mode normalises with the batch's statistics and returns
 * them (biased variance); eval mode uses running statistics. */
void batchnorm_forward(int n, int c, int hw, /* sizes */
                       float *out,           /* (N, C, HW) */
                       float *mean,          /* (C) out: batch mean */
                       float *var,           /* (C) out: batch variance */
                       const float *in,      /* (N, C, HW) */
                       const float *gamma,   /* (C) */
                       const float *beta,    /* (C) */
                       float eps, int relu);
/* in must be what batchnorm_forward saw, with its mean and var; the ReLU
 * mask is recomputed from in exactly as the forward computed it. din may
 * be the same array as dout. */
void batchnorm_backward(int n, int c, int hw, /* sizes */
                        float *din,           /* (N, C, HW) */
                        float *dgamma,        /* (C), added to */
                        float *dbeta,         /* (C), added to */
                        const float *dout,    /* (N, C, HW) */
                        const float *in,      /* (N, C, HW) */
                        const float *mean,    /* (C) */
                        const float *var,     /* (C) */
                        const float *gamma,   /* (C) */
                        const float *beta,    /* (C) */
                        float eps, int relu);
/* running = (1 - momentum) * running + momentum * batch, with the batch
 * variance made unbiased over count = N * HW values. */
void batchnorm_update_running(int c,             /* channels */
                              float *run_mean,   /* (C) */
                              float *run_var,    /* (C) */
                              const float *mean, /* (C) */
                              const float *var,  /* (C) */
                              size_t count, float momentum);
/* Inference: normalise with running statistics. out may equal in. */
void batchnorm_forward_eval(int n, int c, int hw,  /* sizes */
                            float *out,            /* (N, C, HW) */
                            const float *in,       /* (N, C, HW) */
                            const float *gamma,    /* (C) */
                            const float *beta,     /* (C) */
                            const float *run_mean, /* (C) */
                            const float *run_var,  /* (C) */
                            float eps, int relu);

/* The same batch norm in phases, for callers that split a batch over
 * threads by images. Per-plane sums are reduced in image order, so the
 * phases give exactly the bits of the one-call forms above, however the
 * images were split. Forward: plane_stats on every image (any split),
 * reduce_stats, coef, apply (any split). Backward: plane_grads (any split),
 * reduce_grads, apply_grads (any split). In each, n and the pointers may
 * cover a run of the batch's images; the reduce steps take all N. */
void batchnorm_plane_stats(int n, int c, int hw, /* sizes */
                           double *sums,         /* (N, C, 3) out */
                           const float *in /* (N, C, HW) */);
void batchnorm_reduce_stats(int n, int c, int hw, /* sizes */
                            float *mean,          /* (C) out */
                            float *var,           /* (C) out */
                            const double *sums /* (N, C, 3) */);
/* Per-channel scale and shift: y = x * coef[2c] + coef[2c + 1]. */
void batchnorm_coef(int c,              /* channels */
                    float *coef,        /* (C, 2) out */
                    const float *mean,  /* (C) */
                    const float *var,   /* (C) */
                    const float *gamma, /* (C) */
                    const float *beta,  /* (C) */
                    float eps);
/* out may equal in. */
void batchnorm_apply(int n, int c, int hw, /* sizes */
                     float *out,           /* (N, C, HW) */
                     const float *in,      /* (N, C, HW) */
                     const float *coef,    /* (C, 2) */
                     int relu);
void batchnorm_plane_grads(int n, int c, int hw, /* sizes */
                           double *sums,         /* (N, C, 2) out */
                           const float *dout,    /* (N, C, HW) */
                           const float *in,      /* (N, C, HW) */
                           const float *mean,    /* (C) */
                           const float *coef,    /* (C, 2) */
                           int relu);
/* Adds to dgamma and dbeta; gcoef feeds batchnorm_apply_grads. */
void batchnorm_reduce_grads(int n, int c, int hw, /* sizes */
                            float *gcoef,         /* (C, 3) out */
                            float *dgamma,        /* (C), added to */
                            float *dbeta,         /* (C), added to */
                            const double *sums,   /* (N, C, 2) */
                            const float *mean,    /* (C) */
                            const float *var,     /* (C) */
                            const float *coef,    /* (C, 2) */
                            float eps);
/* din may be dout. */
void batchnorm_apply_grads(int n, int c, int hw, /* sizes */
                           float *din,           /* (N, C, HW) */
                           const float *dout,    /* (N, C, HW) */
                           const float *in,      /* (N, C, HW) */
                           const float *coef,    /* (C, 2) */
                           const float *gcoef,   /* (C, 3) */
                           int relu);

/* --- ReLU, elementwise over n values. out may equal in; din may equal
 * dout. */
void relu_forward(size_t n, float *out, const float *in);
void relu_backward(size_t n, float *din, const float *dout, const float *out);

/* --- Max pooling, 2x2 windows, stride 2; a trailing odd row or column is
 * dropped (H_out = H / 2) and gets zero gradient. The gradient goes to the
 * first maximum of each window (row-major order). */
void maxpool2_forward(int n, int c, int h, int w, /* sizes */
                      float *out,                 /* (N, C, H/2, W/2) */
                      const float *in /* (N, C, H, W) */);
void maxpool2_backward(int n, int c, int h, int w, /* sizes */
                       float *din,                 /* (N, C, H, W) */
                       const float *dout,          /* (N, C, H/2, W/2) */
                       const float *in,            /* (N, C, H, W) */
                       const float *out /* (N, C, H/2, W/2) */);

/* --- Global average pooling: each plane to its mean. */
void avgpool_forward(int n, int c, int hw, /* sizes */
                     float *out,           /* (N, C) */
                     const float *in /* (N, C, HW) */);
void avgpool_backward(int n, int c, int hw, /* sizes */
                      float *din,           /* (N, C, HW) */
                      const float *dout /* (N, C) */);

/* --- Fully connected: out = in W^T + b. */
void linear_forward(int n, int in_dim, int out_dim, /* sizes */
                    float *out,                     /* (N, OUT) */
                    const float *in,                /* (N, IN) */
                    const float *weight,            /* (OUT, IN) */
                    const float *bias /* (OUT) or NULL */);
/* din may be NULL; dbias may be NULL. */
void linear_backward(int n, int in_dim, int out_dim, /* sizes */
                     float *din,                     /* (N, IN) or NULL */
                     float *dweight,                 /* (OUT, IN), added to */
                     float *dbias,      /* (OUT) or NULL, added to */
                     const float *dout, /* (N, OUT) */
                     const float *in,   /* (N, IN) */
                     const float *weight /* (OUT, IN) */);

/* --- Softmax over the last axis. */
void softmax_forward(int n, int k, /* sizes */
                     float *probs, /* (N, K) */
                     const float *logits /* (N, K) */);
/* dlogits += the gradient through the softmax of a loss whose gradient
 * with respect to the probabilities is dprobs (for losses written on p,
 * such as early-learning regularisation). */
void softmax_backward_add(int n, int k,       /* sizes */
                          float *dlogits,     /* (N, K), added to */
                          const float *probs, /* (N, K) */
                          const float *dprobs /* (N, K) */);

/* --- Softmax cross-entropy, averaged over the batch:
 *     loss = (1/N) sum_i w_i sum_j -t_ij log p_ij
 * with targets t either hard labels (labels: class per sample, t one-hot)
 * or soft rows (targets), exactly one of them non-NULL; weights NULL means
 * every w_i = 1. Writes probs, and each sample's unweighted loss into
 * losses if not NULL; returns the loss. */
float softmax_xent_forward(int n, int k,         /* sizes */
                           float *probs,         /* (N, K) */
                           float *losses,        /* (N) or NULL */
                           const float *logits,  /* (N, K) */
                           const int *labels,    /* (N) or NULL */
                           const float *targets, /* (N, K) or NULL */
                           const float *weights /* (N) or NULL */);
/* dlogits = d loss / d logits (overwritten), from the probs of the
 * forward and the same labels, targets and weights. */
void softmax_xent_backward(int n, int k,         /* sizes */
                           float *dlogits,       /* (N, K) */
                           const float *probs,   /* (N, K) */
                           const int *labels,    /* (N) or NULL */
                           const float *targets, /* (N, K) or NULL */
                           const float *weights /* (N) or NULL */);

#endif
