#include <doctest/doctest.h>

#include <string>

#include "fleet/outcome_kind.hpp"
#include "greenapi/transfer_engine.hpp"

using namespace greenfleet::greenapi;

namespace {
constexpr std::string_view kToken = "1f2485e80f474293b935f77d78c64e76fa4bdceb417a4998a4";
constexpr std::size_t kMaxBody = 1024;

CallOutcome answered(int status, std::string_view body) {
  TransferFacts facts;
  facts.httpStatus = status;
  return classifyTransfer(facts, body, kToken, kMaxBody);
}
}  // namespace

TEST_CASE("classifyTransfer names the status in its own words, never the upstream body") {
  const std::string marker = "MARKER-internal-service-2b9e";
  const std::string body = R"({"message":")" + marker + R"(","description":")" + marker + "\"}";
  CHECK(answered(500, body).message == "upstream answered 500 Internal Server Error");
  CHECK(answered(502, marker).message == "upstream answered 502 Bad Gateway");
  CHECK(answered(503, body).message == "upstream answered 503 Service Unavailable");
  CHECK(answered(401, body).message == "upstream answered 401 Unauthorized");
  CHECK(answered(403, body).message == "upstream answered 403 Forbidden");
  CHECK(answered(404, body).message == "upstream answered 404 Not Found");
  CHECK(answered(429, body).message == "upstream answered 429 Too Many Requests");
  CHECK(answered(466, body).message == "upstream answered 466 quota exceeded");
  CHECK(answered(418, body).message == "upstream answered 418");
  CHECK(answered(302, body).message == "upstream answered 302");
  CHECK(answered(400, body).message == "upstream answered 400: body not shown");
  CHECK(answered(400, marker).message == "upstream answered 400: body not shown");
  CHECK(answered(200, body).message.empty());
  CHECK(answered(200, body).kind == OutcomeKind::ok);
  CHECK(answered(500, body).kind == OutcomeKind::serverError);
}

TEST_CASE("classifyTransfer keeps only Green API's fixed 400 texts, which carry the state") {
  CHECK(answered(400, R"({"statusCode":400,"message":"instance in starting process try later",)"
                      R"("path":"/waInstance1/getStateInstance/)" +
                          std::string(kToken) + "\"}")
            .message == "upstream answered 400: instance in starting process try later");
  CHECK(answered(400, "instance is starting or not authorized").message ==
        "upstream answered 400: instance is starting or not authorized");
  CHECK(answered(400, R"({"message":"Validation failed. Details: 'chatId' is required )" +
                          std::string("MARKER") + "\"}")
            .message == "upstream answered 400: Validation failed");
}

TEST_CASE("classifyTransfer passes transport texts through, scrubbed, and caps oversized bodies") {
  TransferFacts facts;
  facts.timedOut = true;
  facts.transportError = "timed out after 5 s connecting";
  auto o = classifyTransfer(facts, "", kToken, kMaxBody);
  CHECK(o.kind == OutcomeKind::timeout);
  CHECK(o.message == "timed out after 5 s connecting");
  facts = {};
  facts.transportFailed = true;
  facts.transportError = "connection refused " + std::string(kToken);
  o = classifyTransfer(facts, "", kToken, kMaxBody);
  CHECK(o.kind == OutcomeKind::transportError);
  CHECK(o.message == "connection refused ***");
  facts = {};
  facts.httpStatus = 200;
  facts.truncated = true;
  o = classifyTransfer(facts, "", kToken, kMaxBody);
  CHECK(o.kind == OutcomeKind::malformedBody);
  CHECK(o.message == "upstream answered 200 with a body larger than 1024 bytes");
}

TEST_CASE("every client outcome kind has a domain kind of the same name") {
  for (int k = 0; k <= static_cast<int>(OutcomeKind::addressRefused); ++k) {
    const auto name = greenfleet::fleet::outcomeKindName(static_cast<OutcomeKind>(k));
    CHECK_MESSAGE(greenfleet::fleet::parseOutcomeKind(name).has_value(), name);
  }
  CHECK(greenfleet::fleet::kOutcomeKindCount ==
        static_cast<std::size_t>(OutcomeKind::addressRefused) + 1);
}
