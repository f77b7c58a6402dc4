// The registry names exactly the backends this build holds (GRAPHRUN_BACKENDS in the top
// CMakeLists.txt, which follows GRAPHRUN_WITH_ONEDNN), and a name it does not hold is refused
// with the built names.
#include "backends/registry.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "core/error.h"

namespace graphrun {
namespace {

std::string bad_input_message(std::string_view name) {
  try {
    backends::by_name(name);
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::BadInput);
    return e.what();
  }
  ADD_FAILURE() << "backend '" << name << "' was accepted";
  return "";
}

bool built(const std::string& name) {
  const std::vector<std::string> names = backends::names();
  return std::find(names.begin(), names.end(), name) != names.end();
}

TEST(Registry, NamesTheBackendsThisBuildHolds) {
  std::string joined;
  for (const std::string& n : backends::names()) joined += (joined.empty() ? "" : ",") + n;
  EXPECT_EQ(joined, GRAPHRUN_BACKENDS);
  for (const std::string& n : backends::names()) EXPECT_EQ(backends::by_name(n).name(), n);
  // The fallback chain: the preferred backend, then Highway, then the reference.
  const std::vector<Backend*> chain = backends::chain("reference");
  ASSERT_EQ(chain.size(), 2u);
  EXPECT_STREQ(chain[1]->name(), "highway");
}

TEST(Registry, AnUnknownNameGetsTheBuiltNamesAndASuggestion) {
  const std::string m = bad_input_message("higway");
  EXPECT_NE(m.find("unknown backend 'higway'; known: highway"), std::string::npos) << m;
  EXPECT_NE(m.find("did you mean \"highway\"?"), std::string::npos) << m;
  EXPECT_EQ(bad_input_message("tpu").find("did you mean"), std::string::npos);
}

TEST(Registry, OneDnnWhenNotBuiltSaysSo) {
  if (built("onednn")) GTEST_SKIP() << "oneDNN is built here (GRAPHRUN_WITH_ONEDNN=ON): nothing to refuse";
  const std::string m = bad_input_message("onednn");
  EXPECT_NE(m.find("backend 'onednn' is not in this build (configured with GRAPHRUN_WITH_ONEDNN=OFF)"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("; built: highway, reference"), std::string::npos) << m;
}

}  // namespace
}  // namespace graphrun
