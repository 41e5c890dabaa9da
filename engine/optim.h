/* engine/optim.h: stochastic gradient descent with (Nesterov) momentum and
 * L2 weight decay folded into the gradient, as PyTorch's SGD does it, and
 * the cosine learning-rate schedule with linear warm-up. Plain functions over
 * float arrays: the caller owns parameters, gradients and the velocity block.
 */
#ifndef WINNOW_ENGINE_OPTIM_H
#define WINNOW_ENGINE_OPTIM_H

#include <stddef.h>

struct optim_sgd {      /* plain data */
    float momentum;     /* e.g. 0.9f; 0 for plain SGD */
    float weight_decay; /* L2 coefficient for the parameters that take it */
    int nesterov;       /* nonzero: Nesterov momentum */
};

/* One step over n parameters, as PyTorch's SGD does it:
 *     g = grad + weight_decay * param
 *     velocity = momentum * velocity + g
 *     param -= lr * (nesterov ? g + momentum * velocity : velocity)
 * Pass weight_decay 0 for batch-norm parameters and biases. velocity
 * starts at zero. */
void optim_sgd_step(size_t n, float *param, /* (n) */
                    const float *grad,      /* (n) */
                    float *velocity,        /* (n) */
                    float lr, float momentum, float weight_decay, int nesterov);

/* Learning rate at step (0-based) of total: rises linearly from
 * base_lr / warmup to base_lr over the first warmup steps, then follows a
 * half cosine from base_lr down to min_lr at step total. Steps past total
 * get min_lr. */
float optim_lr_cosine(long step, long total, long warmup, float base_lr,
                      float min_lr);

#endif
