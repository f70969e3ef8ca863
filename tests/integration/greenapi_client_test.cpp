#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>

#include <Poco/Net/ServerSocket.h>

#include "greenapi/client.hpp"
#include "greenapi/partner_reply.hpp"
#include "support/canned_http_listener.hpp"
#include "support/emulator_process.hpp"
#include "support/json.hpp"
#include "support/qr_image.hpp"
#include "support/wait_for.hpp"

using namespace greenfleet::greenapi;
using namespace greenfleet::testing;
using namespace std::chrono_literals;

namespace {

// The emulator listens on 127.0.0.1: the only upstream these tests may reach.
ClientOptions loopbackOptions(std::string_view allowed_hosts = "127.0.0.1") {
  ClientOptions o;
  o.allowedHosts = UpstreamHostPolicy::parse(allowed_hosts).value();
  return o;
}

InstanceCredentials credsOf(const EmulatorProcess& emu, const EmulatedCredentials& c) {
  return InstanceCredentials{emu.apiUrl(), c.idInstance, c.apiTokenInstance};
}

void checkNoToken(const CallOutcome& o, const std::string& token) {
  CHECK_MESSAGE(o.message.find(token) == std::string::npos, o.message);
}

}  // namespace

TEST_CASE("Client calls every method against the emulator and parses the answers") {
  EmulatorProcess emu(
      {"--instances", "2", "--state", "notAuthorized", "--logout-ms", "0", "--reboot-ms", "100"});
  const auto inst = emu.instances();
  Client client(loopbackOptions());
  const auto a = credsOf(emu, inst[0]);

  const auto state = client.getStateInstance(a);
  REQUIRE(state.ok());
  CHECK(state.value->state == "notAuthorized");
  CHECK(state.outcome.httpStatus == 200);
  CHECK(state.outcome.latency > 0us);

  const auto qr = client.qr(a);
  REQUIRE(qr.ok());
  CHECK(qr.value->isQrCode());
  const auto payload = emu.qrPayloadOf(a.idInstance);
  CHECK(pngEncodesPayload(base64Decode(qr.value->message), payload));
  CHECK(decodeWithZbar(base64Decode(qr.value->message)) == payload);

  REQUIRE(emu.scan(a.idInstance) == 200);
  const auto qr2 = client.qr(a);
  REQUIRE(qr2.ok());
  CHECK(qr2.value->type == "alreadyLogged");
  CHECK(qr2.value->message == "instance account already authorized");

  const auto wa = client.getWaSettings(a);
  REQUIRE(wa.ok());
  CHECK(wa.value->stateInstance == "authorized");
  CHECK(wa.value->phone == "71101000001");

  const auto out = client.logout(a);
  REQUIRE(out.ok());
  CHECK(out.value->isLogout);
  CHECK(emu.stateOf(a.idInstance) == "notAuthorized");

  const auto rb = client.reboot(a);
  REQUIRE(rb.ok());
  CHECK(rb.value->isReboot);
  CHECK(waitFor([&] { return emu.stateOf(a.idInstance) == "notAuthorized"; }, 5s));

  // All of the above went over one kept-alive connection.
  CHECK(client.idleSessions() == 1);
}

TEST_CASE("Client maps every upstream error to its outcome kind and never leaks the token") {
  // The emulator's clock moves only when told, so two calls always share one rate window.
  EmulatorProcess emu({"--instances", "3", "--state", "notAuthorized", "--hang-max-ms", "3000",
                       kControllableClock});
  const auto inst = emu.instances();
  ClientOptions options = loopbackOptions();
  options.requestTimeout = 500ms;
  options.connectTimeout = 500ms;
  Client client(options);
  auto a = credsOf(emu, inst[0]);
  const auto b = credsOf(emu, inst[1]);

  SUBCASE("401 wrong token, 403 unknown id") {
    auto bad = a;
    bad.apiTokenInstance = "0123456789abcdef0123456789abcdef0123456789abcdef01";
    const auto r = client.getStateInstance(bad);
    CHECK(r.outcome.kind == OutcomeKind::unauthorized);
    CHECK(r.outcome.httpStatus == 401);
    checkNoToken(r.outcome, bad.apiTokenInstance);
    CHECK(r.outcome.message == "upstream answered 401 Unauthorized");
    bad = a;
    bad.idInstance = 77;
    const auto f = client.getStateInstance(bad);
    CHECK(f.outcome.kind == OutcomeKind::forbidden);
    checkNoToken(f.outcome, a.apiTokenInstance);
  }
  SUBCASE("429 from the rate window") {
    CHECK(client.getStateInstance(a).ok());
    const auto r = client.getStateInstance(a);
    CHECK(r.outcome.kind == OutcomeKind::rateLimited);
    CHECK_FALSE(r.value.has_value());
  }
  SUBCASE("400 keeps Green API's fixed text, token scrubbed") {
    REQUIRE(emu.setState(a.idInstance, "starting") == 200);
    const auto r = client.qr(a);
    CHECK(r.outcome.kind == OutcomeKind::badRequest);
    CHECK(r.outcome.message.find("instance in starting process try later") != std::string::npos);
    checkNoToken(r.outcome, a.apiTokenInstance);
  }
  SUBCASE("null body reads as initializing") {
    REQUIRE(emu.http().post("/_emulator/instances", R"({"count":1,"state":"new"})").status == 201);
    const auto fresh = emu.instances("new").at(0);
    const auto r = client.getStateInstance(credsOf(emu, fresh));
    REQUIRE(r.ok());
    CHECK(r.value->initializing);
    CHECK(r.value->state == "initializing");
  }
  SUBCASE("injected 500, 502, 504 and 466") {
    for (const auto& [status, kind] :
         std::vector<std::pair<int, OutcomeKind>>{{500, OutcomeKind::serverError},
                                                  {502, OutcomeKind::serverError},
                                                  {504, OutcomeKind::serverError},
                                                  {466, OutcomeKind::quotaExceeded}}) {
      REQUIRE(emu.setFaults(R"({"errorRates":{")" + std::to_string(status) + R"(":1}})",
                            a.idInstance) == 200);
      const auto r = client.qr(a);
      CHECK(r.outcome.kind == kind);
      CHECK(r.outcome.httpStatus == status);
      CHECK(r.outcome.message.starts_with("upstream answered " + std::to_string(status)));
      checkNoToken(r.outcome, a.apiTokenInstance);
      emu.advanceClock(340ms);  // qr: 3 rps
    }
  }
  SUBCASE("garbage and huge bodies are malformedBody") {
    REQUIRE(emu.setFaults(R"({"garbageProbability":1})", a.idInstance) == 200);
    CHECK(client.getStateInstance(a).outcome.kind == OutcomeKind::malformedBody);
    REQUIRE(emu.setFaults(R"({"hugeProbability":1})", b.idInstance) == 200);
    const auto r = client.getStateInstance(b);
    CHECK(r.outcome.kind == OutcomeKind::malformedBody);
    CHECK(r.outcome.message.find("larger than") != std::string::npos);
  }
  SUBCASE("a qr error type is kept") {
    REQUIRE(emu.setFaults(R"({"qrErrorProbability":1})", a.idInstance) == 200);
    const auto r = client.qr(a);
    REQUIRE(r.ok());
    CHECK(r.value->type == "error");
    CHECK(r.value->message == "Instance has auth. You need to make log out");
  }
  SUBCASE("connection reset is transportError; a hang is a timeout; latency is measured") {
    REQUIRE(emu.setFaults(R"({"resetProbability":1})", a.idInstance) == 200);
    const auto reset = client.getStateInstance(a);
    CHECK(reset.outcome.kind == OutcomeKind::transportError);
    checkNoToken(reset.outcome, a.apiTokenInstance);
    REQUIRE(emu.setFaults(R"({"hangProbability":1,"hangMs":3000})", b.idInstance) == 200);
    const auto hang = client.getStateInstance(b);
    CHECK(hang.outcome.kind == OutcomeKind::timeout);
    CHECK(hang.outcome.message == "timed out after 500 ms waiting for the answer");
    CHECK(hang.outcome.latency >= 450ms);
    CHECK(hang.outcome.latency < 3000ms);  // given up on before the hang ended
    const auto c = credsOf(emu, inst[2]);
    REQUIRE(emu.setFaults(R"({"latencyMs":150})", c.idInstance) == 200);
    const auto slow = client.getStateInstance(c);
    CHECK(slow.ok());
    CHECK(slow.outcome.latency >= 150ms);
  }
  SUBCASE("connection refused is transportError, a bad apiUrl addressRefused") {
    Poco::Net::ServerSocket probe(Poco::Net::SocketAddress("127.0.0.1", 0));
    const int closed_port = probe.address().port();
    probe.close();
    auto nowhere = a;
    nowhere.apiUrl = "http://127.0.0.1:" + std::to_string(closed_port);
    const auto r = client.getStateInstance(nowhere);
    CHECK(r.outcome.kind == OutcomeKind::transportError);
    CHECK(r.outcome.message == "connection refused or host unreachable");
    checkNoToken(r.outcome, a.apiTokenInstance);
    nowhere.apiUrl = "ftp://x";
    const auto ftp = client.getStateInstance(nowhere);
    CHECK(ftp.outcome.kind == OutcomeKind::addressRefused);
    CHECK(ftp.outcome.message == "apiUrl must be an http:// or https:// URL");
  }
}

TEST_CASE("Client is safe to share between worker threads and reuses connections") {
  EmulatorProcess emu({"--instances", "200"});
  const auto inst = emu.instances();
  Client client(loopbackOptions());
  std::atomic<int> ok{0}, failed{0};
  std::atomic<std::size_t> next{0};
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> workers;
  for (int t = 0; t < 4; ++t) {
    workers.emplace_back([&] {
      for (std::size_t i = next++; i < 2000; i = next++) {
        const auto r = client.getStateInstance(credsOf(emu, inst[i % inst.size()]));
        (r.outcome.kind == OutcomeKind::ok || r.outcome.kind == OutcomeKind::rateLimited
             ? ok
             : failed)++;
      }
    });
  }
  for (auto& w : workers) w.join();
  const auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  MESSAGE("2000 getStateInstance over 4 threads: " << static_cast<int>(2000 / secs) << " req/s");
  CHECK(ok == 2000);
  CHECK(failed == 0);
  CHECK(client.idleSessions() <= 4);
  CHECK(emu.counters()->getObject("totals")->getValue<int>("requests") == 2000);
}

TEST_CASE("a host outside allowed_hosts is refused before any connection is made") {
  CannedHttpListener upstream(CannedHttpListener::response(200, "OK", R"({"stateInstance":"x"})"));
  const std::string port = std::to_string(upstream.port());
  Client client(loopbackOptions("127.0.0.1"));
  // Not listed: refused before the transfer starts (no DNS query for the name either).
  auto r = client.getStateInstance({"http://localhost:" + port, 1101000001, std::string(50, 'a')});
  CHECK(r.outcome.kind == OutcomeKind::addressRefused);
  CHECK(r.outcome.message == "host localhost is not in upstream.allowed_hosts (127.0.0.1)");
  r = client.getStateInstance({"http://127.0.0.2:" + port, 1101000001, std::string(50, 'a')});
  CHECK(r.outcome.kind == OutcomeKind::addressRefused);
  CHECK(r.outcome.message ==
        "loopback address 127.0.0.2 is not in upstream.allowed_hosts (127.0.0.1)");
  CHECK(upstream.accepts() == 0);
}

TEST_CASE("a Partner API request is held to allowed_hosts and sent to the normalised host") {
  EmulatorProcess emu({"--instances", "3"});
  const auto partner_token = parseObject(emu.http().get("/_emulator/instances").body)
                                 ->getValue<std::string>("partnerToken");
  TransferEngine engine(loopbackOptions("127.0.0.1"));
  const auto call = [&](const std::string& api_url) {
    std::promise<RawReply> reply;
    engine.submit(partnerInstancesRequest(
        api_url, partner_token, [&reply](RawReply&& r) { reply.set_value(std::move(r)); }));
    return partnerInstancesReply(reply.get_future().get(), partner_token);
  };
  const auto port = emu.apiUrl().substr(emu.apiUrl().rfind(':') + 1);
  const auto refused = call("http://localhost:" + port);
  CHECK(refused.outcome.kind == OutcomeKind::addressRefused);
  CHECK(refused.outcome.message.find(partner_token) == std::string::npos);
  CHECK(emu.counters()->getObject("partner")->getValue<long long>("getInstances") == 0);
  // Upper-case scheme and a trailing '/': the URL is rebuilt from the accepted target.
  const auto listed = call("HTTP://127.0.0.1:" + port + "/");
  REQUIRE_MESSAGE(listed.ok(), listed.outcome.message);
  CHECK(listed.value->size() == 3);
  CHECK(emu.counters()->getObject("partner")->getValue<long long>("getInstances") == 1);
}

TEST_CASE("a host allowed by name that resolves to a loopback address is refused after DNS") {
  CannedHttpListener upstream(CannedHttpListener::response(200, "OK", R"({"stateInstance":"x"})"));
  const InstanceCredentials creds{"http://localhost:" + std::to_string(upstream.port()), 1101000001,
                                  std::string(50, 'a')};
  {
    // localhost is listed by name only: the loopback address it resolves to is not.
    Client client(loopbackOptions("localhost"));
    const auto r = client.getStateInstance(creds);
    CHECK(r.outcome.kind == OutcomeKind::addressRefused);
    CHECK_MESSAGE(r.outcome.message.ends_with(" refused by upstream.allowed_hosts"),
                  r.outcome.message);
    CHECK(r.outcome.message.starts_with("loopback address "));
    CHECK(upstream.accepts() == 0);
  }
  {
    // One of its addresses listed: libcurl moves on from the refused one to the listed one.
    Client client(loopbackOptions("localhost, 127.0.0.1"));
    const auto r = client.getStateInstance(creds);
    CHECK_MESSAGE(r.ok(), r.outcome.message);
  }
  // The same request with the loopback addresses listed reaches the listener: the refusal above
  // came from the policy, not from the network.
  Client client(loopbackOptions("localhost, 127.0.0.1, ::1"));
  const auto r = client.getStateInstance(creds);
  CHECK(r.ok());
  CHECK(upstream.accepts() >= 1);
}

TEST_CASE("an upstream error body never reaches the outcome message") {
  const std::string marker = "MARKER-internal-service-7f3a";
  const std::string body = R"({"message":")" + marker + R"(","description":")" + marker + "\"}";
  Client client(loopbackOptions());
  for (const auto& [status, reason, expected] :
       std::vector<std::tuple<int, std::string, std::string>>{
           {500, "Internal Server Error", "upstream answered 500 Internal Server Error"},
           {400, "Bad Request", "upstream answered 400: body not shown"},
           {418, "I'm a teapot", "upstream answered 418"},
           {404, "Not Found", "upstream answered 404 Not Found"}}) {
    CannedHttpListener upstream(CannedHttpListener::response(status, reason, body));
    const auto r = client.getStateInstance(
        {"http://127.0.0.1:" + std::to_string(upstream.port()), 1101000001, std::string(50, 'a')});
    CHECK(r.outcome.httpStatus == status);
    CHECK(r.outcome.message == expected);
    CHECK(r.outcome.message.find(marker) == std::string::npos);
  }
}
