#include <doctest/doctest.h>

#include <string>
#include <tuple>
#include <vector>

#include "store/instance_repository.hpp"
#include "support/migrated_store.hpp"

using namespace greenfleet;
using namespace greenfleet::store;

namespace {

struct RepositoryFixture : testing::MigratedStore {
  InstanceRepository& repo = instances;
};

fleet::RegisteredInstance instance(std::int64_t id, std::vector<std::string> tags = {"bench"}) {
  fleet::RegisteredInstance in;
  in.id = id;
  in.api_url = "http://127.0.0.1:9";
  in.token = std::string(50, 'a');
  in.name = "shop " + std::to_string(id);
  in.tags = std::move(tags);
  return in;
}

// Every column the loader reads, as one comparable value.
auto columns(const InstanceRow& r) {
  const auto& in = r.instance;
  const auto& st = r.status;
  return std::tuple(in.id, in.api_url, in.token, in.name, in.tags, in.created_at, in.updated_at,
                    in.enabled, st.state, st.state_since_ms, st.attention, st.last_checked_at_ms,
                    st.last_ok_at_ms, st.consecutive_failures, st.last_error_code, st.last_error,
                    st.phone, st.next_check_at_ms);
}

}  // namespace

TEST_CASE("forEachRow streams every instance in id order, as get() reads it") {
  RepositoryFixture f;
  std::vector<fleet::RegisteredInstance> batch;
  batch.push_back(instance(3, {"eu", "quote\"d"}));
  batch.push_back(instance(1, {}));
  batch.push_back(instance(2));
  batch.back().enabled = false;
  REQUIRE(f.repo.create(batch).has_value());

  std::vector<InstanceRow> streamed;
  f.repo.forEachRow([&](const InstanceRow& row) { streamed.push_back(row); });
  REQUIRE(streamed.size() == 3);
  for (std::size_t k = 0; k < streamed.size(); ++k) {
    CHECK(streamed[k].instance.id == static_cast<std::int64_t>(k + 1));
    const auto stored = f.repo.get(streamed[k].instance.id);
    REQUIRE(stored.has_value());
    CHECK(columns(streamed[k]) == columns(*stored));
  }
  CHECK(streamed[2].instance.tags == std::vector<std::string>{"eu", "quote\"d"});
  CHECK(streamed[0].instance.tags.empty());
  CHECK_FALSE(streamed[1].instance.enabled);
  CHECK(streamed[0].instance.token == std::string(50, 'a'));
  CHECK_FALSE(streamed[0].status.state.has_value());
  CHECK(streamed[0].status.attention == "none");
}

TEST_CASE("a batch with an id already stored inserts nothing and names the row") {
  RepositoryFixture f;
  REQUIRE(f.repo.create({instance(5)}).has_value());
  const auto created = f.repo.create({instance(6), instance(7), instance(5), instance(8)});
  REQUIRE_FALSE(created.has_value());
  CHECK(created.error().index == 2);
  CHECK(created.error().id == 5);
  CHECK(f.repo.count() == 1);
  // The connection is usable again after the rolled-back batch.
  CHECK(f.repo.create({instance(6)}).has_value());
  CHECK(f.repo.count() == 2);
}

TEST_CASE("pages follow the filter and the cursor") {
  RepositoryFixture f;
  std::vector<fleet::RegisteredInstance> batch;
  for (std::int64_t id = 1; id <= 5; ++id) {
    batch.push_back(instance(
        id, id % 2 == 0 ? std::vector<std::string>{"even"} : std::vector<std::string>{"odd"}));
  }
  REQUIRE(f.repo.create(batch).has_value());
  InstanceFilter filter;
  filter.tag = "odd";
  filter.limit = 2;
  auto page = f.repo.list(filter);
  CHECK(page.total == 3);
  REQUIRE(page.items.size() == 2);
  CHECK(page.items[0].instance.id == 1);
  CHECK(page.items[1].instance.id == 3);
  REQUIRE(page.next_after_id.has_value());
  filter.after_id = page.next_after_id;
  page = f.repo.list(filter);
  REQUIRE(page.items.size() == 1);
  CHECK(page.items[0].instance.id == 5);
  CHECK_FALSE(page.next_after_id.has_value());
}
