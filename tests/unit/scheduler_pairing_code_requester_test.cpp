#include <doctest/doctest.h>

#include "scheduler/pairing_code_requester.hpp"

using greenfleet::scheduler::PairingCodeRequester;

TEST_CASE("getAuthorizationCode answers are read strictly") {
  CHECK(PairingCodeRequester::parseAnswer(R"({"status":true,"code":"GAPI2015"})") == "GAPI2015");
  CHECK(PairingCodeRequester::parseAnswer(R"({"status":false,"code":""})") == "");
  CHECK(PairingCodeRequester::parseAnswer(R"({"status":false})") == "");
  CHECK_FALSE(PairingCodeRequester::parseAnswer(R"({"status":true})").has_value());
  CHECK_FALSE(PairingCodeRequester::parseAnswer(R"({"status":true,"code":""})").has_value());
  CHECK_FALSE(PairingCodeRequester::parseAnswer(R"({"status":"true","code":"X"})").has_value());
  CHECK_FALSE(PairingCodeRequester::parseAnswer(R"({"status":true,"code":42})").has_value());
  CHECK_FALSE(PairingCodeRequester::parseAnswer("<html>").has_value());
  CHECK_FALSE(PairingCodeRequester::parseAnswer("[1]").has_value());
}
