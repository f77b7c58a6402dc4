// One output folder, one run: the lock a run holds on its --out folder, and what an earlier run
// left there.
//
// The lock is an advisory flock on OUT/.graphrun.lock, held for the lock object's life. The
// kernel releases it when the process ends in any way (SIGKILL included), so no stale lock is
// ever left behind; the file stays and holds the PID of the last process that locked it. The
// descriptor is close-on-exec, so a child process (tune's trials) does not inherit the lock.
#pragma once

#include <cstdint>
#include <string>

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
  int fd_ = -1;
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
