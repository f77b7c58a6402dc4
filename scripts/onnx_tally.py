#!/usr/bin/python3
"""Writes the ONNX conformance tally into docs/onnx.md (between its tally markers).

  scripts/onnx_tally.py build/release/tests/onnx/tally-highway.tsv [more tally files...]

Each tally file is written by the onnx_conformance test (ctest -R onnx_conformance), one per
backend: test, ops, result (passed / failed / unsupported), detail. Per ONNX op: the tests of
the suite that use it, those graphrun attempted (imported: every op and form supported) and
those that passed, on every backend given. Also the supported-op list (the importer's table,
read from onnx/import_ops.cc).
"""
import collections
import os
import re
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
DOC = os.path.join(ROOT, "docs", "onnx.md")
BEGIN, END = "<!-- tally: begin (scripts/onnx_tally.py) -->", "<!-- tally: end -->"


def read(path):
    rows = {}
    with open(path) as f:
        next(f)
        for line in f:
            test, ops, result, _ = (line.rstrip("\n").split("\t") + [""])[:4]
            rows[test] = (ops.split(",") if ops and ops != "?" else [], result)
    return rows


def main():
    files = sys.argv[1:]
    if not files:
        sys.exit(__doc__)
    tallies = {os.path.basename(f)[len("tally-"):-len(".tsv")]: read(f) for f in files}
    backends = sorted(tallies)
    first = tallies[backends[0]]
    with open(os.path.join(ROOT, "onnx", "import_ops.cc")) as f:
        table = f.read().split("kOps[] = {", 1)[1].split("};", 1)[0]
        supported = sorted(set(re.findall(r'\{"([A-Za-z]+)", [a-z_]+\}', table)))
    per_op = collections.defaultdict(lambda: [0, 0, collections.Counter()])
    for test, (ops, _) in first.items():
        for op in ops:
            per_op[op][0] += 1
            if first[test][1] != "unsupported":
                per_op[op][1] += 1
            for b in backends:
                per_op[op][2][b] += tallies[b].get(test, ([], ""))[1] == "passed"
    suites = sorted({t.split("/")[0] for t in first})
    totals = collections.Counter(r for _, r in first.values())
    lines = [BEGIN, "",
             "Suites: %s (%d tests; ONNX 1.12's data, Debian's libonnx-testdata). Tolerances rtol 1e-3, atol 1e-7."
             % (", ".join(suites), len(first)), "",
             "All tests: %d attempted, %s passed (%s), %d refused with the one-line \"unsupported\" error, %d failed."
             % (len(first) - totals["unsupported"],
                " / ".join(str(sum(r == "passed" for _, r in tallies[b].values())) for b in backends),
                " / ".join(backends), totals["unsupported"], totals["failed"]), "",
             "Supported ops (%d): %s." % (len(supported), ", ".join("`%s`" % s for s in supported)), "",
             "| op | in the suite | attempted | passed (%s) |" % " / ".join(backends), "|---|---|---|---|"]
    for op in supported:
        n, attempted, passed = per_op[op]
        lines.append("| %s | %d | %d | %s |" % (op, n, attempted, " / ".join(str(passed[b]) for b in backends)))
    unsupported = sorted(op for op in per_op if op not in supported and per_op[op][1] == 0)
    lines += ["", "Ops of the suite graphrun refuses (%d): %s." % (len(unsupported), ", ".join(unsupported)), "", END]
    with open(DOC) as f:
        doc = f.read()
    start, stop = doc.index(BEGIN), doc.index(END) + len(END)
    with open(DOC, "w") as f:
        f.write(doc[:start] + "\n".join(lines) + doc[stop:])
    print("onnx_tally: %d tests, %d ops in docs/onnx.md" % (len(first), len(per_op)))


if __name__ == "__main__":
    main()
