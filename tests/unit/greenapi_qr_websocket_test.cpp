#include <doctest/doctest.h>

#include <chrono>
#include <string>

#include "greenapi/qr_websocket.hpp"

using namespace greenfleet::greenapi;
using namespace std::chrono_literals;

TEST_CASE("parseQrFrame reads type and message; accountData has no message") {
  QrFrame f;
  REQUIRE(parseQrFrame(R"({"type":"qrCode","message":"iVBORw0KGgo="})", f));
  CHECK(f.type == "qrCode");
  CHECK(f.message == "iVBORw0KGgo=");
  REQUIRE(parseQrFrame(R"({"type":"accountData","wid":"7110@c.us","pushname":"x"})", f));
  CHECK(f.type == "accountData");
  CHECK(f.message.empty());
  CHECK_FALSE(parseQrFrame(R"({"message":"no type"})", f));
  CHECK_FALSE(parseQrFrame(R"({"type":7})", f));
  CHECK_FALSE(parseQrFrame(R"(["qrCode"])", f));
  CHECK_FALSE(parseQrFrame("not json", f));
}

TEST_CASE("QrWebsocket::open keeps to the host policy and never names the token") {
  const std::string token = "0123456789abcdef0123456789abcdef0123456789abcdef01";
  const auto policy = UpstreamHostPolicy::parse("127.0.0.0/8").value();
  SUBCASE("a host outside upstream.allowed_hosts: refused before any packet") {
    const auto r = QrWebsocket::open({"http://10.1.2.3", 1101000001, token}, policy, 200ms);
    REQUIRE_FALSE(r);
    CHECK(r.error().httpStatus == 0);
    CHECK(r.error().message.find("allowed_hosts") != std::string::npos);
    CHECK(r.error().message.find(token) == std::string::npos);
  }
  SUBCASE("a closed loopback port: a transport failure, not a refusal") {
    const auto r = QrWebsocket::open({"http://127.0.0.1:9", 1101000001, token}, policy, 500ms);
    REQUIRE_FALSE(r);
    CHECK(r.error().httpStatus == 0);
    CHECK(r.error().message.find(token) == std::string::npos);
  }
}
