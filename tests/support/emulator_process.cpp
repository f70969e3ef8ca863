#include "support/emulator_process.hpp"

#include <stdexcept>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Parser.h>

namespace greenfleet::testing {

Poco::JSON::Object::Ptr parseJsonObject(const std::string& text) {
  Poco::JSON::Parser parser;
  return parser.parse(text).extract<Poco::JSON::Object::Ptr>();
}

EmulatorProcess::EmulatorProcess(std::vector<std::string> extra_args) {
  std::vector<std::string> args{"emulate", "--port", "0", "--seed", "7"};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  child_ = std::make_unique<ChildProcess>(greenfleetBinary(), args, dir_.file("emulator.log"));
  port_ = child_->waitForListeningPort();
  http_ = HttpClient("127.0.0.1", port_);
}

std::vector<EmulatedCredentials> EmulatorProcess::instances(const std::string& state_filter) const {
  const auto r = http_.get("/_emulator/instances" +
                           (state_filter.empty() ? std::string() : "?state=" + state_filter));
  if (r.status != 200) throw std::runtime_error("control API: " + r.body);
  const auto arr = parseJsonObject(r.body)->getArray("instances");
  std::vector<EmulatedCredentials> out;
  for (std::size_t i = 0; i < arr->size(); ++i) {
    const auto o = arr->getObject(static_cast<unsigned>(i));
    out.push_back({o->getValue<std::int64_t>("idInstance"),
                   o->getValue<std::string>("apiTokenInstance"),
                   o->getValue<std::string>("state")});
  }
  return out;
}

Poco::JSON::Object::Ptr EmulatorProcess::instance(std::int64_t id) const {
  const auto r = http_.get("/_emulator/instances/" + std::to_string(id));
  if (r.status != 200) throw std::runtime_error("control API: " + r.body);
  return parseJsonObject(r.body);
}

std::string EmulatorProcess::stateOf(std::int64_t id) const {
  return instance(id)->getValue<std::string>("state");
}

std::string EmulatorProcess::qrPayloadOf(std::int64_t id) const {
  const auto o = instance(id);
  const auto qr = o->getObject("qr");
  return qr ? qr->getValue<std::string>("payload") : std::string();
}

Poco::JSON::Object::Ptr EmulatorProcess::counters() const {
  return parseJsonObject(http_.get("/_emulator/counters").body);
}

int EmulatorProcess::setFaults(const std::string& json, std::int64_t id) const {
  HttpRequest req;
  req.method = "PUT";
  req.path =
      id == 0 ? "/_emulator/faults" : "/_emulator/instances/" + std::to_string(id) + "/faults";
  req.body = json;
  req.headers["Content-Type"] = "application/json";
  return http_.send(req).status;
}

int EmulatorProcess::setState(std::int64_t id, const std::string& state) const {
  return http_
      .post("/_emulator/instances/" + std::to_string(id) + "/state",
            R"({"state":")" + state + "\"}")
      .status;
}

int EmulatorProcess::scan(std::int64_t id) const {
  return http_.post("/_emulator/instances/" + std::to_string(id) + "/scan", "{}").status;
}

void EmulatorProcess::resetCounters() const { http_.post("/_emulator/reset-counters", "{}"); }

void EmulatorProcess::advanceClock(std::chrono::milliseconds by) const {
  const auto r =
      http_.post("/_emulator/clock/advance", R"({"ms":)" + std::to_string(by.count()) + "}");
  if (r.status != 200) throw std::runtime_error("clock/advance answered " + r.body);
}

std::string EmulatorProcess::wirePath(const EmulatedCredentials& c,
                                      const std::string& method) const {
  return "/waInstance" + std::to_string(c.idInstance) + "/" + method + "/" + c.apiTokenInstance;
}

}  // namespace greenfleet::testing
