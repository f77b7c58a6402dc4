#!/usr/bin/python3
"""Writes tests/corpus/onnx: malformed ONNX files, one fault each, and their MANIFEST.tsv.

Deterministic; needs python3-onnx. Edit this script, rerun it, commit the script and the files
together (never edit a file there by hand). Each row: the file, the graphrun command, the exit
code and substrings of the one stderr line (see tests/corpus/README.md). good_mlp.onnx is the
valid model the faults start from (and a fuzzing seed).
"""
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "corpus", "onnx")
ROWS = []
IMPORT = "import {file} --out {out}"


def tensor(name, dims, values=None):
    values = np.arange(int(np.prod(dims)), dtype=np.float32) / 10 if values is None else values
    return numpy_helper.from_array(np.asarray(values, dtype=np.float32).reshape(dims), name)


def mlp(nodes=None, inits=None, inputs=None, outputs=None, opset=13):
    nodes = nodes if nodes is not None else [
        helper.make_node("Gemm", ["x", "fc.weight", "fc.bias"], ["h"], name="fc", transB=1),
        helper.make_node("Relu", ["h"], ["y"], name="relu")]
    inits = inits if inits is not None else [tensor("fc.weight", [3, 4]), tensor("fc.bias", [3])]
    inputs = inputs if inputs is not None else [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])]
    outputs = outputs if outputs is not None else [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3])]
    graph = helper.make_graph(nodes, "g", inputs, outputs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    return model


def case(name, model_or_bytes, code, *fragments, command=IMPORT):
    path = os.path.join(ROOT, name)
    data = model_or_bytes if isinstance(model_or_bytes, bytes) else model_or_bytes.SerializeToString()
    with open(path, "wb") as f:
        f.write(data)
    ROWS.append((name, command, code, list(fragments)))


def external(location, length=None):
    t = tensor("fc.weight", [3, 4])
    t.ClearField("raw_data")
    t.ClearField("float_data")
    t.data_location = TensorProto.EXTERNAL
    entries = [("location", location)] + ([("length", str(length))] if length is not None else [])
    for k, v in entries:
        e = t.external_data.add()
        e.key, e.value = k, v
    return mlp(inits=[t, tensor("fc.bias", [3])])


def main():
    os.makedirs(ROOT, exist_ok=True)
    for f in os.listdir(ROOT):
        os.remove(os.path.join(ROOT, f))
    good = mlp()
    onnx.checker.check_model(good, full_check=True)
    case("good_mlp.onnx", good, 0, command="import {file} --out {out}/imported")
    reshape = mlp(nodes=[helper.make_node("Reshape", ["x", "s"], ["y"], name="flat")],
                  inputs=[helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 2, 3])],
                  outputs=[helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 6])],
                  inits=[numpy_helper.from_array(np.array([0, -1], np.int64), "s")])
    onnx.checker.check_model(reshape, full_check=True)
    case("good_reshape_keeps_batch.onnx", reshape, 0, command="import {file} --out {out}/imported")
    case("not_protobuf.onnx", b"this is not a protobuf\n", 2, "does not parse")
    case("no_graph.onnx", onnx.ModelProto(ir_version=8).SerializeToString(), 2, "no graph")
    case("old_opset.onnx", mlp(opset=3), 2, "unsupported opset 3")
    case("unsupported_op.onnx", mlp(nodes=[helper.make_node("Gemm", ["x", "fc.weight", "fc.bias"], ["h"], name="fc", transB=1),
                                          helper.make_node("Erf", ["h"], ["y"], name="erf1")]),
         2, "unsupported op 'Erf'", "node 'erf1'", "opset 13")
    case("dangling_name.onnx", mlp(nodes=[helper.make_node("Relu", ["ghost"], ["y"], name="relu")]), 2,
         "reads 'ghost'", "dangling name or a cycle")
    case("cycle.onnx", mlp(nodes=[helper.make_node("Relu", ["b"], ["a"], name="first"),
                                  helper.make_node("Relu", ["a"], ["b"], name="second"),
                                  helper.make_node("Relu", ["b"], ["y"], name="third")]), 2, "node 'first'", "a cycle")
    case("defined_twice.onnx", mlp(nodes=[helper.make_node("Relu", ["x"], ["y"], name="r1"),
                                          helper.make_node("Relu", ["x"], ["y"], name="r2")]), 2, "'y' is defined twice")
    case("no_outputs.onnx", mlp(outputs=[]), 2, "no outputs")
    short = tensor("fc.weight", [3, 4])
    short.ClearField("raw_data")
    short.float_data.extend([1.0] * 5)
    case("float_data_short.onnx", mlp(inits=[short, tensor("fc.bias", [3])]), 2, "initializer 'fc.weight'",
         "holds 5 values", "needs 12")
    raw = tensor("fc.weight", [3, 4])
    raw.raw_data = raw.raw_data[:-4]
    case("raw_data_short.onnx", mlp(inits=[raw, tensor("fc.bias", [3])]), 2, "raw data has 44 bytes", "need 48")
    huge = tensor("fc.weight", [3, 4])
    del huge.dims[:]
    huge.dims.extend([1 << 40, 1 << 40])
    case("huge_dims.onnx", mlp(inits=[huge, tensor("fc.bias", [3])]), 2, "initializer 'fc.weight'", "more than")
    # Found by fuzz_onnx_import: a Constant declaring 2^30 floats and holding none was allocated
    # (and zero-filled) before its data length was checked.
    empty = TensorProto(name="big", data_type=TensorProto.FLOAT, dims=[1 << 30])
    case("constant_declares_huge.onnx", mlp(nodes=[helper.make_node("Constant", [], ["c"], name="const", value=empty),
                                                   helper.make_node("Relu", ["x"], ["y"], name="relu")], inits=[]),
         2, "node 'const'", "holds 0 values", "needs 1073741824")
    neg = tensor("fc.weight", [3, 4])
    neg.dims[0] = -3
    case("negative_dim.onnx", mlp(inits=[neg, tensor("fc.bias", [3])]), 2, "dimension -3 is negative")
    case("external_absolute.onnx", external("/etc/passwd"), 2, "must be relative")
    case("external_dotdot.onnx", external("../ok/weights.safetensors"), 2, "no '..'")
    with open(os.path.join(ROOT, "short.bin"), "wb") as f:
        f.write(b"\0" * 8)
    case("external_past_end.onnx", external("short.bin"), 2, "past its end")
    case("external_wrong_length.onnx", external("short.bin", length=8), 2, "length 8 does not match")
    case("symbolic_inner_dim.onnx", mlp(inputs=[helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", "F"])]), 2,
         "input 'x'", "symbolic dimension 1")
    case("int_input.onnx", mlp(inputs=[helper.make_tensor_value_info("x", TensorProto.INT64, ["N", 4])]), 2,
         "input 'x'", "unsupported element type int64")
    case("runtime_shape.onnx", mlp(nodes=[helper.make_node("Reshape", ["x", "s"], ["y"], name="reshape")],
                                   inputs=[helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 6]),
                                           helper.make_tensor_value_info("s", TensorProto.INT64, [2])], inits=[]),
         2, "input 's'", "unsupported element type int64")
    lines = ["# ONNX corpus: written by scripts/make_onnx_corpus.py (do not edit by hand; rerun it)",
             "# file\tcommand\texit\texpect (substrings of the one stderr line, beside the file name)"]
    for name, command, code, fragments in ROWS:
        lines.append("\t".join([name, command, str(code)] + fragments))
    with open(os.path.join(ROOT, "MANIFEST.tsv"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("onnx corpus: %d cases in %s" % (len(ROWS), os.path.normpath(ROOT)))


if __name__ == "__main__":
    main()
