// The seed models the step benchmarks time, as train::SequentialSpec, and the seeded batch they
// feed them (features uniform in [0, 1), labels uniform over the 10 classes).
//
//   sigmoid: 784 -> 400 sigmoid -> 10 softmax, with biases (seed models 1 and 2)
//   relu:    784 -> 500 -> 300 -> 100 relu -> 10 softmax (seed model 3)
//   wide:    784 -> 4096 -> 4096 relu -> 10 softmax (models/fashion_wide.json, compute-bound)
#pragma once

#include <cstdint>
#include <random>

#include "core/program.h"
#include "train/model.h"

namespace graphrun::bench {

enum class Net { Sigmoid, Relu, Wide };

inline const char* net_name(Net net) {
  switch (net) {
    case Net::Sigmoid:
      return "sigmoid_784_400_10";
    case Net::Relu:
      return "relu_784_500_300_100_10";
    case Net::Wide:
      return "wide_784_4096_4096_10";
  }
  return "";
}

inline train::SequentialSpec spec_of(Net net) {
  train::SequentialSpec s;
  s.inputs = 784;
  s.context = net_name(net);
  auto dense = [](const char* name, int64_t units, const char* activation) {
    train::DenseLayer l;
    l.name = name;
    l.units = units;
    l.activation = activation;
    return l;
  };
  if (net == Net::Sigmoid) {
    s.layers = {dense("hidden", 400, "sigmoid"), dense("output", 10, "softmax")};
  } else if (net == Net::Wide) {
    s.layers = {dense("wide", 4096, "relu"), dense("wide_1", 4096, "relu"), dense("output", 10, "softmax")};
  } else {
    s.layers = {dense("dense", 500, "relu"), dense("dense_1", 300, "relu"), dense("dense_2", 100, "relu"),
                dense("dense_3", 10, "softmax")};
  }
  return s;
}

inline void fill_batch(const Program& p, const train::Model& m, int64_t batch) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  for (float& f : p.value(m.features).span()) f = u(rng);
  float* labels = p.value(m.labels).data;
  for (int64_t i = 0; i < batch; ++i) labels[i] = static_cast<float>(rng() % 10);
}

}  // namespace graphrun::bench
