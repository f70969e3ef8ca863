#include <doctest/doctest.h>

#include <string>

#include "api/api_request.hpp"
#include "api/instance_json.hpp"
#include "fleet/time_format.hpp"

using namespace greenfleet;

namespace {

store::InstanceRow plainRow() {
  store::InstanceRow row;
  row.instance.id = 1101000001;
  row.instance.api_url = "http://127.0.0.1:9090";
  row.instance.token = std::string(50, 'c');
  row.instance.name = "bench-1";
  row.instance.tags = {"bench"};
  row.instance.created_at = row.instance.updated_at = fleet::fromUnixMillis(1767225600123);
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
