// One output folder, one run: the lock a run holds on its --out folder, and what an earlier run
// left there.
//
// The lock is an advisory flock on OUT/.graphrun.lock, which holds the holder's PID, for the
// lock object's life; the holder removes the file when it lets go (and a folder it created and
// left empty), so a run that fails leaves the folder as it was. The kernel releases the lock when
// the process ends in any way: after a SIGKILL the file stays, but no stale lock (the next run
// takes it over). The descriptor is close-on-exec: tune's trials do not inherit the lock.
#pragma once

#include <cstdint>
#include <string>

#include "core/error.h"

namespace graphrun::tool {

inline constexpr const char* kLockFileName = ".graphrun.lock";

class OutFolderLock {
 public:
  // Creates the folder if needed and locks it. Another process holding it is Error(BadInput)
  // naming the folder (as `option` DIR) and that process's PID; a folder that cannot be made is
  // Error(Io).
  OutFolderLock(const std::string& dir, const std::string& option);
  ~OutFolderLock();
  OutFolderLock(const OutFolderLock&) = delete;
  OutFolderLock& operator=(const OutFolderLock&) = delete;

 private:
  [[noreturn]] void fail(const std::string& message, ErrorKind kind = ErrorKind::Io);

  int fd_ = -1;
  bool created_dir_ = false;
  std::string dir_, path_;
};

// The files a training run writes in its --out folder (besides the lock file).
inline constexpr const char* kRunResultFiles[] = {"weights.safetensors", "checkpoint.safetensors", "history.csv",
                                                  "history.json", "steps.csv"};

// One line saying what results of an earlier run `dir` holds and from which model (the model
// hash in its checkpoint or weights, compared with `model_hash`), or "" when it holds none.
std::string describe_earlier_run(const std::string& dir, uint64_t model_hash);

// Removes the earlier run's result files from `dir` (Error(Io) naming a file that stays).
void remove_earlier_run(const std::string& dir);

}  // namespace graphrun::tool
