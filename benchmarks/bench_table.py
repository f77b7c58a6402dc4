#!/usr/bin/python3
"""Turns a Google Benchmark JSON report (--benchmark_format=json --benchmark_repetitions=N
--benchmark_report_aggregates_only=true, with the "min" statistic the graphrun benchmarks add)
into a Markdown table: fastest and median wall time, and the rates derived from them.

  build/perf/benchmarks/train_step_bench --benchmark_repetitions=5 --benchmark_min_time=0.1 \
      --benchmark_report_aggregates_only=true --benchmark_format=json > ts.json
  /usr/bin/python3 benchmarks/bench_table.py ts.json
"""
import json
import sys

SCALE = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}


def main(path):
    rows = {}
    for b in json.load(open(path))["benchmarks"]:
        if b.get("error_occurred"):
            print(f"| {b['name']} | error: {b.get('error_message')} |")
            continue
        rows.setdefault(b["run_name"], {})[b.get("aggregate_name", "")] = b
    print("| benchmark | min µs | median µs | samples/s (min / median) | GFLOP/s (min / median) |")
    print("|---|---|---|---|---|")
    for name, r in rows.items():
        if "min" not in r or "median" not in r:
            continue
        s = SCALE[r["min"]["time_unit"]]
        tmin, tmed = r["min"]["real_time"] * s, r["median"]["real_time"] * s
        batch = int(name.split("batch:")[1].split("/")[0]) if "batch:" in name else 1
        gflop = r["median"].get("GFLOP/s", 0.0) * tmed  # GFLOP per iteration
        print(f"| {name.replace('/real_time', '')} | {tmin * 1e6:.1f} | {tmed * 1e6:.1f} | "
              f"{batch / tmin:,.0f} / {batch / tmed:,.0f} | {gflop / tmin:.1f} / {gflop / tmed:.1f} |")


if __name__ == "__main__":
    main(sys.argv[1])
