#include <doctest/doctest.h>

#include <chrono>

#include "scheduler/probe_scheduler.hpp"
#include "scheduler/qr_stream_plan.hpp"

using namespace greenfleet;
using namespace greenfleet::scheduler;
using namespace std::chrono_literals;

namespace {

const SteadyTime kT0 = SteadyTime(std::chrono::hours(1));

SchedulerConfig streamingConfig() {
  SchedulerConfig cfg;
  cfg.sessions.transport = QrTransport::websocket;
  return cfg;
}

// A notAuthorized instance as loaded at start, with a session started at kT0.
void startStreamedSession(ProbeScheduler& s, fleet::InstanceId id = 1) {
  fleet::InstanceStatus st = fleet::InstanceStatus::registered(kT0 - 24h);
  st.state = fleet::InstanceState::fromRaw("notAuthorized");
  st.stateSince = kT0 - 1h;
  st.lastOkAt = kT0;
  st.lastReadingAt = kT0;
  s.upsertInstance(InstanceSpec{id, "api.green-api.com", st.registeredAt, st}, kT0);
  REQUIRE(s.startSession(id, kT0).status == SessionStartStatus::started);
}

std::size_t qrJobsUntil(ProbeScheduler& s, SteadyTime from, SteadyTime end) {
  std::size_t polls = 0;
  for (SteadyTime now = from; now <= end; now += 100ms) {
    for (const Job& job : s.takeDue(now, 100)) {
      if (job.method == Method::qr) ++polls;
      s.onResult(job,
                 job.method == Method::qr ? Outcome::qrAnswer("qrCode", "iVBORw0KGgo=")
                                          : Outcome::stateReading("notAuthorized"),
                 now);
    }
  }
  return polls;
}

}  // namespace

TEST_CASE("QrStreamPlan: connections are spaced by a second and QR frames keep the socket") {
  QrStreamPlan plan(QrStreamConfig{});
  CHECK(plan.nextConnectAt() == SteadyTime{});
  plan.connecting(kT0);
  CHECK(plan.nextConnectAt() == kT0 + 1100ms);
  CHECK(plan.connections() == 1);
  CHECK(plan.frame("qrCode", kT0 + 1s) == StreamStep::keepReading);
  CHECK(plan.frame("passkeyRequired", kT0 + 2s) == StreamStep::keepReading);
  CHECK(plan.frame("accountData", kT0 + 3s) == StreamStep::endAuthorized);
  CHECK(plan.frame("alreadyLogged", kT0 + 3s) == StreamStep::endAlreadyLogged);
  CHECK_FALSE(plan.fellBack());
}

TEST_CASE("QrStreamPlan: the timeout frame in either spelling reconnects and is no failure") {
  QrStreamPlan plan(QrStreamConfig{});
  for (int i = 0; i < 10; ++i) {
    plan.connecting(kT0 + i * 100s);
    CHECK(plan.frame(i % 2 ? "timeout" : "timeoutExpired", kT0 + i * 100s + 100s) ==
          StreamStep::reconnect);
  }
  CHECK_FALSE(plan.fellBack());
  CHECK(plan.connections() == 10);
}

TEST_CASE("QrStreamPlan: a refused upgrade falls back to polling at once") {
  QrStreamPlan plan(QrStreamConfig{});
  plan.connecting(kT0);
  CHECK(plan.refused(kT0) == StreamStep::fallBack);
  CHECK(plan.fellBack());
}

TEST_CASE("QrStreamPlan: maxFailures attempts in a row without a QR fall back; a QR resets") {
  QrStreamConfig cfg;
  cfg.maxFailures = 3;
  QrStreamPlan plan(cfg);
  plan.connecting(kT0);
  CHECK(plan.failed(kT0) == StreamStep::reconnect);
  plan.connecting(kT0 + 2s);
  CHECK(plan.frame("error", kT0 + 2s) == StreamStep::reconnect);
  plan.connecting(kT0 + 4s);
  CHECK(plan.frame("qrCode", kT0 + 4s) == StreamStep::keepReading);
  CHECK(plan.closed(kT0 + 30s) == StreamStep::reconnect);  // had a QR: a healthy end
  for (int i = 0; i < 2; ++i) {
    plan.connecting(kT0 + 40s + i * 2s);
    CHECK(plan.closed(kT0 + 40s + i * 2s) == StreamStep::reconnect);
  }
  plan.connecting(kT0 + 50s);
  CHECK(plan.failed(kT0 + 50s) == StreamStep::fallBack);
  CHECK(plan.fellBack());
}

TEST_CASE("A streamed session issues no qr polls; its frames update the QR like a qr answer") {
  ProbeScheduler s(streamingConfig(), 1);
  startStreamedSession(s);
  CHECK(s.streamedSessions().count(1) == 1);
  CHECK(qrJobsUntil(s, kT0, kT0 + 20s) == 0);
  REQUIRE(s.streamConnectAt(1, kT0 + 20s).has_value());
  s.streamConnecting(1, kT0 + 20s);
  CHECK(*s.streamConnectAt(1, kT0 + 20s) == kT0 + 20s + 1100ms);

  const auto report = s.onStreamFrame(1, "qrCode", "iVBORw0KGgo=", kT0 + 21s);
  CHECK(report.step == StreamStep::keepReading);
  REQUIRE(report.update.has_value());
  const auto qr = s.latestQr(1, kT0 + 21s);
  REQUIRE(qr.has_value());
  CHECK(qr->kind == fleet::QrKind::qrCode);
  CHECK(qr->message == "iVBORw0KGgo=");
  CHECK(qr->expiresAt == kT0 + 41s);
  CHECK(s.status(1)->qrOffered);
}

TEST_CASE("accountData ends a streamed session with the instance authorized") {
  ProbeScheduler s(streamingConfig(), 2);
  startStreamedSession(s);
  s.streamConnecting(1, kT0);
  s.onStreamFrame(1, "qrCode", "iVBORw0KGgo=", kT0 + 1s);
  const auto report = s.onStreamFrame(1, "accountData", "", kT0 + 5s);
  CHECK(report.step == StreamStep::endAuthorized);
  REQUIRE(report.update.has_value());
  REQUIRE(report.update->transition.has_value());
  CHECK(report.update->transition->to.raw() == "authorized");
  CHECK(report.update->sessionEnded == SessionEnd::stateChanged);
  CHECK(s.status(1)->state.raw() == "authorized");
  CHECK_FALSE(s.session(1, kT0 + 5s).has_value());
  CHECK(s.streamedSessions().empty());
  CHECK_FALSE(s.streamConnectAt(1, kT0 + 6s).has_value());
  CHECK_FALSE(s.latestQr(1, kT0 + 6s).has_value());
}

TEST_CASE("alreadyLogged on the socket ends the session and probes the state now") {
  ProbeScheduler s(streamingConfig(), 3);
  startStreamedSession(s);
  s.streamConnecting(1, kT0);
  const auto report =
      s.onStreamFrame(1, "alreadyLogged", "instance account already authorized", kT0 + 1s);
  CHECK(report.step == StreamStep::endAlreadyLogged);
  REQUIRE(report.update.has_value());
  CHECK(report.update->sessionEnded == SessionEnd::alreadyLogged);
  CHECK(report.update->nextProbeAt <= kT0 + 2100ms);  // bounded by the state method's pacing
}

TEST_CASE("A refused socket makes the session poll qr for the rest of it") {
  ProbeScheduler s(streamingConfig(), 4);
  startStreamedSession(s);
  s.streamConnecting(1, kT0);
  CHECK(s.onStreamRefused(1, kT0 + 10ms) == StreamStep::fallBack);
  CHECK(s.streamedSessions().empty());
  CHECK_FALSE(s.streamConnectAt(1, kT0 + 20ms).has_value());
  CHECK(qrJobsUntil(s, kT0 + 20ms, kT0 + 10s) >= 9);
  CHECK(s.session(1, kT0 + 10s).has_value());
}

TEST_CASE("A streamed session still ends at its cap; removing the instance drops its stream") {
  ProbeScheduler s(streamingConfig(), 5);
  startStreamedSession(s, 1);
  startStreamedSession(s, 2);
  CHECK(s.streamedSessions().size() == 2);
  CHECK_FALSE(s.streamConnectAt(1, kT0 + 121s).has_value());  // idle end (120 s)
  CHECK(s.onStreamFrame(1, "qrCode", "x", kT0 + 121s).step == StreamStep::fallBack);
  CHECK(s.streamedSessions().count(1) == 0);
  s.removeInstance(2);
  CHECK(s.streamedSessions().empty());
}
