// allreduce_bench: time of graphrun's gradient allreduce (dist::MpiCollective, one bucket per
// call as the Trainer starts it) over the ranks of an mpirun launch, for the seed models'
// gradient sizes and ten times the deep one. Checks the sum first. Rank 0 prints, per size,
// the minimum and median over the repetitions (after warm-up), in microseconds, and the
// algorithm bandwidth (bytes / time) and bus bandwidth (2 (N-1)/N * bytes / time).
//
//   mpirun -np 2 build/rel/benchmarks/allreduce_bench [repetitions]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "core/tensor.h"
#include "mpi/mpi_collective.h"

int main(int argc, char** argv) {
  const int reps = argc > 1 ? std::max(1, std::atoi(argv[1])) : 100;
  graphrun::dist::MpiCollective comm(60.0);
  const int n = comm.size();
  struct Case {
    const char* what;
    size_t floats;
  };
  const Case cases[] = {{"784-400-10 (fashion_sigmoid_*)", 318010},
                        {"784-500-300-100-10 (fashion_relu_deep)", 575050},
                        {"10x the deep model", 5750500}};
  if (comm.rank() == 0) {
    std::printf("allreduce of float gradients over %d ranks, %d repetitions each\n", n, reps);
    std::printf("%-40s %10s %10s %10s %12s %12s\n", "gradients", "floats", "min us", "median us", "algbw GB/s",
                "busbw GB/s");
  }
  for (const Case& c : cases) {
    graphrun::AlignedFloats data = graphrun::allocate_aligned(c.floats);
    // Rank r contributes r + 1 everywhere: the sum is N (N + 1) / 2, exact in float.
    std::fill_n(data.get(), c.floats, static_cast<float>(comm.rank() + 1));
    comm.start(0, data.get(), c.floats);
    comm.wait(0);
    const float want = static_cast<float>(n * (n + 1) / 2);
    for (size_t i = 0; i < c.floats; ++i) {
      if (data[i] != want) {
        std::fprintf(stderr, "allreduce_bench: element %zu is %g, expected %g\n", i, data[i], want);
        comm.abort(1, "wrong sum");
      }
    }
    std::vector<double> us;
    for (int r = 0; r < reps + 5; ++r) {
      double barrier = 0;
      comm.allreduce_sum(&barrier, 1);  // start together
      const auto t0 = std::chrono::steady_clock::now();
      comm.start(0, data.get(), c.floats);
      comm.wait(0);
      const double t = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
      if (r >= 5) us.push_back(t);
    }
    // The slowest rank decides the step.
    comm.allreduce_max(us.data(), us.size());
    std::sort(us.begin(), us.end());
    const double median = us[us.size() / 2], bytes = static_cast<double>(c.floats) * sizeof(float);
    if (comm.rank() == 0) {
      std::printf("%-40s %10zu %10.1f %10.1f %12.2f %12.2f\n", c.what, c.floats, us.front(), median,
                  bytes / median / 1e3, 2.0 * (n - 1) / n * bytes / median / 1e3);
    }
  }
  return 0;
}
