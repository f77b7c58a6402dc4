// Shared steps of the graphrun subcommands: plugins, the model file, data sets and scaling,
// building the model, class names, printing helpers. Errors are graphrun::Error.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/parameters.h"
#include "core/plugin_host.h"
#include "io/dataset.h"
#include "io/model_file.h"
#include "io/scaling.h"
#include "tools/graphrun/commands.h"
#include "train/model.h"
#include "train/trainer.h"

namespace graphrun::tool {

// A model path naming an ONNX file (".onnx"): open_model imports it (with GRAPHRUN_WITH_ONNX),
// and open_with_weights takes `--weights` equal to it as "the file's own weights".
bool is_onnx(const std::string& path);

// A missing file the user named is bad input (exit 2), not an I/O failure.
void require_file(const std::string& path, const std::string& where);

// The process-wide registry, loaded from the search path with the --plugin-dir folders first.
PluginRegistry& load_plugins(const CommonArgs& common);

// A model file read and checked against the plugins, with its graph built.
struct Session {
  io::ModelFile file;
  train::Model model;
  ParameterStore params;
  int64_t classes = 0;        // the output layer's units
  int32_t forward_nodes = 0;  // graph size before a Trainer appends the backward pass
};
std::unique_ptr<Session> open_model(const std::string& path, const PluginRegistry& plugins, uint64_t seed);

// The model file's training / test set (first `limit` rows when limit >= 0), checked against
// the model (feature count, labels < classes). Errors name the model file and data.* key.
io::Dataset load_train_set(const Session& s, int64_t limit);
io::Dataset load_test_set(const Session& s, int64_t limit);  // empty when the file has none
// Files given on the command line: one CSV (label column and header from the model file's
// data section), or IDX images and labels. `option` names the flag in messages.
io::Dataset load_data_files(const Session& s, const std::vector<std::string>& files, const std::string& option,
                            int64_t limit);
// Unlabelled features for predict: a CSV (all columns features) or an IDX images file.
Tensor load_features(const Session& s, const std::string& path, bool header);

// The scaling the model file asks for, fitted on `train`.
io::Scaler fit_model_scaler(const Session& s, const io::Dataset& train);
// A scaler stored in a weights file must fit the model's inputs (BadInput naming the file).
void check_weights_scaler(const Session& s, bool weights_had_scaler, const io::Scaler& from_weights,
                          const std::string& weights_path);
// eval and predict: loads the plugins and the model file, checks the backend name, and loads
// trained weights (and the scaler they carry, if any) into the session's parameters.
std::unique_ptr<Session> open_with_weights(const CommonArgs& common, const std::string& model,
                                           const std::string& weights, bool* had_scaler, io::Scaler* from_weights);
// The scaler of a weights file, or (when it holds none) fitted on the model file's training
// data; an error when neither is possible and the model asks for scaling.
io::Scaler scaler_for_inference(const Session& s, bool weights_had_scaler, io::Scaler from_weights);

// Fashion-MNIST's class names when the data come from fashion-mnist and there are 10 classes,
// otherwise "0", "1", ...
std::vector<std::string> class_names(const io::ModelFile& m, int64_t classes);

// The thread count for --threads `requested`: 0 gives the CPUs this process may use
// (core/cpu_info.h); more than those is capped to them with a one-line notice on stderr.
int process_threads(int requested);

// The model file's training settings with the command line's backend and thread count.
train::TrainConfig base_config(const Session& s, const CommonArgs& common);

}  // namespace graphrun::tool
