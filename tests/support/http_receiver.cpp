#include "support/http_receiver.hpp"

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/StreamCopier.h>

namespace greenfleet::testing {

namespace {
class RecordingHandler : public Poco::Net::HTTPRequestHandler {
 public:
  RecordingHandler(std::shared_ptr<void> shared, std::vector<ReceivedRequest>* requests,
                   std::mutex* mutex, int status)
      : keep_(std::move(shared)), requests_(requests), mutex_(mutex), status_(status) {}

  void handleRequest(Poco::Net::HTTPServerRequest& request,
                     Poco::Net::HTTPServerResponse& response) override {
    ReceivedRequest r;
    r.method = request.getMethod();
    r.path = request.getURI();
    r.content_type = request.getContentType();
    Poco::StreamCopier::copyToString(request.stream(), r.body);
    r.answered = status_;
    {
      std::lock_guard lock(*mutex_);
      requests_->push_back(std::move(r));
    }
    response.setStatus(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(status_));
    response.setContentLength(0);
    response.send();
  }

 private:
  std::shared_ptr<void> keep_;
  std::vector<ReceivedRequest>* requests_;
  std::mutex* mutex_;
  int status_;
};
}  // namespace

HttpReceiver::HttpReceiver() : shared_(std::make_shared<Shared>()) {
  class Factory : public Poco::Net::HTTPRequestHandlerFactory {
   public:
    Factory(std::shared_ptr<Shared> shared, const std::atomic<int>* status)
        : shared_(std::move(shared)), status_(status) {}
    Poco::Net::HTTPRequestHandler* createRequestHandler(
        const Poco::Net::HTTPServerRequest&) override {
      return new RecordingHandler(shared_, &shared_->requests, &shared_->mutex, status_->load());
    }

   private:
    std::shared_ptr<Shared> shared_;
    const std::atomic<int>* status_;
  };
  Poco::Net::ServerSocket socket(Poco::Net::SocketAddress("127.0.0.1", 0));
  port_ = socket.address().port();
  server_ = std::make_unique<Poco::Net::HTTPServer>(new Factory(shared_, &status_), socket,
                                                    new Poco::Net::HTTPServerParams);
  server_->start();
}

HttpReceiver::~HttpReceiver() { server_->stopAll(true); }

std::string HttpReceiver::url(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + path;
}

std::vector<ReceivedRequest> HttpReceiver::requests() const {
  std::lock_guard lock(shared_->mutex);
  return shared_->requests;
}

}  // namespace greenfleet::testing
