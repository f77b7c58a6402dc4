// graphrun::Error: the one exception type library code throws.
//
// Every message says where (file, JSON path, op or node name) and what was expected, so a
// caller can print it as one line. The kind tells the CLI which exit code to use:
// BadInput, Shape and Plugin mean "the user's input is wrong" (exit 2), the rest exit 1.
#pragma once

#include <stdexcept>
#include <string>

namespace graphrun {

enum class ErrorKind {
  BadInput,  // malformed file, bad option, unknown name
  Shape,     // shapes that do not fit together
  Plugin,    // a plugin that cannot be loaded or is inconsistent
  Io,        // the operating system refused a read or write
  Runtime,   // a failure while running (NaN loss, out of memory)
  Internal,  // a bug in graphrun
};

const char* to_string(ErrorKind kind);

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  ErrorKind kind() const { return kind_; }
  // True when the error is the user's input, not graphrun or the machine (CLI exit code 2).
  bool is_bad_input() const {
    return kind_ == ErrorKind::BadInput || kind_ == ErrorKind::Shape || kind_ == ErrorKind::Plugin;
  }

 private:
  ErrorKind kind_;
};

// Aborts with file:line: for broken invariants (bugs), never for bad input.
[[noreturn]] void check_failed(const char* file, int line, const char* condition);

}  // namespace graphrun

#define GRAPHRUN_CHECK(cond) ((cond) ? (void)0 : ::graphrun::check_failed(__FILE__, __LINE__, #cond))
