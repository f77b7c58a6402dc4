#include "backends/onednn/primitives.h"

#include <mutex>
#include <unordered_map>

#include "core/error.h"

namespace graphrun::onednn {
namespace {

struct Cache {
  std::mutex mutex;
  std::unordered_map<std::string, dnnl::primitive> entries;
  int64_t hits = 0;
};
Cache& cache() {
  static Cache* c = new Cache;  // never destroyed: kernels may outlive static destruction order
  return *c;
}

}  // namespace

dnnl::engine& engine() {
  static dnnl::engine* e = new dnnl::engine(dnnl::engine::kind::cpu, 0);
  return *e;
}

dnnl::stream& stream() {
  static dnnl::stream* s = new dnnl::stream(engine());
  return *s;
}

dnnl::memory::desc plain_desc(const dims& d) {
  switch (d.size()) {
    case 1:
      return f32_desc(d, tag::a);
    case 2:
      return f32_desc(d, tag::ab);
    case 3:
      return f32_desc(d, tag::abc);
    default:
      break;
  }
  check_failed(__FILE__, __LINE__, "plain_desc: rank 1..3");
}

dnnl::primitive cached(const std::string& key, const std::function<dnnl::primitive()>& make) {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  if (auto it = c.entries.find(key); it != c.entries.end()) {
    ++c.hits;
    return it->second;
  }
  dnnl::primitive p = make();  // throws dnnl::error when oneDNN has no implementation
  c.entries.emplace(key, p);
  return p;
}

CacheStats cache_stats() {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  return {static_cast<int64_t>(c.entries.size()), c.hits};
}

}  // namespace graphrun::onednn
