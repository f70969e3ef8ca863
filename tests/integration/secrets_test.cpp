// Issue 15, secrets at rest: tokens are sealed with AES-256-GCM under a key outside the database
// (real binary, real SQLite file, emulator on loopback), the key can be rotated, a wrong or
// missing key stops start-up with a clear message, and `backup` copies the live database.
#include <doctest/doctest.h>

#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "support/child_process.hpp"
#include "support/emulator_process.hpp"
#include "support/file_bytes.hpp"
#include "support/json.hpp"
#include "support/server_fixture.hpp"
#include "support/temp_dir.hpp"
#include "support/wait_for.hpp"

using namespace greenfleet::testing;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

using Env = std::map<std::string, std::string>;

constexpr const char* kOtherKey =
    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

// Fast probes, so instances show they work within a second or two of a start.
Env fastEnv(Env extra = {}) {
  Env env = {{"GREENFLEET_SCHEDULER_INTERVAL_AUTHORIZED_S", "1.25"},
             {"GREENFLEET_SCHEDULER_STARTUP_SPREAD_S", "0"},
             {"GREENFLEET_SCHEDULER_JITTER", "0"}};
  env.insert(extra.begin(), extra.end());
  return env;
}

std::string firstLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

std::string sqlite(const std::string& db, const std::string& sql) {
  std::string out;
  REQUIRE(runToCompletion("/usr/bin/sqlite3", {db, sql}, out) == 0);
  return out;
}

int modeOf(const std::string& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return static_cast<int>(st.st_mode & 0777);
}

// `serve` on `data_dir` that is expected to fail at start: its exit code and output.
int failedStart(const std::string& data_dir, std::string& output, const Env& env = {}) {
  return runToCompletion(greenfleetBinary(), {"serve", "--port", "0", "--data-dir", data_dir},
                         output, env, 60s);
}

// An emulator fleet registered on a server.
struct SealedFleet {
  EmulatorProcess emu{{"--instances", "4"}};
  std::vector<EmulatedCredentials> all = emu.instances();
  std::unique_ptr<ServerFixture> server;

  explicit SealedFleet(Env env = {}) {
    server = std::make_unique<ServerFixture>(std::vector<std::string>{}, fastEnv(std::move(env)));
    std::string batch = "[";
    for (std::size_t i = 0; i < all.size(); ++i) {
      batch +=
          fmt::format(R"({}{{"id":{},"token":"{}","apiUrl":"{}","name":"sealed {}"}})",
                      i ? "," : "", all[i].idInstance, all[i].apiTokenInstance, emu.apiUrl(), i);
    }
    batch += "]";
    REQUIRE(server->client().post("/api/v1/instances", batch, server->adminKey()).status == 201);
  }

  std::string keyFile() const { return server->dataDir() + "/secret.key"; }

  // A clean stop (exit 0); on failure the server's log says why.
  void stop() const {
    const int code = server->stop();
    INFO("server log:\n" << server->log());
    REQUIRE(code == 0);
  }

  // Every instance probed after the emulator's counters were reset, with no error: greenfleet
  // holds the right token for each.
  bool allWorking() const {
    const auto counters = emu.counters()->getObject("instances");
    for (const auto& c : all) {
      const auto r = server->client().get("/api/v1/instances/" + std::to_string(c.idInstance),
                                          server->adminKey());
      if (r.status != 200) return false;
      const auto o = parseObject(r.body);
      if (o->isNull("state") || o->getValue<std::string>("state") != "authorized") return false;
      if (!o->isNull("lastError")) return false;
      const auto methods = counters ? counters->getObject(std::to_string(c.idInstance)) : nullptr;
      const auto state = methods ? methods->getObject("getStateInstance") : nullptr;
      if (!state || state->getValue<long long>("accepted") < 1) return false;
    }
    return true;
  }

  // Fresh counters, then wait for every instance to be probed fine.
  bool worksAfterStart() const {
    emu.resetCounters();
    return waitFor([&] { return allWorking(); }, 60s, 100ms);
  }

  // No registered token in the database file or its WAL.
  void checkNoTokenInFiles() const {
    const auto raw = fileBytes(server->dbPath()) + fileBytes(server->dbPath() + "-wal");
    REQUIRE(raw.size() > 0);
    for (const auto& c : all) {
      CAPTURE(c.idInstance);
      CHECK(raw.find(c.apiTokenInstance) == std::string::npos);
    }
  }
};

}  // namespace

TEST_CASE("the database file and its WAL never hold a registered token") {
  SealedFleet fleet;
  REQUIRE(fleet.worksAfterStart());
  // Written and probed, not yet checkpointed: the inserts sit in the WAL.
  REQUIRE(fs::file_size(fleet.server->dbPath() + "-wal") > 0);
  fleet.checkNoTokenInFiles();
  // After a checkpoint the pages are in the main file.
  sqlite(fleet.server->dbPath(), "PRAGMA wal_checkpoint(TRUNCATE);");
  fleet.checkNoTokenInFiles();
  // A token changed through PATCH is sealed too.
  const std::string patched = fleet.all[0].apiTokenInstance + "x";
  REQUIRE(fleet.server->client()
              .patch("/api/v1/instances/" + std::to_string(fleet.all[0].idInstance),
                     fmt::format(R"({{"token":"{}"}})", patched), fleet.server->adminKey())
              .status == 200);
  fleet.stop();
  const auto raw = fileBytes(fleet.server->dbPath()) + fileBytes(fleet.server->dbPath() + "-wal");
  CHECK(raw.find(patched) == std::string::npos);
  fleet.checkNoTokenInFiles();
  // The key: 64 hex digits, owner-only, next to the database but not in it.
  CHECK(modeOf(fleet.keyFile()) == 0600);
  CHECK(firstLine(fleet.keyFile()).size() == 64);
  CHECK(raw.find(firstLine(fleet.keyFile())) == std::string::npos);
  CHECK(sqlite(fleet.server->dbPath(),
               "SELECT COUNT(*) FROM instances WHERE token_key_id IS NULL;") == "0\n");
}

TEST_CASE("tokens stored in clear before migration 0004 are encrypted at start and keep working") {
  SealedFleet fleet;
  fleet.stop();
  // What a database written before 0004 holds: clear tokens, no key id.
  std::string sql;
  for (const auto& c : fleet.all) {
    sql += fmt::format("UPDATE instances SET token = '{}', token_key_id = NULL WHERE id = {};",
                       c.apiTokenInstance, c.idInstance);
  }
  sqlite(fleet.server->dbPath(), sql);
  REQUIRE(fileBytes(fleet.server->dbPath()).find(fleet.all[0].apiTokenInstance) !=
          std::string::npos);

  SUBCASE("by serve") {
    fleet.server->start();
    CHECK(fleet.server->log().find("event=tokens_encrypted count=4") != std::string::npos);
  }
  SUBCASE("by migrate") {
    std::string out;
    REQUIRE(fleet.server->runCommand({"migrate"}, out) == 0);
    CHECK(out.find("event=tokens_encrypted count=4") != std::string::npos);
    fleet.checkNoTokenInFiles();
    fleet.server->start();
  }
  fleet.checkNoTokenInFiles();
  CHECK(fleet.worksAfterStart());
  CHECK(sqlite(fleet.server->dbPath(),
               "SELECT COUNT(*) FROM instances WHERE token_key_id IS NULL;") == "0\n");
}

TEST_CASE("secrets rotate re-encrypts every token under a new key; every instance keeps working") {
  SealedFleet fleet;
  REQUIRE(fleet.worksAfterStart());
  const std::string old_key = firstLine(fleet.keyFile());
  std::string out;

  // Refused while the server runs: it holds the database lock.
  CHECK(fleet.server->runCommand({"secrets", "rotate"}, out) == 1);
  CHECK(out.find("stop it before rotating") != std::string::npos);
  CHECK(firstLine(fleet.keyFile()) == old_key);

  fleet.stop();
  REQUIRE(fleet.server->runCommand({"secrets", "rotate"}, out) == 0);
  CHECK(out.find("re-encrypted 4 token(s)") != std::string::npos);
  const std::string new_key = firstLine(fleet.keyFile());
  CHECK(new_key.size() == 64);
  CHECK(new_key != old_key);
  CHECK(modeOf(fleet.keyFile()) == 0600);
  CHECK_FALSE(fs::exists(fleet.keyFile() + ".old"));
  CHECK_FALSE(fs::exists(fleet.keyFile() + ".tmp"));
  CHECK(out.find(old_key) == std::string::npos);
  CHECK(out.find(new_key) == std::string::npos);

  fleet.server->start();
  CHECK(fleet.worksAfterStart());
  fleet.checkNoTokenInFiles();

  // The old key no longer opens the database: start-up says so and names the file.
  fleet.stop();
  std::ofstream(fleet.keyFile(), std::ios::trunc) << old_key << "\n";
  CHECK(failedStart(fleet.server->dataDir(), out) != 0);
  CHECK(out.find(fmt::format("secrets: key in {}", fleet.keyFile())) != std::string::npos);
  CHECK(out.find("does not match the key") != std::string::npos);
  CHECK(out.find("that encrypted 4 tokens") != std::string::npos);

  // --new-key-file: the given key becomes the key file's.
  std::ofstream(fleet.keyFile(), std::ios::trunc) << new_key << "\n";
  TempDir elsewhere;
  std::ofstream(elsewhere.file("next.key")) << kOtherKey << "\n";
  REQUIRE(fleet.server->runCommand(
              {"secrets", "rotate", "--new-key-file", elsewhere.file("next.key")}, out) == 0);
  CHECK(firstLine(fleet.keyFile()) == kOtherKey);
  fleet.server->start();
  CHECK(fleet.worksAfterStart());
}

namespace {
// The fleet's emulator as a partner account (greenfleet id 1): a sync succeeds only with the
// partner token greenfleet stored.
struct PartnerOnFleet {
  const SealedFleet& fleet;
  std::string token = parseObject(fleet.emu.http().get("/_emulator/instances").body)
                          ->getValue<std::string>("partnerToken");

  explicit PartnerOnFleet(const SealedFleet& f) : fleet(f) {
    const auto json = fmt::format(
        R"({{"name":"main","partnerToken":"{}","partnerApiUrl":"{}","apiUrlTemplate":"{}"}})",
        token, fleet.emu.apiUrl(), fleet.emu.apiUrl());
    REQUIRE(
        fleet.server->client().post("/api/v1/partners", json, fleet.server->adminKey()).status ==
        201);
  }
  // An on-demand sync (waiting out partners.min_interval) read the listing with the token.
  bool syncs() const {
    HttpResponse r;
    REQUIRE(waitFor([&] {
      r = fleet.server->client().post("/api/v1/partners/1/sync", "", fleet.server->adminKey());
      return r.status != 429;
    }));
    INFO(r.body);
    const auto result = parseObject(r.body);
    return r.status == 200 && result->getValue<bool>("ok") && result->getValue<int>("listed") == 4;
  }
  bool inFiles() const {
    const auto& db = fleet.server->dbPath();
    return (fileBytes(db) + fileBytes(db + "-wal")).find(token) != std::string::npos;
  }
};
}  // namespace

TEST_CASE("partner tokens are encrypted at rest, and sync works after a restart and a rotation") {
  SealedFleet fleet(Env{{"GREENFLEET_PARTNERS_SYNC_INTERVAL", "3600"},
                        {"GREENFLEET_PARTNERS_MIN_INTERVAL", "0.05"}});
  const PartnerOnFleet partner(fleet);
  CHECK(partner.syncs());
  CHECK_FALSE(partner.inFiles());
  fleet.stop();
  CHECK_FALSE(partner.inFiles());
  CHECK(sqlite(fleet.server->dbPath(),
               "SELECT COUNT(*) FROM partners WHERE token_key_id IS NULL;") == "0\n");

  fleet.server->start();
  CHECK(partner.syncs());
  fleet.stop();

  std::string out;
  REQUIRE(fleet.server->runCommand({"secrets", "rotate"}, out) == 0);
  CHECK(out.find("re-encrypted 5 token(s)") != std::string::npos);  // 4 instances, 1 partner
  fleet.server->start();
  CHECK(partner.syncs());
  CHECK(fleet.worksAfterStart());
  fleet.stop();
  CHECK_FALSE(partner.inFiles());

  // What a database written before migration 0007 holds: the partner token in clear.
  sqlite(
      fleet.server->dbPath(),
      fmt::format("UPDATE partners SET partner_token = '{}', token_key_id = NULL;", partner.token));
  REQUIRE(partner.inFiles());
  fleet.server->start();
  CHECK(fleet.server->log().find("event=tokens_encrypted count=1") != std::string::npos);
  CHECK(partner.syncs());
  fleet.stop();
  CHECK_FALSE(partner.inFiles());
  CHECK(fleet.server->log().find(partner.token) == std::string::npos);
}

TEST_CASE("a wrong key stops start-up with a message naming the key file") {
  SealedFleet fleet;
  fleet.stop();
  const std::string right_key = fileBytes(fleet.keyFile());
  std::ofstream(fleet.keyFile(), std::ios::trunc) << kOtherKey << "\n";
  std::string out;
  CHECK(failedStart(fleet.server->dataDir(), out) != 0);
  CHECK(out.find(fmt::format("secrets: key in {} (id ", fleet.keyFile())) != std::string::npos);
  CHECK(out.find("does not match the key (id ") != std::string::npos);
  CHECK(out.find("listening on") == std::string::npos);

  SUBCASE("a malformed key file is named too") {
    std::ofstream(fleet.keyFile(), std::ios::trunc) << "not a key\n";
    CHECK(failedStart(fleet.server->dataDir(), out) != 0);
    CHECK(out.find(fmt::format("key file {} must hold 64 hex digits", fleet.keyFile())) !=
          std::string::npos);
  }
  SUBCASE("a key file that is a symbolic link is refused") {
    TempDir elsewhere;
    std::ofstream(elsewhere.file("real.key")) << kOtherKey << "\n";
    fs::remove(fleet.keyFile());
    fs::create_symlink(elsewhere.file("real.key"), fleet.keyFile());
    CHECK(failedStart(fleet.server->dataDir(), out) != 0);
    CHECK(out.find("is a symbolic link") != std::string::npos);
  }
  SUBCASE("a rotation cut between the key file and the commit names <file>.old and the fix") {
    // The state such a crash leaves: the new key in the file, the old one in .old.
    std::ofstream(fleet.keyFile() + ".old") << right_key;
    CHECK(failedStart(fleet.server->dataDir(), out) != 0);
    CHECK(out.find(fmt::format("restore it with: mv {}.old {}", fleet.keyFile(),
                               fleet.keyFile())) != std::string::npos);
    fs::rename(fleet.keyFile() + ".old", fleet.keyFile());
    fleet.server->start();
    CHECK(fleet.worksAfterStart());
  }
}

TEST_CASE("a missing key file while tokens are encrypted stops start-up; no new key is made") {
  SealedFleet fleet;
  fleet.stop();
  fs::remove(fleet.keyFile());
  std::string out;
  CHECK(failedStart(fleet.server->dataDir(), out) != 0);
  CHECK(out.find(fmt::format("key file {} is missing but 4 tokens", fleet.keyFile())) !=
        std::string::npos);
  CHECK_FALSE(fs::exists(fleet.keyFile()));
}

TEST_CASE("GREENFLEET_SECRETS_KEY supplies the key instead of the file") {
  SealedFleet fleet(Env{{"GREENFLEET_SECRETS_KEY", kOtherKey}});
  REQUIRE(fleet.worksAfterStart());
  CHECK_FALSE(fs::exists(fleet.keyFile()));
  fleet.server->restart();
  CHECK(fleet.worksAfterStart());
  fleet.stop();
  fleet.checkNoTokenInFiles();

  std::string out;
  // Without it, start-up refuses (and makes no new key over the sealed tokens).
  CHECK(failedStart(fleet.server->dataDir(), out, fastEnv()) != 0);
  CHECK(out.find("is missing but 4 tokens") != std::string::npos);
  CHECK_FALSE(fs::exists(fleet.keyFile()));
  // A malformed value names the variable.
  CHECK(failedStart(fleet.server->dataDir(), out, {{"GREENFLEET_SECRETS_KEY", "abc"}}) != 0);
  CHECK(out.find("GREENFLEET_SECRETS_KEY must be 64 hex digits") != std::string::npos);
  // Rotating an env key needs the new key in a file.
  CHECK(fleet.server->runCommand({"secrets", "rotate"}, out) == 2);
  CHECK(out.find("--new-key-file") != std::string::npos);
}

TEST_CASE("sweep --db reads the stored status without the token key") {
  SealedFleet fleet;
  REQUIRE(fleet.worksAfterStart());
  fleet.stop();
  fs::remove(fleet.keyFile());
  std::string out;
  const int code =
      runToCompletion(greenfleetBinary(),
                      {"sweep", "--db", fleet.server->dbPath(), "--format", "json"}, out, {}, 60s);
  CHECK(code == 0);
  const auto report = parseObject(out)->getObject("report");
  CHECK(report->getValue<int>("total") == 4);
  CHECK(report->getObject("countsByState")->getValue<int>("authorized") == 4);
  CHECK_FALSE(fs::exists(fleet.keyFile()));
}

TEST_CASE(
    "backup copies the live database under write load; the restore holds every acknowledged "
    "write") {
  SealedFleet fleet;
  auto& server = *fleet.server;
  // A writer registers instances one by one while the backup runs.
  std::atomic<bool> stop{false};
  std::mutex mutex;
  std::vector<long long> acknowledged;
  std::thread writer([&] {
    HttpClient http = server.client();
    for (long long id = 5'000'000'001; !stop; ++id) {
      const auto r = http.post(
          "/api/v1/instances",
          fmt::format(R"({{"id":{},"token":"loadtoken{}abcdef0123456789","apiUrl":"{}"}})", id, id,
                      "http://127.0.0.1:9"),
          server.adminKey());
      if (r.status != 201) break;
      std::lock_guard lock(mutex);
      acknowledged.push_back(id);
    }
  });
  REQUIRE(waitFor(
      [&] {
        std::lock_guard lock(mutex);
        return acknowledged.size() >= 20;
      },
      30s));
  std::set<long long> before_backup;
  {
    std::lock_guard lock(mutex);
    before_backup.insert(acknowledged.begin(), acknowledged.end());
  }
  TempDir out_dir;
  const std::string backup = out_dir.file("greenfleet-backup.db");
  std::string out;
  const int code = server.runCommand({"backup", backup}, out);
  // Writes went on during the copy.
  const auto during = [&] {
    std::lock_guard lock(mutex);
    return acknowledged.size();
  };
  REQUIRE(waitFor([&] { return during() >= before_backup.size() + 5; }, 30s));
  stop = true;
  writer.join();
  REQUIRE(code == 0);
  CHECK(out.find("the token key is not in it") != std::string::npos);
  CHECK(modeOf(backup) == 0600);
  CHECK(sqlite(backup, "PRAGMA integrity_check;") == "ok\n");
  CHECK_FALSE(fs::exists(backup + "-wal"));
  CHECK(fileBytes(backup).find("loadtoken5000000001") == std::string::npos);
  for (const auto& c : fleet.all)
    CHECK(fileBytes(backup).find(c.apiTokenInstance) == std::string::npos);
  // An existing file is never overwritten.
  CHECK(server.runCommand({"backup", backup}, out) == 1);
  CHECK(out.find("cannot create backup file") != std::string::npos);

  // Restore as the README says: stop, copy the backup (and the key, kept apart) into a data
  // directory, start.
  ServerFixture restored({}, fastEnv());
  const std::string admin_key = fileBytes(server.dataDir() + "/admin.key");
  REQUIRE(restored.stop() == 0);
  for (const std::string suffix : {"", "-wal", "-shm"}) fs::remove(restored.dbPath() + suffix);
  fs::copy_file(backup, restored.dbPath());
  fs::copy_file(fleet.keyFile(), restored.dataDir() + "/secret.key",
                fs::copy_options::overwrite_existing);
  std::ofstream(restored.dataDir() + "/admin.key", std::ios::trunc) << admin_key;
  restored.start();
  std::set<long long> present;
  std::string cursor;
  do {
    const auto r = restored.client().get(
        "/api/v1/instances?limit=1000" + (cursor.empty() ? "" : "&cursor=" + cursor),
        restored.adminKey());
    REQUIRE(r.status == 200);
    const auto page = parseObject(r.body);
    const auto items = page->getArray("items");
    for (std::size_t i = 0; i < items->size(); ++i) {
      present.insert(items->getObject(static_cast<unsigned>(i))->getValue<long long>("id"));
    }
    cursor = page->isNull("nextCursor") ? "" : page->getValue<std::string>("nextCursor");
  } while (!cursor.empty());
  for (const auto id : before_backup) {
    CAPTURE(id);
    CHECK(present.contains(id));
  }
  for (const auto& c : fleet.all) CHECK(present.contains(c.idInstance));
  // No write the backup did not acknowledge: everything present was acknowledged at some point.
  std::set<long long> all_acknowledged(acknowledged.begin(), acknowledged.end());
  for (const auto& c : fleet.all) all_acknowledged.insert(c.idInstance);
  for (const auto id : present) CHECK(all_acknowledged.contains(id));
  REQUIRE(restored.stop() == 0);
  CHECK(sqlite(restored.dbPath(), "PRAGMA integrity_check;") == "ok\n");
}
