#include "tools/graphrun/distributed.h"

#include <fmt/format.h>
#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "core/cpu_info.h"
#include "core/error.h"

#ifdef GRAPHRUN_WITH_MPI
#include "mpi/mpi_collective.h"
#endif

namespace graphrun::tool {
namespace {

// The job size mpirun (OpenMPI) or a PMI launcher (MPICH, Slurm) announces; 0 when not launched so.
int launched_ranks() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"}) {
    if (const char* v = std::getenv(name)) return std::atoi(v);
  }
  return 0;
}

#ifdef GRAPHRUN_WITH_MPI
double timeout_seconds() {
  const char* v = std::getenv("GRAPHRUN_MPI_TIMEOUT");
  if (!v) return 300.0;
  char* end = nullptr;
  const double s = std::strtod(v, &end);
  if (end == v || *end != '\0' || !(s > 0)) {
    throw Error(ErrorKind::BadInput,
                fmt::format("GRAPHRUN_MPI_TIMEOUT=\"{}\": expected a positive number of seconds", v));
  }
  return s;
}
#endif

}  // namespace

Ranks::Ranks() {
  const int n = launched_ranks();
  if (n == 0) return;
#ifdef GRAPHRUN_WITH_MPI
  comm_ = std::make_unique<dist::MpiCollective>(timeout_seconds());
#else
  if (n > 1) {
    throw Error(ErrorKind::BadInput,
                fmt::format("started by mpirun with {} ranks, but this graphrun was built without MPI "
                            "(GRAPHRUN_WITH_MPI=OFF): each copy would train alone",
                            n));
  }
#endif
}

Ranks::~Ranks() = default;

int Ranks::guard(FunctionRef<int()> f) {
#ifdef GRAPHRUN_WITH_MPI
  if (size() > 1) {
    int code = 1;
    std::string message;
    try {
      return f();
    } catch (const Error& e) {
      code = e.is_bad_input() ? 2 : 1;
      message = e.what();
    } catch (const std::exception& e) {
      message = e.what();
    }
    static_cast<dist::MpiCollective&>(*comm_).abort(code, message);
  }
#endif
  return f();
}

TrainArgs Ranks::for_this_rank(const TrainArgs& args) const {
  TrainArgs a = args;
  if (size() == 1) return a;
  if (a.common.threads == 0) {
    const char* local = std::getenv("OMPI_COMM_WORLD_LOCAL_SIZE");
    const int per_host = local ? std::max(1, std::atoi(local)) : 1;
    a.common.threads = std::max(1, usable_cpus() / per_host);
  }
  if (rank() != 0) {
    a.out_dir.clear();
    a.metrics_out.clear();
    a.checkpoint_every = 0;  // checkpoints are rank 0's
    if (!std::freopen("/dev/null", "w", stdout)) throw Error(ErrorKind::Io, "cannot redirect stdout to /dev/null");
  }
  return a;
}

uint64_t Ranks::agree(uint64_t seed) { return comm_ && size() > 1 ? train::broadcast_value(*comm_, seed) : seed; }

void Ranks::join(train::Trainer& trainer, const train::Model& model, ParameterStore& params, io::Scaler& scaler,
                 int64_t& start_batch) {
  if (size() == 1) return;
  const train::TrainConfig& cfg = trainer.config();
  if (cfg.batch_size < size()) {
    throw Error(ErrorKind::BadInput,
                fmt::format("{}: batch size {} is smaller than the {} ranks: each rank needs at least "
                            "one sample per batch",
                            cfg.context, cfg.batch_size, size()));
  }
  dp_ = std::make_unique<train::DataParallel>(*comm_, model.graph, model.gradients);
  dp_->broadcast_state(params, trainer.optimizer(), &scaler);
  trainer.set_epoch(static_cast<int64_t>(train::broadcast_value(*comm_, static_cast<uint64_t>(trainer.epoch()))));
  start_batch = static_cast<int64_t>(train::broadcast_value(*comm_, static_cast<uint64_t>(start_batch)));
  trainer.set_data_parallel(dp_.get());
  fmt::print(
      "data-parallel over {} ranks: about {} samples per rank in each batch of {}; {} gradient floats in {} "
      "buckets\n",
      size(), (cfg.batch_size + size() - 1) / size(), cfg.batch_size, dp_->gradient_floats(), dp_->buckets());
}

void Ranks::check_identical(const ParameterStore& params) {
  if (dp_ && !dp_->parameters_agree(params)) {
    throw Error(ErrorKind::Runtime, "the ranks ended with different parameters (their runs diverged)");
  }
}

}  // namespace graphrun::tool
