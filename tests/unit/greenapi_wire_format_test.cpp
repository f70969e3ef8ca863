#include <doctest/doctest.h>

#include <string>
#include <utility>

#include "greenapi/wire_format.hpp"

using namespace greenfleet::greenapi;

namespace {
const std::string kToken = "1f2485e80f474293b935f77d78c64e76fa4bdceb417a4998a4";
}

TEST_CASE("buildMethodUrl puts id, method and token in Green API's path shape") {
  CHECK(buildMethodUrl("https://api.green-api.com", 1101728004, "getStateInstance", kToken) ==
        "https://api.green-api.com/waInstance1101728004/getStateInstance/" + kToken);
  CHECK(buildMethodUrl("https://7105.api.greenapi.com/", 7105187566, "qr", "t") ==
        "https://7105.api.greenapi.com/waInstance7105187566/qr/t");
  CHECK(buildMethodUrl("http://127.0.0.1:9090", 1, "logout", "t") ==
        "http://127.0.0.1:9090/waInstance1/logout/t");
}

TEST_CASE("classifyStatus maps every documented status to its outcome kind") {
  CHECK(classifyStatus(200) == OutcomeKind::ok);
  CHECK(classifyStatus(400) == OutcomeKind::badRequest);
  CHECK(classifyStatus(401) == OutcomeKind::unauthorized);
  CHECK(classifyStatus(403) == OutcomeKind::forbidden);
  CHECK(classifyStatus(404) == OutcomeKind::notFound);
  CHECK(classifyStatus(429) == OutcomeKind::rateLimited);
  CHECK(classifyStatus(466) == OutcomeKind::quotaExceeded);
  CHECK(classifyStatus(500) == OutcomeKind::serverError);
  CHECK(classifyStatus(502) == OutcomeKind::serverError);
  CHECK(classifyStatus(504) == OutcomeKind::serverError);
  CHECK(classifyStatus(499) == OutcomeKind::unexpectedStatus);
  CHECK(classifyStatus(302) == OutcomeKind::unexpectedStatus);
}

TEST_CASE("parseState keeps known and unknown states verbatim and reads null as initializing") {
  StateResult r;
  CHECK(parseState(R"({"stateInstance":"authorized"})", r).empty());
  CHECK(r.state == "authorized");
  CHECK_FALSE(r.initializing);
  for (const char* s : {"notAuthorized", "blocked", "sleepMode", "starting", "yellowCard",
                        "suspended", "pendingCode", "somethingNew2027"}) {
    CHECK(parseState(std::string(R"({"stateInstance":")") + s + "\"}", r).empty());
    CHECK(r.state == s);
  }
  CHECK(parseState("null", r).empty());
  CHECK(r.initializing);
  CHECK(r.state == "initializing");
  CHECK(parseState(" null\n", r).empty());
  CHECK(r.initializing);
  CHECK(parseState(R"({"stateInstance":null})", r).empty());
  CHECK(r.initializing);
}

TEST_CASE("parseState reads the plain one-field answer and every other shape alike") {
  // The fixed-shape fast path and the general JSON parser must agree on what they both read.
  const std::pair<std::string, std::string> same[] = {
      {R"({"stateInstance":"authorized"})", "authorized"},
      {" {\n\t\"stateInstance\" :  \"notAuthorized\" }\r\n", "notAuthorized"},
      {R"({"stateInstance":""})", ""},
      {R"({"stateInstance":"auth\u006frized"})", "authorized"},  // escapes: general parser
      {R"({"stateInstance":"a\"b"})", "a\"b"},
      {R"({"stateInstance":"starting","extra":1})", "starting"},
      {R"({"extra":{"stateInstance":"x"},"stateInstance":"blocked"})", "blocked"},
  };
  for (const auto& [body, state] : same) {
    CAPTURE(body);
    StateResult r;
    CHECK(parseState(body, r).empty());
    CHECK(r.state == state);
    CHECK_FALSE(r.initializing);
  }
  StateResult r;
  CHECK_FALSE(parseState(R"({"stateInstance":"authorized")", r).empty());  // unterminated
  CHECK_FALSE(parseState(R"({"stateInstance":"authorized"} x)", r).empty());
  CHECK_FALSE(parseState(std::string("{\"stateInstance\":\"a\nb\"}"), r).empty());  // raw control
}

TEST_CASE("parseState rejects garbage and wrong types without echoing the body") {
  StateResult r;
  CHECK_FALSE(parseState("<html>502</html>", r).empty());
  CHECK_FALSE(parseState(R"({"stateInstance":42})", r).empty());
  CHECK_FALSE(parseState(R"({"other":"x"})", r).empty());
  CHECK_FALSE(parseState(R"(["authorized"])", r).empty());
  CHECK(parseState("{\"stateInstance\":\"" + kToken + "\"", r).find(kToken) == std::string::npos);
}

TEST_CASE("parseQr reads qrCode, alreadyLogged, error and unknown types verbatim") {
  QrResult r;
  CHECK(parseQr(R"({"type":"qrCode","message":"iVBORw0KGgo="})", r).empty());
  CHECK(r.isQrCode());
  CHECK(r.message == "iVBORw0KGgo=");
  CHECK(parseQr(R"({"type":"alreadyLogged","message":"instance account already authorized"})", r)
            .empty());
  CHECK(r.isAlreadyLogged());
  CHECK(r.message == "instance account already authorized");
  CHECK(parseQr(R"({"type":"error","message":"Instance has auth. You need to make log out"})", r)
            .empty());
  CHECK(r.type == "error");
  CHECK(r.message == "Instance has auth. You need to make log out");
  CHECK(parseQr(R"({"type":"passkeyRequired"})", r).empty());
  CHECK(r.type == "passkeyRequired");
  CHECK(r.message.empty());
  CHECK_FALSE(parseQr(R"({"type":"qrCode"})", r).empty());
  CHECK_FALSE(parseQr(R"({"message":"x"})", r).empty());
  CHECK_FALSE(parseQr("garbage", r).empty());
}

TEST_CASE("parseLogout, parseReboot and parseWaSettings read their documented bodies") {
  LogoutResult lo;
  CHECK(parseLogout(R"({"isLogout":true})", lo).empty());
  CHECK(lo.isLogout);
  CHECK(parseLogout(R"({"isLogout":false})", lo).empty());
  CHECK_FALSE(lo.isLogout);
  CHECK_FALSE(parseLogout(R"({"isLogout":"true"})", lo).empty());
  RebootResult rb;
  CHECK(parseReboot(R"({"isReboot":true})", rb).empty());
  CHECK(rb.isReboot);
  CHECK_FALSE(parseReboot("{}", rb).empty());
  WaSettings wa;
  CHECK(
      parseWaSettings(R"({"avatar":"https://pps.whatsapp.net/x","phone":"79001234567",)"
                      R"("stateInstance":"authorized","deviceId":"79001234567:8@s.whatsapp.net"})",
                      wa)
          .empty());
  CHECK(wa.phone == "79001234567");
  CHECK(wa.stateInstance == "authorized");
  CHECK(wa.deviceId == "79001234567:8@s.whatsapp.net");
  CHECK(parseWaSettings(R"({"avatar":"","phone":"","stateInstance":"notAuthorized","deviceId":""})",
                        wa)
            .empty());
  CHECK(wa.phone.empty());
  CHECK(wa.stateInstance == "notAuthorized");
  CHECK_FALSE(parseWaSettings(R"({"phone":"1"})", wa).empty());
}

TEST_CASE(
    "upstream strings beyond the input limits: a long state is malformed, a long phone dropped") {
  const std::string long_state(65, 's');
  StateResult r;
  CHECK(parseState(R"({"stateInstance":")" + std::string(64, 's') + "\"}", r).empty());
  CHECK_FALSE(parseState(R"({"stateInstance":")" + long_state + "\"}", r).empty());
  WaSettings wa;
  CHECK_FALSE(parseWaSettings(R"({"stateInstance":")" + long_state + "\"}", wa).empty());
  CHECK(parseWaSettings(
            R"({"phone":")" + std::string(33, '7') + R"(","stateInstance":"authorized"})", wa)
            .empty());
  CHECK(wa.phone.empty());
  CHECK(wa.stateInstance == "authorized");
  CHECK(parseWaSettings(
            R"({"phone":")" + std::string(32, '7') + R"(","stateInstance":"authorized"})", wa)
            .empty());
  CHECK(wa.phone == std::string(32, '7'));
}

TEST_CASE("errorTextOf keeps the upstream 400 text that tells starting from not authorized") {
  CHECK(errorTextOf(R"({"statusCode":400,"timestamp":"2023-09-13T22:29:37.459Z",)"
                    R"("path":"/waInstance1101848922/qr/)" +
                    kToken + R"(","message":"instance in starting process try later"})") ==
        "instance in starting process try later");
  CHECK(errorTextOf(R"({"message":"instance is starting or not authorized"})") ==
        "instance is starting or not authorized");
  CHECK(errorTextOf(R"({"code":401,"description":"Unauthorized"})") == "Unauthorized");
  CHECK(errorTextOf("  Too Many Requests \n") == "Too Many Requests");
}

TEST_CASE("scrubSecrets removes the token everywhere, in echoed paths and as bare 50-hex runs") {
  const std::string body = R"({"statusCode":400,"path":"/waInstance1101848922/getContactInfo/)" +
                           kToken + R"(","message":"Validation failed; token )" + kToken + "\"}";
  const std::string s = scrubSecrets(body, kToken);
  CHECK(s.find(kToken) == std::string::npos);
  CHECK(s.find("/waInstance1101848922/getContactInfo/***") != std::string::npos);
  CHECK(s.find("Validation failed") != std::string::npos);

  SUBCASE("another token in a path is scrubbed even when it is not ours") {
    const std::string other = "d4e4276df8044c259611ee08aefc198482b441126d517a466d";
    const std::string t = scrubSecrets("GET /waInstance7/qr/" + other + " failed", kToken);
    CHECK(t.find(other) == std::string::npos);
    CHECK(t == "GET /waInstance7/qr/*** failed");
  }
  SUBCASE("a short non-hex token in a path is scrubbed too") {
    CHECK(scrubSecrets("/waInstance1/getStateInstance/abc?x=1", "zzz") ==
          "/waInstance1/getStateInstance/***?x=1");
  }
  SUBCASE("a bare 50-hex run outside any path is scrubbed") {
    CHECK(scrubSecrets("token=c1b0474542144e0ead529eb4861ca5f583c346eb00564f64a7;", "") ==
          "token=***;");
  }
  SUBCASE("short hex and plain text survive") {
    CHECK(scrubSecrets("HTTP 502: Bad Gateway deadbeef", kToken) ==
          "HTTP 502: Bad Gateway deadbeef");
  }
  SUBCASE("long messages are cut") {
    CHECK(scrubSecrets(std::string(1000, 'z'), kToken, 20).size() == 23);
  }
}
