/* engine/optim.c: the optimizer's arithmetic. One pass over the arrays,
 * elementwise, so it is trivially deterministic; the update order of the
 * three terms is PyTorch's, so hyper-parameters carry over. */
#include "config.h"

#include "engine/optim.h"

#include <math.h>

void
optim_sgd_step(size_t n, float *param, const float *grad, float *velocity,
               float lr, float momentum, float weight_decay, int nesterov)
{
    for (size_t i = 0; i < n; i++) {
        float g = grad[i] + weight_decay * param[i];
        float v = momentum * velocity[i] + g;

        velocity[i] = v;
        param[i] -= lr * (nesterov ? g + momentum * v : v);
    }
}

float
optim_lr_cosine(long step, long total, long warmup, float base_lr, float min_lr)
{
    double t;

    if (step < 0)
        step = 0;
    if (warmup > 0 && step < warmup)
        return base_lr * (float)(step + 1) / (float)warmup;
    if (step >= total || total <= warmup)
        return min_lr;
    t = (double)(step - warmup) / (double)(total - warmup);
    return min_lr + (base_lr - min_lr) * (float)(0.5 * (1.0 + cos(M_PI * t)));
}
