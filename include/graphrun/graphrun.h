// graphrun: a static computation graph with reverse-mode autodiff, swappable backends
// (Highway, oneDNN, reference) and activation/optimizer plugins. This header brings in the
// whole public API.
//
// A worked example — a two-layer classifier trained on a dataset:
//
//   #include <graphrun/graphrun.h>
//   using namespace graphrun;
//   io::Dataset data = io::load_idx_dataset("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz");
//   io::apply_scaler(io::fit_scaler(io::Scaling::MinMaxGlobal, data.features), data.features);
//   train::SequentialSpec spec;
//   spec.inputs = 784;
//   spec.layers = {train::dense_layer("hidden", 400, "sigmoid"), train::dense_layer("output", 10, "softmax")};
//   train::Model model = train::build_sequential(spec, PluginRegistry::global());
//   ParameterStore params = ParameterStore::initialize(model.graph, /*seed=*/0);
//   train::Trainer trainer(model, params, train::TrainConfig{}, PluginRegistry::global());
//   train::EpochResult r = trainer.train_epoch(data);
//
// Lower down, build any graph with ops:: (ops/ops.h), differentiate it with ops::gradients
// and run it with Program::compile (core/program.h). See examples/ and docs/design.md.
#pragma once

#include "backends/registry.h"
#include "core/error.h"
#include "core/graph.h"
#include "core/initializer.h"
#include "core/parameters.h"
#include "core/plugin_host.h"
#include "core/program.h"
#include "core/tensor.h"
#include "core/thread_pool.h"
#include "graphrun/version.h"
#include "io/dataset.h"
#include "io/safetensors.h"
#include "io/scaling.h"
#include "ops/autodiff.h"
#include "ops/ops.h"
#include "train/model.h"
#include "train/optimizer.h"
#include "train/trainer.h"
