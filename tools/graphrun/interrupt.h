// SIGINT and SIGTERM during `graphrun train`: the handler only records the signal; the
// training loop asks after every optimizer step, writes a checkpoint and stops, and the tool
// exits with 128 + the signal number (130 for SIGINT, 143 for SIGTERM), the shell convention.
// A second signal while stopping gets the default action (the process dies at once).
#pragma once

#include <string>

namespace graphrun::tool {

// Installs the handlers for its lifetime (restores the previous ones after).
class InterruptHandlers {
 public:
  InterruptHandlers();
  ~InterruptHandlers();
  InterruptHandlers(const InterruptHandlers&) = delete;
  InterruptHandlers& operator=(const InterruptHandlers&) = delete;
};

// 0, or the signal received since the handlers were installed.
int pending_interrupt();

// Thrown by the training loop to stop after a signal (caught in run_train).
struct Interrupted {
  int signal = 0;
  std::string message;  // where training stopped and what was saved
};

}  // namespace graphrun::tool
