#pragma once
// ProgressBar: a one-line progress display for a running sweep or import, redrawn in place with
// '\r' on a terminal (the caller decides, via isatty, whether to use it at all; cron logs get
// none). Writes to the stream it was given, which it does not own; not thread-safe.

#include <cstdint>
#include <optional>
#include <ostream>
#include <string_view>

namespace greenfleet::sweep_cli {

class ProgressBar {
 public:
  explicit ProgressBar(std::ostream& out, int width = 30) : out_(out), width_(width) {}
  ~ProgressBar() { finish(); }
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  // `label` names the work ("sweep #12", "import").
  void update(std::string_view label, std::int64_t done, std::int64_t total,
              std::optional<double> eta_seconds);
  // Ends the line (once), so whatever is printed next starts on its own line.
  void finish();

 private:
  std::ostream& out_;
  int width_;
  bool drawn_ = false;
};

}  // namespace greenfleet::sweep_cli
