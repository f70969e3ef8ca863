#include "support/sse_client.hpp"

#include <algorithm>
#include <istream>
#include <sstream>

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>

namespace greenfleet::testing {

namespace {
std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// Splits "field: value" as the SSE spec does: one optional space after the colon is dropped.
void splitField(const std::string& line, std::string& field, std::string& value) {
  const auto colon = line.find(':');
  if (colon == std::string::npos) {
    field = line;
    value.clear();
    return;
  }
  field = line.substr(0, colon);
  value = line.substr(colon + 1);
  if (!value.empty() && value[0] == ' ') value.erase(0, 1);
}
}  // namespace

SseClient::SseClient(const std::string& host, int port, SseOptions options) {
  session_ = std::make_unique<Poco::Net::HTTPClientSession>(host, static_cast<Poco::UInt16>(port));
  const Poco::Timespan head_timeout(options.connect_timeout.count() * 1000);
  session_->setTimeout(head_timeout, head_timeout, head_timeout);
  Poco::Net::HTTPRequest req("GET", options.path, Poco::Net::HTTPMessage::HTTP_1_1);
  req.set("Accept", "text/event-stream");
  if (!options.bearer.empty()) req.set("Authorization", "Bearer " + options.bearer);
  if (options.last_event_id) req.set("Last-Event-ID", *options.last_event_id);
  for (const auto& [k, v] : options.headers) req.set(k, v);
  session_->sendRequest(req);
  Poco::Net::HTTPResponse res;
  std::istream& in = session_->receiveResponse(res);
  status_ = static_cast<int>(res.getStatus());
  for (const auto& [k, v] : res) headers_[lower(k)] = v;
  if (status_ != 200) {
    std::ostringstream body;
    Poco::StreamCopier::copyStream(in, body);
    body_ = body.str();
    eof_ = true;
    return;
  }
  in_ = &in;
  // Idle streams are fine (the server sends heartbeats); close() ends a blocked read.
  session_->socket().setReceiveTimeout(Poco::Timespan(120, 0));
  reader_ = std::thread([this] { readLoop(); });
}

SseClient::~SseClient() { close(); }

std::string SseClient::header(const std::string& name) const {
  const auto it = headers_.find(lower(name));
  return it == headers_.end() ? std::string() : it->second;
}

void SseClient::readLoop() {
  SseFrame frame;
  bool has_content = false;
  std::string line;
  try {
    while (std::getline(*in_, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.empty()) {
        if (has_content) {
          std::lock_guard lock(mutex_);
          frames_.push_back(std::move(frame));
          ready_.notify_all();
        }
        frame = SseFrame{};
        has_content = false;
        continue;
      }
      has_content = true;
      if (line[0] == ':') {
        std::string text = line.substr(1);
        if (!text.empty() && text[0] == ' ') text.erase(0, 1);
        frame.comments.push_back(std::move(text));
        continue;
      }
      std::string field, value;
      splitField(line, field, value);
      if (field == "id") {
        frame.id = value;
      } else if (field == "event") {
        frame.event = value;
      } else if (field == "data") {
        frame.data += (frame.data.empty() ? "" : "\n") + value;
      } else if (field == "retry") {
        frame.retry = std::stoll(value);
      }
    }
  } catch (const std::exception&) {
    // Socket shut down by close(), reset by the server, or a timeout: the stream is over.
  }
  std::lock_guard lock(mutex_);
  eof_ = true;
  ready_.notify_all();
}

std::optional<SseFrame> SseClient::next(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  ready_.wait_for(lock, timeout, [this] { return !frames_.empty() || eof_; });
  if (frames_.empty()) return std::nullopt;
  SseFrame f = std::move(frames_.front());
  frames_.pop_front();
  return f;
}

std::optional<SseFrame> SseClient::nextEvent(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    auto f = next(std::max(left, std::chrono::milliseconds(0)));
    if (!f) return std::nullopt;
    if (f->isEvent()) return f;
  }
}

bool SseClient::ended() {
  std::lock_guard lock(mutex_);
  return eof_ && frames_.empty();
}

bool SseClient::waitForEnd(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  const bool over = ready_.wait_for(lock, timeout, [this] { return eof_; });
  frames_.clear();
  return over;
}

void SseClient::close() {
  if (reader_.joinable()) {
    try {
      session_->socket().shutdown();
    } catch (const std::exception&) {
      // Already closed by the server.
    }
    reader_.join();
  }
  session_.reset();
}

}  // namespace greenfleet::testing
