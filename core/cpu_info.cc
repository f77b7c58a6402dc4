#include "core/cpu_info.h"

#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace graphrun {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n')) s.remove_suffix(1);
  return s;
}

// A whole non-negative number, or -1.
int64_t to_int(std::string_view s) {
  s = trim(s);
  int64_t v = -1;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && end == s.data() + s.size() && v >= 0 ? v : -1;
}

int cpus_of(int64_t quota, int64_t period) {
  if (quota <= 0 || period <= 0) return 0;
  return static_cast<int>(std::max<int64_t>(1, quota / period));
}

std::string read_text(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) return {};
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

int tighter(int a, int b) { return a == 0 ? b : b == 0 ? a : std::min(a, b); }

// The limit of `dir` and each ancestor up to `top`, read by `limit_in(folder)`.
template <class F>
int walk_up(const std::filesystem::path& top, std::string_view cgroup, F limit_in) {
  std::filesystem::path dir = top / std::filesystem::path(std::string(cgroup)).relative_path();
  int limit = 0;
  for (;;) {
    limit = tighter(limit, limit_in(dir));
    if (dir == top || !dir.has_parent_path() || dir.parent_path() == dir) return limit;
    dir = dir.parent_path();
  }
}

}  // namespace

int cpus_from_cpu_max(std::string_view text) {
  text = trim(text);
  const size_t space = text.find(' ');
  if (space == std::string_view::npos) return 0;  // "max" alone, or not a quota
  return cpus_of(to_int(text.substr(0, space)), to_int(text.substr(space + 1)));
}

int cpus_from_cfs_quota(std::string_view quota_us, std::string_view period_us) {
  return cpus_of(to_int(quota_us), to_int(period_us));
}

int cgroup_cpu_limit(std::string_view proc_cgroup, const std::string& cgroup_root) {
  namespace fs = std::filesystem;
  const fs::path root(cgroup_root);
  int limit = 0;
  // Lines "hierarchy-id:controllers:path"; v2's is "0::path".
  while (!proc_cgroup.empty()) {
    const size_t eol = proc_cgroup.find('\n');
    const std::string_view line = proc_cgroup.substr(0, eol);
    proc_cgroup = eol == std::string_view::npos ? std::string_view() : proc_cgroup.substr(eol + 1);
    const size_t c1 = line.find(':'), c2 = c1 == std::string_view::npos ? c1 : line.find(':', c1 + 1);
    if (c2 == std::string_view::npos) continue;
    const std::string_view controllers = line.substr(c1 + 1, c2 - c1 - 1), path = line.substr(c2 + 1);
    if (line.substr(0, c1) == "0" && controllers.empty()) {
      for (const fs::path& top : {root, root / "unified"}) {
        limit = tighter(
            limit, walk_up(top, path, [](const fs::path& d) { return cpus_from_cpu_max(read_text(d / "cpu.max")); }));
      }
      continue;
    }
    bool has_cpu = false;
    for (std::string_view rest = controllers; !rest.empty();) {
      const size_t comma = rest.find(',');
      has_cpu |= rest.substr(0, comma) == "cpu";
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    }
    if (!has_cpu) continue;
    for (const fs::path& top : {root / std::string(controllers), root / "cpu"}) {
      limit =
          tighter(limit, walk_up(top, path, [](const fs::path& d) {
                    return cpus_from_cfs_quota(read_text(d / "cpu.cfs_quota_us"), read_text(d / "cpu.cfs_period_us"));
                  }));
    }
  }
  return limit;
}

int affinity_cpus() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return std::max(1, CPU_COUNT(&set));
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

int usable_cpus() {
  return usable_cpus(affinity_cpus(), cgroup_cpu_limit(read_text("/proc/self/cgroup"), "/sys/fs/cgroup"));
}

CacheSizes cache_sizes(const std::string& cache_dir) {
  namespace fs = std::filesystem;
  CacheSizes c;
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator(cache_dir, ec)) {
    if (!e.path().filename().string().starts_with("index")) continue;
    const std::string type(trim(read_text(e.path() / "type")));
    if (type == "Instruction") continue;
    std::string size(trim(read_text(e.path() / "size")));
    int64_t scale = 1;
    if (!size.empty() && (size.back() == 'K' || size.back() == 'M')) {
      scale = size.back() == 'K' ? 1024 : 1024 * 1024;
      size.pop_back();
    }
    const int64_t bytes = to_int(size) * scale;
    if (bytes <= 0) continue;
    switch (to_int(read_text(e.path() / "level"))) {
      case 1:
        c.l1d = bytes;
        break;
      case 2:
        c.l2 = bytes;
        break;
      case 3:
        c.l3 = bytes;
        break;
      default:
        break;
    }
  }
  if (c.l1d == 0 && c.l2 == 0) {  // no sysfs (some VMs and containers): the C library's cpuid
    c.l1d = std::max<long>(0, sysconf(_SC_LEVEL1_DCACHE_SIZE));
    c.l2 = std::max<long>(0, sysconf(_SC_LEVEL2_CACHE_SIZE));
    c.l3 = std::max<long>(0, sysconf(_SC_LEVEL3_CACHE_SIZE));
  }
  return c;
}

const CacheSizes& cache_sizes() {
  static const CacheSizes sizes = cache_sizes("/sys/devices/system/cpu/cpu0/cache");
  return sizes;
}

std::string cpu_model(std::string_view cpuinfo) {
  for (size_t at = 0; at < cpuinfo.size();) {
    const size_t end = std::min(cpuinfo.find('\n', at), cpuinfo.size());
    const std::string_view line = cpuinfo.substr(at, end - at);
    at = end + 1;
    if (!line.starts_with("model name")) continue;
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view name = line.substr(colon + 1);
    while (!name.empty() && (name.front() == ' ' || name.front() == '\t')) name.remove_prefix(1);
    while (!name.empty() && (name.back() == ' ' || name.back() == '\r')) name.remove_suffix(1);
    return std::string(name);
  }
  return {};
}

const std::string& cpu_model() {
  static const std::string model = cpu_model(read_text("/proc/cpuinfo"));
  return model;
}

}  // namespace graphrun
