#include <doctest/doctest.h>

#include <sys/stat.h>

#include <fmt/format.h>

#include "support/json.hpp"
#include "support/server_fixture.hpp"
#include "support/wait_for.hpp"

using namespace greenfleet::testing;

namespace {
constexpr const char* kToken = "1f2485e80f474293b935f77d78c64e76fa4bdceb417a4998a4";
constexpr const char* kToken2 = "c1b0474542144e0ead529eb4861ca5f583c346eb00564f64a7";

std::string instanceJson(long long id, const std::string& token = kToken,
                         const std::string& extra = "") {
  return fmt::format(R"({{"id":{},"token":"{}","name":"shop {}","tags":["eu","sales"]{}}})", id,
                     token, id, extra);
}

long long totalInstances(const ServerFixture& s) {
  const auto r = s.client().get("/api/v1/instances", s.adminKey());
  REQUIRE(r.status == 200);
  return parseObject(r.body)->getValue<long long>("total");
}
}  // namespace

TEST_CASE("registry CRUD round trip over HTTP survives a restart") {
  ServerFixture server;
  const auto http = server.client();
  const auto& key = server.adminKey();
  REQUIRE_FALSE(key.empty());

  auto r = http.post("/api/v1/instances", instanceJson(1101000001), key);
  REQUIRE(r.status == 201);
  CHECK(r.header("Location") == "/api/v1/instances/1101000001");
  auto body = parseObject(r.body);
  CHECK(body->getValue<long long>("id") == 1101000001);
  // upstream.default_api_url of the fixture: a closed loopback port.
  CHECK(body->getValue<std::string>("apiUrl") == kClosedLoopbackApiUrl);
  CHECK(body->getValue<std::string>("tokenHint") ==
        "\u2026"
        "98a4");
  CHECK_FALSE(body->has("token"));

  // A host outside upstream.allowed_hosts (loopback only here) is refused before it is stored,
  // so nothing is ever sent to it.
  r = http.patch(
      "/api/v1/instances/1101000001",
      fmt::format(R"({{"apiUrl":"https://7103.api.greenapi.com/","token":"{}"}})", kToken), key);
  CHECK(r.status == 422);
  CHECK(errorField(r.body) == "apiUrl");
  // A new apiUrl host takes the token along in the same request (issue 15).
  r = http.patch(
      "/api/v1/instances/1101000001",
      fmt::format(
          R"({{"name":"renamed","tags":["us"],"apiUrl":"HTTP://LocalHost:9/","token":"{}"}})",
          kToken),
      key);
  REQUIRE(r.status == 200);
  body = parseObject(r.body);
  CHECK(body->getValue<std::string>("name") == "renamed");
  CHECK(body->getValue<std::string>("apiUrl") == "http://localhost:9");
  CHECK(body->getArray("tags")->getElement<std::string>(0) == "us");

  REQUIRE(http.post("/api/v1/instances", instanceJson(999999999999, kToken2), key).status == 201);

  server.restart();
  const auto http2 = server.client();
  r = http2.get("/api/v1/instances/1101000001", key);
  REQUIRE(r.status == 200);
  CHECK(parseObject(r.body)->getValue<std::string>("name") == "renamed");
  CHECK(totalInstances(server) == 2);

  REQUIRE(http2.del("/api/v1/instances/1101000001", key).status == 204);
  CHECK(http2.get("/api/v1/instances/1101000001", key).status == 404);
  CHECK(http2.del("/api/v1/instances/1101000001", key).status == 404);
  server.restart();
  CHECK(totalInstances(server) == 1);
}

TEST_CASE("a write answered 2xx survives kill -9 right after the response") {
  ServerFixture server;
  const auto http = server.client();
  std::string batch = "[";
  for (int i = 0; i < 50; ++i) batch += (i ? "," : "") + instanceJson(2000 + i);
  batch += "]";
  REQUIRE(http.post("/api/v1/instances", batch, server.adminKey()).status == 201);
  REQUIRE(
      http.patch("/api/v1/instances/2007", R"({"name":"last write"})", server.adminKey()).status ==
      200);
  server.kill9();
  server.start();
  CHECK(totalInstances(server) == 50);
  const auto r = server.client().get("/api/v1/instances/2007", server.adminKey());
  CHECK(parseObject(r.body)->getValue<std::string>("name") == "last write");
}

TEST_CASE("a batch is all or nothing, and errors name the index and field") {
  ServerFixture server;
  const auto http = server.client();
  const auto& key = server.adminKey();
  REQUIRE(http.post("/api/v1/instances", instanceJson(5), key).status == 201);

  auto r = http.post("/api/v1/instances",
                     "[" + instanceJson(6) + "," +
                         fmt::format(R"({{"id":7,"token":"{}","tags":[1]}})", kToken) + "]",
                     key);
  CHECK(r.status == 400);
  CHECK(errorField(r.body) == "[1].tags[0]");

  r = http.post("/api/v1/instances", "[" + instanceJson(8) + "," + instanceJson(5) + "]", key);
  CHECK(r.status == 409);
  CHECK(errorField(r.body) == "[1].id");

  r = http.post("/api/v1/instances", "[" + instanceJson(9) + "," + instanceJson(9) + "]", key);
  CHECK(r.status == 409);
  CHECK(errorField(r.body) == "[1].id");

  CHECK(totalInstances(server) == 1);
  r = http.post("/api/v1/instances", "[" + instanceJson(6) + "," + instanceJson(7) + "]", key);
  CHECK(r.status == 201);
  CHECK(parseObject(r.body)->getValue<int>("created") == 2);
  CHECK(totalInstances(server) == 3);
}

TEST_CASE("a batch of 10,000 realistic instances fits the default body limit") {
  ServerFixture server;
  std::string batch = "[";
  for (int i = 0; i < 10000; ++i) {
    batch += fmt::format(
        R"({}{{"id":{},"token":"{}","apiUrl":"http://127.0.0.1:1","name":"shop-{}-berlin-mitte",)"
        R"("tags":["eu","sales"]}})",
        i > 0 ? "," : "", 3000000 + i, kToken, i);
  }
  batch += "]";
  CHECK(batch.size() > 1024 * 1024);  // over the 1 MiB default it had before
  const auto r = server.client().post("/api/v1/instances", batch, server.adminKey());
  REQUIRE(r.status == 201);
  CHECK(parseObject(r.body)->getValue<int>("created") == 10000);
  CHECK(totalInstances(server) == 10000);
}

TEST_CASE("list filters by tag, name and state and pages with a keyset cursor") {
  ServerFixture server;
  const auto http = server.client();
  const auto& key = server.adminKey();
  std::string batch = "[";
  for (int i = 1; i <= 25; ++i) {
    batch +=
        fmt::format(R"({}{{"id":{},"token":"{}","name":"{}","tags":["{}"]}})", i > 1 ? "," : "", i,
                    kToken, i % 5 == 0 ? "Berlin Shop" : "other", i % 2 ? "odd" : "even");
  }
  batch += "]";
  REQUIRE(http.post("/api/v1/instances", batch, key).status == 201);

  auto body = parseObject(http.get("/api/v1/instances?tag=odd&limit=5", key).body);
  CHECK(body->getValue<int>("total") == 13);
  CHECK(body->getArray("items")->size() == 5);
  std::vector<long long> seen;
  std::string cursor = body->getValue<std::string>("nextCursor");
  for (const auto& item : *body->getArray("items")) {
    seen.push_back(item.extract<Poco::JSON::Object::Ptr>()->getValue<long long>("id"));
  }
  while (!cursor.empty()) {
    body = parseObject(http.get("/api/v1/instances?tag=odd&limit=5&cursor=" + cursor, key).body);
    for (const auto& item : *body->getArray("items")) {
      seen.push_back(item.extract<Poco::JSON::Object::Ptr>()->getValue<long long>("id"));
    }
    cursor = body->isNull("nextCursor") ? "" : body->getValue<std::string>("nextCursor");
  }
  REQUIRE(seen.size() == 13);
  for (std::size_t i = 0; i < seen.size(); ++i) CHECK(seen[i] == static_cast<long long>(2 * i + 1));

  body = parseObject(http.get("/api/v1/instances?q=berlin", key).body);
  CHECK(body->getValue<int>("total") == 5);
  body = parseObject(http.get("/api/v1/instances?state=unknown", key).body);
  CHECK(body->getValue<int>("total") == 25);
  body = parseObject(http.get("/api/v1/instances?state=authorized", key).body);
  CHECK(body->getValue<int>("total") == 0);
}

TEST_CASE("missing, unknown and read-only keys get 401 and 403") {
  ServerFixture server;
  const auto http = server.client();
  std::string out;
  REQUIRE(server.runCommand({"keys", "create", "--name", "dashboard", "--role", "read"}, out) == 0);
  const std::string read_key = out.substr(out.rfind("gf_"), 67);

  auto r = http.get("/api/v1/instances");
  CHECK(r.status == 401);
  CHECK(r.header("WWW-Authenticate").rfind("Bearer", 0) == 0);
  CHECK(errorCode(r.body) == "unauthorized");
  r = http.get("/api/v1/instances",
               "gf_0000000000000000000000000000000000000000000000000000000000000000");
  CHECK(r.status == 401);
  CHECK(http.get("/api/v1/instances", read_key).status == 200);
  auto me = parseObject(http.get("/api/v1/me", read_key).body);
  CHECK(me->getValue<std::string>("name") == "dashboard");
  CHECK(me->getValue<std::string>("role") == "read");
  me = parseObject(http.get("/api/v1/me", server.adminKey()).body);
  CHECK(me->getValue<std::string>("role") == "admin");
  CHECK(http.get("/api/v1/me").status == 401);
  // The field vocabulary, for the dashboard's filters and tiles.
  const auto meta = parseObject(http.get("/api/v1/meta", read_key).body);
  const auto names = [](const Poco::JSON::Array::Ptr& a) {
    std::vector<std::string> list;
    for (std::size_t i = 0; i < a->size(); ++i)
      list.push_back(a->getElement<std::string>(static_cast<unsigned>(i)));
    return list;
  };
  CHECK(names(meta->getArray("attention")) ==
        std::vector<std::string>{"credentials_rejected", "blocked", "passkey_required",
                                 "needs_scan", "suspended", "stuck_starting", "unreachable",
                                 "stale", "none"});
  CHECK(names(meta->getArray("states")) ==
        std::vector<std::string>{"unknown", "initializing", "notAuthorized", "authorized",
                                 "blocked", "starting", "sleepMode", "yellowCard", "suspended"});
  CHECK(http.get("/api/v1/meta").status == 401);
  CHECK(http.get("/api/v1/meta?x=1", read_key).status == 400);
  r = http.post("/api/v1/instances", instanceJson(1), read_key);
  CHECK(r.status == 403);
  CHECK(errorCode(r.body) == "forbidden");
  CHECK(http.del("/api/v1/instances/1", read_key).status == 403);
  CHECK(totalInstances(server) == 0);

  CHECK(http.get("/healthz").status == 200);
  CHECK(http.get("/readyz").status == 200);

  REQUIRE(server.runCommand({"keys", "list"}, out) == 0);
  CHECK(out.find("dashboard") != std::string::npos);
  CHECK(out.find("gf_") == std::string::npos);
  REQUIRE(server.runCommand({"keys", "revoke", "2"}, out) == 0);
  // Keys are cached in the server and re-read at most once a second.
  waitFor([&] { return http.get("/api/v1/instances", read_key).status == 401; },
          std::chrono::seconds(5));
  CHECK(http.get("/api/v1/instances", read_key).status == 401);
}

TEST_CASE("a key created or revoked by the keys command in another process takes effect") {
  ServerFixture server;
  const auto http = server.client();
  std::string out;
  // The server's key map is loaded and in use before the other process changes the keys.
  REQUIRE(http.get("/api/v1/me", server.adminKey()).status == 200);
  REQUIRE(server.runCommand({"keys", "create", "--name", "viewer", "--role", "read"}, out) == 0);
  const std::string key = out.substr(out.rfind("gf_"), 67);
  CHECK(
      waitFor([&] { return http.get("/api/v1/me", key).status == 200; }, std::chrono::seconds(10)));
  REQUIRE(http.get("/api/v1/me", server.adminKey()).status == 200);

  REQUIRE(server.runCommand({"keys", "revoke", "2"}, out) == 0);
  CHECK(
      waitFor([&] { return http.get("/api/v1/me", key).status == 401; }, std::chrono::seconds(10)));
  CHECK(http.get("/api/v1/me", server.adminKey()).status == 200);
}

TEST_CASE("every bad-input class answers its 4xx JSON and writes nothing") {
  ServerFixture server;
  const auto http = server.client();
  const auto& key = server.adminKey();
  struct Case {
    std::string name, body;
    int status;
    std::string code, field;
  };
  const std::vector<Case> cases = {
      {"malformed JSON", R"({"id": 1,)", 400, "malformed_json", ""},
      {"empty body", "", 400, "malformed_json", ""},
      {"not an object", R"([1, 2])", 400, "invalid_type", "[0]"},
      {"id as string", fmt::format(R"({{"id":"1","token":"{}"}})", kToken), 400, "invalid_type",
       "id"},
      {"id as float", fmt::format(R"({{"id":1.5,"token":"{}"}})", kToken), 400, "invalid_type",
       "id"},
      {"id negative", fmt::format(R"({{"id":-4,"token":"{}"}})", kToken), 422, "invalid_value",
       "id"},
      {"id too big", fmt::format(R"({{"id":18446744073709551615,"token":"{}"}})", kToken), 422,
       "invalid_value", "id"},
      {"missing token", R"({"id":1})", 400, "missing_field", "token"},
      {"missing id", fmt::format(R"({{"token":"{}"}})", kToken), 400, "missing_field", "id"},
      {"token with slash", R"({"id":1,"token":"abc/def"})", 422, "invalid_value", "token"},
      {"unknown field", fmt::format(R"({{"id":1,"token":"{}","colour":"red"}})", kToken), 400,
       "unknown_field", "colour"},
      {"ftp apiUrl", fmt::format(R"({{"id":1,"token":"{}","apiUrl":"ftp://x"}})", kToken), 422,
       "invalid_value", "apiUrl"},
      {"apiUrl host not allowed",
       fmt::format(R"({{"id":1,"token":"{}","apiUrl":"https://api.green-api.com"}})", kToken), 422,
       "invalid_value", "apiUrl"},
      {"apiUrl metadata address",
       fmt::format(R"({{"id":1,"token":"{}","apiUrl":"http://169.254.169.254"}})", kToken), 422,
       "invalid_value", "apiUrl"},
      {"apiUrl with user info",
       fmt::format(R"({{"id":1,"token":"{}","apiUrl":"http://x@127.0.0.1:9"}})", kToken), 422,
       "invalid_value", "apiUrl"},
      {"batch item apiUrl not allowed",
       fmt::format(
           R"([{{"id":1,"token":"{}"}},{{"id":2,"token":"{}","apiUrl":"http://10.0.0.5"}}])",
           kToken, kToken),
       422, "invalid_value", "[1].apiUrl"},
      {"tags not array", fmt::format(R"({{"id":1,"token":"{}","tags":"a"}})", kToken), 400,
       "invalid_type", "tags"},
      {"empty tag", fmt::format(R"({{"id":1,"token":"{}","tags":[""]}})", kToken), 422,
       "invalid_value", "tags[0]"},
      {"name too long",
       fmt::format(R"({{"id":1,"token":"{}","name":"{}"}})", kToken, std::string(300, 'x')), 422,
       "invalid_value", "name"},
      {"empty array", "[]", 422, "invalid_value", "[]"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    const auto r = http.post("/api/v1/instances", c.body, key);
    CHECK(r.status == c.status);
    CHECK(errorCode(r.body) == c.code);
    CHECK(errorField(r.body) == c.field);
    CHECK(r.header("Content-Type").rfind("application/json", 0) == 0);
  }

  HttpRequest wrong_type;
  wrong_type.method = "POST";
  wrong_type.path = "/api/v1/instances";
  wrong_type.body = instanceJson(1);
  wrong_type.headers = {{"Authorization", "Bearer " + key}, {"Content-Type", "text/plain"}};
  auto r = http.send(wrong_type);
  CHECK(r.status == 415);
  CHECK(errorCode(r.body) == "unsupported_media_type");

  HttpRequest huge = wrong_type;
  huge.headers["Content-Type"] = "application/json";
  huge.body = std::string(5 * 1024 * 1024, ' ');  // over the 4 MiB default
  r = http.send(huge);
  CHECK(r.status == 413);
  CHECK(errorCode(r.body) == "payload_too_large");

  r = http.get("/api/v1/nothing-here", key);
  CHECK(r.status == 404);
  CHECK(errorCode(r.body) == "not_found");
  r = http.send({"PUT", "/api/v1/instances", "", {{"Authorization", "Bearer " + key}}});
  CHECK(r.status == 405);
  CHECK(r.header("Allow") == "POST, GET");

  CHECK(http.get("/api/v1/instances?limit=0", key).status == 422);
  CHECK(http.get("/api/v1/instances?limit=abc", key).status == 400);
  CHECK(http.get("/api/v1/instances?cursor=zzz", key).status == 400);
  CHECK(http.get("/api/v1/instances?colour=red", key).status == 400);
  CHECK(http.get("/api/v1/instances?attention=sad", key).status == 422);
  CHECK(http.get("/api/v1/instances/abc", key).status == 404);

  REQUIRE(http.post("/api/v1/instances", instanceJson(1), key).status == 201);
  CHECK(http.patch("/api/v1/instances/1", R"({"id":2})", key).status == 422);
  CHECK(http.patch("/api/v1/instances/1", R"({})", key).status == 400);
  CHECK(http.patch("/api/v1/instances/1", R"({"name":7})", key).status == 400);
  CHECK(http.patch("/api/v1/instances/404", R"({"name":"x"})", key).status == 404);
  const auto after = parseObject(http.get("/api/v1/instances/1", key).body);
  CHECK(after->getValue<std::string>("name") == "shop 1");
  CHECK(totalInstances(server) == 1);
  CHECK(http.get("/healthz").status == 200);  // still alive after all of it
}

TEST_CASE("no token appears in any response body or log line") {
  ServerFixture server;
  const auto http = server.client();
  const auto& key = server.adminKey();
  std::vector<std::string> bodies;
  bodies.push_back(http.post("/api/v1/instances", instanceJson(11, kToken), key).body);
  bodies.push_back(http.post("/api/v1/instances", "[" + instanceJson(12, kToken2) + "]", key).body);
  bodies.push_back(http.post("/api/v1/instances", instanceJson(11, kToken), key).body);  // 409
  bodies.push_back(
      http.post("/api/v1/instances", R"({"id":13,"token":"short-odd-token"})", key).body);
  bodies.push_back(http.get("/api/v1/instances", key).body);
  bodies.push_back(http.get("/api/v1/instances/12", key).body);
  bodies.push_back(
      http.patch("/api/v1/instances/12", fmt::format(R"({{"token":"{}"}})", kToken), key).body);
  bodies.push_back(
      http.patch("/api/v1/instances/12", fmt::format(R"({{"token":"{}","x":1}})", kToken2), key)
          .body);
  server.stop();
  for (const auto& b : bodies) {
    CHECK(b.find(kToken) == std::string::npos);
    CHECK(b.find(kToken2) == std::string::npos);
    CHECK(b.find("short-odd-token") == std::string::npos);
  }
  const std::string log = server.log();
  CHECK(log.find(kToken) == std::string::npos);
  CHECK(log.find(kToken2) == std::string::npos);
  CHECK(log.find("short-odd-token") == std::string::npos);
  CHECK(log.find(key) == std::string::npos);
}

TEST_CASE("the data directory is 0700 and the database and key files 0600") {
  ServerFixture server;
  struct stat st {};
  REQUIRE(::stat(server.dataDir().c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);
  REQUIRE(::stat(server.dbPath().c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  REQUIRE(::stat((server.dataDir() + "/admin.key").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
}

TEST_CASE("migrate refuses a database newer than the binary") {
  ServerFixture server;
  server.stop();
  std::string out;
  REQUIRE(runToCompletion("/usr/bin/sqlite3", {server.dbPath(), "PRAGMA user_version = 999;"},
                          out) == 0);
  CHECK(server.runCommand({"migrate"}, out) == 1);
  CHECK(out.find("newer than this binary") != std::string::npos);
}
