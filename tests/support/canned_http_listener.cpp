#include "support/canned_http_listener.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace greenfleet::testing {

namespace {
int listenOn(int family, int port) {
  const int fd = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  int ok = -1;
  if (family == AF_INET) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ok = ::bind(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a);
  } else {
    ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    a.sin6_port = htons(static_cast<std::uint16_t>(port));
    a.sin6_addr = in6addr_loopback;
    ok = ::bind(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a);
  }
  if (ok != 0 || ::listen(fd, 64) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}
}  // namespace

CannedHttpListener::CannedHttpListener(std::string response) : response_(std::move(response)) {
  const int v4 = listenOn(AF_INET, 0);
  if (v4 < 0) throw std::runtime_error(std::string("listen: ") + std::strerror(errno));
  sockaddr_in bound{};
  socklen_t len = sizeof bound;
  ::getsockname(v4, reinterpret_cast<sockaddr*>(&bound), &len);
  port_ = ntohs(bound.sin_port);
  fds_.push_back(v4);
  if (const int v6 = listenOn(AF_INET6, port_); v6 >= 0) fds_.push_back(v6);
  thread_ = std::thread([this] { run(); });
}

CannedHttpListener::~CannedHttpListener() {
  stop_ = true;
  thread_.join();
  for (const int fd : fds_) ::close(fd);
}

std::string CannedHttpListener::response(int status, const std::string& reason,
                                         const std::string& body) {
  return "HTTP/1.1 " + std::to_string(status) + " " + reason +
         "\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

void CannedHttpListener::run() {
  std::vector<pollfd> polled;
  for (const int fd : fds_) polled.push_back(pollfd{fd, POLLIN, 0});
  while (!stop_) {
    if (::poll(polled.data(), polled.size(), 50) <= 0) continue;
    for (const auto& p : polled) {
      if ((p.revents & POLLIN) == 0) continue;
      const int conn = ::accept4(p.fd, nullptr, nullptr, SOCK_CLOEXEC);
      if (conn < 0) continue;
      ++accepts_;
      // Read the request head (bounded by a short poll), answer, close.
      std::string head;
      char buf[4096];
      pollfd in{conn, POLLIN, 0};
      while (head.find("\r\n\r\n") == std::string::npos && ::poll(&in, 1, 2000) > 0) {
        const auto n = ::recv(conn, buf, sizeof buf, 0);
        if (n <= 0) break;
        head.append(buf, static_cast<std::size_t>(n));
      }
      [[maybe_unused]] const auto sent =
          ::send(conn, response_.data(), response_.size(), MSG_NOSIGNAL);
      ::close(conn);
    }
  }
}

}  // namespace greenfleet::testing
