// The fuzz driver (issue 15): requests built from the API's own routes and bodies, then mutated
// (support/request_fuzzer), sent to the real binary (the ASan/UBSan build under scripts/test).
// Every answer must be a 2xx/3xx or a documented JSON 4xx/503 — never another 5xx, a reset or a
// crash — and afterwards the server is alive and its registry consistent: the instances the API
// lists are the rows the database holds, and /summary counts the same.
// GREENFLEET_FUZZ_REQUESTS (default 1,000) and GREENFLEET_FUZZ_SEED (printed) steer it;
// scripts/fuzz N runs it longer.

#include <algorithm>
#include <cstdlib>
#include <set>

#include <Poco/URI.h>
#include <doctest/doctest.h>
#include <fmt/format.h>

#include "support/child_process.hpp"
#include "support/json.hpp"
#include "support/request_fuzzer.hpp"
#include "support/server_fixture.hpp"
#include "support/wait_for.hpp"

using namespace greenfleet::testing;
using namespace std::chrono_literals;

namespace {
const std::string kToken = "0123456789abcdef0123456789abcdef0123456789abcdef01";
constexpr std::int64_t kFirstSeeded = 1101000001;
constexpr int kSeeded = 20;
constexpr std::size_t kReportedFailures = 25;

std::uint64_t envNumber(const char* name, std::uint64_t fallback) {
  const char* text = std::getenv(name);
  if (text == nullptr || *text == '\0') return fallback;
  return std::strtoull(text, nullptr, 10);
}

std::string createKey(const ServerFixture& server, const std::string& role) {
  std::string out;
  REQUIRE(server.runCommand({"keys", "create", "--name", "fuzz-" + role, "--role", role}, out) ==
          0);
  const auto at = out.rfind("gf_");
  REQUIRE(at != std::string::npos);
  return out.substr(at, 67);
}

void seed(const ServerFixture& server, std::int64_t id) {
  const auto r = server.client().post(
      "/api/v1/instances",
      fmt::format(R"({{"id":{},"token":"{}","name":"seed {}","tags":["eu"]}})", id, kToken, id),
      server.adminKey());
  REQUIRE(r.status == 201);
}

// Every instance the API lists, page by page: its id and whether it is enabled; `total` as the
// API reports it.
std::map<std::int64_t, bool> listedInstances(const ServerFixture& server, long long& total) {
  std::map<std::int64_t, bool> listed;
  std::string cursor;
  total = -1;
  for (int page = 0; page < 100; ++page) {
    const auto r = server.client().get(
        "/api/v1/instances?limit=1000" + (cursor.empty() ? "" : "&cursor=" + cursor),
        server.adminKey());
    REQUIRE(r.status == 200);
    const auto body = parseObject(r.body);
    total = body->getValue<long long>("total");
    const auto items = body->getArray("items");
    for (std::size_t i = 0; i < items->size(); ++i) {
      const auto item = items->getObject(static_cast<unsigned>(i));
      listed[item->getValue<std::int64_t>("id")] = item->getValue<bool>("enabled");
    }
    if (body->isNull("nextCursor")) break;
    cursor = body->getValue<std::string>("nextCursor");
  }
  return listed;
}

long long storedCount(const ServerFixture& server) {
  std::string out;
  REQUIRE(runToCompletion("/usr/bin/sqlite3",
                          {"-readonly", server.dbPath(), "SELECT COUNT(*) FROM instances;"},
                          out) == 0);
  return std::stoll(out);
}
}  // namespace

TEST_CASE(
    "fuzzed requests never get a 5xx, a reset or a crash, and the registry stays consistent") {
  const std::uint64_t seed_value = envNumber("GREENFLEET_FUZZ_SEED", 20261129);
  const std::uint64_t count = envNumber("GREENFLEET_FUZZ_REQUESTS", 1000);
  fmt::print(stderr, "fuzz: seed {} ({} requests); rerun with GREENFLEET_FUZZ_SEED={}\n",
             seed_value, count, seed_value);
  ServerFixture server({}, {{"GREENFLEET_WEBHOOKS_TOKEN", "fuzz-hook"},
                            {"GREENFLEET_UPSTREAM_DEFAULT_API_URL", "http://127.0.0.1:9"},
                            {"GREENFLEET_EVENTS_HEARTBEAT_S", "0.2"}});
  FuzzKeys keys{server.adminKey(), createKey(server, "read"), "fuzz-hook"};
  std::vector<std::int64_t> seeded;
  for (int k = 0; k < kSeeded; ++k) {
    seeded.push_back(kFirstSeeded + k);
    seed(server, seeded.back());
  }
  const std::set<std::int64_t> seeded_set(seeded.begin(), seeded.end());

  RequestFuzzer fuzzer(seed_value, keys, seeded, server.port());
  std::map<int, int> by_status;
  std::vector<std::string> failures;
  for (std::uint64_t n = 0; n < count; ++n) {
    const FuzzRequest request = fuzzer.next();
    const FuzzAnswer answer = exchangeRaw(server.port(), request);
    ++by_status[answer.status];
    if (const auto problem = answerProblem(request, answer)) {
      failures.push_back(fmt::format("#{}: {} <- {}", n, *problem, request.describe()));
      // A dead server fails every request after it: stop at the first sign of one.
      if (server.client().get("/healthz").status != 200) break;
    }
    // A deleted seed comes back, so later requests keep finding instances to work on.
    if (request.method == "DELETE" && answer.status == 204) {
      std::string path;  // as the server reads it: "%2F" is a "/" there too
      Poco::URI::decode(request.target, path);
      const auto at = path.find("/instances/");
      if (at != std::string::npos) {
        const auto id = std::strtoll(path.c_str() + at + 11, nullptr, 10);
        if (seeded_set.count(id) != 0) seed(server, id);
      }
    }
  }
  std::string histogram;
  for (const auto& [status, n] : by_status) histogram += fmt::format(" {}:{}", status, n);
  fmt::print(stderr, "fuzz: {} requests, answers by status:{}\n", count, histogram);
  for (std::size_t i = 0; i < failures.size() && i < kReportedFailures; ++i)
    FAIL_CHECK(failures[i]);
  CHECK(failures.empty());

  // Alive, and one registry: listed = stored = counted by /summary.
  REQUIRE(server.client().get("/healthz").status == 200);
  long long total = 0;
  const auto listed = listedInstances(server, total);
  CHECK(static_cast<long long>(listed.size()) == total);
  CHECK(total == storedCount(server));
  for (const auto id : seeded) CHECK(listed.count(id) == 1);
  // /summary counts the monitored (enabled) instances, from the scheduler's memory.
  const auto enabled =
      std::count_if(listed.begin(), listed.end(), [](auto& e) { return e.second; });
  long long summarized = -1;
  CHECK(waitFor(
      [&] {
        const auto r = server.client().get("/api/v1/summary", server.adminKey());
        summarized = r.status == 200 ? parseObject(r.body)->getValue<long long>("instances") : -1;
        return summarized == enabled;
      },
      10s, 20ms));
  CHECK(summarized == enabled);
  // No handler failed, and the process shuts down cleanly (sanitizers report at exit).
  CHECK(server.stop() == 0);
  CHECK(server.log().find("event=handler_failed") == std::string::npos);
}

// Regressions the fuzzer found.

TEST_CASE("an error answer quoting a path that is not UTF-8 is still valid JSON") {
  ServerFixture server;
  FuzzRequest request;
  request.method = "GET";
  request.target = "/api/v1/instances/1/\xff\x01";
  request.route = "/api/v1/instances/{id}";
  request.headers = {{"Host", "127.0.0.1"}, {"Authorization", "Bearer " + server.adminKey()}};
  const auto answer = exchangeRaw(server.port(), request);
  CHECK(answer.status == 404);
  CHECK_FALSE(answerProblem(request, answer).has_value());
  CHECK(answer.body.find("\xef\xbf\xbd") != std::string::npos);  // U+FFFD for the stray byte
}

TEST_CASE("a request body that is not UTF-8 is refused, not stored") {
  ServerFixture server;
  const auto r = server.client().post(
      "/api/v1/instances", fmt::format(R"({{"id":5,"token":"{}","name":"a\xff\xc3"}})", kToken),
      server.adminKey());
  CHECK(r.status == 400);
  CHECK(errorCode(r.body) == "malformed_json");
  CHECK(parseObject(server.client().get("/api/v1/instances", server.adminKey()).body)
            ->getValue<int>("total") == 0);
}
