/* engine/model.h: the CNN that scores samples, built from engine/layers.h:
 * `stages` stages of `convs_per_stage` conv3x3-BN-ReLU layers and a 2x2
 * max pool, then global average pooling and a linear classifier.
 *
 * A model owns four blocks, each one allocation with its tensors pointing
 * into it: parameters (trainable ones first, then the batch-norm running
 * statistics), gradients and optimizer velocity (both the size of the
 * trainable part), and the activations and scratch for batches of up to
 * max_batch images. A checkpoint is therefore one fwrite of the parameter
 * block and one of the velocity block. A model belongs to one thread, which
 * its team of worker threads (engine/par.h) helps inside each call; it
 * allocates nothing after model_new. Results repeat bit for bit for a given
 * seed and thread budget. */
#ifndef WINNOW_ENGINE_MODEL_H
#define WINNOW_ENGINE_MODEL_H

#include <stddef.h>
#include <stdio.h>

#include "data/base.h"

struct rng;
struct optim_sgd;
struct model; /* opaque */

#define MODEL_MAX_STAGES 4
#define MODEL_MAX_CONVS  4 /* per stage */

struct model_config {             /* plain data */
    int channels, height, width;  /* input images */
    int classes;                  /* >= 2 */
    int stages;                   /* 1 .. MODEL_MAX_STAGES */
    int widths[MODEL_MAX_STAGES]; /* conv channels of each stage */
    int convs_per_stage;          /* 1 .. MODEL_MAX_CONVS */
    int max_batch;                /* largest n given to model_forward */
    float bn_eps;                 /* batch-norm epsilon, e.g. 1e-5f */
    float bn_momentum;            /* running-statistics momentum, e.g. 0.1f */
};

/* The default network for the input size: 3 stages of 2 convolutions,
 * 32/64/128 channels. */
void model_config_default(struct model_config *cfg, int channels, int height,
                          int width, int classes, int max_batch);

/* Check cfg and allocate a model (weights uninitialised: call model_init).
 * On failure return -1 and set *cause. */
WN_NODISCARD int model_new(const struct model_config *cfg, struct model **out,
                           char **cause);
void model_free(struct model *m);
const struct model_config *model_config(const struct model *m);
/* The size of the model's thread team: the budget of gemm_set_threads
 * when the model was created (at most max_batch). */
int model_threads(const struct model *m);

/* Fresh weights drawn from r (He for convolutions), batch-norm scale 1 and
 * shift 0, running mean 0 and variance 1, zero gradients and velocity. */
void model_init(struct model *m, struct rng *r);

/* Run n (1 .. max_batch) images through the network and return the logits,
 * (N, classes), valid until the next model_forward. train != 0 normalises
 * with batch statistics, updates the running statistics and keeps what
 * model_backward needs; x is then borrowed until model_backward returns.
 * train == 0 uses the running statistics. */
const float *model_forward(struct model *m, const float *x /* (N, C, H, W) */,
                           int n, int train);
/* Back-propagate d loss / d logits of the last training forward; overwrites
 * the gradient block. */
void model_backward(struct model *m, const float *dlogits /* (N, K) */);
/* One SGD step over all trainable parameters at learning rate lr; weight
 * decay applies to convolution and linear weights only, never to
 * batch-norm parameters or biases. */
void model_sgd_step(struct model *m, const struct optim_sgd *opt, float lr);

/* The blocks, with their sizes in floats. params holds n_trainable
 * trainable floats followed by the running statistics; grads and velocity
 * hold n_trainable. The first n_decay trainable floats take weight decay. */
float *model_params(struct model *m, size_t *n_out);
float *model_grads(struct model *m, size_t *n_out);
float *model_velocity(struct model *m, size_t *n_out);
size_t model_n_trainable(const struct model *m);
size_t model_n_decay(const struct model *m);

/* The classifier's input for the images of the last model_forward: (N,
 * *dim) globally pooled features, valid until the next model_forward. */
const float *model_features(const struct model *m, int *dim);

/* Multiply-add FLOPs (counted as 2) of one image's forward and backward
 * products, for throughput reports. */
double model_flops(const struct model *m);

/* Where a training step's time goes, for benchmarks: model_profile_start
 * zeroes the counters and starts timing each phase of the training
 * forwards and backwards that follow (inference is not counted). With
 * WINNOW_PROFILE=1 in the environment every model starts timing when it
 * is made and prints its table to stderr when it is freed. */
void model_profile_start(struct model *m);
/* Print one row per convolution (forward: the previous layer's batch norm,
 * ReLU and pooling, this convolution and its batch-norm sums; backward:
 * its batch-norm gradient, both products, the pooling backward and the
 * previous layer's batch-norm sums), with CPU milliseconds per step (all
 * threads), share of the step and the products' GFLOP per CPU-second;
 * then the head and the serial rest. */
void model_profile_print(const struct model *m, FILE *out);

#endif
