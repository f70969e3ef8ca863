#pragma once
// The control API's JSON for instances and counters, written straight into a string: listing a
// million instances through Poco::JSON trees peaked at ~2 KB per instance (3.3 GB at 1,000,000)
// and left the heap that large. Keys in Poco's sorted order, so the text reads as it did.
// Pure functions over an instance the caller has locked.

#include <string>

#include "base/clock.hpp"
#include "emulator/emulated_instance.hpp"

namespace greenfleet::emulator {

// The control API's view of one instance; api_url_json is the emulator's base URL as a JSON
// string (quoted and escaped once per response, not per instance).
void appendInstanceJson(std::string& out, const std::string& api_url_json, EmulatedInstance& inst,
                        base::SteadyTime now, bool with_counters);
// {"<method>":{accepted, injectedFaults, maxPerSecond, rateLimited, requests}, ...}
void appendCountersJson(std::string& out, const EmulatedInstance& inst);
// {accepted, injectedFaults, maxPerSecond, rateLimited, requests} of one method or a total.
void appendTotalsJson(std::string& out, const MethodCounters& c);
// A JSON string literal of `text` (quoted, escaped).
std::string jsonString(const std::string& text);

}  // namespace greenfleet::emulator
