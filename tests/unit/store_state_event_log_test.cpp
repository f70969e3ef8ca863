#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "base/clock.hpp"
#include "store/database.hpp"
#include "store/instance_repository.hpp"
#include "store/state_event_log.hpp"
#include "store/status_writer.hpp"
#include "support/migrated_store.hpp"

using namespace greenfleet;
using namespace greenfleet::store;

namespace {

struct EventFixture : testing::MigratedStore {
  StatusWriter writer{db, clock};

  EventFixture() { addInstances({1, 2}); }

  // Appends one transition per entry, in order, and commits them.
  void record(const std::vector<std::tuple<std::int64_t, std::int64_t, std::string>>& events) {
    for (const auto& [id, at_ms, source] : events) {
      StatusUpdate u;
      u.id = id;
      u.state = "authorized";
      u.transition = EventRow{at_ms, "notAuthorized", "authorized", source};
      writer.enqueue(std::move(u));
    }
    writer.flush();
  }
};

std::vector<std::int64_t> timesOf(const std::vector<StateEvent>& events) {
  std::vector<std::int64_t> out;
  for (const auto& e : events) out.push_back(e.at_ms);
  return out;
}

}  // namespace

TEST_CASE("after pages through events in seq order with limit, instance and source filters") {
  EventFixture f;
  f.record({{1, 10, "poll"},
            {2, 20, "webhook"},
            {1, 30, "webhook"},
            {2, 40, "poll"},
            {1, 50, "action"},
            {1, 60, "poll"},
            {2, 70, "poll"}});
  StateEventLog log(f.db);

  SUBCASE("pages of three cover everything once, in order") {
    std::vector<StateEvent> all;
    std::int64_t cursor = 0;
    std::size_t pages = 0;
    while (true) {
      const auto page = log.after(cursor, 3);
      if (page.empty()) break;
      ++pages;
      CHECK(page.size() <= 3);
      all.insert(all.end(), page.begin(), page.end());
      cursor = page.back().seq;
    }
    CHECK(pages == 3);
    CHECK(timesOf(all) == std::vector<std::int64_t>{10, 20, 30, 40, 50, 60, 70});
    CHECK(cursor == log.latestSeq());
    CHECK(all[1].id == 2);
    CHECK(all[1].from_state == "notAuthorized");
    CHECK(all[1].to_state == "authorized");
    CHECK(all[1].source == "webhook");
  }
  SUBCASE("one instance") {
    CHECK(timesOf(log.after(0, 100, 1)) == std::vector<std::int64_t>{10, 30, 50, 60});
  }
  SUBCASE("one source") {
    CHECK(timesOf(log.after(0, 100, std::nullopt, "poll")) ==
          std::vector<std::int64_t>{10, 40, 60, 70});
  }
  SUBCASE("instance and source together, after a cursor, limited") {
    const auto first = log.after(0, 1, 1, "webhook");
    REQUIRE(first.size() == 1);
    CHECK(first[0].at_ms == 30);
    CHECK(log.after(first[0].seq, 10, 1, "webhook").empty());
    CHECK(timesOf(log.after(first[0].seq, 1, 1)) == std::vector<std::int64_t>{50});
  }
  SUBCASE("nothing after the latest seq, nothing for a zero limit") {
    CHECK(log.after(log.latestSeq(), 10).empty());
    CHECK(log.after(0, 0).empty());
  }
}

TEST_CASE("history returns one instance's events newest first") {
  EventFixture f;
  f.record({{1, 10, "poll"}, {2, 20, "poll"}, {1, 30, "webhook"}, {1, 40, "action"}});
  StateEventLog log(f.db);
  CHECK(timesOf(log.history(1, 10)) == std::vector<std::int64_t>{40, 30, 10});
  CHECK(timesOf(log.history(1, 2)) == std::vector<std::int64_t>{40, 30});
  CHECK(timesOf(log.history(2, 10)) == std::vector<std::int64_t>{20});
  CHECK(log.history(3, 10).empty());
}

TEST_CASE("pruneOlderThan deletes old events in chunks and keeps the newer ones") {
  EventFixture f;
  StateEventLog log(f.db, 7);
  CHECK(log.latestSeq() == 0);

  std::int64_t old_count = 0;
  SUBCASE("a partial last chunk") { old_count = 30; }
  SUBCASE("an exact multiple of the chunk") { old_count = 28; }
  std::vector<std::tuple<std::int64_t, std::int64_t, std::string>> events;
  for (std::int64_t k = 0; k < old_count; ++k) events.emplace_back(1 + k % 2, 1000 + k, "poll");
  for (std::int64_t k = 0; k < 5; ++k) events.emplace_back(1, 5000 + k, "poll");
  f.record(events);
  const auto latest = log.latestSeq();
  REQUIRE(latest == old_count + 5);

  CHECK(log.pruneOlderThan(5000) == static_cast<std::size_t>(old_count));
  CHECK(timesOf(log.after(0, 100)) == std::vector<std::int64_t>{5000, 5001, 5002, 5003, 5004});
  CHECK(log.pruneOlderThan(5000) == 0);

  CHECK(log.pruneOlderThan(10000) == 5);
  CHECK(log.after(0, 100).empty());
  // A cursor taken before the prune stays valid: seq is never reused.
  CHECK(log.latestSeq() == latest);
  f.record({{2, 20000, "poll"}});
  const auto fresh = log.after(latest, 10);
  REQUIRE(fresh.size() == 1);
  CHECK(fresh[0].seq == latest + 1);
}
