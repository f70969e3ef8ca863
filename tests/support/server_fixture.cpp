#include "support/server_fixture.hpp"

#include <signal.h>

#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>

#include "support/wait_for.hpp"

namespace greenfleet::testing {

std::map<std::string, std::string> quietServerEnv(const std::map<std::string, std::string>& extra) {
  std::map<std::string, std::string> env = {
      {"GREENFLEET_SCHEDULER_INTERVAL_AUTHORIZED_S", "60"},
      {"GREENFLEET_SCHEDULER_INTERVAL_NOT_AUTHORIZED_S", "60"},
      {"GREENFLEET_SCHEDULER_INTERVAL_STARTING_S", "60"},
      {"GREENFLEET_SCHEDULER_INTERVAL_BLOCKED_S", "60"},
      {"GREENFLEET_SCHEDULER_INTERVAL_OTHER_S", "60"},
      {"GREENFLEET_SCHEDULER_STARTUP_SPREAD_S", "0"},
      {"GREENFLEET_SCHEDULER_JITTER", "0"},
      {"GREENFLEET_SCHEDULER_CONFIRM_DELAY_S", "0.5"},
      {"GREENFLEET_STATUS_BATCH_MS", "20"},
      {"GREENFLEET_EVENTS_HEARTBEAT_S", "0.2"},
      {"GREENFLEET_LOG_LEVEL", "debug"}};
  for (const auto& [k, v] : extra) env[k] = v;
  return env;
}

ServerFixture::ServerFixture(std::vector<std::string> extra_args,
                             std::map<std::string, std::string> env)
    : extra_args_(std::move(extra_args)), env_(std::move(env)) {
  start();
}

ServerFixture::~ServerFixture() = default;

void ServerFixture::start() {
  std::vector<std::string> args = {"serve", "--port", "0", "--data-dir", dataDir()};
  args.insert(args.end(), extra_args_.begin(), extra_args_.end());
  process_ = std::make_unique<ChildProcess>(greenfleetBinary(), args, dir_.file("server.log"),
                                            effectiveEnv(), dir_.path().string());
  port_ = process_->waitForListeningPort();
  std::ifstream key(dataDir() + "/admin.key");
  std::getline(key, admin_key_);
}

std::map<std::string, std::string> ServerFixture::effectiveEnv() const {
  auto env = env_;
  env.emplace("GREENFLEET_UPSTREAM_ALLOWED_HOSTS", kLoopbackAllowedHosts);
  env.emplace("GREENFLEET_UPSTREAM_DEFAULT_API_URL", kClosedLoopbackApiUrl);
  return env;
}

int ServerFixture::stop() {
  if (!process_) return 0;
  process_->signal(SIGTERM);
  const auto code = process_->wait(std::chrono::seconds(30));
  process_.reset();
  if (!code) throw std::runtime_error("server did not stop within 30 s");
  return *code;
}

void ServerFixture::kill9() {
  if (!process_) return;
  process_->signal(SIGKILL);
  process_->wait(std::chrono::seconds(30));
  process_.reset();
}

int ServerFixture::publicPort() const {
  static const std::regex kPublic(R"(public listener on http://[^:\s]+:(\d+))");
  int port = 0;
  waitFor(
      [&] {
        std::smatch m;
        const std::string text = log();
        if (!std::regex_search(text, m, kPublic)) return false;
        port = std::stoi(m[1]);
        return true;
      },
      std::chrono::seconds(10));
  return port;
}

std::string ServerFixture::log() const {
  std::ifstream in(dir_.file("server.log"));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int ServerFixture::runCommand(std::vector<std::string> args, std::string& output) const {
  args.push_back("--data-dir");
  args.push_back(dataDir());
  return runToCompletion(greenfleetBinary(), args, output, effectiveEnv());
}

}  // namespace greenfleet::testing
