#include "sweep_cli/nagios_format.hpp"

#include <fmt/format.h>

namespace greenfleet::sweep_cli {

namespace {

constexpr std::size_t kMaxNameBytes = 40;

std::string thresholdText(const std::optional<std::int64_t>& t) {
  return t ? std::to_string(*t) : std::string();
}

// label=value;warn;crit with trailing empty fields dropped.
std::string perfItem(const std::string& label, std::int64_t value,
                     const std::optional<std::int64_t>& warn = std::nullopt,
                     const std::optional<std::int64_t>& crit = std::nullopt) {
  std::string out = fmt::format("{}={}", label, value);
  if (crit) return out + ";" + thresholdText(warn) + ";" + thresholdText(crit);
  if (warn) return out + ";" + thresholdText(warn);
  return out;
}

// Instance names come from operators: '|' would start perfdata early, control characters would
// break the one-line rule, and a long name would crowd out the others. Cuts on a UTF-8 boundary.
std::string cleanName(const std::string& name) {
  std::string out;
  for (const char c : name) {
    const auto u = static_cast<unsigned char>(c);
    out += (u < 0x20 || u == 0x7f || c == '|') ? ' ' : c;
  }
  if (out.size() > kMaxNameBytes) {
    std::size_t cut = kMaxNameBytes;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
    out = out.substr(0, cut) + "...";
  }
  return out.empty() ? std::string("(unnamed)") : out;
}

std::string cleanText(std::string text) {
  for (auto& c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f || c == '|') c = ' ';
  }
  return text;
}

}  // namespace

std::string formatNagios(const SweepOutcome& outcome) {
  const std::string head = fmt::format("GREENFLEET {} - ", checkStatusName(outcome.verdict.status));
  if (!outcome.report) {
    std::string line = head + cleanText(outcome.verdict.reason);
    if (line.size() > kNagiosLineLimit - 1) line.resize(kNagiosLineLimit - 4), line += "...";
    return line + "\n";
  }
  const sweep::Report& r = *outcome.report;
  const auto& t = outcome.thresholds;
  const auto count = [&r](const char* name) { return r.attentionCount(name); };

  const std::string perf =
      " | " + perfItem("needs_scan", count("needs_scan"), t.warn_needs_scan, t.crit_needs_scan) +
      " " + perfItem("blocked", count("blocked"), std::nullopt, t.crit_blocked) + " " +
      perfItem("credentials_rejected", count("credentials_rejected"), std::nullopt,
               t.crit_blocked) +
      " " + perfItem("suspended", count("suspended")) + " " +
      perfItem("stuck_starting", count("stuck_starting")) + " " +
      perfItem("unreachable", count("unreachable")) + " " + perfItem("stale", count("stale")) +
      " " + perfItem("unprobed", static_cast<std::int64_t>(r.unprobed.size())) + " " +
      perfItem("total", r.total) + "\n";

  std::string text =
      head + fmt::format("{} need a QR scan, {} blocked", count("needs_scan"), count("blocked"));
  if (count("credentials_rejected") > 0) {
    text += fmt::format(", {} with rejected credentials", count("credentials_rejected"));
  }
  text += fmt::format(", {} instances", r.total);

  // Names go in most severe first until the budget runs out; "+N more" always fits because the
  // budget keeps room for the longest possible suffix.
  const std::size_t budget = kNagiosLineLimit - perf.size() - 32;
  std::size_t listed = 0;
  for (const auto& e : r.attention) {
    const std::string item = fmt::format("{}{} ({})", listed == 0 ? "; " : ", ", cleanName(e.name),
                                         cleanText(e.attention));
    if (text.size() + item.size() > budget) break;
    text += item;
    ++listed;
  }
  if (listed < r.attention.size()) {
    text += fmt::format("{}+{} more", listed == 0 ? "; " : ", ", r.attention.size() - listed);
  }
  return text + perf;
}

}  // namespace greenfleet::sweep_cli
