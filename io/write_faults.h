// A test hook: injected failures of atomic writes (io/atomic_file.h), so tests can kill a run
// exactly between write, fsync and rename, or fill the disk, instead of hoping a timer lands
// there. Off unless the environment variable GRAPHRUN_TEST_FAULT is set (read once):
//
//   GRAPHRUN_TEST_FAULT=<kind>[:<n>]    n: the n-th atomic write of the process (default 1)
//     kill-after-write    SIGKILL once the temporary file holds every byte (before fsync)
//     kill-after-fsync    SIGKILL after fsync, before the rename
//     kill-after-rename   SIGKILL after the rename, before the directory fsync
//     enospc              the write stores half the bytes, then fails with ENOSPC (a full disk)
//
// An unknown value is Error(BadInput) naming the variable.
#pragma once

namespace graphrun::io::detail {

enum class WriteFault { None, KillAfterWrite, KillAfterFsync, KillAfterRename, NoSpace };

// Counts one more atomic write and returns the fault planned for it (None almost always).
WriteFault next_write_fault();
// Raises SIGKILL when `planned` is `point`.
void kill_at(WriteFault planned, WriteFault point);

}  // namespace graphrun::io::detail
