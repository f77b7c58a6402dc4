#include "tools/graphrun/out_folder.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <vector>

#include "core/error.h"

namespace graphrun::tool {
namespace {

namespace fs = std::filesystem;

// The __metadata__ of a safetensors file, read from its header only (a checkpoint can be large);
// empty when the file is not readable as one.
std::map<std::string, std::string> header_metadata(const fs::path& path) {
  std::ifstream f(path, std::ios::binary);
  unsigned char len[8];
  if (!f.read(reinterpret_cast<char*>(len), 8)) return {};
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | len[i];
  if (n == 0 || n > 100'000'000) return {};
  std::string header(n, '\0');
  if (!f.read(header.data(), static_cast<std::streamsize>(n))) return {};
  const nlohmann::json j = nlohmann::json::parse(header, nullptr, false);
  if (!j.is_object() || !j.contains("__metadata__") || !j["__metadata__"].is_object()) return {};
  std::map<std::string, std::string> meta;
  for (const auto& [k, v] : j["__metadata__"].items()) {
    if (v.is_string()) meta[k] = v.get<std::string>();
  }
  return meta;
}

std::string read_pid(int fd) {
  char buf[32] = {};
  const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
  std::string pid(buf, n > 0 ? static_cast<size_t>(n) : 0);
  while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
  return pid;
}

}  // namespace

OutFolderLock::OutFolderLock(const std::string& dir, const std::string& option) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw Error(ErrorKind::Io, fmt::format("{} {}: cannot create the folder: {}", option, dir, ec.message()));
  const std::string path = (fs::path(dir) / kLockFileName).string();
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw Error(ErrorKind::Io, fmt::format("{}: cannot open the lock file: {}", path, std::strerror(errno)));
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    const std::string pid = read_pid(fd_);
    ::close(fd_);
    fd_ = -1;
    if (err != EWOULDBLOCK) throw Error(ErrorKind::Io, fmt::format("{}: cannot lock: {}", path, std::strerror(err)));
    throw Error(ErrorKind::BadInput,
                fmt::format("{} {}: in use by another graphrun run ({}); wait for it to end or choose another folder",
                            option, dir, pid.empty() ? std::string("process starting") : "process " + pid));
  }
  // Only the holder writes, so a refused run reads a whole PID (or, very early, none).
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd_, 0) != 0 || ::pwrite(fd_, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    const int err = errno;
    ::close(fd_);
    fd_ = -1;
    throw Error(ErrorKind::Io, fmt::format("{}: cannot write: {}", path, std::strerror(err)));
  }
}

OutFolderLock::~OutFolderLock() {
  if (fd_ >= 0) ::close(fd_);  // releases the lock
}

std::string describe_earlier_run(const std::string& dir, uint64_t model_hash) {
  std::vector<std::string> found;
  for (const char* name : kRunResultFiles) {
    if (fs::exists(fs::path(dir) / name)) found.emplace_back(name);
  }
  if (found.empty()) return {};
  std::map<std::string, std::string> meta = header_metadata(fs::path(dir) / "checkpoint.safetensors");
  if (!meta.contains("model_hash")) meta = header_metadata(fs::path(dir) / "weights.safetensors");
  const std::string mine = fmt::format("{:016x}", model_hash);
  std::string model = "of an unknown model (no model hash in its checkpoint or weights)";
  if (auto it = meta.find("model_hash"); it != meta.end()) {
    model = it->second == mine ? fmt::format("of this model ({})", mine)
                               : fmt::format("of another model ({}; this one is {})", it->second, mine);
  }
  std::string progress;
  if (meta.contains("epoch")) progress += fmt::format(" at epoch {}", meta["epoch"]);
  if (meta.contains("step")) progress += fmt::format(", step {}", meta["step"]);
  return fmt::format("{} holds an earlier run's results ({}) {}{}: this run replaces them at its first step", dir,
                     fmt::join(found, ", "), model, progress);
}

void remove_earlier_run(const std::string& dir) {
  for (const char* name : kRunResultFiles) {
    std::error_code ec;
    fs::remove(fs::path(dir) / name, ec);
    if (ec) throw Error(ErrorKind::Io, fmt::format("{}: cannot remove the earlier run's file: {}", (fs::path(dir) / name).string(), ec.message()));
  }
}

}  // namespace graphrun::tool
