// `--backend auto`'s choices kept in the user's cache file across runs (io/timing_cache.h):
// read when a command starts, written when it ends if it timed something new. A cache that
// cannot be read or written costs only the timing again: one line on stderr, never a failure.
#pragma once

#include <cstddef>
#include <string>

namespace graphrun::tool {

class TimingCacheScope {
 public:
  TimingCacheScope();
  ~TimingCacheScope();
  TimingCacheScope(const TimingCacheScope&) = delete;
  TimingCacheScope& operator=(const TimingCacheScope&) = delete;

 private:
  std::string path_;
  size_t loaded_ = 0;
};

}  // namespace graphrun::tool
