#include "io/atomic_file.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <memory>

#include "core/error.h"

namespace graphrun::io {
namespace {

// Directory part ("." when there is none) and base name of a path.
std::pair<std::string, std::string> split_path(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return {".", path};
  std::string dir = slash == 0 ? "/" : path.substr(0, slash);
  return {dir, path.substr(slash + 1)};
}

std::string temp_prefix(const std::string& base) { return "." + base + ".tmp."; }

void fsync_directory(const std::string& dir, const std::string& path) {
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) {
    int err = errno;
    throw Error(ErrorKind::Io,
                fmt::format("{}: cannot open directory {} to sync it: {}", path, dir, std::strerror(err)));
  }
  // Some file systems refuse fsync on a directory (EINVAL): the rename is done either way.
  if (::fsync(dfd) != 0 && errno != EINVAL) {
    int err = errno;
    ::close(dfd);
    throw Error(ErrorKind::Io, fmt::format("{}: cannot sync directory {}: {}", path, dir, std::strerror(err)));
  }
  ::close(dfd);
}

}  // namespace

std::string atomic_temp_path(const std::string& path) {
  auto [dir, base] = split_path(path);
  std::string name = temp_prefix(base) + std::to_string(::getpid());
  return path.find('/') == std::string::npos ? name : dir + (dir == "/" ? "" : "/") + name;
}

AtomicFileWriter::AtomicFileWriter(std::string path) : path_(std::move(path)) {
  auto [dir, base] = split_path(path_);
  if (base.empty()) {
    throw Error(ErrorKind::BadInput, fmt::format("{}: cannot write: the path names a directory", path_));
  }
  temp_path_ = atomic_temp_path(path_);
  fault_ = detail::next_write_fault();
  // No O_EXCL: a file left by a dead process that had our pid is simply overwritten. If the
  // temporary path is something we cannot open (a directory), we fail without touching it.
  fd_ = ::open(temp_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    int err = errno;
    throw Error(ErrorKind::Io,
                fmt::format("{}: cannot create temporary file {}: {}", path_, temp_path_, std::strerror(err)));
  }
}

AtomicFileWriter::~AtomicFileWriter() {
  if (!committed_) abandon();
}

void AtomicFileWriter::abandon() noexcept {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
    ::unlink(temp_path_.c_str());
  }
}

void AtomicFileWriter::fail(const std::string& what, int err) {
  abandon();
  throw Error(ErrorKind::Io,
              fmt::format("{}: {} (temporary file {}): {}", path_, what, temp_path_, std::strerror(err)));
}

void AtomicFileWriter::write(std::span<const std::byte> bytes) {
  if (fd_ < 0) {
    throw Error(ErrorKind::Internal, fmt::format("{}: write after commit or failure", path_));
  }
  const std::byte* p = bytes.data();
  size_t left = bytes.size();
  const bool no_space = fault_ == detail::WriteFault::NoSpace;
  if (no_space) left /= 2;  // a full disk: part of the data lands, then the write fails
  while (left > 0) {
    ssize_t n = ::write(fd_, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("cannot write", errno);
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  if (no_space) fail("cannot write", ENOSPC);
}

void AtomicFileWriter::commit() {
  if (fd_ < 0) {
    throw Error(ErrorKind::Internal, fmt::format("{}: commit after commit or failure", path_));
  }
  detail::kill_at(fault_, detail::WriteFault::KillAfterWrite);
  if (::fsync(fd_) != 0) fail("cannot sync", errno);
  detail::kill_at(fault_, detail::WriteFault::KillAfterFsync);
  int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) {
    int err = errno;
    ::unlink(temp_path_.c_str());
    throw Error(ErrorKind::Io,
                fmt::format("{}: cannot close temporary file {}: {}", path_, temp_path_, std::strerror(err)));
  }
  if (::rename(temp_path_.c_str(), path_.c_str()) != 0) {
    int err = errno;
    ::unlink(temp_path_.c_str());
    throw Error(ErrorKind::Io,
                fmt::format("{}: cannot rename temporary file {} over it: {}", path_, temp_path_, std::strerror(err)));
  }
  committed_ = true;
  detail::kill_at(fault_, detail::WriteFault::KillAfterRename);
  fsync_directory(split_path(path_).first, path_);
}

void write_file_atomically(const std::string& path, std::span<const std::byte> bytes) {
  AtomicFileWriter writer(path);
  writer.write(bytes);
  writer.commit();
}

int remove_stale_temp_files(const std::string& dir, const std::string& base) {
  std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(dir.c_str()), ::closedir);
  if (!d) {
    if (errno == ENOENT) return 0;
    int err = errno;
    throw Error(ErrorKind::Io, fmt::format("{}: cannot list directory: {}", dir, std::strerror(err)));
  }
  const std::string prefix = temp_prefix(base);
  const pid_t self = ::getpid();
  int removed = 0;
  while (const dirent* e = ::readdir(d.get())) {
    std::string_view name(e->d_name);
    if (!name.starts_with(prefix)) continue;
    std::string_view digits = name.substr(prefix.size());
    long pid = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), pid);
    if (ec != std::errc() || end != digits.data() + digits.size() || pid <= 0) continue;
    if (pid == self) continue;
    // A process that still runs may be writing it right now.
    if (::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;
    std::string full = dir + "/" + std::string(name);
    struct stat st {};
    if (::lstat(full.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    if (::unlink(full.c_str()) != 0) {
      int err = errno;
      throw Error(ErrorKind::Io, fmt::format("{}: cannot remove stale temporary file: {}", full, std::strerror(err)));
    }
    ++removed;
  }
  return removed;
}

std::vector<std::byte> read_file(const std::string& path, uint64_t max_bytes) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    throw Error(ErrorKind::Io, fmt::format("{}: cannot open: {}", path, std::strerror(err)));
  }
  std::unique_ptr<int, void (*)(int*)> closer(&fd, [](int* f) { ::close(*f); });
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    throw Error(ErrorKind::Io, fmt::format("{}: cannot stat: {}", path, std::strerror(err)));
  }
  if (S_ISDIR(st.st_mode)) {
    throw Error(ErrorKind::BadInput, fmt::format("{}: is a directory, expected a file", path));
  }
  // Read until end of file with an explicit loop: a file that changes size while we read, or
  // a stream with no size (a pipe), is still held to max_bytes.
  auto read_some = [&](std::byte* dst, size_t n, size_t at) -> size_t {
    for (;;) {
      ssize_t got = ::read(fd, dst, n);
      if (got >= 0) return static_cast<size_t>(got);
      if (errno == EINTR) continue;
      int err = errno;
      throw Error(ErrorKind::Io, fmt::format("{}: cannot read at byte {}: {}", path, at, std::strerror(err)));
    }
  };
  std::vector<std::byte> out;
  if (S_ISREG(st.st_mode)) {
    uint64_t size = static_cast<uint64_t>(st.st_size);
    if (size > max_bytes) {
      throw Error(ErrorKind::BadInput,
                  fmt::format("{}: file is {} bytes, more than the limit of {} bytes", path, size, max_bytes));
    }
    out.resize(static_cast<size_t>(size));
    size_t have = 0;
    while (have < out.size()) {
      size_t n = read_some(out.data() + have, out.size() - have, have);
      if (n == 0) break;
      have += n;
    }
    out.resize(have);
  }
  std::vector<std::byte> chunk(64 * 1024);
  for (;;) {
    size_t n = read_some(chunk.data(), chunk.size(), out.size());
    if (n == 0) break;
    if (n > max_bytes - out.size()) {
      throw Error(ErrorKind::BadInput, fmt::format("{}: file is more than the limit of {} bytes", path, max_bytes));
    }
    out.insert(out.end(), chunk.begin(), chunk.begin() + static_cast<ptrdiff_t>(n));
  }
  return out;
}

}  // namespace graphrun::io
