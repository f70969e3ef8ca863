#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

#include "scheduler/intern_pool.hpp"

using greenfleet::scheduler::InternPool;

TEST_CASE("InternPool hands out one shared copy per distinct value") {
  InternPool<std::string> urls;
  const auto a = urls.intern("http://127.0.0.1:9090");
  const auto b = urls.intern(std::string("http://127.0.0.1:") + "9090");
  const auto c = urls.intern("https://api.green-api.com");
  CHECK(a.get() == b.get());
  CHECK(a.get() != c.get());
  CHECK(*c == "https://api.green-api.com");
  CHECK(urls.size() == 2);

  InternPool<std::vector<std::string>> tags;
  CHECK(tags.intern({"eu", "sales"}).get() == tags.intern({"eu", "sales"}).get());
  CHECK(tags.intern({"sales", "eu"}).get() != tags.intern({"eu", "sales"}).get());  // order kept
  CHECK(*tags.intern({}) == std::vector<std::string>{});
}

TEST_CASE("InternPool drops values nobody holds once it has doubled, and keeps held ones") {
  InternPool<std::string> pool;
  const auto kept = pool.intern("kept");
  for (int i = 0; i < 63; ++i) pool.intern("gone-" + std::to_string(i));  // dropped at once
  CHECK(pool.size() == 64);
  const auto fresh = pool.intern("fresh");  // the 65th: the sweep runs first
  CHECK(pool.size() == 2);
  CHECK(pool.intern("kept").get() == kept.get());
  CHECK(pool.intern("fresh").get() == fresh.get());
}
