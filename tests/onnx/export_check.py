#!/usr/bin/python3
"""graphrun export -> ONNX's checker and shape inference -> graphrun run: same predictions.

  export_check.py GRAPHRUN CORPUS_OK_DIR WORK_DIR

Trains the corpus's 4-3-2 model with a standardize scaler (so the export has scaler nodes),
exports it at opsets 9, 13 and 17, checks each with onnx.checker.check_model(full_check=True)
and strict shape inference, checks node names against the layer names, and runs the export on
the raw test features: its classes must equal `graphrun predict`'s and its probabilities agree
to predict's printed precision. Exit 77 (skip) without python3-onnx or numpy.
"""
import json
import os
import subprocess
import sys

try:
    import numpy as np
    import onnx
except ImportError as e:
    print("skip: %s" % e)
    sys.exit(77)


def main():
    graphrun, ok, work = [os.path.abspath(a) for a in sys.argv[1:4]]
    os.makedirs(work, exist_ok=True)
    with open(os.path.join(ok, "model.json")) as f:
        model = json.load(f)
    model["data"]["train"] = os.path.join(ok, "train.csv")
    model["data"]["test"] = os.path.join(ok, "test.csv")
    model["data"]["scaling"] = "standardize"
    model["layers"][0]["activation"] = "leaky_relu"
    model["layers"][0]["activation_params"] = {"alpha": 0.2}
    model_path = os.path.join(work, "model.json")
    with open(model_path, "w") as f:
        json.dump(model, f)
    subprocess.run([graphrun, "train", model_path, "--out", work, "--threads", "1"], check=True, stdout=subprocess.DEVNULL)
    weights = os.path.join(work, "weights.safetensors")
    features = np.loadtxt(os.path.join(ok, "test.csv"), delimiter=",", dtype=np.float32)[:, 1:]
    features_csv = os.path.join(work, "features.csv")
    np.savetxt(features_csv, features, delimiter=",", fmt="%.9g")
    np.save(os.path.join(work, "features.npy"), features)
    pred = os.path.join(work, "predict.csv")
    subprocess.run([graphrun, "predict", model_path, "--weights", weights, "--input", features_csv, "--output", pred],
                   check=True, stdout=subprocess.DEVNULL)
    rows = np.loadtxt(pred, delimiter=",", skiprows=1, usecols=(1, 3, 4))
    for opset in (9, 13, 17):
        out = os.path.join(work, "model-%d.onnx" % opset)
        subprocess.run([graphrun, "export", model_path, "--weights", weights, "--out", out, "--opset", str(opset)],
                       check=True, stdout=subprocess.DEVNULL)
        m = onnx.load(out)
        onnx.checker.check_model(m, full_check=True)
        onnx.shape_inference.infer_shapes(m, check_type=True, strict_mode=True)
        names = [n.name for n in m.graph.node]
        assert names[:2] == ["scaler.sub", "scaler"] and "h" in names and "out" in names, names
        assert [i.name for i in m.graph.initializer][:2] == ["scaler.offset", "scaler.scale"]
        probs = os.path.join(work, "probs-%d.npy" % opset)
        subprocess.run([graphrun, "run", out, "--inputs", os.path.join(work, "features.npy"), "--out", probs],
                       check=True, stdout=subprocess.DEVNULL)
        p = np.load(probs)
        assert p.shape == (len(features), 2), p.shape
        assert (p.argmax(1) == rows[:, 0]).all(), "classes differ from graphrun predict"
        diff = float(np.max(np.abs(p - rows[:, 1:])))
        assert diff < 1e-5, diff
        print("opset %d: checker and shape inference pass, %d rows, max |export - predict| = %.2g" % (opset, len(p), diff))
    return 0


if __name__ == "__main__":
    sys.exit(main())
