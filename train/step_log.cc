#include "train/step_log.h"

#include <unistd.h>

#include <fmt/format.h>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>

#include "core/error.h"

namespace graphrun::train {
namespace {

constexpr const char* kHeader = "step,epoch,batch,loss\n";

[[noreturn]] void io_error(const std::string& path, const std::string& what) {
  throw Error(ErrorKind::Io, fmt::format("{}: cannot {} the step log: {}", path, what, std::strerror(errno)));
}

// Bytes of `path` up to the end of the last complete entry with step <= keep_through.
long kept_prefix(const std::string& path, uint64_t keep_through) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return 0;
  std::string line;
  long kept = 0, at = 0;
  bool header = true;
  while (std::getline(f, line)) {
    at += static_cast<long>(line.size());
    if (f.eof()) break;  // no newline: an entry cut by a kill
    ++at;
    if (header) {
      if (line + "\n" != kHeader) return 0;
      header = false;
      kept = at;
      continue;
    }
    uint64_t step = 0;
    auto [end, ec] = std::from_chars(line.data(), line.data() + line.size(), step);
    if (ec != std::errc() || *end != ',' || step > keep_through) break;
    kept = at;
  }
  return kept;
}

}  // namespace

StepLog::StepLog(std::string path, uint64_t keep_through) : path_(std::move(path)) {
  const long kept = keep_through > 0 ? kept_prefix(path_, keep_through) : 0;
  if (kept > 0) {
    if (::truncate(path_.c_str(), kept) != 0) io_error(path_, "truncate");
    file_ = std::fopen(path_.c_str(), "ab");
  } else {
    file_ = std::fopen(path_.c_str(), "wb");
    if (file_) std::fputs(kHeader, file_);
  }
  if (!file_) io_error(path_, "open");
}

StepLog::~StepLog() {
  if (file_) std::fclose(file_);
}

void StepLog::append(uint64_t step, int64_t epoch, int64_t batch, float loss) {
  if (std::fprintf(file_, "%llu,%lld,%lld,%.9g\n", static_cast<unsigned long long>(step), static_cast<long long>(epoch),
                   static_cast<long long>(batch), static_cast<double>(loss)) < 0) {
    io_error(path_, "write");
  }
}

void StepLog::sync() {
  if (std::fflush(file_) != 0 || ::fsync(::fileno(file_)) != 0) io_error(path_, "write");
}

}  // namespace graphrun::train
