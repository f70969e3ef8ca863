#pragma once
// FaultProfile: what can go wrong with a request, as probabilities, and decide(): one seeded roll
// per request that says what goes wrong this time (latency, then at most one fault). Set globally
// and per instance through the control API; a per-instance profile replaces the global one for
// that instance. Value type; decide() uses the caller's RNG (under the caller's lock).

#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>

#include <Poco/JSON/Object.h>

#include "base/result.hpp"
#include "emulator/emulator_options.hpp"

namespace greenfleet::emulator {

// A splitmix64 generator (a UniformRandomBitGenerator of 8 bytes): each emulated instance owns
// one, where a std::mt19937_64 would cost 2.5 KB per instance. Value type.
class FaultRng {
 public:
  using result_type = std::uint64_t;
  explicit FaultRng(std::uint64_t seed) : state_(seed) {}
  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return ~result_type{0}; }
  result_type operator()() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

 private:
  std::uint64_t state_;
};

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
  FaultDecision decide(FaultRng& rng, const std::string& method_lower) const;

  static base::Result<FaultProfile, std::string> fromJson(const Poco::JSON::Object::Ptr& json);
  Poco::JSON::Object::Ptr toJson() const;

 private:
  template <typename Rng>
  FaultDecision decideWith(Rng& rng, const std::string& method_lower) const;
};

// An optional FaultProfile held on the heap: most instances have none, and an inline
// std::optional<FaultProfile> would cost its ~200 bytes in every one. Reads like std::optional.
class OptionalFaultProfile {
 public:
  OptionalFaultProfile() = default;
  OptionalFaultProfile(const OptionalFaultProfile& o)
      : value_(o.value_ ? std::make_unique<FaultProfile>(*o.value_) : nullptr) {}
  OptionalFaultProfile& operator=(const OptionalFaultProfile& o) {
    value_ = o.value_ ? std::make_unique<FaultProfile>(*o.value_) : nullptr;
    return *this;
  }
  OptionalFaultProfile& operator=(FaultProfile profile) {
    value_ = std::make_unique<FaultProfile>(std::move(profile));
    return *this;
  }
  explicit operator bool() const { return value_ != nullptr; }
  bool has_value() const { return value_ != nullptr; }
  const FaultProfile& operator*() const { return *value_; }
  FaultProfile& operator*() { return *value_; }
  const FaultProfile* operator->() const { return value_.get(); }
  FaultProfile* operator->() { return value_.get(); }
  void reset() { value_.reset(); }

 private:
  std::unique_ptr<FaultProfile> value_;
};

}  // namespace greenfleet::emulator
