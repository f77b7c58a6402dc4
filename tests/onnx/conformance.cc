// The ONNX backend conformance suite (ONNX 1.12's test data, Debian's libonnx-testdata) on one
// graphrun backend:
//   onnx_conformance --backend highway [--tally out.tsv] DATA_DIR/node DATA_DIR/simple ...
// Every test folder holds model.onnx and test_data_set_*/{input,output}_N.pb. A model whose
// import succeeds must reproduce every output within ONNX's tolerances (|got - want| <=
// atol + rtol * |want|, rtol 1e-3, atol 1e-7); a model graphrun cannot express must be refused
// by the importer with its one-line "unsupported ..." error. Anything else (a wrong value, any
// other error) fails the run; a crash fails it too. --tally writes one row per test for
// scripts/onnx_tally.py (docs/onnx.md).
#include <fmt/format.h>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/plugin_host.h"
#include "onnx/import.h"
#include "onnx/run_graph.h"
#include "onnx/tensor_file.h"

namespace fs = std::filesystem;
using namespace graphrun;

namespace {

constexpr double kRtol = 1e-3, kAtol = 1e-7;

std::vector<fs::path> sorted_files(const fs::path& dir, const std::string& prefix) {
  std::vector<fs::path> out;
  for (int i = 0;; ++i) {
    fs::path p = dir / fmt::format("{}_{}.pb", prefix, i);
    if (!fs::exists(p)) break;
    out.push_back(p);
  }
  return out;
}

// "" when the test passes, else why not.
std::string run_test(onnx_io::Imported& m, const fs::path& dir, const std::string& backend) {
  int sets = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (!entry.is_directory() || entry.path().filename().string().rfind("test_data_set_", 0) != 0) continue;
    ++sets;
    std::vector<Tensor> inputs;
    for (const fs::path& p : sorted_files(entry.path(), "input")) {
      inputs.push_back(onnx_io::to_tensor(onnx_io::read_tensor_file(p.string()), p.string()));
    }
    if (inputs.size() != m.inputs.size()) {
      return fmt::format("{} inputs in {}, the model takes {}", inputs.size(), entry.path().string(), m.inputs.size());
    }
    const std::vector<Tensor> got = onnx_io::run_graph(m.graph, m.params, m.inputs, inputs, m.outputs, backend);
    const std::vector<fs::path> want_files = sorted_files(entry.path(), "output");
    if (want_files.size() != got.size())
      return fmt::format("{} outputs expected, {} computed", want_files.size(), got.size());
    for (size_t k = 0; k < got.size(); ++k) {
      const onnx_io::OnnxTensor want = onnx_io::read_tensor_file(want_files[k].string());
      if (!want.is_float()) return fmt::format("output {} is {}", k, onnx_io::elem_type_name(want.elem_type));
      Shape ws;
      for (int64_t d : want.dims) ws.push_back(d);
      if (ws != got[k].shape())
        return fmt::format("output {}: shape {}, expected {}", k, got[k].shape().str(), ws.str());
      for (int64_t i = 0; i < got[k].numel(); ++i) {
        const double g = got[k][i], w = want.floats[static_cast<size_t>(i)];
        if (std::isnan(w) && std::isnan(g)) continue;
        if (!(std::fabs(g - w) <= kAtol + kRtol * std::fabs(w))) {
          return fmt::format("output {} element {}: {} expected {}", k, i, g, w);
        }
      }
    }
  }
  return sets == 0 ? "no test_data_set" : "";
}

}  // namespace

int main(int argc, char** argv) {
  std::string backend = "highway", tally_path;
  std::vector<fs::path> suites;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--backend" && i + 1 < argc)
      backend = argv[++i];
    else if (a == "--tally" && i + 1 < argc)
      tally_path = argv[++i];
    else
      suites.emplace_back(a);
  }
  if (suites.empty()) {
    std::fprintf(stderr, "usage: onnx_conformance [--backend B] [--tally out.tsv] SUITE_DIR...\n");
    return 2;
  }
  const PluginRegistry& plugins = PluginRegistry::global();
  std::string tally = "test\tops\tresult\tdetail\n";
  int passed = 0, failed = 0, refused = 0;
  for (const fs::path& suite : suites) {
    if (!fs::is_directory(suite)) {
      std::fprintf(stderr, "onnx_conformance: %s is not a folder (is libonnx-testdata installed?)\n", suite.c_str());
      return 77;
    }
    std::vector<fs::path> tests;
    for (const auto& e : fs::directory_iterator(suite)) {
      if (fs::exists(e.path() / "model.onnx")) tests.push_back(e.path());
    }
    std::sort(tests.begin(), tests.end());
    for (const fs::path& dir : tests) {
      const std::string name = suite.filename().string() + "/" + dir.filename().string();
      std::string ops, result, detail;
      try {
        const std::vector<std::string> types = onnx_io::model_op_types((dir / "model.onnx").string());
        ops = fmt::format("{}", fmt::join(types, ","));
      } catch (const Error& e) {
        ops = "?";
      }
      std::optional<onnx_io::Imported> m;
      try {
        m.emplace(onnx_io::import_onnx((dir / "model.onnx").string(), plugins));
      } catch (const Error& e) {
        detail = e.what();
        const bool clear = e.is_bad_input() && detail.find("unsupported") != std::string::npos &&
                           detail.find('\n') == std::string::npos;
        result = clear ? "unsupported" : "failed";
      }
      if (m) {
        try {
          detail = run_test(*m, dir, backend);
        } catch (const Error& e) {
          detail = e.what();
        }
        result = detail.empty() ? "passed" : "failed";
      }
      if (result == "passed")
        ++passed;
      else if (result == "failed")
        ++failed;
      else
        ++refused;
      if (result == "failed") std::printf("FAILED %s (%s): %s\n", name.c_str(), ops.c_str(), detail.c_str());
      std::replace(detail.begin(), detail.end(), '\t', ' ');
      tally += fmt::format("{}\t{}\t{}\t{}\n", name, ops, result, detail);
    }
  }
  std::printf("onnx_conformance on %s: %d passed, %d failed, %d refused as unsupported\n", backend.c_str(), passed,
              failed, refused);
  if (!tally_path.empty()) std::ofstream(tally_path) << tally;
  return failed == 0 ? 0 : 1;
}
