#!/usr/bin/env bash
# Installs what the benchmarks and benchmarks/compare_pytorch.py need on Debian 12, on top of the
# build and test set-up (scripts/setup.sh). Idempotent: safe to run again. Run as root or with sudo.
#   python3-torch python3-numpy  the PyTorch side of the comparison (call /usr/bin/python3)
#   libopenblas0-openmp          PyTorch's BLAS as a user who cares about speed has it: it becomes the
#                                libblas.so.3 alternative (without it Debian's torch uses the reference
#                                BLAS, ~20x slower; the pthread build oversubscribes next to OpenMP)
#   linux-perf                   profiles (perf record / perf stat)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
sudo=""
if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
  python3-torch python3-numpy libopenblas0-openmp linux-perf >/dev/null
"$here/setup.sh"
# The OpenMP build must be the BLAS alternative PyTorch loads.
blas="$(update-alternatives --query libblas.so.3-x86_64-linux-gnu 2>/dev/null | awk '/^Value:/ {print $2}')"
echo "bench_setup: libblas.so.3 -> ${blas:-unknown}"
