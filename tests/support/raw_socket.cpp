#include "support/raw_socket.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <Poco/NumberParser.h>
#include <Poco/String.h>

namespace greenfleet::testing {

namespace {
sockaddr_in loopback(const std::string& address, int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  if (::inet_pton(AF_INET, address.c_str(), &a.sin_addr) != 1 ||
      (ntohl(a.sin_addr.s_addr) >> 24) != 127) {
    throw std::invalid_argument("RawSocket talks to loopback addresses only: " + address);
  }
  return a;
}

int millis(std::chrono::steady_clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  return static_cast<int>(std::max<long long>(0, left.count()));
}
}  // namespace

RawSocket::RawSocket(int port, const std::string& source) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  if (!source.empty()) {
    const sockaddr_in from = loopback(source, 0);
    if (::bind(fd_, reinterpret_cast<const sockaddr*>(&from), sizeof from) != 0) {
      ::close(fd_);
      throw std::runtime_error(std::string("bind: ") + std::strerror(errno));
    }
  }
  const sockaddr_in to = loopback("127.0.0.1", port);
  if (::connect(fd_, reinterpret_cast<const sockaddr*>(&to), sizeof to) != 0) {
    const int e = errno;
    ::close(fd_);
    throw std::runtime_error(std::string("connect: ") + std::strerror(e));
  }
}

RawSocket::~RawSocket() {
  if (fd_ >= 0) ::close(fd_);
}

bool RawSocket::send(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      closed_ = true;
      return false;
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

std::string RawSocket::receive(std::chrono::milliseconds timeout, std::string_view until) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string out = std::move(pending_);
  pending_.clear();
  while (until.empty() || out.find(until) == std::string::npos) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, millis(deadline)) <= 0) break;
    char buf[16384];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) {
      closed_ = true;
      break;
    }
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

std::string RawSocket::receiveResponse(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string data = receive(timeout, "\r\n\r\n");
  const auto head_end = data.find("\r\n\r\n");
  if (head_end == std::string::npos) return {};
  std::size_t length = 0;
  const auto at = data.find("Content-Length: ");
  if (at != std::string::npos && at < head_end) length = std::stoul(data.substr(at + 16));
  const std::size_t total = head_end + 4 + length;
  while (data.size() < total && !closed_) {
    const auto more = receive(std::chrono::milliseconds(millis(deadline)), "");
    if (more.empty()) break;
    data += more;
  }
  if (data.size() < total) return {};
  pending_ = data.substr(total);
  data.resize(total);
  return data;
}

void RawSocket::sendRequest(const std::string& method, const std::string& path,
                            const std::string& body) {
  std::string request = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  if (!body.empty()) {
    request +=
        "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  }
  if (!send(request + "\r\n" + body)) throw std::runtime_error("send failed: connection closed");
}

RawResponse RawSocket::readResponse(std::chrono::milliseconds timeout) {
  const std::string raw = receiveResponse(timeout);
  if (raw.empty()) throw std::runtime_error("no complete response: connection closed or timed out");
  const std::size_t head_end = raw.find("\r\n\r\n");
  const std::string head = raw.substr(0, head_end);
  RawResponse r;
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
  r.body = raw.substr(head_end + 4);
  return r;
}

bool RawSocket::closedByPeer(std::chrono::milliseconds wait) {
  if (closed_) return true;
  const auto deadline = std::chrono::steady_clock::now() + wait;
  while (true) {
    pollfd p{fd_, POLLIN, 0};
    const int ready = ::poll(&p, 1, millis(deadline));
    if (ready <= 0) return false;
    char buf[4096];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
      closed_ = true;
      return true;
    }
  }
}

}  // namespace greenfleet::testing
