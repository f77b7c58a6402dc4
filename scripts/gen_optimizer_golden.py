#!/usr/bin/python3
"""Writes tests/plugins/golden/optimizers.json: 20-step trajectories of PyTorch's own optimizers
on a fixed quadratic, the reference the built-in optimizer plugins are tested against.

    loss(x) = 0.5 * sum(a_i * (x_i - b_i)^2),   grad = a * (x - b)   (float32)

Each case runs torch.optim.<Optimizer>(foreach=False) in float32 (the for-loop implementation,
whose rules the plugins follow) for STEPS steps from X0 and records x after every step.
PyTorch 1.13 has no Lion: its case is computed here in numpy float32 from the published rule
(Chen et al. 2023, Algorithm 2). Dev machine only (Debian: python3-torch python3-numpy);
the tests read the JSON and need no Python.

Usage: /usr/bin/python3 scripts/gen_optimizer_golden.py [output.json]
"""
import json
import os
import sys

import numpy as np
import torch

STEPS = 20
A = [1.0, 0.5, 2.0, 4.0, 0.25, 1.5]
B = [1.5, -2.0, 0.5, 3.0, -0.75, 0.25]
X0 = [0.3, 1.2, -1.0, 2.2, 0.9, -0.4]

# (graphrun optimizer name, lr, graphrun hyperparameters); unlisted ones take graphrun's defaults,
# which equal PyTorch's (except lr, always given here).
CASES = [
    ("sgd", 0.1, {}),
    ("sgd", 0.1, {"momentum": 0.9}),
    ("sgd", 0.05, {"momentum": 0.9, "nesterov": 1}),
    ("sgd", 0.1, {"momentum": 0.5, "dampening": 0.3, "weight_decay": 0.1}),
    ("adam", 0.1, {}),
    ("adam", 0.05, {"amsgrad": 1}),
    ("adam", 0.1, {"beta1": 0.8, "beta2": 0.99, "weight_decay": 0.1, "eps": 1e-6}),
    ("adamw", 0.1, {}),
    ("adamw", 0.1, {"weight_decay": 0.1, "amsgrad": 1}),
    ("rmsprop", 0.01, {}),
    ("rmsprop", 0.01, {"centered": 1}),
    ("rmsprop", 0.01, {"momentum": 0.9, "centered": 1, "weight_decay": 0.1}),
    ("rmsprop", 0.01, {"momentum": 0.5, "alpha": 0.9}),
    ("adagrad", 0.1, {}),
    ("adagrad", 0.1, {"lr_decay": 0.01, "weight_decay": 0.1, "initial_accumulator_value": 0.5}),
    ("lion", 0.01, {}),
    ("lion", 0.01, {"beta1": 0.95, "beta2": 0.98, "weight_decay": 0.5}),
]


def torch_optimizer(name, params, lr, h):
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=h.get("momentum", 0.0), dampening=h.get("dampening", 0.0),
                               nesterov=bool(h.get("nesterov", 0)), weight_decay=h.get("weight_decay", 0.0),
                               foreach=False)
    if name in ("adam", "adamw"):
        cls = torch.optim.Adam if name == "adam" else torch.optim.AdamW
        return cls(params, lr=lr, betas=(h.get("beta1", 0.9), h.get("beta2", 0.999)), eps=h.get("eps", 1e-8),
                   weight_decay=h.get("weight_decay", 0.0 if name == "adam" else 0.01),
                   amsgrad=bool(h.get("amsgrad", 0)), foreach=False)
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, alpha=h.get("alpha", 0.99), eps=h.get("eps", 1e-8),
                                   weight_decay=h.get("weight_decay", 0.0), momentum=h.get("momentum", 0.0),
                                   centered=bool(h.get("centered", 0)), foreach=False)
    if name == "adagrad":
        return torch.optim.Adagrad(params, lr=lr, lr_decay=h.get("lr_decay", 0.0),
                                   weight_decay=h.get("weight_decay", 0.0),
                                   initial_accumulator_value=h.get("initial_accumulator_value", 0.0),
                                   eps=h.get("eps", 1e-10), foreach=False)
    raise ValueError(name)


def run_torch(name, lr, h):
    a = torch.tensor(A, dtype=torch.float32)
    b = torch.tensor(B, dtype=torch.float32)
    x = torch.tensor(X0, dtype=torch.float32, requires_grad=True)
    opt = torch_optimizer(name, [x], lr, h)
    out = []
    for _ in range(STEPS):
        with torch.no_grad():
            x.grad = a * (x.detach() - b)
        opt.step()
        out.append([float(v) for v in x.detach().numpy()])
    return out


def run_lion(lr, h):
    f = np.float32
    a, b, x = (np.array(v, dtype=f) for v in (A, B, X0))
    m = np.zeros_like(x)
    beta1, beta2, wd = h.get("beta1", 0.9), h.get("beta2", 0.99), h.get("weight_decay", 0.0)
    out = []
    for _ in range(STEPS):
        g = a * (x - b)
        c = m * f(beta1) + f(1.0 - beta1) * g
        x = x * f(1.0 - lr * wd) + f(-lr) * np.sign(c).astype(f)
        m = m * f(beta2) + f(1.0 - beta2) * g
        out.append([float(v) for v in x])
    return out


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "tests", "plugins", "golden",
                                                              "optimizers.json")
    torch.set_num_threads(1)
    cases = []
    for name, lr, h in CASES:
        traj = run_lion(lr, h) if name == "lion" else run_torch(name, lr, h)
        cases.append({"optimizer": name, "lr": lr, "hyper": h, "trajectory": traj})
    doc = {
        "generator": "scripts/gen_optimizer_golden.py",
        "reference": "torch %s (foreach=False, float32); lion: numpy %s float32 from Chen et al. 2023"
                     % (torch.__version__, np.__version__),
        "loss": "0.5 * sum(a * (x - b)^2), grad = a * (x - b) in float32",
        "a": A, "b": B, "x0": X0, "steps": STEPS, "cases": cases,
    }
    # One line per trajectory step: small, diff-friendly.
    lines = ["{"]
    for key in ("generator", "reference", "loss", "a", "b", "x0", "steps"):
        lines.append(" %s: %s," % (json.dumps(key), json.dumps(doc[key])))
    lines.append(' "cases": [')
    for i, c in enumerate(cases):
        lines.append("  {\"optimizer\": %s, \"lr\": %s, \"hyper\": %s, \"trajectory\": [" %
                     (json.dumps(c["optimizer"]), json.dumps(c["lr"]), json.dumps(c["hyper"])))
        rows = ["   " + json.dumps(r) for r in c["trajectory"]]
        lines.append(",\n".join(rows))
        lines.append("  ]}" + ("," if i + 1 < len(cases) else ""))
    lines.append(" ]")
    lines.append("}")
    with open(path, "w") as fh:
        fh.write("\n".join(lines) + "\n")
    json.load(open(path))  # well-formed
    print("wrote %s (%d cases)" % (path, len(cases)))


if __name__ == "__main__":
    main()
