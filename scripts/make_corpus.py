#!/usr/bin/python3
"""Writes tests/corpus/: hand-made files with one fault each, the files that must load, and
MANIFEST.tsv saying what graphrun must do with each.

Standard library only; deterministic (gzip without a timestamp), so running it again gives
byte-identical files. Usage: scripts/make_corpus.py [CORPUS_DIR] (default tests/corpus).

MANIFEST.tsv columns (tab separated, '#' lines are comments):
  file       the corpus file, relative to the corpus folder
  command    graphrun's arguments, split on spaces; {file} = that file, {corpus} = the corpus
             folder, {out} = a fresh output folder (which must stay unchanged on failure);
             "@safetensors {file}" loads the file in-process with io::read_safetensors
  exit       the expected exit code (0: stderr must be empty)
  expect...  substrings the one stderr line must contain (beside the file's name, which
             every failure message must contain)
A fuzzer finding is added here as one more case (see fuzz/README.md).
"""
import gzip
import json
import os
import shutil
import struct
import sys
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus_tabular  # noqa: E402 (beside this script)

ROOT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else
                       os.path.join(os.path.dirname(__file__), '..', 'tests', 'corpus'))
ROWS = []  # (file, command, exit, [fragments])

# Start from nothing so removed cases do not linger (only in a folder this script made).
if os.path.exists(os.path.join(ROOT, 'MANIFEST.tsv')):
    for entry in os.listdir(ROOT):
        if entry in ('CMakeLists.txt', 'corpus_runner.cc', 'README.md'):
            continue
        path = os.path.join(ROOT, entry)
        shutil.rmtree(path) if os.path.isdir(path) else os.remove(path)


def write(rel, data):
    path = os.path.join(ROOT, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if isinstance(data, str):
        data = data.encode('utf-8')
    with open(path, 'wb') as f:
        f.write(data)
    return rel


def case(rel, data, command, code, *fragments):
    # CMake reads MANIFEST.tsv as a list: a ';' or an unbalanced '[' / ']' in a row would merge
    # it with the rows after it, and their tests would silently not exist.
    text = "".join(fragments)
    assert ";" not in text and text.count("[") == text.count("]"), (rel, fragments)
    if data is not None:
        write(rel, data)
    ROWS.append((rel, command, code, list(fragments)))


def gz(data):
    return gzip.compress(data, compresslevel=9, mtime=0)


# ---------------------------------------------------------------- the good files (ok/)

MODEL = {
    "inputs": 4,
    "layers": [{"name": "h", "units": 3, "activation": "relu"},
               {"name": "out", "units": 2, "activation": "softmax"}],
    "optimizer": {"name": "sgd", "learning_rate": 0.1},
    "data": {"format": "csv", "train": "train.csv", "test": "test.csv", "label_column": 0,
             "scaling": "none"},
    "training": {"epochs": 1, "batch_size": 4, "seed": 3},
}
MODEL_IDX = dict(MODEL)
MODEL_IDX["data"] = {"format": "idx", "train_images": "images.idx", "train_labels": "labels.idx",
                     "test_images": "images.idx", "test_labels": "labels.idx", "scaling": "none"}

SHAPES = [("h.weight", [4, 3]), ("h.bias", [3]), ("out.weight", [3, 2]), ("out.bias", [2])]


def model_hash(model):
    """FNV-1a 64 of the canonical JSON of inputs, layers, loss, optimizer (io/model_file.cc)."""
    canon = {k: model[k] for k in ("inputs", "layers", "loss", "optimizer") if k in model}
    h = 0xcbf29ce484222325
    for c in json.dumps(canon, separators=(',', ':'), ensure_ascii=False).encode('utf-8'):
        h = ((h ^ c) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


def st_raw(header_text, data=b'', length=None):
    """A safetensors file from header text as given (no validation, no padding)."""
    if isinstance(header_text, str):
        header_text = header_text.encode('utf-8')
    n = len(header_text) if length is None else length
    return struct.pack('<Q', n) + header_text + data


def values(count, start=0.0):
    return [((i * 7 + 3) % 11 - 5) / 10.0 + start for i in range(count)]


def st(tensors, metadata=None, pad=True):
    """A valid safetensors file: tensors = [(name, shape, [floats])]."""
    header = {}
    if metadata is not None:
        header["__metadata__"] = metadata
    data = b''
    for name, shape, vals in tensors:
        blob = struct.pack('<%df' % len(vals), *vals)
        header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [len(data), len(data) + len(blob)]}
        data += blob
    text = json.dumps(header, separators=(',', ':'))
    if pad:
        text += ' ' * ((8 - len(text) % 8) % 8)
    return st_raw(text, data)


def numel(shape):
    n = 1
    for d in shape:
        n *= d
    return n


def params(skip=(), override=None):
    out = []
    for name, shape in SHAPES:
        if name in skip:
            continue
        if override and name in override:
            shape = override[name]
        out.append((name, shape, values(numel(shape))))
    return out


def checkpoint(meta_changes=None, drop_meta=(), tensors=None, slots=None):
    meta = {"format": "graphrun", "checkpoint_version": "1", "model_hash": "%016x" % model_hash(MODEL),
            "epoch": "0", "batch": "2", "step": "2", "learning_rate": "0.1", "seed": "3", "optimizer": "sgd"}
    meta.update(meta_changes or {})
    for k in drop_meta:
        del meta[k]
    t = params() if tensors is None else tensors
    if slots is None:
        slots = [("optimizer/%s/momentum_buffer" % n, s, [0.0] * numel(s)) for n, s in SHAPES]
    return st(t + slots, meta)


def csv_rows(n, cls_shift=0):
    lines = []
    for i in range(n):
        k = i % 2
        feats = [(0.9 if (j % 2) == k else 0.1) + 0.01 * ((i * 5 + j) % 7) for j in range(4)]
        lines.append("%d,%s" % (k, ",".join("%.2f" % v for v in feats)))
    return "\n".join(lines) + "\n"


def idx(type_code, dims, payload, magic=None):
    head = bytes([0, 0, type_code, len(dims)]) if magic is None else magic
    return head + b''.join(struct.pack('>I', d) for d in dims) + payload


IMAGES = idx(0x08, [8, 2, 2], bytes((i * 37) % 256 for i in range(32)))
LABELS = idx(0x08, [8], bytes(i % 2 for i in range(8)))

write("ok/model.json", json.dumps(MODEL, indent=1) + "\n")
write("ok/model_idx.json", json.dumps(MODEL_IDX, indent=1) + "\n")
# The graph form of a small residual network over the same 2x2 images (also a fuzzer seed).
GRAPH = {
    "graph": {
        "inputs": [{"name": "image", "shape": [1, 2, 2]}],
        "nodes": [
            {"name": "flat", "op": "flatten", "inputs": ["image"]},
            {"name": "h", "op": "dense", "inputs": ["flat"], "units": 4, "activation": "relu"},
            {"name": "g", "op": "dense", "inputs": ["h"], "units": 4, "activation": "relu"},
            {"name": "skip", "op": "add", "inputs": ["h", "g"]},
            {"name": "out", "op": "dense", "inputs": ["skip"], "units": 2, "activation": "softmax"}],
        "outputs": ["out"]},
    "optimizer": {"name": "adam", "learning_rate": 0.01},
    "data": dict(MODEL_IDX["data"]),
    "training": {"epochs": 2, "batch_size": 4},
}
corpus_tabular.ok_models(write, MODEL)  # ok/regression.json, ok/binary.json and their data
write("ok/train.csv", csv_rows(16))
write("ok/test.csv", csv_rows(8))
write("ok/images.idx", IMAGES)
write("ok/labels.idx", LABELS)
write("ok/weights.safetensors", st(params(), {"format": "graphrun"}))
write("ok/checkpoint.safetensors", checkpoint())

EVAL = "eval {corpus}/ok/model.json --threads 1 --weights {file}"
EVAL_CSV = "eval {corpus}/ok/model.json --threads 1 --weights {corpus}/ok/weights.safetensors --data {file}"
EVAL_IMAGES = ("eval {corpus}/ok/model_idx.json --threads 1 --weights {corpus}/ok/weights.safetensors "
               "--data {file} {corpus}/ok/labels.idx")
EVAL_LABELS = ("eval {corpus}/ok/model_idx.json --threads 1 --weights {corpus}/ok/weights.safetensors "
               "--data {corpus}/ok/images.idx {file}")
RESUME = "train {corpus}/ok/model.json --threads 1 --resume {file} --out {out}"
INSPECT = "inspect {file} --threads 1"
TRAIN = "train {file} --threads 1 --out {out}"
PLUGINS = "plugins --plugin-dir {file}"

# ---------------------------------------------------------------- must load (exit 0)

case("ok/weights.safetensors", None, EVAL, 0)
case("ok/checkpoint.safetensors", None, RESUME, 0)
case("ok/model_graph.json", json.dumps(GRAPH, indent=1) + "\n", TRAIN, 0)
case("ok/regression.json", None, TRAIN, 0)
case("ok/binary.json", None, TRAIN, 0)
case("load/weights_unpadded_no_metadata.safetensors", st(params(), pad=False), EVAL, 0)
case("load/weights_reordered.safetensors", st(list(reversed(params()))), EVAL, 0)
case("load/empty_tensor.safetensors", st([("empty", [0], [])]), "@safetensors {file}", 0)
case("load/empty_tensor_2d.safetensors", st([("a", [3, 0], []), ("b", [2], [1.0, 2.0])]), "@safetensors {file}", 0)
case("load/rank0_tensor.safetensors", st([("scalar", [], [1.5])]), "@safetensors {file}", 0)
case("load/no_tensors.safetensors", st_raw("{}      "), "@safetensors {file}", 0)
case("load/zero_dim_huge_other.safetensors",
     st_raw('{"z":{"dtype":"F32","shape":[0,2147483648,2147483648],"data_offsets":[0,0]}}'),
     "@safetensors {file}", 0)
case("load/images.idx.gz", gz(IMAGES), EVAL_IMAGES, 0)
case("load/images_two_members.idx.gz", gz(IMAGES[:13]) + gz(IMAGES[13:]), EVAL_IMAGES, 0)
case("load/bom_crlf.csv", "\ufeff" + csv_rows(6).replace("\n", "\r\n"), EVAL_CSV, 0)
case("load/blank_lines_spaces.csv", "\n  \n" + csv_rows(4).replace(",", " , ") + "\n\n", EVAL_CSV, 0)

# ---------------------------------------------------------------- safetensors: one fault each

S = "safetensors/"
case(S + "empty.safetensors", b'', EVAL, 2, "too short for the 8-byte header length")
case(S + "too_short.safetensors", b'\x10\x00\x00', EVAL, 2, "3 bytes, too short")
case(S + "header_len_huge.safetensors", struct.pack('<Q', 1 << 63) + b'{}', EVAL, 2, "header length", "limit")
case(S + "header_len_over_limit.safetensors", struct.pack('<Q', 100_000_001) + b'{}', EVAL, 2, "header length",
     "limit")
case(S + "header_len_past_end.safetensors", st_raw('{}', length=4096), EVAL, 2, "header length 4096",
     "past the end")
case(S + "header_len_zero.safetensors", st_raw(''), EVAL, 2, "not valid JSON")
case(S + "header_not_json.safetensors", st_raw('{"h.weight": '), EVAL, 2, "not valid JSON")
case(S + "header_array.safetensors", st_raw('[1,2,3]'), EVAL, 2, "not a JSON object")
case(S + "header_deep.safetensors", st_raw('{"a":' + '[' * 50000 + ']' * 50000 + '}'), EVAL, 2, "nests deeper")
case(S + "header_invalid_utf8.safetensors", st_raw(b'{"h.w\xff\xfe":{}}'), EVAL, 2, "not valid JSON")
case(S + "duplicate_key.safetensors",
     st_raw('{"x":{"dtype":"F32","shape":[],"data_offsets":[0,4]},"x":{"dtype":"F32","shape":[],'
            '"data_offsets":[4,8]}}', b'\0' * 8), EVAL, 2, 'duplicate key "x"')
case(S + "duplicate_field.safetensors",
     st_raw('{"x":{"dtype":"F32","dtype":"F32","shape":[],"data_offsets":[0,4]}}', b'\0' * 4), EVAL, 2,
     'duplicate field "dtype"')
case(S + "entry_not_object.safetensors", st_raw('{"x":[1]}'), EVAL, 2, 'tensor "x"', "expected an object")
case(S + "unknown_dtype.safetensors", st_raw('{"x":{"dtype":"F33","shape":[1],"data_offsets":[0,4]}}', b'\0' * 4),
     EVAL, 2, 'unknown dtype "F33"')
case(S + "dtype_not_string.safetensors", st_raw('{"x":{"dtype":4,"shape":[1],"data_offsets":[0,4]}}', b'\0' * 4),
     EVAL, 2, "dtype is 4")
case(S + "dtype_f16.safetensors", st_raw('{"x":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}', b'\0' * 4),
     EVAL, 2, 'tensor "x" has dtype F16')
case(S + "shape_negative.safetensors",
     st_raw('{"x":{"dtype":"F32","shape":[-1,4],"data_offsets":[0,16]}}', b'\0' * 16), EVAL, 2, "shape[0] is -1")
case(S + "shape_fraction.safetensors",
     st_raw('{"x":{"dtype":"F32","shape":[2,1.5],"data_offsets":[0,12]}}', b'\0' * 12), EVAL, 2, "shape[1] is 1.5")
case(S + "shape_not_array.safetensors", st_raw('{"x":{"dtype":"F32","shape":"4","data_offsets":[0,16]}}', b'\0' * 16),
     EVAL, 2, 'shape is "4"')
case(S + "shape_overflow.safetensors",
     st_raw('{"x":{"dtype":"F32","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,4]}}', b'\0' * 4),
     EVAL, 2, "more elements than fit in 64 bits")
# 2^62 elements x 4 bytes wraps to 0: must not look like an empty tensor.
case(S + "bytes_wrap_to_zero.safetensors",
     st_raw('{"x":{"dtype":"F32","shape":[4611686018427387904],"data_offsets":[0,0]}}'), EVAL, 2,
     "more elements than fit in 64 bits")
case(S + "dim_too_large_int64.safetensors",
     st_raw('{"x":{"dtype":"F32","shape":[18446744073709551616],"data_offsets":[0,4]}}', b'\0' * 4), EVAL, 2,
     "shape[0]")
case(S + "size_mismatch.safetensors",
     st_raw('{"x":{"dtype":"F32","shape":[4,3],"data_offsets":[0,44]}}', b'\0' * 44), EVAL, 2, "needs 48 bytes")
case(S + "offsets_reversed.safetensors",
     st_raw('{"x":{"dtype":"F32","shape":[1],"data_offsets":[8,4]}}', b'\0' * 8), EVAL, 2, "end before begin")
case(S + "offsets_three.safetensors",
     st_raw('{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}}', b'\0' * 8), EVAL, 2,
     "data_offsets is [0,4,8]")
case(S + "offsets_negative.safetensors",
     st_raw('{"x":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}}', b'\0' * 4), EVAL, 2, "data_offsets[0] is -4")
case(S + "offsets_gap.safetensors",
     st_raw('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],'
            '"data_offsets":[8,12]}}', b'\0' * 12), EVAL, 2, 'tensor "b"', "leave a gap")
case(S + "offsets_overlap.safetensors",
     st_raw('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],'
            '"data_offsets":[4,12]}}', b'\0' * 12), EVAL, 2, 'tensor "b"', "overlap")
case(S + "offsets_past_end.safetensors",
     st_raw('{"x":{"dtype":"F32","shape":[1048576],"data_offsets":[0,4194304]}}', b'\0' * 16), EVAL, 2,
     "tensors cover 4194304 data bytes")
case(S + "trailing_bytes.safetensors", st(params()) + b'\0\0\0\0', EVAL, 2, "tensors cover 92 data bytes",
     "96 bytes after the header")
case(S + "truncated.safetensors", st(params())[:-5], EVAL, 2, "tensors cover 92 data bytes")
case(S + "missing_field.safetensors", st_raw('{"x":{"dtype":"F32","shape":[1]}}'), EVAL, 2,
     'missing field "data_offsets"')
case(S + "extra_field.safetensors",
     st_raw('{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"crc":1}}', b'\0' * 4), EVAL, 2,
     'unexpected field "crc"')
case(S + "metadata_not_string.safetensors", st_raw('{"__metadata__":{"epoch":3}}'), EVAL, 2,
     '__metadata__ field "epoch"')
case(S + "metadata_not_object.safetensors", st_raw('{"__metadata__":"x"}'), EVAL, 2, "__metadata__ is not an object")
case(S + "rank9.safetensors",
     st_raw('{"x":{"dtype":"F32","shape":[1,1,1,1,1,1,1,1,1],"data_offsets":[0,4]}}', b'\0' * 4), EVAL, 2,
     'tensor "x" has rank 9')
case(S + "control_chars_in_name.safetensors",
     st_raw('{"a\\nb\\u0000c":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', b'\0' * 4), EVAL, 2,
     "is not a parameter of the model")
case(S + "long_name.safetensors",
     st_raw('{"%s":{"dtype":"F33","shape":[1],"data_offsets":[0,4]}}' % ('n' * 100000), b'\0' * 4), EVAL, 2,
     "unknown dtype")
case(S + "missing_parameter.safetensors", st(params(skip=("out.bias",))), EVAL, 2, "'out.bias'")
case(S + "unknown_tensor.safetensors", st(params() + [("extra", [1], [0.0])]), EVAL, 2,
     'tensor "extra" is not a parameter')
case(S + "wrong_shape.safetensors", st(params(override={"h.weight": [3, 4]})), EVAL, 2, "h.weight")
case(S + "scaler_half.safetensors", st(params() + [("scaler/offset", [4], [0.0] * 4)]), EVAL, 2,
     "only one of scaler/offset and scaler/scale")
case(S + "scaler_rank2.safetensors",
     st(params() + [("scaler/offset", [2, 2], [0.0] * 4), ("scaler/scale", [2, 2], [1.0] * 4)]), EVAL, 2,
     "scaler/offset")
case(S + "scaler_wrong_width.safetensors",
     st(params() + [("scaler/offset", [3], [0.0] * 3), ("scaler/scale", [3], [1.0] * 3)]), EVAL, 2, "scaler")
case(S + "weights_nan.safetensors",
     st([(n, s, [float('nan')] * numel(s)) for n, s in SHAPES]), EVAL, 2, "h.weight", "expected finite values")
os.makedirs(os.path.join(ROOT, S + "directory.safetensors"), exist_ok=True)
write(S + "directory.safetensors/.keep", b'')
case(S + "directory.safetensors", None, EVAL, 2, "directory")

# ---------------------------------------------------------------- checkpoints (train --resume)

C = "checkpoint/"
case(C + "plain_weights.safetensors", st(params(), {"format": "graphrun"}), RESUME, 2,
     'no "checkpoint_version"')
case(C + "version_2.safetensors", checkpoint({"checkpoint_version": "2"}), RESUME, 2, "format version 2")
case(C + "version_text.safetensors", checkpoint({"checkpoint_version": "one"}), RESUME, 2,
     "__metadata__.checkpoint_version")
case(C + "other_model.safetensors", checkpoint({"model_hash": "0123456789abcdef"}), RESUME, 2,
     "written for another model")
case(C + "epoch_text.safetensors", checkpoint({"epoch": "1x"}), RESUME, 2, "__metadata__.epoch")
case(C + "epoch_negative.safetensors", checkpoint({"epoch": "-1"}), RESUME, 2, "negative epoch")
case(C + "batch_past_epoch.safetensors", checkpoint({"batch": "4611686018427387904"}), RESUME, 2, "batch")
case(C + "step_negative.safetensors", checkpoint({"step": "-1"}), RESUME, 2, "__metadata__.step")
case(C + "lr_zero.safetensors", checkpoint({"learning_rate": "0"}), RESUME, 2, "__metadata__.learning_rate")
case(C + "lr_inf.safetensors", checkpoint({"learning_rate": "1e400"}), RESUME, 2, "__metadata__.learning_rate")
case(C + "lr_nan.safetensors", checkpoint({"learning_rate": "nan"}), RESUME, 2, "__metadata__.learning_rate")
case(C + "missing_seed.safetensors", checkpoint(drop_meta=("seed",)), RESUME, 2, 'no "seed"')
case(C + "other_optimizer.safetensors", checkpoint({"optimizer": "adam"}), RESUME, 2, "optimizer 'adam'")
case(C + "missing_slot.safetensors",
     checkpoint(slots=[("optimizer/%s/momentum_buffer" % n, s, [0.0] * numel(s)) for n, s in SHAPES[:3]]), RESUME,
     2, "optimizer state tensors")
case(C + "slot_wrong_shape.safetensors",
     checkpoint(slots=[("optimizer/%s/momentum_buffer" % n, s[::-1], [0.0] * numel(s)) for n, s in SHAPES]), RESUME,
     2, "optimizer/h.weight/momentum_buffer")
case(C + "slot_unknown.safetensors",
     checkpoint(slots=[("optimizer/%s/velocity" % n, s, [0.0] * numel(s)) for n, s in SHAPES]), RESUME, 2,
     "optimizer/h.weight/momentum_buffer")
case(C + "slot_nan.safetensors",
     checkpoint(slots=[("optimizer/%s/momentum_buffer" % n, s, [float('inf')] * numel(s)) for n, s in SHAPES]),
     RESUME, 2, "optimizer/", "expected finite values")
case(C + "truncated.safetensors", checkpoint()[:-3], RESUME, 2, "tensors cover")
case(C + "scaler_wrong_width.safetensors",
     checkpoint(tensors=params() + [("scaler/offset", [3], [0.0] * 3), ("scaler/scale", [3], [1.0] * 3)]), RESUME, 2,
     "scaler/offset and scaler/scale hold 3 features")
# Reduce-on-plateau and early-stopping state (fit.*, best/<parameter>).
FIT = {"fit.plateau_scale": "0.5", "fit.plateau_best": "0.25", "fit.plateau_has_best": "1", "fit.plateau_wait": "0",
       "fit.stop_best": "0.25", "fit.stop_best_epoch": "0", "fit.stop_wait": "1"}
case("ok/checkpoint_fit_state.safetensors",
     checkpoint(FIT, tensors=params() + [("best/" + n, s, v) for n, s, v in params()]), RESUME, 0)
case(C + "fit_scale_zero.safetensors", checkpoint(dict(FIT, **{"fit.plateau_scale": "0"})), RESUME, 2,
     "__metadata__.fit.*", "plateau_scale in (0, 1")
case(C + "fit_best_nan.safetensors", checkpoint(dict(FIT, **{"fit.stop_best": "nan"})), RESUME, 2,
     "__metadata__.fit.stop_best")
case(C + "fit_best_epoch_future.safetensors", checkpoint(dict(FIT, **{"fit.stop_best_epoch": "7"})), RESUME, 2,
     "stop_best_epoch in", "epoch 0")
case(C + "fit_best_missing.safetensors",
     checkpoint(FIT, tensors=params() + [("best/" + n, s, v) for n, s, v in params()[:2]]), RESUME, 2,
     "best/", "missing or not of the parameter's shape")
# Mid-epoch checkpoints (train --checkpoint-every) carry the epoch's running sums: 2 batches of 4.
SUMS = {"epoch_seen": "8", "epoch_correct": "5", "epoch_loss_sum": "5.5"}
case("ok/checkpoint_mid_epoch.safetensors", checkpoint(SUMS), RESUME, 0)
case(C + "epoch_sum_nan.safetensors", checkpoint(dict(SUMS, epoch_loss_sum="nan")), RESUME, 2,
     "__metadata__.epoch_loss_sum")
case(C + "epoch_sum_negative.safetensors", checkpoint(dict(SUMS, epoch_loss_sum="-1")), RESUME, 2,
     "__metadata__.epoch_loss_sum")
case(C + "epoch_sum_missing.safetensors", checkpoint({"epoch_seen": "8", "epoch_correct": "5"}), RESUME, 2,
     'no "epoch_loss_sum"')
case(C + "epoch_correct_over_seen.safetensors", checkpoint(dict(SUMS, epoch_correct="9")), RESUME, 2,
     "epoch_correct 9 and epoch_seen 8")
case(C + "epoch_seen_mismatch.safetensors", checkpoint(dict(SUMS, epoch_seen="12")), RESUME, 2,
     "__metadata__.epoch_seen is 12", "2 batches of 4")

# ---------------------------------------------------------------- model files (inspect / train)

M = "model/"


def model_with(**changes):
    m = json.loads(json.dumps(MODEL))
    m.pop("data")
    for k, v in changes.items():
        m[k] = v
    return json.dumps(m, indent=1)


def layer_with(i, **changes):
    m = json.loads(json.dumps(MODEL))
    m.pop("data")
    m["layers"][i].update(changes)
    return json.dumps(m, indent=1)


case(M + "empty.json", "", INSPECT, 2, "empty file")
case(M + "whitespace.json", " \n\t\n", INSPECT, 2, "empty file")
case(M + "syntax_error.json", '{"inputs": 4,\n "layers": [}\n', INSPECT, 2, ":2:", "invalid JSON")
case(M + "trailing_garbage.json", model_with() + "\n}", INSPECT, 2, "invalid JSON")
case(M + "top_level_array.json", "[1, 2]", INSPECT, 2, "a JSON object at the top level")
case(M + "deep_nesting.json", '{"inputs": ' + '[' * 50000 + ']' * 50000 + '}', INSPECT, 2, "nesting deeper")
case(M + "duplicate_key.json", '{"inputs": 4, "inputs": 5, "layers": []}', INSPECT, 2, 'duplicate key "inputs"')
case(M + "unknown_key.json", model_with(lr=0.1), INSPECT, 2, "lr: unknown key")
case(M + "invalid_utf8.json", b'{"inputs": 4, "description": "caf\xe9", "layers": []}', INSPECT, 2, "invalid JSON")
case(M + "nul_byte.json", b'{"inputs": 4,\0 "layers": []}', INSPECT, 2, "invalid JSON")
case(M + "inputs_zero.json", model_with(inputs=0), INSPECT, 2, "inputs")
case(M + "inputs_string.json", model_with(inputs="4"), INSPECT, 2, "inputs")
case(M + "inputs_huge.json", model_with(inputs=18446744073709551615), INSPECT, 2, "inputs")
case(M + "number_overflow.json", model_with().replace('"learning_rate": 0.1', '"learning_rate": 1e400'), INSPECT, 2,
     "number overflow", ":17:24: invalid JSON at optimizer.learning_rate")
case(M + "number_overflow_in_array.json", '{"inputs": 4,\n "layers": [3, -1e999]}', INSPECT, 2,
     ":2:21: invalid JSON at layers[1]: number overflow")
case(M + "layers_empty.json", model_with(layers=[]), INSPECT, 2, "layers")
case(M + "layers_object.json", model_with(layers={"units": 3}), INSPECT, 2, "layers")
case(M + "units_negative.json", layer_with(0, units=-3), INSPECT, 2, "layers[0].units")
case(M + "units_fraction.json", layer_with(0, units=2.5), INSPECT, 2, "layers[0].units")
case(M + "units_too_many.json", layer_with(1, units=1000001), INSPECT, 2, "layers[1].units")
case(M + "units_missing.json", model_with(layers=[{"activation": "softmax"}]), INSPECT, 2, "layers[0]", '"units"')
case(M + "too_many_parameters.json",
     json.dumps({"inputs": 100000000, "layers": [{"units": 1000000}, {"units": 1000000},
                                                 {"units": 2, "activation": "softmax"}]}), INSPECT, 2,
     "parameters")
case(M + "unknown_activation.json", layer_with(0, activation="relu6"), INSPECT, 2, "layers[0].activation")
case(M + "activation_param_range.json", layer_with(0, activation="leaky_relu", activation_params={"alpha": -1e30}),
     INSPECT, 2, "layers[0].activation_params")
case(M + "layer_name_slash.json", layer_with(0, name="../h"), INSPECT, 2, "layers[0].name")
case(M + "layer_name_duplicate.json", layer_with(1, name="h"), INSPECT, 2, "duplicate layer name")
case(M + "init_unknown.json", layer_with(0, init="orthogonal"), INSPECT, 2, "layers[0].init")
case(M + "init_low_high.json", layer_with(0, init={"kind": "uniform", "low": 1, "high": -1}), INSPECT, 2,
     "layers[0].init")
case(M + "bias_init_without_bias.json", layer_with(1, bias=False, bias_init="zeros"), INSPECT, 2,
     "layers[1].bias_init")
case(M + "no_softmax_cross_entropy.json", layer_with(1, activation="relu"), INSPECT, 2, "layers[1].activation")
case(M + "loss_unknown.json", model_with(loss="hinge"), INSPECT, 2, "loss")
case(M + "optimizer_unknown.json", model_with(optimizer={"name": "sgdx"}), INSPECT, 2, "optimizer.name")
case(M + "lr_negative.json", model_with(optimizer={"name": "sgd", "learning_rate": -1}), INSPECT, 2,
     "optimizer.learning_rate")
case(M + "lr_string.json", model_with(optimizer={"name": "sgd", "learning_rate": "fast"}), INSPECT, 2,
     "optimizer.learning_rate")
case(M + "optimizer_param_unknown.json", model_with(optimizer={"name": "sgd", "momentom": 0.9}), INSPECT, 2,
     "momentom")
case(M + "epochs_negative.json", model_with(training={"epochs": -1}), INSPECT, 2, "training.epochs")
case(M + "batch_zero.json", model_with(training={"batch_size": 0}), INSPECT, 2, "training.batch_size")
case(M + "seed_negative.json", model_with(training={"seed": -1}), INSPECT, 2, "training.seed")
case(M + "augment_not_an_image.json", model_with(training={"augment": {"shift": 2}}), INSPECT, 2, "training.augment",
     "[channels, height, width]", "[4]")
case(M + "version_2.json", model_with(version=2), INSPECT, 2, "version")
case(M + "graph_beside_layers.json", model_with(graph={}), INSPECT, 2, "inputs: not allowed beside")


def graph_with(nodes, inputs=None, outputs=("out",)):
    return json.dumps({"graph": {"inputs": inputs or [{"name": "x", "shape": [4]}], "nodes": nodes,
                                 "outputs": list(outputs)}}, indent=1)


def node(name, op, inputs, **attrs):
    return dict(name=name, op=op, inputs=list(inputs), **attrs)


OUT = node("out", "dense", ["a"], units=2, activation="softmax")
case(M + "graph_cycle.json", graph_with([node("a", "add", ["x", "b"]), node("b", "activation", ["a"], activation="relu"),
                                         OUT]), INSPECT, 2, 'graph.nodes[0]', 'node "a" is in a cycle (a -> b -> a)')
case(M + "graph_unknown_input.json", graph_with([node("a", "dense", ["y"], units=3), OUT]), INSPECT, 2,
     "graph.nodes[0].inputs[0]", 'unknown input name "y"')
case(M + "graph_duplicate_name.json", graph_with([node("a", "dense", ["x"], units=3), node("a", "dense", ["x"], units=3),
                                                  OUT]), INSPECT, 2, "graph.nodes[1].name", 'duplicate name "a"')
case(M + "graph_unused_node.json", graph_with([node("a", "dense", ["x"], units=3), node("lost", "dense", ["a"], units=3),
                                               OUT]), INSPECT, 2, 'graph.nodes[1]', 'node "lost": no output depends on it')
case(M + "graph_unknown_output.json", graph_with([node("a", "dense", ["x"], units=3), OUT], outputs=["logits"]),
     INSPECT, 2, "graph.outputs[0]", 'unknown node name "logits"')
case(M + "graph_add_shape_mismatch.json",
     graph_with([node("a", "dense", ["x"], units=8), node("b", "reshape", ["a"], shape=[2, 4]),
                 node("c", "reshape", ["a"], shape=[4, 2]), node("sum", "add", ["b", "c"]),
                 node("f", "flatten", ["sum"]), node("out", "dense", ["f"], units=2, activation="softmax")]),
     INSPECT, 2, 'graph.nodes[3] ("sum")', "add of [2,4] and [4,2]: expected two inputs of the same shape")
case(M + "dense_on_image.json",
     json.dumps({"inputs": [1, 2, 2], "layers": [{"units": 2, "activation": "softmax"}]}), INSPECT, 2,
     'layers[0] ("dense0")', "dense: input [1,2,2] per sample", 'add a "flatten"')
case(M + "conv_stride_zero.json",
     json.dumps({"inputs": [1, 2, 2], "layers": [{"op": "conv2d", "filters": 2, "kernel_size": 2, "strides": 0},
                                                 {"op": "flatten"}, {"units": 2, "activation": "softmax"}]}),
     INSPECT, 2, "layers[0].strides", "expected an integer from 1 to 4096, got 0")
case(M + "pool_stride_zero.json",
     graph_with([node("p", "max_pool2d", ["x"], pool_size=2, strides=[1, 0]), node("f", "flatten", ["p"]),
                 node("out", "dense", ["f"], units=2, activation="softmax")], inputs=[{"name": "x", "shape": [1, 2, 2]}]),
     INSPECT, 2, "graph.nodes[0].strides[1]", "expected an integer from 1 to 4096, got 0")
case(M + "dropout_rate_one.json",
     json.dumps({"inputs": 4, "layers": [{"op": "dropout", "rate": 1}, {"units": 2, "activation": "softmax"}]}),
     INSPECT, 2, "layers[0].rate", "expected a number >= 0 and < 1, got 1")
case(M + "dropout_rate_negative.json",
     graph_with([node("d", "dropout", ["x"], rate=-0.5), node("out", "dense", ["d"], units=2, activation="softmax")]),
     INSPECT, 2, "graph.nodes[0].rate", "expected a number >= 0 and < 1, got -0.5")
case(M + "data_format.json", model_with(data={"format": "parquet", "train": "x"}), INSPECT, 2, "data.format")
case(M + "data_path_empty.json", model_with(data={"format": "csv", "train": ""}), INSPECT, 2, "data.train")
case(M + "data_missing_file.json", model_with(data={"format": "csv", "train": "no-such.csv"}), TRAIN, 2,
     "data.train", "no such file")
case(M + "data_is_directory.json", model_with(data={"format": "csv", "train": "."}), TRAIN, 2, "data.train",
     "directory")

corpus_tabular.cases(case, MODEL, model_with, layer_with, M, INSPECT, TRAIN)

# ---------------------------------------------------------------- IDX (eval --data images labels)

I = "idx/"
PIX = bytes(range(32))
case(I + "empty.idx", b'', EVAL_IMAGES, 2, "too short for the 4-byte IDX magic")
case(I + "bad_magic.idx", b'\x01\x02\x08\x03' + IMAGES[4:], EVAL_IMAGES, 2, "expected IDX magic")
case(I + "png_magic.idx", b'\x89PNG\r\n\x1a\n' + b'\0' * 40, EVAL_IMAGES, 2, "expected IDX magic")
case(I + "unknown_type.idx", idx(0x0A, [8, 2, 2], PIX), EVAL_IMAGES, 2, "unknown IDX element type 0x0a")
case(I + "rank0.idx", idx(0x08, [], b''), EVAL_IMAGES, 2, "IDX rank 0")
case(I + "rank5.idx", idx(0x08, [1, 1, 1, 1, 1], b'\0'), EVAL_IMAGES, 2, "IDX rank 5")
case(I + "header_truncated.idx", IMAGES[:9], EVAL_IMAGES, 2, "inside the 16-byte header")
case(I + "data_truncated.idx", IMAGES[:-1], EVAL_IMAGES, 2, "(truncated)")
case(I + "trailing_bytes.idx", IMAGES + b'\0', EVAL_IMAGES, 2, "(trailing bytes)")
case(I + "dims_overflow.idx", idx(0x0E, [0xFFFFFFFF] * 4, b''), EVAL_IMAGES, 2, "more than the limit")
case(I + "declares_8gb.idx", idx(0x08, [2, 65536, 65536], b'\0' * 64), EVAL_IMAGES, 2, "more than the limit")
# Fuzzer finding (fuzz_idx): a zero dimension beside dimensions whose product overflows int64.
case(I + "zero_dim_overflow.idx", idx(0x0E, [0xFFFFFFFF, 0xFFFFFF05, 0, 0xFF], b''), EVAL_IMAGES, 2,
     "too large for graphrun")
case(I + "rank2_images.idx", idx(0x08, [8, 4], PIX), EVAL_IMAGES, 2, "expected rank 3")
case(I + "wrong_image_size.idx", idx(0x08, [8, 4, 4], bytes(128)), EVAL_IMAGES, 2,
     "16 features per sample")
case(I + "nan_pixels.idx", idx(0x0D, [8, 2, 2], struct.pack('>I', 0x7FC00000) * 32), EVAL_IMAGES, 2, "expected finite values")
case(I + "gzip_bomb.idx.gz", gz(idx(0x08, [1, 2, 2], b'\0' * (64 << 20))), EVAL_IMAGES, 2,
     "continues past the 4 bytes")
case(I + "gzip_declares_more.idx.gz", gz(idx(0x08, [1000, 1000, 1000], b'\0' * 4096)), EVAL_IMAGES, 2,
     "more than a")
case(I + "gzip_truncated.idx.gz", gz(IMAGES)[:-12], EVAL_IMAGES, 2, "cut short")
good_gz = bytearray(gz(IMAGES))
good_gz[-8] ^= 0xFF  # the CRC32
case(I + "gzip_bad_crc.idx.gz", bytes(good_gz), EVAL_IMAGES, 2, "corrupt gzip data")
bad_deflate = bytearray(gz(IMAGES))
bad_deflate[10] = 0xFF  # a reserved block type
case(I + "gzip_corrupt.idx.gz", bytes(bad_deflate), EVAL_IMAGES, 2, "corrupt gzip data")
case(I + "gzip_trailing_garbage.idx.gz", gz(IMAGES) + b'garbage!', EVAL_IMAGES, 2, "trailing garbage")
case(I + "gzip_header_only.idx.gz", gz(IMAGES)[:10], EVAL_IMAGES, 2, "cut short")
case(I + "labels_negative.idx", idx(0x09, [8], b'\x00\x01\xff\x01\x00\x01\x00\x01'), EVAL_LABELS, 2,
     "label 2 is -1")
case(I + "labels_float.idx", idx(0x0D, [8], b'\0' * 32), EVAL_LABELS, 2, "element type f32")
case(I + "labels_rank2.idx", idx(0x08, [4, 2], bytes(8)), EVAL_LABELS, 2, "rank 2")
case(I + "labels_count.idx", idx(0x08, [7], bytes(7)), EVAL_LABELS, 2, "7 labels")
case(I + "labels_out_of_range.idx", idx(0x08, [8], bytes([0, 1, 0, 1, 0, 9, 0, 1])), EVAL_LABELS, 2,
     "label 9")
case(I + "labels_truncated.idx.gz", gz(LABELS)[:-9], EVAL_LABELS, 2, "cut short")

# ---------------------------------------------------------------- CSV (eval --data)

V = "csv/"
GOOD = csv_rows(4).splitlines()
case(V + "empty.csv", "", EVAL_CSV, 2, "file is empty")
case(V + "bom_only.csv", "\ufeff", EVAL_CSV, 2, "file is empty")
case(V + "blank_lines_only.csv", "\n \n\t\n", EVAL_CSV, 2, "no data rows")
case(V + "ragged_short.csv", "\n".join(GOOD[:2] + ["1,0.5,0.5,0.5"] + GOOD[2:]) + "\n", EVAL_CSV, 2, ":3:",
     "expected 5 columns")
case(V + "ragged_long.csv", "\n".join(GOOD[:3] + ["1,0.5,0.5,0.5,0.5,0.5"]) + "\n", EVAL_CSV, 2, ":4:",
     "expected 5 columns")
case(V + "not_a_number.csv", "\n".join(GOOD[:1] + ["1,0.5,abc,0.5,0.5"]) + "\n", EVAL_CSV, 2, ":2:7:",
     '"abc" is not a number')
case(V + "header_unexpected.csv", "label,a,b,c,d\n" + "\n".join(GOOD) + "\n", EVAL_CSV, 2, ":1:", "header")
case(V + "nan.csv", "\n".join(GOOD[:1] + ["1,nan,0.5,0.5,0.5"]) + "\n", EVAL_CSV, 2, ":2:", "not a finite number")
case(V + "infinity.csv", "\n".join(GOOD[:1] + ["1,0.5,-inf,0.5,0.5"]) + "\n", EVAL_CSV, 2, ":2:",
     "not a finite number")
case(V + "float_overflow.csv", "\n".join(GOOD[:1] + ["1,0.5,1e39,0.5,0.5"]) + "\n", EVAL_CSV, 2, ":2:",
     "out of range")
case(V + "empty_cell.csv", "\n".join(GOOD[:1] + ["1,0.5,,0.5,0.5"]) + "\n", EVAL_CSV, 2, ":2:", "is empty")
case(V + "label_negative.csv", "\n".join(GOOD[:1] + ["-1,0.5,0.5,0.5,0.5"]) + "\n", EVAL_CSV, 2, ":2:1:",
     "label")
case(V + "label_fraction.csv", "\n".join(GOOD[:1] + ["1.5,0.5,0.5,0.5,0.5"]) + "\n", EVAL_CSV, 2, ":2:1:",
     "label")
case(V + "label_huge.csv", "\n".join(GOOD[:1] + ["1e10,0.5,0.5,0.5,0.5"]) + "\n", EVAL_CSV, 2, ":2:1:", "label")
case(V + "label_out_of_range.csv", "\n".join(GOOD[:1] + ["7,0.5,0.5,0.5,0.5"]) + "\n", EVAL_CSV, 2, "label 7")
case(V + "too_few_features.csv", "1,0.5,0.5,0.5\n0,0.1,0.2,0.3\n", EVAL_CSV, 2, "3 features")
case(V + "binary.csv", bytes(range(256)) * 4, EVAL_CSV, 2, ":1:")
case(V + "nul_in_cell.csv", "1,0.5,0.5\x00,0.5,0.5\n", EVAL_CSV, 2, ":1:", "not a number")
case(V + "old_mac_line_ends.csv", "\r".join(GOOD) + "\r", EVAL_CSV, 2, ":1:", "not a number")
case(V + "hex_float.csv", "\n".join(GOOD[:1] + ["1,0x1p3,0.5,0.5,0.5"]) + "\n", EVAL_CSV, 2, ":2:", "not a number")

# ---------------------------------------------------------------- plugin folders (--plugin-dir)

P = "plugin/"
case(P + "text_file/graphrun_act_text.so", "this is not a shared library\n", None, 2)
case(P + "empty_file/graphrun_act_empty.so", b'', None, 2)
case(P + "elf_header_only/graphrun_act_elf.so",
     b'\x7fELF\x02\x01\x01' + b'\0' * 9 + struct.pack('<HHI', 3, 62, 1) + b'\0' * 40, None, 2)
case(P + "random_bytes/graphrun_act_random.so", bytes((i * 193 + 71) % 256 for i in range(4096)), None, 2)
case(P + "not_a_directory.txt", "a plugin folder must be a folder\n", PLUGINS, 2, "is not a directory")
for i, row in enumerate(ROWS):
    if row[1] is None:  # the plugin folder is the file's parent
        folder = os.path.dirname(row[0])
        ROWS[i] = (row[0], "plugins --plugin-dir {corpus}/" + folder, 2, ["cannot be loaded"])


def main():
    lines = ["# graphrun corpus: written by scripts/make_corpus.py (do not edit by hand; rerun it)",
             "# file\tcommand\texit\texpect (substrings of the one stderr line, beside the file name)"]
    for rel, command, code, fragments in ROWS:
        for f in fragments:
            assert '\t' not in f and '\n' not in f
        lines.append("\t".join([rel, command, str(code)] + fragments))
    write("MANIFEST.tsv", "\n".join(lines) + "\n")
    counts = {}
    for rel, _, code, _ in ROWS:
        kind = rel.split('/')[0] if code != 0 else 'must-load'
        counts[kind] = counts.get(kind, 0) + 1
    print("corpus: %d cases in %s: %s" % (len(ROWS), ROOT,
                                          ", ".join("%s %d" % kv for kv in sorted(counts.items()))))


if __name__ == '__main__':
    main()
