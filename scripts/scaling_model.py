#!/usr/bin/env python3
"""Modelled scaling of graphrun's training: across ranks (data-parallel, docs/distributed.md) and,
with `threads`, across the cores of one machine (docs/performance.md, "Scaling model").

    python3 scripts/scaling_model.py threads            # samples/s at 1-64 cores, the issue-20 networks
    python3 scripts/scaling_model.py threads --detail   # and each kernel's FLOPs, bytes, tasks, joins

Data-parallel:

One synchronous step on N ranks, each with a per-rank batch of b samples:

    t_step(N) = b * c  +  2 (N - 1) / N * bytes / bandwidth  +  latency * log2(N)

where c is the compute time per sample (forward + backward + optimizer share, measured on one
core), bytes the gradient size (4 bytes per parameter) and the last two terms a ring allreduce
(bandwidth term) with a tree-like latency term. For a fixed global batch G, b = G / N and the
first term is the issue's compute / N. Efficiency = b * c / t_step (no overlap of communication
with the backward pass is assumed: a lower bound). b50 is the per-rank batch below which the
efficiency drops under 50 % (communication time = compute time).

    python3 scripts/scaling_model.py                    # the tables in docs/distributed.md
    python3 scripts/scaling_model.py --sample-us 10.2 --latency-us 5
"""
import argparse
import math

MODELS = [  # name, parameters (= gradient floats)
    ("784-400-10", 318_010),
    ("784-500-300-100-10", 575_050),
    ("10x deep (5.75M)", 5_750_500),
]
RANKS = [2, 4, 8, 16, 32, 64]
LINKS_GBIT = [10, 25, 100]


def comm_seconds(n, bytes_, gbit, latency_s):
    return 2 * (n - 1) / n * bytes_ / (gbit * 1e9 / 8) + latency_s * math.log2(n)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sample-us", type=float, default=10.2,
                    help="compute per sample of 784-400-10 on one core, microseconds (measured: epoch seconds / 60000)")
    ap.add_argument("--latency-us", type=float, default=10.0, help="per-message latency, microseconds")
    ap.add_argument("--batch", type=int, default=32, help="per-rank batch of the efficiency table")
    a = ap.parse_args()
    latency = a.latency_us * 1e-6
    base_params = MODELS[0][1]
    print(f"compute {a.sample_us} us/sample for 784-400-10, scaled by parameter count; latency {a.latency_us} us; "
          f"no overlap assumed")

    def table(title, ranks, cell):
        """One markdown table: a row per model and link, cell(c, n, comm) per rank count n."""
        print()
        print(title)
        print()
        print("| model | link | " + " | ".join(f"N={n}" for n in ranks) + " |")
        print("|---|---|" + "---|" * len(ranks))
        for name, params in MODELS:
            c = a.sample_us * 1e-6 * params / base_params
            for gbit in LINKS_GBIT:
                cells = [cell(c, n, comm_seconds(n, 4 * params, gbit, latency)) for n in ranks]
                print(f"| {name} | {gbit} Gb/s | " + " | ".join(cells) + " |")

    def efficiency(compute, comm):
        return f"{compute / (compute + comm):.0%}"

    table(f"Efficiency at a per-rank batch of {a.batch} (global batch {a.batch} x N):", RANKS,
          lambda c, n, comm: efficiency(a.batch * c, comm))
    table("b50, the per-rank batch below which efficiency < 50 % (communication = compute):", RANKS,
          lambda c, n, comm: f"{math.ceil(comm / c)}")
    table("The seed's global batch 32 split over N ranks (b = 32 / N; compute / N):", [n for n in RANKS if n <= 32],
          lambda c, n, comm: efficiency(32 * c / n, comm))


# ---- threads: one step on one machine, kernel by kernel ----
#
# Each kernel of a step has FLOPs and bytes moved (operands read once, results written once).
# It runs as n tasks, n chosen as core/partition.h's tasks_for does (same join constants), and
# takes  t(n) = max(flops / (n * gemm rate), bytes / bandwidth(n)) + join(n)  (join 0 for n = 1).
# The GEMM rate per core is the FMA peak times the efficiency the Highway GEMM measured at that
# batch size on one core (docs/performance.md); bandwidth(n) is n cores' L2 rate when each
# core's share of the operands fits its L2, else n cores' L3 rate capped by the socket's.
# A step: per dense layer the forward GEMM (bias and activation fused), dX (not for the first
# layer), the weight gradient fused with the SGD update up to batch 64 (one kernel; above 64,
# the gradient GEMM and an update that reads W and dW and writes W), the bias gradient; then
# the softmax, the loss and its gradient on one task each.

JOIN_NS, JOIN_PER_THREAD_NS = 500.0, 100.0  # core/partition.h
PARTITION_FLOPS_PER_NS, PARTITION_BYTES_PER_NS = 100.0, 50.0


def tasks_for(flops, bytes_, cores):
    """core/partition.h's tasks_for: the n minimising t1 / n + join(n)."""
    t1 = flops / PARTITION_FLOPS_PER_NS + bytes_ / PARTITION_BYTES_PER_NS
    best, best_ns = 1, t1
    for n in range(2, cores + 1):
        ns = t1 / n + JOIN_NS + JOIN_PER_THREAD_NS * (n - 2)
        if ns >= best_ns:
            break
        best, best_ns = n, ns
    return best


def join_ns(n):
    return 0.0 if n <= 1 else JOIN_NS + JOIN_PER_THREAD_NS * (n - 2)


NETWORKS = [  # name, layer widths, batch
    ("784-400σ-10, batch 1", [784, 400, 10], 1),
    ("784-400σ-10, batch 32", [784, 400, 10], 32),
    ("784-500-300-100-10 relu, batch 32", [784, 500, 300, 100, 10], 32),
    ("784-4096-4096-10 relu, batch 256", [784, 4096, 4096, 10], 256),
]
CORES = [1, 2, 4, 8, 16, 32, 64]
ISSUE_16_CORES = {  # issue 20's table, graphrun and PyTorch (samples/s; GFLOP/s for the wide one)
    "784-400σ-10, batch 1": (8_523, 851),
    "784-400σ-10, batch 32": (97_153, 52_510),
    "784-500-300-100-10 relu, batch 32": (49_959, 26_206),
    "784-4096-4096-10 relu, batch 256": (514, 729),
}


def ceil_div(a, b):
    return -(-a // b)


def step_kernels(widths, b):
    """[(name, flops, bytes moved, weight bytes, most tasks)] of one training step with SGD.

    The most tasks is the split's structure (backends/highway/gemm.cc, core/partition.h): up to
    batch 64 the forward GEMM splits K into depth blocks of 256 (the GEMV at batch 1 into row
    blocks of 128), the weight-gradient-and-update pass splits W's rows into blocks of 128, and
    dX and narrow layers split N into 32-column panels; batches of 65-256 split rows by 8.
    """
    k = []
    layers = list(zip(widths[:-1], widths[1:]))
    for fi, fo in layers:
        if b == 1:
            cap = ceil_div(fi, 128)
        elif b <= 64:
            cap = ceil_div(fi, 256) if fi > 256 else ceil_div(fo, 32)
        else:
            cap = ceil_div(b, 8)
        k.append((f"fwd {fi}x{fo}", 2 * b * fi * fo, 4 * (b * fi + fi * fo + b * fo), 4 * fi * fo, cap))
    k.append(("softmax, loss, its gradient", 10 * b * widths[-1], 12 * b * widths[-1], 0, 1))
    for i, (fi, fo) in reversed(list(enumerate(layers))):
        if i > 0:
            cap = ceil_div(fi, 32) if b <= 64 else max(ceil_div(fi, 32), ceil_div(b, 8))
            k.append((f"dX {fo}->{fi}", 2 * b * fi * fo, 4 * (b * fo + fi * fo + b * fi), 4 * fi * fo, cap))
        k.append((f"bias grad {fo}", b * fo, 4 * (b * fo + fo), 0, max(1, ceil_div(fo, 64))))
        if b <= 64:  # the weight gradient made block by block inside the update: W read and written once
            k.append((f"dW+update {fi}x{fo}", 2 * b * fi * fo + 2 * fi * fo, 4 * (b * fi + b * fo + 2 * fi * fo),
                      4 * fi * fo, ceil_div(fi, 128)))
        else:
            k.append((f"dW {fi}x{fo}", 2 * b * fi * fo, 4 * (b * fi + b * fo + fi * fo), 4 * fi * fo,
                      max(ceil_div(fo, 32), ceil_div(fi, 8))))
            k.append((f"update {fi}x{fo}", 2 * fi * fo, 12 * fi * fo, 4 * fi * fo, ceil_div(fi, 128)))
    return k


def kernel_ns(flops, bytes_, weights, n, a):
    eff = a.eff_batch1 if a.batch_now == 1 else a.eff_batch32 if a.batch_now <= 64 else a.eff_batch256
    compute = flops / (n * a.peak_gflops * eff)
    fits_l2 = weights / n <= a.l2_mib * 2**20 * 0.75  # each core's share of W stays in its L2
    bw = n * a.l2_gbs if fits_l2 else min(n * a.l3_gbs, a.socket_gbs)
    return max(compute, bytes_ / bw) + join_ns(n)


def tasks_of(flops, bytes_, cap, cores):
    return min(cap, tasks_for(flops, bytes_, cores))


def threads_main(argv):
    ap = argparse.ArgumentParser(prog="scaling_model.py threads",
                                 description="Samples/s of one machine's training step at 1-64 cores.")
    ap.add_argument("--peak-gflops", type=float, default=154.0, help="FMA-loop peak of one core (issue 20's Xeon: 154)")
    ap.add_argument("--eff-batch1", type=float, default=0.5, help="GEMV efficiency (bounded by bytes anyway)")
    ap.add_argument("--eff-batch32", type=float, default=0.75, help="GEMM efficiency at M = 32 on one core (measured 0.75-0.86)")
    ap.add_argument("--eff-batch256", type=float, default=0.85, help="GEMM efficiency at M = 256 on one core (measured 0.85-0.9)")
    ap.add_argument("--l2-mib", type=float, default=2.0, help="L2 per core (Intel server: 2 MiB)")
    ap.add_argument("--l2-gbs", type=float, default=150.0, help="one core's L2 read+write rate, GB/s")
    ap.add_argument("--l3-gbs", type=float, default=25.0, help="one core's rate from L3 / memory, GB/s")
    ap.add_argument("--socket-gbs", type=float, default=250.0, help="the socket's L3 / memory rate, GB/s")
    ap.add_argument("--detail", action="store_true", help="each kernel's FLOPs, bytes, tasks at 16 cores")
    a = ap.parse_args(argv)
    print(f"peak {a.peak_gflops} GFLOP/s per core; GEMM efficiency {a.eff_batch32} (M 32), {a.eff_batch256} (M 256); "
          f"L2 {a.l2_mib} MiB at {a.l2_gbs} GB/s, L3 {a.l3_gbs} GB/s per core, {a.socket_gbs} per socket; "
          f"join {JOIN_NS:.0f} + {JOIN_PER_THREAD_NS:.0f} (n - 2) ns")
    print()
    print("| network | " + " | ".join(f"{c} cores" for c in CORES) + " | joins/step at 16 | issue, 16 cores: graphrun / PyTorch |")
    print("|---|" + "---|" * (len(CORES) + 2))
    for name, widths, b in NETWORKS:
        a.batch_now = b
        kernels = step_kernels(widths, b)
        step_flops = sum(k[1] for k in kernels)
        cells, joins16 = [], 0
        for cores in CORES:
            ns = 0.0
            for _, f, by, w, cap in kernels:
                n = tasks_of(f, by, cap, cores)
                ns += kernel_ns(f, by, w, n, a)
                if cores == 16 and n > 1:
                    joins16 += 1
            sps = b / (ns * 1e-9)
            wide = b >= 256
            cells.append(f"{step_flops / ns:.0f} GFLOP/s" if wide else f"{sps:,.0f}")
        ours, torch = ISSUE_16_CORES[name]
        unit = " GFLOP/s" if b >= 256 else ""
        print(f"| {name} | " + " | ".join(cells) + f" | {joins16} | {ours:,}{unit} / {torch:,}{unit} |")
        if a.detail:
            for kname, f, by, w, cap in kernels:
                n = tasks_of(f, by, cap, 16)
                print(f"|   {kname} | {f / 1e6:.2f} MFLOP | {by / 1e3:.0f} kB | {n} tasks (split allows {cap}) | "
                      f"{kernel_ns(f, by, w, n, a) / 1e3:.2f} us at 16 cores |" + " |" * (len(CORES) - 2))


if __name__ == "__main__":
    import sys
    if len(sys.argv) > 1 and sys.argv[1] == "threads":
        threads_main(sys.argv[2:])
    else:
        main()
