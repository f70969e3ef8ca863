#include "sweep_cli/text_format.hpp"

#include <chrono>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "base/time_format.hpp"
#include "fleet/attention.hpp"

namespace greenfleet::sweep_cli {

namespace {

std::string waitedFor(std::optional<base::WallTime> since, base::WallTime now) {
  if (!since) return "-";
  const auto s = std::chrono::duration_cast<std::chrono::seconds>(now - *since).count();
  if (s < 0) return "0s";
  if (s < 120) return fmt::format("{}s", s);
  if (s < 2 * 3600) return fmt::format("{}m", s / 60);
  if (s < 2 * 86400) return fmt::format("{}h", s / 3600);
  return fmt::format("{}d", s / 86400);
}

// A table cell on one line: operators' names and upstream errors may hold newlines.
std::string cell(const std::string& text, std::size_t width) {
  std::string out;
  for (const char c : text) out += (static_cast<unsigned char>(c) < 0x20) ? ' ' : c;
  if (width > 3 && out.size() > width) out = out.substr(0, width - 3) + "...";
  return out;
}

}  // namespace

std::string formatText(const SweepOutcome& outcome, std::size_t max_rows, base::WallTime now) {
  std::string out = fmt::format("greenfleet sweep: {} - {}\n",
                                checkStatusName(outcome.verdict.status), outcome.verdict.reason);
  if (!outcome.report) return out;
  const sweep::Report& r = *outcome.report;

  std::string where = outcome.source == "fresh"    ? "fresh sweep"
                      : outcome.source == "cached" ? "stored status (no probes)"
                      : outcome.source == "db"     ? "offline database read (stored status)"
                                                   : outcome.source;
  if (outcome.sweep_id) where += fmt::format(" #{}", *outcome.sweep_id);
  if (outcome.generated_at) where += ", as of " + base::formatRfc3339(*outcome.generated_at);
  out += fmt::format("{} instances; {}\n", r.total, where);

  std::vector<std::string> parts;
  for (std::size_t i = 0; i < fleet::kAttentionCount; ++i) {
    const std::string name(fleet::attentionName(static_cast<fleet::Attention>(i)));
    parts.push_back(fmt::format("{} {}", name, r.attentionCount(name)));
  }
  out += fmt::format("attention: {}\n", fmt::join(parts, ", "));
  parts.clear();
  for (const auto& [state, n] : r.counts_by_state) parts.push_back(fmt::format("{} {}", state, n));
  out += fmt::format("state:     {}\n",
                     parts.empty() ? std::string("-") : fmt::format("{}", fmt::join(parts, ", ")));
  if (!r.unprobed.empty()) out += fmt::format("unprobed:  {}\n", r.unprobed.size());

  if (r.attention.empty()) return out + "\nNo instance needs attention.\n";
  out += fmt::format("\n{:<22} {:<14} {:<24} {:<14} {:>7}  {:<16} {}\n", "ATTENTION", "ID", "NAME",
                     "STATE", "WAITING", "TAGS", "LAST ERROR");
  std::size_t shown = 0;
  for (const auto& e : r.attention) {
    if (shown == max_rows) break;
    out += fmt::format("{:<22} {:<14} {:<24} {:<14} {:>7}  {:<16} {}\n", cell(e.attention, 22),
                       e.id, cell(e.name, 24), cell(e.state, 14), waitedFor(e.since, now),
                       cell(fmt::format("{}", fmt::join(e.tags, ",")), 16),
                       cell(e.last_error.value_or("-"), 60));
    ++shown;
  }
  if (shown < r.attention.size()) {
    out += fmt::format("... and {} more (--max-rows, or --format json for all)\n",
                       r.attention.size() - shown);
  }
  if (!r.unprobed.empty()) {
    out += fmt::format("\n{} instance(s) could not be probed:", r.unprobed.size());
    std::size_t listed = 0;
    for (const auto& u : r.unprobed) {
      if (listed == max_rows) break;
      out += fmt::format(" {} ({}: {})", u.id, cell(u.name, 24), u.reason);
      ++listed;
    }
    out += listed < r.unprobed.size()
               ? fmt::format(" ... and {} more\n", r.unprobed.size() - listed)
               : "\n";
  }
  return out;
}

}  // namespace greenfleet::sweep_cli
