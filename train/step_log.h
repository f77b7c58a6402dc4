// The per-step loss log: one line per optimizer step, "step,epoch,batch,loss" (step 1-based
// over the run, epoch and batch 1-based, the batch's mean loss with 9 significant digits, so
// the float is exact). A resumed run continues it: entries after the checkpoint's step (a
// killed run got further than its last checkpoint) are cut off first, so an interrupted and
// resumed run leaves the same file as an uninterrupted one.
//
//   StepLog log("runs/a/steps.csv", ckpt ? ckpt->state.step : 0);
//   log.append(step, epoch, batch, loss);   // buffered
//   log.sync();                             // before writing a checkpoint that covers them
//
// Errors: Error(Io) naming the file.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

namespace graphrun::train {

class StepLog {
 public:
  // keep_through 0: a new log (header only). Otherwise keeps the complete entries with
  // step <= keep_through and appends after them.
  StepLog(std::string path, uint64_t keep_through);
  ~StepLog();
  StepLog(const StepLog&) = delete;
  StepLog& operator=(const StepLog&) = delete;

  void append(uint64_t step, int64_t epoch, int64_t batch, float loss);
  // Flushes and fsyncs: every appended entry is on disk.
  void sync();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::FILE* file_ = nullptr;
};

}  // namespace graphrun::train
