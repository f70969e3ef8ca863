#pragma once
// CachedBody: a rendered response body shared by every request that asks the same question of
// the same fleet snapshot, with what conditional and compressed answers need: a strong ETag
// (a hash of the bytes) and the gzip form, made once on first demand. Immutable once built apart
// from the lazily made gzip bytes; thread-safe.

#include <atomic>
#include <memory>
#include <mutex>
#include <string>

namespace greenfleet::api {

class CachedBody {
 public:
  explicit CachedBody(std::string body);

  const std::string& body() const { return body_; }
  // "\"<16 hex digits>\"": changes whenever the bytes do.
  const std::string& etag() const { return etag_; }
  // The body gzip-compressed (RFC 1952), made on first call.
  const std::string& gzipped() const;
  // Whether gzipped() would answer without compressing (the HTTP loop must not compress).
  bool gzipReady() const { return gzip_ready_.load(std::memory_order_acquire); }

 private:
  const std::string body_;
  const std::string etag_;
  mutable std::once_flag gzip_once_;
  mutable std::string gzip_;
  mutable std::atomic<bool> gzip_ready_{false};
};

// True when an If-None-Match header value names `etag` (a list, weak forms, or "*").
bool etagMatches(const std::string& if_none_match, const std::string& etag);

}  // namespace greenfleet::api
