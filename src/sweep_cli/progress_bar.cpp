#include "sweep_cli/progress_bar.hpp"

#include <algorithm>
#include <string>

#include <fmt/format.h>

namespace greenfleet::sweep_cli {

void ProgressBar::update(std::string_view label, std::int64_t done, std::int64_t total,
                         std::optional<double> eta_seconds) {
  const double fraction =
      total > 0 ? std::clamp(static_cast<double>(done) / static_cast<double>(total), 0.0, 1.0)
                : 0.0;
  const int filled = static_cast<int>(fraction * width_);
  std::string bar(static_cast<std::size_t>(filled), '#');
  bar.append(static_cast<std::size_t>(width_ - filled), '.');
  const std::string eta = eta_seconds ? fmt::format(" eta {:.0f}s", *eta_seconds) : std::string();
  // "\x1b[K" clears what a longer previous line left behind.
  out_ << fmt::format("\r{} [{}] {}/{} {:3.0f}%{}\x1b[K", label, bar, done, total, fraction * 100.0,
                      eta)
       << std::flush;
  drawn_ = true;
}

void ProgressBar::finish() {
  if (!drawn_) return;
  out_ << "\n" << std::flush;
  drawn_ = false;
}

}  // namespace greenfleet::sweep_cli
