#!/usr/bin/python3
"""numpy <-> graphrun safetensors interchange.

numpy has no safetensors library, so this file holds a tiny one (struct + json +
np.frombuffer), written from the format description, not from graphrun's code:
it writes a file, graphrun reads it and writes every tensor doubled, and this reader checks
the result. Exit 77 (ctest SKIP_RETURN_CODE) when numpy is missing.

usage: safetensors_numpy_test.py HELPER WORKDIR
"""
import json
import os
import struct
import subprocess
import sys

try:
    import numpy as np
except ImportError:
    print("numpy not available: skipped")
    sys.exit(77)

DTYPES = {"F32": np.float32, "F16": np.float16, "F64": np.float64, "I64": np.int64,
          "I32": np.int32, "U8": np.uint8, "BOOL": np.bool_}
NAMES = {np.dtype(v): k for k, v in DTYPES.items()}


def write(path, tensors, metadata=None, pad=True):
    """tensors: list of (name, array) kept in order."""
    header, offset, blobs = {}, 0, []
    if metadata:
        header["__metadata__"] = metadata
    for name, a in tensors:
        # (not np.ascontiguousarray: it turns a 0-d array into shape (1,))
        data = a.astype(a.dtype.newbyteorder("<")).tobytes(order="C")
        header[name] = {"dtype": NAMES[a.dtype], "shape": list(a.shape),
                        "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    if pad:
        text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def read(path):
    """Returns (list of (name, array) in data order, metadata, header length)."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    meta = header.pop("__metadata__", {})
    data = raw[8 + n:]
    items = sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0])
    end = 0
    out = []
    for name, e in items:
        b, en = e["data_offsets"]
        assert b == end, (name, b, end)
        end = en
        a = np.frombuffer(data[b:en], dtype=np.dtype(DTYPES[e["dtype"]]).newbyteorder("<"))
        out.append((name, a.reshape(e["shape"])))
    assert end == len(data), (end, len(data))
    return out, meta, n


def main():
    helper, work = sys.argv[1], sys.argv[2]
    os.makedirs(work, exist_ok=True)
    rng = np.random.default_rng(7)
    tensors = [
        ("z.weight", rng.standard_normal((3, 4)).astype(np.float32)),
        ("a.bias", rng.standard_normal(4).astype(np.float32)),
        ("scalar", np.array(1.25, dtype=np.float32)),
        ("empty", np.zeros((0, 2), dtype=np.float32)),
        ("deep", rng.standard_normal((1, 2, 1, 2, 1, 2)).astype(np.float32)),
    ]
    for pad in (True, False):
        src = os.path.join(work, "numpy_%s.safetensors" % pad)
        dst = os.path.join(work, "graphrun_%s.safetensors" % pad)
        write(src, tensors, {"format": "np"}, pad=pad)
        subprocess.run([helper, "roundtrip", src, dst], check=True)
        got, meta, n = read(dst)
        assert n % 8 == 0, n
        assert meta == {"format": "np", "graphrun": "roundtrip"}, meta
        assert [k for k, _ in got] == [k for k, _ in tensors], [k for k, _ in got]
        for (name, want), (_, have) in zip(tensors, got):
            assert have.dtype == np.float32 and have.shape == want.shape, (name, have.dtype, have.shape)
            assert np.array_equal(have, want * 2), name

    f16 = os.path.join(work, "f16.safetensors")
    write(f16, [("ok", np.ones(2, np.float32)), ("half", np.ones(3, np.float16))])
    subprocess.run([helper, "expect-error", f16, 'tensor "half" has dtype F16'], check=True)
    print("numpy interchange ok")


if __name__ == "__main__":
    main()
