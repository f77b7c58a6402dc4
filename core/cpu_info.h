// What this process may use of the machine: how many CPUs (its affinity mask, so `taskset` and
// `numactl` are honoured, and its cgroup's CPU quota, as in a container started with
// `--cpus 2`) and the sizes of the caches the CPU reports. Thread counts and GEMM blocking are
// derived from these, never from std::thread::hardware_concurrency or one machine's constants.
// The parsers take text so tests can feed them; the readers take the file-system roots.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace graphrun {

// CPUs a cgroup v2 `cpu.max` allows ("150000 100000": floor(quota / period), at least 1);
// 0 for "max ..." (no limit) or text that is not a quota.
int cpus_from_cpu_max(std::string_view text);
// The same for cgroup v1's cpu.cfs_quota_us ("-1": no limit) and cpu.cfs_period_us.
int cpus_from_cfs_quota(std::string_view quota_us, std::string_view period_us);

// The tightest CPU quota on the process's cgroups and their ancestors, 0 for none. proc_cgroup
// is the text of /proc/self/cgroup; cgroup_root the cgroup mount (/sys/fs/cgroup), under which
// v2 is read at the root or under unified/ (hybrid layouts) and v1 under its controller folder.
int cgroup_cpu_limit(std::string_view proc_cgroup, const std::string& cgroup_root);

// CPUs in this thread's affinity mask (sched_getaffinity), at least 1.
int affinity_cpus();

// min(affinity, quota), the quota ignored when 0.
inline int usable_cpus(int affinity, int quota) { return quota > 0 && quota < affinity ? quota : affinity; }
// The CPUs this process may use: the affinity mask capped by the cgroup quota.
int usable_cpus();

// Data cache sizes in bytes (0 when unknown), per core for L1 and L2.
struct CacheSizes {
  int64_t l1d = 0, l2 = 0, l3 = 0;
};
// From sysfs (cache_dir: /sys/devices/system/cpu/cpu0/cache, folders index*/ with level, type,
// size such as "48K"), else from the C library (cpuid on x86).
CacheSizes cache_sizes(const std::string& cache_dir);
// This machine's, read once.
const CacheSizes& cache_sizes();

// The CPU's model name from the text of /proc/cpuinfo (its first "model name" line), "" when
// there is none; and this machine's, read once.
std::string cpu_model(std::string_view cpuinfo);
const std::string& cpu_model();

}  // namespace graphrun
