#include <doctest/doctest.h>

#include "greenapi/partner_reply.hpp"

using namespace greenfleet::greenapi;

namespace {
const std::string kPartnerToken = "gac.02dff0c4fa944bc882bf207d379d9e3f0123456789";
const std::string kToken = "1f2485e80f474293b935f77d78c64e76fa4bdceb417a4998a4";

RawReply ok(std::string body) {
  RawReply r;
  r.outcome.kind = OutcomeKind::ok;
  r.outcome.httpStatus = 200;
  r.body = std::move(body);
  return r;
}
}  // namespace

TEST_CASE("buildPartnerUrl puts method and partner token in the partner API's path shape") {
  CHECK(buildPartnerUrl("https://api.green-api.com/", "getInstances", kPartnerToken) ==
        "https://api.green-api.com/partner/getInstances/" + kPartnerToken);
  const auto request = partnerInstancesRequest("http://127.0.0.1:9", kPartnerToken, nullptr);
  // The engine builds the URL from the target upstream.allowed_hosts accepted, like any other.
  CHECK(request.partner);
  CHECK(request.credentials.apiUrl == "http://127.0.0.1:9");
  CHECK(request.method == "getInstances");
  CHECK(request.credentials.apiTokenInstance == kPartnerToken);  // scrubbed from messages
  CHECK(request.maxBodyBytes > 1024 * 1024);
}

TEST_CASE("a getInstances listing is read with its types and deleted/expired flags") {
  const auto r = partnerInstancesReply(
      ok(R"([{"idInstance":1101728004,"name":"Instance 1","typeInstance":"whatsapp",)"
         R"("typeAccount":"",
              "apiTokenInstance":")" +
         kToken + R"(","deleted":false,"isExpired":false},
             {"idInstance":1101728005,"name":"tg","typeInstance":"telegram",
              "apiTokenInstance":"x","deleted":true,"isExpired":true}])"),
      kPartnerToken);
  REQUIRE(r.ok());
  REQUIRE(r.value->size() == 2);
  const auto& a = r.value->at(0);
  CHECK(a.id == 1101728004);
  CHECK(a.name == "Instance 1");
  CHECK(a.type == "whatsapp");
  CHECK(a.token == kToken);
  CHECK_FALSE(a.deleted);
  const auto& b = r.value->at(1);
  CHECK(b.type == "telegram");
  CHECK(b.deleted);
  CHECK(b.expired);
}

TEST_CASE("partner errors arriving as HTTP 200 {code} are errors, not an empty listing") {
  auto r = partnerInstancesReply(ok(R"({"code":401,"description":"Unauthorized"})"), kPartnerToken);
  CHECK_FALSE(r.ok());
  CHECK(r.outcome.kind == OutcomeKind::unauthorized);
  CHECK(r.outcome.message == "partner API error 401: Unauthorized");
  r = partnerInstancesReply(ok(R"({"code":404,"description":"Not found"})"), kPartnerToken);
  CHECK(r.outcome.kind == OutcomeKind::notFound);
  r = partnerInstancesReply(ok(R"({"code":500,"description":")" + kPartnerToken + R"("})"),
                            kPartnerToken);
  CHECK(r.outcome.kind == OutcomeKind::unexpectedStatus);
  CHECK(r.outcome.message.find(kPartnerToken) == std::string::npos);
}

TEST_CASE("a malformed getInstances answer is malformedBody and never echoes a token") {
  for (const std::string& body :
       {std::string("<html>"), std::string(R"({"instances":[]})"), std::string(R"([1,2])"),
        R"([{"idInstance":"1","apiTokenInstance":")" + kToken + R"("}])",
        std::string(R"([{"idInstance":1}])")}) {
    CAPTURE(body);
    const auto r = partnerInstancesReply(ok(body), kPartnerToken);
    CHECK(r.outcome.kind == OutcomeKind::malformedBody);
    CHECK(r.outcome.message.find(kToken) == std::string::npos);
  }
  RawReply failed;
  failed.outcome.kind = OutcomeKind::timeout;
  CHECK(partnerInstancesReply(std::move(failed), kPartnerToken).outcome.kind ==
        OutcomeKind::timeout);
}
