#include <doctest/doctest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "app/block_pipeline.hpp"

using greenfleet::app::BlockPipeline;

TEST_CASE("BlockPipeline consumes every pushed item once, in order, on another thread") {
  std::vector<std::string> seen;
  std::thread::id consumer;
  {
    BlockPipeline<std::string> pipeline(7, [&](const std::string& s) {
      seen.push_back(s);
      consumer = std::this_thread::get_id();
    });
    for (int i = 0; i < 1000; ++i) pipeline.push("item " + std::to_string(i));
    pipeline.finish();
    REQUIRE(seen.size() == 1000);  // the partial last block too, before finish() returns
  }
  for (int i = 0; i < 1000; ++i)
    CHECK(seen[static_cast<std::size_t>(i)] == "item " + std::to_string(i));
  CHECK(consumer != std::this_thread::get_id());

  std::vector<int> none;
  BlockPipeline<int> idle(4, [&](const int& v) { none.push_back(v); });
  idle.finish();
  CHECK(none.empty());
}

TEST_CASE("BlockPipeline hands the consumer's exception to the producer and stops consuming") {
  int consumed = 0;
  BlockPipeline<int> pipeline(10, [&](const int& v) {
    if (v == 15) throw std::runtime_error("bad row 15");
    ++consumed;
  });
  bool thrown = false;
  try {
    for (int i = 0; i < 1000; ++i) pipeline.push(i);
    pipeline.finish();
  } catch (const std::runtime_error& e) {
    thrown = std::string(e.what()) == "bad row 15";
  }
  CHECK(thrown);
  CHECK(consumed == 15);             // 0..14; the blocks after the failing one were skipped
  CHECK_NOTHROW(pipeline.finish());  // already finished: nothing more to do
}

TEST_CASE("BlockPipeline::pushWith fills slots in place, and the consumer may change its item") {
  struct Item {
    std::string text;
    bool done = false;
  };
  std::vector<std::string> seen;
  BlockPipeline<Item> pipeline(3, [&](Item& item) {
    CHECK_FALSE(item.done);  // a recycled slot comes back refilled, not as the consumer left it
    item.text += " consumed";
    item.done = true;
    seen.push_back(item.text);
  });
  for (int i = 0; i < 10; ++i) {
    pipeline.pushWith([&](Item& slot) {
      slot.text = "item " + std::to_string(i);
      slot.done = false;
    });
  }
  pipeline.finish();
  REQUIRE(seen.size() == 10);
  for (int i = 0; i < 10; ++i)
    CHECK(seen[static_cast<std::size_t>(i)] == "item " + std::to_string(i) + " consumed");
}
