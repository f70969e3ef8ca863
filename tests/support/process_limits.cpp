#include "support/process_limits.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <fstream>
#include <string>

namespace greenfleet::testing {

long raiseOpenFileLimit(long count) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return -1;
  if (limit.rlim_cur < static_cast<rlim_t>(count)) {
    limit.rlim_cur = std::min(limit.rlim_max, static_cast<rlim_t>(count));
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
  return static_cast<long>(limit.rlim_cur);
}

int threadCount(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("Threads:", 0) == 0) return std::stoi(line.substr(8));
  }
  return -1;
}

}  // namespace greenfleet::testing
