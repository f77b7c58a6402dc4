// Every model-file example in README.md and docs/*.md runs (issue 16): each ```json block is
// either a whole model file, checked with `graphrun inspect` and trained for one epoch on a few
// samples of its own data, or a fragment ("training": {...}, "layers": [...], ...) put into a
// tiny model and checked with `graphrun inspect`. A doc whose example is refused fails here.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <vector>

#include "tests/support/cli_process.h"

namespace {

namespace fs = std::filesystem;
using graphrun::testing::CliResult;
using graphrun::testing::slurp;
using graphrun::testing::write_file;
using Json = nlohmann::ordered_json;

struct Example {
  std::string where;  // file:line
  std::string text;
};

std::vector<Example> json_blocks() {
  std::vector<std::string> docs = {std::string(GRAPHRUN_SOURCE_DIR) + "/README.md"};
  for (const auto& e : fs::directory_iterator(std::string(GRAPHRUN_SOURCE_DIR) + "/docs")) {
    if (e.path().extension() == ".md") docs.push_back(e.path().string());
  }
  std::vector<Example> out;
  for (const std::string& doc : docs) {
    std::istringstream in(slurp(doc));
    std::string line, block;
    int line_no = 0, start = 0;
    bool inside = false;
    while (std::getline(in, line)) {
      ++line_no;
      if (!inside && line == "```json") {
        inside = true;
        start = line_no;
        block.clear();
      } else if (inside && line == "```") {
        inside = false;
        out.push_back({fs::path(doc).filename().string() + ":" + std::to_string(start), block});
      } else if (inside) {
        block += line + "\n";
      }
    }
  }
  return out;
}

class DocExamples : public graphrun::testing::CliFixture {
 protected:
  DocExamples() : CliFixture("graphrun_doc_examples") {}

  // The tiny model a fragment goes into: 16 inputs, the fixture's IDX data, 3 classes.
  Json tiny_model() const {
    return Json::parse(R"({"inputs": 16, "layers": [{"units": 8, "activation": "relu"}],
      "optimizer": {"name": "sgd", "learning_rate": 0.1},
      "data": {"train_images": ")" +
                       path("train-images.idx") + R"(", "train_labels": ")" + path("train-labels.idx") +
                       R"(", "test_images": ")" + path("test-images.idx") + R"(", "test_labels": ")" +
                       path("test-labels.idx") + R"("},
      "training": {"epochs": 1, "batch_size": 16}})");
  }

  // A fragment `"key": value, ...` (", ..." standing for more of the same dropped) in the tiny
  // model: top-level keys replace or extend its own, any other key goes into "training".
  Json with_fragment(const std::string& text) const {
    const std::string cleaned = std::regex_replace(text, std::regex(R"(,\s*\.\.\.)"), "");
    const Json fragment = Json::parse("{" + cleaned + "}");
    Json m = tiny_model();
    for (const auto& [key, value] : fragment.items()) {
      if (key == "layers") {
        m["layers"] = value;
        m["layers"].push_back({{"units", 3}, {"activation", "softmax"}});
      } else if (key == "training") {
        m["training"].update(value);
      } else if (key == "optimizer" || key == "data" || key == "loss" || key == "inputs") {
        m[key] = value;
      } else {
        m["training"][key] = value;
      }
    }
    if (m["layers"].back()["activation"] != "softmax") m["layers"].push_back({{"units", 3}, {"activation", "softmax"}});
    return m;
  }
};

TEST_F(DocExamples, EveryModelFileExampleRuns) {
  const std::vector<Example> examples = json_blocks();
  ASSERT_GE(examples.size(), 6u) << "the docs hold at least six model-file examples";
  int whole = 0, fragments = 0;
  for (const Example& e : examples) {
    SCOPED_TRACE(e.where);
    const Json parsed = Json::parse(e.text, nullptr, false);
    const bool is_model = parsed.is_object() && (parsed.contains("inputs") || parsed.contains("graph"));
    const std::string file = path("example.json");
    if (is_model) {
      write_file(file, e.text);
      ++whole;
    } else {
      Json m;
      ASSERT_NO_THROW(m = with_fragment(e.text)) << "not a JSON fragment: " << e.text;
      write_file(file, m.dump(2));
      ++fragments;
    }
    CliResult r = run("inspect " + file + " --threads 1");
    EXPECT_EQ(r.code, 0) << e.text << "\n" << r.err;
    if (!is_model) continue;
    bool has_data = parsed.contains("data");
    for (const char* k : {"train_images", "train", "test_images", "test"}) {
      if (has_data && parsed["data"].contains(k)) has_data = fs::exists(parsed["data"][k].get<std::string>());
    }
    if (!has_data) continue;  // e.g. Fashion-MNIST not installed
    r = run("train " + file + " --epochs 1 --limit-train 64 --limit-test 32 --threads 1");
    EXPECT_EQ(r.code, 0) << e.text << "\n" << r.err;
  }
  EXPECT_GE(whole, 1);
  EXPECT_GE(fragments, 5);
}

}  // namespace
