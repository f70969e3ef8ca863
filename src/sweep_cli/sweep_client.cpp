#include "sweep_cli/sweep_client.hpp"

#include <sstream>

#include <Poco/Exception.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/NetException.h>
#include <Poco/StreamCopier.h>
#include <Poco/Timespan.h>
#include <Poco/URI.h>
#include <fmt/format.h>

#include "base/time_format.hpp"
#include "sweep/json_reader.hpp"
#include "sweep/malformed_answer.hpp"
#include "sweep/report_json.hpp"

namespace greenfleet::sweep_cli {

using sweep::JsonReader;
using sweep::MalformedAnswer;

namespace {

Poco::Timespan remaining(SweepClient::Deadline deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::microseconds>(
      deadline - std::chrono::steady_clock::now());
  if (left.count() <= 0) throw SweepTimeout("the deadline passed");
  return Poco::Timespan(left.count());
}

}  // namespace

std::string SweepClient::errorText(const std::string& body) {
  try {
    const JsonReader error(JsonReader(JsonReader::parseObject(body), "").object("error"));
    return fmt::format("{}: {}", error.string("code"), error.string("message"));
  } catch (const std::exception&) {
    return body.size() > 200 ? body.substr(0, 200) + "..." : body;
  }
}

SweepClient::SweepClient(const std::string& url, std::string key)
    : url_(url), key_(std::move(key)) {
  Poco::URI uri;
  try {
    uri = Poco::URI(url);
  } catch (const Poco::Exception& e) {
    throw std::invalid_argument(fmt::format("--url '{}' is not a URL: {}", url, e.message()));
  }
  if (uri.getScheme() != "http") {
    throw std::invalid_argument(
        fmt::format("--url must start with http:// (got '{}'); https is not supported", url));
  }
  if (uri.getHost().empty())
    throw std::invalid_argument(fmt::format("--url '{}' has no host", url));
  host_ = uri.getHost();
  port_ = uri.getPort();
  prefix_ = uri.getPath();
  while (!prefix_.empty() && prefix_.back() == '/') prefix_.pop_back();
}

SweepClient::Answer SweepClient::send(const std::string& method, const std::string& path,
                                      const std::string& body, Deadline deadline) const {
  try {
    Poco::Net::HTTPClientSession session(host_, port_);
    const auto left = remaining(deadline);
    session.setTimeout(left, left, left);
    Poco::Net::HTTPRequest request(method, prefix_ + path, Poco::Net::HTTPMessage::HTTP_1_1);
    request.set("Authorization", "Bearer " + key_);
    request.set("Accept", "application/json");
    if (!body.empty()) {
      request.setContentType("application/json");
      request.setContentLength(static_cast<std::streamsize>(body.size()));
    }
    std::ostream& out = session.sendRequest(request);
    out << body;
    Poco::Net::HTTPResponse response;
    std::istream& in = session.receiveResponse(response);
    Answer answer;
    answer.status = static_cast<int>(response.getStatus());
    Poco::StreamCopier::copyToString(in, answer.body);
    return answer;
  } catch (const SweepFailure&) {
    throw;
  } catch (const Poco::TimeoutException&) {
    throw SweepTimeout(fmt::format("{} {}{} did not answer in time", method, url_, path));
  } catch (const Poco::Exception& e) {
    throw SweepFailure(fmt::format("cannot reach {}: {}", url_, e.displayText()));
  } catch (const std::exception& e) {
    throw SweepFailure(fmt::format("cannot reach {}: {}", url_, e.what()));
  }
}

void SweepClient::fail(const std::string& what, const Answer& answer) const {
  if (answer.status == 401) {
    throw SweepFailure(
        fmt::format("{}: the server rejected the API key (401); check --key-file", what));
  }
  if (answer.status == 403) {
    throw SweepFailure(fmt::format(
        "{}: the key may not do this (403); --fresh needs an admin key, --cached a read key",
        what));
  }
  if (answer.status == 404 || answer.status == 405) {
    throw SweepFailure(fmt::format("{}: HTTP {} ({}); is {} a greenfleet server with sweeps?", what,
                                   answer.status, errorText(answer.body), url_));
  }
  throw SweepFailure(fmt::format("{}: HTTP {} ({})", what, answer.status, errorText(answer.body)));
}

sweep::SweepRun SweepClient::start(const sweep::SweepFilter& filter, Deadline deadline) const {
  std::ostringstream body;
  toJson(filter)->stringify(body);
  const auto answer = send("POST", "/api/v1/sweeps", body.str(), deadline);
  if (answer.status != 202 && answer.status != 201 && answer.status != 200) {
    fail("starting a sweep", answer);
  }
  try {
    return sweep::sweepRunFromJson(JsonReader(JsonReader::parseObject(answer.body), ""));
  } catch (const MalformedAnswer& e) {
    throw SweepFailure(fmt::format("malformed answer to POST /api/v1/sweeps: {}", e.what()));
  }
}

sweep::SweepRun SweepClient::get(std::int64_t id, Deadline deadline) const {
  const std::string path = fmt::format("/api/v1/sweeps/{}", id);
  const auto answer = send("GET", path, "", deadline);
  if (answer.status != 200) fail(fmt::format("reading sweep #{}", id), answer);
  try {
    return sweep::sweepRunFromJson(JsonReader(JsonReader::parseObject(answer.body), ""));
  } catch (const MalformedAnswer& e) {
    throw SweepFailure(fmt::format("malformed answer to GET {}: {}", path, e.what()));
  }
}

CachedReport SweepClient::cachedReport(const std::optional<std::string>& tag,
                                       Deadline deadline) const {
  std::string path = "/api/v1/report";
  if (tag) {
    std::string encoded;
    Poco::URI::encode(*tag, "&=+?#/", encoded);
    path += "?tag=" + encoded;
  }
  const auto answer = send("GET", path, "", deadline);
  if (answer.status != 200) fail("reading the stored report", answer);
  try {
    const JsonReader in(JsonReader::parseObject(answer.body), "");
    CachedReport out;
    const auto at = base::parseRfc3339(in.string("generatedAt"));
    if (!at) throw MalformedAnswer("generatedAt", "not an RFC 3339 UTC time");
    out.generated_at = *at;
    out.report = sweep::reportFromJson(in.object("report"));
    return out;
  } catch (const MalformedAnswer& e) {
    throw SweepFailure(fmt::format("malformed answer to GET {}: {}", path, e.what()));
  }
}

}  // namespace greenfleet::sweep_cli
