#pragma once
// FaultProfile: what can go wrong with a request, as probabilities, and decide(): one seeded roll
// per request that says what goes wrong this time (latency, then at most one fault). Set globally
// and per instance through the control API; a per-instance profile replaces the global one for
// that instance. Value type; decide() uses the caller's RNG (under the caller's lock).

#include <map>
#include <random>
#include <set>
#include <string>

#include <Poco/JSON/Object.h>

#include "emulator/emulator_options.hpp"
#include "fleet/result.hpp"

namespace greenfleet::emulator {

enum class FaultAction { none, error, hang, garbage, huge, reset, qrError };

struct FaultDecision {
  Millis latency{0};
  FaultAction action = FaultAction::none;
  int status = 0;  // for error
};

struct FaultProfile {
  int latencyMinMs = 0;
  int latencyMaxMs = 0;  // fixed latency: min == max
  double tailProbability = 0;
  int tailMs = 0;  // the long tail: with tailProbability, latency is tailMs instead
  std::map<int, double> errorRates;  // status → probability: 400, 429, 466, 500, 502, 504 …
  double hangProbability = 0;
  int hangMs = 30000;  // bounded by EmulatorOptions::hangMax; then the connection is reset
  double garbageProbability = 0;
  double hugeProbability = 0;
  int hugeBytes = 2 * 1024 * 1024;
  double resetProbability = 0;
  double qrErrorProbability = 0;  // qr answers {"type":"error"} with qrErrorMessage
  std::string qrErrorMessage = "Instance has auth. You need to make log out";
  std::set<std::string> methods;  // lower-case method names; empty = every wire method

  bool empty() const;
  bool appliesTo(const std::string& method_lower) const;
  FaultDecision decide(std::mt19937_64& rng, const std::string& method_lower) const;

  static fleet::Result<FaultProfile, std::string> fromJson(const Poco::JSON::Object::Ptr& json);
  Poco::JSON::Object::Ptr toJson() const;
};

}  // namespace greenfleet::emulator
