#include <sstream>

#include <Poco/InflatingStream.h>
#include <Poco/StreamCopier.h>
#include <doctest/doctest.h>

#include "api/cached_body.hpp"

using greenfleet::api::CachedBody;
using greenfleet::api::etagMatches;

TEST_CASE("CachedBody's ETag follows the bytes") {
  const CachedBody a("{\"n\":1}"), same("{\"n\":1}"), other("{\"n\":2}");
  CHECK(a.etag() == same.etag());
  CHECK(a.etag() != other.etag());
  CHECK(a.etag().front() == '"');
  CHECK(a.etag().back() == '"');
}

TEST_CASE("CachedBody's gzip form inflates back to the body") {
  const CachedBody body(std::string(5000, 'a') + "end");
  const std::string& gz = body.gzipped();
  REQUIRE(gz.size() > 2);
  CHECK(static_cast<unsigned char>(gz[0]) == 0x1f);
  CHECK(static_cast<unsigned char>(gz[1]) == 0x8b);
  CHECK(gz.size() < body.body().size());
  std::istringstream in(gz);
  Poco::InflatingInputStream inflate(in, Poco::InflatingStreamBuf::STREAM_GZIP);
  std::string back;
  Poco::StreamCopier::copyToString(inflate, back);
  CHECK(back == body.body());
}

TEST_CASE("If-None-Match matches a listed, weak or wildcard tag and nothing else") {
  const std::string tag = "\"00000000000000ab\"";
  CHECK(etagMatches(tag, tag));
  CHECK(etagMatches("\"x\", " + tag, tag));
  CHECK(etagMatches("W/" + tag, tag));
  CHECK(etagMatches("*", tag));
  CHECK_FALSE(etagMatches("", tag));
  CHECK_FALSE(etagMatches("\"00000000000000ac\"", tag));
}
