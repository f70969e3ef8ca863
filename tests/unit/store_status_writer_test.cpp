#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <vector>

#include <Poco/AutoPtr.h>
#include <Poco/Channel.h>
#include <Poco/Logger.h>
#include <Poco/Message.h>
#include <fmt/format.h>

#include "base/clock.hpp"
#include "store/database.hpp"
#include "store/instance_repository.hpp"
#include "store/migrator.hpp"
#include "store/state_event_log.hpp"
#include "store/status_writer.hpp"
#include "support/migrated_store.hpp"
#include "support/temp_dir.hpp"
#include "support/wait_for.hpp"

using namespace greenfleet;
using namespace greenfleet::store;
using namespace std::chrono_literals;

const base::SystemClock kSystemClock;  // real waits: some tests stop a writer whose database fails

namespace {

constexpr auto kNever = std::chrono::hours(1);  // batches commit only on flush, size or stop

using StoreFixture = testing::MigratedStore;

StatusUpdate update(std::int64_t id, std::string state, int failures = 0) {
  StatusUpdate u;
  u.id = id;
  u.state = std::move(state);
  u.state_since_ms = 1767225600000 + failures;
  u.attention = failures > 0 ? "probe_failing" : "none";
  u.last_checked_at_ms = 1767225601000 + failures;
  u.consecutive_failures = failures;
  u.next_check_at_ms = 1767225660000;
  return u;
}

StatusUpdate transition(std::int64_t id, std::optional<std::string> from, std::string to,
                        std::int64_t at_ms, std::string source = "poll") {
  StatusUpdate u = update(id, to);
  u.transition = EventRow{at_ms, std::move(from), to, std::move(source)};
  return u;
}

}  // namespace

TEST_CASE(
    "StatusWriter coalesces updates of one instance to the latest row but keeps every transition") {
  StoreFixture f;
  f.addInstances({1101000001, 1101000002});
  StatusWriter writer(f.db, kSystemClock, kNever);
  writer.start();

  writer.enqueue(transition(1101000001, std::nullopt, "starting", 1000));
  writer.enqueue(transition(1101000001, "starting", "notAuthorized", 2000, "webhook"));
  writer.enqueue(transition(1101000002, std::nullopt, "authorized", 2500));
  auto latest = transition(1101000001, "notAuthorized", "authorized", 3000, "action");
  latest.needs_scan = false;
  latest.last_ok_at_ms = 1767225603000;
  latest.phone = "79001234567";
  latest.last_error_code = "timeout";
  latest.last_error = "upstream timed out";
  latest.consecutive_failures = 2;
  latest.attention = "probe_failing";
  writer.enqueue(latest);
  CHECK(writer.pendingCount() == 4);
  writer.flush();

  CHECK(writer.pendingCount() == 0);
  CHECK(writer.committedBatches() == 1);
  CHECK(writer.lastCommitAt().has_value());

  const auto row = f.instances.get(1101000001);
  REQUIRE(row.has_value());
  const auto& st = row->status;
  CHECK(st.state == "authorized");
  CHECK(st.attention == "probe_failing");
  CHECK(st.consecutive_failures == 2);
  CHECK(st.last_ok_at_ms == 1767225603000);
  CHECK(st.phone == "79001234567");
  CHECK(st.last_error_code == "timeout");
  CHECK(st.last_error == "upstream timed out");
  CHECK(st.next_check_at_ms == 1767225660000);
  CHECK(f.instances.get(1101000002)->status.state == "authorized");

  const auto events = StateEventLog(f.db).after(0, 100);
  REQUIRE(events.size() == 4);
  CHECK(events[0].id == 1101000001);
  CHECK_FALSE(events[0].from_state.has_value());
  CHECK(events[0].to_state == "starting");
  CHECK(events[1].from_state == "starting");
  CHECK(events[1].source == "webhook");
  CHECK(events[2].id == 1101000002);
  CHECK(events[3].to_state == "authorized");
  CHECK(events[3].at_ms == 3000);
  CHECK(events[3].source == "action");
}

TEST_CASE("StatusWriter replaces the whole row, clearing fields the latest update leaves empty") {
  StoreFixture f;
  f.addInstances({7});
  StatusWriter writer(f.db, kSystemClock, kNever);
  writer.start();
  auto failing = update(7, "yellowCard", 3);
  failing.last_error_code = "http_500";
  failing.phone = "79001234567";
  writer.enqueue(failing);
  writer.flush();
  REQUIRE(f.instances.get(7)->status.last_error_code == "http_500");

  writer.enqueue(update(7, "authorized"));
  writer.flush();
  const auto st = f.instances.get(7)->status;
  CHECK(st.state == "authorized");
  CHECK(st.consecutive_failures == 0);
  CHECK_FALSE(st.last_error_code.has_value());
  CHECK_FALSE(st.phone.has_value());
  CHECK(writer.committedBatches() == 2);
}

TEST_CASE("flush makes rows visible to another connection") {
  StoreFixture f;
  f.addInstances({42});
  StatusWriter writer(f.db, kSystemClock, kNever);

  SUBCASE("with the writer thread running") { writer.start(); }
  SUBCASE("without a thread, committing in the caller") {}

  writer.enqueue(transition(42, "notAuthorized", "authorized", 5000));
  writer.flush();

  Database other(DatabaseOptions{.path = f.options.path});
  InstanceRepository reader(other, f.clock, f.cipher);
  const auto row = reader.get(42);
  REQUIRE(row.has_value());
  CHECK(row->status.state == "authorized");
  CHECK(row->status.last_checked_at_ms == 1767225601000);
  CHECK(StateEventLog(other).history(42, 10).size() == 1);
}

TEST_CASE("an update for a deleted instance is skipped without losing the rest of the batch") {
  StoreFixture f;
  f.addInstances({1, 2, 3});
  REQUIRE(f.instances.remove(2));
  StatusWriter writer(f.db, kSystemClock, kNever);
  writer.start();

  writer.enqueue(transition(1, std::nullopt, "authorized", 100));
  writer.enqueue(transition(2, std::nullopt, "authorized", 200));
  writer.enqueue(transition(3, std::nullopt, "blocked", 300));
  writer.flush();

  CHECK(writer.failedBatches() == 0);
  CHECK(writer.pendingCount() == 0);
  CHECK(f.instances.get(1)->status.state == "authorized");
  CHECK(f.instances.get(3)->status.state == "blocked");
  CHECK_FALSE(f.instances.get(2).has_value());
  CHECK(f.instances.count() == 2);
  // The history of a deleted instance is still worth keeping: no foreign key there.
  const auto events = StateEventLog(f.db).after(0, 10);
  REQUIRE(events.size() == 3);
  CHECK(events[1].id == 2);
}

TEST_CASE("stop commits everything enqueued before it") {
  StoreFixture f;
  f.addInstances({10, 11});
  StatusWriter writer(f.db, kSystemClock, kNever);
  writer.start();
  writer.enqueue(update(10, "authorized"));
  writer.enqueue(transition(11, "authorized", "sleepMode", 900));

  CHECK(writer.stop());

  CHECK(writer.pendingCount() == 0);
  CHECK(writer.committedBatches() == 1);
  CHECK(f.instances.get(10)->status.state == "authorized");
  CHECK(f.instances.get(11)->status.state == "sleepMode");
  CHECK(StateEventLog(f.db).latestSeq() == 1);
}

TEST_CASE("a batch commits on its own within the batch delay") {
  StoreFixture f;
  f.addInstances({5});
  StatusWriter writer(f.db, kSystemClock, 20ms);
  writer.start();
  writer.enqueue(update(5, "authorized"));
  CHECK(testing::waitFor([&] { return writer.committedBatches() == 1; }, 10s, 5ms));
  CHECK(writer.pendingCount() == 0);
  CHECK(f.instances.get(5)->status.state == "authorized");
}

TEST_CASE("a locked database delays a batch but loses no update and keeps transition order") {
  StoreFixture f;
  f.addInstances({8});
  Database locked_db(DatabaseOptions{.path = f.options.path, .busy_timeout_ms = 20});
  StatusWriter writer(locked_db, kSystemClock, 10ms);
  writer.start();

  auto blocker = f.db.acquire();
  auto tx = std::make_unique<WriteTransaction>(*blocker);
  writer.enqueue(transition(8, std::nullopt, "notAuthorized", 100));
  REQUIRE(testing::waitFor([&] { return writer.failedBatches() >= 1; }, 10s, 5ms));
  writer.enqueue(transition(8, "notAuthorized", "authorized", 200));
  CHECK(writer.pendingCount() == 2);
  tx.reset();  // rolls back: the lock is released

  writer.flush();
  CHECK(writer.pendingCount() == 0);
  CHECK(f.instances.get(8)->status.state == "authorized");
  const auto events = StateEventLog(f.db).history(8, 10);
  REQUIRE(events.size() == 2);
  CHECK(events[0].to_state == "authorized");
  CHECK(events[1].to_state == "notAuthorized");
}

TEST_CASE("a stop that cannot reach the database gives up at its deadline and says so") {
  StoreFixture f;
  f.addInstances({9});
  Database locked_db(DatabaseOptions{.path = f.options.path, .busy_timeout_ms = 10});
  StatusWriter writer(locked_db, kSystemClock, kNever);
  writer.start();
  auto blocker = f.db.acquire();
  WriteTransaction tx(*blocker);
  writer.enqueue(update(9, "authorized"));

  CHECK_FALSE(writer.stop(100ms));
  CHECK(writer.failedBatches() >= 1);
  CHECK(writer.pendingCount() == 0);
}

TEST_CASE("fifty thousand updates commit in a bounded number of batches") {
  StoreFixture f;
  std::vector<std::int64_t> ids;
  for (std::int64_t id = 1; id <= 1000; ++id) ids.push_back(id);
  f.addInstances(ids);
  StatusWriter writer(f.db, kSystemClock, kNever);
  writer.start();

  constexpr int kUpdates = 50000;
  for (int k = 0; k < kUpdates; ++k) {
    const std::int64_t id = k % 1000 + 1;
    auto u = update(id, "authorized", k);
    if (k % 10 == 0) u.transition = EventRow{k, "notAuthorized", "authorized", "poll"};
    writer.enqueue(std::move(u));
  }
  writer.flush();

  CHECK(writer.pendingCount() == 0);
  CHECK(writer.committedBatches() >= 1);
  // Only a full batch wakes the writer early, so each batch but the flushed one is large.
  CHECK(writer.committedBatches() <= kUpdates / 10000 + 1);
  CHECK(f.instances.get(1)->status.consecutive_failures == 49000);
  CHECK(f.instances.get(1000)->status.consecutive_failures == 49999);
  StateEventLog log(f.db);
  CHECK(log.latestSeq() == kUpdates / 10);
  CHECK(log.history(1, 1).front().at_ms == 49000);
}

TEST_CASE("StatusWriter on an in-memory database writes through the shared connection") {
  Database db(DatabaseOptions{.path = ":memory:"});
  Migrator(db).migrate();
  base::ManualClock clock;
  TokenCipher cipher(TokenCipher::generateKey());
  InstanceRepository instances(db, clock, cipher);
  fleet::RegisteredInstance in;
  in.id = 77;
  in.token = "1f2485e80f474293b935f77d78c64e76fa4bdceb417a4998a4";
  REQUIRE(instances.create({in}).has_value());
  StatusWriter writer(db, kSystemClock, kNever);
  writer.start();
  writer.enqueue(transition(77, std::nullopt, "authorized", 1));
  writer.flush();
  CHECK(instances.get(77)->status.state == "authorized");
  CHECK(StateEventLog(db).latestSeq() == 1);
}

TEST_CASE("the writer forgets seqs below the publishers' floor yet still drops a stale row") {
  StoreFixture f;
  StatusWriter writer(f.db, kSystemClock, kNever);
  // Thousands of instances, each updated once, every publish finished before the next.
  for (std::uint64_t seq = 1; seq <= 5000; ++seq) {
    auto u = update(static_cast<std::int64_t>(seq), "authorized");
    u.seq = seq;
    u.seq_floor = seq;
    writer.enqueue(u);
  }
  CHECK(writer.rememberedSeqs() <= 1024);
  // Two updates of one instance still on their way (floor 5001): the older arrives last.
  auto newer = update(7, "authorized");
  newer.seq = 5002;
  newer.seq_floor = 5001;
  auto older = update(7, "notAuthorized");
  older.seq = 5001;
  older.seq_floor = 5001;
  writer.enqueue(newer);
  writer.enqueue(older);
  CHECK(writer.staleRowsDropped() == 1);
}

namespace {
// Counts the store logger's lines that contain `needle` while it is installed.
class CountingChannel final : public Poco::Channel {
 public:
  explicit CountingChannel(std::string needle) : needle_(std::move(needle)) {}
  void log(const Poco::Message& m) override {
    if (m.getText().find(needle_) != std::string::npos) ++count;
  }
  int count = 0;

 private:
  std::string needle_;
};
}  // namespace

TEST_CASE("while the database fails the queue stays bounded: oldest events drop first, counted") {
  Poco::AutoPtr<CountingChannel> lines(new CountingChannel("event=status_updates_dropped"));
  Poco::Logger& store_log = Poco::Logger::get("store");
  Poco::AutoPtr<Poco::Channel> previous(store_log.getChannel(), true);
  store_log.setChannel(lines);
  StoreFixture f;
  std::vector<std::int64_t> ids;
  for (std::int64_t id = 1; id <= 13; ++id) ids.push_back(id);
  f.addInstances(ids);
  Database locked_db(DatabaseOptions{.path = f.options.path, .busy_timeout_ms = 10});
  std::uint64_t reported = 0;
  // No thread: flush() commits inline, so every step below is deterministic.
  StatusWriter writer(
      locked_db, kSystemClock, kNever,
      StatusWriterLimits{.max_pending = 10, .on_dropped = [&](std::uint64_t n) { reported += n; }});
  auto blocker = f.db.acquire();
  auto tx = std::make_unique<WriteTransaction>(*blocker);

  // 3 rows (coalesced) + 12 events = 15: the 5 oldest events go.
  std::int64_t at = 0;
  for (int round = 0; round < 4; ++round) {
    for (std::int64_t id = 1; id <= 3; ++id) {
      ++at;
      writer.enqueue(transition(id, "notAuthorized", fmt::format("s{}", at), at));
    }
  }
  CHECK(writer.droppedUpdates() == 5);
  // The failed batch is put back whole (exactly at the bound) and retried later.
  CHECK_THROWS(writer.flush());
  CHECK(writer.failedBatches() == 1);
  CHECK(writer.droppedUpdates() == 5);
  // Newer updates of the same ids coalesce with the put-back rows; each new event pushes out
  // the oldest one.
  for (int k = 0; k < 3; ++k) {
    ++at;
    writer.enqueue(transition(1, "x", fmt::format("s{}", at), at));
  }
  CHECK(writer.droppedUpdates() == 8);
  // Ten more ids: the remaining 7 events go first, then the rows of the 3 ids that came last.
  for (std::int64_t id = 4; id <= 13; ++id) writer.enqueue(update(id, "authorized"));
  CHECK(writer.droppedUpdates() == 18);
  CHECK(reported == 18);
  // Fourteen drops in a burst, one log line (at most one per interval).
  CHECK(lines->count == 1);
  store_log.setChannel(previous);

  tx.reset();
  writer.flush();
  CHECK(f.instances.get(1)->status.state == fmt::format("s{}", at));  // the newest of id 1
  CHECK(f.instances.get(2)->status.state == "s11");
  CHECK(f.instances.get(10)->status.state == "authorized");
  CHECK_FALSE(f.instances.get(11)->status.state.has_value());
  CHECK(StateEventLog(f.db).latestSeq() == 0);  // every event was pushed out by newer updates
}

TEST_CASE("the bound keeps the newest events when only events overflow") {
  StoreFixture f;
  f.addInstances({1});
  Database locked_db(DatabaseOptions{.path = f.options.path, .busy_timeout_ms = 10});
  StatusWriter writer(locked_db, kSystemClock, kNever, StatusWriterLimits{.max_pending = 4});
  auto blocker = f.db.acquire();
  auto tx = std::make_unique<WriteTransaction>(*blocker);
  for (std::int64_t at = 1; at <= 100; ++at) {
    writer.enqueue(transition(1, "a", fmt::format("s{}", at), at));
    if (at % 25 == 0) CHECK_THROWS(writer.flush());  // retried with newer updates in between
  }
  CHECK(writer.droppedUpdates() == 97);  // 1 row + 3 events kept
  tx.reset();
  writer.flush();
  const auto events = StateEventLog(f.db).history(1, 10);
  REQUIRE(events.size() == 3);
  CHECK(events[0].to_state == "s100");
  CHECK(events[2].to_state == "s98");
  CHECK(f.instances.get(1)->status.state == "s100");
}

TEST_CASE("the writer times its commits by the injected clock") {
  StoreFixture f;
  f.addInstances({1});
  StatusWriter writer(f.db, f.clock, kNever);
  writer.enqueue(update(1, "authorized"));
  f.clock.advance(42s);
  writer.flush();  // no thread: commits inline
  REQUIRE(writer.lastCommitAt().has_value());
  CHECK(*writer.lastCommitAt() == f.clock.steadyNow());
}
