// Runs graphrun on every case of tests/corpus/MANIFEST.tsv (or the ones named with --case) and
// checks what issue 8 asks of bad input:
//   - the exit code is the expected one (never a signal, never a hang: killed after --timeout);
//   - stderr is exactly one line "graphrun: ..." naming the file and containing every expected
//     substring (exit 0: stderr is empty);
//   - on failure nothing changed: not the output folder ({out}, which holds a previous file),
//     not the working folder, not the corpus (no stray temporary files);
//   - peak memory (wait4's ru_maxrss of the child), beyond what `graphrun --version` takes (the
//     start-up: several times more under ASan), <= 2 x the file's size + 64 MB.
// "@safetensors {file}" rows are loaded in-process with io::read_safetensors (files that must
// load but match no model).
//
// Usage: corpus_runner --graphrun BIN --corpus DIR [--case REL]... [--timeout SECONDS]
// Exit 0 when every case passes, 1 otherwise (each failure on its own line).
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/error.h"
#include "io/safetensors.h"

namespace {

namespace fs = std::filesystem;

struct Case {
  std::string file, command;
  int exit_code = 0;
  std::vector<std::string> expect;
  int line = 0;
};

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == sep) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  out.push_back(cur);
  return out;
}

std::vector<Case> read_manifest(const std::string& path) {
  std::ifstream f(path);
  if (!f) {
    std::fprintf(stderr, "corpus_runner: cannot read %s\n", path.c_str());
    std::exit(2);
  }
  std::vector<Case> cases;
  std::string line;
  for (int n = 1; std::getline(f, line); ++n) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> cols = split(line, '\t');
    if (cols.size() < 3) {
      std::fprintf(stderr, "corpus_runner: %s:%d: expected file, command, exit\n", path.c_str(), n);
      std::exit(2);
    }
    Case c;
    c.file = cols[0];
    c.command = cols[1];
    c.exit_code = std::atoi(cols[2].c_str());
    c.expect.assign(cols.begin() + 3, cols.end());
    c.line = n;
    cases.push_back(std::move(c));
  }
  return cases;
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
    s.replace(at, from.size(), to);
  return s;
}

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// Every entry under dir (recursively) with its size and modification time: what "unchanged" means.
std::map<std::string, std::string> snapshot(const std::string& dir) {
  std::map<std::string, std::string> out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    struct stat st {};
    if (::lstat(it->path().c_str(), &st) != 0) continue;
    out[fs::relative(it->path(), dir).string()] =
        std::to_string(st.st_size) + "@" + std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec);
  }
  return out;
}

std::string diff(const std::map<std::string, std::string>& a, const std::map<std::string, std::string>& b) {
  std::string d;
  for (const auto& [k, v] : a) {
    auto it = b.find(k);
    if (it == b.end())
      d += " removed " + k;
    else if (it->second != v)
      d += " changed " + k;
  }
  for (const auto& [k, v] : b) {
    if (!a.count(k)) d += " added " + k;
  }
  return d;
}

std::string make_temp_dir(const char* tag) {
  std::string t = (fs::temp_directory_path() / (std::string("graphrun_corpus_") + tag + "_XXXXXX")).string();
  if (::mkdtemp(t.data()) == nullptr) {
    std::perror("mkdtemp");
    std::exit(2);
  }
  return t;
}

struct Outcome {
  int code = -1;  // exit code, or -1 when killed by a signal
  int signal = 0;
  bool timed_out = false;
  std::string err;
  long max_rss_kb = 0;
};

Outcome run_child(const std::vector<std::string>& args, const std::string& cwd, const std::string& out_file,
                  const std::string& err_file, int timeout_s) {
  Outcome o;
  const pid_t pid = ::fork();
  if (pid < 0) {
    std::perror("fork");
    std::exit(2);
  }
  if (pid == 0) {
    if (::chdir(cwd.c_str()) != 0) ::_exit(126);
    int in = ::open("/dev/null", O_RDONLY);
    int so = ::open(out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int se = ::open(err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (in < 0 || so < 0 || se < 0) ::_exit(126);
    ::dup2(in, 0);
    ::dup2(so, 1);
    ::dup2(se, 2);
    std::vector<char*> argv;
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  int status = 0;
  struct rusage ru {};
  for (;;) {
    pid_t r = ::wait4(pid, &status, WNOHANG, &ru);
    if (r == pid) break;
    if (std::chrono::steady_clock::now() > deadline && !o.timed_out) {
      o.timed_out = true;
      ::kill(pid, SIGKILL);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (WIFEXITED(status)) o.code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) o.signal = WTERMSIG(status);
  o.max_rss_kb = ru.ru_maxrss;
  o.err = slurp(err_file);
  return o;
}

// Checks the message: one line, "graphrun: " prefix (CLI cases), the file name and each expectation.
std::string check_message(const std::string& err, const Case& c, bool cli) {
  if (c.exit_code == 0) return err.empty() ? "" : "expected no stderr, got: " + err.substr(0, 300);
  if (err.empty()) return "expected one line on stderr, got nothing";
  const size_t lines = static_cast<size_t>(std::count(err.begin(), err.end(), '\n'));
  if (lines != 1 || err.back() != '\n')
    return "expected exactly one stderr line, got " + std::to_string(lines) + ": " + err.substr(0, 400);
  if (cli && !err.starts_with("graphrun: ")) return "stderr does not start with 'graphrun: ': " + err;
  const std::string base = fs::path(c.file).filename().string();
  if (err.find(base) == std::string::npos) return "message does not name the file " + base + ": " + err;
  for (const std::string& e : c.expect) {
    if (err.find(e) == std::string::npos) return "message lacks '" + e + "': " + err;
  }
  return "";
}

std::string run_case(const Case& c, const std::string& graphrun, const std::string& corpus, int timeout_s,
                     long startup_rss_kb) {
  const std::string file = corpus + "/" + c.file;
  const std::string out = make_temp_dir("out"), cwd = make_temp_dir("cwd"), logs = make_temp_dir("log");
  { std::ofstream(out + "/previous.safetensors") << "the previous run's file: must stay as it is\n"; }
  std::string cmd = replace_all(replace_all(replace_all(c.command, "{file}", file), "{corpus}", corpus), "{out}", out);
  std::vector<std::string> args;
  for (const std::string& a : split(cmd, ' ')) {
    if (!a.empty()) args.push_back(a);
  }
  const auto before_out = snapshot(out), before_cwd = snapshot(cwd), before_corpus = snapshot(corpus);
  std::string problem;
  if (!args.empty() && args[0] == "@safetensors") {
    std::string err;
    try {
      graphrun::io::read_safetensors(args.at(1));
    } catch (const graphrun::Error& ex) {
      err = std::string(ex.what()) + "\n";
    }
    problem = check_message(err, c, /*cli=*/false);
  } else {
    args.insert(args.begin(), graphrun);
    Outcome o = run_child(args, cwd, logs + "/stdout", logs + "/stderr", timeout_s);
    std::error_code ec;
    const uint64_t size = fs::is_regular_file(file, ec) ? fs::file_size(file, ec) : 0;
    const uint64_t limit = static_cast<uint64_t>(startup_rss_kb) * 1024 + 2 * size + (uint64_t{64} << 20);
    if (o.timed_out) {
      problem = "timed out after " + std::to_string(timeout_s) + " s (a hang)";
    } else if (o.signal) {
      problem = "killed by signal " + std::to_string(o.signal) + " (" + strsignal(o.signal) +
                "); stderr: " + o.err.substr(0, 400);
    } else if (o.code != c.exit_code) {
      problem = "exit " + std::to_string(o.code) + ", expected " + std::to_string(c.exit_code) +
                "; stderr: " + o.err.substr(0, 400);
    } else {
      problem = check_message(o.err, c, /*cli=*/true);
    }
    if (problem.empty() && static_cast<uint64_t>(o.max_rss_kb) * 1024 > limit) {
      problem = "peak memory " + std::to_string(o.max_rss_kb / 1024) + " MB is more than start-up (" +
                std::to_string(startup_rss_kb / 1024) + " MB) + 2 x file size + 64 MB (" + std::to_string(limit >> 20) +
                " MB)";
    }
  }
  if (problem.empty() && c.exit_code != 0) {
    if (std::string d = diff(before_out, snapshot(out)); !d.empty()) problem = "the output folder changed:" + d;
  }
  if (problem.empty()) {
    if (std::string d = diff(before_cwd, snapshot(cwd)); !d.empty()) problem = "the working folder changed:" + d;
  }
  if (problem.empty()) {
    if (std::string d = diff(before_corpus, snapshot(corpus)); !d.empty()) problem = "the corpus folder changed:" + d;
  }
  std::error_code ec;
  fs::remove_all(out, ec);
  fs::remove_all(cwd, ec);
  fs::remove_all(logs, ec);
  return problem;
}

}  // namespace

int main(int argc, char** argv) {
  std::string graphrun, corpus;
  std::set<std::string> only;
  int timeout_s = 60;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--graphrun")
      graphrun = v;
    else if (k == "--corpus")
      corpus = v;
    else if (k == "--case")
      only.insert(v);
    else if (k == "--timeout")
      timeout_s = std::atoi(v.c_str());
    else {
      std::fprintf(stderr, "corpus_runner: unknown option %s\n", k.c_str());
      return 2;
    }
  }
  if (graphrun.empty() || corpus.empty()) {
    std::fprintf(stderr, "usage: corpus_runner --graphrun BIN --corpus DIR [--case REL]... [--timeout S]\n");
    return 2;
  }
  corpus = fs::absolute(corpus).lexically_normal().string();
  graphrun = fs::absolute(graphrun).lexically_normal().string();
  if (corpus.size() > 1 && corpus.back() == '/') corpus.pop_back();
  const std::string logs = make_temp_dir("startup");
  const long startup_rss_kb =
      run_child({graphrun, "--version"}, logs, logs + "/stdout", logs + "/stderr", timeout_s).max_rss_kb;
  {
    std::error_code ec;
    fs::remove_all(logs, ec);
  }
  int failed = 0, ran = 0;
  for (const Case& c : read_manifest(corpus + "/MANIFEST.tsv")) {
    if (!only.empty() && !only.count(c.file)) continue;
    ++ran;
    const std::string problem = run_case(c, graphrun, corpus, timeout_s, startup_rss_kb);
    if (!problem.empty()) {
      ++failed;
      std::printf("FAIL %s (MANIFEST.tsv:%d): %s\n", c.file.c_str(), c.line, problem.c_str());
    } else {
      std::printf("ok   %s\n", c.file.c_str());
    }
  }
  std::printf("%d of %d corpus cases passed\n", ran - failed, ran);
  if (ran == 0) {
    std::printf("no case matched\n");
    return 1;
  }
  return failed ? 1 : 0;
}
