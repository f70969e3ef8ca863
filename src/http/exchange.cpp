#include "http/exchange.hpp"

#include "http/mailbox.hpp"

namespace greenfleet::http {

using detail::Command;

Stream::Stream(std::shared_ptr<detail::Mailbox> mailbox, std::uint64_t connection)
    : mailbox_(std::move(mailbox)), connection_(connection) {}

bool Stream::send(std::string data) {
  if (closed()) return false;
  Command c;
  c.kind = Command::Kind::stream_data;
  c.connection = connection_;
  c.data = std::move(data);
  mailbox_->post(std::move(c));
  return true;
}

void Stream::close() {
  if (closed()) return;
  Command c;
  c.kind = Command::Kind::stream_end;
  c.connection = connection_;
  mailbox_->post(std::move(c));
}

bool Stream::closed() const {
  std::lock_guard lock(mutex_);
  return closed_;
}

void Stream::onClose(std::function<void()> callback) {
  {
    std::lock_guard lock(mutex_);
    if (!closed_) {
      on_close_ = std::move(callback);
      return;
    }
  }
  if (callback) callback();
}

void Stream::markClosed() {
  std::function<void()> callback;
  {
    std::lock_guard lock(mutex_);
    if (closed_) return;
    closed_ = true;
    callback.swap(on_close_);
  }
  if (callback) callback();
}

Exchange::Exchange(std::shared_ptr<detail::Mailbox> mailbox, std::uint64_t connection)
    : mailbox_(std::move(mailbox)), connection_(connection) {}

void Exchange::respond(Response response) const {
  respondAfter(std::chrono::milliseconds(0), std::move(response));
}

void Exchange::respondAfter(std::chrono::milliseconds delay, Response response) const {
  Command c;
  c.kind = Command::Kind::respond;
  c.connection = connection_;
  c.delay = delay;
  c.response = std::move(response);
  mailbox_->post(std::move(c));
}

void Exchange::reset(std::chrono::milliseconds delay) const {
  Command c;
  c.kind = Command::Kind::reset;
  c.connection = connection_;
  c.delay = delay;
  mailbox_->post(std::move(c));
}

std::shared_ptr<Stream> Exchange::stream(Response head, StreamOptions options) const {
  auto stream = std::make_shared<Stream>(mailbox_, connection_);
  Command c;
  c.kind = Command::Kind::stream_open;
  c.connection = connection_;
  c.response = std::move(head);
  c.stream = stream;
  c.stream_options = std::move(options);
  if (!mailbox_->post(std::move(c))) stream->markClosed();
  return stream;
}

void Exchange::takeOver(TakeOver callback) const {
  Command c;
  c.kind = Command::Kind::take_over;
  c.connection = connection_;
  c.take_over = std::move(callback);
  mailbox_->post(std::move(c));
}

}  // namespace greenfleet::http
