#pragma once
// ChildProcess: runs the real greenfleet binary (or any program) with arguments and extra
// environment, stdout+stderr captured into a log file. Killed with SIGKILL when destroyed unless
// it already exited. Not thread-safe.

#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace greenfleet::testing {

class ChildProcess {
 public:
  ChildProcess(std::string program, std::vector<std::string> args, std::string log_path,
               std::map<std::string, std::string> env = {}, std::string cwd = {});
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  void signal(int sig);
  // Waits for exit; returns the exit code (128+signal when killed), nullopt on timeout.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  std::string log() const;
  // Polls this run's part of the log for "listening on http://HOST:PORT" and returns the port
  // (throws on timeout).
  int waitForListeningPort(std::chrono::milliseconds timeout = std::chrono::seconds(30));

 private:
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
  std::string log_path_;
  std::size_t log_offset_ = 0;  // earlier runs appended before this point
};

// Runs a command to completion; returns exit code, and captured output in `output`.
int runToCompletion(const std::string& program, const std::vector<std::string>& args,
                    std::string& output, std::map<std::string, std::string> env = {},
                    std::chrono::milliseconds timeout = std::chrono::seconds(60));

std::string greenfleetBinary();

}  // namespace greenfleet::testing
