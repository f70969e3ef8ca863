#include "api/instance_batch_reader.hpp"

#include <exception>
#include <limits>

#include <Poco/Exception.h>
#include <Poco/JSON/Handler.h>
#include <Poco/JSON/Parser.h>

namespace greenfleet::api {

namespace {

// Thrown by the handler to stop at the first thing outside the plain case. A std::exception, so
// Poco's parser closes its stream on the way out.
struct NotPlain : std::exception {};

enum class Field { none, id, token, api_url, name, tags, enabled };

Field fieldOf(const std::string& key) {
  if (key == "id") return Field::id;
  if (key == "token") return Field::token;
  if (key == "apiUrl") return Field::api_url;
  if (key == "name") return Field::name;
  if (key == "tags") return Field::tags;
  if (key == "enabled") return Field::enabled;
  throw NotPlain{};  // unknown field: the tree path names it
}

class BatchHandler final : public Poco::JSON::Handler {
 public:
  explicit BatchHandler(std::size_t max_items) : max_items_(max_items) {}

  std::vector<BatchItem> take() { return std::move(items_); }
  bool complete() const { return done_; }

  void reset() override {}
  void startArray() override {
    if (depth_ == 0) {
      depth_ = 1;
      items_.reserve(std::min<std::size_t>(max_items_, 16384));
    } else if (depth_ == 2 && field_ == Field::tags) {
      depth_ = 3;
      item().tags.emplace();
    } else {
      throw NotPlain{};
    }
  }
  void endArray() override {
    if (depth_ == 3) {
      depth_ = 2;
      field_ = Field::none;
    } else if (depth_ == 1) {
      depth_ = 0;
      done_ = true;
    } else {
      throw NotPlain{};
    }
  }
  void startObject() override {
    if (depth_ != 1 || items_.size() >= max_items_) throw NotPlain{};
    depth_ = 2;
    seen_ = 0;
    items_.emplace_back();
  }
  void endObject() override {
    if (depth_ != 2) throw NotPlain{};
    depth_ = 1;
  }
  void key(const std::string& k) override {
    if (depth_ != 2) throw NotPlain{};
    field_ = fieldOf(k);
    const unsigned bit = 1u << static_cast<unsigned>(field_);
    if (seen_ & bit) throw NotPlain{};  // duplicate key: the tree path's 400 duplicate_key
    seen_ |= bit;
  }
  void null() override {
    if (depth_ != 2) throw NotPlain{};  // null as an item or a tag
    field_ = Field::none;
  }
  void value(int v) override { integer(v); }
  void value(unsigned v) override { integer(v); }
  void value(Poco::Int64 v) override { integer(v); }
  void value(Poco::UInt64 v) override {
    if (v > static_cast<Poco::UInt64>(std::numeric_limits<std::int64_t>::max())) throw NotPlain{};
    integer(static_cast<std::int64_t>(v));
  }
  void value(const std::string& v) override {
    if (depth_ == 3) {
      item().tags->push_back(v);
      return;
    }
    if (depth_ != 2) throw NotPlain{};
    switch (field_) {
      case Field::token:
        item().token = v;
        break;
      case Field::api_url:
        item().api_url = v;
        break;
      case Field::name:
        item().name = v;
        break;
      default:
        throw NotPlain{};
    }
    field_ = Field::none;
  }
  void value(double) override { throw NotPlain{}; }
  void value(bool b) override {
    if (depth_ != 2 || field_ != Field::enabled) throw NotPlain{};
    item().enabled = b;
    field_ = Field::none;
  }

 private:
  BatchItem& item() { return items_.back(); }
  void integer(std::int64_t v) {
    if (depth_ != 2 || field_ != Field::id) throw NotPlain{};
    item().id = v;
    field_ = Field::none;
  }

  std::size_t max_items_;
  std::vector<BatchItem> items_;
  int depth_ = 0;  // 1 in the array, 2 in an item, 3 in its tags
  Field field_ = Field::none;
  unsigned seen_ = 0;  // bits of the current item's fields
  bool done_ = false;
};

}  // namespace

std::optional<std::vector<BatchItem>> readInstanceBatch(const std::string& body,
                                                        std::size_t max_items) {
  const auto first = body.find_first_not_of(" \t\r\n");
  if (first == std::string::npos || body[first] != '[') return std::nullopt;
  Poco::SharedPtr<BatchHandler> handler = new BatchHandler(max_items);
  try {
    Poco::JSON::Parser parser(handler);
    parser.parse(body);
  } catch (const NotPlain&) {
    return std::nullopt;
  } catch (const Poco::Exception&) {
    return std::nullopt;  // malformed: the tree path says where
  }
  if (!handler->complete()) return std::nullopt;
  auto items = handler->take();
  if (items.empty()) return std::nullopt;
  return items;
}

}  // namespace greenfleet::api
