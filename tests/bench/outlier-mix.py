#!/usr/bin/env python3
"""Images that belong to no class, mixed into CIFAR-10 (tests/bench/outliers.sh).

    outlier-mix.py DATASETS OUT N_CIFAR N_MNIST N_BLANK N_NOISE SEED

Writes OUT/<class>/: N_CIFAR CIFAR-10 test images (cNNNNN.png, links to
the originals), N_MNIST MNIST test digits (mNNNNN.png, gray), N_BLANK
flat images of one random grey (bNNNNN.png) and N_NOISE images of uniform
RGB noise (nNNNNN.png); every odd one under a random CIFAR class, as a
stray file in a real dataset would be. Standard library only."""
import gzip
import os
import random
import struct
import sys
import zlib


def png(path, w, h, channels, rows):
    """Write 8-bit gray (1) or RGB (3) rows (bytes each) as a PNG."""
    raw = b"".join(b"\0" + r for r in rows)

    def chunk(kind, data):
        c = struct.pack(">I", len(data)) + kind + data
        return c + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    color = 0 if channels == 1 else 2
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, color, 0, 0, 0)))
        f.write(chunk(b"IDAT", zlib.compress(raw, 6)))
        f.write(chunk(b"IEND", b""))


def main():
    data, out = sys.argv[1], sys.argv[2]
    n_cifar, n_mnist, n_blank, n_noise = map(int, sys.argv[3:7])
    rng = random.Random(int(sys.argv[7]))
    root = os.path.join(data, "cifar10-test")
    classes = sorted(os.listdir(root))
    files = [(c, f) for c in classes for f in sorted(os.listdir(os.path.join(root, c)))]
    rng.shuffle(files)
    for c in classes:
        os.makedirs(os.path.join(out, c), exist_ok=True)
    for i, (c, f) in enumerate(files[:n_cifar]):
        os.symlink(os.path.join(root, c, f), os.path.join(out, c, "c%05d.png" % i))
    with gzip.open(os.path.join(data, "mnist-test", "t10k-images-idx3-ubyte.gz")) as g:
        _, n, h, w = struct.unpack(">IIII", g.read(16))
        pixels = g.read()
    picks = rng.sample(range(n), n_mnist)
    for i, k in enumerate(picks):
        img = pixels[k * h * w:(k + 1) * h * w]
        rows = [img[y * w:(y + 1) * w] for y in range(h)]
        png(os.path.join(out, rng.choice(classes), "m%05d.png" % i), w, h, 1, rows)
    for i in range(n_blank):
        v = rng.randrange(256)
        rows = [bytes([v]) * 96 for _ in range(32)]
        png(os.path.join(out, rng.choice(classes), "b%05d.png" % i), 32, 32, 3, rows)
    for i in range(n_noise):
        rows = [bytes(rng.randrange(256) for _ in range(96)) for _ in range(32)]
        png(os.path.join(out, rng.choice(classes), "n%05d.png" % i), 32, 32, 3, rows)


main()
