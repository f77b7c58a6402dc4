#!/usr/bin/env bash
# Runs one libFuzzer target for a while, seeded with the corpus files of its format.
#   scripts/fuzz.sh TARGET SECONDS [extra libFuzzer flags...]
#   TARGET: fuzz_safetensors fuzz_safetensors_roundtrip fuzz_idx fuzz_csv fuzz_model_file fuzz_checkpoint
#           fuzz_onnx_import (with ONNX)
# Configures build/fuzz with the asan preset (clang, ASan + UBSan + libFuzzer coverage) on first
# use and builds only the target. New inputs go to build/fuzz/corpus/TARGET; a crash is written
# to build/fuzz/findings/ (add it to scripts/make_corpus.py as a corpus case once fixed).
# Every target for a fixed time, as ctest tests: ctest --preset asan -L fuzz (after cmake --workflow --preset asan).
# Needs clang and libclang-rt-14-dev: scripts/setup.sh --fuzz.
set -euo pipefail
target=${1:?usage: scripts/fuzz.sh TARGET SECONDS}
seconds=${2:?usage: scripts/fuzz.sh TARGET SECONDS}
shift 2
root=$(cd "$(dirname "$0")/.." && pwd)
build=$root/build/fuzz
if [[ ! -f $build/build.ninja ]]; then
  # The asan preset's compilers and flags, in this script's own build dir (its corpus lives there).
  (cd "$root" && cmake --preset asan -B "$build" >/dev/null)
fi
cmake --build "$build" --target "$target"

corpus=$root/tests/corpus
# The same seeds as the fuzz_smoke tests in fuzz/CMakeLists.txt.
case $target in
  fuzz_safetensors|fuzz_safetensors_roundtrip|fuzz_checkpoint) seeds=("$corpus/safetensors" "$corpus/checkpoint" "$corpus/load" "$corpus/ok") ;;
  fuzz_idx) seeds=("$corpus/idx" "$corpus/load" "$corpus/ok") ;;
  fuzz_csv) seeds=("$corpus/csv" "$corpus/load" "$corpus/ok") ;;
  fuzz_model_file) seeds=("$corpus/model" "$corpus/ok" "$root/models") ;;
  fuzz_onnx_import) seeds=("$corpus/onnx") ;;
  *) echo "fuzz.sh: unknown target $target" >&2; exit 2 ;;
esac
work=$build/corpus/$target
mkdir -p "$work" "$build/findings"
# -rss_limit_mb: a parser that allocates by a size read from the file shows up as a finding.
# -timeout: a parser that loops on some input shows up as a finding.
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1} \
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
"$build/fuzz/$target" -max_total_time="$seconds" -rss_limit_mb=1024 -timeout=10 -max_len=65536 \
  -artifact_prefix="$build/findings/$target-" -print_final_stats=1 "$@" "$work" "${seeds[@]}"
