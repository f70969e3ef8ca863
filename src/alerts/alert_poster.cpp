#include "alerts/alert_poster.hpp"

#include <curl/curl.h>

#include <fmt/format.h>

#include <memory>

namespace greenfleet::alerts {

namespace {
std::size_t discard(char*, std::size_t size, std::size_t count, void*) { return size * count; }
}  // namespace

PostResult postJson(const std::string& url, const std::string& body,
                    std::chrono::milliseconds timeout) {
  const std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(),
                                                                 curl_easy_cleanup);
  if (!curl) return PostResult{false, 0, "out of memory"};
  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, "Content-Type: application/json");
  headers = curl_slist_append(headers, "Expect:");
  const std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> header_list(
      headers, curl_slist_free_all);
  CURL* h = curl.get();
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, header_list.get());
  curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
  curl_easy_setopt(h, CURLOPT_USERAGENT, "greenfleet-alerts");
  const CURLcode rc = curl_easy_perform(h);
  if (rc != CURLE_OK) {
    // curl's own words; never the URL (a webhook URL carries its secret).
    return PostResult{false, 0,
                      rc == CURLE_OPERATION_TIMEDOUT ? "timeout" : curl_easy_strerror(rc)};
  }
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  const bool ok = status >= 200 && status < 300;
  return PostResult{ok, static_cast<int>(status), ok ? "" : fmt::format("HTTP {}", status)};
}

}  // namespace greenfleet::alerts
