// The ONNX subcommands (built with GRAPHRUN_WITH_ONNX): import, export, run. One option struct
// and one Command each (tools/graphrun/command_line.h); main.cc lists them.
#pragma once

#include <optional>
#include <string>

#include "tools/graphrun/commands.h"

namespace graphrun::tool {

struct ImportArgs {
  CommonArgs common;
  std::string model, out_dir;  // MODEL.onnx -> out_dir/model.json, out_dir/weights.safetensors
};

struct ExportArgs {
  CommonArgs common;
  std::string model, weights, out;
  int64_t opset = 17;
};

struct RunArgs {
  CommonArgs common;
  std::string model, weights;  // weights optional for an .onnx model (its initializers)
  std::string inputs, out;     // .safetensors (tensors by input name) or .npy (one input)
};

Command import_command();
Command export_command();
Command run_command();

}  // namespace graphrun::tool
