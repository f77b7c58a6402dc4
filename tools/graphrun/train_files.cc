#include "tools/graphrun/train_files.h"

#include <signal.h>

#include <fmt/format.h>
#include <cmath>
#include <filesystem>

#include "core/error.h"
#include "tools/graphrun/interrupt.h"
#include "tools/graphrun/out_folder.h"

namespace graphrun::tool {
namespace {

// The name and value of the first non-finite element among the tensors, or empty.
std::string first_non_finite(const std::vector<std::pair<std::string, const Tensor*>>& tensors) {
  for (const auto& [name, t] : tensors) {
    for (float v : t->span()) {
      if (!std::isfinite(v)) return fmt::format("{} holds {}", name, v);
    }
  }
  return {};
}

}  // namespace

TrainFiles::TrainFiles(const std::string& out_dir, int64_t checkpoint_every, train::TrainingState identity,
                       uint64_t resume_step, bool replace_earlier, train::Trainer& trainer,
                       const ParameterStore& params, const io::Scaler& scaler, const train::FitState& fit)
    : identity_(std::move(identity)),
      every_(checkpoint_every),
      resume_step_(resume_step),
      replace_earlier_(replace_earlier),
      dir_(out_dir),
      trainer_(trainer),
      params_(params),
      scaler_(scaler),
      fit_(fit) {
  if (out_dir.empty()) return;
  const std::filesystem::path dir(out_dir);
  checkpoint_ = (dir / "checkpoint.safetensors").string();
  history_csv_ = (dir / "history.csv").string();
  history_json_ = (dir / "history.json").string();
}

void TrainFiles::start_writing() {
  if (log_ || dir_.empty()) return;
  if (replace_earlier_) remove_earlier_run(dir_);
  log_ = std::make_unique<train::StepLog>((std::filesystem::path(dir_) / "steps.csv").string(), resume_step_);
}

void TrainFiles::after_step(int64_t done, int64_t total) {
  start_writing();
  const train::EpochProgress& p = trainer_.progress();
  const uint64_t step = trainer_.optimizer().steps();
  if (log_) log_->append(step, trainer_.epoch() + 1, p.batch, p.last_loss);
  // The epoch's last step: its end (validation, history, checkpoint) follows at once.
  if (done == total) return;
  const bool due = every_ > 0 && step % static_cast<uint64_t>(every_) == 0;
  if (due || pending_interrupt()) save(true);
  stop_if_interrupted(true);
}

void TrainFiles::after_epoch(const std::vector<train::HistoryRow>& history) {
  start_writing();
  if (log_) {
    train::write_history_csv(history_csv_, history);
    train::write_history_json(history_json_, history);
  }
  save(false);
  stop_if_interrupted(false);
}

void TrainFiles::save(bool mid_epoch) {
  if (!log_) return;
  train::Optimizer& opt = trainer_.optimizer();
  std::vector<std::pair<std::string, const Tensor*>> tensors;
  for (size_t i = 0; i < params_.size(); ++i) tensors.emplace_back("parameter " + params_.name(i), &params_.tensor(i));
  for (const auto& [name, t] : opt.state()) tensors.emplace_back("optimizer state " + name, t);
  if (const std::string bad = first_non_finite(tensors); !bad.empty()) {
    throw Error(ErrorKind::Runtime,
                fmt::format("{}: not written: after step {} {} (training diverged; try a smaller learning rate); the "
                            "previous checkpoint is kept",
                            checkpoint_, opt.steps(), bad));
  }
  train::TrainingState st = identity_;
  st.epoch = trainer_.epoch();  // epochs completed
  st.fit = fit_;
  if (mid_epoch) {
    const train::EpochProgress& p = trainer_.progress();
    st.batch = p.batch;
    st.epoch_loss_sum = p.loss_sum;
    st.epoch_correct = p.correct;
    st.epoch_seen = p.seen;
  }
  st.step = opt.steps();
  st.learning_rate = opt.learning_rate();
  log_->sync();
  train::save_checkpoint(checkpoint_, params_, opt, &scaler_, st);
}

void TrainFiles::stop_if_interrupted(bool mid_epoch) {
  const int sig = pending_interrupt();
  if (!sig) return;
  const std::string what = !dir_.empty() ? fmt::format("wrote {} (continue with --resume {})", checkpoint_, checkpoint_)
                                         : std::string("nothing saved (no --out)");
  const std::string where = mid_epoch
                                ? fmt::format("epoch {}, batch {}", trainer_.epoch() + 1, trainer_.progress().batch)
                                : fmt::format("the end of epoch {}", trainer_.epoch());
  throw Interrupted{sig, fmt::format("interrupted by {} after step {} ({}); {}", sig == SIGINT ? "SIGINT" : "SIGTERM",
                                     trainer_.optimizer().steps(), where, what)};
}

}  // namespace graphrun::tool
