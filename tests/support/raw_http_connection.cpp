#include "support/raw_http_connection.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <fstream>
#include <stdexcept>

#include <Poco/Net/SocketAddress.h>
#include <Poco/NumberParser.h>
#include <Poco/String.h>

namespace greenfleet::testing {

RawHttpConnection::RawHttpConnection(int port, int timeout_s)
    : socket_(Poco::Net::SocketAddress("127.0.0.1", static_cast<Poco::UInt16>(port))) {
  socket_.setReceiveTimeout(Poco::Timespan(timeout_s, 0));
}

void RawHttpConnection::send(const std::string& bytes) {
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    const int n = socket_.sendBytes(bytes.data() + sent, static_cast<int>(bytes.size() - sent));
    if (n <= 0) throw std::runtime_error("send failed");
    sent += static_cast<std::size_t>(n);
  }
}

void RawHttpConnection::sendRequest(const std::string& method, const std::string& path,
                                    const std::string& body) {
  std::string request = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  if (!body.empty()) {
    request +=
        "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  }
  send(request + "\r\n" + body);
}

void RawHttpConnection::fill() {
  char buf[16384];
  const int n = socket_.receiveBytes(buf, sizeof buf);
  if (n <= 0) throw std::runtime_error("connection closed by the server");
  buffer_.append(buf, static_cast<std::size_t>(n));
}

RawResponse RawHttpConnection::readResponse() {
  std::size_t head_end;
  while ((head_end = buffer_.find("\r\n\r\n")) == std::string::npos) fill();
  RawResponse r;
  const std::string head = buffer_.substr(0, head_end);
  buffer_.erase(0, head_end + 4);
  std::size_t line_end = head.find("\r\n");
  r.status_line = head.substr(0, line_end);
  if (r.status_line.size() >= 12) r.status = Poco::NumberParser::parse(r.status_line.substr(9, 3));
  while (line_end != std::string::npos) {
    const std::size_t start = line_end + 2;
    line_end = head.find("\r\n", start);
    const std::string line =
        head.substr(start, line_end == std::string::npos ? std::string::npos : line_end - start);
    const auto colon = line.find(':');
    if (colon != std::string::npos) {
      r.headers.add(line.substr(0, colon), Poco::trim(line.substr(colon + 1)));
    }
  }
  const std::size_t length = static_cast<std::size_t>(
      Poco::NumberParser::parseUnsigned64(r.headers.get("Content-Length", "0")));
  while (buffer_.size() < length) fill();
  r.body = buffer_.substr(0, length);
  buffer_.erase(0, length);
  return r;
}

long raiseOpenFileLimit(long count) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return -1;
  if (limit.rlim_cur < static_cast<rlim_t>(count)) {
    limit.rlim_cur = std::min(limit.rlim_max, static_cast<rlim_t>(count));
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
  return static_cast<long>(limit.rlim_cur);
}

int threadCount(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("Threads:", 0) == 0) return std::stoi(line.substr(8));
  }
  return -1;
}

}  // namespace greenfleet::testing
