#include <doctest/doctest.h>

#include "api/snapshot_body_cache.hpp"

using greenfleet::api::SnapshotBodyCache;

TEST_CASE("SnapshotBodyCache renders once per snapshot and query, and again for a new snapshot") {
  SnapshotBodyCache cache;
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
  SnapshotBodyCache cache;
  const std::shared_ptr<const void> first = std::make_shared<int>(1);
  CHECK(cache.peek(first, "a") == nullptr);
  const auto body = cache.get(first, "a", [] { return std::string("x"); });
  CHECK(cache.peek(first, "a") == body);
  CHECK(cache.peek(first, "b") == nullptr);
  CHECK(cache.peek(std::make_shared<int>(2), "a") == nullptr);
}
