#include "core/plugin_host.h"

#include <dlfcn.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <system_error>

#include <fmt/format.h>

#include "core/did_you_mean.h"
#include "core/error.h"

// The staging area one module registers into during its init; committed to the registry only
// when init succeeds and every entry is valid (all or nothing per module).
struct graphrun_registry {
  std::vector<const graphrun_activation*> activations;
  std::vector<const graphrun_optimizer*> optimizers;
  std::string entry_error;   // first invalid entry, recorded by register_*
  std::string init_message;  // set by set_error
};

namespace graphrun {
namespace {

namespace fs = std::filesystem;

[[noreturn]] void fail(const std::string& message) { throw Error(ErrorKind::Plugin, message); }

std::string one_line(std::string s) {
  std::replace(s.begin(), s.end(), '\n', ' ');
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.pop_back();
  return s;
}

// dlerror() text without the leading "<path>: " (we name the file ourselves), on one line.
std::string dl_error_text(const std::string& path) {
  const char* e = dlerror();
  std::string s = e ? e : "unknown dynamic loader error";
  if (s.rfind(path + ": ", 0) == 0) s = s.substr(path.size() + 2);
  return one_line(s);
}

struct DlClose {
  void operator()(void* handle) const {
    if (handle) dlclose(handle);
  }
};
using ModuleHandle = std::unique_ptr<void, DlClose>;

// ---- entry validation (returns the reason, empty when valid) ----

bool valid_name(const char* name) {
  if (!name || !*name) return false;
  for (const char* p = name; *p; ++p) {
    const char c = *p;
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

// `table` is the field name ("params" or "hyper"); its count field is "n_" + table.
std::string validate_params(const std::string& what, const char* table, const graphrun_param* params, uint32_t n) {
  if (n > 0 && !params) return fmt::format("{}: n_{} = {} but {} is NULL", what, table, n, table);
  std::set<std::string> seen;
  for (uint32_t i = 0; i < n; ++i) {
    const graphrun_param& p = params[i];
    if (!valid_name(p.name)) return fmt::format("{}: {}[{}] has a missing or invalid name", what, table, i);
    if (!seen.insert(p.name).second) return fmt::format("{}: parameter '{}' is declared twice", what, p.name);
    if (!(p.min_value <= p.max_value)) {
      return fmt::format("{}: parameter '{}' has an empty range [{}, {}]", what, p.name, p.min_value, p.max_value);
    }
    if (!(p.default_value >= p.min_value && p.default_value <= p.max_value)) {
      return fmt::format("{}: parameter '{}' has default {} outside its range [{}, {}]", what, p.name, p.default_value,
                         p.min_value, p.max_value);
    }
  }
  return {};
}

std::string validate(const graphrun_activation& e) {
  if (e.struct_size != sizeof(graphrun_activation)) {
    return fmt::format("an activation entry has struct_size {}, expected {}", e.struct_size,
                       sizeof(graphrun_activation));
  }
  if (!valid_name(e.name)) return "an activation entry has a missing or invalid name (expected [a-z0-9_]+)";
  const std::string what = fmt::format("activation '{}'", e.name);
  if (e.kind != GRAPHRUN_ACTIVATION_ELEMENTWISE && e.kind != GRAPHRUN_ACTIVATION_ROWWISE) {
    return fmt::format("{}: unknown kind {}", what, static_cast<int>(e.kind));
  }
  if (!e.forward) return what + ": forward kernel is NULL";
  if (!e.backward) return what + ": backward kernel is NULL";
  return validate_params(what, "params", e.params, e.n_params);
}

// The first ABI-1 header ended graphrun_optimizer at `step`; step_outer was appended since.
constexpr size_t kOptimizerSizeWithoutStepOuter = offsetof(graphrun_optimizer, step_outer);

std::string validate(const graphrun_optimizer& e) {
  if (e.struct_size != sizeof(graphrun_optimizer) && e.struct_size != kOptimizerSizeWithoutStepOuter) {
    return fmt::format("an optimizer entry has struct_size {}, expected {} (or {} without step_outer)", e.struct_size,
                       sizeof(graphrun_optimizer), kOptimizerSizeWithoutStepOuter);
  }
  if (!valid_name(e.name)) return "an optimizer entry has a missing or invalid name (expected [a-z0-9_]+)";
  const std::string what = fmt::format("optimizer '{}'", e.name);
  if (!e.step) return what + ": step kernel is NULL";
  if (!(e.default_lr > 0 && std::isfinite(e.default_lr))) {
    return fmt::format("{}: default_lr {} is not a positive number", what, e.default_lr);
  }
  if (e.n_state_slots > 0) {
    if (!e.state_slot_names)
      return fmt::format("{}: n_state_slots = {} but state_slot_names is NULL", what, e.n_state_slots);
    for (uint32_t i = 0; i < e.n_state_slots; ++i) {
      if (!valid_name(e.state_slot_names[i]))
        return fmt::format("{}: state slot {} has a missing or invalid name", what, i);
    }
  }
  return validate_params(what, "hyper", e.hyper, e.n_hyper);
}

// ---- the host table handed to plugins (C edge: no exception may escape) ----

template <class Entry>
int register_entry(graphrun_registry* r, const Entry* e, std::vector<const Entry*>& out, const char* kind) {
  try {
    std::string err = e ? validate(*e) : fmt::format("register_{} was called with NULL", kind);
    if (err.empty()) {
      out.push_back(e);
      return 0;
    }
    if (r->entry_error.empty()) r->entry_error = std::move(err);
  } catch (...) {
    if (r->entry_error.empty()) r->entry_error = "out of memory while registering";
  }
  return 1;
}

int host_register_activation(graphrun_registry* r, const graphrun_activation* e) {
  return r ? register_entry(r, e, r->activations, "activation") : 1;
}
int host_register_optimizer(graphrun_registry* r, const graphrun_optimizer* e) {
  return r ? register_entry(r, e, r->optimizers, "optimizer") : 1;
}
void host_set_error(graphrun_registry* r, const char* message) {
  if (!r) return;
  try {
    r->init_message = one_line(message ? message : "");
  } catch (...) {}
}

const graphrun_host kHost = {GRAPHRUN_PLUGIN_ABI_VERSION, host_register_activation, host_register_optimizer,
                             host_set_error};

// ---- search path ----

std::string canonical_or_self(const std::string& p) {
  std::error_code ec;
  fs::path c = fs::weakly_canonical(fs::absolute(p, ec), ec);
  return ec ? p : c.string();
}

bool readable_dir(const std::string& d) {
  std::error_code ec;
  return fs::is_directory(d, ec) && ::access(d.c_str(), R_OK | X_OK) == 0;
}

void anchor() {}

// <libdir>/graphrun/plugins as seen from where this code was loaded from.
std::vector<std::string> runtime_install_dirs() {
  std::vector<std::string> out;
  Dl_info info{};
  std::string self;
  if (dladdr(reinterpret_cast<void*>(&anchor), &info) != 0 && info.dli_fname && *info.dli_fname) {
    self = info.dli_fname;
  }
  std::error_code ec;
  fs::path p = fs::canonical(self.empty() ? std::string("/proc/self/exe") : self, ec);
  if (ec) p = fs::canonical("/proc/self/exe", ec);
  if (ec) return out;
  const fs::path dir = p.parent_path();
  out.push_back((dir / "graphrun" / "plugins").string());  // the library sits in <libdir>
#ifdef GRAPHRUN_INSTALL_LIBDIR
  if (dir.filename() == "bin") {  // an executable in <prefix>/bin with graphrun linked statically
    out.push_back((dir.parent_path() / GRAPHRUN_INSTALL_LIBDIR / "graphrun" / "plugins").string());
  }
#endif
  return out;
}

std::vector<std::string> split_path_list(const char* s) {
  std::vector<std::string> out;
  if (!s) return out;
  std::string cur;
  for (const char* p = s;; ++p) {
    if (*p == ':' || *p == '\0') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
      if (*p == '\0') break;
    } else {
      cur += *p;
    }
  }
  return out;
}

// "; known: a, b, c; did you mean ...?" after an unknown name, and where other plugins come from.
template <class Map>
std::string known_names(const Map& m, std::string_view unknown) {
  if (m.empty()) return "; known: none (no plugin loaded: check --plugin-dir and GRAPHRUN_PLUGIN_PATH)";
  std::vector<std::string> names;
  for (const auto& [name, _] : m) names.emplace_back(name);
  std::string s = "; known: ";
  for (size_t i = 0; i < names.size(); ++i) s += (i ? ", " : "") + names[i];
  return s + did_you_mean(unknown, names) +
         " (another plugin's? load its folder with --plugin-dir or GRAPHRUN_PLUGIN_PATH)";
}

}  // namespace

struct PluginRegistry::Impl {
  std::map<std::string, LoadedActivation, std::less<>> activations;
  std::map<std::string, LoadedOptimizer, std::less<>> optimizers;
  std::vector<std::string> files;     // as named to the user, load order
  std::set<std::string> canonical;    // canonical paths of loaded files
  std::vector<ModuleHandle> handles;  // declared last: closed first, after nothing uses them
  bool lazy = false;                  // global(): load the default path on first lookup
  std::atomic<bool> searched{false};
  std::mutex load_mutex;

  void load_search_path(const std::vector<std::string>& extra_dirs);
  void load_file(const std::string& path);
};

PluginRegistry::PluginRegistry() : impl_(std::make_unique<Impl>()) {}
PluginRegistry::~PluginRegistry() = default;

std::vector<std::string> PluginRegistry::search_path(const std::vector<std::string>& extra_dirs) {
  std::vector<std::string> dirs;
  std::set<std::string> seen;
  auto add = [&](const std::string& d, bool is_explicit, const char* origin) {
    if (!readable_dir(d)) {
      if (!is_explicit) return;
      std::error_code ec;
      const bool exists = fs::exists(d, ec);
      fail(fmt::format("plugin directory '{}' (from {}) {}", d, origin,
                       !exists                   ? "does not exist"
                       : fs::is_directory(d, ec) ? "cannot be read"
                                                 : "is not a directory"));
    }
    if (seen.insert(canonical_or_self(d)).second) dirs.push_back(d);
  };
  for (const std::string& d : extra_dirs) add(d, true, "--plugin-dir");
  for (const std::string& d : split_path_list(std::getenv("GRAPHRUN_PLUGIN_PATH"))) {
    add(d, true, "GRAPHRUN_PLUGIN_PATH");
  }
#ifdef GRAPHRUN_PLUGIN_BUILD_DIR
  add(GRAPHRUN_PLUGIN_BUILD_DIR, false, "build tree");
#endif
  for (const std::string& d : runtime_install_dirs()) add(d, false, "install prefix");
#ifdef GRAPHRUN_INSTALL_FULL_LIBDIR
  add(std::string(GRAPHRUN_INSTALL_FULL_LIBDIR) + "/graphrun/plugins", false, "install prefix");
#endif
  return dirs;
}

void PluginRegistry::Impl::load_search_path(const std::vector<std::string>& extra_dirs) {
  std::set<std::string> names_taken;  // file names provided by earlier folders
  for (const std::string& dir : PluginRegistry::search_path(extra_dirs)) {
    std::vector<fs::path> modules;
    std::error_code ec;
    fs::directory_iterator it(dir, ec), end;
    if (ec) fail(fmt::format("plugin directory '{}' cannot be read: {}", dir, ec.message()));
    for (; it != end; it.increment(ec)) {
      if (ec) fail(fmt::format("plugin directory '{}' cannot be read: {}", dir, ec.message()));
      const fs::path& p = it->path();
      std::error_code ec2;
      if (p.extension() == ".so" && fs::is_regular_file(p, ec2)) modules.push_back(p);
    }
    std::sort(modules.begin(), modules.end());
    std::vector<std::string> here;
    for (const fs::path& p : modules) {
      const std::string name = p.filename().string();
      if (names_taken.count(name)) continue;  // shadowed by an earlier folder
      here.push_back(name);
      load_file(p.string());
    }
    names_taken.insert(here.begin(), here.end());
  }
}

void PluginRegistry::Impl::load_file(const std::string& given) {
  std::error_code ec;
  const std::string path = fs::absolute(given, ec).lexically_normal().string();
  const std::string canon = canonical_or_self(path);
  if (canonical.count(canon)) return;

  dlerror();
  ModuleHandle handle(dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL));
  if (!handle) fail(fmt::format("plugin {} cannot be loaded: {}", path, dl_error_text(path)));

  using AbiFn = uint32_t (*)();
  using InitFn = int (*)(const graphrun_host*, graphrun_registry*);
  auto abi = reinterpret_cast<AbiFn>(dlsym(handle.get(), "graphrun_plugin_abi_version"));
  if (!abi) fail(fmt::format("plugin {} is not a graphrun plugin: it has no graphrun_plugin_abi_version symbol", path));
  const uint32_t version = abi();
  if (version != GRAPHRUN_PLUGIN_ABI_VERSION) {
    fail(fmt::format("plugin {} was built for ABI version {}, this graphrun has ABI version {}", path, version,
                     GRAPHRUN_PLUGIN_ABI_VERSION));
  }
  auto init = reinterpret_cast<InitFn>(dlsym(handle.get(), "graphrun_plugin_init"));
  if (!init) fail(fmt::format("plugin {} has no graphrun_plugin_init symbol", path));

  graphrun_registry staged;
  const int rc = init(&kHost, &staged);
  if (rc != 0) {
    fail(fmt::format("plugin {}: graphrun_plugin_init failed (returned {}): {}", path, rc,
                     !staged.init_message.empty()  ? staged.init_message
                     : !staged.entry_error.empty() ? staged.entry_error
                                                   : "no message"));
  }
  if (!staged.entry_error.empty()) fail(fmt::format("plugin {}: {}", path, staged.entry_error));

  // Names must be new, both within this module and against every module loaded before.
  auto check_names = [&](const auto& entries, const auto& existing, const char* kind) {
    std::set<std::string> mine;
    for (const auto* e : entries) {
      if (!mine.insert(e->name).second) fail(fmt::format("plugin {} registers {} '{}' twice", path, kind, e->name));
      auto it = existing.find(std::string_view(e->name));
      if (it != existing.end()) {
        fail(fmt::format("{} '{}' is registered by two plugins: {} and {}", kind, e->name, it->second.file, path));
      }
    }
  };
  check_names(staged.activations, activations, "activation");
  check_names(staged.optimizers, optimizers, "optimizer");

  for (const auto* e : staged.activations) activations.emplace(e->name, LoadedActivation{e, path});
  for (const auto* e : staged.optimizers) {
    const bool has_outer = e->struct_size >= offsetof(graphrun_optimizer, step_outer) + sizeof(e->step_outer);
    optimizers.emplace(e->name, LoadedOptimizer{e, path, has_outer ? e->step_outer : nullptr});
  }
  files.push_back(path);
  canonical.insert(canon);
  handles.push_back(std::move(handle));
}

void PluginRegistry::load_search_path(const std::vector<std::string>& extra_dirs) {
  std::lock_guard<std::mutex> lock(impl_->load_mutex);
  impl_->load_search_path(extra_dirs);
  impl_->searched.store(true, std::memory_order_release);
}

void PluginRegistry::load_file(const std::string& path) {
  std::lock_guard<std::mutex> lock(impl_->load_mutex);
  impl_->load_file(path);
}

void PluginRegistry::ensure_loaded() const {
  if (!impl_->lazy || impl_->searched.load(std::memory_order_acquire)) return;
  std::lock_guard<std::mutex> lock(impl_->load_mutex);
  if (impl_->searched.load(std::memory_order_relaxed)) return;
  impl_->load_search_path({});
  impl_->searched.store(true, std::memory_order_release);
}

const LoadedActivation* PluginRegistry::find_activation(std::string_view name) const {
  ensure_loaded();
  auto it = impl_->activations.find(name);
  return it == impl_->activations.end() ? nullptr : &it->second;
}

const LoadedOptimizer* PluginRegistry::find_optimizer(std::string_view name) const {
  ensure_loaded();
  auto it = impl_->optimizers.find(name);
  return it == impl_->optimizers.end() ? nullptr : &it->second;
}

const LoadedActivation& PluginRegistry::activation(std::string_view name) const {
  if (const LoadedActivation* a = find_activation(name)) return *a;
  throw Error(ErrorKind::BadInput,
              fmt::format("unknown activation '{}'{}", name, known_names(impl_->activations, name)));
}

const LoadedOptimizer& PluginRegistry::optimizer(std::string_view name) const {
  if (const LoadedOptimizer* o = find_optimizer(name)) return *o;
  throw Error(ErrorKind::BadInput, fmt::format("unknown optimizer '{}'{}", name, known_names(impl_->optimizers, name)));
}

std::vector<const LoadedActivation*> PluginRegistry::activations() const {
  ensure_loaded();
  std::vector<const LoadedActivation*> out;
  for (const auto& [_, a] : impl_->activations) out.push_back(&a);
  return out;
}

std::vector<const LoadedOptimizer*> PluginRegistry::optimizers() const {
  ensure_loaded();
  std::vector<const LoadedOptimizer*> out;
  for (const auto& [_, o] : impl_->optimizers) out.push_back(&o);
  return out;
}

std::vector<std::string> PluginRegistry::files() const {
  ensure_loaded();
  return impl_->files;
}

PluginRegistry& PluginRegistry::global() {
  // Never destroyed: entries (and kernels in Programs) stay valid until the process exits.
  static PluginRegistry* registry = [] {
    auto* r = new PluginRegistry;
    r->impl_->lazy = true;
    return r;
  }();
  return *registry;
}

std::vector<double> resolve_params(const graphrun_param* params, uint32_t n,
                                   const std::vector<std::pair<std::string, double>>& given, std::string_view context) {
  std::vector<double> values(n);
  std::vector<bool> set(n, false);
  for (uint32_t i = 0; i < n; ++i) values[i] = params[i].default_value;
  for (const auto& [name, value] : given) {
    uint32_t i = 0;
    while (i < n && name != params[i].name) ++i;
    if (i == n) {
      std::vector<std::string> known;
      for (uint32_t k = 0; k < n; ++k) known.emplace_back(params[k].name);
      throw Error(ErrorKind::BadInput,
                  n == 0 ? fmt::format("{}: unknown parameter '{}': it takes no parameters", context, name)
                         : fmt::format("{}: unknown parameter '{}'; known: {}{}", context, name, fmt::join(known, ", "),
                                       did_you_mean(name, known)));
    }
    if (set[i]) throw Error(ErrorKind::BadInput, fmt::format("{}: parameter '{}' is given twice", context, name));
    const graphrun_param& p = params[i];
    if (!(value >= p.min_value && value <= p.max_value)) {
      throw Error(ErrorKind::BadInput, fmt::format("{}: parameter '{}' = {} is outside its valid range [{}, {}]",
                                                   context, name, value, p.min_value, p.max_value));
    }
    values[i] = value;
    set[i] = true;
  }
  return values;
}

}  // namespace graphrun
