#include <doctest/doctest.h>

#include "api/snapshot_body_cache.hpp"

using greenfleet::api::SnapshotBodyCache;

TEST_CASE("SnapshotBodyCache renders once per snapshot and query, and again for a new snapshot") {
  SnapshotBodyCache cache;
  int renders = 0;
  const auto render = [&] { return "body " + std::to_string(++renders); };
  const std::shared_ptr<const void> first = std::make_shared<int>(1);
  CHECK(*cache.get(first, "a", render) == "body 1");
  CHECK(*cache.get(first, "a", render) == "body 1");
  CHECK(*cache.get(first, "b", render) == "body 2");
  const std::shared_ptr<const void> second = std::make_shared<int>(2);
  CHECK(*cache.get(second, "a", render) == "body 3");
  CHECK(*cache.get(second, "a", render) == "body 3");
  CHECK(renders == 3);
}
