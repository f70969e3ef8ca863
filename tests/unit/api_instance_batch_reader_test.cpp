#include <doctest/doctest.h>

#include <string>

#include <Poco/JSON/Array.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "api/api_error.hpp"
#include "api/instance_batch_reader.hpp"
#include "api/instance_json.hpp"
#include "api/json_fields.hpp"
#include "greenapi/upstream_host_policy.hpp"

using namespace greenfleet;
using namespace greenfleet::api;

namespace {
constexpr const char* kUrl = "http://127.0.0.1:9090";
const std::string kToken(50, 'c');

const greenapi::UpstreamHostPolicy& loopback() {
  static const auto policy = greenapi::UpstreamHostPolicy::parse("127.0.0.0/8, localhost").value();
  return policy;
}

std::string item(const std::string& fields) {
  return R"({"id":1101000001,"token":")" + kToken + "\"" + fields + "}";
}

// What the tree path makes of item [index] of the text, or its error as "status code field".
std::string viaTree(const std::string& body, std::size_t index) {
  try {
    const auto arr = parseJsonBody(body).extract<Poco::JSON::Array::Ptr>();
    const auto in = instanceFromJson(arr->get(static_cast<unsigned>(index)),
                                     fmt::format("[{}].", index), kUrl, loopback());
    return fmt::format("{}|{}|{}|{}|{}|{}", in.id, in.token, in.api_url, in.name,
                       fmt::join(in.tags, ","), in.enabled);
  } catch (const ApiError& e) {
    return fmt::format("{} {} {} {}", e.status(), e.code(), e.field().value_or("-"), e.what());
  }
}

std::string viaReader(const std::string& body, std::size_t index) {
  auto items = readInstanceBatch(body, 10000);
  REQUIRE(items.has_value());
  try {
    ApiUrlAdmission admission(loopback());
    const auto in = instanceFromBatchItem((*items)[index], index, kUrl, admission);
    return fmt::format("{}|{}|{}|{}|{}|{}", in.id, in.token, in.api_url, in.name,
                       fmt::join(in.tags, ","), in.enabled);
  } catch (const ApiError& e) {
    return fmt::format("{} {} {} {}", e.status(), e.code(), e.field().value_or("-"), e.what());
  }
}
}  // namespace

TEST_CASE("the batch reader takes a plain array of instances, null as absent") {
  const std::string body =
      "[" + item(R"(,"apiUrl":"http://h:1/","name":"a \"q\"","tags":["x","y"])") + "," +
      R"({"token":")" + kToken + R"(","id":7,"enabled":false,"name":null,"tags":[]})" + "]";
  const auto items = readInstanceBatch(body, 10000);
  REQUIRE(items.has_value());
  REQUIRE(items->size() == 2);
  CHECK((*items)[0].id == 1101000001);
  CHECK((*items)[0].name == "a \"q\"");
  CHECK((*items)[0].tags == std::vector<std::string>{"x", "y"});
  CHECK_FALSE((*items)[0].enabled.has_value());
  CHECK((*items)[1].id == 7);
  CHECK_FALSE((*items)[1].name.has_value());
  CHECK((*items)[1].enabled == false);
  CHECK((*items)[1].tags->empty());
}

TEST_CASE("anything but the plain case goes to the tree path") {
  for (const std::string& body : std::vector<std::string>{
           std::string("{\"id\":1}"),                      // one object, not a batch
           std::string("[]"),                              // empty: the tree path's 422
           "[" + item(R"(,"bogus":1)") + "]",              // unknown field
           "[" + item(R"(,"id":2)") + "]",                 // duplicate key
           R"([{"id":"1","token":"t"}])",                  // id as a string
           R"([{"id":1.5,"token":"t"}])",                  // id as a double
           R"([{"id":9223372036854775808,"token":"t"}])",  // beyond int64
           R"([{"id":1,"token":5}])",                      // token as a number
           "[" + item(R"(,"tags":["a",1])") + "]",         // a tag not a string
           "[" + item(R"(,"tags":[null])") + "]",          // a null tag
           "[" + item(R"(,"tags":"a")") + "]",             // tags not an array
           "[" + item(R"(,"enabled":"yes")") + "]",        // enabled not a boolean
           "[" + item(R"(,"name":{"a":1})") + "]",         // nested object
           "[" + item("") + ",null]",                      // an item not an object
           "[" + item("") + ",[1]]",                       // an item an array
           "[" + item("") + "",                            // unterminated
           "[" + item("") + "] x",                         // trailing garbage
       }) {
    CAPTURE(body);
    CHECK_FALSE(readInstanceBatch(body, 10000).has_value());
  }
  const std::string two = "[" + item("") + "," + item("") + "]";
  CHECK(readInstanceBatch(two, 2).has_value());
  CHECK_FALSE(readInstanceBatch(two, 1).has_value());  // over the cap: the tree path's 422
}

TEST_CASE("a batch item gives the instance and the error the tree path gives") {
  for (const std::string& fields : std::vector<std::string>{
           std::string(""),
           std::string(R"(,"apiUrl":"HTTP://LocalHost:9/","name":"shop","tags":["b","a","b"])"),
           std::string(R"(,"apiUrl":"https://example.com")"),  // 422: not an allowed host
           std::string(R"(,"enabled":false,"apiUrl":null)"),
           std::string(R"(,"apiUrl":"ftp://x")"),                       // 422 apiUrl
           std::string(R"(,"name":")") + std::string(201, 'n') + "\"",  // 422 name
           std::string(R"(,"tags":[""])"),                              // 422 tags[0]
       }) {
    const std::string body = "[" + item("") + "," + item(fields) + "]";
    CAPTURE(body);
    CHECK(viaReader(body, 1) == viaTree(body, 1));
  }
  for (const std::string& body : std::vector<std::string>{
           std::string(R"([{"id":0,"token":")") + kToken + "\"}]",  // 422 id
           std::string(R"([{"token":")") + kToken + "\"}]",         // 400 missing id
           std::string(R"([{"id":5,"token":""}])"),                 // 422 token
           std::string(R"([{"id":5}])"),                            // 400 missing token
           std::string(R"([{"id":5,"token":null}])"),
       }) {
    CAPTURE(body);
    CHECK(viaReader(body, 0) == viaTree(body, 0));
  }
}
