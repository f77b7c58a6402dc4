#include "core/parameters.h"

#include <algorithm>

#include "core/error.h"

namespace graphrun {

uint64_t seed_for(uint64_t seed, std::string_view name) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a
  for (char c : name) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  uint64_t z = seed + 0x9e3779b97f4a7c15ull * (h | 1);  // splitmix64 finaliser
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

ParameterStore ParameterStore::initialize(const Graph& g, uint64_t seed) {
  ParameterStore store;
  for (NodeId id : g.parameters()) {
    const Node& n = g.node(id);
    Tensor& t = store.add(n.name, n.shape);
    graphrun::initialize(n.init, t, seed_for(seed, n.name));
  }
  return store;
}

Tensor* ParameterStore::find(std::string_view name) {
  for (auto& [n, t] : entries_) {
    if (n == name) return t.get();
  }
  return nullptr;
}

const Tensor* ParameterStore::find(std::string_view name) const {
  return const_cast<ParameterStore*>(this)->find(name);
}

Tensor& ParameterStore::at(std::string_view name) {
  Tensor* t = find(name);
  if (!t) throw Error(ErrorKind::BadInput, "no parameter named '" + std::string(name) + "'");
  return *t;
}

const Tensor& ParameterStore::at(std::string_view name) const { return const_cast<ParameterStore*>(this)->at(name); }

Tensor& ParameterStore::add(std::string name, const Shape& shape) {
  if (contains(name)) throw Error(ErrorKind::BadInput, "parameter '" + name + "' exists twice");
  entries_.emplace_back(std::move(name), std::make_unique<Tensor>(shape));
  return *entries_.back().second;
}

void ParameterStore::assign(std::string_view name, const Tensor& value, std::string_view context) {
  Tensor& t = at(name);
  if (t.shape() != value.shape()) {
    throw Error(ErrorKind::Shape, std::string(context) + ": parameter '" + std::string(name) + "' has shape " +
                                      value.shape().str() + ", the model expects " + t.shape().str());
  }
  std::copy(value.span().begin(), value.span().end(), t.span().begin());
}

int64_t ParameterStore::total_elements() const {
  int64_t n = 0;
  for (const auto& e : entries_) n += e.second->numel();
  return n;
}

}  // namespace graphrun
