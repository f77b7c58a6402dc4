// The plugin host: search path, loading, and every way a plugin can be wrong (each with a tiny
// test-only module from broken/, built into GRAPHRUN_TEST_PLUGIN_DIR/<case>/).
#include "core/plugin_host.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cstddef>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "core/error.h"
#include "tests/support/scoped_env.h"

namespace graphrun {
namespace {

const std::string kTestDir = GRAPHRUN_TEST_PLUGIN_DIR;

std::string test_plugin(const std::string& rel) { return kTestDir + "/" + rel; }

// Runs f, expects an Error of `kind` whose message contains every one of `parts`.
template <class F>
void expect_error(F f, ErrorKind kind, std::initializer_list<std::string> parts) {
  try {
    f();
    ADD_FAILURE() << "no error thrown";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), kind) << e.what();
    const std::string msg = e.what();
    EXPECT_EQ(msg.find('\n'), std::string::npos) << "not one line: " << msg;
    for (const std::string& p : parts) EXPECT_NE(msg.find(p), std::string::npos) << "'" << p << "' not in: " << msg;
  }
}

using graphrun::testing::ScopedEnv;

TEST(PluginHost, LoadsEveryBuiltinFromTheSearchPath) {
  PluginRegistry r;
  r.load_search_path();
  std::vector<std::string> acts;
  for (const LoadedActivation* a : r.activations()) acts.push_back(a->entry->name);
  EXPECT_EQ(acts, (std::vector<std::string>{"elu", "gelu", "leaky_relu", "log_softmax", "mish", "relu", "selu",
                                            "sigmoid", "silu", "softmax", "softplus", "swish", "tanh"}));
  std::vector<std::string> opts;
  for (const LoadedOptimizer* o : r.optimizers()) opts.push_back(o->entry->name);
  EXPECT_EQ(opts, (std::vector<std::string>{"adagrad", "adam", "adamw", "lion", "rmsprop", "sgd"}));
  EXPECT_NE(r.activation("relu").file.find("graphrun_act_relu.so"), std::string::npos);
  EXPECT_EQ(r.find_activation("swish")->file, r.find_activation("silu")->file);
  // Loading again is a no-op (same files), not a duplicate.
  r.load_search_path();
  EXPECT_EQ(r.activations().size(), acts.size());
}

TEST(PluginHost, SearchPathOrder) {
  const std::string extra = test_plugin("empty");
  ScopedEnv env("GRAPHRUN_PLUGIN_PATH", (test_plugin("shadow1") + "::" + GRAPHRUN_PLUGIN_BUILD_DIR).c_str());
  const std::vector<std::string> path = PluginRegistry::search_path({extra});
  ASSERT_GE(path.size(), 3u);
  EXPECT_EQ(path[0], extra);
  EXPECT_EQ(path[1], test_plugin("shadow1"));
  EXPECT_EQ(path[2], GRAPHRUN_PLUGIN_BUILD_DIR);
  // The build dir, also a default, is listed once.
  EXPECT_EQ(std::count(path.begin(), path.end(), std::string(GRAPHRUN_PLUGIN_BUILD_DIR)), 1);
}

TEST(PluginHost, UnknownNamesListTheKnownOnes) {
  PluginRegistry r;
  r.load_search_path();
  EXPECT_EQ(r.find_activation("nope"), nullptr);
  EXPECT_EQ(r.find_optimizer("nope"), nullptr);
  expect_error([&] { r.activation("relu6"); }, ErrorKind::BadInput,
               {"unknown activation 'relu6'", "known: elu, gelu, leaky_relu", "tanh"});
  expect_error([&] { r.optimizer("adamax"); }, ErrorKind::BadInput,
               {"unknown optimizer 'adamax'", "known: adagrad, adam, adamw, lion, rmsprop, sgd"});
}

TEST(PluginHost, EmptyDirectoryLoadsNothing) {
  PluginRegistry with_empty, without;
  with_empty.load_search_path({test_plugin("empty")});
  without.load_search_path();
  EXPECT_EQ(with_empty.files(), without.files());
}

TEST(PluginHost, MissingExplicitDirectoryIsAnError) {
  PluginRegistry r;
  const std::string missing = test_plugin("does_not_exist");
  expect_error([&] { r.load_search_path({missing}); }, ErrorKind::Plugin, {missing, "does not exist", "--plugin-dir"});
  ScopedEnv env("GRAPHRUN_PLUGIN_PATH", missing.c_str());
  expect_error([&] { PluginRegistry::search_path({}); }, ErrorKind::Plugin, {missing, "GRAPHRUN_PLUGIN_PATH"});
  // A file is not a directory.
  const std::string file = test_plugin("not_elf/not_a_library.so");
  expect_error([&] { PluginRegistry::search_path({file}); }, ErrorKind::Plugin, {file, "is not a directory"});
}

TEST(PluginHost, UnreadableExplicitDirectoryIsAnError) {
  if (geteuid() == 0) GTEST_SKIP() << "root reads every directory";
  const std::string dir = test_plugin("unreadable");
  std::filesystem::create_directories(dir);
  chmod(dir.c_str(), 0);
  PluginRegistry r;
  expect_error([&] { r.load_search_path({dir}); }, ErrorKind::Plugin, {dir, "cannot be read"});
  chmod(dir.c_str(), 0755);
}

TEST(PluginHost, AbiVersionOlderAndNewer) {
  PluginRegistry r;
  const std::string old_so = test_plugin("abi_old/abi_old.so");
  const std::string new_so = test_plugin("abi_new/abi_new.so");
  expect_error([&] { r.load_file(old_so); }, ErrorKind::Plugin,
               {"plugin " + old_so + " was built for ABI version 0, this graphrun has ABI version 1"});
  expect_error([&] { r.load_file(new_so); }, ErrorKind::Plugin,
               {"plugin " + new_so + " was built for ABI version 7, this graphrun has ABI version 1"});
  EXPECT_TRUE(r.files().empty());
}

TEST(PluginHost, NotASharedLibrary) {
  PluginRegistry r;
  const std::string so = test_plugin("not_elf/not_a_library.so");
  expect_error([&] { r.load_file(so); }, ErrorKind::Plugin, {"plugin " + so + " cannot be loaded"});
  // The same through the search path.
  expect_error([&] { r.load_search_path({test_plugin("not_elf")}); }, ErrorKind::Plugin, {so});
  const std::string missing = test_plugin("nowhere/x.so");
  expect_error([&] { r.load_file(missing); }, ErrorKind::Plugin, {missing});
}

TEST(PluginHost, NotAGraphrunPlugin) {
  PluginRegistry r;
  // A real shared library without graphrun_plugin_abi_version.
  const std::string libm = "/lib/x86_64-linux-gnu/libm.so.6";
  if (std::filesystem::exists(libm)) {
    expect_error([&] { r.load_file(libm); }, ErrorKind::Plugin, {libm, "graphrun_plugin_abi_version"});
  }
  const std::string so = test_plugin("no_init/no_init.so");
  expect_error([&] { r.load_file(so); }, ErrorKind::Plugin, {so, "no graphrun_plugin_init"});
}

TEST(PluginHost, InitErrorIsReportedAndEntriesDiscarded) {
  PluginRegistry r;
  const std::string so = test_plugin("init_error/init_error.so");
  expect_error([&] { r.load_file(so); }, ErrorKind::Plugin,
               {so, "graphrun_plugin_init failed (returned 3)", "no licence for this activation"});
  EXPECT_EQ(r.find_activation("discarded_identity"), nullptr);
}

TEST(PluginHost, DuplicateNamesNameBothFiles) {
  PluginRegistry r;
  const std::string a = test_plugin("dup/dup_a.so"), b = test_plugin("dup/dup_b.so");
  expect_error([&] { r.load_search_path({test_plugin("dup")}); }, ErrorKind::Plugin, {"activation 'dup_name'", a, b});
  // The first one stays loaded, whole; the second registered nothing.
  ASSERT_NE(r.find_activation("dup_name"), nullptr);
  EXPECT_EQ(r.find_activation("dup_name")->file, a);
  EXPECT_EQ(r.find_optimizer("dup_name")->file, a);
}

TEST(PluginHost, EarlierFolderShadowsSameFileName) {
  PluginRegistry r;
  r.load_search_path({test_plugin("shadow1"), test_plugin("shadow2")});
  ASSERT_NE(r.find_activation("tiny"), nullptr);
  EXPECT_EQ(r.find_activation("tiny")->file, test_plugin("shadow1/tiny.so"));
  // Loading the other file directly is a genuine duplicate.
  expect_error([&] { r.load_file(test_plugin("shadow2/tiny.so")); }, ErrorKind::Plugin,
               {test_plugin("shadow1/tiny.so"), test_plugin("shadow2/tiny.so")});
}

// Optional fields appended to an entry since ABI 1 began: an entry whose struct_size ends
// before them loads, and the host treats the missing fields as absent.
TEST(PluginHost, OptimizerEntryWithoutStepOuterLoads) {
  PluginRegistry r;
  r.load_file(test_plugin("no_step_outer/no_step_outer.so"));
  const LoadedOptimizer* o = r.find_optimizer("no_step_outer");
  ASSERT_NE(o, nullptr);
  EXPECT_EQ(o->entry->struct_size, offsetof(graphrun_optimizer, step_outer));
  EXPECT_EQ(o->step_outer, nullptr);
  PluginRegistry builtin;
  builtin.load_search_path();
  EXPECT_NE(builtin.optimizer("sgd").step_outer, nullptr);
}

TEST(PluginHost, InvalidEntriesAreRefused) {
  const std::pair<int, std::string> cases[] = {
      {1, "activation 'defect_1': forward kernel is NULL"},
      {2, "struct_size 8"},
      {3, "missing or invalid name"},
      {4, "n_params = 1 but params is NULL"},
      {5, "parameter 'gain' has default 3 outside its range [0, 2]"},
      {6, "optimizer 'defect_6': n_state_slots = 1 but state_slot_names is NULL"},
      {7, "missing or invalid name"},
  };
  for (const auto& [defect, text] : cases) {
    PluginRegistry r;
    const std::string so = test_plugin("defect/defect_" + std::to_string(defect) + ".so");
    expect_error([&] { r.load_file(so); }, ErrorKind::Plugin, {"plugin " + so, text});
    EXPECT_TRUE(r.activations().empty()) << so;
    EXPECT_TRUE(r.optimizers().empty()) << so;
  }
}

TEST(PluginHost, GlobalRegistryLoadsLazily) {
  PluginRegistry& g = PluginRegistry::global();
  EXPECT_EQ(&g, &PluginRegistry::global());
  EXPECT_NE(g.find_activation("sigmoid"), nullptr);
  EXPECT_NE(g.find_optimizer("adam"), nullptr);
}

// ---- resolve_params ----

const graphrun_param kDecl[] = {{"alpha", 0.01, 0.0, 1.0, nullptr}, {"beta", 2.0, -1.0, 5.0, nullptr}};

TEST(ResolveParams, DefaultsAndOverrides) {
  EXPECT_EQ(resolve_params(kDecl, 2, {}, "ctx"), (std::vector<double>{0.01, 2.0}));
  EXPECT_EQ(resolve_params(kDecl, 2, {{"beta", -1.0}, {"alpha", 1.0}}, "ctx"), (std::vector<double>{1.0, -1.0}));
  EXPECT_TRUE(resolve_params(nullptr, 0, {}, "ctx").empty());
}

TEST(ResolveParams, UnknownNameListsKnownOnes) {
  expect_error(
      [] {
        resolve_params(kDecl, 2, {{"gamma", 1.0}}, "model.json: layers[1].activation");
      },
      ErrorKind::BadInput, {"model.json: layers[1].activation", "unknown parameter 'gamma'", "alpha, beta"});
  expect_error(
      [] {
        resolve_params(nullptr, 0, {{"alpha", 1.0}}, "relu");
      },
      ErrorKind::BadInput, {"relu: unknown parameter 'alpha'", "takes no parameters"});
}

TEST(ResolveParams, OutOfRangeNamesValueAndRange) {
  expect_error(
      [] {
        resolve_params(kDecl, 2, {{"alpha", 1.5}}, "model.json: layers[1].activation");
      },
      ErrorKind::BadInput, {"model.json: layers[1].activation", "'alpha' = 1.5", "[0, 1]"});
  expect_error(
      [] {
        resolve_params(kDecl, 2, {{"beta", std::nan("")}}, "ctx");
      },
      ErrorKind::BadInput, {"'beta' = nan", "[-1, 5]"});
  expect_error(
      [] {
        resolve_params(kDecl, 2, {{"beta", 1}, {"beta", 2}}, "ctx");
      },
      ErrorKind::BadInput, {"'beta' is given twice"});
}

TEST(ResolveParams, EveryBuiltinDefaultIsInRange) {
  PluginRegistry r;
  r.load_search_path();
  for (const LoadedActivation* a : r.activations()) {
    EXPECT_EQ(resolve_params(a->entry->params, a->entry->n_params, {}, a->entry->name).size(), a->entry->n_params);
  }
  for (const LoadedOptimizer* o : r.optimizers()) {
    EXPECT_EQ(resolve_params(o->entry->hyper, o->entry->n_hyper, {}, o->entry->name).size(), o->entry->n_hyper);
  }
}

}  // namespace
}  // namespace graphrun
