#include "emulator/fault_profile.hpp"

#include <Poco/JSON/Array.h>
#include <Poco/String.h>
#include <fmt/format.h>

namespace greenfleet::emulator {

namespace {

using Error = base::Unexpected<std::string>;

bool readNumber(const Poco::JSON::Object::Ptr& json, const std::string& name, double& out,
                std::string& error) {
  if (!json->has(name)) return true;
  const auto v = json->get(name);
  if (!v.isNumeric() || v.isBoolean()) {
    error = fmt::format("field '{}' must be a number", name);
    return false;
  }
  out = v.convert<double>();
  return true;
}

bool readProbability(const Poco::JSON::Object::Ptr& json, const std::string& name, double& out,
                     std::string& error) {
  if (!readNumber(json, name, out, error)) return false;
  if (out < 0 || out > 1) {
    error = fmt::format("field '{}' must be within 0..1", name);
    return false;
  }
  return true;
}

bool readMillis(const Poco::JSON::Object::Ptr& json, const std::string& name, int& out,
                std::string& error) {
  double v = out;
  if (!readNumber(json, name, v, error)) return false;
  if (v < 0 || v > 3600000) {
    error = fmt::format("field '{}' must be within 0..3600000", name);
    return false;
  }
  out = static_cast<int>(v);
  return true;
}

// The steps of FaultProfile::fromJson, each over some of its fields: an error text, empty when
// fine.

std::string checkFieldNames(const Poco::JSON::Object::Ptr& json, FaultProfile&) {
  static const std::set<std::string> kKnown{
      "latencyMinMs",       "latencyMaxMs",   "latencyMs",
      "tailProbability",    "tailMs",         "errorRates",
      "hangProbability",    "hangMs",         "garbageProbability",
      "hugeProbability",    "hugeBytes",      "resetProbability",
      "qrErrorProbability", "qrErrorMessage", "methods"};
  for (const auto& name : json->getNames()) {
    if (kKnown.count(name) == 0) return fmt::format("unknown field '{}'", name);
  }
  return {};
}

std::string readTimingsAndOdds(const Poco::JSON::Object::Ptr& json, FaultProfile& p) {
  std::string error;
  if (json->has("latencyMs")) {
    int fixed = 0;
    if (!readMillis(json, "latencyMs", fixed, error)) return error;
    p.latencyMinMs = p.latencyMaxMs = fixed;
  }
  if (!readMillis(json, "latencyMinMs", p.latencyMinMs, error) ||
      !readMillis(json, "latencyMaxMs", p.latencyMaxMs, error) ||
      !readProbability(json, "tailProbability", p.tailProbability, error) ||
      !readMillis(json, "tailMs", p.tailMs, error) ||
      !readProbability(json, "hangProbability", p.hangProbability, error) ||
      !readMillis(json, "hangMs", p.hangMs, error) ||
      !readProbability(json, "garbageProbability", p.garbageProbability, error) ||
      !readProbability(json, "hugeProbability", p.hugeProbability, error) ||
      !readProbability(json, "resetProbability", p.resetProbability, error) ||
      !readProbability(json, "qrErrorProbability", p.qrErrorProbability, error)) {
    return error;
  }
  if (p.latencyMaxMs < p.latencyMinMs) p.latencyMaxMs = p.latencyMinMs;
  return {};
}

std::string readHugeBytes(const Poco::JSON::Object::Ptr& json, FaultProfile& p) {
  if (!json->has("hugeBytes")) return {};
  std::string error;
  double v = 0;
  if (!readNumber(json, "hugeBytes", v, error)) return error;
  if (v < 0 || v > 64.0 * 1024 * 1024) return "field 'hugeBytes' must be within 0..64 MiB";
  p.hugeBytes = static_cast<int>(v);
  return {};
}

std::string readQrErrorMessage(const Poco::JSON::Object::Ptr& json, FaultProfile& p) {
  if (!json->has("qrErrorMessage")) return {};
  const auto v = json->get("qrErrorMessage");
  if (!v.isString()) return "field 'qrErrorMessage' must be a string";
  p.qrErrorMessage = v.extract<std::string>();
  return {};
}

std::string readErrorRates(const Poco::JSON::Object::Ptr& json, FaultProfile& p) {
  if (!json->has("errorRates")) return {};
  const auto rates = json->getObject("errorRates");
  if (!rates) return "field 'errorRates' must be an object of status → probability";
  std::string error;
  for (const auto& key : rates->getNames()) {
    int status = 0;
    try {
      status = std::stoi(key);
    } catch (...) {
      return fmt::format("errorRates key '{}' is not an HTTP status", key);
    }
    if (status < 400 || status > 599) {
      return fmt::format("errorRates key '{}' must be within 400..599", key);
    }
    double prob = 0;
    if (!readProbability(rates, key, prob, error)) return error;
    p.errorRates[status] = prob;
  }
  return {};
}

std::string readMethods(const Poco::JSON::Object::Ptr& json, FaultProfile& p) {
  if (!json->has("methods")) return {};
  const auto arr = json->getArray("methods");
  if (!arr) return "field 'methods' must be an array of method names";
  for (std::size_t i = 0; i < arr->size(); ++i) {
    const auto v = arr->get(static_cast<unsigned>(i));
    if (!v.isString()) return "field 'methods' must be an array of method names";
    p.methods.insert(Poco::toLower(v.extract<std::string>()));
  }
  return {};
}

}  // namespace

bool FaultProfile::empty() const {
  double errors = 0;
  for (const auto& [status, p] : errorRates) errors += p;
  return latencyMaxMs == 0 && tailProbability == 0 && errors == 0 && hangProbability == 0 &&
         garbageProbability == 0 && hugeProbability == 0 && resetProbability == 0 &&
         qrErrorProbability == 0;
}

bool FaultProfile::appliesTo(const std::string& method_lower) const {
  return methods.empty() || methods.count(method_lower) > 0;
}

FaultDecision FaultProfile::decide(std::mt19937_64& rng, const std::string& method_lower) const {
  return decideWith(rng, method_lower);
}

FaultDecision FaultProfile::decide(FaultRng& rng, const std::string& method_lower) const {
  return decideWith(rng, method_lower);
}

template <typename Rng>
FaultDecision FaultProfile::decideWith(Rng& rng, const std::string& method_lower) const {
  FaultDecision d;
  if (!appliesTo(method_lower)) return d;
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  if (latencyMaxMs > 0) {
    std::uniform_int_distribution<int> spread(latencyMinMs, std::max(latencyMinMs, latencyMaxMs));
    d.latency = Millis(spread(rng));
  }
  if (tailProbability > 0 && unit(rng) < tailProbability) d.latency = Millis(tailMs);
  // One roll picks at most one fault; the probabilities add up along the line.
  const double roll = unit(rng);
  double edge = 0;
  auto hit = [&](double p) {
    edge += p;
    return p > 0 && roll < edge;
  };
  if (hit(resetProbability)) {
    d.action = FaultAction::reset;
  } else if (hit(hangProbability)) {
    d.action = FaultAction::hang;
  } else if (hit(garbageProbability)) {
    d.action = FaultAction::garbage;
  } else if (hit(hugeProbability)) {
    d.action = FaultAction::huge;
  } else if (method_lower == "qr" && hit(qrErrorProbability)) {
    d.action = FaultAction::qrError;
  } else {
    for (const auto& [status, p] : errorRates) {
      if (hit(p)) {
        d.action = FaultAction::error;
        d.status = status;
        break;
      }
    }
  }
  return d;
}

base::Result<FaultProfile, std::string> FaultProfile::fromJson(
    const Poco::JSON::Object::Ptr& json) {
  FaultProfile p;
  for (auto* step : {checkFieldNames, readTimingsAndOdds, readHugeBytes, readQrErrorMessage,
                     readErrorRates, readMethods}) {
    if (auto error = step(json, p); !error.empty()) return Error(std::move(error));
  }
  return p;
}

Poco::JSON::Object::Ptr FaultProfile::toJson() const {
  Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
  o->set("latencyMinMs", latencyMinMs);
  o->set("latencyMaxMs", latencyMaxMs);
  o->set("tailProbability", tailProbability);
  o->set("tailMs", tailMs);
  Poco::JSON::Object::Ptr rates = new Poco::JSON::Object;
  for (const auto& [status, p] : errorRates) rates->set(std::to_string(status), p);
  o->set("errorRates", rates);
  o->set("hangProbability", hangProbability);
  o->set("hangMs", hangMs);
  o->set("garbageProbability", garbageProbability);
  o->set("hugeProbability", hugeProbability);
  o->set("hugeBytes", hugeBytes);
  o->set("resetProbability", resetProbability);
  o->set("qrErrorProbability", qrErrorProbability);
  o->set("qrErrorMessage", qrErrorMessage);
  Poco::JSON::Array::Ptr m = new Poco::JSON::Array;
  for (const auto& name : methods) m->add(name);
  o->set("methods", m);
  return o;
}

}  // namespace greenfleet::emulator
