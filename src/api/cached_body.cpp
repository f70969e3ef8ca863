#include "api/cached_body.hpp"

#include <cstdint>
#include <sstream>

#include <Poco/DeflatingStream.h>
#include <Poco/StringTokenizer.h>
#include <fmt/format.h>

namespace greenfleet::api {

namespace {
// FNV-1a: fast and well spread; an ETag needs to change with the bytes, not to resist attack.
std::string hashTag(const std::string& bytes) {
  std::uint64_t h = 1469598103934665603ULL;
  for (const unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return fmt::format("\"{:016x}\"", h);
}
}  // namespace

CachedBody::CachedBody(std::string body) : body_(std::move(body)), etag_(hashTag(body_)) {}

const std::string& CachedBody::gzipped() const {
  std::call_once(gzip_once_, [this] {
    std::ostringstream out;
    {
      Poco::DeflatingOutputStream deflate(out, Poco::DeflatingStreamBuf::STREAM_GZIP, 6);
      deflate.write(body_.data(), static_cast<std::streamsize>(body_.size()));
      deflate.close();
    }
    gzip_ = out.str();
    gzip_ready_.store(true, std::memory_order_release);
  });
  return gzip_;
}

bool etagMatches(const std::string& if_none_match, const std::string& etag) {
  const Poco::StringTokenizer tags(
      if_none_match, ",",
      Poco::StringTokenizer::TOK_TRIM | Poco::StringTokenizer::TOK_IGNORE_EMPTY);
  for (const auto& tag : tags) {
    if (tag == "*" || tag == etag) return true;
    if (tag.rfind("W/", 0) == 0 && tag.substr(2) == etag) return true;
  }
  return false;
}

}  // namespace greenfleet::api
