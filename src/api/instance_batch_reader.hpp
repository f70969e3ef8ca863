#pragma once
// readInstanceBatch: the fast path of a batch registration. Streams the body through Poco's JSON
// parser with a handler that fills plain structs (no Poco::JSON tree: at 10,000 items the tree's
// maps and Vars were most of the request's allocations). It only takes the plain case — an
// array of objects whose known fields have the right JSON types, each at most once — and
// answers nullopt for anything else (a syntax error, an unknown field, a wrong type, a duplicate
// key, too many items), so the caller runs the tree path, which reports the exact error.
// Values are not validated here: instanceFromBatchItem runs the same checks as a tree item.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace greenfleet::api {

// The fields of one batch item as sent (null reads as absent, as in JsonFields).
struct BatchItem {
  std::optional<std::int64_t> id;
  std::optional<std::string> token;
  std::optional<std::string> api_url;
  std::optional<std::string> name;
  std::optional<std::vector<std::string>> tags;
  std::optional<bool> enabled;
};

// nullopt: not the plain case (or more than max_items items); use the tree path.
std::optional<std::vector<BatchItem>> readInstanceBatch(const std::string& body,
                                                        std::size_t max_items);

}  // namespace greenfleet::api
