#include "alerts/alert_target.hpp"

#include <stdexcept>

#include <fmt/format.h>

#include "base/comma_list.hpp"

namespace greenfleet::alerts {

namespace {
// Length of "http://" or "https://", 0 for anything else.
std::size_t schemeLength(std::string_view url) {
  if (url.starts_with("https://")) return 8;
  if (url.starts_with("http://")) return 7;
  return 0;
}
}  // namespace

std::string AlertTarget::label() const {
  const auto scheme = schemeLength(url);
  const auto end = url.find_first_of("/?#", scheme);
  return url.substr(0, end == std::string::npos ? url.size() : end);
}

std::vector<AlertTarget> parseAlertTargets(std::string_view text) {
  std::vector<AlertTarget> out;
  for (const auto item : base::splitCommaList(text)) {
    AlertTarget target;
    std::string_view url = item;
    if (url.starts_with("slack:")) {
      target.format = AlertTarget::Format::slack;
      url.remove_prefix(6);
    }
    const auto scheme = schemeLength(url);
    if (scheme == 0 || url.size() == scheme || url[scheme] == '/') {
      // The item may hold a webhook secret: name only its position and what was wrong.
      throw std::invalid_argument(fmt::format(
          "alerts.targets item {} is not an http:// or https:// URL with a host", out.size() + 1));
    }
    target.url = std::string(url);
    out.push_back(std::move(target));
  }
  return out;
}

}  // namespace greenfleet::alerts
