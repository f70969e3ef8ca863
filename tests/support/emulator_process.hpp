#pragma once
// EmulatorProcess: a real `greenfleet emulate --port 0 …` child for integration tests, with
// helpers for its control API (/_emulator/…). The child is killed when the object dies.
// Not thread-safe (use one per test, or guard it).

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <Poco/JSON/Object.h>

#include "support/child_process.hpp"
#include "support/http_client.hpp"
#include "support/temp_dir.hpp"

namespace greenfleet::testing {

struct EmulatedCredentials {
  std::int64_t idInstance = 0;
  std::string apiTokenInstance;
  std::string state;
};

inline constexpr const char* kControllableClock = "--controllable-clock";

class EmulatorProcess {
 public:
  // extra_args are appended to: emulate --port 0 --seed 7 (add kControllableClock for a clock
  // that moves only by advanceClock)
  explicit EmulatorProcess(std::vector<std::string> extra_args);

  int port() const { return port_; }
  std::string apiUrl() const { return "http://127.0.0.1:" + std::to_string(port_); }
  const HttpClient& http() const { return http_; }
  ChildProcess& child() { return *child_; }

  std::vector<EmulatedCredentials> instances(const std::string& state_filter = {}) const;
  Poco::JSON::Object::Ptr instance(std::int64_t id) const;
  std::string stateOf(std::int64_t id) const;
  std::string qrPayloadOf(std::int64_t id) const;  // "" when no QR is shown
  Poco::JSON::Object::Ptr counters() const;
  // PUT /_emulator/faults (global) or /_emulator/instances/{id}/faults; returns HTTP status.
  int setFaults(const std::string& json, std::int64_t id = 0) const;
  int setState(std::int64_t id, const std::string& state) const;
  int scan(std::int64_t id) const;
  void resetCounters() const;
  // Moves the emulator's clock (started with --controllable-clock, where it stands still).
  void advanceClock(std::chrono::milliseconds by) const;
  std::string wirePath(const EmulatedCredentials& c, const std::string& method) const;

 private:
  TempDir dir_;
  std::unique_ptr<ChildProcess> child_;
  int port_ = 0;
  HttpClient http_{"127.0.0.1", 0};
};

Poco::JSON::Object::Ptr parseJsonObject(const std::string& text);

}  // namespace greenfleet::testing
