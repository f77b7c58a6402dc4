#!/usr/bin/env bash
# Installs the built tree into a temporary prefix, builds examples/train_seed against the
# installed package the way an application would (find_package(graphrun)), and runs it
# with zero epochs (load data, build the model, evaluate) using the installed plugins.
set -euo pipefail
build_dir=$1 source_dir=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build_dir" --prefix "$work/prefix" >/dev/null
cmake -S "$source_dir/examples/train_seed" -B "$work/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/build" >/dev/null
# No GRAPHRUN_PLUGIN_PATH: the installed library must find its installed plugins by itself.
env -u GRAPHRUN_PLUGIN_PATH "$work/build/train_seed" /usr/share/datasets/fashion-mnist 0
