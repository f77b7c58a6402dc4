#!/usr/bin/python3
"""graphrun against PyTorch, side by side, on the seed models and Fashion-MNIST.

For each model file it trains the same network (layers, activations, initialisation, SGD with
the file's learning rate, batch size, shuffled every epoch, cross-entropy) on the same data
(the file's IDX files, scaled x / 255 like its minmax_global scaling) in PyTorch and in graphrun
(`graphrun train --metrics-out`), with the same number of threads, and prints one table:
seconds per epoch, samples/s, achieved GFLOP/s and the fraction of the machine's peak, test
accuracy, for each side, and the ratio graphrun / PyTorch.

FLOPs are the model's, the same for both sides: per sample, 2 per multiply-add of the forward
matmuls and convolutions, as many for the weight gradients, as many again for the input
gradients of every layer but the first (nobody needs d loss / d pixels); bias, activation,
pooling and loss are left out. The CNN (models/fashion_cnn.json: conv2d, max_pool2d, flatten,
dropout, dense; Adam) is built layer for layer in torch.nn with the same initializers.
Peak fp32 FLOP/s is measured once with a small FMA loop (C++, compiled here with g++ -O2, 12
independent 8-lane AVX2 accumulators per thread, and 16 16-lane AVX-512 ones when the CPU has
AVX-512): "% of peak" is against the faster of the two (on Zen 5 and Intel server cores, 512-bit
FMAs run at full rate and double the 256-bit figure), "% of AVX2 peak" against the 256-bit loop.

Then inference (`--infer-model`, default the 500-300-100 relu network and the CNN, batch
`--infer-batch` 256): the logits, loss and predicted class of all 60000 training samples, `graphrun eval
--batch-size` (weights from a few training steps; its timing line excludes loading and
compiling) against `torch.no_grad()`, best of 3 passes, FLOPs 2 per multiply-add.

Each PyTorch run is a child process with OMP_NUM_THREADS and torch.set_num_threads set to
the thread count and OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE removed; PyTorch needs Debian's
libopenblas0-openmp as its BLAS (scripts/bench_setup.sh installs it): without it Debian's
torch runs the reference BLAS, ~20x slower. Epoch time is the training loop only (both sides
exclude loading the data and evaluating). The shuffles are PyTorch's and graphrun's own
(same scheme, different random streams).

  /usr/bin/python3 benchmarks/compare_pytorch.py --threads 2 --epochs 1 --limit-train-sgd1 10000
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
INFER_PASSES = 3
MODELS = ["models/fashion_sigmoid_sgd1.json", "models/fashion_sigmoid_batch32.json", "models/fashion_relu_deep.json",
          "models/fashion_wide.json", "models/fashion_cnn.json"]

FMA_LOOP = r"""
#include <immintrin.h>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>
// Independent accumulators: cover FMA latency (4 cycles) x 2 pipes with room to spare.
#ifdef __AVX512F__
using V = __m512;
constexpr int kLanes = 16, kAcc = 16;
static V set1(float x) { return _mm512_set1_ps(x); }
static V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
static float first(V v) { return _mm512_cvtss_f32(v); }
#else
using V = __m256;
constexpr int kLanes = 8, kAcc = 12;
static V set1(float x) { return _mm256_set1_ps(x); }
static V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
static float first(V v) { return _mm256_cvtss_f32(v); }
#endif
static float run(long iters) {
  V a[kAcc];
  for (int i = 0; i < kAcc; ++i) a[i] = set1(0.001f * i);
  const V m = set1(0.9999f), c = set1(0.0001f);
  for (long k = 0; k < iters; ++k) {
#pragma GCC unroll 16
    for (int i = 0; i < kAcc; ++i) a[i] = fma(a[i], m, c);
  }
  float s = 0;
  for (int i = 0; i < kAcc; ++i) s += first(a[i]);
  return s;
}
int main(int argc, char** argv) {
  const int threads = argc > 1 ? std::atoi(argv[1]) : 1;
  const long iters = 100000000L;
  double best = 0;
  for (int rep = 0; rep < 3; ++rep) {
    std::vector<std::thread> pool;
    std::vector<float> sink(threads);
    const auto t0 = std::chrono::steady_clock::now();
    for (int t = 0; t < threads; ++t) pool.emplace_back([&, t] { sink[t] = run(iters); });
    for (auto& t : pool) t.join();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double flops = 2.0 * kLanes * kAcc * iters * threads;
    if (flops / s > best) best = flops / s;
    if (sink[0] == 12345.0f) std::puts("");
  }
  std::printf("%.3f\n", best * 1e-9);
}
"""


def has_avx512():
    try:
        with open("/proc/cpuinfo") as f:
            return " avx512f" in f.read()
    except OSError:
        return False


def peak_gflops(threads):
    """Peak fp32 GFLOP/s on `threads` threads from a compiled FMA loop (best of 3), per vector
    width: {"avx2": x, "avx512": y}. On CPUs with full-width AVX-512 units (Zen 5, Intel server
    cores) the 512-bit figure is twice the 256-bit one, and it is the peak graphrun's kernels
    (Highway's AVX3 target) run against."""
    out = {}
    with tempfile.TemporaryDirectory() as d:
        src = os.path.join(d, "fma.cc")
        with open(src, "w") as f:
            f.write(FMA_LOOP)
        for name, flags in [("avx2", ["-mavx2", "-mfma"]), ("avx512", ["-mavx512f"])]:
            if name == "avx512" and not has_avx512():
                continue
            exe = os.path.join(d, "fma_" + name)
            subprocess.run(["g++", "-O2", *flags, "-pthread", src, "-o", exe], check=True)
            out[name] = float(subprocess.run([exe, str(threads)], check=True, capture_output=True, text=True).stdout)
    return out


def load_model(path):
    with open(path) as f:
        return json.load(f)


def pair(v):
    return list(v) if isinstance(v, list) else [v, v]


def plan(model):
    """The model file's sequential layers with per-sample shapes: [(layer, in_shape, out_shape, macs)]."""
    shape = model["inputs"] if isinstance(model["inputs"], list) else [model["inputs"]]
    out = []
    for layer in model["layers"]:
        op, macs, new = layer.get("op", "dense"), 0, shape
        if op == "dense":
            new = [layer["units"]]
            macs = shape[0] * layer["units"]
        elif op in ("conv2d", "max_pool2d", "avg_pool2d"):
            k = pair(layer.get("kernel_size", layer.get("pool_size")))
            st = pair(layer.get("strides", 1 if op == "conv2d" else layer.get("pool_size")))
            pad = layer.get("padding", "valid")
            if pad == "same":
                hw = [-(-shape[1 + d] // st[d]) for d in range(2)]
            elif pad == "valid":
                hw = [(shape[1 + d] - k[d]) // st[d] + 1 for d in range(2)]
            else:
                raise SystemExit(f"padding {pad} not mapped")
            c = layer["filters"] if op == "conv2d" else shape[0]
            new = [c] + hw
            if op == "conv2d":
                macs = c * hw[0] * hw[1] * shape[0] // layer.get("groups", 1) * k[0] * k[1]
        elif op == "flatten":
            new = [1]
            for d in shape:
                new[0] *= d
        elif op != "dropout":
            raise SystemExit(f"layer op {op} not mapped")
        out.append((layer, shape, new, macs))
        shape = new
    return out


def train_flops_per_sample(model):
    macs = [m for *_, m in plan(model) if m]
    return 2 * sum(macs) + 2 * sum(macs) + 2 * (sum(macs) - macs[0])


def infer_flops_per_sample(model):
    return 2 * sum(m for *_, m in plan(model))


# ---- the PyTorch side (a child process: its thread settings must precede importing torch) ----

def read_idx(path):
    import gzip
    import numpy as np
    with (gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb")) as f:
        data = f.read()
    ndim = data[3]
    shape = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def torch_worker(args):
    import numpy as np
    import torch
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model_file = load_model(args.torch_worker)
    data = model_file["data"]
    shape = [-1] + (model_file["inputs"] if isinstance(model_file["inputs"], list) else [model_file["inputs"]])
    xtr = read_idx(data["train_images"]).reshape(shape).astype(np.float32) / 255.0
    ytr = read_idx(data["train_labels"]).astype(np.int64)
    xte = read_idx(data["test_images"]).reshape(shape).astype(np.float32) / 255.0
    yte = read_idx(data["test_labels"]).astype(np.int64)
    if args.limit_train > 0:
        xtr, ytr = xtr[: args.limit_train], ytr[: args.limit_train]
    xtr, ytr, xte, yte = map(torch.from_numpy, (xtr, ytr, xte, yte))

    def init(t, spec):
        kind = spec if isinstance(spec, str) else spec["kind"]
        if kind == "glorot_uniform":
            torch.nn.init.xavier_uniform_(t)
        elif kind == "he_uniform":  # sqrt(6 / fan_in), fan_in = C/groups*kh*kw or the inputs
            torch.nn.init.kaiming_uniform_(t, nonlinearity="relu")
        elif kind == "he_normal":  # std sqrt(2 / fan_in), as graphrun's he_normal
            torch.nn.init.kaiming_normal_(t, nonlinearity="relu")
        elif kind == "zeros":
            t.zero_()
        elif kind == "normal":
            t.normal_(spec.get("mean", 0.0), spec.get("std", 1.0))
        else:
            raise SystemExit(f"{args.torch_worker}: initializer {kind} not mapped")

    layers = []
    for layer, shape, out, _ in plan(model_file):
        op = layer.get("op", "dense")
        if op in ("dense", "conv2d"):
            bias = bool(layer.get("bias", True))
            if op == "dense":
                mod = torch.nn.Linear(shape[0], out[0], bias=bias)
            else:
                k = pair(layer["kernel_size"])
                pad = layer.get("padding", "valid")
                mod = torch.nn.Conv2d(shape[0], out[0], k, stride=pair(layer.get("strides", 1)), bias=bias,
                                      padding=[k[0] // 2, k[1] // 2] if pad == "same" else 0,
                                      groups=layer.get("groups", 1))
            with torch.no_grad():
                init(mod.weight, layer.get("init", "glorot_uniform" if op == "dense" else "he_uniform"))
                if bias:
                    init(mod.bias, layer.get("bias_init", "zeros"))
            layers.append(mod)
            act = layer.get("activation", "linear")
            if act == "sigmoid":
                layers.append(torch.nn.Sigmoid())
            elif act == "relu":
                layers.append(torch.nn.ReLU())
            elif act not in ("softmax", "linear"):
                raise SystemExit(f"{args.torch_worker}: activation {act} not mapped")
        elif op == "max_pool2d":
            layers.append(torch.nn.MaxPool2d(pair(layer["pool_size"]), stride=pair(layer.get("strides", layer["pool_size"]))))
        elif op == "flatten":
            layers.append(torch.nn.Flatten())
        elif op == "dropout":
            layers.append(torch.nn.Dropout(layer["rate"]))
        else:
            raise SystemExit(f"{args.torch_worker}: layer op {op} not mapped")
    net = torch.nn.Sequential(*layers)  # logits: the softmax is in the loss, as in graphrun
    if args.infer_batch:
        # Inference as `graphrun eval` does it: logits, loss and predicted class of every sample.
        seconds = []
        net.eval()
        with torch.no_grad():
            for _ in range(INFER_PASSES):
                t0 = time.perf_counter()
                for s in range(0, len(xtr), args.infer_batch):
                    out = net(xtr[s: s + args.infer_batch])
                    torch.nn.functional.cross_entropy(out, ytr[s: s + args.infer_batch])
                    out.argmax(1)
                seconds.append(time.perf_counter() - t0)
        print(json.dumps({"seconds": seconds, "samples": len(xtr)}))
        return
    optimizer = model_file.get("optimizer", {"name": "sgd"})
    optimizer = {"name": optimizer} if isinstance(optimizer, str) else optimizer
    if optimizer["name"] == "adam":  # graphrun's adam plugin: beta1 0.9, beta2 0.999, eps 1e-8 (PyTorch's)
        opt = torch.optim.Adam(net.parameters(), lr=optimizer.get("learning_rate", 0.001))
    elif optimizer["name"] == "sgd" and set(optimizer) <= {"name", "learning_rate"}:
        opt = torch.optim.SGD(net.parameters(), lr=optimizer.get("learning_rate", 0.01))
    else:
        raise SystemExit(f"{args.torch_worker}: optimizer {optimizer} not mapped")
    loss_fn = torch.nn.CrossEntropyLoss()
    bs = args.batch_size or model_file["training"]["batch_size"]
    n = xtr.shape[0]
    epoch_seconds = []
    for _ in range(args.epochs):
        order = torch.randperm(n)
        t0 = time.perf_counter()
        for start in range(0, n, bs):
            idx = order[start: start + bs]
            xb, yb = xtr[idx], ytr[idx]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(net(xb), yb)
            loss.backward()
            opt.step()
        epoch_seconds.append(time.perf_counter() - t0)
    net.eval()
    with torch.no_grad():
        correct = sum(int((net(xte[s: s + 500]).argmax(1) == yte[s: s + 500]).sum()) for s in range(0, len(yte), 500))
    print(json.dumps({"seconds": epoch_seconds, "train_samples": n, "test_accuracy": correct / len(yte),
                      "torch": torch.__version__, "blas": torch.__config__.show().count("BLAS")}))


def run_torch(model, args, limit, infer_batch=0):
    env = dict(os.environ)
    env["OMP_NUM_THREADS"] = str(args.threads)
    for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        env.pop(k, None)
    cmd = [sys.executable, os.path.abspath(__file__), "--torch-worker", model, "--threads", str(args.threads),
           "--epochs", str(args.epochs), "--limit-train", str(limit), "--infer-batch", str(infer_batch)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env, cwd=ROOT).stdout
    return json.loads(out.strip().splitlines()[-1])


def run_graphrun(model, args, limit):
    with tempfile.TemporaryDirectory() as d:
        metrics = os.path.join(d, "m.json")
        cmd = [args.graphrun, "train", model, "--metrics-out", metrics, "--threads", str(args.threads),
               "--backend", args.backend, "--epochs", str(args.epochs)]
        if limit > 0:
            cmd += ["--limit-train", str(limit)]
        subprocess.run(cmd, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
        with open(metrics) as f:
            m = json.load(f)
    return {"seconds": [e["seconds"] for e in m["epochs"]], "train_samples": m["train_samples"],
            "test_accuracy": m["test_accuracy"]}


def run_graphrun_infer(model, args):
    """`graphrun eval` on the training set (weights from a few steps of training), INFER_PASSES times."""
    data = load_model(os.path.join(ROOT, model))["data"]
    with tempfile.TemporaryDirectory() as d:
        subprocess.run([args.graphrun, "train", model, "--epochs", "1", "--limit-train", "64", "--out", d,
                        "--threads", str(args.threads)], check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
        seconds = []
        for _ in range(INFER_PASSES):
            out = subprocess.run([args.graphrun, "eval", model, "--weights", os.path.join(d, "weights.safetensors"),
                                  "--data", data["train_images"], data["train_labels"], "--batch-size",
                                  str(args.infer_batch), "--threads", str(args.threads), "--backend", args.backend],
                                 check=True, cwd=ROOT, capture_output=True, text=True)
            m = re.search(r"^speed: ([0-9.]+) s, [0-9]+ samples/s", out.stdout, re.M)
            if not m:
                raise SystemExit(f"graphrun eval printed no speed line:\n{out.stdout}")
            seconds.append(float(m.group(1)))
    return {"seconds": seconds, "samples": int(out.stdout.split()[0])}


def find_graphrun():
    for p in ("build/perf/tools/graphrun/graphrun", "build/tools/graphrun/graphrun", "build/release/tools/graphrun/graphrun"):
        if os.access(os.path.join(ROOT, p), os.X_OK):
            return os.path.join(ROOT, p)
    return shutil.which("graphrun")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=1, choices=[1, 2, 3])
    ap.add_argument("--limit-train-sgd1", type=int, default=10000,
                    help="training samples for the batch-1 model (0: all 60000)")
    ap.add_argument("--limit-train-cnn", type=int, default=0,
                    help="training samples for the convolutional models (0: all 60000)")
    ap.add_argument("--limit-train-wide", type=int, default=16384,
                    help="training samples for fashion_wide.json (120 MFLOP per sample; 0: all 60000); the others use all")
    ap.add_argument("--backend", default="highway")
    ap.add_argument("--graphrun", default=None, help="the graphrun binary (default: build/perf, build, PATH)")
    ap.add_argument("--models", nargs="*", default=MODELS)
    ap.add_argument("--json", default=None, help="also write the rows as JSON here")
    ap.add_argument("--infer-model", nargs="*", default=["models/fashion_relu_deep.json", "models/fashion_cnn.json"],
                    help="models whose inference (graphrun eval) is timed on the training set")
    ap.add_argument("--infer-batch", type=int, default=256, help="inference batch size (0: skip inference)")
    # internal: the PyTorch child process
    ap.add_argument("--torch-worker", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--limit-train", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--batch-size", type=int, default=0, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.torch_worker:
        return torch_worker(args)
    args.graphrun = args.graphrun or find_graphrun()
    if not args.graphrun:
        raise SystemExit("graphrun binary not found: build it (cmake --build build/perf) or pass --graphrun")

    peaks = peak_gflops(args.threads)
    peak = max(peaks.values())  # the widest vectors the CPU runs at full rate
    avx2 = peaks["avx2"]
    print(f"peak fp32 (FMA loop, {args.threads} threads): "
          + ", ".join(f"{v:.1f} GFLOP/s with {k}" for k, v in peaks.items())
          + f"; {args.graphrun} --backend {args.backend}; {args.epochs} epoch(s)", flush=True)
    rows = []
    for model in args.models:
        mf = load_model(os.path.join(ROOT, model))
        convolutional = any(l.get("op") == "conv2d" for l in mf["layers"])
        limit = (args.limit_train_sgd1 if mf["training"]["batch_size"] == 1
                 else args.limit_train_wide if os.path.basename(model) == "fashion_wide.json"
                 else args.limit_train_cnn if convolutional else 0)
        fps = train_flops_per_sample(mf)
        res = {"torch": run_torch(model, args, limit), "graphrun": run_graphrun(model, args, limit)}
        row = {"model": os.path.basename(model), "batch": mf["training"]["batch_size"], "threads": args.threads}
        for side, r in res.items():
            s = min(r["seconds"])  # the best epoch: the first pays for warm-up on both sides
            sps = r["train_samples"] / s
            row[side] = {"s_per_epoch": s, "samples_per_s": sps, "gflops": sps * fps * 1e-9,
                         "peak_fraction": sps * fps * 1e-9 / peak, "avx2_peak_fraction": sps * fps * 1e-9 / avx2,
                         "test_accuracy": r["test_accuracy"],
                         "train_samples": r["train_samples"]}
        row["ratio"] = row["graphrun"]["samples_per_s"] / row["torch"]["samples_per_s"]
        rows.append(row)
        print(f"  done {model}", file=sys.stderr, flush=True)

    hdr = (f"| model | batch | samples | side | s/epoch | samples/s | GFLOP/s | % of peak | % of AVX2 peak | "
           f"test acc | graphrun/PyTorch |")
    print(hdr)
    print("|" + "---|" * 11)
    for r in rows:
        for side in ("torch", "graphrun"):
            v = r[side]
            ratio = f"{r['ratio']:.2f}x" if side == "graphrun" else ""
            print(f"| {r['model']} | {r['batch']} | {v['train_samples']} | {'PyTorch' if side == 'torch' else 'graphrun'} "
                  f"| {v['s_per_epoch']:.2f} | {v['samples_per_s']:,.0f} | {v['gflops']:.1f} | "
                  f"{100 * v['peak_fraction']:.1f} % | {100 * v['avx2_peak_fraction']:.1f} % | "
                  f"{v['test_accuracy']:.4f} | {ratio} |")
    infer = []
    for model in args.infer_model if args.infer_batch else []:
        fps = infer_flops_per_sample(load_model(os.path.join(ROOT, model)))
        row = {"model": os.path.basename(model), "batch": args.infer_batch, "threads": args.threads}
        for side, r in (("torch", run_torch(model, args, 0, args.infer_batch)), ("graphrun", run_graphrun_infer(model, args))):
            s = min(r["seconds"])
            sps = r["samples"] / s
            row[side] = {"s_per_pass": s, "samples_per_s": sps, "gflops": sps * fps * 1e-9,
                         "peak_fraction": sps * fps * 1e-9 / peak, "samples": r["samples"]}
        row["ratio"] = row["graphrun"]["samples_per_s"] / row["torch"]["samples_per_s"]
        infer.append(row)
    if infer:
        print(f"\ninference (logits, loss and predicted class; best of {INFER_PASSES} passes over the training set)\n")
        print("| model | batch | samples | side | s/pass | samples/s | GFLOP/s | % of peak | graphrun/PyTorch |")
        print("|" + "---|" * 9)
    for row in infer:
        for side in ("torch", "graphrun"):
            v = row[side]
            ratio = f"{row['ratio']:.2f}x" if side == "graphrun" else ""
            print(f"| {row['model']} | {row['batch']} | {v['samples']} | {'PyTorch' if side == 'torch' else 'graphrun'} "
                  f"| {v['s_per_pass']:.3f} | {v['samples_per_s']:,.0f} | {v['gflops']:.1f} | "
                  f"{100 * v['peak_fraction']:.1f} % | {ratio} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"peak_gflops": peak, "peak_gflops_by_width": peaks, "rows": rows, "inference": infer}, f, indent=2)


if __name__ == "__main__":
    main()
