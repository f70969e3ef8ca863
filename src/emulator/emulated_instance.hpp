#pragma once
// EmulatedInstance: one fake WhatsApp instance — its state machine (new → starting →
// notAuthorized → authorized …, logout, reboot, the 5-minute QR quirk), its rotating QR payload,
// its per-method rate windows and counters, its RNG and optional fault profile. Every method takes
// `now`, so unit tests drive it with a ManualClock. Not thread-safe: InstanceRegistry locks it.
// Kept small (a million of them fit in a benchmark, ~100 bytes idle): the state is an index into
// the state names, the token is derived from (seed, id) instead of stored, a method's counters and
// rate window exist only once it was called (one flat entry each, the name interned), QR polling
// state lives on the heap only while an instance is polled for QR codes, the RNG is 8 bytes, a
// per-instance fault profile lives on the heap when set.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.hpp"
#include "emulator/emulator_options.hpp"
#include "emulator/fault_profile.hpp"
#include "emulator/rate_window.hpp"

namespace greenfleet::emulator {

namespace states {
inline constexpr const char* kNew = "new";  // emulator-only: initializing, answers null/401
inline constexpr const char* kStarting = "starting";
inline constexpr const char* kNotAuthorized = "notAuthorized";
inline constexpr const char* kAuthorized = "authorized";
inline constexpr const char* kBlocked = "blocked";
inline constexpr const char* kSuspended = "suspended";
inline constexpr const char* kYellowCard = "yellowCard";
inline constexpr const char* kSleepMode = "sleepMode";
bool isKnown(const std::string& state);
// authorized, yellowCard, suspended, sleepMode: an account is attached.
bool isLoggedIn(const std::string& state);
}  // namespace states

struct Transition {
  std::int64_t id = 0;
  std::string from;
  std::string to;
  std::string wid;  // phone@c.us once authorized, else ""
};

struct MethodCounters {
  std::uint64_t requests = 0;        // every request naming this instance and method
  std::uint64_t accepted = 0;        // passed auth and the rate window
  std::uint64_t rateLimited = 0;     // answered 429 by the rate window
  std::uint64_t injectedFaults = 0;  // a fault (error, hang, garbage, …) was injected
  int maxPerSecond = 0;              // most accepted requests seen in one window
};

// What the partner API says about an instance beyond its credentials (control API settable).
struct PartnerListing {
  std::uint8_t type = 0;  // index into partnerTypes(): whatsapp, telegram, v3, max
  bool deleted = false;
  bool expired = false;
  std::uint16_t rotations = 0;  // tokens rotated by the control API: token() derives from it
};
// The typeInstance values the emulator can list (Green API's documented ones plus max).
const std::vector<std::string>& partnerTypes();

class EmulatedInstance {
 public:
  // Throws std::invalid_argument for a state that is not states::isKnown.
  EmulatedInstance(std::int64_t id, const std::string& initial_state, base::SteadyTime now,
                   const EmulatorOptions& options);

  std::int64_t id() const { return id_; }
  // tokenFor(options.seed, id), or of a seed mixed with partner.rotations: computed, not stored
  // (50 bytes and a heap block per instance).
  std::string token() const;
  bool tokenMatches(std::string_view token) const;
  // Control API: the token changes as if the partner rotated it; the old one is refused after.
  void rotateToken() { ++partner.rotations; }
  const std::string& state() const;
  std::string phone() const;
  std::string wid() const;  // "" unless authorized-like

  // Applies the timed transitions due at `now`, appending them to `out`.
  void advance(base::SteadyTime now, std::vector<Transition>& out);

  // Control API: notAuthorized → authorized; false in any other state.
  bool scan(base::SteadyTime now, std::vector<Transition>& out);
  // Control API: force a state; held until changed (a forced `starting` waits for a reboot,
  // like upstream); "new" replays initialization.
  void setState(const std::string& state, base::SteadyTime now, std::vector<Transition>& out);
  // Wire: returns isLogout; a logged-in instance becomes notAuthorized after Delays::logout.
  bool logout(base::SteadyTime now, std::vector<Transition>& out);
  // Wire: starting now, back to the previous state after Delays::reboot.
  void reboot(base::SteadyTime now, std::vector<Transition>& out);

  // The current QR payload ("2@<id>-<rotation>-<random>"); meaningful in notAuthorized.
  std::string qrPayload(base::SteadyTime now) const;
  std::uint64_t qrRotation(base::SteadyTime now) const;
  // Base64 PNG of the current payload, rendered once per rotation.
  const std::string& qrPngBase64(base::SteadyTime now);
  // Records an accepted qr poll; continuous polling for Delays::qrQuirk → starting (issue #285).
  void noteQrPoll(base::SteadyTime now, std::vector<Transition>& out);

  // Wire (getAuthorizationCode): a new 8-character pairing code for `phone_number`, valid for
  // ~2.5 minutes like upstream's; nullopt unless notAuthorized (Green API answers status false).
  std::optional<std::string> issuePairingCode(std::int64_t phone_number, base::SteadyTime now);
  // Control API: the phone holder typed the code: notAuthorized → authorized. `code` empty
  // confirms the pending one. False when no live code matches or the state is not notAuthorized.
  bool confirmPairingCode(const std::string& code, base::SteadyTime now,
                          std::vector<Transition>& out);
  struct PairingCode {
    std::string code;
    std::int64_t phone_number = 0;
    base::SteadyTime expires_at{};
  };
  // The pending code while it is valid.
  const PairingCode* pairingCode(base::SteadyTime now) const;

  // Counts a request and applies the method's rate window: true = accepted, false = 429.
  bool admit(const std::string& method, base::SteadyTime now);
  void countFault(const std::string& method) { use(method).counters.injectedFaults++; }
  void countUnauthorized(const std::string& method) { use(method).counters.requests++; }
  // The counters of every method called since the last reset, by method name.
  std::map<std::string, MethodCounters> counters() const;
  // Calls fn(method, counters) for each method called since the last reset, without a map.
  template <typename Fn>
  void forEachCounter(Fn&& fn) const {
    for (const auto& m : methods_) {
      if (m.counted) fn(*m.name, m.counters);
    }
  }
  void resetCounters();

  FaultRng& rng() { return rng_; }
  OptionalFaultProfile faults;  // overrides the global profile when set
  PartnerListing partner;       // how the partner API's getInstances lists this instance
  // Control API: while notAuthorized, qr and scanqrcode answer passkeyRequired instead of a QR
  // (the account asks the phone for a passkey). Fits in the padding after `partner`.
  bool passkeyRequired = false;

 private:
  using StateIndex = std::uint8_t;  // into the table of state names
  struct Step {
    base::SteadyTime at;
    StateIndex to;
  };
  // One method called since creation: its counters and, when the method is rate-limited, its
  // window. `name` is interned (options_.rateLimits' key or a process-wide table).
  struct MethodUse {
    const std::string* name;
    bool counted = false;  // counters touched since the last reset
    MethodCounters counters;
    std::optional<RateWindow> window;
  };
  // The PNG of the current rotation and the 5-minute quirk's run: only while polled for QR.
  struct QrPolling {
    std::optional<std::uint64_t> png_rotation;
    std::string png_base64;
    std::optional<base::SteadyTime> run_start;
    base::SteadyTime last_poll;
  };
  void enter(StateIndex to, base::SteadyTime now, std::vector<Transition>& out);
  void scheduleInitialization(base::SteadyTime now);
  MethodUse& use(const std::string& method);

  std::int64_t id_;
  const EmulatorOptions& options_;
  StateIndex state_;
  std::vector<Step> steps_;  // timed transitions, earliest first (at most a few)
  // QR rotation: counter = qr_base_ + (now - qr_epoch_) / rotation; qr_base_ moves on each new
  // notAuthorized period so payloads never repeat.
  base::SteadyTime qr_epoch_;
  std::uint64_t qr_base_ = 0;
  std::unique_ptr<QrPolling> qr_;  // made by the first qr poll or PNG; dropped on a state change
  std::vector<MethodUse> methods_;
  FaultRng rng_;
  std::unique_ptr<PairingCode> pairing_;  // only while a code was asked for
};

// Deterministic 64-bit mixing (splitmix64), for tokens and QR payloads derived from --seed.
std::uint64_t mix64(std::uint64_t x);
// 50 lowercase hex characters, deterministic from (seed, id).
std::string tokenFor(std::uint64_t seed, std::int64_t id);

}  // namespace greenfleet::emulator
