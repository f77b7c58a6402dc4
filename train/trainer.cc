#include "train/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <numeric>
#include <random>

#include "backends/registry.h"
#include "core/error.h"
#include "ops/autodiff.h"
#include "train/data_parallel.h"

namespace graphrun::train {
namespace {

// The visiting order of epoch e: a Fisher-Yates shuffle seeded by (seed, epoch) alone, with
// our own index draw so every platform gives the same order.
void epoch_order(std::vector<int64_t>& order, uint64_t seed, int64_t epoch, bool shuffle) {
  std::iota(order.begin(), order.end(), int64_t{0});
  if (!shuffle) return;
  std::mt19937_64 rng(seed_for(seed, "epoch " + std::to_string(epoch)));
  for (size_t i = order.size(); i > 1; --i) {
    const uint64_t j = rng() % i;  // modulo bias is below 2^-40 for any data set we can hold
    std::swap(order[i - 1], order[j]);
  }
}

int64_t argmax(const float* row, int64_t n) {
  int64_t best = 0;
  for (int64_t i = 1; i < n; ++i) {
    if (row[i] > row[best]) best = i;
  }
  return best;
}

// The largest batch whose weight gradients the optimizer makes block by block (see product()).
constexpr int64_t kMaxFusedBatch = 64;

// The truth of row r as the loss's targets [c]: the float targets when the data have them,
// else the class label one-hot (one output: the label itself, 0 or 1).
void truth_row(const io::Dataset& data, int64_t r, int64_t c, float* y) {
  if (data.has_targets()) {
    std::memcpy(y, data.targets.data() + r * c, static_cast<size_t>(c) * sizeof(float));
    return;
  }
  const int32_t label = data.labels[static_cast<size_t>(r)];
  if (c == 1) {
    y[0] = static_cast<float>(label);
    return;
  }
  std::fill(y, y + c, 0.0f);
  y[label] = 1.0f;
}

// Whether the output row of sample r is right: the label is the row's argmax (cross-entropy),
// or every label's probability is on its side of 0.5 (binary_cross_entropy). Regression has
// no accuracy.
bool correct_row(const Model& m, const io::Dataset& data, int64_t r, const float* out, int64_t c) {
  if (m.loss_kind == Loss::CrossEntropy || (m.loss_kind == Loss::MeanSquaredError && !data.has_targets())) {
    return argmax(out, c) == data.labels[static_cast<size_t>(r)];
  }
  if (m.loss_kind != Loss::BinaryCrossEntropy) return false;
  for (int64_t j = 0; j < c; ++j) {
    const bool truth = data.has_targets() ? data.targets.data()[r * c + j] >= 0.5f
                                          : (c == 1 ? data.labels[static_cast<size_t>(r)] == 1
                                                    : data.labels[static_cast<size_t>(r)] == j);
    if ((out[j] >= 0.5f) != truth) return false;
  }
  return true;
}

// Regression losses have no accuracy (NaN); MSE on class labels keeps its argmax accuracy.
bool has_accuracy(const Model& m, const io::Dataset& data) {
  return !(is_regression(m.loss_kind) && data.has_targets());
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

Trainer::Trainer(Model& model, ParameterStore& params, const TrainConfig& config, const PluginRegistry& plugins)
    : model_(model), params_(params), config_(config), pool_(std::make_unique<ThreadPool>(config.threads)) {
  if (config.batch_size <= 0) {
    throw Error(ErrorKind::BadInput,
                config.context + ": batch size must be positive, got " + std::to_string(config.batch_size));
  }
  const std::vector<NodeId> trainable = model.trainable();
  if (model.gradients.empty() && !trainable.empty())
    model.gradients = ops::gradients(model.graph, model.loss, trainable);
  grads_ = model.gradients;
  std::vector<std::string> names;
  for (NodeId id : trainable) names.push_back(model.graph.node(id).name);
  const LoadedOptimizer& opt = [&]() -> const LoadedOptimizer& {
    try {
      return plugins.optimizer(config.optimizer);
    } catch (const Error& e) {
      throw Error(e.kind(), config.context + ": optimizer: " + e.what());
    }
  }();
  optimizer_ =
      std::make_unique<Optimizer>(opt, config.optimizer_params, config.learning_rate, params, names, config.context);

  run_state_.seed = config.seed;
  for (NodeId id : trainable) grad_sizes_.push_back(model.graph.shape(id).numel());
  // Clipping reads and rewrites every gradient: none may be left to the optimizer as a product.
  if (config.clip_norm > 0 || config.clip_value > 0) fuse_weight_gradients_ = false;
  eval_programs_ = std::make_unique<ProgramCache>(model.graph, params, options({model.loss, model.output}, false));
}

// Training steps run in training mode and read run_state_ (set before each step); evaluation
// and prediction run in inference mode.
CompileOptions Trainer::options(std::vector<NodeId> outputs, bool training) {
  CompileOptions o{{}, {}, pool_.get(), std::move(outputs), config_.max_arena_bytes};
  backends::select(config_.backend, o);
  o.training = training;
  o.run_state = &run_state_;
  return o;
}

Trainer::~Trainer() = default;

TrainingStep& Trainer::training_step(int64_t batch) {
  auto it = train_steps_.find(batch);
  if (it != train_steps_.end()) return it->second;
  const Graph& g = model_.graph;
  // A weight gradient x^T dz that nothing else reads can be left to the optimizer, which makes
  // it block by block inside its update (Optimizer::step): at batch size 1 through the plugin's
  // step_outer, otherwise through the backend's serial GEMM (Backend::serial_gemm), when the
  // backend that would have made it has one.
  const SerialGemm serial_gemm = backends::chain(config_.backend).front()->serial_gemm();
  auto product = [&](NodeId grad) {
    const Node& n = g.node(grad);
    if (!fuse_weight_gradients_ || n.op != OpKind::MatMul || !n.trans_a || n.trans_b) return false;
    if (!g.shape(n.inputs[0]).has_batch()) return false;
    const bool outer = batch == 1 && optimizer_->fuses_outer_products();
    // A single column is a GEMV in the GEMM, which sums in another order than the blocks.
    // Above a batch of 64 the blocks' GEMMs lose more (B is packed per block, or read in place
    // by few rows) than the saved pass over dW gains: 3 % slower at 256 on one thread.
    const bool blocks = serial_gemm && batch <= kMaxFusedBatch && (batch == 1 || g.shape(grad)[1] >= 2);
    if (!outer && !blocks) return false;
    for (NodeId id = 0; id < static_cast<NodeId>(g.size()); ++id) {
      for (NodeId in : g.node(id).inputs) {
        if (in == grad) return false;
      }
    }
    return true;
  };
  TrainingStep step;
  std::vector<NodeId> outputs{model_.loss, model_.output};
  std::vector<bool> fused(grads_.size());
  for (size_t i = 0; i < grads_.size(); ++i) {
    fused[i] = product(grads_[i]);
    if (fused[i]) {
      outputs.push_back(g.node(grads_[i]).inputs[0]);
      outputs.push_back(g.node(grads_[i]).inputs[1]);
    } else {
      outputs.push_back(grads_[i]);
    }
  }
  step.program = Program::compile(g, params_, batch, options(outputs, true));
  for (size_t i = 0; i < grads_.size(); ++i) {
    GradientRef r;
    if (fused[i]) {
      r.x = step.program->value(g.node(grads_[i]).inputs[0]).data;
      r.dz = step.program->value(g.node(grads_[i]).inputs[1]).data;
      r.batch = batch;
      ++step.fused;
    } else {
      r.data = step.program->value(grads_[i]).data;
    }
    step.gradients.push_back(r);
  }
  if (step.fused > 0) optimizer_->reserve_products(pool_->size(), serial_gemm);
  return train_steps_.emplace(batch, std::move(step)).first->second;
}

void Trainer::clip_gradients(std::span<const GradientRef> gradients) const {
  // The gradients live in the step's program (or the data-parallel sums): writable buffers the
  // optimizer reads next.
  auto each = [&](auto f) {
    for (size_t i = 0; i < gradients.size(); ++i) {
      if (gradients[i].data) f(const_cast<float*>(gradients[i].data), grad_sizes_[i]);
    }
  };
  if (config_.clip_value > 0) {
    const float v = static_cast<float>(config_.clip_value);
    each([v](float* g, int64_t n) {
      for (int64_t j = 0; j < n; ++j) g[j] = std::clamp(g[j], -v, v);
    });
  }
  if (config_.clip_norm > 0) {
    double sq = 0.0;
    each([&sq](float* g, int64_t n) {
      for (int64_t j = 0; j < n; ++j) sq += static_cast<double>(g[j]) * g[j];
    });
    const double norm = std::sqrt(sq);
    if (norm > config_.clip_norm) {
      const float f = static_cast<float>(config_.clip_norm / norm);
      each([f](float* g, int64_t n) {
        for (int64_t j = 0; j < n; ++j) g[j] *= f;
      });
    }
  }
}

void Trainer::apply_gradients(std::span<const GradientRef> gradients) {
  if (step_hook_) step_hook_(optimizer_->steps(), *optimizer_);
  if (config_.clip_norm > 0 || config_.clip_value > 0) clip_gradients(gradients);
  optimizer_->step(gradients, *pool_);
}

void Trainer::set_data_parallel(DataParallel* dp) {
  dp_ = dp;
  fuse_weight_gradients_ = dp == nullptr && !(config_.clip_norm > 0 || config_.clip_value > 0);
  train_steps_.clear();  // compiled (if at all) for one process
  grad_pointers_.assign(grads_.size(), nullptr);
  summed_.assign(grads_.size(), GradientRef{});
}

void Trainer::load_batch(Program& p, const io::Dataset& data, const int64_t* rows, int64_t count, bool augment) {
  const int64_t d = data.feature_count();
  float* x = p.value(model_.features).data;
  for (int64_t i = 0; i < count; ++i) {
    const float* row = data.features.data() + rows[i] * d;
    if (augment && config_.augment.enabled())
      augment_image(config_.augment, row, x + i * d, config_.seed, epoch_, rows[i]);
    else
      std::memcpy(x + i * d, row, static_cast<size_t>(d) * sizeof(float));
  }
  float* y = p.value(model_.labels).data;
  if (model_.sparse_labels) {
    for (int64_t i = 0; i < count; ++i) y[i] = static_cast<float>(data.labels[static_cast<size_t>(rows[i])]);
  } else {
    const int64_t c = p.value(model_.labels).shape.cols();
    for (int64_t i = 0; i < count; ++i) truth_row(data, rows[i], c, y + i * c);
    if (const float s = model_.label_smoothing; s > 0) {
      for (int64_t i = 0; i < count * c; ++i) y[i] = y[i] * (1.0f - s) + s / static_cast<float>(c);
    }
  }
  if (model_.sample_weights == kNoNode) return;
  // The row's loss (and gradient) times its own weight and its class's: the class is the label,
  // or a binary output's 0/1 target.
  float* w = p.value(model_.sample_weights).data;
  for (int64_t i = 0; i < count; ++i) {
    const size_t r = static_cast<size_t>(rows[i]);
    float v = data.weights.empty() ? 1.0f : data.weights[r];
    if (!model_.class_weights.empty()) {
      const size_t label =
          data.has_targets() ? (data.targets.data()[r] >= 0.5f ? 1 : 0) : static_cast<size_t>(data.labels[r]);
      v *= model_.class_weights[label];
    }
    w[i] = v;
  }
}

void Trainer::check_data(const io::Dataset& data, const char* what) const {
  const int64_t n = data.size(), c = model_.graph.shape(model_.output).cols();
  const std::string where = config_.context + ": the " + what + " data";
  if (!data.weights.empty()) {
    if (static_cast<int64_t>(data.weights.size()) != n) {
      throw Error(ErrorKind::BadInput, where + " have " + std::to_string(data.weights.size()) + " sample weights for " +
                                           std::to_string(n) + " samples");
    }
    if (model_.sample_weights == kNoNode) {
      throw Error(ErrorKind::BadInput, where +
                                           " have sample weights; the model was built without them "
                                           "(SequentialSpec/NetworkSpec::sample_weights, data.weight_column)");
    }
    for (size_t i = 0; i < data.weights.size(); ++i) {
      if (!(data.weights[i] >= 0.0f) || !std::isfinite(data.weights[i])) {
        throw Error(ErrorKind::BadInput, where + ": sample " + std::to_string(i) + " has weight " +
                                             std::to_string(data.weights[i]) + ", expected a finite number >= 0");
      }
    }
  }
  if (model_.loss_kind == Loss::CrossEntropy) {
    if (data.labels.size() != static_cast<size_t>(n)) {
      throw Error(ErrorKind::BadInput,
                  where + (data.has_targets() ? " have float targets; the cross_entropy loss expects "
                                                "class labels (label_column)"
                                              : " have no labels"));
    }
    return;
  }
  if (data.has_targets()) {
    if (data.targets.shape()[1] != c) {
      throw Error(ErrorKind::BadInput, where + " have " + std::to_string(data.targets.shape()[1]) +
                                           " target columns, the model has " + std::to_string(c) + " outputs");
    }
    return;
  }
  if (data.labels.size() != static_cast<size_t>(n))
    throw Error(ErrorKind::BadInput, where + " have no labels or targets");
}

EpochResult Trainer::train_epoch(const io::Dataset& data, int64_t start_batch, const BatchCallback& on_batch) {
  const int64_t n = data.size(), bs = config_.batch_size;
  if (n == 0) throw Error(ErrorKind::BadInput, config_.context + ": the training data is empty");
  check_data(data, "training");
  if (const AugmentConfig& a = config_.augment; a.enabled()) {
    if (a.image.size() != 3 || a.image[0] * a.image[1] * a.image[2] != data.feature_count() || a.shift < 0 ||
        2 * a.shift > std::min(a.image[1], a.image[2]))
      throw Error(ErrorKind::BadInput, config_.context +
                                           ": augment: the image shape must be [channels, height, "
                                           "width] of the data's " +
                                           std::to_string(data.feature_count()) +
                                           " features, and shift at most half its height and width");
  }
  const int64_t batches = (n + bs - 1) / bs;
  order_.resize(static_cast<size_t>(n));
  epoch_order(order_, config_.seed, epoch_, config_.shuffle);
  // Compile both programs before the clock starts: compilation is not training time.
  for (const int64_t count : {std::min(bs, n), n % bs}) {
    const int64_t local = dp_ ? dp_->shard(count).count : count;
    if (local > 0) training_step(local);
  }

  const auto t0 = std::chrono::steady_clock::now();
  progress_ = resume_.batch == start_batch ? resume_ : EpochProgress{start_batch};
  resume_ = EpochProgress{};
  const int64_t seen_before = progress_.seen;
  double& loss_sum = progress_.loss_sum;
  int64_t &correct = progress_.correct, &seen = progress_.seen;
  const bool accuracy = has_accuracy(model_, data);
  for (int64_t b = start_batch; b < batches; ++b) {
    const int64_t count = std::min(bs, n - b * bs);
    // Data-parallel: this rank's slice of the batch; alone: the whole batch.
    const Shard shard = dp_ ? dp_->shard(count) : Shard{0, count};
    const int64_t* rows = order_.data() + b * bs + shard.offset;
    StepTotals totals;
    TrainingStep* step = nullptr;
    if (shard.count > 0) {
      step = &training_step(shard.count);
      Program& p = *step->program;
      load_batch(p, data, rows, shard.count, /*augment=*/true);
      run_state_.step = optimizer_->steps();  // dropout's mask: (seed, step), also after a resume
      if (dp_)
        dp_->run(p, shard.count, count);
      else
        p.run();
      totals.loss_sum = static_cast<double>(p.value(model_.loss).data[0]) * static_cast<double>(shard.count);
      const TensorView out = p.value(model_.output);
      const int64_t c = out.shape.cols();
      for (int64_t i = 0; i < shard.count; ++i)
        totals.correct += correct_row(model_, data, rows[i], out.data + i * c, c);
      totals.samples = shard.count;
    }
    std::span<const GradientRef> gradients =
        step ? std::span<const GradientRef>(step->gradients) : std::span<const GradientRef>();
    if (dp_) {  // every rank's totals and the summed gradients
      for (size_t i = 0; i < grads_.size(); ++i) grad_pointers_[i] = step ? step->gradients[i].data : nullptr;
      totals = dp_->finish(totals, grad_pointers_);
      for (size_t i = 0; i < grads_.size(); ++i) summed_[i] = GradientRef{grad_pointers_[i]};
      gradients = summed_;
    }
    const double loss = totals.loss_sum / static_cast<double>(totals.samples);
    if (!std::isfinite(loss)) {
      throw Error(ErrorKind::Runtime, config_.context + ": the loss became " + std::to_string(loss) + " at epoch " +
                                          std::to_string(epoch_ + 1) + ", batch " + std::to_string(b + 1) +
                                          " (try a smaller learning rate)");
    }
    apply_gradients(gradients);

    loss_sum += totals.loss_sum;
    correct += totals.correct;
    seen += totals.samples;
    progress_.batch = b + 1;
    progress_.last_loss = static_cast<float>(loss);
    if (on_batch)
      on_batch(b + 1, batches, loss_sum / static_cast<double>(seen), accuracy ? double(correct) / double(seen) : NAN);
  }
  EpochResult r;
  r.epoch = epoch_;
  r.seconds = seconds_since(t0);
  r.loss = seen ? loss_sum / static_cast<double>(seen) : 0.0;
  r.accuracy = !accuracy ? NAN : seen ? static_cast<double>(correct) / static_cast<double>(seen) : 0.0;
  r.samples_per_second = r.seconds > 0 ? static_cast<double>(seen - seen_before) / r.seconds : 0.0;
  ++epoch_;
  return r;
}

Evaluation Trainer::evaluate(const io::Dataset& data, int64_t batch_size) {
  const int64_t n = data.size();
  Evaluation e;
  if (n == 0) return e;
  check_data(data, "evaluation");
  std::vector<int64_t> rows(static_cast<size_t>(std::min(batch_size, n)));
  double loss_sum = 0.0;
  int64_t correct = 0;
  const int64_t classes = model_.graph.shape(model_.output).cols();
  // A confusion matrix for classes: a single sigmoid output is two classes (threshold 0.5).
  const bool classifier = model_.loss_kind == Loss::CrossEntropy || !data.has_targets() ||
                          (model_.loss_kind == Loss::BinaryCrossEntropy && classes == 1);
  const int64_t confusion_size = !classifier ? 0 : classes == 1 ? 2 : classes;
  e.confusion.assign(static_cast<size_t>(confusion_size), std::vector<int64_t>(static_cast<size_t>(confusion_size), 0));
  std::vector<float> outputs(dp_ ? 0 : static_cast<size_t>(n * classes));  // for the metrics
  // Data-parallel: each rank evaluates its slice, and the sums are added up.
  const Shard part = dp_ ? dp_->shard(n) : Shard{0, n};
  const int64_t end = part.offset + part.count;
  for (const int64_t count : {std::min(batch_size, part.count), part.count % batch_size}) {
    if (count > 0) eval_programs_->get(count);  // compiled before the clock starts
  }
  const auto t0 = std::chrono::steady_clock::now();
  for (int64_t start = part.offset; start < end; start += batch_size) {
    const int64_t count = std::min(batch_size, end - start);
    std::iota(rows.begin(), rows.begin() + count, start);
    Program& p = eval_programs_->get(count);
    load_batch(p, data, rows.data(), count);
    p.run();
    loss_sum += static_cast<double>(p.value(model_.loss).data[0]) * static_cast<double>(count);
    const TensorView out = p.value(model_.output);
    const int64_t c = out.shape.cols();
    if (!outputs.empty())
      std::memcpy(outputs.data() + start * c, out.data, static_cast<size_t>(count * c) * sizeof(float));
    for (int64_t i = 0; i < count; ++i) {
      const float* row = out.data + i * c;
      correct += correct_row(model_, data, start + i, row, c);
      if (confusion_size == 0) continue;
      float one[1];
      if (c == 1) truth_row(data, start + i, 1, one);
      const int64_t predicted = c == 1 ? row[0] >= 0.5f : argmax(row, c);
      const int64_t truth = c == 1 ? one[0] >= 0.5f : data.labels[static_cast<size_t>(start + i)];
      if (truth >= 0 && truth < confusion_size)
        ++e.confusion[static_cast<size_t>(truth)][static_cast<size_t>(predicted)];
    }
  }
  if (!outputs.empty()) compute_metrics(data, outputs, e);
  if (dp_) dp_->reduce_evaluation(loss_sum, correct, e.confusion);
  e.seconds = seconds_since(t0);
  e.samples = n;
  e.loss = loss_sum / static_cast<double>(n);
  e.accuracy = has_accuracy(model_, data) ? static_cast<double>(correct) / static_cast<double>(n) : NAN;
  if (confusion_size > 0) class_metrics(e.confusion, e.metrics);
  return e;
}

void Trainer::compute_metrics(const io::Dataset& data, const std::vector<float>& outputs, Evaluation& e) const {
  const int64_t n = data.size(), c = model_.graph.shape(model_.output).cols();
  std::vector<float> truth;
  if (model_.loss_kind != Loss::CrossEntropy) {
    truth.resize(static_cast<size_t>(n * c));
    for (int64_t r = 0; r < n; ++r) truth_row(data, r, c, truth.data() + r * c);
  }
  if (is_regression(model_.loss_kind) && data.has_targets()) {
    regression_metrics(outputs.data(), truth.data(), n, c, e.metrics);
  } else if (model_.loss_kind == Loss::BinaryCrossEntropy) {
    binary_metrics(outputs.data(), truth.data(), n * c, e.metrics);
  } else if (c == 2) {  // a two-class softmax: class 1 is the positive one
    std::vector<float> score(static_cast<size_t>(n)), positive(static_cast<size_t>(n));
    for (int64_t r = 0; r < n; ++r) {
      score[static_cast<size_t>(r)] = outputs[static_cast<size_t>(r * 2 + 1)];
      positive[static_cast<size_t>(r)] = data.labels[static_cast<size_t>(r)] == 1 ? 1.0f : 0.0f;
    }
    binary_metrics(score.data(), positive.data(), n, e.metrics);
  } else if (c > 2) {
    e.metrics.top_k = c > 5 ? 3 : 2;
    e.metrics.top_k_accuracy = top_k_accuracy(outputs.data(), data.labels.data(), n, c, e.metrics.top_k);
  }
}

void Trainer::predict(const Tensor& features, Tensor& out, int64_t batch_size) {
  const int64_t n = features.shape()[0], d = features.shape()[1];
  if (d != model_.graph.shape(model_.features)[1]) {
    throw Error(ErrorKind::Shape, config_.context + ": the model takes " +
                                      std::to_string(model_.graph.shape(model_.features)[1]) +
                                      " features, the input has " + std::to_string(d));
  }
  CompileOptions predict_options = options({model_.output}, false);
  predict_options.max_arena_bytes = 0;
  ProgramCache predict_programs(model_.graph, params_, predict_options);
  const int64_t c = model_.graph.shape(model_.output)[1];
  out = Tensor(Shape{n, c});
  for (int64_t start = 0; start < n; start += batch_size) {
    const int64_t count = std::min(batch_size, n - start);
    Program& p = predict_programs.get(count);
    std::memcpy(p.value(model_.features).data, features.data() + start * d,
                static_cast<size_t>(count * d) * sizeof(float));
    p.run();
    std::memcpy(out.data() + start * c, p.value(model_.output).data, static_cast<size_t>(count * c) * sizeof(float));
  }
}

}  // namespace graphrun::train
