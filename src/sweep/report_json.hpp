#pragma once
// The JSON spelling of a Report (DESIGN §6: camelCase, RFC 3339 UTC times):
//   {"total","countsByState":{…},"countsByAttention":{…},
//    "attention":[{"id","name","tags","state","attention","since"|null,"lastError"|null}],
//    "unprobed":[{"id","name","reason"}]}
// toJson is what the server writes; reportFromJson is the strict reader the sweep CLI uses on
// server answers (MalformedAnswer on any missing or mistyped field). Free functions; thread-safe.

#include <string>

#include <Poco/JSON/Object.h>

#include "sweep/json_reader.hpp"
#include "sweep/report.hpp"

namespace greenfleet::sweep {

Poco::JSON::Object::Ptr toJson(const Report& report);
std::string toJsonString(const Report& report);
Report reportFromJson(const JsonReader& object);
Report reportFromJson(const Poco::JSON::Object::Ptr& object, const std::string& path = "report");

}  // namespace greenfleet::sweep
