#!/usr/bin/python3
"""graphrun against scikit-learn's MLP, side by side, on scikit-learn's own tabular data sets.

For each data set (Debian's python3-sklearn copies: boston, diabetes, breast_cancer, iris,
wine, digits) and each of --seeds seeds, the script draws one seeded 80/20 train/test split,
standardizes the features with the training part's mean and standard deviation, writes both
parts as CSV, and trains the same network on them:

- graphrun: a model file written here (`graphrun train MODEL --metrics-out`): dense relu hidden
  layers, Glorot-uniform weights, Adam with the learning rate, batch size and epochs below, and
  an `l2` penalty on every dense layer equal to scikit-learn's `alpha` (see below); mse for
  regression, a sigmoid output with binary_cross_entropy for the binary set, softmax
  cross-entropy for the multi-class ones.
- scikit-learn: MLPRegressor / MLPClassifier(hidden_layer_sizes, activation="relu",
  solver="adam", alpha, batch_size, learning_rate_init, max_iter=epochs, shuffle=True,
  random_state=seed, tol=0, n_iter_no_change=epochs + 1): exactly `epochs` passes, no early stop.
- baselines: LinearRegression (regression) or LogisticRegression(max_iter=5000).

scikit-learn's penalty per batch of B samples is alpha / (2 B) * sum W^2 on top of the mean
loss (half the squared error for regression, the log loss for classification). The same
gradients up to Adam's scale invariance come from graphrun's `l2` = alpha / B for mse (whose
data term is twice scikit-learn's) and alpha / (2 B) for the cross-entropies.

Metric: R² on the test part for regression, accuracy for classification; mean ± standard
deviation (ddof 1) over the seeds. Time: training only, summed over the seeds -- graphrun's
metrics.json "seconds" (the epochs, not loading or compiling) and the wall time of
scikit-learn's fit(); the graphrun process's whole wall time is shown as well.

  /usr/bin/python3 benchmarks/compare_sklearn.py --graphrun build/release/tools/graphrun/graphrun
"""
import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np

DATA = "/usr/lib/python3/dist-packages/sklearn/datasets/data"

# The network and schedule of each data set (the models/*.json settings, one hidden width).
SETS = {
    "boston": dict(task="regression", hidden=[64, 64], lr=0.003, batch=32, epochs=200, alpha=1e-4),
    "diabetes": dict(task="regression", hidden=[64], lr=0.003, batch=32, epochs=100, alpha=1e-4),
    "breast_cancer": dict(task="binary", hidden=[32], lr=0.001, batch=32, epochs=100, alpha=1e-4),
    "iris": dict(task="multiclass", hidden=[16], lr=0.01, batch=16, epochs=100, alpha=1e-4),
    "wine": dict(task="multiclass", hidden=[32], lr=0.01, batch=16, epochs=100, alpha=1e-4),
    "digits": dict(task="multiclass", hidden=[128], lr=0.003, batch=32, epochs=50, alpha=1e-4),
}


def load(name):
    """Features and target of a data set, read from scikit-learn's files as they ship."""
    if name == "boston":
        t = np.loadtxt(f"{DATA}/boston_house_prices.csv", delimiter=",", skiprows=2)
        return t[:, :13], t[:, 13]
    if name == "diabetes":
        with gzip.open(f"{DATA}/diabetes_data_raw.csv.gz") as f:
            x = np.loadtxt(f)
        with gzip.open(f"{DATA}/diabetes_target.csv.gz") as f:
            y = np.loadtxt(f)
        return x, y
    if name == "digits":
        with gzip.open(f"{DATA}/digits.csv.gz") as f:
            t = np.loadtxt(f, delimiter=",")
        return t[:, :64], t[:, 64].astype(int)
    files = {"breast_cancer": ("breast_cancer.csv", 30), "iris": ("iris.csv", 4), "wine": ("wine_data.csv", 13)}
    path, d = files[name]
    t = np.loadtxt(f"{DATA}/{path}", delimiter=",", skiprows=1)
    return t[:, :d], t[:, d].astype(int)


def split(x, y, seed):
    """A seeded 80/20 split, features standardized with the training part's statistics."""
    order = np.random.default_rng(seed).permutation(len(x))
    n_test = round(len(x) * 0.2)
    test, train = order[:n_test], order[n_test:]
    mean, std = x[train].mean(axis=0), x[train].std(axis=0)
    std[std == 0] = 1.0
    scale = lambda a: (a - mean) / std
    return scale(x[train]), y[train], scale(x[test]), y[test]


def write_csv(path, x, y):
    np.savetxt(path, np.column_stack([x, y]), delimiter=",", fmt="%.9g")


def model_file(cfg, inputs, outputs, train_csv, test_csv, seed):
    task = cfg["task"]
    l2 = cfg["alpha"] / cfg["batch"] * (1.0 if task == "regression" else 0.5)
    layers = [{"name": f"hidden{i}", "units": u, "activation": "relu", "l2": l2} for i, u in enumerate(cfg["hidden"])]
    out_activation = {"regression": "linear", "binary": "sigmoid", "multiclass": "softmax"}[task]
    layers.append({"name": "output", "units": outputs, "activation": out_activation, "l2": l2})
    d = inputs
    data = {"format": "csv", "train": train_csv, "test": test_csv, "scaling": "none"}
    if task == "multiclass":
        data["label_column"] = d
    else:
        data["target_columns"] = [d]
    return {
        "inputs": inputs,
        "layers": layers,
        "loss": {"regression": "mse", "binary": "binary_cross_entropy", "multiclass": "cross_entropy"}[task],
        "optimizer": {"name": "adam", "learning_rate": cfg["lr"]},
        "data": data,
        "training": {"epochs": cfg["epochs"], "batch_size": cfg["batch"], "shuffle": True, "seed": seed},
    }


def run_graphrun(args, cfg, xtr, ytr, xte, yte, seed, work):
    train_csv, test_csv = os.path.join(work, "train.csv"), os.path.join(work, "test.csv")
    write_csv(train_csv, xtr, ytr)
    write_csv(test_csv, xte, yte)
    outputs = 1 if cfg["task"] != "multiclass" else int(max(ytr.max(), yte.max())) + 1
    model = os.path.join(work, "model.json")
    with open(model, "w") as f:
        json.dump(model_file(cfg, xtr.shape[1], outputs, train_csv, test_csv, seed), f)
    metrics = os.path.join(work, "metrics.json")
    cmd = [args.graphrun, "train", model, "--metrics-out", metrics, "--threads", str(args.threads)]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    with open(metrics) as f:
        m = json.load(f)
    score = m["test_r2"] if cfg["task"] == "regression" else m["test_accuracy"]
    return score, m["seconds"], wall


def run_sklearn(cfg, xtr, ytr, xte, yte, seed):
    from sklearn.linear_model import LinearRegression, LogisticRegression
    from sklearn.metrics import accuracy_score, r2_score
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    regression = cfg["task"] == "regression"
    mlp = (MLPRegressor if regression else MLPClassifier)(
        hidden_layer_sizes=tuple(cfg["hidden"]), activation="relu", solver="adam", alpha=cfg["alpha"],
        batch_size=cfg["batch"], learning_rate_init=cfg["lr"], max_iter=cfg["epochs"], shuffle=True,
        random_state=seed, tol=0.0, n_iter_no_change=cfg["epochs"] + 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning: max_iter reached, as asked
        t0 = time.perf_counter()
        mlp.fit(xtr, ytr)
        seconds = time.perf_counter() - t0
    linear = LinearRegression() if regression else LogisticRegression(max_iter=5000)
    linear.fit(xtr, ytr)
    metric = r2_score if regression else accuracy_score
    return metric(yte, mlp.predict(xte)), seconds, metric(yte, linear.predict(xte))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--graphrun", default="build/release/tools/graphrun/graphrun")
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--threads", type=int, default=1, help="graphrun's --threads (scikit-learn's MLP runs on one core)")
    p.add_argument("--sets", default=",".join(SETS), help="comma-separated data sets")
    args = p.parse_args()
    if not os.path.isdir(DATA):
        sys.exit(f"no scikit-learn data in {DATA}: apt-get install python3-sklearn")
    rows = []
    for name in args.sets.split(","):
        cfg = SETS[name]
        x, y = load(name)
        g, s, lin, g_sec, g_wall, s_sec = [], [], [], 0.0, 0.0, 0.0
        for seed in range(args.seeds):
            xtr, ytr, xte, yte = split(x, y, seed)
            with tempfile.TemporaryDirectory() as work:
                score, sec, wall = run_graphrun(args, cfg, xtr, ytr, xte, yte, seed, work)
            g.append(score)
            g_sec += sec
            g_wall += wall
            score, sec, base = run_sklearn(cfg, xtr, ytr, xte, yte, seed)
            s.append(score)
            s_sec += sec
            lin.append(base)
        rows.append((name, cfg, np.array(g), np.array(s), np.array(lin), g_sec, g_wall, s_sec))
        print(f"{name}: done", file=sys.stderr)

    ms = lambda a: f"{a.mean():.4f} ± {a.std(ddof=1) if len(a) > 1 else 0:.4f}"
    print(f"{args.seeds} seeds, 80/20 split per seed, graphrun --threads {args.threads}\n")
    print("| data set | network | metric | graphrun | sklearn MLP | linear baseline | within 1 std | "
          "graphrun s | sklearn s | speed-up | graphrun wall s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for name, cfg, g, s, lin, g_sec, g_wall, s_sec in rows:
        metric = "R²" if cfg["task"] == "regression" else "accuracy"
        tol = max(g.std(ddof=1), s.std(ddof=1)) if len(g) > 1 else 0.0
        ok = "yes" if g.mean() >= s.mean() - tol else "no"
        net = "-".join(str(u) for u in cfg["hidden"]) + f", {cfg['epochs']} ep, batch {cfg['batch']}, lr {cfg['lr']}"
        print(f"| {name} | {net} | {metric} | {ms(g)} | {ms(s)} | {ms(lin)} | {ok} | {g_sec:.3f} | {s_sec:.2f} | "
              f"{s_sec / g_sec:.1f}x | {g_wall:.2f} |")


if __name__ == "__main__":
    main()
