// Whole-file reads with a size cap, and atomic whole-file writes.
//
// An atomic write goes to a temporary file in the target's directory, named
// ".<base>.tmp.<pid>", which is written completely, fsynced, renamed over the target, and then
// the directory is fsynced. A reader therefore sees either the old file or the new one, never a
// mix; after a failure the old file is byte-identical and the temporary file is removed.
// A crash (power loss, kill -9) can leave a temporary file behind: remove_stale_temp_files
// cleans those up.
//
// Errors: graphrun::Error, kind Io for an operating-system failure (with strerror), BadInput
// for a path that is not a readable regular file of acceptable size. Not thread safe against
// two writers of the same path in one process (they share the temporary name).
//
// Tests can make the n-th atomic write die between write, fsync and rename, or fail as on a
// full disk, with the environment variable GRAPHRUN_TEST_FAULT (io/write_faults.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "io/write_faults.h"

namespace graphrun::io {

// Writes `bytes` to `path` atomically (see above).
void write_file_atomically(const std::string& path, std::span<const std::byte> bytes);

// A streaming atomic writer: write() any number of times, then commit(). Destroying it
// without commit() (or after a failed write) removes the temporary file and leaves the target
// untouched.
class AtomicFileWriter {
 public:
  explicit AtomicFileWriter(std::string path);  // creates the temporary file
  ~AtomicFileWriter();
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;

  void write(std::span<const std::byte> bytes);
  // fsync, rename over the target, fsync the directory. At most once.
  void commit();

  const std::string& path() const { return path_; }
  const std::string& temp_path() const { return temp_path_; }

 private:
  [[noreturn]] void fail(const std::string& what, int err);
  void abandon() noexcept;

  std::string path_;
  std::string temp_path_;
  int fd_ = -1;
  bool committed_ = false;
  detail::WriteFault fault_ = detail::WriteFault::None;  // a test asked for it (GRAPHRUN_TEST_FAULT)
};

// The temporary name write_file_atomically uses for `path` in this process.
std::string atomic_temp_path(const std::string& path);

// Removes ".<base>.tmp.<pid>" files in `dir` left by processes that no longer run. Returns how
// many were removed. A missing directory removes nothing; other failures throw Error(Io).
int remove_stale_temp_files(const std::string& dir, const std::string& base);

// Reads a whole regular file (or stream). Errors name the path: missing or unreadable file
// (Io, with strerror), a directory (BadInput), more than max_bytes (BadInput, with both sizes).
std::vector<std::byte> read_file(const std::string& path, uint64_t max_bytes);

}  // namespace graphrun::io
