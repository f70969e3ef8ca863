// Issue 16, "QR over the websocket": scan sessions take their QR from the emulator's scanqrcode
// websocket (sessions.transport = websocket, the default) instead of polling qr, fall back to
// polling when the socket is refused, end on accountData; and the passkeyRequired answer is its
// own attention reason. Real server, real emulator, loopback only.
#include <doctest/doctest.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include <fmt/format.h>

#include "support/emulator_process.hpp"
#include "support/json.hpp"
#include "support/qr_image.hpp"
#include "support/server_fixture.hpp"
#include "support/wait_for.hpp"

using namespace greenfleet::testing;
using namespace std::chrono_literals;

namespace {

using Env = std::map<std::string, std::string>;
using Id = std::int64_t;

// A scan session of `session_s` seconds (idle end = run cap), sessions starting by themselves on
// notAuthorized; state probes every 30 s, so the session's own channel is what moves the state.
Env sessionEnv(const std::string& transport, int session_s) {
  return {{"GREENFLEET_SESSIONS_TRANSPORT", transport},
          {"GREENFLEET_SESSIONS_IDLE_S", std::to_string(session_s)},
          {"GREENFLEET_SESSIONS_MAX_RUN_S", std::to_string(session_s)},
          {"GREENFLEET_SCHEDULER_STARTUP_SPREAD_S", "1"},
          {"GREENFLEET_LOG_LEVEL", "debug"}};
}

// One greenfleet server watching one emulated instance.
struct Watched {
  const EmulatorProcess& emu;
  EmulatedCredentials creds;
  ServerFixture server;

  Watched(const EmulatorProcess& e, EmulatedCredentials c, Env env)
      : emu(e), creds(std::move(c)), server({}, std::move(env)) {
    const auto r = server.client().post(
        "/api/v1/instances",
        fmt::format(R"({{"id":{},"token":"{}","apiUrl":"{}","name":"phone {}"}})", creds.idInstance,
                    creds.apiTokenInstance, emu.apiUrl(), creds.idInstance),
        server.adminKey());
    REQUIRE(r.status == 201);
  }

  std::string path(const std::string& tail = {}) const {
    return fmt::format("/api/v1/instances/{}{}", creds.idInstance, tail);
  }
  Poco::JSON::Object::Ptr view() const {
    const auto r = server.client().get(path(), server.adminKey());
    REQUIRE(r.status == 200);
    return parseObject(r.body);
  }
  std::string field(const std::string& name) const {
    const auto o = view();
    return o->isNull(name) ? std::string() : o->getValue<std::string>(name);
  }
  bool inSession() const { return view()->getValue<bool>("scanSession"); }
  HttpResponse qr(const std::string& query) const {
    return server.client().get(path("/qr" + query), server.adminKey());
  }
  // The emulator's count of accepted calls of `method` for this instance.
  long long upstreamCalls(const std::string& method) const {
    const auto instances = emu.counters()->getObject("instances");
    const auto mine = instances ? instances->getObject(std::to_string(creds.idInstance)) : nullptr;
    const auto m = mine ? mine->getObject(method) : nullptr;
    return m ? m->getValue<long long>("accepted") : 0;
  }
  // The server's log names no token of the emulator.
  void checkNoTokenInLog() {
    CHECK(server.stop() == 0);
    const std::string log = server.log();
    REQUIRE_FALSE(log.empty());
    CHECK(log.find(creds.apiTokenInstance) == std::string::npos);
  }
};

// The QR greenfleet serves (JSON or PNG) is the emulator's payload, read just before or just
// after (a rotation may fall in between): the module grid matches, and zbarimg decodes it.
bool servesEmulatorQr(const Watched& w, bool png) {
  const std::string before = w.emu.qrPayloadOf(w.creds.idInstance);
  const auto r = w.qr(png ? "?format=png" : "?format=json");
  const std::string after = w.emu.qrPayloadOf(w.creds.idInstance);
  if (r.status != 200) return false;
  std::string image = r.body;
  if (!png) {
    const auto o = parseObject(r.body);
    if (o->getValue<std::string>("type") != "qrCode") return false;
    image = base64Decode(o->getValue<std::string>("message"));
  }
  for (const auto& payload : {before, after}) {
    if (payload.empty() || !pngEncodesPayload(image, payload)) continue;
    // A real decoder agrees (zbarimg missing is a failure: decodeWithZbar throws).
    return decodeWithZbar(image) == payload;
  }
  return false;
}

}  // namespace

TEST_CASE(
    "a websocket scan session costs a few scanqrcode connections where polling costs a qr "
    "call a second") {
  // Session of 8 s; the socket times out every 3 s (Green API: 100 s) and the QR rotates every
  // second (Green API: 20 s). Per session: polling ≈ 8 qr calls, the socket ⌈8/3⌉ = 3 connections.
  constexpr int kSessionS = 8;
  EmulatorProcess emu({"--instances", "2", "--state", "notAuthorized", "--qr-rotation-ms", "1000",
                       "--ws-timeout-ms", "3000"});
  const auto instances = emu.instances();
  Watched socket(emu, instances[0], sessionEnv("websocket", kSessionS));
  Watched poll(emu, instances[1], sessionEnv("poll", kSessionS));

  REQUIRE(waitFor([&] { return socket.inSession() && poll.inSession(); }, 10s, 50ms));
  // Through greenfleet, the socket's QR decodes to the emulator's payload, as JSON and PNG.
  CHECK(waitFor([&] { return servesEmulatorQr(socket, false); }, 5s, 100ms));
  CHECK(waitFor([&] { return servesEmulatorQr(socket, true); }, 5s, 100ms));
  // Both sessions end at their cap (the fetches above extend the idle end, never the cap).
  REQUIRE(waitFor([&] { return !socket.inSession() && !poll.inSession(); }, 20s, 200ms));

  const long long connections = socket.upstreamCalls("scanqrcode");
  const long long socket_polls = socket.upstreamCalls("qr");
  const long long qr_calls = poll.upstreamCalls("qr");
  MESSAGE(fmt::format(
      "one {} s session: websocket {} connection(s) and {} qr calls; polling {} "
      "qr calls and {} connections",
      kSessionS, connections, socket_polls, qr_calls, poll.upstreamCalls("scanqrcode")));
  CHECK(connections >= 1);
  CHECK(connections <= 4);  // ⌈8/3⌉ + one that opens as the session ends
  CHECK(socket_polls == 0);
  CHECK(qr_calls >= kSessionS - 2);
  CHECK(poll.upstreamCalls("scanqrcode") == 0);
  CHECK(socket.field("attention") == "needs_scan");
  socket.checkNoTokenInLog();
}

TEST_CASE("accountData on the socket ends the session with the instance authorized") {
  EmulatorProcess emu({"--instances", "1", "--state", "notAuthorized", "--qr-rotation-ms", "1000"});
  Watched w(emu, emu.instances().at(0), sessionEnv("websocket", 60));
  REQUIRE(waitFor([&] { return servesEmulatorQr(w, false); }, 10s, 100ms));
  REQUIRE(emu.scan(w.creds.idInstance) == 200);
  // No webhook, state probes 30 s apart: only the socket's accountData tells greenfleet this soon.
  CHECK(waitFor([&] { return w.field("state") == "authorized"; }, 5s, 50ms));
  CHECK_FALSE(w.inSession());
  CHECK(w.field("attention") == "none");
  CHECK(w.upstreamCalls("qr") == 0);
  CHECK(w.upstreamCalls("scanqrcode") == 1);
  w.checkNoTokenInLog();
}

// The emulator corks the socket so that its 101 answer and the first frame arrive in one segment,
// read whole by the handshake. With rotations 10 minutes apart that first frame is the only one:
// it must be served from the handshake's buffer, on the first connection, without polling qr.
TEST_CASE("the first frame, sent with the 101 answer, is served at once") {
  EmulatorProcess emu(
      {"--instances", "1", "--state", "notAuthorized", "--qr-rotation-ms", "600000"});
  Watched w(emu, emu.instances().at(0), sessionEnv("websocket", 60));
  CHECK(waitFor([&] { return servesEmulatorQr(w, false); }, 10s, 100ms));
  CHECK(w.upstreamCalls("scanqrcode") == 1);
  CHECK(w.upstreamCalls("qr") == 0);
  w.checkNoTokenInLog();
}

TEST_CASE("a session falls back to polling qr when the emulator refuses the websocket") {
  EmulatorProcess emu({"--instances", "1", "--state", "notAuthorized", "--qr-rotation-ms", "1000"});
  const auto creds = emu.instances().at(0);
  REQUIRE(emu.setFaults(R"({"errorRates":{"404":1.0},"methods":["scanqrcode"]})",
                        creds.idInstance) == 200);
  Watched w(emu, creds, sessionEnv("websocket", 60));
  CHECK(waitFor([&] { return servesEmulatorQr(w, true); }, 10s, 100ms));
  CHECK(waitFor([&] { return w.upstreamCalls("qr") >= 3; }, 10s, 100ms));
  CHECK(w.inSession());
  // One refused upgrade, then polling only: no second attempt.
  CHECK(emu.counters()
            ->getObject("instances")
            ->getObject(std::to_string(creds.idInstance))
            ->getObject("scanqrcode")
            ->getValue<long long>("requests") == 1);
  w.checkNoTokenInLog();
}

TEST_CASE("passkeyRequired is kept verbatim and shown as its own attention, in both transports") {
  for (const std::string transport : {"websocket", "poll"}) {
    CAPTURE(transport);
    EmulatorProcess emu(
        {"--instances", "1", "--state", "notAuthorized", "--qr-rotation-ms", "500"});
    const auto creds = emu.instances().at(0);
    REQUIRE(emu.http()
                .post(fmt::format("/_emulator/instances/{}/passkey", creds.idInstance),
                      R"({"required":true})")
                .status == 200);
    Watched w(emu, creds, sessionEnv(transport, 60));
    REQUIRE(waitFor([&] { return w.field("attention") == "passkey_required"; }, 10s, 50ms));

    auto r = w.qr("?format=json");
    REQUIRE(r.status == 200);
    const auto o = parseObject(r.body);
    CHECK(o->getValue<std::string>("type") == "passkeyRequired");
    CHECK(o->getValue<std::string>("message") == "confirm the login with a passkey on your phone");
    CHECK(o->getValue<std::string>("hint").rfind("the account asks for a passkey on the phone",
                                                 0) == 0);
    r = w.qr("?format=png");
    CHECK(r.status == 409);
    CHECK(errorCode(r.body) == "passkey_required");

    const auto summary =
        parseObject(w.server.client().get("/api/v1/summary", w.server.adminKey()).body);
    CHECK(summary->getObject("byAttention")->getValue<int>("passkey_required") == 1);
    CHECK(summary->getValue<int>("needsScan") == 0);
    CHECK(w.field("lastError").empty());  // not an error

    // The phone holder is done with the passkey: the next QR makes it a plain needs_scan again.
    REQUIRE(emu.http()
                .post(fmt::format("/_emulator/instances/{}/passkey", creds.idInstance),
                      R"({"required":false})")
                .status == 200);
    CHECK(waitFor([&] { return w.field("attention") == "needs_scan"; }, 10s, 50ms));
    CHECK(waitFor([&] { return servesEmulatorQr(w, true); }, 10s, 100ms));
    w.checkNoTokenInLog();
  }
}
