#pragma once
// PartnerInstance: one item of the Partner API's getInstances answer, as far as greenfleet uses
// it (Green API lists no apiUrl or state there). Value type.

#include <cstdint>
#include <string>

namespace greenfleet::fleet {

inline constexpr const char* kPolledInstanceType = "whatsapp";

struct PartnerInstance {
  std::int64_t id = 0;  // idInstance
  std::string name;
  std::string type;   // typeInstance: whatsapp, telegram, v3, … (kept verbatim)
  std::string token;  // apiTokenInstance — a secret, like every instance token
  bool deleted = false;
  bool expired = false;  // isExpired
};

// A listed instance greenfleet does not poll (typeInstance other than whatsapp).
struct SkippedInstance {
  std::int64_t id = 0;
  std::string type;  // typeInstance
};

}  // namespace greenfleet::fleet
