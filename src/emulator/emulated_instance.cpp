#include "emulator/emulated_instance.hpp"

#include <set>

#include <fmt/format.h>

#include "fleet/qr_png.hpp"

namespace greenfleet::emulator {

namespace states {
bool isKnown(const std::string& state) {
  static const std::set<std::string> kAll{kNew,     kStarting,  kNotAuthorized, kAuthorized,
                                          kBlocked, kSuspended, kYellowCard,    kSleepMode};
  return kAll.count(state) > 0;
}

bool isLoggedIn(const std::string& s) {
  return s == kAuthorized || s == kYellowCard || s == kSuspended || s == kSleepMode;
}
}  // namespace states

std::uint64_t mix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

std::string tokenFor(std::uint64_t seed, std::int64_t id) {
  std::string hex;
  std::uint64_t x = mix64(seed ^ mix64(static_cast<std::uint64_t>(id)));
  while (hex.size() < 50) {
    x = mix64(x);
    hex += fmt::format("{:016x}", x);
  }
  hex.resize(50);
  return hex;
}

EmulatedInstance::EmulatedInstance(std::int64_t id, std::string token,
                                   const std::string& initial_state, fleet::SteadyTime now,
                                   const EmulatorOptions& options)
    : id_(id),
      token_(std::move(token)),
      options_(options),
      state_(initial_state),
      qr_epoch_(now),
      qr_last_poll_(now),
      rng_(mix64(options.seed ^ static_cast<std::uint64_t>(id) * 31)) {
  if (state_ == states::kNew) {
    scheduleInitialization(now);
  } else if (state_ == states::kStarting) {
    steps_.push_back({now + options_.delays.starting, states::kNotAuthorized});
  }
}

void EmulatedInstance::scheduleInitialization(fleet::SteadyTime now) {
  const auto started = now + options_.delays.initializing;
  steps_.push_back({started, states::kStarting});
  steps_.push_back({started + options_.delays.starting, states::kNotAuthorized});
}

std::string EmulatedInstance::phone() const {
  return fmt::format("7{:010d}", static_cast<long long>(id_ % 10000000000LL));
}

std::string EmulatedInstance::wid() const {
  return states::isLoggedIn(state_) ? phone() + "@c.us" : std::string();
}

void EmulatedInstance::enter(const std::string& to, fleet::SteadyTime now,
                             std::vector<Transition>& out) {
  if (to == state_) return;
  Transition t{id_, state_, to, {}};
  state_ = to;
  t.wid = wid();
  if (to == states::kNotAuthorized) {
    qr_base_ = qrRotation(now) + 1;
    qr_epoch_ = now;
    qr_run_start_.reset();
  }
  out.push_back(std::move(t));
}

void EmulatedInstance::advance(fleet::SteadyTime now, std::vector<Transition>& out) {
  while (!steps_.empty() && steps_.front().at <= now) {
    const Step step = steps_.front();
    steps_.erase(steps_.begin());
    enter(step.to, step.at, out);
  }
  if (steps_.empty() && steps_.capacity() > 0) steps_.shrink_to_fit();  // most instances idle
}

std::optional<std::string> EmulatedInstance::issuePairingCode(std::int64_t phone_number,
                                                              fleet::SteadyTime now) {
  std::vector<Transition> ignored;
  advance(now, ignored);
  if (state_ != states::kNotAuthorized) return std::nullopt;
  // WhatsApp's codes are 8 characters from an alphabet without look-alikes.
  static constexpr std::string_view kAlphabet = "ABCDEFGHJKLMNPQRSTVWXYZ23456789";
  std::string code;
  for (std::uint64_t x = rng_(); code.size() < 8; x /= kAlphabet.size()) {
    code += kAlphabet[x % kAlphabet.size()];
  }
  pairing_ = std::make_unique<PairingCode>(
      PairingCode{code, phone_number, now + std::chrono::milliseconds(150000)});
  return code;
}

const EmulatedInstance::PairingCode* EmulatedInstance::pairingCode(fleet::SteadyTime now) const {
  return pairing_ && now < pairing_->expires_at ? pairing_.get() : nullptr;
}

bool EmulatedInstance::confirmPairingCode(const std::string& code, fleet::SteadyTime now,
                                          std::vector<Transition>& out) {
  advance(now, out);
  const PairingCode* pending = pairingCode(now);
  if (pending == nullptr || (!code.empty() && code != pending->code)) return false;
  if (state_ != states::kNotAuthorized) return false;
  pairing_.reset();
  steps_.clear();
  enter(states::kAuthorized, now, out);
  return true;
}

bool EmulatedInstance::scan(fleet::SteadyTime now, std::vector<Transition>& out) {
  advance(now, out);
  if (state_ != states::kNotAuthorized) return false;
  steps_.clear();
  enter(states::kAuthorized, now, out);
  return true;
}

void EmulatedInstance::setState(const std::string& state, fleet::SteadyTime now,
                                std::vector<Transition>& out) {
  steps_.clear();
  enter(state, now, out);
  if (state == states::kNew) scheduleInitialization(now);
}

bool EmulatedInstance::logout(fleet::SteadyTime now, std::vector<Transition>& out) {
  advance(now, out);
  if (!states::isLoggedIn(state_)) return false;
  steps_.clear();
  if (options_.delays.logout.count() == 0) {
    enter(states::kNotAuthorized, now, out);
  } else {
    steps_.push_back({now + options_.delays.logout, states::kNotAuthorized});
  }
  return true;
}

void EmulatedInstance::reboot(fleet::SteadyTime now, std::vector<Transition>& out) {
  advance(now, out);
  std::string back = steps_.empty() ? state_ : steps_.back().to;
  if (back == states::kNew || back == states::kStarting) back = states::kNotAuthorized;
  steps_.clear();
  enter(states::kStarting, now, out);
  steps_.push_back({now + options_.delays.reboot, back});
  advance(now, out);
}

std::uint64_t EmulatedInstance::qrRotation(fleet::SteadyTime now) const {
  const auto period = options_.delays.qrRotation;
  if (period.count() <= 0 || now < qr_epoch_) return qr_base_;
  return qr_base_ + static_cast<std::uint64_t>((now - qr_epoch_) / period);
}

std::string EmulatedInstance::qrPayload(fleet::SteadyTime now) const {
  const std::uint64_t rotation = qrRotation(now);
  const std::uint64_t r =
      mix64(options_.seed ^ mix64(static_cast<std::uint64_t>(id_)) ^ mix64(rotation + 0x51ed));
  return fmt::format("2@{}-{}-{:016x}", id_, rotation, r);
}

const std::string& EmulatedInstance::qrPngBase64(fleet::SteadyTime now) {
  const std::uint64_t rotation = qrRotation(now);
  if (!png_rotation_ || *png_rotation_ != rotation) {
    png_base64_ = fleet::base64Encode(fleet::renderQrPng(qrPayload(now)));
    png_rotation_ = rotation;
  }
  return png_base64_;
}

void EmulatedInstance::noteQrPoll(fleet::SteadyTime now, std::vector<Transition>& out) {
  if (state_ != states::kNotAuthorized) return;
  if (!qr_run_start_ || now - qr_last_poll_ > options_.delays.qrQuirkGap) qr_run_start_ = now;
  qr_last_poll_ = now;
  if (now - *qr_run_start_ >= options_.delays.qrQuirk) {
    // Upstream issue #285: the instance sits in starting until rebooted.
    steps_.clear();
    enter(states::kStarting, now, out);
    qr_run_start_.reset();
  }
}

RateWindow* EmulatedInstance::windowFor(const std::string& method) {
  for (auto& [name, window] : windows_) {
    if (*name == method) return &window;
  }
  const auto limit = options_.rateLimits.find(method);
  if (limit == options_.rateLimits.end()) return nullptr;
  return &windows_.emplace_back(&limit->first, RateWindow(limit->second, options_.rateWindow))
              .second;
}

bool EmulatedInstance::admit(const std::string& method, fleet::SteadyTime now) {
  MethodCounters& c = counters_[method];
  c.requests++;
  RateWindow* window = windowFor(method);
  if (window && !window->tryAccept(now)) {
    c.rateLimited++;
    return false;
  }
  c.accepted++;
  if (window) c.maxPerSecond = window->maxPerWindow();
  return true;
}

void EmulatedInstance::resetCounters() {
  counters_.clear();
  for (auto& [name, window] : windows_) window.resetMax();
}

}  // namespace greenfleet::emulator
