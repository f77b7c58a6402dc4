#!/usr/bin/python3
"""PyTorch -> ONNX -> graphrun: predictions on the Fashion-MNIST test set must match PyTorch's.

  pytorch_roundtrip.py GRAPHRUN WORK_DIR [mlp|cnn]

Trains a small model in PyTorch for 200 (MLP) or 60 (CNN) Adam steps (seeded), puts it in eval mode,
exports it with torch.onnx.export (dynamic batch, opset 13), runs `graphrun run` on the 10,000
test images and compares the logits: max |graphrun - torch| / max |torch| <= 1e-4 and class
agreement >= 99.9 %. `graphrun import` must also write model.json and weights.safetensors.
Prints the figures; exit 77 (skip) without torch, onnx or the data set.
"""
import gzip
import os
import subprocess
import sys

try:
    import numpy as np
    import torch
except ImportError as e:
    print("skip: %s" % e)
    sys.exit(77)

DATA = "/usr/share/datasets/fashion-mnist"


def idx(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw[4 + 4 * ndim:], dtype=np.uint8).reshape(dims)


def model(kind):
    if kind == "mlp":
        return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 128), torch.nn.ReLU(),
                                   torch.nn.Dropout(0.2), torch.nn.Linear(128, 64), torch.nn.Tanh(),
                                   torch.nn.Linear(64, 10))
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 8, 3, padding=1), torch.nn.BatchNorm2d(8), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(8, 16, 3, padding=1), torch.nn.BatchNorm2d(16), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Dropout(0.25), torch.nn.Linear(16 * 7 * 7, 10))


def main():
    graphrun, work = sys.argv[1], sys.argv[2]
    kind = sys.argv[3] if len(sys.argv) > 3 else "mlp"
    if not os.path.exists(os.path.join(DATA, "t10k-images-idx3-ubyte.gz")):
        print("skip: no Fashion-MNIST under " + DATA)
        return 77
    os.makedirs(work, exist_ok=True)
    torch.manual_seed(0)
    torch.set_num_threads(2)
    train_x = torch.from_numpy(idx(os.path.join(DATA, "train-images-idx3-ubyte.gz"))[:12800].astype(np.float32) / 255)
    train_y = torch.from_numpy(idx(os.path.join(DATA, "train-labels-idx1-ubyte.gz"))[:12800].astype(np.int64))
    test_x = idx(os.path.join(DATA, "t10k-images-idx3-ubyte.gz")).astype(np.float32) / 255
    test_x = test_x.reshape(-1, 1, 28, 28)
    net = model(kind)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    net.train()
    for step in range(200 if kind == "mlp" else 60):
        xb = train_x[step * 64 % 12800:][:64].reshape(-1, 1, 28, 28)
        loss = torch.nn.functional.cross_entropy(net(xb), train_y[step * 64 % 12800:][:64])
        opt.zero_grad()
        loss.backward()
        opt.step()
    net.eval()
    onnx_path = os.path.join(work, kind + ".onnx")
    torch.onnx.export(net, torch.zeros(1, 1, 28, 28), onnx_path, input_names=["image"], output_names=["logits"],
                      dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}}, opset_version=13,
                      training=torch.onnx.TrainingMode.PRESERVE)  # eval mode, BatchNormalization kept
    with torch.no_grad():
        want = net(torch.from_numpy(test_x)).numpy()
    x_path, y_path = os.path.join(work, kind + "_x.npy"), os.path.join(work, kind + "_logits.npy")
    np.save(x_path, test_x)
    subprocess.run([graphrun, "run", onnx_path, "--inputs", x_path, "--out", y_path], check=True,
                   stdout=subprocess.DEVNULL)
    got = np.load(y_path)
    assert got.shape == want.shape, (got.shape, want.shape)
    rel = float(np.max(np.abs(got - want)) / np.max(np.abs(want)))
    agree = float(np.mean(got.argmax(1) == want.argmax(1)))
    print("%s: %d test images, max |graphrun - torch| / max |torch| = %.3g, class agreement %.4f %%"
          % (kind, len(want), rel, 100 * agree))
    out_dir = os.path.join(work, kind + "_imported")
    subprocess.run([graphrun, "import", onnx_path, "--out", out_dir], check=True, stdout=subprocess.DEVNULL)
    for f in ("model.json", "weights.safetensors"):
        assert os.path.getsize(os.path.join(out_dir, f)) > 0, f
    if rel > 1e-4 or agree < 0.999:
        print("FAILED: expected relative difference <= 1e-4 and agreement >= 99.9 %")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
