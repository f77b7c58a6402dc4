// Weights and checkpoints as safetensors files (readable by any safetensors tool).
//
// A weights file holds every parameter by name ("dense0.weight", ...) and, when the data were
// scaled, the fitted scaler ("scaler/offset", "scaler/scale": [D] each, so a weights file alone
// is enough to predict). A checkpoint holds the same plus the optimizer state
// ("optimizer/<parameter>/<slot>") and, in __metadata__, everything needed to continue
// training exactly: format version, model hash, epochs completed, batch position in the
// epoch with the epoch's running loss/accuracy sums, optimizer step, name and learning rate,
// the shuffle seed and the scaling kind.
// Files are written atomically (io::write_safetensors).
//
// Loading checks every name and shape against the model: a missing parameter, an unknown
// tensor or a shape mismatch is an Error (BadInput or Shape) naming the file and the tensor.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "core/parameters.h"
#include "io/safetensors.h"
#include "io/scaling.h"
#include "train/fit_state.h"
#include "train/optimizer.h"

namespace graphrun::train {

inline constexpr int kCheckpointFormatVersion = 1;

struct TrainingState {
  int64_t epoch = 0;  // epochs completed
  int64_t batch = 0;  // batches completed in the current epoch (0 at an epoch boundary)
  // The current epoch's running sums over those batches (Trainer's EpochProgress), so a
  // mid-epoch resume reports the same epoch loss and accuracy. Absent from checkpoints written
  // at epoch ends (or by hand): has_epoch_sums false, sums 0 (the resumed epoch's figures
  // then cover only its remaining batches).
  bool has_epoch_sums = false;
  double epoch_loss_sum = 0.0;
  int64_t epoch_correct = 0, epoch_seen = 0;
  uint64_t step = 0;  // optimizer steps taken
  double learning_rate = 0.0;
  uint64_t seed = 0;
  std::string optimizer;
  uint64_t model_hash = 0;
  // Reduce-on-plateau and early-stopping state (__metadata__ "fit.*", best parameters as
  // tensors "best/<parameter>"); absent: a new run's.
  FitState fit;
};

// Where trained weights come from, written in a weights file's __metadata__ ("model_hash" as 16
// hex digits, "epoch", "step") so a folder's weights can be matched with its checkpoint.
struct WeightsOrigin {
  uint64_t model_hash = 0;
  int64_t epoch = 0;  // epochs completed
  uint64_t step = 0;  // optimizer steps taken
};

void save_weights(const std::string& path, const ParameterStore& params, const io::Scaler* scaler,
                  const WeightsOrigin* origin = nullptr);
void save_checkpoint(const std::string& path, const ParameterStore& params, Optimizer& optimizer,
                     const io::Scaler* scaler, const TrainingState& state);

// Copies a weights file's (or checkpoint's) parameters into params; fills *scaler when the file
// holds one (and scaler is non-null). Returns whether a scaler was found. Every value must be
// finite (a NaN or infinite weight is BadInput naming the tensor).
bool load_weights(const std::string& path, ParameterStore& params, io::Scaler* scaler);
// The same from a file already read; `path` names it in messages. Optimizer tensors are ignored.
bool apply_weights(const io::SafetensorsFile& file, const std::string& path, ParameterStore& params,
                   io::Scaler* scaler);

// A checkpoint read and validated against the model hash, not yet applied.
struct Checkpoint {
  std::string path;
  io::SafetensorsFile file;
  TrainingState state;
};
Checkpoint read_checkpoint(const std::string& path, uint64_t expected_model_hash);
// The same from the file's bytes (the fuzzers' entry point); `path` names it in messages.
Checkpoint parse_checkpoint(std::span<const std::byte> bytes, const std::string& path, uint64_t expected_model_hash);
// Applies parameters, optimizer state (slots, step) and scaler. The optimizer must be the one
// the checkpoint was written with (checked by name). Fills *fit (when non-null) with the
// checkpoint's fit state, its best parameters checked against the model.
void restore_checkpoint(const Checkpoint& ckpt, ParameterStore& params, Optimizer& optimizer, io::Scaler* scaler,
                        FitState* fit = nullptr);

}  // namespace graphrun::train
