#include "train/checkpoint.h"

#include <fmt/format.h>
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <set>
#include <string_view>

#include "core/error.h"
#include "io/atomic_file.h"
#include "io/quote.h"

namespace graphrun::train {
namespace {

constexpr std::string_view kOptimizerPrefix = "optimizer/";
constexpr std::string_view kBestPrefix = "best/";
constexpr const char* kScalerOffset = "scaler/offset";
constexpr const char* kScalerScale = "scaler/scale";

[[noreturn]] void bad(const std::string& path, const std::string& what) {
  throw Error(ErrorKind::BadInput, fmt::format("{}: {}", path, what));
}

using TensorList = std::vector<std::pair<std::string, const Tensor*>>;

TensorList parameter_tensors(const ParameterStore& params, const io::Scaler* scaler) {
  TensorList list;
  for (size_t i = 0; i < params.size(); ++i) list.emplace_back(params.name(i), &params.tensor(i));
  if (scaler && scaler->offset.numel() > 0) {
    list.emplace_back(kScalerOffset, &scaler->offset);
    list.emplace_back(kScalerScale, &scaler->scale);
  }
  return list;
}

std::map<std::string, std::string> scaler_metadata(const io::Scaler* scaler) {
  std::map<std::string, std::string> meta{{"format", "graphrun"}};
  if (scaler && scaler->offset.numel() > 0) meta["scaling"] = io::to_string(scaler->kind);
  return meta;
}

const std::string& meta(const io::SafetensorsFile& f, const std::string& path, const std::string& key) {
  auto it = f.metadata.find(key);
  if (it == f.metadata.end()) bad(path, fmt::format("__metadata__ has no \"{}\"; not a graphrun checkpoint", key));
  return it->second;
}

// An optional finite number in __metadata__ (absent: fallback).
double meta_number(const io::SafetensorsFile& f, const std::string& path, const std::string& key, double fallback) {
  auto it = f.metadata.find(key);
  if (it == f.metadata.end()) return fallback;
  const std::string& s = it->second;
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (s.empty() || *end != '\0' || !std::isfinite(v)) {
    bad(path, fmt::format("__metadata__.{}: expected a finite number, got \"{}\"", key, s.substr(0, 40)));
  }
  return v;
}

template <class T>
T meta_integer(const io::SafetensorsFile& f, const std::string& path, const std::string& key) {
  const std::string& s = meta(f, path, key);
  T v{};
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) {
    bad(path, fmt::format("__metadata__.{}: expected an integer, got \"{}\"", key, s.substr(0, 40)));
  }
  return v;
}

// A NaN or infinity in a loaded tensor is bad input: training or predicting from it would
// only spread it.
void require_finite(const std::string& path, const std::string& name, const Tensor& t) {
  const std::span<const float> v = t.span();
  for (size_t i = 0; i < v.size(); ++i) {
    if (!std::isfinite(v[i])) {
      bad(path, fmt::format("tensor {} element {} is {}, expected finite values", io::quote_text(name), i, v[i]));
    }
  }
}

}  // namespace

// Copies the parameters and the scaler of f into params / scaler. Optimizer tensors are left
// to the caller. Every parameter must be present with its shape; other names are errors.
bool apply_weights(const io::SafetensorsFile& f, const std::string& path, ParameterStore& params, io::Scaler* scaler) {
  std::set<std::string> seen;
  const Tensor* offset = nullptr;
  const Tensor* scale = nullptr;
  for (const auto& [name, t] : f.tensors) {
    if (name.starts_with(kOptimizerPrefix) || name.starts_with(kBestPrefix)) continue;
    if (name == kScalerOffset) {
      offset = &t;
      continue;
    }
    if (name == kScalerScale) {
      scale = &t;
      continue;
    }
    if (!params.contains(name)) {
      std::string known;
      for (size_t i = 0; i < params.size(); ++i) known += (i ? ", " : "") + params.name(i);
      bad(path,
          fmt::format("tensor {} is not a parameter of the model (its parameters: {})", io::quote_text(name), known));
    }
    require_finite(path, name, t);
    params.assign(name, t, path);
    seen.insert(name);
  }
  for (size_t i = 0; i < params.size(); ++i) {
    if (!seen.count(params.name(i))) {
      bad(path, fmt::format("no tensor for the model's parameter '{}' (shape {})", params.name(i),
                            params.tensor(i).shape().str()));
    }
  }
  if (!offset != !scale) bad(path, "holds only one of scaler/offset and scaler/scale");
  if (!offset) return false;
  if (offset->shape().rank() != 1 || offset->shape() != scale->shape()) {
    throw Error(ErrorKind::Shape, fmt::format("{}: scaler/offset {} and scaler/scale {} must be two [D] vectors", path,
                                              offset->shape().str(), scale->shape().str()));
  }
  require_finite(path, kScalerOffset, *offset);
  require_finite(path, kScalerScale, *scale);
  if (scaler) {
    auto it = f.metadata.find("scaling");
    scaler->kind = it == f.metadata.end() ? io::Scaling::MinMax : io::parse_scaling(it->second);
    scaler->offset = *offset;
    scaler->scale = *scale;
  }
  return true;
}

void save_weights(const std::string& path, const ParameterStore& params, const io::Scaler* scaler,
                  const WeightsOrigin* origin) {
  std::map<std::string, std::string> meta = scaler_metadata(scaler);
  if (origin) {
    meta["model_hash"] = fmt::format("{:016x}", origin->model_hash);
    meta["epoch"] = std::to_string(origin->epoch);
    meta["step"] = std::to_string(origin->step);
  }
  io::write_safetensors(path, parameter_tensors(params, scaler), meta);
}

void save_checkpoint(const std::string& path, const ParameterStore& params, Optimizer& optimizer,
                     const io::Scaler* scaler, const TrainingState& state) {
  TensorList list = parameter_tensors(params, scaler);
  std::vector<std::pair<std::string, Tensor*>> slots = optimizer.state();
  std::vector<std::string> names;
  names.reserve(slots.size());
  for (const auto& [name, t] : slots) names.push_back(std::string(kOptimizerPrefix) + name);
  for (size_t i = 0; i < slots.size(); ++i) list.emplace_back(names[i], slots[i].second);
  const FitState& fit = state.fit;
  if (fit.best_params.size() == params.size()) {
    for (size_t i = 0; i < params.size(); ++i)
      list.emplace_back(std::string(kBestPrefix) + params.name(i), &fit.best_params[i]);
  }
  std::map<std::string, std::string> meta = scaler_metadata(scaler);
  meta["checkpoint_version"] = std::to_string(kCheckpointFormatVersion);
  meta["model_hash"] = fmt::format("{:016x}", state.model_hash);
  meta["epoch"] = std::to_string(state.epoch);
  meta["batch"] = std::to_string(state.batch);
  meta["step"] = std::to_string(state.step);
  if (state.batch > 0) {
    meta["epoch_loss_sum"] = fmt::format("{}", state.epoch_loss_sum);  // shortest exact form
    meta["epoch_correct"] = std::to_string(state.epoch_correct);
    meta["epoch_seen"] = std::to_string(state.epoch_seen);
  }
  meta["learning_rate"] = fmt::format("{}", state.learning_rate);
  meta["seed"] = std::to_string(state.seed);
  meta["optimizer"] = state.optimizer;
  meta["fit.plateau_scale"] = fmt::format("{}", fit.plateau_scale);
  meta["fit.plateau_best"] = fmt::format("{}", fit.plateau_best);
  meta["fit.plateau_has_best"] = std::to_string(int{fit.plateau_has_best});
  meta["fit.plateau_wait"] = std::to_string(fit.plateau_wait);
  meta["fit.stop_best"] = fmt::format("{}", fit.stop_best);
  meta["fit.stop_best_epoch"] = std::to_string(fit.stop_best_epoch);
  meta["fit.stop_wait"] = std::to_string(fit.stop_wait);
  io::write_safetensors(path, list, meta);
}

bool load_weights(const std::string& path, ParameterStore& params, io::Scaler* scaler) {
  io::SafetensorsFile f = io::read_safetensors(path);
  return apply_weights(f, path, params, scaler);
}

Checkpoint read_checkpoint(const std::string& path, uint64_t expected_model_hash) {
  return parse_checkpoint(io::read_file(path, io::kSafetensorsMaxFileBytes), path, expected_model_hash);
}

Checkpoint parse_checkpoint(std::span<const std::byte> bytes, const std::string& path, uint64_t expected_model_hash) {
  Checkpoint c;
  c.path = path;
  c.file = io::parse_safetensors(bytes, path);
  const int version = meta_integer<int>(c.file, path, "checkpoint_version");
  if (version != kCheckpointFormatVersion) {
    bad(path,
        fmt::format("checkpoint format version {}, this graphrun reads version {}", version, kCheckpointFormatVersion));
  }
  TrainingState& s = c.state;
  const std::string& hash = meta(c.file, path, "model_hash");
  s.model_hash = std::strtoull(hash.c_str(), nullptr, 16);
  if (fmt::format("{:016x}", expected_model_hash) != hash) {
    bad(path, fmt::format("the checkpoint was written for another model (model hash {}, this model's is {:016x}): "
                          "the layers, loss or optimizer differ",
                          hash.substr(0, 40), expected_model_hash));
  }
  s.epoch = meta_integer<int64_t>(c.file, path, "epoch");
  s.batch = meta_integer<int64_t>(c.file, path, "batch");
  s.step = meta_integer<uint64_t>(c.file, path, "step");
  s.seed = meta_integer<uint64_t>(c.file, path, "seed");
  s.optimizer = meta(c.file, path, "optimizer");
  const std::string& lr = meta(c.file, path, "learning_rate");
  char* end = nullptr;
  s.learning_rate = std::strtod(lr.c_str(), &end);
  if (lr.empty() || *end != '\0' || !(s.learning_rate > 0) || !std::isfinite(s.learning_rate)) {
    bad(path,
        fmt::format("__metadata__.learning_rate: expected a finite positive number, got \"{}\"", lr.substr(0, 40)));
  }
  if (s.epoch < 0 || s.batch < 0) bad(path, "__metadata__: negative epoch or batch position");
  if (c.file.metadata.count("fit.plateau_scale")) {
    FitState& fit = s.fit;
    fit.plateau_scale = meta_number(c.file, path, "fit.plateau_scale", 1.0);
    fit.plateau_best = meta_number(c.file, path, "fit.plateau_best", 0.0);
    fit.plateau_has_best = meta_integer<int>(c.file, path, "fit.plateau_has_best") != 0;
    fit.plateau_wait = meta_integer<int64_t>(c.file, path, "fit.plateau_wait");
    fit.stop_best = meta_number(c.file, path, "fit.stop_best", 0.0);
    fit.stop_best_epoch = meta_integer<int64_t>(c.file, path, "fit.stop_best_epoch");
    fit.stop_wait = meta_integer<int64_t>(c.file, path, "fit.stop_wait");
    if (!(fit.plateau_scale > 0 && fit.plateau_scale <= 1) || fit.plateau_wait < 0 || fit.stop_wait < 0 ||
        fit.stop_best_epoch < 0 || fit.stop_best_epoch > s.epoch) {
      bad(path, fmt::format("__metadata__.fit.*: expected plateau_scale in (0, 1], waits >= 0 and stop_best_epoch in "
                            "[0, epoch {}], got {}, {}, {}, {}",
                            s.epoch, fit.plateau_scale, fit.plateau_wait, fit.stop_wait, fit.stop_best_epoch));
    }
  }
  s.has_epoch_sums = c.file.metadata.count("epoch_seen") > 0;
  if (s.has_epoch_sums) {
    s.epoch_seen = meta_integer<int64_t>(c.file, path, "epoch_seen");
    s.epoch_correct = meta_integer<int64_t>(c.file, path, "epoch_correct");
    const std::string& sum = meta(c.file, path, "epoch_loss_sum");
    s.epoch_loss_sum = std::strtod(sum.c_str(), &end);
    if (sum.empty() || *end != '\0' || !(s.epoch_loss_sum >= 0) || !std::isfinite(s.epoch_loss_sum)) {
      bad(path,
          fmt::format("__metadata__.epoch_loss_sum: expected a finite number >= 0, got \"{}\"", sum.substr(0, 40)));
    }
    if (s.epoch_seen < 0 || s.epoch_correct < 0 || s.epoch_correct > s.epoch_seen) {
      bad(path, fmt::format("__metadata__: epoch_correct {} and epoch_seen {} must satisfy 0 <= correct <= seen",
                            s.epoch_correct, s.epoch_seen));
    }
  }
  return c;
}

void restore_checkpoint(const Checkpoint& c, ParameterStore& params, Optimizer& optimizer, io::Scaler* scaler,
                        FitState* fit) {
  if (c.state.optimizer != optimizer.name()) {
    bad(c.path, fmt::format("the checkpoint was written with optimizer '{}', the model uses '{}'", c.state.optimizer,
                            optimizer.name()));
  }
  apply_weights(c.file, c.path, params, scaler);
  std::map<std::string, const Tensor*> saved;
  for (const auto& [name, t] : c.file.tensors) {
    if (name.starts_with(kOptimizerPrefix)) saved[name.substr(kOptimizerPrefix.size())] = &t;
  }
  std::vector<std::pair<std::string, Tensor*>> slots = optimizer.state();
  if (saved.size() != slots.size()) {
    bad(c.path, fmt::format("holds {} optimizer state tensors, the optimizer has {}", saved.size(), slots.size()));
  }
  for (auto& [name, t] : slots) {
    auto it = saved.find(name);
    if (it == saved.end()) bad(c.path, fmt::format("no optimizer state tensor 'optimizer/{}'", name));
    if (it->second->shape() != t->shape()) {
      throw Error(ErrorKind::Shape, fmt::format("{}: optimizer/{} has shape {}, the model expects {}", c.path, name,
                                                it->second->shape().str(), t->shape().str()));
    }
    require_finite(c.path, "optimizer/" + name, *it->second);
    // Copy in place: the optimizer's step kernel holds pointers to this storage.
    std::copy(it->second->span().begin(), it->second->span().end(), t->span().begin());
  }
  optimizer.set_steps(c.state.step);
  if (!fit) return;
  *fit = c.state.fit;
  fit->best_params.clear();
  std::map<std::string, const Tensor*> best;
  for (const auto& [name, t] : c.file.tensors) {
    if (name.starts_with(kBestPrefix)) best[name.substr(kBestPrefix.size())] = &t;
  }
  if (best.empty()) return;
  for (size_t i = 0; i < params.size(); ++i) {
    const std::string name = std::string(kBestPrefix).append(params.name(i));
    auto it = best.find(params.name(i));
    if (it == best.end() || it->second->shape() != params.tensor(i).shape()) {
      throw Error(ErrorKind::Shape, fmt::format("{}: {}: missing or not of the parameter's shape {}", c.path, name,
                                                params.tensor(i).shape().str()));
    }
    require_finite(c.path, name, *it->second);
    fit->best_params.push_back(*it->second);
  }
  if (best.size() != params.size())
    bad(c.path, fmt::format("holds {} best/ tensors, the model has {} parameters", best.size(), params.size()));
}

}  // namespace graphrun::train
