#pragma once
// ServerFixture: a real `greenfleet serve` on a free loopback port, with its data directory (and
// so its SQLite file) in a fresh temp dir, run from that dir so no stray config applies.
// Restartable, killable with SIGKILL, its log readable. Not thread-safe.
// Upstream stays on loopback: unless the test's environment says otherwise, the server may only
// reach loopback hosts (kLoopbackAllowedHosts) and instances registered without an apiUrl point
// at a closed loopback port (kClosedLoopbackApiUrl), so no test sends a packet off this machine.

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "support/child_process.hpp"
#include "support/http_client.hpp"
#include "support/temp_dir.hpp"

namespace greenfleet::testing {

// A server that probes only when asked (60 s intervals), probes a new instance at once, confirms
// alarms after 0.5 s, commits events every 20 ms, sends heartbeats every 0.2 s and logs at debug
// level (so token checks see every line it can write); `extra` adds or overrides keys.
std::map<std::string, std::string> quietServerEnv(
    const std::map<std::string, std::string>& extra = {});

inline constexpr const char* kLoopbackAllowedHosts = "127.0.0.0/8, localhost, [::1]";
inline constexpr const char* kClosedLoopbackApiUrl = "http://127.0.0.1:9";

class ServerFixture {
 public:
  explicit ServerFixture(std::vector<std::string> extra_args = {},
                         std::map<std::string, std::string> env = {});
  ~ServerFixture();

  void start();
  // SIGTERM and wait for a clean exit; returns the exit code.
  int stop();
  void kill9();
  void restart() {
    stop();
    start();
  }
  // Environment and extra arguments for the next start(); a running server keeps its own.
  void setEnv(std::map<std::string, std::string> env) { env_ = std::move(env); }
  void setExtraArgs(std::vector<std::string> extra_args) { extra_args_ = std::move(extra_args); }

  // The environment the server runs with: the test's, over the loopback-only upstream defaults.
  std::map<std::string, std::string> effectiveEnv() const;

  HttpClient client() const { return HttpClient("127.0.0.1", port_); }
  int port() const { return port_; }
  // The public listener's port, from the start-up line the server prints (public.enabled with
  // public.port 0); waits up to 10 s for it, 0 when it never appears.
  int publicPort() const;
  const std::string& adminKey() const { return admin_key_; }
  std::string dataDir() const { return dir_.file("var"); }
  std::string dbPath() const { return dir_.file("var/greenfleet.db"); }
  const TempDir& dir() const { return dir_; }
  // Everything every run of the server has logged so far.
  std::string log() const;
  // Runs another greenfleet subcommand against the same data directory.
  int runCommand(std::vector<std::string> args, std::string& output) const;

 private:
  TempDir dir_;
  std::vector<std::string> extra_args_;
  std::map<std::string, std::string> env_;
  std::unique_ptr<ChildProcess> process_;
  int port_ = 0;
  std::string admin_key_;
};

}  // namespace greenfleet::testing
