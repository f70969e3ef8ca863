#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <fstream>
#include <mutex>
#include <thread>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/WebSocket.h>
#include <Poco/StreamCopier.h>
#include <set>

#include "support/emulator_process.hpp"
#include "support/process_limits.hpp"
#include "support/qr_image.hpp"
#include "support/raw_socket.hpp"
#include "support/wait_for.hpp"

using namespace greenfleet::testing;
using namespace std::chrono_literals;

namespace {

const std::vector<std::string> kFast{"--initializing-ms", "200", "--starting-ms", "200",
                                     "--logout-ms",       "100", "--reboot-ms",   "100"};

std::vector<std::string> with(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

Poco::JSON::Object::Ptr methodCounters(const EmulatorProcess& emu, std::int64_t id,
                                       const std::string& method) {
  const auto c = emu.counters()->getObject("instances")->getObject(std::to_string(id));
  return c ? c->getObject(method) : nullptr;
}

// Collects webhook POSTs (body + Authorization header).
class WebhookReceiver {
 public:
  WebhookReceiver() {
    Poco::Net::ServerSocket socket(Poco::Net::SocketAddress("127.0.0.1", 0));
    port_ = socket.address().port();
    server_ = std::make_unique<Poco::Net::HTTPServer>(new Factory(*this), socket,
                                                      new Poco::Net::HTTPServerParams);
    server_->start();
  }
  ~WebhookReceiver() { server_->stopAll(true); }
  int port() const { return port_; }
  std::vector<std::pair<std::string, std::string>> received() {
    std::lock_guard lock(mutex_);
    return received_;
  }

 private:
  struct Handler : Poco::Net::HTTPRequestHandler {
    explicit Handler(WebhookReceiver& r) : r_(r) {}
    void handleRequest(Poco::Net::HTTPServerRequest& req,
                       Poco::Net::HTTPServerResponse& resp) override {
      std::string body;
      Poco::StreamCopier::copyToString(req.stream(), body);
      {
        std::lock_guard lock(r_.mutex_);
        r_.received_.emplace_back(body, req.get("Authorization", ""));
      }
      resp.setContentLength(0);
      resp.send();
    }
    WebhookReceiver& r_;
  };
  struct Factory : Poco::Net::HTTPRequestHandlerFactory {
    explicit Factory(WebhookReceiver& r) : r_(r) {}
    Poco::Net::HTTPRequestHandler* createRequestHandler(
        const Poco::Net::HTTPServerRequest&) override {
      return new Handler(r_);
    }
    WebhookReceiver& r_;
  };
  std::mutex mutex_;
  std::vector<std::pair<std::string, std::string>> received_;
  int port_ = 0;
  std::unique_ptr<Poco::Net::HTTPServer> server_;
};

}  // namespace

TEST_CASE("emulate prints its address, serves the wire routes and answers Green API statuses") {
  EmulatorProcess emu({"--instances", "3"});
  CHECK(emu.child().log().find("/_emulator/instances") != std::string::npos);
  const auto inst = emu.instances();
  REQUIRE(inst.size() == 3);
  CHECK(inst[0].apiTokenInstance.size() == 50);
  CHECK(inst[0].state == "authorized");
  const auto& a = inst[0];

  auto r = emu.http().get(emu.wirePath(a, "getStateInstance"));
  CHECK(r.status == 200);
  CHECK(r.body == R"({"stateInstance":"authorized"})");
  SUBCASE("method names are case-insensitive") {
    CHECK(emu.http().get(emu.wirePath(inst[1], "GetStateInstance")).status == 200);
  }
  SUBCASE("wrong token is 401, unknown id is 403, wrong verb is 404, unknown path a JSON 404") {
    auto bad = a;
    bad.apiTokenInstance = std::string(50, 'a');
    CHECK(emu.http().get(emu.wirePath(bad, "getStateInstance")).status == 401);
    bad = a;
    bad.idInstance = 42;
    CHECK(emu.http().get(emu.wirePath(bad, "getStateInstance")).status == 403);
    CHECK(emu.http().post(emu.wirePath(inst[2], "getStateInstance"), "{}").status == 404);
    const auto nf = emu.http().get("/nothing/here");
    CHECK(nf.status == 404);
    CHECK(nf.header("content-type") == "application/json");
  }
  SUBCASE("logout, reboot, getWaSettings, getSettings, getStatusInstance, qr") {
    const auto& b = inst[1];
    CHECK(emu.http().get(emu.wirePath(b, "qr")).body ==
          R"({"message":"instance account already authorized","type":"alreadyLogged"})");
    auto wa = parseJsonObject(emu.http().get(emu.wirePath(b, "getWaSettings")).body);
    CHECK(wa->getValue<std::string>("stateInstance") == "authorized");
    CHECK(wa->getValue<std::string>("phone") == "71101000002");
    CHECK(parseJsonObject(emu.http().get(emu.wirePath(b, "getSettings")).body)
              ->getValue<std::string>("wid") == "71101000002@c.us");
    CHECK(emu.http().get(emu.wirePath(b, "getStatusInstance")).body ==
          R"({"statusInstance":"online"})");
    CHECK(emu.http().get(emu.wirePath(b, "logout")).body == R"({"isLogout":true})");
    CHECK(emu.http().get(emu.wirePath(b, "reboot")).body == R"({"isReboot":true})");
  }
  SUBCASE("partner getInstances lists every instance; a bad partner token is HTTP 200 code 401") {
    const auto token = parseJsonObject(emu.http().get("/_emulator/instances").body)
                           ->getValue<std::string>("partnerToken");
    CHECK(token.rfind("gac.", 0) == 0);
    const auto bad = emu.http().get("/partner/getInstances/gac.nope");
    CHECK(bad.status == 200);
    CHECK(bad.body == R"({"code":401,"description":"Unauthorized"})");
    const auto ok = emu.http().get("/partner/getInstances/" + token);
    CHECK(ok.status == 200);
    Poco::JSON::Parser parser;
    const auto arr = parser.parse(ok.body).extract<Poco::JSON::Array::Ptr>();
    CHECK(arr->size() == 3);
    CHECK(arr->getObject(0)->getValue<std::string>("apiTokenInstance") == a.apiTokenInstance);
  }
}

TEST_CASE("the 429 trips exactly when a client exceeds the documented rate, never below it") {
  // The emulator's clock moves only when told: each burst is inside one window however slow
  // the machine, and the windows are a known distance apart.
  EmulatorProcess emu({"--instances", "2", "--state", "notAuthorized", kControllableClock});
  const auto inst = emu.instances();
  const auto& a = inst[0];

  SUBCASE("qr: 3 per second") {
    // Two bursts of three, a little over one second apart: exactly at the rate, no 429.
    for (int i = 0; i < 3; ++i) CHECK(emu.http().get(emu.wirePath(a, "qr")).status == 200);
    emu.advanceClock(1020ms);
    for (int i = 0; i < 3; ++i) CHECK(emu.http().get(emu.wirePath(a, "qr")).status == 200);
    // One more inside the same window: over the rate.
    CHECK(emu.http().get(emu.wirePath(a, "qr")).status == 429);
    const auto c = methodCounters(emu, a.idInstance, "qr");
    REQUIRE(c);
    CHECK(c->getValue<int>("accepted") == 6);
    CHECK(c->getValue<int>("rateLimited") == 1);
    CHECK(c->getValue<int>("maxPerSecond") == 3);
  }
  SUBCASE("getStateInstance: 1 per second, and limits are per instance and per method") {
    CHECK(emu.http().get(emu.wirePath(a, "getStateInstance")).status == 200);
    CHECK(emu.http().get(emu.wirePath(a, "getStateInstance")).status == 429);
    CHECK(emu.http().get(emu.wirePath(inst[1], "getStateInstance")).status == 200);
    CHECK(emu.http().get(emu.wirePath(a, "getWaSettings")).status == 200);
    CHECK(emu.http().get(emu.wirePath(a, "getWaSettings")).status == 429);
    const auto totals = emu.counters()->getObject("totals");
    CHECK(totals->getValue<int>("rateLimited") == 2);
    CHECK(totals->getValue<int>("maxPerSecond") == 1);
    emu.resetCounters();
    CHECK(emu.counters()->getObject("totals")->getValue<int>("requests") == 0);
  }
  SUBCASE("concurrent burst: exactly 3 of 12 simultaneous qr requests are accepted") {
    std::atomic<int> ok{0}, limited{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 12; ++i) {
      threads.emplace_back([&] {
        const int s = emu.http().get(emu.wirePath(inst[1], "qr")).status;
        (s == 200 ? ok : limited)++;
      });
    }
    for (auto& t : threads) t.join();
    CHECK(ok == 3);
    CHECK(limited == 9);
    CHECK(methodCounters(emu, inst[1].idInstance, "qr")->getValue<int>("maxPerSecond") == 3);
  }
}

TEST_CASE("the control API moves a controllable clock, and only that one") {
  SUBCASE("with --controllable-clock, rate windows and timers move only when told") {
    EmulatorProcess emu({"--instances", "1", "--state", "authorized", kControllableClock});
    const auto a = emu.instances().at(0);
    CHECK(parseJsonObject(emu.http().get("/_emulator/config").body)
              ->getValue<bool>("controllableClock"));
    CHECK(emu.http().get(emu.wirePath(a, "getStateInstance")).status == 200);
    CHECK(emu.http().get(emu.wirePath(a, "getStateInstance")).status == 429);
    const auto moved = emu.http().post("/_emulator/clock/advance", R"({"ms":999})");
    CHECK(moved.status == 200);
    CHECK(moved.body == R"({"advancedMs":999,"elapsedMs":999})");
    CHECK(emu.http().get(emu.wirePath(a, "getStateInstance")).status == 429);
    emu.advanceClock(1ms);
    CHECK(emu.http().get(emu.wirePath(a, "getStateInstance")).status == 200);
    CHECK(emu.http().post("/_emulator/clock/advance", R"({"ms":-1})").status == 400);
    CHECK(emu.http().post("/_emulator/clock/advance", R"({"ms":"5"})").status == 400);
    CHECK(emu.http().post("/_emulator/clock/advance", "{}").status == 400);
    CHECK(emu.http().post("/_emulator/clock/advance", R"({"ms":99999999999999999999})").status ==
          400);
    CHECK(emu.http().get("/_emulator/clock/advance").status == 405);
  }
  SUBCASE("without it the clock is the system clock and cannot be moved") {
    EmulatorProcess emu({"--instances", "1"});
    CHECK_FALSE(parseJsonObject(emu.http().get("/_emulator/config").body)
                    ->getValue<bool>("controllableClock"));
    CHECK(emu.http().post("/_emulator/clock/advance", R"({"ms":1000})").status == 409);
  }
}

TEST_CASE("a new instance goes null → starting → notAuthorized → scan → authorized → logout") {
  EmulatorProcess emu(with({"--instances", "0", kControllableClock}, kFast));
  const auto created = emu.http().post("/_emulator/instances", R"({"count":1,"state":"new"})");
  REQUIRE(created.status == 201);
  const auto inst = emu.instances();
  REQUIRE(inst.size() == 1);
  const auto& a = inst[0];
  CHECK(emu.http().get(emu.wirePath(a, "getStateInstance")).body == "null");
  CHECK(emu.http().get(emu.wirePath(a, "qr")).status == 400);
  emu.advanceClock(400ms);  // kFast: initializing 200 ms, then starting 200 ms
  CHECK(waitFor([&] { return emu.stateOf(a.idInstance) == "notAuthorized"; }, 5s));
  CHECK(emu.scan(a.idInstance) == 200);
  CHECK(emu.stateOf(a.idInstance) == "authorized");
  CHECK(emu.scan(a.idInstance) == 409);
  emu.advanceClock(1s);  // getStateInstance's 1 rps window
  CHECK(emu.http().get(emu.wirePath(a, "logout")).body == R"({"isLogout":true})");
  emu.advanceClock(100ms);  // kFast: logout takes 100 ms
  CHECK(waitFor([&] { return emu.stateOf(a.idInstance) == "notAuthorized"; }, 5s));
  SUBCASE("forced states via the control API") {
    CHECK(emu.setState(a.idInstance, "blocked") == 200);
    CHECK(emu.stateOf(a.idInstance) == "blocked");
    CHECK(emu.setState(a.idInstance, "suspended") == 200);
    CHECK(emu.http().get(emu.wirePath(a, "getStateInstance")).body ==
          R"({"stateInstance":"suspended"})");
    CHECK(emu.setState(a.idInstance, "bogus") == 400);
    CHECK(emu.setState(999, "blocked") == 404);
  }
}

TEST_CASE("an initializing instance can answer 401 instead of null (issue #306)") {
  EmulatorProcess emu({"--instances", "1", "--state", "new", "--initializing-answer", "401",
                       "--initializing-ms", "60000"});
  const auto a = emu.instances().at(0);
  CHECK(emu.http().get(emu.wirePath(a, "getStateInstance")).status == 401);
}

TEST_CASE("the qr PNG decodes to the payload the control API reports, and rotates") {
  EmulatorProcess emu({"--instances", "1", "--state", "notAuthorized", "--qr-rotation-ms", "400",
                       kControllableClock});
  const auto a = emu.instances().at(0);
  std::set<std::string> payloads;
  for (int i = 0; i < 3; ++i) {
    const auto before = emu.qrPayloadOf(a.idInstance);
    const auto r = emu.http().get(emu.wirePath(a, "qr"));
    const auto after = emu.qrPayloadOf(a.idInstance);
    REQUIRE(r.status == 200);
    const auto body = parseJsonObject(r.body);
    CHECK(body->getValue<std::string>("type") == "qrCode");
    const std::string png = base64Decode(body->getValue<std::string>("message"));
    CHECK(readPng(png).has_value());
    if (before == after) {  // not at a rotation boundary
      CHECK(pngEncodesPayload(png, before));
      CHECK(decodeWithZbar(png) == before);
      payloads.insert(before);
    }
    emu.advanceClock(450ms);
  }
  CHECK(payloads.size() >= 2);
  for (const auto& p : payloads) CHECK(p.rfind("2@" + std::to_string(a.idInstance) + "-", 0) == 0);
}

TEST_CASE("continuous qr polling pushes the instance into starting; reboot recovers (#285)") {
  EmulatorProcess emu(
      with({"--instances", "1", "--state", "notAuthorized", "--qr-quirk-ms", "600"}, kFast));
  const auto a = emu.instances().at(0);
  CHECK(waitFor(
      [&] {
        emu.http().get(emu.wirePath(a, "qr"));
        return emu.stateOf(a.idInstance) == "starting";
      },
      5s, 350ms));
  CHECK(emu.http().get(emu.wirePath(a, "reboot")).status == 200);
  CHECK(waitFor([&] { return emu.stateOf(a.idInstance) == "notAuthorized"; }, 5s));
}

TEST_CASE("the scanqrcode websocket pushes a frame per rotation, then accountData or timeout") {
  EmulatorProcess emu({"--instances", "2", "--state", "notAuthorized", "--qr-rotation-ms", "300",
                       "--ws-timeout-ms", "1000"});
  const auto inst = emu.instances();
  auto open = [&](const EmulatedCredentials& c) {
    Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(emu.port()));
    Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_GET, emu.wirePath(c, "scanqrcode"),
                                   Poco::Net::HTTPMessage::HTTP_1_1);
    Poco::Net::HTTPResponse response;
    auto ws = std::make_unique<Poco::Net::WebSocket>(session, request, response);
    ws->setReceiveTimeout(Poco::Timespan(5, 0));
    return ws;
  };
  auto frames = [](Poco::Net::WebSocket& ws) {
    std::vector<Poco::JSON::Object::Ptr> out;
    char buf[65536];
    while (true) {
      int flags = 0;
      const int n = ws.receiveFrame(buf, sizeof buf, flags);
      if (n <= 0 || (flags & Poco::Net::WebSocket::FRAME_OP_BITMASK) ==
                        Poco::Net::WebSocket::FRAME_OP_CLOSE) {
        break;
      }
      out.push_back(parseJsonObject(std::string(buf, static_cast<std::size_t>(n))));
    }
    return out;
  };

  SUBCASE("rotation frames then the timeout frame after the configured timeout") {
    auto ws = open(inst[0]);
    const auto got = frames(*ws);
    REQUIRE(got.size() >= 3);
    for (std::size_t i = 0; i + 1 < got.size(); ++i) {
      CHECK(got[i]->getValue<std::string>("type") == "qrCode");
      CHECK(readPng(base64Decode(got[i]->getValue<std::string>("message"))).has_value());
    }
    CHECK(got.front()->getValue<std::string>("message") !=
          got[1]->getValue<std::string>("message"));
    CHECK(got.back()->getValue<std::string>("type") == "timeoutExpired");
  }
  SUBCASE("a scan during the session ends it with accountData") {
    auto ws = open(inst[1]);
    char buf[65536];
    int flags = 0;
    REQUIRE(ws->receiveFrame(buf, sizeof buf, flags) > 0);
    CHECK(emu.scan(inst[1].idInstance) == 200);
    const auto got = frames(*ws);
    REQUIRE_FALSE(got.empty());
    CHECK(got.back()->getValue<std::string>("type") == "accountData");
    CHECK(got.back()->getValue<std::string>("wid") == "71101000002@c.us");
  }
}

TEST_CASE("state transitions are posted as stateInstanceChanged webhooks with a Bearer token") {
  WebhookReceiver receiver;
  EmulatorProcess emu({"--instances", "1", "--state", "notAuthorized", "--webhook-url",
                       "http://127.0.0.1:" + std::to_string(receiver.port()) + "/hook",
                       "--webhook-token", "hooksecret"});
  const auto a = emu.instances().at(0);
  REQUIRE(emu.scan(a.idInstance) == 200);
  REQUIRE(waitFor([&] { return !receiver.received().empty(); }, 5s));
  const auto [body, auth] = receiver.received().front();
  CHECK(auth == "Bearer hooksecret");
  const auto o = parseJsonObject(body);
  CHECK(o->getValue<std::string>("typeWebhook") == "stateInstanceChanged");
  CHECK(o->getValue<std::string>("stateInstance") == "authorized");
  CHECK(o->getObject("instanceData")->getValue<std::int64_t>("idInstance") == a.idInstance);
  CHECK(o->getObject("instanceData")->getValue<std::string>("wid") == "71101000001@c.us");
  CHECK(o->getObject("instanceData")->getValue<std::string>("typeInstance") == "whatsapp");
  CHECK(o->getValue<std::int64_t>("timestamp") > 1700000000);
  CHECK(o->getNames().size() == 4);
}

TEST_CASE("a scenario file builds the fleet; 1000 instances from --instances") {
  TempDir dir;
  std::ofstream(dir.file("s.json"))
      << R"({"instances":{"authorized":150,"notAuthorized":30,"starting":10,"blocked":5,)"
         R"("suspended":5},)"
         R"("delays":{"startingMs":60000}})";
  {
    EmulatorProcess emu({"--scenario", dir.file("s.json")});
    CHECK(emu.instances().size() == 200);
    CHECK(emu.instances("notAuthorized").size() == 30);
    CHECK(emu.instances("starting").size() == 10);
    CHECK(emu.instances("blocked").size() == 5);
  }
  // How fast it starts is scripts/bench's row (emulator start-up), not a test's.
  EmulatorProcess big({"--instances", "1000"});
  CHECK(big.instances().size() == 1000);
  big.child().signal(SIGTERM);
  CHECK(big.child().wait(5s) == std::optional<int>(0));
}

TEST_CASE("control API rejects bad input with JSON errors") {
  EmulatorProcess emu({"--instances", "1"});
  CHECK(emu.setFaults(R"({"errorRates":{"500":2}})") == 400);
  CHECK(emu.setFaults("not json") == 400);
  CHECK(emu.setFaults(R"({"latencyMs":5})", 12345) == 404);
  CHECK(emu.http().get("/_emulator/instances/abc").status == 404);
  CHECK(emu.http().post("/_emulator/instances", R"({"count":"x"})").status == 400);
  CHECK(emu.http().get("/_emulator/nope").status == 404);
  std::string out;
  CHECK(runToCompletion(greenfleetBinary(), {"emulate", "--bogus"}, out) == 2);
  CHECK(runToCompletion(greenfleetBinary(), {"emulate", "--help"}, out) == 0);
  CHECK(out.find("--scenario") != std::string::npos);
}

TEST_CASE("a POST with a body and then a GET on the same kept-alive connection get their answers") {
  EmulatorProcess emu({"--instances", "1"});
  const auto a = emu.instances().at(0);
  RawSocket connection(emu.port());

  SUBCASE("an SDK's sendMessage (not emulated: a Green API 404) then getStateInstance") {
    connection.sendRequest("POST", emu.wirePath(a, "sendMessage"),
                           R"({"chatId":"11001234567@c.us","message":"hello"})");
    const auto post = connection.readResponse();
    CHECK(post.status_line == "HTTP/1.1 404 Not Found");
    CHECK(parseJsonObject(post.body)->getValue<std::string>("path") ==
          emu.wirePath(a, "sendMessage"));
  }
  SUBCASE("a control API POST whose body is read, then getStateInstance") {
    connection.sendRequest("POST", "/_emulator/instances", R"({"count":2,"state":"blocked"})");
    const auto post = connection.readResponse();
    CHECK(post.status_line == "HTTP/1.1 201 Created");
    const auto added = parseJsonObject(post.body)->getArray("instances");
    REQUIRE(added->size() == 2);
    CHECK(added->getObject(0)->getValue<std::string>("state") == "blocked");
  }
  connection.sendRequest("GET", emu.wirePath(a, "getStateInstance"));
  const auto get = connection.readResponse();
  CHECK(get.status_line == "HTTP/1.1 200 OK");
  CHECK(get.body == R"({"stateInstance":"authorized"})");
}

TEST_CASE("status lines carry the real reason phrase: 429 Too Many Requests, 401 Unauthorized") {
  // The clock stands still, so both pipelined requests land in one rate window.
  EmulatorProcess emu({"--instances", "1", kControllableClock});
  const auto a = emu.instances().at(0);
  RawSocket connection(emu.port());
  const std::string get =
      "GET " + emu.wirePath(a, "getStateInstance") + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  connection.send(get + get);
  CHECK(connection.readResponse().status_line == "HTTP/1.1 200 OK");
  const auto limited = connection.readResponse();
  CHECK(limited.status_line == "HTTP/1.1 429 Too Many Requests");
  CHECK(parseJsonObject(limited.body)->getValue<std::string>("message") == "Too Many Requests");

  auto bad = a;
  bad.apiTokenInstance = std::string(50, 'a');
  connection.sendRequest("GET", emu.wirePath(bad, "getStateInstance"));
  CHECK(connection.readResponse().status_line == "HTTP/1.1 401 Unauthorized");
}

TEST_CASE("injected latency is a timer: 2,000 delayed requests in flight add no threads") {
  constexpr int kRequests = 2000;
  REQUIRE(raiseOpenFileLimit(kRequests + 1000) >= kRequests + 1000);
  EmulatorProcess emu({"--instances", std::to_string(kRequests), "--threads", "4", "--faults",
                       R"({"latencyMs":300})"});
  const auto inst = emu.instances();
  REQUIRE(inst.size() == static_cast<std::size_t>(kRequests));
  const int threads_before = threadCount(emu.child().pid());
  REQUIRE(threads_before > 0);

  std::vector<std::unique_ptr<RawSocket>> connections;
  for (const auto& c : inst) {
    connections.push_back(std::make_unique<RawSocket>(emu.port()));
    connections.back()->sendRequest("GET", emu.wirePath(c, "getStateInstance"));
  }
  // Every request is sent; those not yet answered wait on the emulator's timers.
  const int threads_during = threadCount(emu.child().pid());
  int answered = 0;
  for (auto& connection : connections) {
    const auto r = connection->readResponse();
    if (r.status == 200 && r.body == R"({"stateInstance":"authorized"})") ++answered;
  }
  CHECK(answered == kRequests);
  CHECK(threads_during <= threads_before + 2);
  CHECK(threads_during < 4 + 16);  // 4 workers, the loop, main and the runtime's own
}

TEST_CASE("the emulator holds 5,000 open connections at once and answers on each") {
  constexpr int kConnections = 5000;
  REQUIRE(raiseOpenFileLimit(2 * kConnections + 1000) >= 2 * kConnections + 1000);
  EmulatorProcess emu({"--instances", "1", "--keep-alive-ms", "120000"});
  std::vector<std::unique_ptr<RawSocket>> connections;
  for (int i = 0; i < kConnections; ++i) {
    connections.push_back(std::make_unique<RawSocket>(emu.port()));
  }
  // All are open before any is used: each is answered, none was refused or dropped.
  int answered = 0;
  for (auto& connection : connections) {
    connection->sendRequest("GET", "/_emulator/health");
    const auto r = connection->readResponse();
    if (r.status == 200 && r.body == R"({"ok":true})") ++answered;
  }
  CHECK(answered == kConnections);
  CHECK(emu.http().get("/_emulator/health").status == 200);
}
