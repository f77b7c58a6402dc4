// Helper for safetensors_numpy_test.py: our reader and writer on files numpy made.
//   io_safetensors_roundtrip roundtrip IN OUT     read IN, write every tensor x2 to OUT (same
//                                                 order, metadata plus graphrun=roundtrip)
//   io_safetensors_roundtrip expect-error IN TEXT exit 0 iff reading IN fails with TEXT
#include <cstdio>
#include <cstring>
#include <string>

#include "core/error.h"
#include "io/safetensors.h"

int main(int argc, char** argv) {
  using namespace graphrun;
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s roundtrip IN OUT | expect-error IN TEXT\n", argv[0]);
    return 2;
  }
  const std::string mode = argv[1];
  try {
    io::SafetensorsFile f = io::read_safetensors(argv[2]);
    if (mode == "expect-error") {
      std::fprintf(stderr, "expected an error containing \"%s\", the file loaded\n", argv[3]);
      return 1;
    }
    std::vector<std::pair<std::string, const Tensor*>> out;
    for (auto& [name, t] : f.tensors) {
      for (float& v : t.span()) v *= 2;
      out.emplace_back(name, &t);
    }
    f.metadata["graphrun"] = "roundtrip";
    io::write_safetensors(argv[3], out, f.metadata);
    return 0;
  } catch (const Error& e) {
    if (mode == "expect-error" && std::strstr(e.what(), argv[3]) != nullptr) return 0;
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
}
