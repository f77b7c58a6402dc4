#!/usr/bin/env bash
# Installs what graphrun needs to build, test and train on Debian 12, from Debian's packages.
# Idempotent: safe to run again. Run as root (or with sudo).
#   scripts/setup.sh          build + test dependencies and the Fashion-MNIST data set
#   scripts/setup.sh --bench  also what the PyTorch comparison needs (python3-torch, OpenBLAS)
#   scripts/setup.sh --fuzz   also clang and libFuzzer for the fuzzers (scripts/fuzz.sh)
#   scripts/setup.sh --test   also the peers the tests compare with (python3-torch, python3-sklearn) and clang-format
# Flags combine: scripts/setup.sh --fuzz --bench.
set -euo pipefail

packages=(
  g++ cmake ninja-build pkg-config
  libhwy-dev libdnnl-dev ocl-icd-opencl-dev   # oneDNN's CMake config needs the OpenCL headers
  libbenchmark-dev libgtest-dev libgmock-dev
  libfmt-dev nlohmann-json3-dev libcli11-dev zlib1g-dev
  dataset-fashion-mnist                        # /usr/share/datasets/fashion-mnist
  python3 python3-numpy                        # the numpy interoperability test
  libopenmpi-dev openmpi-bin                   # data-parallel training (GRAPHRUN_WITH_MPI) and its mpirun tests
  libonnx-dev libprotobuf-dev                  # ONNX import and export (GRAPHRUN_WITH_ONNX)
  python3-onnx libonnx-testdata                # the ONNX checker test and the conformance suite
)
for flag in "$@"; do
  case $flag in
    # libopenblas0-openmp: PyTorch's BLAS as a user who cares about speed would have it.
    --bench) packages+=(python3-torch libopenblas0-openmp linux-perf) ;;
    --fuzz) packages+=(clang libclang-rt-14-dev libomp-14-dev) ;;  # libFuzzer, ASan and UBSan runtimes; OpenMP for clang 14
    # The peers the tests compare against: PyTorch (the ONNX round trip) and scikit-learn's
    # data sets (the tabular tests); without them those tests skip.
    --test) packages+=(python3-torch libopenblas0-openmp python3-sklearn clang-format) ;;
    *) echo "setup.sh: unknown flag $flag (expected --bench, --fuzz, --test)" >&2; exit 2 ;;
  esac
done

sudo=""
if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
# apt-get install is itself idempotent: packages already there are left as they are.
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
echo "setup: ${#packages[@]} packages installed"
