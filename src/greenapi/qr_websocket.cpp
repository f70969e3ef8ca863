#include "greenapi/qr_websocket.hpp"

#include <vector>

#include <Poco/Exception.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/DNS.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SecureStreamSocket.h>
#include <Poco/Net/WebSocket.h>
#include <fmt/format.h>

#include "greenapi/ip_address.hpp"
#include "greenapi/upstream_url.hpp"
#include "greenapi/wire_format.hpp"

namespace greenfleet::greenapi {

namespace {

using Failure = QrWebsocket::Failure;

constexpr int kMaxFrameBytes = 256 * 1024;  // a QR PNG in base64 is ~10 KB

Poco::Net::Context::Ptr tlsContext() {
  // Verifies the server's certificate against the system CAs, and its name (SNI peer host).
  static const Poco::Net::Context::Ptr kContext = new Poco::Net::Context(
      Poco::Net::Context::TLS_CLIENT_USE, "", Poco::Net::Context::VERIFY_RELAXED, 9, true);
  return kContext;
}

// The first address of the host that the policy lets us reach, or why none.
base::Result<Poco::Net::SocketAddress, std::string> checkedAddress(
    const UpstreamUrl& url, const UpstreamHostPolicy& policy) {
  const std::uint16_t port = url.port.value_or(url.isHttps() ? 443 : 80);
  std::vector<Poco::Net::IPAddress> candidates;
  if (url.address) {
    candidates.emplace_back(url.address->toString());
  } else {
    candidates = Poco::Net::DNS::hostByName(url.host).addresses();
  }
  std::string refusal = "no address";
  for (const auto& candidate : candidates) {
    const auto ip = IpAddress::parse(candidate.toString());
    if (!ip) continue;
    if (auto why = policy.checkAddress(url, *ip)) {
      refusal = *why;
      continue;
    }
    return Poco::Net::SocketAddress(candidate, port);
  }
  return base::Unexpected<std::string>(std::move(refusal));
}

}  // namespace

bool parseQrFrame(const std::string& text, QrFrame& out) {
  try {
    const auto json = Poco::JSON::Parser().parse(text);
    const auto o = json.extract<Poco::JSON::Object::Ptr>();
    if (!o || !o->has("type") || !o->get("type").isString()) return false;
    out.type = o->getValue<std::string>("type");
    out.message = o->has("message") && o->get("message").isString()
                      ? o->getValue<std::string>("message")
                      : std::string();
    return true;
  } catch (const Poco::Exception&) {
    return false;
  } catch (const std::exception&) {
    return false;  // Poco::BadCastException derives from Poco::Exception; Any casts may not
  }
}

QrWebsocket::QrWebsocket(std::unique_ptr<Poco::Net::HTTPClientSession> session,
                         std::unique_ptr<Poco::Net::WebSocket> socket, std::string token)
    : session_(std::move(session)), socket_(std::move(socket)), token_(std::move(token)) {}

QrWebsocket::~QrWebsocket() { close(); }

base::Result<std::unique_ptr<QrWebsocket>, Failure> QrWebsocket::open(
    const InstanceCredentials& creds, const UpstreamHostPolicy& policy,
    std::chrono::milliseconds connect_timeout) {
  auto fail = [&](int status, const std::string& text) {
    return base::Unexpected<Failure>(Failure{status, scrubSecrets(text, creds.apiTokenInstance)});
  };
  const auto url = UpstreamUrl::parse(creds.apiUrl);
  if (!url) return fail(0, url.error());
  if (auto refusal = policy.checkUrl(url.value())) return fail(0, *refusal);
  try {
    const auto address = checkedAddress(url.value(), policy);
    if (!address) return fail(0, address.error());
    const Poco::Timespan timeout(
        std::chrono::duration_cast<std::chrono::microseconds>(connect_timeout).count());
    std::unique_ptr<Poco::Net::HTTPClientSession> session;
    if (url->isHttps()) {
      Poco::Net::SecureStreamSocket socket(tlsContext());
      socket.setPeerHostName(url->host);
      socket.connect(address.value(), timeout);
      session = std::make_unique<Poco::Net::HTTPSClientSession>(socket);
    } else {
      Poco::Net::StreamSocket socket;
      socket.connect(address.value(), timeout);
      session = std::make_unique<Poco::Net::HTTPClientSession>(socket);
    }
    session->setTimeout(timeout);
    Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_GET,
                                   fmt::format("{}/waInstance{}/scanqrcode/{}", url->path,
                                               creds.idInstance, creds.apiTokenInstance),
                                   Poco::Net::HTTPMessage::HTTP_1_1);
    const std::string host =
        url->address && !url->address->isV4() ? "[" + url->host + "]" : url->host;
    request.setHost(url->port ? fmt::format("{}:{}", host, *url->port) : host);
    Poco::Net::HTTPResponse response;
    try {
      auto socket = std::make_unique<Poco::Net::WebSocket>(*session, request, response);
      socket->setMaxPayloadSize(kMaxFrameBytes);
      return std::unique_ptr<QrWebsocket>(
          new QrWebsocket(std::move(session), std::move(socket), creds.apiTokenInstance));
    } catch (const Poco::Net::WebSocketException& e) {
      // Any answer but 101: the server does not offer the socket to us (404, 401, 429 …).
      const int status = static_cast<int>(response.getStatus());
      return fail(status > 0 && status != 101 ? status : 0, e.displayText());
    }
  } catch (const Poco::Exception& e) {
    return fail(0, e.displayText());
  } catch (const std::exception& e) {
    return fail(0, e.what());
  }
}

QrWebsocket::Read QrWebsocket::read(std::chrono::milliseconds wait, QrFrame& out,
                                    std::string& error) {
  if (!socket_) return Read::closed;
  try {
    const Poco::Timespan span(std::chrono::duration_cast<std::chrono::microseconds>(wait).count());
    // available() first: a frame sent right behind the 101 answer may already sit in the buffer
    // the handshake read into (Poco's WebSocketImpl keeps it), where poll() on the socket cannot
    // see it.
    if (socket_->available() == 0 && !socket_->poll(span, Poco::Net::Socket::SELECT_READ)) {
      return Read::idle;
    }
    socket_->setReceiveTimeout(Poco::Timespan(5, 0));  // a frame that started arrives whole
    buffer_.resize(kMaxFrameBytes);
    int flags = 0;
    const int n = socket_->receiveFrame(buffer_.data(), static_cast<int>(buffer_.size()), flags);
    const int op = flags & Poco::Net::WebSocket::FRAME_OP_BITMASK;
    if (n <= 0 && op != Poco::Net::WebSocket::FRAME_OP_PING) return Read::closed;
    if (op == Poco::Net::WebSocket::FRAME_OP_CLOSE) return Read::closed;
    if (op == Poco::Net::WebSocket::FRAME_OP_PING) {
      constexpr int kPong = static_cast<int>(Poco::Net::WebSocket::FRAME_FLAG_FIN) |
                            static_cast<int>(Poco::Net::WebSocket::FRAME_OP_PONG);
      socket_->sendFrame(buffer_.data(), n > 0 ? n : 0, kPong);
      return Read::idle;
    }
    if (op != Poco::Net::WebSocket::FRAME_OP_TEXT) return Read::idle;  // pong, binary: not ours
    if (!parseQrFrame(buffer_.substr(0, static_cast<std::size_t>(n)), out)) {
      error = "a frame that is not a JSON object with a type";
      return Read::failed;
    }
    return Read::frame;
  } catch (const Poco::Exception& e) {
    error = scrubSecrets(e.displayText(), token_);
    return Read::failed;
  }
}

void QrWebsocket::close() {
  if (!socket_) return;
  try {
    socket_->shutdown(Poco::Net::WebSocket::WS_NORMAL_CLOSE, "");
  } catch (const Poco::Exception&) {
    // The peer is gone already; closing is all that is left.
  }
  try {
    socket_->close();
  } catch (const Poco::Exception&) {
  }
  socket_.reset();
}

}  // namespace greenfleet::greenapi
