#include "emulator/webhook_sender.hpp"

#include <sstream>

#include <Poco/JSON/Object.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>
#include <Poco/URI.h>

#include "base/log.hpp"

namespace greenfleet::emulator {

namespace {
const base::Log kLog{"emulator"};
constexpr std::size_t kMaxQueued = 10000;
}  // namespace

WebhookSender::WebhookSender(const base::Clock& clock)
    : clock_(clock), thread_([this] { run(); }) {}

WebhookSender::~WebhookSender() { stop(); }

void WebhookSender::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::string WebhookSender::body(const Transition& transition, base::WallTime at) {
  Poco::JSON::Object::Ptr data = new Poco::JSON::Object;
  data->set("idInstance", static_cast<Poco::Int64>(transition.id));
  data->set("wid", transition.wid);
  data->set("typeInstance", "whatsapp");
  Poco::JSON::Object o;
  o.set("typeWebhook", "stateInstanceChanged");
  o.set("instanceData", data);
  o.set("timestamp",
        static_cast<Poco::Int64>(
            std::chrono::duration_cast<std::chrono::seconds>(at.time_since_epoch()).count()));
  o.set("stateInstance", transition.to);
  std::ostringstream s;
  o.stringify(s);
  return s.str();
}

void WebhookSender::enqueue(const std::string& url, const std::string& token,
                            const Transition& transition) {
  // The emulator-only "new" state has no Green API name; nothing is announced for it.
  if (transition.to == states::kNew) return;
  Delivery text{url, token, body(transition, clock_.wallNow())};
  {
    std::lock_guard lock(mutex_);
    if (queue_.size() >= kMaxQueued) {
      queue_.pop_front();
      dropped_++;
    }
    queue_.push_back(std::move(text));
  }
  wake_.notify_one();
}

void WebhookSender::run() {
  while (true) {
    Delivery next;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      next = std::move(queue_.front());
      queue_.pop_front();
    }
    if (post(next)) {
      sent_++;
    } else {
      failed_++;
    }
  }
}

bool WebhookSender::post(const Delivery& delivery) {
  const auto& body = delivery.body;
  try {
    const Poco::URI uri(delivery.url);
    Poco::Net::HTTPClientSession session(uri.getHost(), uri.getPort());
    session.setTimeout(Poco::Timespan(5, 0));
    Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_POST,
                                   uri.getPathEtc().empty() ? "/" : uri.getPathEtc(),
                                   Poco::Net::HTTPMessage::HTTP_1_1);
    request.setContentType("application/json; charset=utf-8");
    request.setContentLength(static_cast<std::streamsize>(body.size()));
    if (!delivery.token.empty()) request.set("Authorization", "Bearer " + delivery.token);
    session.sendRequest(request) << body;
    Poco::Net::HTTPResponse response;
    std::istream& in = session.receiveResponse(response);
    std::ostringstream sink;
    Poco::StreamCopier::copyStream(in, sink);
    if (response.getStatus() != Poco::Net::HTTPResponse::HTTP_OK) {
      kLog.warn("webhook status={}", static_cast<int>(response.getStatus()));
      return false;
    }
    return true;
  } catch (const std::exception& e) {
    kLog.warn("webhook failed error={}", e.what());
    return false;
  }
}

}  // namespace greenfleet::emulator
