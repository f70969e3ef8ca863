#include "support/prometheus_text.hpp"

#include <fstream>
#include <sstream>

#include "support/child_process.hpp"
#include "support/temp_dir.hpp"

namespace greenfleet::testing {

std::optional<double> sample(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return std::nullopt;
}

int promtoolCheck(const std::string& text, std::string& output) {
  TempDir dir;
  const std::string file = dir.file("metrics.txt");
  std::ofstream(file) << text;
  return runToCompletion(
      "/bin/sh", {"-c", std::string("exec ") + kPromtool + " check metrics < \"$1\"", "sh", file},
      output);
}

}  // namespace greenfleet::testing
