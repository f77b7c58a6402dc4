// Helpers of the tests that run the graphrun binary as a child process: make their temp folder,
// start it with extra environment variables and its output appended to a log, wait for it, read
// and write files.
#pragma once

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace graphrun::testing {

// A new empty directory <temp>/<prefix>_XXXXXX; "" when it cannot be made.
inline std::string make_temp_dir(const std::string& prefix) {
  std::string tmpl = (std::filesystem::temp_directory_path() / (prefix + "_XXXXXX")).string();
  return ::mkdtemp(tmpl.data()) ? tmpl : std::string();
}

// Starts args[0] with args and stdin from /dev/null, stdout appended to `log` and stderr to
// `err_log` (to `log` when empty); env entries "NAME=value" are set in the child only.
inline pid_t spawn(const std::vector<std::string>& args, const std::string& log,
                   const std::vector<std::string>& env = {}, const std::string& err_log = "") {
  std::fflush(nullptr);  // the child must not repeat buffered output
  const pid_t pid = ::fork();
  if (pid == 0) {
    for (const std::string& e : env) ::putenv(const_cast<char*>(e.c_str()));
    std::FILE* f = std::freopen(log.c_str(), "a", stdout);
    if (!f || !std::freopen((err_log.empty() ? log : err_log).c_str(), "a", stderr)) ::_exit(126);
    if (!std::freopen("/dev/null", "r", stdin)) ::_exit(126);
    std::vector<char*> argv;
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  return pid;
}

// The child's wait status.
inline int wait_for(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return status;
}

// Polls until the child exits or `seconds` pass; true when it exited (status filled).
inline bool wait_up_to(pid_t pid, double seconds, int* status) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  for (;;) {
    const pid_t r = ::waitpid(pid, status, WNOHANG);
    if (r == pid) return true;
    if (std::chrono::steady_clock::now() >= end) return false;
    ::usleep(500);
  }
}

// Waits up to `seconds`; the wait status, or -1 after killing a child that overran.
inline int wait_or_kill(pid_t pid, double seconds) {
  int status = 0;
  if (wait_up_to(pid, seconds, &status)) return status;
  ::kill(pid, SIGKILL);
  ::waitpid(pid, &status, 0);
  return -1;
}

inline std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

inline void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << bytes;
}

}  // namespace graphrun::testing
