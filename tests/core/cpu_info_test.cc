#include "core/cpu_info.h"

#include <gtest/gtest.h>
#include <sched.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

namespace graphrun {
namespace {

namespace fs = std::filesystem;

TEST(CpuInfo, CpuMaxQuota) {
  EXPECT_EQ(cpus_from_cpu_max("max 100000\n"), 0);
  EXPECT_EQ(cpus_from_cpu_max("200000 100000\n"), 2);
  EXPECT_EQ(cpus_from_cpu_max("150000 100000"), 1);  // 1.5 CPUs: two threads would be throttled
  EXPECT_EQ(cpus_from_cpu_max("50000 100000"), 1);   // at least one
  EXPECT_EQ(cpus_from_cpu_max("6400000 100000"), 64);
  EXPECT_EQ(cpus_from_cpu_max(""), 0);
  EXPECT_EQ(cpus_from_cpu_max("max"), 0);
  EXPECT_EQ(cpus_from_cpu_max("abc 100000"), 0);
  EXPECT_EQ(cpus_from_cpu_max("200000 0"), 0);
}

TEST(CpuInfo, CfsQuota) {
  EXPECT_EQ(cpus_from_cfs_quota("-1\n", "100000\n"), 0);
  EXPECT_EQ(cpus_from_cfs_quota("400000\n", "100000\n"), 4);
  EXPECT_EQ(cpus_from_cfs_quota("", ""), 0);
}

TEST(CpuInfo, CpuModelIsTheFirstModelNameLine) {
  const char* text =
      "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel\t\t: 68\nmodel name\t: AMD EPYC 9B45  \n"
      "processor\t: 1\nmodel name\t: other\n";
  EXPECT_EQ(cpu_model(text), "AMD EPYC 9B45");
  EXPECT_EQ(cpu_model("processor\t: 0\nmodel\t\t: 68\n"), "");  // no model name (e.g. some ARM kernels)
  EXPECT_EQ(cpu_model(""), "");
}

TEST(CpuInfo, AffinityCappedByQuota) {
  EXPECT_EQ(usable_cpus(16, 0), 16);
  EXPECT_EQ(usable_cpus(16, 2), 2);
  EXPECT_EQ(usable_cpus(1, 4), 1);
}

// A fake cgroup mount: the tightest quota on the process's cgroup and its ancestors wins, for
// v2 at the root or under unified/ (hybrid) and for v1's cpu controller.
class FakeCgroup : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("graphrun_cgroup_" + std::to_string(::getpid()));
    fs::remove_all(root_);
  }
  void TearDown() override { fs::remove_all(root_); }
  void put(const std::string& file, const std::string& text) {
    fs::create_directories((root_ / file).parent_path());
    std::ofstream(root_ / file) << text;
  }
  fs::path root_;
};

TEST_F(FakeCgroup, V2WalksUpToTheTightest) {
  put("cpu.max", "max 100000\n");
  put("a/cpu.max", "300000 100000\n");
  put("a/b/cpu.max", "max 100000\n");
  EXPECT_EQ(cgroup_cpu_limit("0::/a/b\n", root_.string()), 3);
  put("a/b/cpu.max", "200000 100000\n");
  EXPECT_EQ(cgroup_cpu_limit("0::/a/b\n", root_.string()), 2);
  EXPECT_EQ(cgroup_cpu_limit("0::/elsewhere\n", root_.string()), 0);
}

TEST_F(FakeCgroup, V2InAContainerAndHybrid) {
  put("cpu.max", "200000 100000\n");  // a container sees its own cgroup at the mount's root
  EXPECT_EQ(cgroup_cpu_limit("0::/\n", root_.string()), 2);
  fs::remove(root_ / "cpu.max");
  put("unified/x/cpu.max", "100000 100000\n");
  EXPECT_EQ(cgroup_cpu_limit("1:cpu:/\n0::/x\n", root_.string()), 1);
}

TEST_F(FakeCgroup, V1Quota) {
  put("cpu,cpuacct/job/cpu.cfs_quota_us", "250000\n");
  put("cpu,cpuacct/job/cpu.cfs_period_us", "100000\n");
  EXPECT_EQ(cgroup_cpu_limit("4:memory:/job\n3:cpu,cpuacct:/job\n0::/\n", root_.string()), 2);
  put("cpu,cpuacct/job/cpu.cfs_quota_us", "-1\n");
  EXPECT_EQ(cgroup_cpu_limit("3:cpu,cpuacct:/job\n", root_.string()), 0);
  EXPECT_EQ(cgroup_cpu_limit("", root_.string()), 0);
  EXPECT_EQ(cgroup_cpu_limit("garbage\n:\n", root_.string()), 0);
}

// The affinity mask as `taskset -c 0` sets it: a thread pinned to one CPU counts one.
TEST(CpuInfo, AffinityMaskOfOneCpu) {
  int seen = 0;
  std::thread t([&] {
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(0, &one);
    if (sched_setaffinity(0, sizeof(one), &one) == 0)
      seen = affinity_cpus();
    else
      seen = 1;
  });
  t.join();
  EXPECT_EQ(seen, 1);
  EXPECT_GE(usable_cpus(), 1);
  EXPECT_LE(usable_cpus(), affinity_cpus());
}

TEST_F(FakeCgroup, CacheSizesFromSysfs) {
  put("index0/level", "1\n");
  put("index0/type", "Data\n");
  put("index0/size", "48K\n");
  put("index1/level", "1\n");
  put("index1/type", "Instruction\n");
  put("index1/size", "32K\n");
  put("index2/level", "2\n");
  put("index2/type", "Unified\n");
  put("index2/size", "2048K\n");
  put("index3/level", "3\n");
  put("index3/type", "Unified\n");
  put("index3/size", "32M\n");
  const CacheSizes c = cache_sizes(root_.string());
  EXPECT_EQ(c.l1d, 48 * 1024);
  EXPECT_EQ(c.l2, 2048 * 1024);
  EXPECT_EQ(c.l3, 32 * 1024 * 1024);
}

}  // namespace
}  // namespace graphrun
