#!/usr/bin/env bash
# Builds examples/plugins against the installed package, puts it on GRAPHRUN_PLUGIN_PATH, and
# trains a few steps with its activation and optimizer through the installed graphrun tool.
set -euo pipefail
build_dir=$1 source_dir=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build_dir" --prefix "$work/prefix" >/dev/null
cmake -S "$source_dir/examples/plugins" -B "$work/build" -G Ninja -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/build" >/dev/null
mkdir "$work/run"
cp "$source_dir/examples/plugins/model.json" "$work/run/"
# Three separable classes: the label decides the sign pattern of the features.
awk 'BEGIN { srand(3); for (i = 0; i < 240; i++) { c = i % 3; printf "%d,%.3f,%.3f,%.3f,%.3f\n", c, c - 1 + rand() * 0.4, (c == 2) * 2 - 1 + rand() * 0.4, rand(), -c + rand() * 0.4 } }' > "$work/run/train.csv"
export GRAPHRUN_PLUGIN_PATH="$work/build"
"$work/prefix/bin/graphrun" plugins | grep -E "hard_swish|adabelief"
"$work/prefix/bin/graphrun" train "$work/run/model.json" --out "$work/run/out"
