#include "sweep/report.hpp"

#include <algorithm>

#include "base/time_format.hpp"
#include "fleet/attention.hpp"

namespace greenfleet::sweep {

namespace {

// Unknown attention names (a newer server) sort after every known one but before "none".
int severityOf(const std::string& attention) {
  if (const auto a = fleet::parseAttention(attention)) return fleet::severity(*a);
  return 0;
}

}  // namespace

std::int64_t Report::attentionCount(const std::string& name) const {
  const auto it = counts_by_attention.find(name);
  return it == counts_by_attention.end() ? 0 : it->second;
}

void sortAttention(std::vector<AttentionEntry>& entries) {
  std::stable_sort(entries.begin(), entries.end(),
                   [](const AttentionEntry& a, const AttentionEntry& b) {
                     const int sa = severityOf(a.attention);
                     const int sb = severityOf(b.attention);
                     if (sa != sb) return sa > sb;
                     if (a.since.has_value() != b.since.has_value()) return a.since.has_value();
                     if (a.since && *a.since != *b.since) return *a.since < *b.since;
                     return a.id < b.id;
                   });
}

Report buildReport(const std::vector<store::InstanceRow>& rows, base::WallTime now) {
  Report report;
  for (std::size_t i = 0; i < fleet::kAttentionCount; ++i) {
    report
        .counts_by_attention[std::string(fleet::attentionName(static_cast<fleet::Attention>(i)))] =
        0;
  }
  const std::string none(fleet::attentionName(fleet::Attention::none));
  for (const auto& row : rows) {
    const auto& st = row.status;
    ++report.total;
    const std::string state = st.state.value_or("unknown");
    ++report.counts_by_state[state];
    const std::string attention = row.instance.enabled ? st.attention : none;
    ++report.counts_by_attention[attention];
    if (!row.instance.enabled) continue;
    if (!st.state) report.unprobed.push_back({row.instance.id, row.instance.name, kNotProbedYet});
    if (attention == none) continue;
    AttentionEntry entry;
    entry.id = row.instance.id;
    entry.name = row.instance.name;
    entry.tags = row.instance.tags;
    entry.state = state;
    entry.attention = attention;
    if (st.state_since_ms) entry.since = std::min(base::fromUnixMillis(*st.state_since_ms), now);
    entry.last_error = st.last_error;
    report.attention.push_back(std::move(entry));
  }
  sortAttention(report.attention);
  return report;
}

}  // namespace greenfleet::sweep
