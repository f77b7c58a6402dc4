// The ONNX subcommands (built with GRAPHRUN_WITH_ONNX): import, export, run. Each cmd_*.cc
// defines its Command (command_line.h); main.cc adds them to the list.
#pragma once

#include "tools/graphrun/command_line.h"

namespace graphrun::tool {

Command import_command();
Command export_command();
Command run_command();

}  // namespace graphrun::tool
