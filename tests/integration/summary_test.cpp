#include <doctest/doctest.h>

#include <fstream>

#include <fmt/format.h>

#include "support/emulator_process.hpp"
#include "support/json.hpp"
#include "support/server_fixture.hpp"
#include "support/wait_for.hpp"

using namespace greenfleet::testing;

namespace {
const std::map<std::string, std::string> kFastScheduler = {
    {"GREENFLEET_SCHEDULER_INTERVAL_AUTHORIZED_S", "2"},
    {"GREENFLEET_SCHEDULER_INTERVAL_NOT_AUTHORIZED_S", "2"},
    {"GREENFLEET_SCHEDULER_INTERVAL_BLOCKED_S", "2"},
    {"GREENFLEET_SCHEDULER_STARTUP_SPREAD_S", "1"},
    {"GREENFLEET_SCHEDULER_CONFIRM_DELAY_S", "1"}};
}  // namespace

TEST_CASE("summary counts the fleet by state and attention and names the longest wait") {
  TempDir dir;
  std::ofstream(dir.file("fleet.json"))
      << R"({"instances":{"authorized":12,"notAuthorized":5,"blocked":2,"suspended":1}})";
  EmulatorProcess emu({"--scenario", dir.file("fleet.json")});
  ServerFixture server({}, kFastScheduler);
  const auto all = emu.instances();
  REQUIRE(all.size() == 20);
  std::string batch = "[";
  for (std::size_t i = 0; i < all.size(); ++i) {
    batch += fmt::format(R"({}{{"id":{},"token":"{}","apiUrl":"{}","name":"n{}"}})", i ? "," : "",
                         all[i].idInstance, all[i].apiTokenInstance, emu.apiUrl(), i);
  }
  batch += "]";
  const auto http = server.client();
  REQUIRE(http.post("/api/v1/instances", batch, server.adminKey()).status == 201);

  Poco::JSON::Object::Ptr summary;
  const bool converged = waitFor(
      [&] {
        summary = parseObject(http.get("/api/v1/summary", server.adminKey()).body);
        const auto by_state = summary->getObject("byState");
        return by_state->optValue<int>("authorized", 0) == 12 &&
               by_state->optValue<int>("notAuthorized", 0) == 5 &&
               by_state->optValue<int>("blocked", 0) == 2 &&
               by_state->optValue<int>("suspended", 0) == 1;
      },
      std::chrono::seconds(30));
  CAPTURE(summary ? toJsonForCapture(summary) : std::string());
  REQUIRE(converged);
  CHECK(summary->getValue<int>("instances") == 20);
  CHECK(summary->getValue<int>("needsScan") == 5);
  const auto by_attention = summary->getObject("byAttention");
  CHECK(by_attention->getValue<int>("needs_scan") == 5);
  CHECK(by_attention->getValue<int>("blocked") == 2);
  CHECK(by_attention->getValue<int>("suspended") == 1);
  CHECK(by_attention->getValue<int>("none") == 12);
  CHECK(by_attention->size() == 9);  // every attention, zeros included: dashboards need stable keys
  REQUIRE_FALSE(summary->isNull("oldestWaitingScan"));
  const auto needs_scan = parseObject(http.get("/api/v1/needs-scan", server.adminKey()).body);
  CHECK(summary->getObject("oldestWaitingScan")->getValue<long long>("id") ==
        needs_scan->getArray("items")->getObject(0)->getValue<long long>("id"));
  const auto sched = summary->getObject("scheduler");
  CHECK(sched->getValue<int>("rateLimited5m") == 0);
  CHECK(sched->getValue<double>("probesPerSecond") > 0);
  CHECK_FALSE(summary->getObject("store")->isNull("lastBatchCommitAgeMs"));
  CHECK(http.get("/api/v1/summary").status == 401);
}
