// Compile stage 2, epilogue fusion: the nodes that read a MatMul's result and that its
// kernel can compute on the way out (core/epilogue.h), so they run no kernel of their own.
//
//   forward:  MatMul -> bias Add [-> elementwise Activation]. The MatMul's result is read by the
//             Add alone. When the Add's result is read by the Activation alone, the chain
//             shares the Activation's buffer (activation in place); otherwise (training: the
//             activation's gradient reads the pre-activation) the Add's buffer holds the
//             pre-activation and the Activation writes its own.
//   backward: MatMul -> elementwise ActivationGrad that reads the MatMul's result as dy, its x
//             and f(x) computed earlier: the gradient is made in place in the ActivationGrad's
//             buffer.
// Only where the MatMul's backend says fuses_epilogue, and never across a pinned node.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/function_ref.h"
#include "core/graph.h"
#include "core/schedule.h"

namespace graphrun {

struct FusedNodes {
  NodeId bias = kNoNode;             // forward: the bias vector's node
  NodeId activation = kNoNode;       // forward: the Activation node
  bool activation_in_place = false;  //   computed in the chain's shared buffer
  NodeId activation_grad = kNoNode;  // backward: the ActivationGrad node
};

struct FusionPlan {
  std::vector<NodeId> fused_into;  // by node: the MatMul that computes it, or kNoNode
  std::vector<FusedNodes> of;      // by node: what a MatMul computes besides its product
};

// Updates s: a fused node's step becomes its MatMul's (when its value is written) and the
// nodes of a chain that share a buffer get that buffer's root. fuses(matmul): whether the
// backend the MatMul would run on fuses epilogues.
FusionPlan plan_fusion(const Graph& g, Schedule& s, const std::map<std::string, std::string>& pinned,
                       FunctionRef<bool(const Node&)> fuses);

}  // namespace graphrun
