// Exercises `greenfleet sweep` against a real server whose instances
// live in the emulator.
#include <doctest/doctest.h>

#include <chrono>
#include <fstream>

#include <fmt/format.h>

#include "support/child_process.hpp"
#include "support/emulator_process.hpp"
#include "support/json.hpp"
#include "support/server_fixture.hpp"
#include "support/wait_for.hpp"

using namespace greenfleet::testing;

namespace {

struct Run {
  int code = -1;
  std::string output;
};

Run sweep(const ServerFixture& server, const std::string& key_file, std::vector<std::string> args) {
  args.insert(args.begin(), {"sweep", "--url", fmt::format("http://127.0.0.1:{}", server.port()),
                             "--key-file", key_file, "--poll-interval-ms", "50"});
  Run r;
  r.code = runToCompletion(greenfleetBinary(), args, r.output);
  return r;
}

std::string keyFile(const ServerFixture& server, const std::string& name, const std::string& key) {
  const auto path = server.dir().file(name);
  std::ofstream(path) << key << "\n";
  return path;
}

// Registers the emulator's instances: 2 authorized, 2 notAuthorized, 1 blocked (tag "bad").
void registerFleet(const ServerFixture& server, const EmulatorProcess& emu) {
  const auto all = emu.instances();
  REQUIRE(all.size() == 5);
  const std::vector<std::string> states = {"authorized", "authorized", "notAuthorized",
                                           "notAuthorized", "blocked"};
  std::string batch = "[";
  for (std::size_t i = 0; i < all.size(); ++i) {
    REQUIRE(emu.setState(all[i].idInstance, states[i]) == 200);
    batch += fmt::format(
        R"({}{{"id":{},"token":"{}","name":"emu {}","apiUrl":"{}","tags":["{}"]}})", i ? "," : "",
        all[i].idInstance, all[i].apiTokenInstance, i, emu.apiUrl(), i == 4 ? "bad" : "good");
  }
  batch += "]";
  REQUIRE(server.client().post("/api/v1/instances", batch, server.adminKey()).status == 201);
}

}  // namespace

TEST_CASE("a fresh sweep probes the fleet and exits CRITICAL for a blocked instance") {
  EmulatorProcess emu({"--instances", "5", "--state", "authorized"});
  ServerFixture server;
  registerFleet(server, emu);
  const auto admin = keyFile(server, "admin.copy", server.adminKey());

  auto r = sweep(server, admin, {"--format", "json", "--timeout", "60"});
  REQUIRE(r.code == 2);
  const auto json = parseObject(r.output);
  CHECK(json->getValue<std::string>("source") == "fresh");
  CHECK_FALSE(json->isNull("sweepId"));
  const auto report = json->getObject("report");
  CHECK(report->getValue<int>("total") == 5);
  CHECK(report->getObject("countsByAttention")->getValue<int>("blocked") == 1);
  CHECK(report->getObject("countsByAttention")->getValue<int>("needs_scan") == 2);
  CHECK(report->getArray("attention")->getObject(0)->getValue<std::string>("attention") ==
        "blocked");

  r = sweep(server, admin, {"--tag", "good", "--format", "nagios"});
  CHECK(r.code == 1);
  CHECK(r.output.rfind("GREENFLEET WARNING - 2 need a QR scan, 0 blocked, 4 instances", 0) == 0);
}

TEST_CASE("a cached sweep works with a read key, a fresh one needs an admin key") {
  EmulatorProcess emu({"--instances", "5", "--state", "authorized"});
  ServerFixture server;
  registerFleet(server, emu);
  std::string out;
  REQUIRE(server.runCommand({"keys", "create", "--name", "nagios", "--role", "read"}, out) == 0);
  const auto read_key = out.substr(out.find_last_of(':') + 1);
  const auto reader =
      keyFile(server, "read.key", read_key.substr(read_key.find_first_not_of(" \n")));

  auto r = sweep(server, reader, {"--cached", "--format", "json"});
  CHECK(r.code != 3);
  CHECK(parseObject(r.output)->getValue<std::string>("source") == "cached");
  r = sweep(server, reader, {"--fresh"});
  CHECK(r.code == 3);
  CHECK(r.output.find("403") != std::string::npos);
}

TEST_CASE("a rejected key is reported as 401 and exit 3") {
  ServerFixture server;
  const auto wrong = keyFile(server, "wrong.key", "gf_wrong");
  for (const auto mode : {"--fresh", "--cached"}) {
    const auto r = sweep(server, wrong, {mode, "--format", "nagios"});
    CHECK(r.code == 3);
    CHECK(r.output.find("rejected the API key (401)") != std::string::npos);
    CHECK(r.output.find("gf_wrong") == std::string::npos);
  }
}

TEST_CASE(
    "a sweep of 1000 instances stays within every limit while a scan session keeps its cadence") {
  EmulatorProcess emu({"--instances", "1000", "--state", "authorized"});
  // The session polls qr (sessions.transport = poll): its requests compete with the sweep's.
  ServerFixture server({}, {{"GREENFLEET_SCHEDULER_CONFIRM_DELAY_S", "1"},
                            {"GREENFLEET_UPSTREAM_MAX_RPS", "2000"},
                            {"GREENFLEET_SESSIONS_TRANSPORT", "poll"}});
  const auto all = emu.instances();
  REQUIRE(all.size() == 1000);
  const auto scanned = all.front().idInstance;
  REQUIRE(emu.setState(scanned, "notAuthorized") == 200);
  std::string batch = "[";
  for (std::size_t i = 0; i < all.size(); ++i) {
    batch += fmt::format(R"({}{{"id":{},"token":"{}","apiUrl":"{}"}})", i ? "," : "",
                         all[i].idInstance, all[i].apiTokenInstance, emu.apiUrl());
  }
  batch += "]";
  const auto http = server.client();
  REQUIRE(http.post("/api/v1/instances", batch, server.adminKey()).status == 201);
  REQUIRE(waitFor(
      [&] {
        const auto body = parseObject(http.get("/api/v1/needs-scan", server.adminKey()).body);
        return body->getValue<int>("total") == 1;
      },
      std::chrono::seconds(30)));
  const auto started = http.post(fmt::format("/api/v1/instances/{}/actions/scan-session", scanned),
                                 "", server.adminKey());
  REQUIRE(started.status == 202);

  emu.resetCounters();
  const auto t0 = std::chrono::steady_clock::now();
  const auto r = sweep(server, keyFile(server, "admin.copy", server.adminKey()),
                       {"--format", "json", "--timeout", "120"});
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  CAPTURE(r.output);
  REQUIRE(r.code == 1);  // the one instance waiting for its scan
  const auto report = parseObject(r.output)->getObject("report");
  CHECK(report->getValue<int>("total") == 1000);
  CHECK(report->getArray("unprobed")->size() == 0);

  const auto counters = emu.counters();
  const auto instances = counters->getObject("instances");
  std::size_t probed = 0;
  for (const auto& [id, methods_var] : *instances) {
    const auto methods = methods_var.extract<Poco::JSON::Object::Ptr>();
    for (const auto& [method, c_var] : *methods) {
      const auto c = c_var.extract<Poco::JSON::Object::Ptr>();
      CAPTURE(id);
      CAPTURE(method);
      CHECK(c->getValue<int>("rateLimited") == 0);
      CHECK(c->getValue<int>("maxPerSecond") <= (method == "qr" ? 2 : 1));
    }
    if (methods->has("getStateInstance") &&
        methods->getObject("getStateInstance")->getValue<int>("accepted") > 0) {
      ++probed;
    } else {
      // The instance in a scan session answers qr every second: those answers are its fresh
      // reading, and its one request slot is busy with them.
      CHECK(id == std::to_string(scanned));
    }
  }
  CHECK(probed >= 999);
  // The scan session went on polling qr through the sweep (about once a second; the bound leaves
  // room for a loaded CI machine — a sweep that starved the session would give ~0).
  const auto qr = instances->getObject(std::to_string(scanned))->getObject("qr");
  CAPTURE(elapsed);
  CHECK(qr->getValue<double>("accepted") >= elapsed * 0.5 - 1);
}
