#pragma once
// AlertNotice: one instance entering or leaving an attention an operator is alerted about, and
// its two renderings: a generic JSON document and a Slack-compatible {"text": ...}. Pure.

#include <cstdint>
#include <string>

#include "fleet/attention.hpp"

namespace greenfleet::alerts {

struct AlertNotice {
  std::int64_t id = 0;  // idInstance
  std::string name;     // display name; "" when the instance has none
  fleet::Attention reason = fleet::Attention::none;
  bool entered = true;        // false: the instance left `reason`
  std::int64_t at_ms = 0;     // unix milliseconds of the transition
  std::string dashboard_url;  // the instance's page on the dashboard
};

// {"event":"entered"|"left","attention":"needs_scan","instance":{"id":..,"name":..},
//  "since":"<RFC 3339>","dashboardUrl":..,"text":"..."}
std::string renderGenericJson(const AlertNotice& notice);
// {"text":"..."} with the same sentence, for Slack and Mattermost incoming webhooks.
std::string renderSlackJson(const AlertNotice& notice);
// "WhatsApp instance shop-12 (1101000001) needs a QR scan" / "... no longer needs a QR scan".
std::string sentence(const AlertNotice& notice);

}  // namespace greenfleet::alerts
