#include "http/message.hpp"

#include <Poco/Net/HTTPResponse.h>
#include <Poco/String.h>

namespace greenfleet::http {

const std::string& Request::header(const std::string& name) const {
  static const std::string kEmpty;
  const auto it = headers.find(name);
  return it == headers.end() ? kEmpty : it->second;
}

Response Response::text(int status, std::string content_type, std::string body) {
  Response r;
  r.status = status;
  r.content_type = std::move(content_type);
  r.body = std::move(body);
  return r;
}

bool Response::has(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k.size() == name.size() && Poco::icompare(k, std::string(name)) == 0) return true;
  }
  return false;
}

std::string_view reasonPhrase(int status) {
  switch (status) {
    // Green API answers 466 for a used-up quota; no standard phrase exists.
    case 466:
      return "Quota Exceeded";
    default:
      break;
  }
  const std::string& r = Poco::Net::HTTPResponse::getReasonForStatus(
      static_cast<Poco::Net::HTTPResponse::HTTPStatus>(status));
  if (r == "???" || r.empty()) return "Unknown";
  return r;
}

}  // namespace greenfleet::http
