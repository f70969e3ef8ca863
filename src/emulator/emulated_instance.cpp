#include "emulator/emulated_instance.hpp"

#include <algorithm>
#include <array>
#include <mutex>
#include <set>
#include <stdexcept>

#include <fmt/format.h>

#include "fleet/qr_png.hpp"

namespace greenfleet::emulator {

namespace {
// Every state an instance can be in; an instance holds an index into this table.
const std::array<std::string, 8>& stateNames() {
  static const std::array<std::string, 8> kNames{
      states::kNew,     states::kStarting,  states::kNotAuthorized, states::kAuthorized,
      states::kBlocked, states::kSuspended, states::kYellowCard,    states::kSleepMode};
  return kNames;
}

std::optional<std::uint8_t> findState(const std::string& name) {
  const auto& names = stateNames();
  const auto it = std::find(names.begin(), names.end(), name);
  if (it == names.end()) return std::nullopt;
  return static_cast<std::uint8_t>(it - names.begin());
}

std::uint8_t stateIndex(const std::string& name) {
  const auto index = findState(name);
  if (!index) throw std::invalid_argument("unknown emulator state '" + name + "'");
  return *index;
}

// Method names that are not rate-limited (unknown methods hit by tests), interned once per
// process so every instance's counters point at one copy. Bounded: beyond kMaxNames distinct
// names, the rest are counted under one shared name.
const std::string* internOtherMethod(const std::string& name) {
  static constexpr std::size_t kMaxNames = 256;
  static std::mutex mutex;
  static std::set<std::string, std::less<>> names;
  std::lock_guard lock(mutex);
  if (const auto it = names.find(name); it != names.end()) return &*it;
  if (names.size() >= kMaxNames) return &*names.insert("(other)").first;
  return &*names.insert(name).first;
}
}  // namespace

namespace states {
bool isKnown(const std::string& state) { return findState(state).has_value(); }

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

const std::vector<std::string>& partnerTypes() {
  static const std::vector<std::string> types = {"whatsapp", "telegram", "v3", "max"};
  return types;
}

std::string tokenFor(std::uint64_t seed, std::int64_t id) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex(50, '0');
  std::uint64_t x = mix64(seed ^ mix64(static_cast<std::uint64_t>(id)));
  for (std::size_t k = 0; k < hex.size(); ++k) {
    if (k % 16 == 0) x = mix64(x);
    hex[k] = kHex[(x >> (60 - 4 * (k % 16))) & 0xf];  // most significant nibble first
  }
  return hex;
}

EmulatedInstance::EmulatedInstance(std::int64_t id, const std::string& initial_state,
                                   base::SteadyTime now, const EmulatorOptions& options)
    : id_(id),
      options_(options),
      state_(stateIndex(initial_state)),
      qr_epoch_(now),
      rng_(mix64(options.seed ^ static_cast<std::uint64_t>(id) * 31)) {
  if (state() == states::kNew) {
    scheduleInitialization(now);
  } else if (state() == states::kStarting) {
    steps_.push_back({now + options_.delays.starting, stateIndex(states::kNotAuthorized)});
  }
}

std::string EmulatedInstance::token() const {
  return tokenFor(partner.rotations == 0 ? options_.seed : mix64(options_.seed + partner.rotations),
                  id_);
}

bool EmulatedInstance::tokenMatches(std::string_view token) const {
  return token.size() == 50 && token == this->token();
}

const std::string& EmulatedInstance::state() const { return stateNames()[state_]; }

void EmulatedInstance::scheduleInitialization(base::SteadyTime now) {
  const auto started = now + options_.delays.initializing;
  steps_.push_back({started, stateIndex(states::kStarting)});
  steps_.push_back({started + options_.delays.starting, stateIndex(states::kNotAuthorized)});
}

std::string EmulatedInstance::phone() const {
  return fmt::format("7{:010d}", static_cast<long long>(id_ % 10000000000LL));
}

std::string EmulatedInstance::wid() const {
  return states::isLoggedIn(state()) ? phone() + "@c.us" : std::string();
}

void EmulatedInstance::enter(StateIndex to, base::SteadyTime now, std::vector<Transition>& out) {
  if (to == state_) return;
  Transition t{id_, state(), stateNames()[to], {}};
  state_ = to;
  t.wid = wid();
  qr_.reset();  // a new state: no QR run goes on, and the next QR period has new payloads
  if (state() == states::kNotAuthorized) {
    qr_base_ = qrRotation(now) + 1;
    qr_epoch_ = now;
  }
  out.push_back(std::move(t));
}

void EmulatedInstance::advance(base::SteadyTime now, std::vector<Transition>& out) {
  while (!steps_.empty() && steps_.front().at <= now) {
    const Step step = steps_.front();
    steps_.erase(steps_.begin());
    enter(step.to, step.at, out);
  }
  if (steps_.empty() && steps_.capacity() > 0) steps_.shrink_to_fit();  // most instances idle
}

std::optional<std::string> EmulatedInstance::issuePairingCode(std::int64_t phone_number,
                                                              base::SteadyTime now) {
  std::vector<Transition> ignored;
  advance(now, ignored);
  if (state() != states::kNotAuthorized) return std::nullopt;
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

const EmulatedInstance::PairingCode* EmulatedInstance::pairingCode(base::SteadyTime now) const {
  return pairing_ && now < pairing_->expires_at ? pairing_.get() : nullptr;
}

bool EmulatedInstance::confirmPairingCode(const std::string& code, base::SteadyTime now,
                                          std::vector<Transition>& out) {
  advance(now, out);
  const PairingCode* pending = pairingCode(now);
  if (pending == nullptr || (!code.empty() && code != pending->code)) return false;
  if (state() != states::kNotAuthorized) return false;
  pairing_.reset();
  steps_.clear();
  enter(stateIndex(states::kAuthorized), now, out);
  return true;
}

bool EmulatedInstance::scan(base::SteadyTime now, std::vector<Transition>& out) {
  advance(now, out);
  if (state() != states::kNotAuthorized) return false;
  steps_.clear();
  enter(stateIndex(states::kAuthorized), now, out);
  return true;
}

void EmulatedInstance::setState(const std::string& state, base::SteadyTime now,
                                std::vector<Transition>& out) {
  const StateIndex to = stateIndex(state);
  steps_.clear();
  enter(to, now, out);
  if (state == states::kNew) scheduleInitialization(now);
}

bool EmulatedInstance::logout(base::SteadyTime now, std::vector<Transition>& out) {
  advance(now, out);
  if (!states::isLoggedIn(state())) return false;
  steps_.clear();
  const StateIndex to = stateIndex(states::kNotAuthorized);
  if (options_.delays.logout.count() == 0) {
    enter(to, now, out);
  } else {
    steps_.push_back({now + options_.delays.logout, to});
  }
  return true;
}

void EmulatedInstance::reboot(base::SteadyTime now, std::vector<Transition>& out) {
  advance(now, out);
  StateIndex back = steps_.empty() ? state_ : steps_.back().to;
  if (back == stateIndex(states::kNew) || back == stateIndex(states::kStarting)) {
    back = stateIndex(states::kNotAuthorized);
  }
  steps_.clear();
  enter(stateIndex(states::kStarting), now, out);
  steps_.push_back({now + options_.delays.reboot, back});
  advance(now, out);
}

std::uint64_t EmulatedInstance::qrRotation(base::SteadyTime now) const {
  const auto period = options_.delays.qrRotation;
  if (period.count() <= 0 || now < qr_epoch_) return qr_base_;
  return qr_base_ + static_cast<std::uint64_t>((now - qr_epoch_) / period);
}

std::string EmulatedInstance::qrPayload(base::SteadyTime now) const {
  const std::uint64_t rotation = qrRotation(now);
  const std::uint64_t r =
      mix64(options_.seed ^ mix64(static_cast<std::uint64_t>(id_)) ^ mix64(rotation + 0x51ed));
  return fmt::format("2@{}-{}-{:016x}", id_, rotation, r);
}

const std::string& EmulatedInstance::qrPngBase64(base::SteadyTime now) {
  const std::uint64_t rotation = qrRotation(now);
  if (!qr_) qr_ = std::make_unique<QrPolling>();
  if (!qr_->png_rotation || *qr_->png_rotation != rotation) {
    qr_->png_base64 = fleet::base64Encode(fleet::renderQrPng(qrPayload(now)));
    qr_->png_rotation = rotation;
  }
  return qr_->png_base64;
}

void EmulatedInstance::noteQrPoll(base::SteadyTime now, std::vector<Transition>& out) {
  if (state() != states::kNotAuthorized) return;
  if (!qr_) qr_ = std::make_unique<QrPolling>();
  if (!qr_->run_start || now - qr_->last_poll > options_.delays.qrQuirkGap) qr_->run_start = now;
  qr_->last_poll = now;
  if (now - *qr_->run_start >= options_.delays.qrQuirk) {
    // Upstream issue #285: the instance sits in starting until rebooted.
    steps_.clear();
    enter(stateIndex(states::kStarting), now, out);
  }
}

EmulatedInstance::MethodUse& EmulatedInstance::use(const std::string& method) {
  for (auto& m : methods_) {
    if (*m.name == method) {
      m.counted = true;
      return m;
    }
  }
  MethodUse fresh;
  fresh.counted = true;
  const auto limit = options_.rateLimits.find(method);
  if (limit == options_.rateLimits.end()) {
    fresh.name = internOtherMethod(method);
  } else {
    fresh.name = &limit->first;
    fresh.window.emplace(limit->second, options_.rateWindow);
  }
  if (methods_.capacity() == 0) methods_.reserve(1);  // most instances only ever see one method
  return methods_.emplace_back(std::move(fresh));
}

bool EmulatedInstance::admit(const std::string& method, base::SteadyTime now) {
  MethodUse& m = use(method);
  MethodCounters& c = m.counters;
  c.requests++;
  if (m.window && !m.window->tryAccept(now)) {
    c.rateLimited++;
    return false;
  }
  c.accepted++;
  if (m.window) c.maxPerSecond = m.window->maxPerWindow();
  return true;
}

std::map<std::string, MethodCounters> EmulatedInstance::counters() const {
  std::map<std::string, MethodCounters> out;
  forEachCounter([&](const std::string& name, const MethodCounters& c) { out[name] = c; });
  return out;
}

void EmulatedInstance::resetCounters() {
  for (auto& m : methods_) {
    m.counted = false;
    m.counters = {};
    if (m.window) m.window->resetMax();
  }
}

}  // namespace greenfleet::emulator
