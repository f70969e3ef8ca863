#include "emulator/control_json.hpp"

#include <fmt/format.h>

#include "emulator/http_io.hpp"

namespace greenfleet::emulator {

std::string jsonString(const std::string& text) { return stringify(Poco::Dynamic::Var(text)); }

void appendTotalsJson(std::string& out, const MethodCounters& c) {
  fmt::format_to(std::back_inserter(out),
                 R"({{"accepted":{},"injectedFaults":{},"maxPerSecond":{},"rateLimited":{},)"
                 R"("requests":{}}})",
                 c.accepted, c.injectedFaults, c.maxPerSecond, c.rateLimited, c.requests);
}

void appendCountersJson(std::string& out, const EmulatedInstance& inst) {
  out += '{';
  bool first = true;
  // Method names are the emulator's own (canonical or lower-case path words): plain ASCII, but
  // an unknown method name comes from a request path, so it is escaped.
  for (const auto& [method, c] : inst.counters()) {
    if (!first) out += ',';
    first = false;
    out += jsonString(method);
    out += ':';
    appendTotalsJson(out, c);
  }
  out += '}';
}

void appendInstanceJson(std::string& out, const std::string& api_url_json, EmulatedInstance& inst,
                        base::SteadyTime now, bool with_counters) {
  // Token (hex), state (a known name), phone and wid (digits) and the QR payload need no escapes.
  out += R"({"apiTokenInstance":")";
  out += inst.token();
  out += R"(","apiUrl":)";
  out += api_url_json;
  if (with_counters) {
    out += R"(,"counters":)";
    appendCountersJson(out, inst);
  }
  fmt::format_to(std::back_inserter(out), R"(,"deleted":{},"faults":)", inst.partner.deleted);
  out += inst.faults ? stringify(inst.faults->toJson()) : std::string("null");
  fmt::format_to(std::back_inserter(out), R"(,"idInstance":{},"isExpired":{},"pairingCode":)",
                 inst.id(), inst.partner.expired);
  if (const auto* pairing = inst.pairingCode(now)) {
    // The code is 8 letters and digits: no escapes.
    fmt::format_to(std::back_inserter(out), R"({{"code":"{}","phoneNumber":{}}})", pairing->code,
                   pairing->phone_number);
  } else {
    out += "null";
  }
  fmt::format_to(std::back_inserter(out), R"(,"phone":"{}","qr":)", inst.phone());
  if (inst.state() == states::kNotAuthorized) {
    fmt::format_to(std::back_inserter(out), R"({{"payload":"{}","rotation":{}}})",
                   inst.qrPayload(now), inst.qrRotation(now));
  } else {
    out += "null";
  }
  // typeInstance is one of partnerTypes(): no escapes either.
  fmt::format_to(std::back_inserter(out), R"(,"state":"{}","typeInstance":"{}","wid":"{}"}})",
                 inst.state(), partnerTypes().at(inst.partner.type), inst.wid());
}

}  // namespace greenfleet::emulator
