#include "alerts/alert_notice.hpp"

#include <fmt/format.h>

#include "base/time_format.hpp"
#include "fleet/qr_kind.hpp"
#include "store/tags_json.hpp"

namespace greenfleet::alerts {

namespace {
std::string_view condition(fleet::Attention reason) {
  switch (reason) {
    case fleet::Attention::needsScan:
      return "needs a QR scan";
    case fleet::Attention::passkeyRequired:
      // "the account asks for a passkey on the phone: …" → "asks for a passkey on the phone: …"
      return fleet::kPasskeyRequiredMessage.substr(std::string_view("the account ").size());
    case fleet::Attention::blocked:
      return "is blocked";
    case fleet::Attention::credentialsRejected:
      return "has its token rejected by Green API";
    default:
      return "needs attention";
  }
}

std::string quoted(std::string_view text) {
  std::string out;
  store::appendJsonString(out, text);
  return out;
}
}  // namespace

std::string sentence(const AlertNotice& notice) {
  const std::string who = notice.name.empty()
                              ? fmt::format("WhatsApp instance {}", notice.id)
                              : fmt::format("WhatsApp instance {} ({})", notice.name, notice.id);
  auto what = condition(notice.reason);
  if (notice.entered) return fmt::format("{} {}", who, what);
  what = what.substr(0, what.find(':'));  // what to do applies only on entering
  // "needs a QR scan" -> "no longer needs a QR scan"; "is blocked" -> "is no longer blocked".
  if (what.starts_with("is ")) return fmt::format("{} is no longer {}", who, what.substr(3));
  return fmt::format("{} no longer {}", who, what);
}

std::string renderGenericJson(const AlertNotice& notice) {
  return fmt::format(
      R"({{"event":"{}","attention":"{}","instance":{{"id":{},"name":{}}},"since":"{}",)"
      R"("dashboardUrl":{},"text":{}}})",
      notice.entered ? "entered" : "left", fleet::attentionName(notice.reason), notice.id,
      quoted(notice.name), base::formatRfc3339(base::fromUnixMillis(notice.at_ms)),
      quoted(notice.dashboard_url), quoted(sentence(notice)));
}

std::string renderSlackJson(const AlertNotice& notice) {
  const std::string text =
      notice.dashboard_url.empty()
          ? sentence(notice)
          : fmt::format("{} <{}|open>", sentence(notice), notice.dashboard_url);
  return fmt::format(R"({{"text":{}}})", quoted(text));
}

}  // namespace greenfleet::alerts
