// Issue 17, files: `greenfleet instances import|export` with JSON, NDJSON and CSV files of 10,000
// rows, through a running server's API and offline on the database file (--db).
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <Poco/Data/Statement.h>
#include <fmt/format.h>

#include "store/database.hpp"
#include "store/migrator.hpp"
#include "support/child_process.hpp"
#include "support/json.hpp"
#include "support/server_fixture.hpp"
#include "support/temp_dir.hpp"

using namespace greenfleet::testing;

namespace {

constexpr int kRows = 10000;

std::string token(long long n) { return fmt::format("{:050x}", n); }

// A file of `rows` instances from id `first`; the row at index `bad` (if any) has a bad token.
// Returns the text; `bad_line` is set to the line that row starts on.
std::string makeFile(const std::string& format, long long first, int rows, int bad = -1,
                     int* bad_line = nullptr) {
  std::string out;
  if (format == "json") out += "[\n";
  if (format == "csv") out += "id,token,apiUrl,name,tags\n";
  for (int i = 0; i < rows; ++i) {
    const long long id = first + i;
    const std::string tok = i == bad ? "not a token" : token(id);
    if (i == bad && bad_line != nullptr) *bad_line = i + 2 - (format == "ndjson" ? 1 : 0);
    if (format == "csv") {
      out += fmt::format("{},{},http://127.0.0.1:9,\"shop, {}\",bulk;eu\n", id, tok, id);
    } else {
      out +=
          fmt::format(R"({{"id":{},"token":"{}","apiUrl":"http://127.0.0.1:9","name":"shop, {}",)"
                      R"("tags":["bulk","eu"]}})",
                      id, tok, id);
      out += format == "json" && i + 1 < rows ? ",\n" : "\n";
    }
  }
  if (format == "json") out += "]\n";
  return out;
}

std::string write(const TempDir& dir, const std::string& name, const std::string& text) {
  const std::string path = dir.file(name);
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

long long total(const ServerFixture& server) {
  const auto r = server.client().get("/api/v1/instances?limit=1", server.adminKey());
  REQUIRE(r.status == 200);
  return parseObject(r.body)->getValue<long long>("total");
}

// The CLI checks apiUrls against upstream.allowed_hosts as the server does: the fixture's
// loopback-only policy, under which the files' http://127.0.0.1:9 is admitted.
const std::map<std::string, std::string> kLoopbackEnv = {
    {"GREENFLEET_UPSTREAM_ALLOWED_HOSTS", kLoopbackAllowedHosts},
    {"GREENFLEET_UPSTREAM_DEFAULT_API_URL", kClosedLoopbackApiUrl}};

// `greenfleet instances ...` against the running server's API.
int viaApi(const ServerFixture& server, std::vector<std::string> args, std::string& out) {
  args.insert(args.end(), {"--url", fmt::format("http://127.0.0.1:{}", server.port()), "--key-file",
                           server.dataDir() + "/admin.key"});
  return runToCompletion(greenfleetBinary(), args, out, kLoopbackEnv);
}

// `greenfleet instances ...` offline on the database of `data_dir`.
int offline(const std::string& data_dir, std::vector<std::string> args, std::string& out) {
  args.insert(args.end(), {"--data-dir", data_dir, "--db", data_dir + "/greenfleet.db"});
  return runToCompletion(greenfleetBinary(), args, out, kLoopbackEnv);
}

}  // namespace

TEST_CASE("instances import registers 10,000-row JSON, NDJSON and CSV files through the API") {
  ServerFixture server;
  TempDir dir;
  long long first = 1101000000;
  for (const std::string format : {"json", "ndjson", "csv"}) {
    CAPTURE(format);
    const auto path = write(dir, "rows." + format, makeFile(format, first, kRows));
    std::string out;
    REQUIRE(viaApi(server, {"instances", "import", path}, out) == 0);
    CHECK(out.find("imported 10000 instances") != std::string::npos);
    first += kRows;
  }
  CHECK(total(server) == 3 * kRows);

  // Rows with 32 tags each: 1,000 of them are more than the 1 MiB body limit, so the command
  // sizes its batches by bytes too.
  std::string tagged;
  for (int i = 0; i < 2000; ++i) {
    std::string tags;
    for (int t = 0; t < 32; ++t) tags += fmt::format("{}\"tag-{:026}\"", t ? "," : "", t);
    tagged += fmt::format(R"({{"id":{},"token":"{}","tags":[{}]}})", 1201000000 + i,
                          token(1201000000 + i), tags) +
              "\n";
  }
  REQUIRE(tagged.size() / 2 > 1024 * 1024);
  std::string out;
  CHECK(viaApi(server, {"instances", "import", write(dir, "tagged.ndjson", tagged)}, out) == 0);
  CHECK(total(server) == 3 * kRows + 2000);
  const auto r = server.client().get("/api/v1/instances/1101020001", server.adminKey());
  REQUIRE(r.status == 200);
  const auto o = parseObject(r.body);
  CHECK(o->getValue<std::string>("name") == "shop, 1101020001");  // CSV quoting kept the comma
  CHECK(o->getArray("tags")->size() == 2);
  CHECK(server.log().find(token(1101020001)) == std::string::npos);
}

TEST_CASE("one bad row is reported with its line number and nothing is written") {
  ServerFixture server;
  TempDir dir;
  for (const std::string format : {"json", "ndjson", "csv"}) {
    CAPTURE(format);
    int bad_line = 0;
    const auto path =
        write(dir, "bad." + format, makeFile(format, 1101000000, kRows, 7777, &bad_line));
    std::string out;
    CHECK(viaApi(server, {"instances", "import", path}, out) == 1);
    CHECK(out.find(fmt::format("{}:{}: token", path, bad_line)) != std::string::npos);
    CHECK(out.find("nothing written") != std::string::npos);
    CHECK(total(server) == 0);
    // Offline: the same check, one transaction, nothing written either.
    CHECK(offline(server.dataDir(), {"instances", "import", path}, out) == 1);
    CHECK(out.find(fmt::format("{}:{}:", path, bad_line)) != std::string::npos);
  }
  CHECK(total(server) == 0);

  // A row already registered, in the fourth batch: the three before it are rolled back.
  REQUIRE(server.client()
              .post("/api/v1/instances",
                    fmt::format(R"({{"id":1101000350,"token":"{}"}})", token(1)), server.adminKey())
              .status == 201);
  const auto path = write(dir, "clash.ndjson", makeFile("ndjson", 1101000000, kRows));
  std::string out;
  CHECK(viaApi(server, {"instances", "import", path, "--batch-size", "100"}, out) == 1);
  CHECK(out.find(fmt::format("{}:351: HTTP 409", path)) != std::string::npos);
  CHECK(out.find("rolled back the 300 instances") != std::string::npos);
  CHECK(total(server) == 1);
  // --continue-on-error leaves that row out and writes the others.
  CHECK(viaApi(server, {"instances", "import", path, "--continue-on-error"}, out) == 1);
  CHECK(out.find("imported 9999 instances, 1 rows failed") != std::string::npos);
  CHECK(total(server) == kRows);
}

TEST_CASE("instances export round-trips through import, tokens only offline and with a warning") {
  ServerFixture server;
  TempDir dir;
  const auto path = write(dir, "rows.csv", makeFile("csv", 1101000000, kRows));
  std::string out;
  REQUIRE(viaApi(server, {"instances", "import", path}, out) == 0);

  for (const std::string format : {"json", "ndjson", "csv"}) {
    CAPTURE(format);
    const auto exported = dir.file("export." + format);
    REQUIRE(viaApi(server, {"instances", "export", "--format", format, "--output", exported},
                   out) == 0);
    const auto text = readFile(exported);
    CHECK(text.find(token(1101000000)) == std::string::npos);  // no tokens
    CHECK(text.find("shop, 1101000042") != std::string::npos);
    // The offline export of the same database is the same file.
    const auto offline_copy = dir.file("offline." + format);
    REQUIRE(offline(server.dataDir(),
                    {"instances", "export", "--format", format, "--output", offline_copy},
                    out) == 0);
    CHECK(readFile(offline_copy) == text);
  }
  CHECK(viaApi(server, {"instances", "export", "--with-tokens"}, out) == 2);

  // With tokens (offline): import into a fresh database and export again — the same fleet.
  const auto with_tokens = dir.file("full.ndjson");
  REQUIRE(offline(server.dataDir(),
                  {"instances", "export", "--format", "ndjson", "--with-tokens", "--output",
                   with_tokens},
                  out) == 0);
  CHECK(out.find("warning") != std::string::npos);
  CHECK(readFile(with_tokens).find(token(1101000000)) != std::string::npos);
  TempDir fresh;
  REQUIRE(offline(fresh.path().string(), {"instances", "import", with_tokens}, out) == 0);
  CHECK(out.find("imported 10000 instances") != std::string::npos);
  const auto again = dir.file("again.ndjson");
  REQUIRE(offline(fresh.path().string(),
                  {"instances", "export", "--format", "ndjson", "--with-tokens", "--output", again},
                  out) == 0);
  CHECK(readFile(again) == readFile(with_tokens));
}

TEST_CASE("instances export --with-tokens --db reads a database from before migration 0004") {
  using namespace Poco::Data::Keywords;
  TempDir dir;
  const std::string data_dir = dir.path().string();
  const std::string db_path = dir.file("greenfleet.db");
  {
    // Schema version 3: tokens in clear, no token_key_id column yet.
    greenfleet::store::Database db(greenfleet::store::DatabaseOptions{.path = db_path});
    REQUIRE(greenfleet::store::Migrator(db).migrateTo(3).size() == 3);
    auto session = db.acquire();
    for (Poco::Int64 id = 1101000001; id <= 1101000003; ++id) {
      std::string tok = token(id);
      *session << "INSERT INTO instances(id, api_url, token, name, tags, created_at, updated_at) "
                  "VALUES (?, 'http://127.0.0.1:9', ?, 'old', '[\"legacy\"]', 0, 0)",
          use(id), use(tok), now;
    }
  }
  const auto exported = dir.file("old.ndjson");
  std::string out;
  REQUIRE(
      offline(data_dir,
              {"instances", "export", "--format", "ndjson", "--with-tokens", "--output", exported},
              out) == 0);
  INFO(out);
  for (long long id = 1101000001; id <= 1101000003; ++id) {
    CHECK(readFile(exported).find(token(id)) != std::string::npos);
  }
  // A reader: nothing migrated, no key file made.
  std::string version;
  REQUIRE(runToCompletion("/usr/bin/sqlite3", {db_path, "PRAGMA user_version;"}, version) == 0);
  CHECK(version == "3\n");
  CHECK_FALSE(std::filesystem::exists(dir.file("secret.key")));

  // Migrated (tokens sealed under a new key): the export is the same, opened with that key.
  REQUIRE(runToCompletion(greenfleetBinary(), {"migrate", "--data-dir", data_dir}, out) == 0);
  REQUIRE(std::filesystem::exists(dir.file("secret.key")));
  const auto sealed = dir.file("sealed.ndjson");
  REQUIRE(
      offline(data_dir,
              {"instances", "export", "--format", "ndjson", "--with-tokens", "--output", sealed},
              out) == 0);
  CHECK(readFile(sealed) == readFile(exported));
  // Sealed rows without their key: an error naming the cause, never empty tokens.
  std::filesystem::remove(dir.file("secret.key"));
  CHECK(offline(data_dir, {"instances", "export", "--with-tokens", "--output", sealed}, out) != 0);
  CHECK(out.find("is encrypted (key id") != std::string::npos);
}
