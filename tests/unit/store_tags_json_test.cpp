#include <doctest/doctest.h>

#include <string>
#include <vector>

#include <Poco/Exception.h>

#include "store/tags_json.hpp"

using greenfleet::store::decodeTags;
using greenfleet::store::decodeTagsInto;
using greenfleet::store::encodeTags;

TEST_CASE("tags are stored as a JSON array of strings and read back unchanged") {
  const std::vector<std::vector<std::string>> cases = {
      {},
      {"bench"},
      {"eu", "shop 7", "ünïcode"},
      {"quote\"d", "back\\slash", "line\nbreak", "tab\there", std::string("ctl\x01", 4)},
  };
  for (const auto& tags : cases) CHECK(decodeTags(encodeTags(tags)) == tags);
  CHECK(encodeTags({}) == "[]");
  CHECK(encodeTags({"a", "b"}) == R"(["a","b"])");
  CHECK(encodeTags({"a\"b"}) == R"(["a\"b"])");
}

TEST_CASE("tags written by another JSON writer (spacing, escapes) read the same") {
  CHECK(decodeTags(R"( [ "a" , "b" ] )") == std::vector<std::string>{"a", "b"});
  CHECK(decodeTags(R"(["a\/b","\u00e9"])") == std::vector<std::string>{"a/b", "é"});
  CHECK(decodeTags("[]").empty());
  CHECK(decodeTags(" [ ] ").empty());
}

TEST_CASE("decoding into a used vector replaces its contents") {
  std::vector<std::string> tags = {"old", "older", "oldest"};
  decodeTagsInto(R"(["new"])", tags);
  CHECK(tags == std::vector<std::string>{"new"});
  decodeTagsInto("[]", tags);
  CHECK(tags.empty());
}

TEST_CASE("a tags column that is not a JSON array throws") {
  CHECK_THROWS_AS(decodeTags("not json"), Poco::Exception);
  CHECK_THROWS_AS(decodeTags(R"({"a":1})"), Poco::Exception);
  CHECK_THROWS_AS(decodeTags(R"(["unterminated)"), Poco::Exception);
}
