#include <doctest/doctest.h>

#include <string>

#include <fmt/format.h>

#include "api/api_error.hpp"
#include "api/api_request.hpp"
#include "api/instance_json.hpp"
#include "api/json_fields.hpp"
#include "base/time_format.hpp"

using namespace greenfleet;

namespace {

store::InstanceRow plainRow() {
  store::InstanceRow row;
  row.instance.id = 1101000001;
  row.instance.api_url = "http://127.0.0.1:9090";
  row.instance.token = std::string(50, 'c');
  row.instance.name = "bench-1";
  row.instance.tags = {"bench"};
  row.instance.created_at = row.instance.updated_at = base::fromUnixMillis(1767225600123);
  return row;
}

std::string direct(const store::InstanceRow& row) {
  std::string out;
  api::appendInstanceJson(out, row);
  return out;
}

}  // namespace

TEST_CASE("an instance written directly reads as the Poco object tree prints it") {
  auto row = plainRow();
  SUBCASE("as just created") {}
  SUBCASE("disabled, no tags, empty name") {
    row.instance.enabled = false;
    row.instance.tags.clear();
    row.instance.name.clear();
  }
  SUBCASE("with a stored status") {
    row.status.state = "notAuthorized";
    row.status.state_since_ms = 1767225000000;
    row.status.attention = "needs_scan";
    row.status.last_checked_at_ms = 1767225500000;
    row.status.next_check_at_ms = 1767225560000;
    row.status.last_error = "timeout";
    row.status.phone = "79001234567";
  }
  SUBCASE("text that needs escapes") {
    row.instance.name = "quote\" back\\slash /slash \b\f\n\r\t \x01\x1f\x7f";
    row.instance.tags = {"tab\tbed", "é", "emoji \xF0\x9F\x98\x80"};
    row.instance.api_url = "https://api.green-api.com/waInstance?x=1&y=\"2\"";
    row.status.last_error = "ünïcode error";
  }
  SUBCASE("a short token") { row.instance.token = "abc"; }
  CHECK(direct(row) == api::toJsonText(*api::instanceToJson(row)));
}

namespace {
// The ApiError instanceFromJson / instancePatchFromJson raised, or status 0.
template <typename F>
api::ApiError raised(F&& f) {
  try {
    f();
  } catch (const api::ApiError& e) {
    return e;
  }
  return api::ApiError(0, "", "");
}
Poco::Dynamic::Var body(const std::string& api_url_field) {
  return api::parseJsonBody(R"({"id":1101000001,"token":")" + std::string(50, 'a') + "\"" +
                            api_url_field + "}");
}
}  // namespace

TEST_CASE("an apiUrl outside upstream.allowed_hosts is a 422 on the apiUrl field") {
  const greenapi::UpstreamHostPolicy green;  // *.green-api.com, *.greenapi.com
  const std::string fallback = "https://api.green-api.com";
  for (const char* url :
       {"http://127.0.0.1:9", "http://2130706433", "http://0x7f.1", "http://[::1]",
        "http://[::ffff:127.0.0.1]", "https://localhost", "https://169.254.169.254",
        "https://0.0.0.0", "https://10.0.0.5", "https://evil.example", "http://api.green-api.com",
        "https://user@api.green-api.com", "gopher://api.green-api.com"}) {
    const auto e = raised([&] {
      api::instanceFromJson(body(fmt::format(R"(,"apiUrl":"{}")", url)), "[2].", fallback, green);
    });
    CHECK_MESSAGE(e.status() == 422, url);
    CHECK(e.field() == "[2].apiUrl");
    const auto p = raised([&] {
      api::instancePatchFromJson(api::parseJsonBody(fmt::format(R"({{"apiUrl":"{}"}})", url)),
                                 green);
    });
    CHECK(p.status() == 422);
    CHECK(p.field() == "apiUrl");
  }
  const auto e = raised(
      [&] { api::instanceFromJson(body(R"(,"apiUrl":"http://0x7f.1:9")"), "", fallback, green); });
  CHECK(std::string(e.what()) ==
        "apiUrl loopback address 127.0.0.1 is not in upstream.allowed_hosts (*.green-api.com, "
        "*.greenapi.com)");
}

TEST_CASE("an admitted apiUrl is stored normalised, and the default applies when none is sent") {
  const auto loopback = greenapi::UpstreamHostPolicy::parse("127.0.0.0/8, localhost").value();
  auto in = api::instanceFromJson(body(R"(,"apiUrl":"HTTP://2130706433:9090/")"), "",
                                  "http://localhost:9", loopback);
  CHECK(in.api_url == "http://127.0.0.1:9090");
  in = api::instanceFromJson(body(""), "", "http://localhost:9", loopback);
  CHECK(in.api_url == "http://localhost:9");
  const auto patch = api::instancePatchFromJson(
      api::parseJsonBody(R"({"apiUrl":"https://7103.API.greenapi.com/"})"),
      greenapi::UpstreamHostPolicy());
  CHECK(patch.api_url == "https://7103.api.greenapi.com");
}

TEST_CASE("a batch's apiUrl admission normalises like one item and never remembers a refusal") {
  const auto loopback = greenapi::UpstreamHostPolicy::parse("127.0.0.0/8, localhost").value();
  api::ApiUrlAdmission admission(loopback);
  CHECK(admission.admit("HTTP://2130706433:9090/", "[0].apiUrl") == "http://127.0.0.1:9090");
  CHECK(admission.admit("HTTP://2130706433:9090/", "[1].apiUrl") == "http://127.0.0.1:9090");
  for (int i = 0; i < 2; ++i) {  // refused every time, each item's field named
    const auto field = fmt::format("[{}].apiUrl", 2 + i);
    const auto e = raised([&] { admission.admit("https://evil.example", field); });
    CHECK(e.status() == 422);
    CHECK(e.field() == field);
  }
  CHECK(admission.admit("http://localhost:9", "[4].apiUrl") == "http://localhost:9");
  CHECK(admission.admit("HTTP://2130706433:9090/", "[5].apiUrl") == "http://127.0.0.1:9090");
}
