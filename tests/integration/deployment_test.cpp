// What a deployment relies on besides the API: the readiness protocol of the systemd unit and
// the Grafana dashboard's queries matching the metrics the server exports.

#include <doctest/doctest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include <fmt/format.h>

#include "support/emulator_process.hpp"
#include "support/json.hpp"
#include "support/server_fixture.hpp"
#include "support/temp_dir.hpp"
#include "support/wait_for.hpp"

using namespace greenfleet::testing;
using namespace std::chrono_literals;

namespace {

// The receiving end of NOTIFY_SOCKET, as systemd holds it for a Type=notify unit.
class NotifySocket {
 public:
  explicit NotifySocket(std::string path) : path_(std::move(path)) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    REQUIRE(path_.size() < sizeof(addr.sun_path));
    path_.copy(addr.sun_path, path_.size());
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  }
  ~NotifySocket() { ::close(fd_); }
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;

  const std::string& path() const { return path_; }

  // The next datagram, or "" when none arrives within `timeout`.
  std::string next(std::chrono::milliseconds timeout) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1) return {};
    char buf[4096];
    const auto n = ::recv(fd_, buf, sizeof(buf), 0);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
  }

 private:
  std::string path_;
  int fd_ = -1;
};

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Every series name (the part before `{` or ` `) in Prometheus text format.
std::set<std::string> exportedSeries(const std::string& text, std::string& lines) {
  std::set<std::string> names;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    names.insert(line.substr(0, line.find_first_of("{ ")));
    lines += line + "\n";
  }
  return names;
}

}  // namespace

TEST_CASE("serve tells the service manager READY=1 once it listens and STOPPING=1 on SIGTERM") {
  TempDir dir;
  NotifySocket notify(dir.file("notify.sock"));
  ServerFixture server({}, {{"NOTIFY_SOCKET", notify.path()}});
  const std::string ready = notify.next(10s);
  CHECK(ready.find("READY=1") != std::string::npos);
  CHECK(ready.find(fmt::format("STATUS=serving on 127.0.0.1:{}", server.port())) !=
        std::string::npos);
  CHECK(server.client().get("/readyz").status == 200);

  CHECK(server.stop() == 0);
  CHECK(notify.next(10s).find("STOPPING=1") != std::string::npos);
}

TEST_CASE("every metric and label the Grafana dashboard queries is one the server exports") {
  const auto dashboard =
      parseObject(readFile(std::string(GREENFLEET_SOURCE_DIR) + "/etc/grafana/greenfleet.json"));
  EmulatorProcess emu({"--instances", "2", "--state", "authorized"});
  ServerFixture server({}, {{"GREENFLEET_SCHEDULER_STARTUP_SPREAD_S", "1"}});
  const auto http = server.client();
  for (const auto& c : emu.instances()) {
    const auto body = fmt::format(R"({{"id":{},"token":"{}","apiUrl":"{}"}})", c.idInstance,
                                  c.apiTokenInstance, emu.apiUrl());
    REQUIRE(http.post("/api/v1/instances", body, server.adminKey()).status == 201);
  }
  std::string text;
  // Histograms and labelled counters have series only once something was observed.
  REQUIRE(waitFor(
      [&] {
        text = http.get("/metrics").body;
        return text.find("greenfleet_upstream_request_duration_seconds_bucket") !=
               std::string::npos;
      },
      30s, 200ms));
  std::string series_lines;
  const auto exported = exportedSeries(text, series_lines);

  const std::regex metric_re(R"(greenfleet_[a-z_]+)");
  const std::regex legend_label_re(R"(\{\{([a-z_]+)\}\})");
  std::size_t queries = 0;
  const auto panels = dashboard->getArray("panels");
  REQUIRE(panels->size() > 0);
  for (std::size_t i = 0; i < panels->size(); ++i) {
    const auto panel = panels->getObject(static_cast<unsigned>(i));
    const auto targets = panel->getArray("targets");
    for (std::size_t t = 0; t < targets->size(); ++t) {
      const auto target = targets->getObject(static_cast<unsigned>(t));
      const auto expr = target->getValue<std::string>("expr");
      const auto legend = target->optValue<std::string>("legendFormat", "");
      CAPTURE(expr);
      std::set<std::string> metrics;
      for (auto it = std::sregex_iterator(expr.begin(), expr.end(), metric_re);
           it != std::sregex_iterator(); ++it) {
        metrics.insert(it->str());
      }
      REQUIRE_FALSE(metrics.empty());
      for (const auto& m : metrics) CHECK_MESSAGE(exported.count(m) == 1, m);
      // A legend label must be a label of the series the query reads.
      for (auto it = std::sregex_iterator(legend.begin(), legend.end(), legend_label_re);
           it != std::sregex_iterator(); ++it) {
        const std::string label = (*it)[1].str();
        const bool found = std::any_of(metrics.begin(), metrics.end(), [&](const auto& m) {
          return series_lines.find(m + "{") != std::string::npos &&
                 std::regex_search(series_lines, std::regex(m + R"(\{[^}]*\b)" + label + "=\""));
        });
        CHECK_MESSAGE(found, label);
      }
      ++queries;
    }
  }
  CHECK(queries >= 10);
}
