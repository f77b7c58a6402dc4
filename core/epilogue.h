// Epilogue: work a GEMM does to its result on the way out, while the result is in cache.
#pragma once

struct graphrun_activation;

namespace graphrun {

// What a MatMul kernel does to its product on the way out, in this order: y[r,c] += bias[c],
// then y = activation(y). Program::compile fuses a bias add and an elementwise activation that
// nothing else reads into the MatMul before them (see Backend::fuses_epilogue); the results
// equal those of the separate nodes.
struct Epilogue {
  const float* bias = nullptr;                      // [cols], or none
  const graphrun_activation* activation = nullptr;  // GRAPHRUN_ACTIVATION_ELEMENTWISE, or none
  const double* activation_params = nullptr;
};

}  // namespace graphrun
