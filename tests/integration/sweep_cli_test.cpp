#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <fmt/format.h>

#include "support/child_process.hpp"
#include "support/json.hpp"
#include "support/server_fixture.hpp"
#include "support/temp_dir.hpp"

using namespace greenfleet::testing;
namespace fs = std::filesystem;

namespace {

constexpr const char* kToken = "1f2485e80f474293b935f77d78c64e76fa4bdceb417a4998a4";

struct Run {
  int code = -1;
  std::string output;
  std::chrono::milliseconds took{0};
};

Run sweep(std::vector<std::string> args) {
  args.insert(args.begin(), "sweep");
  Run r;
  const auto start = std::chrono::steady_clock::now();
  r.code = runToCompletion(greenfleetBinary(), args, r.output, {}, std::chrono::seconds(60));
  r.took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                 start);
  return r;
}

// A loopback port nobody listens on: bound by the kernel's choice, then closed again.
int closedPort() {
  Poco::Net::ServerSocket socket(Poco::Net::SocketAddress("127.0.0.1", 0));
  const int port = socket.address().port();
  socket.close();
  return port;
}

std::string writeKeyFile(const TempDir& dir, const std::string& key) {
  const auto path = dir.file("sweep.key");
  std::ofstream(path) << key << "\n";
  return path;
}

std::string fileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::set<std::string> filesIn(const std::string& dir) {
  std::set<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.insert(e.path().filename().string());
  return out;
}

std::string sqlite(const std::string& db, const std::string& sql) {
  std::string out;
  REQUIRE(runToCompletion("/usr/bin/sqlite3", {db, sql}, out) == 0);
  return out;
}

}  // namespace

TEST_CASE("sweep exits 3 at once when nothing listens at the server URL") {
  TempDir dir;
  const auto key_file = writeKeyFile(dir, "some-key");
  const auto r = sweep({"--url", fmt::format("http://127.0.0.1:{}", closedPort()), "--key-file",
                        key_file, "--format", "nagios", "--timeout", "30"});
  CHECK(r.code == 3);
  CHECK(r.took < std::chrono::seconds(5));
  CHECK(r.output.rfind("GREENFLEET UNKNOWN - cannot reach http://127.0.0.1:", 0) == 0);
  CHECK(r.output.find("some-key") == std::string::npos);
}

TEST_CASE("sweep exits 3 with a clear message when the server does not answer within --timeout") {
  TempDir dir;
  const auto key_file = writeKeyFile(dir, "some-key");
  // Listening but never accepting: the kernel completes the handshake, nobody ever answers.
  Poco::Net::ServerSocket silent(Poco::Net::SocketAddress("127.0.0.1", 0));
  for (const auto mode : {"--fresh", "--cached"}) {
    CAPTURE(mode);
    const auto r = sweep({"--url", fmt::format("http://127.0.0.1:{}", silent.address().port()),
                          "--key-file", key_file, mode, "--timeout", "1"});
    CHECK(r.code == 3);
    CHECK(r.took < std::chrono::seconds(10));
    CHECK(r.output.find("UNKNOWN - timed out after 1 s") != std::string::npos);
  }
}

TEST_CASE("sweep exits 3 and never prints the key when the server rejects it") {
  ServerFixture server;
  const auto key_file = writeKeyFile(server.dir(), "gf_this-key-is-wrong");
  const auto url = fmt::format("http://127.0.0.1:{}", server.port());
  for (const auto format : {"text", "json", "nagios"}) {
    for (const auto mode : {"--fresh", "--cached"}) {
      CAPTURE(format);
      CAPTURE(mode);
      const auto r = sweep({"--url", url, "--key-file", key_file, "--format", format, mode});
      CHECK(r.code == 3);
      CHECK(r.output.find("UNKNOWN") != std::string::npos);
      CHECK(r.output.find("this-key-is-wrong") == std::string::npos);
    }
  }
}

TEST_CASE("sweep exits 3 when the key file is missing, and on a bad flag") {
  TempDir dir;
  auto r = sweep({"--url", "http://127.0.0.1:1", "--key-file", dir.file("absent.key")});
  CHECK(r.code == 3);
  CHECK(r.output.find("cannot read key file") != std::string::npos);
  r = sweep({"--format", "xml"});
  CHECK(r.code == 3);
  CHECK(r.output.find("--format must be text, json or nagios") != std::string::npos);
  r = sweep({"--fresh", "--cached"});
  CHECK(r.code == 3);
  r = sweep({"--db", dir.file("absent.db"), "--format", "nagios"});
  CHECK(r.code == 3);
  CHECK(r.output.find("GREENFLEET UNKNOWN - no database file at") != std::string::npos);
}

TEST_CASE("sweep --db reports a stopped server's stored status and leaves the file untouched") {
  ServerFixture server;
  std::string batch = "[";
  for (int id = 101; id <= 106; ++id) {
    batch += fmt::format(R"({}{{"id":{},"token":"{}","name":"shop {}","tags":["{}"],)"
                         R"("apiUrl":"http://127.0.0.1:1"}})",
                         id == 101 ? "" : ",", id, kToken, id, id <= 103 ? "berlin" : "paris");
  }
  batch += "]";
  REQUIRE(server.client().post("/api/v1/instances", batch, server.adminKey()).status == 201);
  REQUIRE(server.stop() == 0);

  const auto db = server.dbPath();
  // 102 waits longer than 103; 106 was never probed.
  sqlite(db,
         "DELETE FROM instance_status;"
         "INSERT INTO instance_status(id, state, state_since, attention, last_error) VALUES"
         " (101, 'authorized', 1767225600000, 'none', NULL),"
         " (102, 'notAuthorized', 1767225600000, 'needs_scan', NULL),"
         " (103, 'notAuthorized', 1767229200000, 'needs_scan', 'qr not yet shown'),"
         " (104, 'blocked', 1767232800000, 'blocked', NULL),"
         " (105, 'authorized', 1767225600000, 'none', NULL);");
  REQUIRE_FALSE(fs::exists(db + "-wal"));
  const auto bytes_before = fileBytes(db);
  const auto mtime_before = fs::last_write_time(db);
  const auto files_before = filesIn(server.dataDir());

  SUBCASE("json shows the counts, the problems in order and the unprobed instance") {
    const auto r = sweep({"--db", db, "--format", "json"});
    CHECK(r.code == 2);
    const auto json = parseObject(r.output);
    CHECK(json->getValue<std::string>("status") == "CRITICAL");
    CHECK(json->getValue<int>("exitCode") == 2);
    CHECK(json->getValue<std::string>("source") == "db");
    const auto report = json->getObject("report");
    CHECK(report->getValue<int>("total") == 6);
    CHECK(report->getObject("countsByState")->getValue<int>("authorized") == 2);
    CHECK(report->getObject("countsByState")->getValue<int>("notAuthorized") == 2);
    CHECK(report->getObject("countsByState")->getValue<int>("unknown") == 1);
    CHECK(report->getObject("countsByAttention")->getValue<int>("needs_scan") == 2);
    CHECK(report->getObject("countsByAttention")->getValue<int>("blocked") == 1);
    const auto attention = report->getArray("attention");
    REQUIRE(attention->size() == 3);
    std::vector<long long> order;
    for (std::size_t i = 0; i < attention->size(); ++i) {
      order.push_back(attention->getObject(static_cast<unsigned>(i))->getValue<long long>("id"));
    }
    CHECK(order == std::vector<long long>{104, 102, 103});
    CHECK(attention->getObject(0)->getValue<std::string>("since") == "2026-01-01T02:00:00.000Z");
    CHECK(attention->getObject(2)->getValue<std::string>("lastError") == "qr not yet shown");
    const auto unprobed = report->getArray("unprobed");
    REQUIRE(unprobed->size() == 1);
    CHECK(unprobed->getObject(0)->getValue<long long>("id") == 106);
    CHECK(r.output.find(kToken) == std::string::npos);
  }
  SUBCASE("a tag narrows the check, and thresholds decide the exit code") {
    auto r = sweep({"--db", db, "--tag", "berlin", "--format", "nagios"});
    CHECK(r.code == 1);
    CHECK(r.output.rfind("GREENFLEET WARNING - 2 need a QR scan, 0 blocked, 3 instances;", 0) == 0);
    CHECK(r.output.find("| needs_scan=2;1 blocked=0;;1 ") != std::string::npos);
    r = sweep({"--db", db, "--tag", "berlin", "--crit-needs-scan", "2", "--format", "nagios"});
    CHECK(r.code == 2);
    r = sweep({"--db", db, "--tag", "paris", "--format", "text"});
    CHECK(r.code == 2);
    CHECK(r.output.find("shop 104") != std::string::npos);
    r = sweep({"--db", db, "--tag", "paris", "--crit-blocked", "0", "--format", "text"});
    CHECK(r.code == 0);
  }

  CHECK(fileBytes(db) == bytes_before);
  CHECK(fs::last_write_time(db) == mtime_before);
  CHECK(filesIn(server.dataDir()) == files_before);
}
