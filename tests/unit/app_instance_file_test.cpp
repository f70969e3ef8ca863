#include <doctest/doctest.h>

#include "app/instance_file.hpp"

using namespace greenfleet::app;

namespace {
const std::string kToken(50, 'a');
const std::string kDefault = "https://api.green-api.com";
const auto kHosts =
    greenfleet::greenapi::UpstreamHostPolicy::parse("*.green-api.com, 127.0.0.1").value();
}  // namespace

TEST_CASE("a JSON instance file reports each bad item at the line it starts on") {
  const std::string text =
      "[\n  {\"id\": 1, \"token\": \"" + kToken +
      "\",\n   \"name\": \"a, [b]\"},\n  {\"id\": 2,\n   \"token\": \"bad token\"},\n"
      "  {\"id\": 1, \"token\": \"" +
      kToken + "\"}\n]\n";
  const auto parsed = parseInstanceFile(text, InstanceFileFormat::json, kDefault, kHosts);
  REQUIRE(parsed.rows.size() == 1);
  CHECK(parsed.rows[0].line == 2);
  CHECK(parsed.rows[0].instance.name == "a, [b]");
  CHECK(parsed.rows[0].instance.api_url == kDefault);
  REQUIRE(parsed.errors.size() == 2);
  CHECK(parsed.errors[0].line == 4);
  CHECK(parsed.errors[0].message.find("token") != std::string::npos);
  CHECK(parsed.errors[1].line == 6);
  CHECK(parsed.errors[1].message == "instance 1 is already on line 2");
}

TEST_CASE("NDJSON and CSV instance files give the same instances, with line numbers") {
  const std::string ndjson = "{\"id\":5,\"token\":\"" + kToken +
                             "\",\"tags\":[\"x\",\"y\"],\"name\":\"n\"}\n\n{\"id\":\"6\"}\n";
  auto parsed = parseInstanceFile(ndjson, InstanceFileFormat::ndjson, kDefault, kHosts);
  REQUIRE(parsed.rows.size() == 1);
  REQUIRE(parsed.errors.size() == 1);
  CHECK(parsed.errors[0].line == 3);

  const std::string csv = "id,token,name,tags,apiUrl\n5," + kToken +
                          ",\"n\",x;y,\n\"6\",t,\"two\nlines\",,\nseven," + kToken + ",,,\n";
  const auto from_csv = parseInstanceFile(csv, InstanceFileFormat::csv, kDefault, kHosts);
  REQUIRE(from_csv.rows.size() == 1);
  CHECK(from_csv.rows[0].instance.tags == parsed.rows[0].instance.tags);
  CHECK(from_csv.rows[0].instance.name == "n");
  REQUIRE(from_csv.errors.size() == 2);
  CHECK(from_csv.errors[0].line == 3);  // a name with a newline, quoted over two lines
  CHECK(from_csv.errors[0].message.find("name") != std::string::npos);
  CHECK(from_csv.errors[1].line == 5);  // the quoted newline counted
  CHECK(from_csv.errors[1].message.find("'seven'") != std::string::npos);

  const auto bad_header =
      parseInstanceFile("id,secret\n", InstanceFileFormat::csv, kDefault, kHosts);
  REQUIRE(bad_header.errors.size() == 1);
  CHECK(bad_header.errors[0].message.find("unknown column 'secret'") != std::string::npos);
}

TEST_CASE("instance files are written without tokens unless asked, and read back the same") {
  greenfleet::fleet::RegisteredInstance in;
  in.id = 7;
  in.token = kToken;
  in.api_url = "http://127.0.0.1:9";
  in.name = "quote \" and, comma";
  in.tags = {"a", "b"};
  for (const auto format :
       {InstanceFileFormat::json, InstanceFileFormat::ndjson, InstanceFileFormat::csv}) {
    const auto without = formatInstanceFile({in}, format, false);
    CHECK(without.find(kToken) == std::string::npos);
    const auto with = formatInstanceFile({in}, format, true);
    const auto back = parseInstanceFile(with, format, kDefault, kHosts);
    REQUIRE(back.errors.empty());
    REQUIRE(back.rows.size() == 1);
    CHECK(back.rows[0].instance.token == kToken);
    CHECK(back.rows[0].instance.name == in.name);
    CHECK(back.rows[0].instance.tags == in.tags);
    CHECK(back.rows[0].instance.api_url == in.api_url);
  }
  CHECK(detectInstanceFileFormat("-", "  [") == InstanceFileFormat::json);
  CHECK(detectInstanceFileFormat("-", "{") == InstanceFileFormat::ndjson);
  CHECK(detectInstanceFileFormat("x.csv", "[") == InstanceFileFormat::csv);
}

TEST_CASE(
    "an instance file row whose apiUrl upstream.allowed_hosts refuses is an error on its line") {
  const std::string csv = "id,token,apiUrl\n5," + kToken + ",https://1101.api.green-api.com/\n6," +
                          kToken + ",https://elsewhere.example\n";
  const auto parsed = parseInstanceFile(csv, InstanceFileFormat::csv, kDefault, kHosts);
  REQUIRE(parsed.rows.size() == 1);
  CHECK(parsed.rows[0].instance.api_url == "https://1101.api.green-api.com");
  REQUIRE(parsed.errors.size() == 1);
  CHECK(parsed.errors[0].line == 3);
  CHECK(parsed.errors[0].message.find("apiUrl") != std::string::npos);
  CHECK(parsed.errors[0].message.find("allowed_hosts") != std::string::npos);
}
