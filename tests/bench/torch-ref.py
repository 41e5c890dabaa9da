#!/usr/bin/env python3
"""Reference speed for winnow's trainer: the same CNN in PyTorch on the CPU.

winnow's default network (engine/model.c): 3 stages of 2 conv3x3 (no bias)
-BN-ReLU layers and a 2x2 max pool, widths W/2W/4W (16/32/64 by default,
as winnow's), global average pool, linear classifier; batch 128, SGD with
Nesterov momentum 0.9 and weight decay 5e-4. This trains it for one epoch on the CIFAR-10 class
folders with plain cross-entropy and prints one line of key=value figures,
of which train_images_per_s is the one to compare with winnow's per-epoch
"images/s". The PNGs are decoded into one tensor first and that time is
reported apart (load_s), not counted; no augmentation, so the figure is the
network's forward, backward and update alone.

    python3 tests/bench/torch-ref.py CIFAR_ROOT [THREADS [WIDTH]]

Needs python3-torch and python3-pil (Debian); tests/bench/noise.sh installs
them for its `torch` case.
"""
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
from PIL import Image


def load(root):
    classes = sorted(d for d in os.listdir(root)
                     if os.path.isdir(os.path.join(root, d)))
    images, labels = [], []
    for k, c in enumerate(classes):
        folder = os.path.join(root, c)
        for f in sorted(os.listdir(folder)):
            if f.endswith('.png'):
                with Image.open(os.path.join(folder, f)) as im:
                    images.append(np.asarray(im.convert('RGB'), np.uint8))
                labels.append(k)
    x = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).float()
    x = x.div_(255.0)
    mean = x.mean(dim=(0, 2, 3), keepdim=True)
    std = x.std(dim=(0, 2, 3), keepdim=True)
    x = ((x - mean) / std).contiguous()
    return x, torch.tensor(labels, dtype=torch.long), len(classes)


def network(classes, widths=(32, 64, 128), convs=2):
    layers, cin = [], 3
    for w in widths:
        for _ in range(convs):
            layers += [nn.Conv2d(cin, w, 3, padding=1, bias=False),
                       nn.BatchNorm2d(w), nn.ReLU(inplace=True)]
            cin = w
        layers.append(nn.MaxPool2d(2))
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(cin, classes)]
    return nn.Sequential(*layers)


def main():
    if len(sys.argv) not in (2, 3, 4):
        sys.exit('usage: torch-ref.py CIFAR_ROOT [THREADS [WIDTH]]')
    threads = int(sys.argv[2]) if len(sys.argv) >= 3 else 2
    width = int(sys.argv[3]) if len(sys.argv) == 4 else 16
    torch.set_num_threads(threads)
    torch.manual_seed(1)

    t0 = time.monotonic()
    x, y, classes = load(sys.argv[1])
    load_s = time.monotonic() - t0

    model = network(classes, (width, 2 * width, 4 * width))
    decay = [p for p in model.parameters() if p.dim() > 1]
    other = [p for p in model.parameters() if p.dim() <= 1]
    opt = torch.optim.SGD([{'params': decay, 'weight_decay': 5e-4},
                           {'params': other, 'weight_decay': 0.0}],
                          lr=0.05, momentum=0.9, nesterov=True)
    loss_fn = nn.CrossEntropyLoss()
    model.train()
    n, batch = x.shape[0], 128
    order = torch.randperm(n)
    seen, correct = 0, 0
    t0 = time.monotonic()
    for s in range(0, n, batch):
        idx = order[s:s + batch]
        xb, yb = x[idx], y[idx]
        opt.zero_grad(set_to_none=True)
        logits = model(xb)
        loss = loss_fn(logits, yb)
        loss.backward()
        opt.step()
        seen += len(idx)
        correct += (logits.argmax(1) == yb).sum().item()
    train_s = time.monotonic() - t0

    model.eval()
    t0 = time.monotonic()
    with torch.no_grad():
        for s in range(0, n, 512):
            model(x[s:s + 512])
    infer_s = time.monotonic() - t0

    print('torch=%s threads=%d width=%d images=%d load_s=%.1f '
          'train_s=%.1f train_images_per_s=%.0f infer_images_per_s=%.0f '
          'train_acc=%.3f'
          % (torch.__version__, threads, width, n, load_s, train_s,
             seen / train_s, n / infer_s, correct / seen))


if __name__ == '__main__':
    main()
