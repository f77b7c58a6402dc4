// Collective: the communication data-parallel training needs, over a fixed group of ranks
// (processes). train/ sees only this interface; mpi/mpi_collective.h implements it on MPI, and
// LocalCollective is the group of one (every operation a no-op).
//
// Every rank must call the same operations in the same order with the same sizes. Only one
// thread (the one that created the collective) calls it. Implementations stop the whole job
// with a one-line message when a collective makes no progress for too long (a dead or hung
// rank) instead of waiting forever.
#pragma once

#include <cstddef>

namespace graphrun::train {

class Collective {
 public:
  virtual ~Collective() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;

  // root's data[0, n) on every rank.
  virtual void broadcast(float* data, size_t n, int root) = 0;
  virtual void broadcast(double* data, size_t n, int root) = 0;
  // data[i] becomes the sum (or maximum) of data[i] over the ranks, on every rank.
  virtual void allreduce_sum(float* data, size_t n) = 0;
  virtual void allreduce_sum(double* data, size_t n) = 0;
  virtual void allreduce_max(double* data, size_t n) = 0;

  // Non-blocking sum of gradient buckets: start(b, data, n) begins summing data[0, n) in place
  // as bucket b (data must stay untouched until b is done); test(b) progresses every started
  // bucket and says whether b is done; wait(b) returns once it is. Buckets are started in
  // the same order on every rank; a bucket number is reused once it is done.
  virtual void start(size_t bucket, float* data, size_t n) = 0;
  virtual bool test(size_t bucket) = 0;
  virtual void wait(size_t bucket) = 0;
};

// One process alone.
class LocalCollective final : public Collective {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  void broadcast(float*, size_t, int) override {}
  void broadcast(double*, size_t, int) override {}
  void allreduce_sum(float*, size_t) override {}
  void allreduce_sum(double*, size_t) override {}
  void allreduce_max(double*, size_t) override {}
  void start(size_t, float*, size_t) override {}
  bool test(size_t) override { return true; }
  void wait(size_t) override {}
};

}  // namespace graphrun::train
