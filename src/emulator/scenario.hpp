#pragma once
// Scenario: a fleet described in JSON for one-line tests and demos (docs/EMULATOR.md):
//   {"instances": {"authorized": 150, "notAuthorized": 30, "starting": 10, "blocked": 5},
//    "faults": {<FaultProfile>}, "delays": {"startingMs": 500, ...}, "seed": 7,
//    "initializingAnswer": "null"|"401", "wsTimeoutType": "timeoutExpired"|"timeout",
//    "rateLimits": {"qr": 3, ...}}
// Plain value; parse() checks every field's presence and type.

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/result.hpp"
#include "emulator/emulator_options.hpp"
#include "emulator/fault_profile.hpp"

namespace greenfleet::emulator {

struct Scenario {
  std::vector<std::pair<std::string, int>> instances;  // state → count, in a fixed state order
  std::optional<FaultProfile> faults;

  // Parses the JSON text; fields that tune EmulatorOptions are written into `options`.
  static base::Result<Scenario, std::string> parse(const std::string& text,
                                                   EmulatorOptions& options);
  static base::Result<Scenario, std::string> load(const std::string& path,
                                                  EmulatorOptions& options);
};

}  // namespace greenfleet::emulator
