#pragma once
// QrSession: one scan session of one instance (DESIGN §5). While it lasts the scheduler polls
// `qr` every `pollInterval` (Green API: the QR rotates every 20 s, poll with a 1 s delay,
// green-api.md §2) and keeps the latest answer in memory only. A session lasts `idleLength` and
// is extended by each fetch of its QR, but a run of back-to-back sessions never exceeds `maxRun`:
// polling qr for ~5 min pushes a real instance into `starting` (issue #285). The scheduler owns
// sessions; this type is a plain value taking `now`. Not thread-safe.

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>

#include "base/clock.hpp"
#include "fleet/qr_kind.hpp"
#include "scheduler/qr_stream_plan.hpp"

namespace greenfleet::scheduler {

using base::Duration;
using base::SteadyTime;

// Where a session takes its QR from: the scanqrcode websocket (falling back to polling when it
// cannot be used), or polling `qr`. The service's default is websocket (sessions.transport);
// this struct defaults to poll, the transport that needs no socket layer around the core.
enum class QrTransport { websocket, poll };
std::optional<QrTransport> parseQrTransport(std::string_view name);

struct QrSessionConfig {
  bool autoStartOnNotAuthorized = true;
  QrTransport transport = QrTransport::poll;
  QrStreamConfig stream;
  Duration pollInterval = std::chrono::seconds(1);
  Duration idleLength = std::chrono::seconds(120);
  Duration maxRun = std::chrono::minutes(4);
  // A run ends only after this long without any session; a session started sooner continues the
  // previous run (and its maxRun budget). After a run hits maxRun, no session until this passes.
  Duration cooldown = std::chrono::minutes(2);
  Duration qrTtl = std::chrono::seconds(20);
  std::size_t maxConcurrent = 50;
};

// The latest qr answer of an instance.
struct QrSnapshot {
  std::string type;  // verbatim
  fleet::QrKind kind = fleet::QrKind::other;
  std::string message;  // base64 PNG for qrCode; text otherwise
  SteadyTime fetchedAt{};
  SteadyTime expiresAt{};  // fetchedAt + qrTtl
};

enum class SessionOrigin { operatorRequest, automatic };

enum class SessionEnd {
  idle,           // nobody fetched the QR for idleLength
  maxRun,         // hit the run cap; a cooldown follows
  alreadyLogged,  // qr answered alreadyLogged
  stateChanged,   // a reading or webhook showed a state other than notAuthorized
  removed,        // instance removed from the registry
};
std::string_view sessionEndName(SessionEnd end);

class QrSession {
 public:
  QrSession(SteadyTime now, SteadyTime runStartedAt, SessionOrigin origin,
            const QrSessionConfig& config);

  // Someone fetched the QR: extend to now + idleLength, never past the run cap.
  void touch(SteadyTime now);
  SteadyTime endsAt() const;
  SteadyTime runCapAt() const { return runStartedAt_ + maxRun_; }
  bool isOver(SteadyTime now) const { return now >= endsAt(); }
  // Why a session that is over ended: the run cap or idleness.
  SessionEnd expiryReason() const;

  SteadyTime nextPollAt() const { return nextPollAt_; }
  // A qr request that started at `started` finished at `finished`.
  void polled(SteadyTime started, SteadyTime finished);

  SteadyTime startedAt() const { return startedAt_; }
  SteadyTime runStartedAt() const { return runStartedAt_; }
  SessionOrigin origin() const { return origin_; }

 private:
  SteadyTime startedAt_;
  SteadyTime runStartedAt_;
  SteadyTime idleEndsAt_;
  SteadyTime nextPollAt_;
  SessionOrigin origin_;
  Duration idleLength_;
  Duration maxRun_;
  Duration pollInterval_;
};

}  // namespace greenfleet::scheduler
