// front_compare MODE PORT BODYFILE: the two HTTP fronts issue 12 weighed, serving the same answer
// on 127.0.0.1:PORT so bench/scenarios/front_compare.sh can load both alike. GET
// /api/v1/summary answers BODYFILE's bytes as application/json; anything else is a JSON 404.
//   event  greenfleet's http::EventServer (epoll loop, heads parsed by Poco), answered on the loop
//          from admit() as greenfleet's fast path does; greenfleet's default timeouts and workers.
//   mhd    libmicrohttpd, one internal epoll thread (MHD_USE_TURBO), responses created once.
// Both accept 20,000 connections in all and from one address. Prints "listening on URL" when
// ready; stops on SIGTERM or SIGINT.

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>

#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <string>

#include "http/event_server.hpp"

namespace {

constexpr const char* kPath = "/api/v1/summary";
constexpr std::size_t kMaxConnections = 20000;
const std::string kNotFound = R"({"error":{"code":"not_found","message":"no such route"}})";

class SummaryHandler : public greenfleet::http::Handler {
 public:
  explicit SummaryHandler(std::string body)
      : body_(std::make_shared<const std::string>(std::move(body))) {}

  greenfleet::http::Admission admit(greenfleet::http::Request& request) override {
    using greenfleet::http::Admission;
    using greenfleet::http::Response;
    if (request.method == "GET" && request.uri == kPath) {
      Response r;
      r.content_type = "application/json";
      r.shared_body = body_;
      return Admission::answered(std::move(r));
    }
    return Admission::answered(Response::text(404, "application/json", kNotFound));
  }

  void handle(greenfleet::http::Request, greenfleet::http::Exchange exchange) override {
    exchange.respond(greenfleet::http::Response::text(500, "text/plain", "not reached\n"));
  }

 private:
  std::shared_ptr<const std::string> body_;
};

struct MhdAnswers {
  MHD_Response* summary = nullptr;
  MHD_Response* not_found = nullptr;
};

// Answers on the second call, once MHD has the whole request: a response queued on the first
// call (before MHD knows there is no body) makes 0.9.75 close the connection after it.
MHD_Result answerMhd(void* cls, MHD_Connection* connection, const char* url, const char* method,
                     const char*, const char*, size_t* upload_size, void** state) {
  static int seen = 0;
  if (*state == nullptr) {
    *state = &seen;
    return MHD_YES;
  }
  if (*upload_size != 0) {
    *upload_size = 0;  // a body: discarded
    return MHD_YES;
  }
  const auto* answers = static_cast<const MhdAnswers*>(cls);
  if (std::strcmp(method, "GET") == 0 && std::strcmp(url, kPath) == 0) {
    return MHD_queue_response(connection, MHD_HTTP_OK, answers->summary);
  }
  return MHD_queue_response(connection, MHD_HTTP_NOT_FOUND, answers->not_found);
}

MHD_Response* persistentJson(const std::string& bytes) {
  MHD_Response* r = MHD_create_response_from_buffer(bytes.size(), const_cast<char*>(bytes.data()),
                                                    MHD_RESPMEM_PERSISTENT);
  if (r != nullptr) MHD_add_response_header(r, "Content-Type", "application/json");
  return r;
}

void waitForStop(const sigset_t& signals) {
  int received = 0;
  sigwait(&signals, &received);
}

int runEvent(int port, std::string body, const sigset_t& signals) {
  SummaryHandler handler(std::move(body));
  greenfleet::http::ServerOptions options;
  options.listeners.push_back({"admin", "127.0.0.1", port});
  options.max_connections = kMaxConnections;
  options.max_connections_per_ip = kMaxConnections;
  greenfleet::http::EventServer server(options, handler);
  server.start();
  std::cout << "listening on http://127.0.0.1:" << server.port() << std::endl;
  waitForStop(signals);
  server.stop();
  return 0;
}

int runMhd(int port, const std::string& body, const sigset_t& signals) {
  MhdAnswers answers{persistentJson(body), persistentJson(kNotFound)};
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  MHD_Daemon* daemon =
      MHD_start_daemon(MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_TURBO | MHD_USE_ERROR_LOG,
                       static_cast<std::uint16_t>(port), nullptr, nullptr, &answerMhd, &answers,
                       MHD_OPTION_SOCK_ADDR, &address, MHD_OPTION_CONNECTION_TIMEOUT, 10u,
                       MHD_OPTION_CONNECTION_LIMIT, static_cast<unsigned>(kMaxConnections),
                       MHD_OPTION_PER_IP_CONNECTION_LIMIT, static_cast<unsigned>(kMaxConnections),
                       MHD_OPTION_LISTEN_BACKLOG_SIZE, 4096u, MHD_OPTION_END);
  if (daemon == nullptr || answers.summary == nullptr || answers.not_found == nullptr) {
    std::cerr << "front_compare: libmicrohttpd did not start on port " << port << "\n";
    return 1;
  }
  std::cout << "listening on http://127.0.0.1:" << port << std::endl;
  waitForStop(signals);
  MHD_stop_daemon(daemon);
  MHD_destroy_response(answers.summary);
  MHD_destroy_response(answers.not_found);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc == 4 ? argv[1] : "";
  if (mode != "event" && mode != "mhd") {
    std::cerr << "usage: front_compare event|mhd PORT BODYFILE\n";
    return 2;
  }
  std::ifstream file(argv[3], std::ios::binary);
  if (!file) {
    std::cerr << "front_compare: cannot read " << argv[3] << "\n";
    return 2;
  }
  std::string body{std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
  const int port = std::stoi(argv[2]);

  // Blocked before any thread starts, so only sigwait sees them; SIGPIPE is never wanted.
  std::signal(SIGPIPE, SIG_IGN);
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  try {
    return mode == "event" ? runEvent(port, std::move(body), signals) : runMhd(port, body, signals);
  } catch (const std::exception& e) {
    std::cerr << "front_compare: " << e.what() << "\n";
    return 1;
  }
}
