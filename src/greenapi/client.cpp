#include "greenapi/client.hpp"

#include <istream>

#include <Poco/Exception.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/NetException.h>
#include <Poco/Timespan.h>
#include <Poco/URI.h>
#include <fmt/format.h>

#include "fleet/log.hpp"
#include "greenapi/wire_format.hpp"

namespace greenfleet::greenapi {

namespace {

const fleet::Log kLog{"greenapi"};

const fleet::Clock& systemClock() {
  static const fleet::SystemClock clock;
  return clock;
}

Poco::Timespan toTimespan(std::chrono::milliseconds ms) {
  return Poco::Timespan(static_cast<Poco::Timespan::TimeDiff>(ms.count()) * 1000);
}

struct Exchange {
  int status = 0;
  std::string body;
  bool truncated = false;
  bool keep_alive = false;
};

Exchange exchange(Poco::Net::HTTPClientSession& session, const std::string& path_and_query,
                  const std::string& user_agent, std::size_t max_body) {
  Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_GET, path_and_query,
                                 Poco::Net::HTTPMessage::HTTP_1_1);
  request.setKeepAlive(true);
  request.set("User-Agent", user_agent);
  request.set("Accept", "application/json");
  session.sendRequest(request);
  Poco::Net::HTTPResponse response;
  std::istream& in = session.receiveResponse(response);
  Exchange ex;
  ex.status = static_cast<int>(response.getStatus());
  ex.keep_alive = response.getKeepAlive();
  char buf[16384];
  while (in) {
    in.read(buf, sizeof buf);
    const auto n = static_cast<std::size_t>(in.gcount());
    if (n == 0) break;
    if (ex.body.size() + n > max_body) {
      ex.truncated = true;
      break;
    }
    ex.body.append(buf, n);
  }
  return ex;
}

}  // namespace

Client::Client(ClientOptions options, const fleet::Clock* clock)
    : options_(std::move(options)),
      clock_(clock != nullptr ? *clock : systemClock()),
      pool_(clock_, options_.maxIdlePerHost, options_.idleTimeout) {}

RawReply Client::get(const InstanceCredentials& creds, std::string_view method) {
  RawReply reply;
  const auto started = clock_.steadyNow();
  auto finish = [&](OutcomeKind kind, std::string message) {
    reply.outcome.kind = kind;
    reply.outcome.latency =
        std::chrono::duration_cast<std::chrono::microseconds>(clock_.steadyNow() - started);
    reply.outcome.message = scrubSecrets(message, creds.apiTokenInstance);
    return reply;
  };

  Endpoint endpoint;
  std::string path_and_query;
  try {
    const Poco::URI uri(
        buildMethodUrl(creds.apiUrl, creds.idInstance, method, creds.apiTokenInstance));
    endpoint.scheme = uri.getScheme();
    endpoint.host = uri.getHost();
    endpoint.port = uri.getPort();
    path_and_query = uri.getPathEtc();
    if ((endpoint.scheme != "http" && endpoint.scheme != "https") || endpoint.host.empty()) {
      return finish(OutcomeKind::transportError, "apiUrl must be an http(s) URL with a host");
    }
  } catch (const std::exception&) {
    return finish(OutcomeKind::transportError, "apiUrl is not a valid URL");
  }

  // One retry, only when a pooled keep-alive session turns out to be closed by the server before
  // it answered (it may have timed the idle connection out): the request never reached a handler.
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto lease = pool_.acquire(endpoint);
    auto& session = *lease.session;
    session.setTimeout(toTimespan(options_.connectTimeout), toTimespan(options_.requestTimeout),
                       toTimespan(options_.requestTimeout));
    session.setKeepAlive(true);
    try {
      Exchange ex = exchange(session, path_and_query, options_.userAgent, options_.maxBodyBytes);
      reply.outcome.httpStatus = ex.status;
      const OutcomeKind kind = classifyStatus(ex.status);
      if (ex.truncated) {
        return finish(kind == OutcomeKind::ok ? OutcomeKind::malformedBody : kind,
                      fmt::format("HTTP {}: body larger than {} bytes", ex.status,
                                  options_.maxBodyBytes));
      }
      if (ex.keep_alive) pool_.release(endpoint, std::move(lease.session));
      reply.body = std::move(ex.body);
      if (kind == OutcomeKind::ok) return finish(kind, {});
      return finish(kind, fmt::format("HTTP {}: {}", ex.status, errorTextOf(reply.body)));
    } catch (const Poco::TimeoutException& e) {
      return finish(OutcomeKind::timeout, e.displayText());
    } catch (const Poco::Net::NoMessageException& e) {
      if (lease.reused && attempt == 0) continue;
      return finish(OutcomeKind::transportError, e.displayText());
    } catch (const Poco::Exception& e) {
      return finish(OutcomeKind::transportError, e.displayText());
    } catch (const std::exception& e) {
      return finish(OutcomeKind::transportError, e.what());
    } catch (...) {
      return finish(OutcomeKind::transportError, "unknown failure");
    }
  }
  return finish(OutcomeKind::transportError, "connection closed");
}

template <typename T, typename Parse>
CallResult<T> Client::typed(const InstanceCredentials& creds, std::string_view method,
                            Parse parse) {
  RawReply raw = get(creds, method);
  CallResult<T> result;
  result.outcome = std::move(raw.outcome);
  if (result.outcome.ok()) {
    T value;
    const std::string problem = parse(raw.body, value);
    if (problem.empty()) {
      result.value = std::move(value);
    } else {
      result.outcome.kind = OutcomeKind::malformedBody;
      result.outcome.message = scrubSecrets(problem, creds.apiTokenInstance);
    }
  }
  if (!result.ok()) {
    kLog.debug("call method={} id={} token={} outcome={} status={} message={}", method,
               creds.idInstance, fleet::tokenHint(creds.apiTokenInstance),
               outcomeName(result.outcome.kind), result.outcome.httpStatus, result.outcome.message);
  }
  return result;
}

CallResult<StateResult> Client::getStateInstance(const InstanceCredentials& creds) {
  return typed<StateResult>(creds, "getStateInstance", parseState);
}
CallResult<QrResult> Client::qr(const InstanceCredentials& creds) {
  return typed<QrResult>(creds, "qr", parseQr);
}
CallResult<LogoutResult> Client::logout(const InstanceCredentials& creds) {
  return typed<LogoutResult>(creds, "logout", parseLogout);
}
CallResult<RebootResult> Client::reboot(const InstanceCredentials& creds) {
  return typed<RebootResult>(creds, "reboot", parseReboot);
}
CallResult<WaSettings> Client::getWaSettings(const InstanceCredentials& creds) {
  return typed<WaSettings>(creds, "getWaSettings", parseWaSettings);
}

}  // namespace greenfleet::greenapi
