// The image ops on oneDNN 2.6 primitives (NCHW, plain layouts, so the arena's buffers are used
// as they are): convolution forward, backward data and backward weights; pooling forward and
// backward (max and average, with or without padding counted); global average pooling as a
// pooling over the whole plane; the channel bias as a broadcast binary add. sum_channels (the bias
// gradient) is declined: oneDNN 2.6's reduction over batch and plane is ~300x slower than Highway's. A max-pool
// gradient runs the forward pooling again into a workspace it owns (oneDNN's backward max pooling reads the forward's
// workspace, which the graph does not keep).
#pragma once

#include <memory>
#include <string>

#include "core/backend.h"

namespace graphrun::onednn {

// A kernel for Conv2d(GradInput, GradWeight), AddChannels, SumChannels and the pools, or
// nullptr with *why_not set.
std::unique_ptr<Kernel> prepare_image_op(const NodeContext& c, std::string* why_not);

}  // namespace graphrun::onednn
