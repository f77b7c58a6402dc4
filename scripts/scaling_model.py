#!/usr/bin/env python3
"""Modelled scaling of graphrun's data-parallel training (docs/distributed.md).

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


if __name__ == "__main__":
    main()
