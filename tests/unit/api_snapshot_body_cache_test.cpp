#include <doctest/doctest.h>

#include "api/snapshot_body_cache.hpp"
#include "base/clock.hpp"

using greenfleet::api::SnapshotBodyCache;

TEST_CASE("SnapshotBodyCache renders once per snapshot and query, and again for a new snapshot") {
  greenfleet::base::ManualClock clock;
  SnapshotBodyCache cache{clock};
  int renders = 0;
  const auto render = [&] { return "body " + std::to_string(++renders); };
  const std::shared_ptr<const void> first = std::make_shared<int>(1);
  CHECK(cache.get(first, "a", render)->body() == "body 1");
  CHECK(cache.get(first, "a", render)->body() == "body 1");
  CHECK(cache.get(first, "b", render)->body() == "body 2");
  const std::shared_ptr<const void> second = std::make_shared<int>(2);
  CHECK(cache.get(second, "a", render)->body() == "body 3");
  CHECK(cache.get(second, "a", render)->body() == "body 3");
  CHECK(renders == 3);
}

TEST_CASE("SnapshotBodyCache peeks only at bodies rendered from the same snapshot") {
  greenfleet::base::ManualClock clock;
  SnapshotBodyCache cache{clock};
  const std::shared_ptr<const void> first = std::make_shared<int>(1);
  CHECK(cache.peek(first, "a") == nullptr);
  const auto body = cache.get(first, "a", [] { return std::string("x"); });
  CHECK(cache.peek(first, "a") == body);
  CHECK(cache.peek(first, "b") == nullptr);
  CHECK(cache.peek(std::make_shared<int>(2), "a") == nullptr);
}

TEST_CASE("SnapshotBodyCache offers the previous body only while a newer one is being made") {
  greenfleet::base::ManualClock clock;
  SnapshotBodyCache cache{clock};
  const std::shared_ptr<const void> first = std::make_shared<int>(1);
  const std::shared_ptr<const void> second = std::make_shared<int>(2);
  const auto old_body = cache.get(first, "a", [] { return std::string("old"); });
  // Nobody is rendering for `second`: a reader of `second` must not get the old bytes.
  CHECK(cache.recent("a", std::chrono::seconds(1), second) == nullptr);
  // Without a snapshot (the snapshot itself is being rebuilt): the newest body, if recent.
  CHECK(cache.recent("a", std::chrono::seconds(1)) == old_body);
  CHECK(cache.recent("b", std::chrono::seconds(1)) == nullptr);
  // While `second` renders, its readers get the old body instead of waiting.
  std::shared_ptr<const greenfleet::api::CachedBody> seen;
  const auto fresh = cache.get(second, "a", [&] {
    seen = cache.recent("a", std::chrono::seconds(1), second);
    return std::string("new");
  });
  CHECK(seen == old_body);
  CHECK(cache.peek(second, "a") == fresh);
  CHECK(fresh->body() == "new");
}

TEST_CASE("SnapshotBodyCache ages bodies on the injected clock") {
  greenfleet::base::ManualClock clock;
  SnapshotBodyCache cache{clock};
  const std::shared_ptr<const void> snapshot = std::make_shared<int>(1);
  const auto body = cache.get(snapshot, "a", [] { return std::string("body"); });
  clock.advance(std::chrono::milliseconds(1000));
  CHECK(cache.recent("a", std::chrono::seconds(1)) == body);
  clock.advance(std::chrono::milliseconds(1));
  CHECK(cache.recent("a", std::chrono::seconds(1)) == nullptr);
}
