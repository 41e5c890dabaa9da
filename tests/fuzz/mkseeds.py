#!/usr/bin/env python3
"""tests/fuzz/mkseeds.py: writes the hand-made seeds of the png, csv, idx,
npy and probs corpora (tests/fuzz/README). Run once from the source tree;
the files are kept in git, so the build never needs Python.

    python3 tests/fuzz/mkseeds.py tests/fuzz/corpus

PNGs cover every colour type and bit depth PNG allows, plain and
interlaced, all five row filters, tRNS in each form, several IDAT chunks
and skipped ancillary chunks; tests/data/bad/*.png are copied in beside
them. The CSVs cover what csv.h promises to accept. The IDX files are
images (gray and RGB) and labels, plain and gzip, with tests/data/bad/idx-*.
Deterministic: the same files every run."""

import gzip
import os
import shutil
import struct
import sys
import zlib


def chunk(kind, data):
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(
        ">I", zlib.crc32(body) & 0xFFFFFFFF)


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def filter_row(ftype, row, prev, bpp):
    out = bytearray([ftype])
    for i, x in enumerate(row):
        a = row[i - bpp] if i >= bpp else 0
        b = prev[i] if prev else 0
        c = prev[i - bpp] if prev and i >= bpp else 0
        pred = [0, a, b, (a + b) // 2, paeth(a, b, c)][ftype]
        out.append((x - pred) & 0xFF)
    return out


CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}


def pack_row(samples, depth):
    """Samples (ints < 2**depth) to the bytes of one scanline."""
    if depth == 8:
        return bytearray(samples)
    if depth == 16:
        return bytearray(b"".join(struct.pack(">H", s) for s in samples))
    out, acc, nbits = bytearray(), 0, 0
    for s in samples:
        acc = (acc << depth) | s
        nbits += depth
        if nbits == 8:
            out.append(acc)
            acc, nbits = 0, 0
    if nbits:
        out.append(acc << (8 - nbits))
    return out


ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4),
         (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def png(w, h, ctype, depth, interlace=0, trns=None, idat_parts=1,
        ancillary=False, npal=None):
    ch = CHANNELS[ctype]
    top = (1 << depth) - 1
    if ctype == 3:
        npal = npal or min(1 << depth, 6)
        top = npal - 1

    def sample(x, y, c):
        return (x * 7 + y * 13 + c * 5 + x * y) % (top + 1)

    bpp = max(1, ch * depth // 8)
    rows = []
    passes = ADAM7 if interlace else [(0, 0, 1, 1)]
    for (x0, y0, dx, dy) in passes:
        xs = list(range(x0, w, dx))
        ys = list(range(y0, h, dy))
        if not xs or not ys:
            continue
        prev = None
        for n, y in enumerate(ys):
            samples = [sample(x, y, c) for x in xs for c in range(ch)]
            row = pack_row(samples, depth)
            rows.append(filter_row((n + y) % 5, row, prev, bpp))
            prev = row
    raw = zlib.compress(b"".join(rows), 9)
    out = b"\x89PNG\r\n\x1a\n"
    out += chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, ctype, 0, 0,
                                      interlace))
    if ancillary:
        out += chunk(b"gAMA", struct.pack(">I", 45455))
        out += chunk(b"tEXt", b"Comment\x00made by mkseeds.py")
    if ctype == 3:
        pal = b"".join(bytes([(i * 40) % 256, (i * 90) % 256,
                              (255 - i * 30) % 256]) for i in range(npal))
        out += chunk(b"PLTE", pal)
    if trns is not None:
        out += chunk(b"tRNS", trns)
    step = (len(raw) + idat_parts - 1) // idat_parts
    for i in range(0, len(raw), step):
        out += chunk(b"IDAT", raw[i:i + step])
    out += chunk(b"IEND", b"")
    return out


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def pngs(dst, bad):
    combos = [(0, d) for d in (1, 2, 4, 8, 16)] + [(2, 8), (2, 16)] + \
             [(3, d) for d in (1, 2, 4, 8)] + [(4, 8), (4, 16), (6, 8), (6, 16)]
    for ctype, depth in combos:
        write(f"{dst}/ct{ctype}-{depth}bit-5x7.png", png(5, 7, ctype, depth))
        write(f"{dst}/ct{ctype}-{depth}bit-9x6-adam7.png",
              png(9, 6, ctype, depth, interlace=1))
    write(f"{dst}/gray-trns.png", png(6, 4, 0, 8, trns=struct.pack(">H", 0)))
    write(f"{dst}/gray16-trns.png", png(6, 4, 0, 16, trns=struct.pack(">H", 7)))
    write(f"{dst}/rgb-trns.png",
          png(6, 4, 2, 8, trns=struct.pack(">HHH", 0, 5, 10)))
    write(f"{dst}/palette-trns.png", png(6, 4, 3, 8, trns=bytes([0, 128, 255])))
    write(f"{dst}/palette-256.png", png(16, 16, 3, 8, npal=256))
    write(f"{dst}/multi-idat-ancillary.png",
          png(12, 10, 2, 8, idat_parts=4, ancillary=True))
    write(f"{dst}/one-pixel.png", png(1, 1, 0, 8))
    write(f"{dst}/one-pixel-adam7.png", png(1, 1, 6, 16, interlace=1))
    write(f"{dst}/wide-70x3.png", png(70, 3, 2, 8))  # shrunk by import
    for name in sorted(os.listdir(bad)):
        if name.endswith(".png"):
            shutil.copy(f"{bad}/{name}", f"{dst}/bad-{name}"
                        if not name.startswith("bad-") else f"{dst}/{name}")


CSVS = {
    "plain.csv": b"path,label\na/1.png,cat\na/2.png,dog\n",
    "bom.csv": b"\xef\xbb\xbfpath,label\nx.png,cat\n",
    "crlf.csv": b"path,label\r\nx.png,cat\r\ny.png,dog\r\n",
    "cr-in-quotes.csv": b'path,label\n"a\rb.png",cat\n',
    "cr-only.csv": b"path,label\rx.png,cat\ry.png,dog\r",
    "no-final-newline.csv": b"path,label\nx.png,cat",
    "quoted.csv": b'"path","label"\n"x, y.png","say ""hi"""\n',
    "embedded-newlines.csv":
        b'path,label\n"multi\nline.png","two\r\nlines"\nz.png,cat\n',
    "blank-lines.csv": b"\n\npath,label\n\n\nx.png,cat\n\r\n\n",
    "spaces.csv": b"path , label\n  x.png  , cat \n\" y.png \",\"\tdog\"\n",
    "extra-columns.csv":
        b"id,path,label,note\n1,x.png,cat,\n2,y.png,dog,\"ok, fine\"\n",
    "short-rows.csv": b"path,label\nx.png\n,cat\n,\n",
    "empty-quoted.csv": b'""\n"",""\npath,label\n',
    "quote-in-unquoted.csv": b'path,label\nit"s.png,ca"t\n',
    "utf8.csv": "path,label\nkatze/é.png,Käfer 🐞\n".encode(),
    "bom-in-field.csv": b'path,label\n"\xef\xbb\xbfx.png",cat\n',
    "many-columns.csv": b",".join([b"c"] * 300) + b"\n",
    "empty.csv": b"",
    "only-bom.csv": b"\xef\xbb\xbf",
    "header-only.csv": b"path,label\n",
}


def csvs(dst, bad):
    for name, data in CSVS.items():
        write(f"{dst}/{name}", data)
    for name in sorted(os.listdir(bad)):
        if name.startswith("csv-"):
            shutil.copy(f"{bad}/{name}", f"{dst}/bad-{name}")


def idx_bytes(dims, data):
    return bytes([0, 0, 8, len(dims)]) + b"".join(
        struct.pack(">I", d) for d in dims) + bytes(data)


def idxs(dst, bad):
    def px(n):
        return [(i * 37 + 11) % 256 for i in range(n)]
    files = {
        "images-3x4x5.idx": idx_bytes([3, 4, 5], px(60)),
        "labels-7.idx": idx_bytes([7], [i % 3 for i in range(7)]),
        "rgb-2x3x3x3.idx": idx_bytes([2, 3, 3, 3], px(54)),
        "gray4d-2x3x2x1.idx": idx_bytes([2, 3, 2, 1], px(12)),
        "labels-empty.idx": idx_bytes([0], []),
        "images-one-1x1.idx": idx_bytes([1, 1, 1], [200]),
        "images-zero-rows.idx": idx_bytes([4, 0, 5], []),
    }
    for name, data in files.items():
        write(f"{dst}/{name}", data)
        if name in ("images-3x4x5.idx", "labels-7.idx", "rgb-2x3x3x3.idx",
                    "labels-empty.idx"):
            write(f"{dst}/{name}.gz", gzip.compress(data, 6, mtime=0))
    # Two gzip members back to back: zlib reads them as one stream.
    d = idx_bytes([2, 2, 2], px(8))
    write(f"{dst}/two-members.idx.gz",
          gzip.compress(d[:7], mtime=0) + gzip.compress(d[7:], mtime=0))
    for name in sorted(os.listdir(bad)):
        if name.startswith("idx-"):
            shutil.copy(f"{bad}/{name}", f"{dst}/bad-{name}")


def npy_bytes(descr, shape, payload, fortran=False, major=1):
    """A .npy file as numpy writes it (header padded to 64 bytes)."""
    dims = "".join(f"{d}, " for d in shape) if len(shape) == 1 else \
        ", ".join(str(d) for d in shape)
    d = (f"{{'descr': '{descr}', 'fortran_order': {fortran}, "
         f"'shape': ({dims}), }}")
    pre = 10 if major == 1 else 12
    total = (pre + len(d) + 1 + 63) // 64 * 64
    hlen = total - pre
    fmt = "<H" if major == 1 else "<I"
    head = b"\x93NUMPY" + bytes([major, 0]) + struct.pack(fmt, hlen)
    return head + (d.ljust(hlen - 1) + "\n").encode() + payload


def npys(dst, bad):
    vals = [0.5, 0.25, 0.25, 0.125, 0.75, 0.125]
    files = {
        "f4-2x3.npy": npy_bytes("<f4", (2, 3), struct.pack("<6f", *vals)),
        "f8-6.npy": npy_bytes("<f8", (6,), struct.pack("<6d", *vals)),
        "be-f4-fortran-3x2.npy": npy_bytes(
            ">f4", (3, 2), struct.pack(">6f", *vals), fortran=True),
        "be-f8-v2-2x3.npy": npy_bytes(">f8", (2, 3), struct.pack(">6d", *vals),
                                      major=2),
        "f2-v3-3x2.npy": npy_bytes("<f2", (3, 2), struct.pack("<6e", *vals),
                                   major=3),
        "f4-0x3.npy": npy_bytes("<f4", (0, 3), b""),
        "i8-2.npy": npy_bytes("<i8", (2,), struct.pack("<2q", 1, 2)),
        "f4-3d.npy": npy_bytes("<f4", (1, 1, 1), struct.pack("<f", 1)),
        "f4-short.npy": npy_bytes("<f4", (2, 3), struct.pack("<5f", *vals[:5])),
        "f8-fortran-2x3.npy": npy_bytes("<f8", (2, 3),
                                        struct.pack("<6d", *vals),
                                        fortran=True),
        "f4-nan-inf-1x3.npy": npy_bytes(
            "<f4", (1, 3), struct.pack("<3f", float("nan"), float("inf"), 0)),
        "be-f2-6.npy": npy_bytes(">f2", (6,), struct.pack(">6e", *vals)),
        "wrong-magic.npy": b"\x93NUMPX" + npy_bytes("<f4", (1,), b"\0" * 4)[6:],
    }
    for name, data in files.items():
        write(f"{dst}/{name}", data)


def probss(dst, bad):
    # The project of fuzz-probs.c: four paths, classes cat, dog, bird house.
    rows = [("a.png", "1,0,0"), ("dir/b.png", "0.5,0.25,0.25"),
            ('"c, ""quoted"".png"', "0,1e-1,9e-1"), ("d.png", "0,1,0")]
    good = "path,cat,dog,bird house\n" + "".join(
        f"{p},{v}\n" for p, v in rows)
    files = {
        "good.csv": good,
        "bom-crlf.csv": "\ufeff" + good.replace("\n", "\r\n"),
        "reordered.csv": (" bird house ,dog,PATH,cat\n"
                          "0,0,a.png,1\n"
                          "0.25,0.25,dir/b.png,0.5\n"
                          "0,1,d.png,0\n"
                          '0.9,0.1,"c, ""quoted"".png",0\n'),
        "missing-row.csv": good.rsplit("d.png", 1)[0],
        "twice.csv": good + "a.png,1,0,0\n",
        "nan.csv": good.replace("0,1,0", "nan,1,0"),
        "sum.csv": good.replace("0,1,0", "0,0.5,0"),
        "extra-class.csv": "path,cat,dog,bird house,horse\n",
        "not-a-number.csv": good.replace("0,1,0", "0,one,0"),
        "unknown-path.csv": good.replace("d.png", "e.png"),
        "negative.csv": good.replace("0,1,0", "-0.5,1.5,0"),
    }
    for name, text in files.items():
        write(f"{dst}/{name}", text.encode())


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "tests/fuzz/corpus"
    bad = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                       "data", "bad")
    for target, fn in (("png", pngs), ("csv", csvs), ("idx", idxs)):
        dst = os.path.join(root, target)
        os.makedirs(dst, exist_ok=True)
        fn(dst, bad)
    for target, fn in (("npy", npys), ("probs", probss)):
        dst = os.path.join(root, target)
        os.makedirs(dst, exist_ok=True)
        fn(dst, bad)


main()
