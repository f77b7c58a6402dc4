// Epilogue: work a GEMM does to its result on the way out, while the result is in cache.
#pragma once

#include <cstdint>

struct graphrun_activation;

namespace graphrun {

// What a MatMul kernel does to its product C on the way out, block by block as each block's
// sums complete. Program::compile fuses into the MatMul the nodes that read its result (see
// Backend::fuses_epilogue); the results equal those of the separate nodes. Either
//   forward:  C[r,c] += bias[c], then y = activation(C): in place, or into activation_out
//             (C then keeps the pre-activation, which training's activation gradient reads);
//   backward: C holds dy, the gradient of an activation's output y = f(x); it becomes
//             activation.backward(x, fx, dy) in place (set by backward_x and backward_fx).
// The arrays other than bias are laid out like C (same row stride).
struct Epilogue {
  const float* bias = nullptr;                      // [cols], or none
  const graphrun_activation* activation = nullptr;  // GRAPHRUN_ACTIVATION_ELEMENTWISE, or none
  const double* activation_params = nullptr;
  float* activation_out = nullptr;     // forward: nullptr = in place
  const float* backward_x = nullptr;   // backward: the activation's input
  const float* backward_fx = nullptr;  // and output

  // The epilogue of the sub-matrix of C starting at (row0, col0), ld being C's row stride.
  Epilogue at(int64_t row0, int64_t col0, int64_t ld) const {
    Epilogue e = *this;
    const int64_t offset = row0 * ld + col0;
    if (e.bias) e.bias += col0;
    if (e.activation_out) e.activation_out += offset;
    if (e.backward_x) e.backward_x += offset;
    if (e.backward_fx) e.backward_fx += offset;
    return e;
  }
};

}  // namespace graphrun
