#include "tools/graphrun/out_folder.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>
#include <cstring>
#include <filesystem>
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
  created_dir_ = !fs::exists(dir, ec);
  fs::create_directories(dir, ec);
  if (ec) throw Error(ErrorKind::Io, fmt::format("{} {}: cannot create the folder: {}", option, dir, ec.message()));
  dir_ = dir;
  path_ = (fs::path(dir) / kLockFileName).string();
  // The holder removes the file before it lets go, so a run that locked a file no longer at the
  // path (removed meanwhile) tries again with the path's current file.
  for (;;) {
    fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) fail(fmt::format("{}: cannot open the lock file: {}", path_, std::strerror(errno)));
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      const int err = errno;
      const std::string pid = read_pid(fd_);
      if (err != EWOULDBLOCK) fail(fmt::format("{}: cannot lock: {}", path_, std::strerror(err)));
      fail(fmt::format("{} {}: in use by another graphrun run ({}); wait for it to end or choose another folder",
                       option, dir, pid.empty() ? std::string("process starting") : "process " + pid),
           ErrorKind::BadInput);
    }
    struct stat held, now;
    if (::fstat(fd_, &held) == 0 && ::stat(path_.c_str(), &now) == 0 && held.st_ino == now.st_ino &&
        held.st_dev == now.st_dev) {
      break;
    }
    ::close(fd_);
  }
  // Only the holder writes, so a refused run reads a whole PID (or, very early, none).
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd_, 0) != 0 || ::pwrite(fd_, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    fail(fmt::format("{}: cannot write: {}", path_, std::strerror(errno)));
  }
}

void OutFolderLock::fail(const std::string& message, ErrorKind kind) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  if (created_dir_) ::rmdir(dir_.c_str());
  throw Error(kind, message);
}

OutFolderLock::~OutFolderLock() {
  ::unlink(path_.c_str());  // while still holding the lock (see the constructor)
  ::close(fd_);
  if (created_dir_) ::rmdir(dir_.c_str());  // only when the run left it empty
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
    if (ec)
      throw Error(ErrorKind::Io, fmt::format("{}: cannot remove the earlier run's file: {}",
                                             (fs::path(dir) / name).string(), ec.message()));
  }
}

}  // namespace graphrun::tool
