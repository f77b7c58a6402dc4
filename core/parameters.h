// ParameterStore: the values of a graph's parameters, by node name.
//
// Programs bind parameter nodes to these tensors' storage once, at compile time, so a tensor's
// storage never moves or changes size after creation: assign() copies values in place.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/graph.h"
#include "core/tensor.h"

namespace graphrun {

class ParameterStore {
 public:
  ParameterStore() = default;
  // One tensor per parameter node of g, initialised with its initializer. Each parameter's
  // random stream depends on the seed and the parameter's name only.
  static ParameterStore initialize(const Graph& g, uint64_t seed);

  bool contains(std::string_view name) const { return find(name) != nullptr; }
  Tensor* find(std::string_view name);
  const Tensor* find(std::string_view name) const;
  Tensor& at(std::string_view name);  // throws BadInput naming the parameter
  const Tensor& at(std::string_view name) const;
  // Adds a parameter (error if it exists).
  Tensor& add(std::string name, const Shape& shape);
  // Copies values into an existing parameter; the shape must match (Shape error otherwise).
  void assign(std::string_view name, const Tensor& value, std::string_view context);

  size_t size() const { return entries_.size(); }
  const std::string& name(size_t i) const { return entries_[i].first; }
  Tensor& tensor(size_t i) { return *entries_[i].second; }
  const Tensor& tensor(size_t i) const { return *entries_[i].second; }
  int64_t total_elements() const;

 private:
  std::vector<std::pair<std::string, std::unique_ptr<Tensor>>> entries_;
};

uint64_t seed_for(uint64_t seed, std::string_view name);

}  // namespace graphrun
