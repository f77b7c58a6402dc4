// MpiCollective: train::Collective over MPI_COMM_WORLD (OpenMPI, MPICH, ...), for processes
// started by mpirun. The constructor initialises MPI with MPI_THREAD_FUNNELED (only the thread
// that created it calls MPI; the kernel thread pool never does) and the destructor finalises.
//
// Every wait polls MPI_Test against a deadline: a collective that makes no progress for
// `timeout_seconds` (a rank died, hangs, or is stopped) prints one line and ends the whole job
// with MPI_Abort, so nothing waits forever. mpirun itself usually ends the job sooner when a
// rank dies; the deadline covers the cases it cannot see (a stopped or deadlocked rank).
#pragma once

#include <memory>
#include <string>

#include "train/collective.h"

namespace graphrun::dist {

class MpiCollective final : public train::Collective {
 public:
  explicit MpiCollective(double timeout_seconds);
  ~MpiCollective() override;
  MpiCollective(const MpiCollective&) = delete;
  MpiCollective& operator=(const MpiCollective&) = delete;

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  void broadcast(float* data, size_t n, int root) override;
  void broadcast(double* data, size_t n, int root) override;
  void allreduce_sum(float* data, size_t n) override;
  void allreduce_sum(double* data, size_t n) override;
  void allreduce_max(double* data, size_t n) override;
  void start(size_t bucket, float* data, size_t n) override;
  bool test(size_t bucket) override;
  void wait(size_t bucket) override;

  // Prints "graphrun: rank R: <message>" on stderr and ends every rank of the job with `code`.
  [[noreturn]] void abort(int code, const std::string& message);

 private:
  struct Requests;  // MPI_Request handles (mpi.h stays out of this header)
  void wait_for(void* request, const char* what);

  int rank_ = 0, size_ = 1;
  double timeout_seconds_;
  std::unique_ptr<Requests> requests_;
};

}  // namespace graphrun::dist
