#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>

#include <fmt/format.h>

#include "support/emulator_process.hpp"
#include "support/prometheus_text.hpp"
#include "support/server_fixture.hpp"
#include "support/wait_for.hpp"

using namespace greenfleet::testing;
using namespace std::chrono_literals;

namespace {

// Short intervals so a small fleet converges within seconds.
const std::map<std::string, std::string> kFastScheduler{
    {"GREENFLEET_SCHEDULER_INTERVAL_AUTHORIZED_S", "2"},
    {"GREENFLEET_SCHEDULER_INTERVAL_NOT_AUTHORIZED_S", "2"},
    {"GREENFLEET_SCHEDULER_STARTUP_SPREAD_S", "1"},
    {"GREENFLEET_SCHEDULER_CONFIRM_DELAY_S", "1"},
};

// Sum over every series of the metric `name` (lines "name{...} value").
double total(const std::string& text, const std::string& name) {
  std::istringstream in(text);
  std::string line;
  double sum = 0;
  while (std::getline(in, line)) {
    if (line.rfind(name + "{", 0) == 0) sum += std::stod(line.substr(line.rfind(' ') + 1));
  }
  return sum;
}

std::string instanceJson(const EmulatorProcess& emu, const EmulatedCredentials& c) {
  return fmt::format(R"({{"id":{},"token":"{}","apiUrl":"{}"}})", c.idInstance, c.apiTokenInstance,
                     emu.apiUrl());
}

}  // namespace

TEST_CASE(
    "GET /metrics reports the converged fleet in valid Prometheus text without ids or tokens") {
  REQUIRE_MESSAGE(std::filesystem::exists(kPromtool),
                  "promtool is missing: apt-get install prometheus (scripts/lib/deps.sh)");
  EmulatorProcess emu({"--instances", "5", "--state", "authorized"});
  auto fleet = emu.instances();
  REQUIRE(fleet.size() == 5);
  REQUIRE(emu.setState(fleet[0].idInstance, "notAuthorized") == 200);
  REQUIRE(emu.setState(fleet[1].idInstance, "notAuthorized") == 200);
  const auto not_authorized = static_cast<double>(emu.instances("notAuthorized").size());
  const auto authorized = static_cast<double>(emu.instances("authorized").size());
  REQUIRE(not_authorized == 2);

  ServerFixture server({}, kFastScheduler);
  const auto http = server.client();
  for (const auto& c : fleet) {
    REQUIRE(http.post("/api/v1/instances", instanceJson(emu, c), server.adminKey()).status == 201);
  }

  std::string text;
  const auto scrape = [&] {
    const auto r = http.get("/metrics");  // open by default: no key
    REQUIRE(r.status == 200);
    CHECK(r.header("Content-Type") == "text/plain; version=0.0.4; charset=utf-8");
    text = r.body;
    return text;
  };
  const bool converged = waitFor(
      [&] {
        scrape();
        return sample(text, R"(greenfleet_instances{state="notAuthorized"})") == not_authorized &&
               sample(text, R"(greenfleet_instances{state="authorized"})") == authorized;
      },
      30s, 200ms);
  REQUIRE_MESSAGE(converged, text);
  CHECK(sample(text, R"(greenfleet_instances{state="unknown"})") == 0);
  CHECK(sample(text, R"(greenfleet_instances_by_attention{attention="needs_scan"})") ==
        not_authorized);
  CHECK(sample(text, "greenfleet_needs_scan_instances") == not_authorized);
  CHECK(sample(text, R"(greenfleet_instances_by_attention{attention="none"})") == authorized);
  CHECK(sample(text, fmt::format(R"(greenfleet_build_info{{version="{}"}})", GREENFLEET_VERSION)) ==
        1);
  CHECK(sample(text, R"(greenfleet_api_requests_total{route="/api/v1/instances",status="201"})") ==
        5);

  const double requests_then = total(text, "greenfleet_upstream_requests_total");
  CHECK(sample(text, R"(greenfleet_upstream_requests_total{method="getStateInstance",result="ok"})")
            .value_or(0) >= 5);
  CHECK(
      waitFor([&] { return total(scrape(), "greenfleet_upstream_requests_total") > requests_then; },
              20s, 200ms));
  CHECK(
      sample(text, R"(greenfleet_api_requests_total{route="/metrics",status="200"})").value_or(0) >=
      1);

  std::string output;
  const int code = promtoolCheck(text, output);
  CHECK_MESSAGE(code == 0, output);
  CHECK_MESSAGE(output.empty(), output);

  for (const auto& c : fleet) {
    CHECK_MESSAGE(text.find(std::to_string(c.idInstance)) == std::string::npos, c.idInstance);
    CHECK(text.find(c.apiTokenInstance) == std::string::npos);
  }
  CHECK(text.find(server.adminKey()) == std::string::npos);
}

TEST_CASE("GET /metrics needs a key when metrics.require_key is set") {
  ServerFixture server({}, {{"GREENFLEET_METRICS_REQUIRE_KEY", "true"}});
  const auto http = server.client();
  CHECK(http.get("/metrics").status == 401);
  const auto r = http.get("/metrics", server.adminKey());
  CHECK(r.status == 200);
  CHECK(sample(r.body, "greenfleet_needs_scan_instances") == 0);
}
