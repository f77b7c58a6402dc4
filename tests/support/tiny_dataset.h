// A small in-memory classification problem for the training tests (n samples, 8 features,
// 3 classes) and the network that learns it.
#pragma once

#include <cstdint>
#include <random>

#include "core/parameters.h"
#include "core/plugin_host.h"
#include "io/dataset.h"
#include "train/model.h"

namespace graphrun::testing {

// Class k has features 2k and 2k+1 high (plus noise).
inline io::Dataset make_tiny_dataset(int64_t n, uint32_t seed) {
  io::Dataset d;
  d.features = Tensor(Shape{n, 8});
  d.num_classes = 3;
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> noise(0.0f, 0.4f);
  for (int64_t i = 0; i < n; ++i) {
    const int k = static_cast<int>(i % 3);
    d.labels.push_back(k);
    for (int j = 0; j < 8; ++j) d.features.data()[i * 8 + j] = noise(rng) + ((j / 2 == k) ? 0.6f : 0.0f);
  }
  return d;
}

struct TinyNet {
  train::Model model;
  ParameterStore params;
};

// 8 -> `hidden_units` relu ("hidden") -> 3 softmax ("out"), parameters initialized from `seed`.
inline TinyNet make_tiny_net(int64_t hidden_units, uint64_t seed, bool freeze_hidden = false) {
  train::SequentialSpec spec;
  spec.inputs = 8;
  train::DenseLayer hidden, out;
  hidden.name = "hidden";
  hidden.units = hidden_units;
  hidden.activation = "relu";
  hidden.trainable = !freeze_hidden;
  out.name = "out";
  out.units = 3;
  out.activation = "softmax";
  spec.layers = {hidden, out};
  TinyNet n;
  n.model = train::build_sequential(spec, PluginRegistry::global());
  n.params = ParameterStore::initialize(n.model.graph, seed);
  return n;
}

}  // namespace graphrun::testing
