#include "mpi/mpi_collective.h"

#include <mpi.h>

#include <fmt/format.h>
#include <chrono>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

#include "core/error.h"

namespace graphrun::dist {

struct MpiCollective::Requests {
  std::vector<MPI_Request> buckets;
};

namespace {

int count_of(size_t n) {
  if (n > static_cast<size_t>(INT_MAX))
    throw Error(ErrorKind::Runtime, fmt::format("MPI: {} elements exceed one message", n));
  return static_cast<int>(n);
}

}  // namespace

MpiCollective::MpiCollective(double timeout_seconds)
    : timeout_seconds_(timeout_seconds), requests_(std::make_unique<Requests>()) {
  int provided = 0;
  if (MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
    throw Error(ErrorKind::Runtime, "MPI_Init_thread failed");
  }
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
  if (provided < MPI_THREAD_FUNNELED) abort(1, "this MPI library does not support MPI_THREAD_FUNNELED");
}

MpiCollective::~MpiCollective() { MPI_Finalize(); }

void MpiCollective::abort(int code, const std::string& message) {
  std::fflush(stdout);
  std::fprintf(stderr, "graphrun: rank %d: %s\n", rank_, message.c_str());
  std::fflush(stderr);
  MPI_Abort(MPI_COMM_WORLD, code);
  std::_Exit(code);  // MPI_Abort does not return; this is for the compiler
}

void MpiCollective::wait_for(void* request, const char* what) {
  auto* r = static_cast<MPI_Request*>(request);
  int done = 0;
  MPI_Test(r, &done, MPI_STATUS_IGNORE);
  if (done) return;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_seconds_);
  for (unsigned spin = 1;; ++spin) {
    MPI_Test(r, &done, MPI_STATUS_IGNORE);
    if (done) return;
    if (spin > 64) std::this_thread::yield();  // another rank is behind: give it the core
    if ((spin & 1023) == 0 && std::chrono::steady_clock::now() > deadline) {
      abort(1, fmt::format("{} made no progress for {:g} s: another rank died, hangs or is stopped "
                           "(GRAPHRUN_MPI_TIMEOUT sets the limit); ending the job",
                           what, timeout_seconds_));
    }
  }
}

void MpiCollective::broadcast(float* data, size_t n, int root) {
  MPI_Request r;
  MPI_Ibcast(data, count_of(n), MPI_FLOAT, root, MPI_COMM_WORLD, &r);
  wait_for(&r, "broadcast");
}

void MpiCollective::broadcast(double* data, size_t n, int root) {
  MPI_Request r;
  MPI_Ibcast(data, count_of(n), MPI_DOUBLE, root, MPI_COMM_WORLD, &r);
  wait_for(&r, "broadcast");
}

void MpiCollective::allreduce_sum(float* data, size_t n) {
  MPI_Request r;
  MPI_Iallreduce(MPI_IN_PLACE, data, count_of(n), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, &r);
  wait_for(&r, "allreduce");
}

void MpiCollective::allreduce_sum(double* data, size_t n) {
  MPI_Request r;
  MPI_Iallreduce(MPI_IN_PLACE, data, count_of(n), MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD, &r);
  wait_for(&r, "allreduce");
}

void MpiCollective::allreduce_max(double* data, size_t n) {
  MPI_Request r;
  MPI_Iallreduce(MPI_IN_PLACE, data, count_of(n), MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD, &r);
  wait_for(&r, "allreduce");
}

void MpiCollective::start(size_t bucket, float* data, size_t n) {
  std::vector<MPI_Request>& b = requests_->buckets;
  if (bucket >= b.size()) b.resize(bucket + 1, MPI_REQUEST_NULL);  // once, on the first step
  GRAPHRUN_CHECK(b[bucket] == MPI_REQUEST_NULL);
  MPI_Iallreduce(MPI_IN_PLACE, data, count_of(n), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, &b[bucket]);
}

bool MpiCollective::test(size_t bucket) {
  std::vector<MPI_Request>& b = requests_->buckets;
  if (bucket >= b.size()) return true;
  int done = 0;
  MPI_Test(&b[bucket], &done, MPI_STATUS_IGNORE);  // a completed request becomes MPI_REQUEST_NULL
  return done != 0;
}

void MpiCollective::wait(size_t bucket) {
  std::vector<MPI_Request>& b = requests_->buckets;
  if (bucket < b.size()) wait_for(&b[bucket], "gradient allreduce");
}

}  // namespace graphrun::dist
