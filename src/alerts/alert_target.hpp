#pragma once
// AlertTarget: where alerts go (`alerts.targets`): a URL receiving the generic JSON, or with the
// prefix `slack:` a Slack/Mattermost incoming-webhook URL receiving {"text": ...}. Such URLs
// carry their secret in the path, so only `label()` (scheme and host) is ever logged or shown.

#include <string>
#include <string_view>
#include <vector>

namespace greenfleet::alerts {

struct AlertTarget {
  enum class Format { json, slack };
  std::string url;
  Format format = Format::json;

  std::string label() const;  // "https://hooks.slack.com"
};

// Comma-separated, spaces around items ignored. Throws std::invalid_argument naming the bad
// item (a URL that is not http(s)://host...).
std::vector<AlertTarget> parseAlertTargets(std::string_view text);

}  // namespace greenfleet::alerts
