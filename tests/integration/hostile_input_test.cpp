// Hostile input against the real binary (issue 15's review findings): integer literals beyond
// 64 bits, duplicate JSON keys, control characters meant to forge log lines, oversized webhook
// states, and an operator action's audit event surviving a kill -9 right after its 202.

#include <filesystem>
#include <fstream>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "support/child_process.hpp"
#include "support/json.hpp"
#include "support/server_fixture.hpp"
#include "support/temp_dir.hpp"
#include "support/wait_for.hpp"

using namespace greenfleet::testing;
using namespace std::chrono_literals;

namespace {
const std::string kToken = "0123456789abcdef0123456789abcdef0123456789abcdef01";
using Env = std::map<std::string, std::string>;

long long totalInstances(const ServerFixture& s) {
  return parseObject(s.client().get("/api/v1/instances", s.adminKey()).body)
      ->getValue<long long>("total");
}
}  // namespace

TEST_CASE("an id beyond 2^63-1 is refused with 422 instead of wrapping to a small id") {
  ServerFixture server;
  const auto http = server.client();
  for (const std::string id : {"18446744073709551617", "9223372036854775808",
                               "-9223372036854775809", "123456789012345678901234567890"}) {
    CAPTURE(id);
    const auto r =
        http.post("/api/v1/instances", fmt::format(R"({{"id":{},"token":"{}"}})", id, kToken),
                  server.adminKey());
    CHECK(r.status == 422);
    CHECK(errorCode(r.body) == "invalid_value");
    CHECK(errorField(r.body) == "id");
  }
  CHECK(totalInstances(server) == 0);
  CHECK(http.get("/api/v1/instances/1", server.adminKey()).status == 404);
}

TEST_CASE("sweep ids beyond 2^63-1 answer 422, not 500") {
  ServerFixture server;
  const auto r =
      server.client().post("/api/v1/sweeps", R"({"ids":[9223372036854775808]})", server.adminKey());
  CHECK(r.status == 422);
  CHECK(errorCode(r.body) == "invalid_value");
}

TEST_CASE("a JSON body naming a key twice is refused, not read as its last value") {
  ServerFixture server;
  const auto r = server.client().post("/api/v1/instances",
                                      fmt::format(R"({{"id":5,"id":6,"token":"{}"}})", kToken),
                                      server.adminKey());
  CHECK(r.status == 400);
  CHECK(errorCode(r.body) == "duplicate_key");
  CHECK(errorField(r.body) == "id");
  // Nested objects have their own keys: the same name at two levels is fine.
  const auto nested = server.client().post("/api/v1/sweeps", R"({"tag":"a","state":"authorized"})",
                                           server.adminKey());
  CHECK(nested.status / 100 == 2);
  CHECK(totalInstances(server) == 0);
}

TEST_CASE("a control character in the request path cannot forge a log line") {
  ServerFixture server;
  CHECK(server.client()
            .get("/api/v1/x%0aevent=forged%0d%0aevent=forged2", server.adminKey())
            .status == 404);
  CHECK(server.stop() == 0);
  const std::string log = server.log();
  CHECK(log.find("\nevent=forged") == std::string::npos);
  CHECK(log.find("\revent=forged") == std::string::npos);
  CHECK(log.find("\\x0aevent=forged") != std::string::npos);
}

TEST_CASE("a webhook stateInstance longer than 64 characters is refused and stored nowhere") {
  ServerFixture server({}, Env{{"GREENFLEET_WEBHOOKS_TOKEN", "hook"}});
  HttpRequest hook;
  hook.method = "POST";
  hook.path = "/webhooks/green-api";
  hook.headers = {{"Authorization", "Bearer hook"}};
  hook.body =
      fmt::format(R"({{"typeWebhook":"stateInstanceChanged","instanceData":{{"idInstance":1}},)"
                  R"("timestamp":1,"stateInstance":"{}"}})",
                  std::string(900000, 'x'));
  const auto r = server.client().send(hook);
  CHECK(r.status == 422);
  CHECK(errorField(r.body) == "stateInstance");
  const auto events = server.client().get("/api/v1/events?limit=1000", server.adminKey());
  CHECK(events.body.find("xxxxxxxx") == std::string::npos);
}

TEST_CASE("API answers tell browsers not to sniff their content type") {
  ServerFixture server;
  CHECK(server.client().get("/healthz").header("X-Content-Type-Options") == "nosniff");
  CHECK(
      server.client().get("/api/v1/summary", server.adminKey()).header("X-Content-Type-Options") ==
      "nosniff");
  CHECK(server.client().get("/ui/").header("X-Content-Type-Options") == "nosniff");
}

TEST_CASE("the dashboard's modules are served from /ui/ and /ui/views/, and nothing else is") {
  ServerFixture server;
  const auto http = server.client();
  for (const char* path : {"/ui/app.js", "/ui/router.js", "/ui/feedback.js", "/ui/views/scan.js",
                           "/ui/views/overview.js", "/ui/views/instances.js",
                           "/ui/views/instance.js", "/ui/views/events.js"}) {
    CAPTURE(path);
    const auto r = http.get(path);
    CHECK(r.status == 200);
    CHECK(r.header("Content-Type") == "text/javascript; charset=utf-8");
    CHECK(r.body.find("import ") != std::string::npos);
  }
  CHECK(http.get("/ui/").header("Content-Security-Policy").find("default-src 'self'") == 0);
  CHECK(http.get("/ui/views/missing.js").status == 404);
  CHECK(http.get("/ui/views/index.html").status == 404);  // top-level files stay at the top
  CHECK(http.get("/ui/views/%2e%2e%2fapp.js").status == 404);
  CHECK(http.get("/ui/link/page.js").status == 404);  // the scan-link page is served elsewhere
}

TEST_CASE("an operator action answered 202 keeps its audit event through a kill -9") {
  ServerFixture server({}, Env{{"GREENFLEET_UPSTREAM_DEFAULT_API_URL", "http://127.0.0.1:9"},
                               {"GREENFLEET_STATUS_BATCH_MS", "60000"}});
  const auto http = server.client();
  REQUIRE(http.post("/api/v1/instances", fmt::format(R"({{"id":1101000001,"token":"{}"}})", kToken),
                    server.adminKey())
              .status == 201);
  int accepted = 0;
  for (const char* action : {"reboot", "logout", "poll"}) {
    const auto r = http.post(fmt::format("/api/v1/instances/1101000001/actions/{}", action), "",
                             server.adminKey());
    if (r.status == 202) ++accepted;
  }
  REQUIRE(accepted > 0);
  server.kill9();
  server.start();
  const auto events = parseObject(
      server.client().get("/api/v1/events?type=action&limit=100", server.adminKey()).body);
  CHECK(events->getArray("items")->size() == static_cast<std::size_t>(accepted));
}

TEST_CASE("moving an instance to another apiUrl host needs its token in the same PATCH") {
  ServerFixture server({}, Env{{"GREENFLEET_UPSTREAM_DEFAULT_API_URL", "http://127.0.0.1:9"}});
  const auto http = server.client();
  const auto& key = server.adminKey();
  REQUIRE(http.post("/api/v1/instances",
                    fmt::format(R"({{"id":1101000001,"token":"{}","apiUrl":"http://127.0.0.1:9"}})",
                                kToken),
                    key)
              .status == 201);
  auto r = http.patch("/api/v1/instances/1101000001", R"({"apiUrl":"http://127.0.0.2:9"})", key);
  CHECK(r.status == 422);
  CHECK(errorField(r.body) == "apiUrl");
  r = http.patch("/api/v1/instances/1101000001", R"({"apiUrl":"http://127.0.0.1:10"})", key);
  CHECK(r.status == 422);
  const auto stored = parseObject(http.get("/api/v1/instances/1101000001", key).body);
  CHECK(stored->getValue<std::string>("apiUrl") == "http://127.0.0.1:9");
  // The same host elsewhere on its path, or a new host with the token: allowed.
  CHECK(http.patch("/api/v1/instances/1101000001", R"({"apiUrl":"http://127.0.0.1:9/v2"})", key)
            .status == 200);
  CHECK(http.patch("/api/v1/instances/1101000001",
                   fmt::format(R"({{"apiUrl":"http://127.0.0.2:9","token":"{}"}})", kToken), key)
            .status == 200);
}

TEST_CASE("start-up tightens the data directory and never writes the first key through a link") {
  namespace fs = std::filesystem;
  ServerFixture server;
  REQUIRE(server.stop() == 0);
  // A fresh database (so a first admin key is written), a loose directory mode, and a planted
  // link where the key's temporary file goes.
  const fs::path var = server.dataDir();
  fs::remove(var / "greenfleet.db");
  fs::remove(var / "greenfleet.db-wal");
  fs::remove(var / "greenfleet.db-shm");
  fs::remove(var / "admin.key");
  fs::permissions(var,
                  fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                      fs::perms::others_read | fs::perms::others_exec,
                  fs::perm_options::replace);
  const fs::path target = server.dir().file("elsewhere.txt");
  std::ofstream(target) << "untouched\n";
  fs::create_symlink(target, var / "admin.key.tmp");

  server.start();
  CHECK((fs::status(var).permissions() & fs::perms::mask) == fs::perms::owner_all);
  CHECK((fs::status(var / "greenfleet.db").permissions() & fs::perms::mask) ==
        (fs::perms::owner_read | fs::perms::owner_write));
  CHECK((fs::status(var / "admin.key").permissions() & fs::perms::mask) ==
        (fs::perms::owner_read | fs::perms::owner_write));
  std::ifstream in(target);
  std::string line;
  std::getline(in, line);
  CHECK(line == "untouched");
  CHECK(server.client().get("/api/v1/summary", server.adminKey()).status == 200);
}

TEST_CASE("a data directory that is a symbolic link is refused at start with a clear message") {
  namespace fs = std::filesystem;
  TempDir dir;
  fs::create_directories(dir.file("real"));
  fs::create_symlink(dir.file("real"), dir.file("linked"));
  std::string output;
  const int code = runToCompletion(greenfleetBinary(),
                                   {"serve", "--port", "0", "--data-dir", dir.file("linked")},
                                   output, {}, std::chrono::seconds(30));
  CHECK(code != 0);
  CHECK(output.find("symbolic link") != std::string::npos);
  CHECK(output.find(dir.file("linked")) != std::string::npos);
}
