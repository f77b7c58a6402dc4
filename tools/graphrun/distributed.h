// Data-parallel `graphrun train` under mpirun: each process is one rank. A plain run (not
// started by mpirun) is one rank alone and never touches MPI.
//
//   mpirun -np 4 graphrun train model.json --threads 2 --out runs/a
//
// Rank 0 alone prints and writes files (weights, checkpoints, history, metrics); every rank
// reads the model file, data and --resume checkpoint from the same path. See docs/distributed.md.
#pragma once

#include <memory>
#include <string>

#include "core/function_ref.h"
#include "core/parameters.h"
#include "io/scaling.h"
#include "tools/graphrun/commands.h"
#include "train/collective.h"
#include "train/data_parallel.h"
#include "train/model.h"
#include "train/trainer.h"

namespace graphrun::tool {

class Ranks {
 public:
  // Joins the job when started by mpirun (OMPI_COMM_WORLD_SIZE or PMI_SIZE set). With more
  // than one rank and no MPI built in, that is an error (the copies would train independently).
  Ranks();
  ~Ranks();
  int rank() const { return comm_ ? comm_->rank() : 0; }
  int size() const { return comm_ ? comm_->size() : 1; }

  // Runs f. When a rank fails, it prints its message and ends every rank of the job (exit 2
  // for bad input, 1 otherwise) so that no rank waits for it.
  int guard(FunctionRef<int()> f);
  // The arguments as this rank uses them: ranks other than 0 write no files and print nothing
  // on stdout; threads 0 means the cores divided among the ranks on this host.
  TrainArgs for_this_rank(const TrainArgs& args) const;
  // Rank 0's seed on every rank (shuffling and the validation split must agree).
  uint64_t agree(uint64_t seed);
  // With several ranks: every rank takes rank 0's parameters, optimizer state, epoch, batch
  // position and scaler, and the trainer shards batches over the ranks from now on.
  void join(train::Trainer& trainer, const train::Model& model, ParameterStore& params, io::Scaler& scaler,
            int64_t& start_batch);
  // With several ranks: Error(Runtime) unless every rank ends with identical parameters.
  void check_identical(const ParameterStore& params);

 private:
  std::unique_ptr<train::Collective> comm_;
  std::unique_ptr<train::DataParallel> dp_;
};

}  // namespace graphrun::tool
