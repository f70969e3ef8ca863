#include "emulator/scenario.hpp"

#include <fstream>
#include <functional>
#include <set>
#include <sstream>

#include <Poco/JSON/Parser.h>
#include <fmt/format.h>

#include "emulator/emulated_instance.hpp"

namespace greenfleet::emulator {

namespace {

using Error = base::Unexpected<std::string>;

bool readMs(const Poco::JSON::Object::Ptr& obj, const std::string& name, Millis& out,
            std::string& error) {
  if (!obj->has(name)) return true;
  const auto v = obj->get(name);
  if (!v.isInteger() || v.convert<long long>() < 0) {
    error = fmt::format("delays.{} must be a non-negative integer (milliseconds)", name);
    return false;
  }
  out = Millis(v.convert<long long>());
  return true;
}

// Each step below reads one part of the scenario and answers an error text, empty when fine.

std::string parseObject(const std::string& text, Poco::JSON::Object::Ptr& root) {
  try {
    Poco::JSON::Parser parser;
    const auto v = parser.parse(text);
    if (v.type() != typeid(Poco::JSON::Object::Ptr)) return "scenario must be a JSON object";
    root = v.extract<Poco::JSON::Object::Ptr>();
  } catch (const Poco::Exception& e) {
    return "scenario is not valid JSON: " + e.displayText();
  }
  return {};
}

std::string checkFieldNames(const Poco::JSON::Object::Ptr& root) {
  static const std::set<std::string> kKnown{
      "instances", "faults", "delays", "seed", "initializingAnswer", "wsTimeoutType", "rateLimits"};
  for (const auto& name : root->getNames()) {
    if (kKnown.count(name) == 0) return fmt::format("unknown scenario field '{}'", name);
  }
  return {};
}

std::string readInstances(const Poco::JSON::Object::Ptr& root, Scenario& s) {
  if (!root->has("instances")) return {};
  const auto inst = root->getObject("instances");
  if (!inst) return "'instances' must be an object of state → count";
  for (const auto& name : inst->getNames()) {
    if (!states::isKnown(name)) return fmt::format("unknown state '{}' in instances", name);
    const auto v = inst->get(name);
    if (!v.isInteger() || v.convert<long long>() < 0 || v.convert<long long>() > 1000000) {
      return fmt::format("instances.{} must be an integer within 0..1000000", name);
    }
  }
  for (const char* state :
       {states::kAuthorized, states::kNotAuthorized, states::kStarting, states::kNew,
        states::kBlocked, states::kSuspended, states::kYellowCard, states::kSleepMode}) {
    if (inst->has(state)) s.instances.emplace_back(state, inst->get(state).convert<int>());
  }
  return {};
}

std::string readFaults(const Poco::JSON::Object::Ptr& root, Scenario& s) {
  if (!root->has("faults")) return {};
  const auto f = root->getObject("faults");
  if (!f) return "'faults' must be an object";
  auto parsed = FaultProfile::fromJson(f);
  if (!parsed) return "faults: " + parsed.error();
  s.faults = std::move(parsed).value();
  return {};
}

std::string readDelays(const Poco::JSON::Object::Ptr& root, Delays& dl) {
  if (!root->has("delays")) return {};
  const auto d = root->getObject("delays");
  if (!d) return "'delays' must be an object";
  static const std::set<std::string> kDelays{"initializingMs", "startingMs",   "logoutMs",
                                             "rebootMs",       "qrRotationMs", "qrQuirkMs",
                                             "qrQuirkGapMs",   "wsTimeoutMs"};
  for (const auto& name : d->getNames()) {
    if (kDelays.count(name) == 0) return fmt::format("unknown delay '{}'", name);
  }
  std::string error;
  if (!readMs(d, "initializingMs", dl.initializing, error) ||
      !readMs(d, "startingMs", dl.starting, error) || !readMs(d, "logoutMs", dl.logout, error) ||
      !readMs(d, "rebootMs", dl.reboot, error) ||
      !readMs(d, "qrRotationMs", dl.qrRotation, error) ||
      !readMs(d, "qrQuirkMs", dl.qrQuirk, error) ||
      !readMs(d, "qrQuirkGapMs", dl.qrQuirkGap, error) ||
      !readMs(d, "wsTimeoutMs", dl.wsTimeout, error)) {
    return error;
  }
  return {};
}

std::string readSeed(const Poco::JSON::Object::Ptr& root, EmulatorOptions& options) {
  if (!root->has("seed")) return {};
  const auto v = root->get("seed");
  if (!v.isInteger()) return "'seed' must be an integer";
  options.seed = v.convert<std::uint64_t>();
  return {};
}

std::string readAnswerTypes(const Poco::JSON::Object::Ptr& root, EmulatorOptions& options) {
  for (const char* name : {"initializingAnswer", "wsTimeoutType"}) {
    if (!root->has(name)) continue;
    const auto v = root->get(name);
    if (!v.isString()) return fmt::format("'{}' must be a string", name);
    (std::string(name) == "wsTimeoutType" ? options.wsTimeoutType : options.initializingAnswer) =
        v.extract<std::string>();
  }
  if (options.initializingAnswer != "null" && options.initializingAnswer != "401") {
    return "'initializingAnswer' must be \"null\" or \"401\"";
  }
  return {};
}

std::string readRateLimits(const Poco::JSON::Object::Ptr& root, EmulatorOptions& options) {
  if (!root->has("rateLimits")) return {};
  const auto r = root->getObject("rateLimits");
  if (!r) return "'rateLimits' must be an object of method → requests per second";
  for (const auto& name : r->getNames()) {
    const auto v = r->get(name);
    if (!v.isInteger() || v.convert<int>() < 0) {
      return fmt::format("rateLimits.{} must be a non-negative integer", name);
    }
    options.rateLimits[name] = v.convert<int>();
  }
  return {};
}

}  // namespace

base::Result<Scenario, std::string> Scenario::parse(const std::string& text,
                                                    EmulatorOptions& options) {
  Poco::JSON::Object::Ptr root;
  Scenario s;
  const std::function<std::string()> steps[] = {
      [&] { return parseObject(text, root); },
      [&] { return checkFieldNames(root); },
      [&] { return readInstances(root, s); },
      [&] { return readFaults(root, s); },
      [&] { return readDelays(root, options.delays); },
      [&] { return readSeed(root, options); },
      [&] { return readAnswerTypes(root, options); },
      [&] { return readRateLimits(root, options); },
  };
  for (const auto& step : steps) {
    if (auto error = step(); !error.empty()) return Error(std::move(error));
  }
  return s;
}

base::Result<Scenario, std::string> Scenario::load(const std::string& path,
                                                   EmulatorOptions& options) {
  std::ifstream in(path);
  if (!in) return Error(fmt::format("cannot read scenario file {}", path));
  std::ostringstream text;
  text << in.rdbuf();
  return parse(text.str(), options);
}

}  // namespace greenfleet::emulator
