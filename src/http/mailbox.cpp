#include "http/mailbox.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace greenfleet::http::detail {

Mailbox::Mailbox() : wake_fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
  if (wake_fd_ < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
}

Mailbox::~Mailbox() { ::close(wake_fd_); }

bool Mailbox::post(Command command) {
  bool wake = false;
  {
    std::lock_guard lock(mutex_);
    if (!open_) return false;
    commands_.push_back(std::move(command));
    // One wake-up per batch; the loop thread never needs one (it drains before waiting).
    if (!wake_pending_ && std::this_thread::get_id() != loop_thread_) {
      wake_pending_ = true;
      wake = true;
    }
  }
  if (wake) {
    const std::uint64_t one = 1;
    [[maybe_unused]] const auto n = ::write(wake_fd_, &one, sizeof one);
  }
  return true;
}

std::vector<Command> Mailbox::takeAll() {
  std::vector<Command> out;
  std::lock_guard lock(mutex_);
  out.swap(commands_);
  return out;
}

void Mailbox::setLoopThread(std::thread::id id) {
  std::lock_guard lock(mutex_);
  loop_thread_ = id;
}

void Mailbox::close() {
  std::lock_guard lock(mutex_);
  open_ = false;
  commands_.clear();
}

void Mailbox::acknowledgeWake() {
  std::uint64_t value = 0;
  [[maybe_unused]] const auto n = ::read(wake_fd_, &value, sizeof value);
  std::lock_guard lock(mutex_);
  wake_pending_ = false;
}

}  // namespace greenfleet::http::detail
