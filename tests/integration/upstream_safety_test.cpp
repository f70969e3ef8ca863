// Outbound-request safety end to end (issue 15): the policy's address rules themselves are unit
// tests (greenapi_*_test.cpp); here the real server refuses before any connection, keeps
// upstream body text out of lastError, and refuses a bad upstream configuration at start. Every
// address involved is loopback.
#include <doctest/doctest.h>

#include <fmt/format.h>

#include "support/canned_http_listener.hpp"
#include "support/child_process.hpp"
#include "support/json.hpp"
#include "support/server_fixture.hpp"
#include "support/temp_dir.hpp"
#include "support/wait_for.hpp"

using namespace greenfleet::testing;
using Env = std::map<std::string, std::string>;

namespace {
constexpr const char* kToken = "1f2485e80f474293b935f77d78c64e76fa4bdceb417a4998a4";

// The stored lastError of instance `id` once the scheduler has set one ("" if it never did).
std::string lastErrorOf(const ServerFixture& server, long long id) {
  std::string error;
  waitFor([&] {
    const auto r = server.client().get(fmt::format("/api/v1/instances/{}", id), server.adminKey());
    const auto o = parseObject(r.body);
    if (o->isNull("lastError")) return false;
    error = o->getValue<std::string>("lastError");
    return true;
  });
  return error;
}

// The sum of greenfleet_upstream_requests_total samples whose labels hold `label`.
double upstreamRequests(const ServerFixture& server, const std::string& label) {
  const auto text = server.client().get("/metrics").body;
  double sum = 0;
  std::size_t pos = 0;
  while ((pos = text.find("greenfleet_upstream_requests_total{", pos)) != std::string::npos) {
    const auto end = text.find('\n', pos);
    const std::string line = text.substr(pos, end - pos);
    if (line.find(label) != std::string::npos) sum += std::stod(line.substr(line.rfind(' ') + 1));
    pos = end;
  }
  return sum;
}
}  // namespace

TEST_CASE("an apiUrl allowed by name but resolving to a loopback address gets no connection") {
  CannedHttpListener upstream(CannedHttpListener::response(200, "OK", R"({"stateInstance":"x"})"));
  const std::string url = fmt::format("http://localhost:{}", upstream.port());
  // localhost is allowed by name; no address entry lets its 127.0.0.1 / ::1 through.
  ServerFixture server({}, Env{{"GREENFLEET_UPSTREAM_ALLOWED_HOSTS", "localhost"},
                               {"GREENFLEET_UPSTREAM_DEFAULT_API_URL", url}});
  REQUIRE(server.client()
              .post("/api/v1/instances", fmt::format(R"({{"id":1101000001,"token":"{}"}})", kToken),
                    server.adminKey())
              .status == 201);
  const std::string error = lastErrorOf(server, 1101000001);
  CHECK_MESSAGE(error.starts_with("loopback address "), error);
  CHECK_MESSAGE(error.ends_with(" refused by upstream.allowed_hosts"), error);
  CHECK(waitFor([&] { return upstreamRequests(server, R"(result="addressRefused")") >= 1; }));
  CHECK(upstream.accepts() == 0);
  CHECK(server.log().find(kToken) == std::string::npos);
}

TEST_CASE("lastError holds a classified message, never the upstream's error body") {
  const std::string marker = "MARKER-internal-service-5c1d";
  CannedHttpListener upstream(CannedHttpListener::response(
      500, "Internal Server Error",
      R"({"message":")" + marker + R"(","path":"/waInstance1101000001/getStateInstance/)" + kToken +
          "\"}"));
  ServerFixture server;
  REQUIRE(
      server.client()
          .post("/api/v1/instances",
                fmt::format(R"({{"id":1101000001,"token":"{}","apiUrl":"http://127.0.0.1:{}"}})",
                            kToken, upstream.port()),
                server.adminKey())
          .status == 201);
  CHECK(lastErrorOf(server, 1101000001) == "upstream answered 500 Internal Server Error");
  CHECK(upstream.accepts() >= 1);
  for (const char* path : {"/api/v1/instances", "/api/v1/instances/1101000001",
                           "/api/v1/events?limit=1000", "/api/v1/summary"}) {
    const auto body = server.client().get(path, server.adminKey()).body;
    CHECK_MESSAGE(body.find(marker) == std::string::npos, path);
  }
  CHECK(server.client().get("/metrics").body.find(marker) == std::string::npos);
}

TEST_CASE("an upstream configuration that breaks the rules is a clear start-up error") {
  TempDir dir;
  const auto serve = [&](const Env& env) {
    std::string output;
    const int code =
        runToCompletion(greenfleetBinary(), {"serve", "--port", "0", "--data-dir", dir.file("var")},
                        output, env, std::chrono::seconds(30));
    CHECK(code != 0);
    return output;
  };
  auto out = serve({{"GREENFLEET_UPSTREAM_ALLOWED_HOSTS", kLoopbackAllowedHosts},
                    {"GREENFLEET_UPSTREAM_DEFAULT_API_URL", "https://api.green-api.com"}});
  CHECK_MESSAGE(out.find("upstream.default_api_url 'https://api.green-api.com' host "
                         "api.green-api.com is not in upstream.allowed_hosts") != std::string::npos,
                out);
  out = serve({{"GREENFLEET_UPSTREAM_ALLOWED_HOSTS", "127.0.0.0/33"},
               {"GREENFLEET_UPSTREAM_DEFAULT_API_URL", kClosedLoopbackApiUrl}});
  CHECK_MESSAGE(out.find("upstream.allowed_hosts: entry '127.0.0.0/33': prefix length must be "
                         "0-32") != std::string::npos,
                out);
  // The default list is Green API's hosts: a loopback default needs an explicit entry.
  out = serve({{"GREENFLEET_UPSTREAM_DEFAULT_API_URL", "http://169.254.169.254"}});
  CHECK_MESSAGE(out.find("link-local address 169.254.169.254 is not in upstream.allowed_hosts") !=
                    std::string::npos,
                out);
}
