#include "io/write_faults.h"

#include <signal.h>

#include <atomic>
#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/error.h"

namespace graphrun::io::detail {
namespace {

constexpr const char* kVariable = "GRAPHRUN_TEST_FAULT";

struct Plan {
  WriteFault kind = WriteFault::None;
  int64_t at = 1;
};

Plan parse_plan(const char* value) {
  Plan p;
  if (!value || !*value) return p;
  std::string_view v(value);
  const size_t colon = v.find(':');
  const std::string_view kind = v.substr(0, colon);
  if (kind == "kill-after-write")
    p.kind = WriteFault::KillAfterWrite;
  else if (kind == "kill-after-fsync")
    p.kind = WriteFault::KillAfterFsync;
  else if (kind == "kill-after-rename")
    p.kind = WriteFault::KillAfterRename;
  else if (kind == "enospc")
    p.kind = WriteFault::NoSpace;
  bool ok = p.kind != WriteFault::None;
  if (ok && colon != std::string_view::npos) {
    const std::string_view n = v.substr(colon + 1);
    auto [end, ec] = std::from_chars(n.data(), n.data() + n.size(), p.at);
    ok = ec == std::errc() && end == n.data() + n.size() && p.at >= 1;
  }
  if (!ok) {
    throw Error(ErrorKind::BadInput, std::string(kVariable) + "=" + std::string(v.substr(0, 80)) +
                                         ": expected kill-after-write, kill-after-fsync, kill-after-rename or enospc, "
                                         "optionally followed by :N (the N-th atomic write, N >= 1)");
  }
  return p;
}

}  // namespace

WriteFault next_write_fault() {
  static const Plan plan = parse_plan(std::getenv(kVariable));
  static std::atomic<int64_t> writes{0};
  if (plan.kind == WriteFault::None) return WriteFault::None;
  return writes.fetch_add(1) + 1 == plan.at ? plan.kind : WriteFault::None;
}

void kill_at(WriteFault planned, WriteFault point) {
  if (planned == point && planned != WriteFault::None) ::raise(SIGKILL);
}

}  // namespace graphrun::io::detail
