#include "core/error.h"

#include <cstdio>
#include <cstdlib>

namespace graphrun {

const char* to_string(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::BadInput:
      return "bad input";
    case ErrorKind::Shape:
      return "shape error";
    case ErrorKind::Plugin:
      return "plugin error";
    case ErrorKind::Io:
      return "I/O error";
    case ErrorKind::Runtime:
      return "runtime error";
    case ErrorKind::Internal:
      return "internal error";
  }
  return "error";
}

void check_failed(const char* file, int line, const char* condition) {
  std::fprintf(stderr, "graphrun: internal check failed at %s:%d: %s\n", file, line, condition);
  std::abort();
}

}  // namespace graphrun
