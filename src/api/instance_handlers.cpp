#include "api/instance_handlers.hpp"

#include <charconv>
#include <set>

#include <Poco/JSON/Array.h>
#include <Poco/String.h>
#include <Poco/URI.h>
#include <fmt/format.h>

#include "api/api_error.hpp"
#include "api/instance_batch_reader.hpp"
#include "api/instance_json.hpp"
#include "api/json_fields.hpp"
#include "fleet/input_limits.hpp"
#include "fleet/stored_attention.hpp"
#include "store/webhook_repository.hpp"

namespace greenfleet::api {

namespace {
constexpr std::string_view kCursorPrefix = "i";
std::optional<std::string> nonEmptyQuery(const ApiRequest& request, const char* name,
                                         std::size_t max_bytes) {
  auto value = request.queryText(name, max_bytes);
  if (value && value->empty()) {
    throw ApiError::unprocessable(fmt::format("{} must not be empty", name), name);
  }
  return value;
}
}  // namespace

std::string encodeCursor(std::int64_t after_id) {
  return std::string(kCursorPrefix) + std::to_string(after_id);
}

std::optional<std::int64_t> decodeCursor(const std::string& cursor) {
  if (cursor.size() < 2 || cursor.compare(0, kCursorPrefix.size(), kCursorPrefix) != 0) {
    return std::nullopt;
  }
  std::int64_t id = 0;
  const char* begin = cursor.data() + kCursorPrefix.size();
  const char* end = cursor.data() + cursor.size();
  const auto [ptr, ec] = std::from_chars(begin, end, id);
  if (ec != std::errc() || ptr != end || id < 0) return std::nullopt;
  return id;
}

namespace {
// A repeated id within one batch: 409 naming the second occurrence.
void checkUnique(std::set<std::int64_t>& seen, std::int64_t id, std::size_t index) {
  if (!seen.insert(id).second) {
    throw ApiError(ErrorKind::conflict, "conflict",
                   fmt::format("instance {} appears twice in the batch", id),
                   fmt::format("[{}].id", index));
  }
}
}  // namespace

std::vector<fleet::RegisteredInstance> InstanceHandlers::plainBatch(const std::string& body) {
  // Integers beyond 64 bits are rejected before any parser sees them, as parseJsonBody does.
  rejectOutOfRangeIntegers(body);
  auto read = readInstanceBatch(body, kMaxBatch);
  if (!read) return {};
  std::vector<fleet::RegisteredInstance> items;
  items.reserve(read->size());
  std::set<std::int64_t> seen;
  ApiUrlAdmission admission(context_.allowed_hosts);
  for (std::size_t i = 0; i < read->size(); ++i) {
    items.push_back(instanceFromBatchItem((*read)[i], i, context_.default_api_url, admission));
    checkUnique(seen, items.back().id, i);
  }
  return items;
}

ApiResponse InstanceHandlers::create(ApiRequest& request) {
  request.allowQuery({});
  // The plain batch (every item an object of known, well-typed fields) is read without a Poco
  // tree; anything else takes the tree path below, which reports the exact error.
  std::vector<fleet::RegisteredInstance> items = plainBatch(request.body);
  bool batch = !items.empty();
  if (items.empty()) {
    const Poco::Dynamic::Var body = parseJsonBody(request.body);
    batch = body.type() == typeid(Poco::JSON::Array::Ptr);
    if (batch) {
      const auto arr = body.extract<Poco::JSON::Array::Ptr>();
      if (arr->size() == 0) throw ApiError::unprocessable("the array of instances is empty", "[]");
      if (arr->size() > kMaxBatch) {
        throw ApiError::unprocessable(fmt::format("at most {} instances per request", kMaxBatch),
                                      "[]");
      }
      std::set<std::int64_t> seen;
      for (std::size_t i = 0; i < arr->size(); ++i) {
        const std::string prefix = fmt::format("[{}].", i);
        items.push_back(instanceFromJson(arr->get(static_cast<unsigned>(i)), prefix,
                                         context_.default_api_url, context_.allowed_hosts));
        checkUnique(seen, items.back().id, i);
      }
    } else {
      items.push_back(instanceFromJson(body, "", context_.default_api_url, context_.allowed_hosts));
    }
  }
  auto created = context_.instances.create(std::move(items));
  if (!created) {
    const auto& dup = created.error();
    throw ApiError(ErrorKind::conflict, "conflict",
                   fmt::format("instance {} is already registered", dup.id),
                   batch ? fmt::format("[{}].id", dup.index) : std::string("id"));
  }
  {
    std::vector<const fleet::RegisteredInstance*> instances;
    instances.reserve(created.value().size());
    for (const auto& row : created.value()) instances.push_back(&row.instance);
    context_.observer.instancesUpserted(instances);
  }
  if (!batch) {
    ApiResponse r = ApiResponse::json(201, *instanceToJson(created.value().front()));
    r.headers.emplace_back(
        "Location", fmt::format("/api/v1/instances/{}", created.value().front().instance.id));
    return r;
  }
  // {"items":[...],"created":n} as the Poco tree would print it, written directly.
  const auto& rows = created.value();
  ApiResponse r;
  r.status = 201;
  r.body.reserve(64 + rows.size() * 400);
  r.body += "{\"items\":[";
  for (std::size_t k = 0; k < rows.size(); ++k) {
    if (k > 0) r.body += ',';
    appendInstanceJson(r.body, rows[k]);
  }
  r.body += "],\"created\":" + std::to_string(rows.size()) + "}";
  return r;
}

ApiResponse InstanceHandlers::list(ApiRequest& request) {
  request.allowQuery({"state", "attention", "tag", "q", "limit", "cursor"});
  store::InstanceFilter filter;
  filter.limit = static_cast<std::size_t>(request.queryInt("limit", 100, 1, 1000));
  filter.state = nonEmptyQuery(request, "state", fleet::kMaxStateLength);
  filter.tag = nonEmptyQuery(request, "tag", fleet::kMaxTagLength);
  filter.name_contains = nonEmptyQuery(request, "q", fleet::kMaxNameLength);
  filter.attention = nonEmptyQuery(request, "attention", fleet::kMaxTypeLength);
  if (filter.attention && !fleet::isStoredAttentionName(*filter.attention)) {
    throw ApiError::unprocessable(fmt::format("attention '{}' is not one of {}", *filter.attention,
                                              fleet::storedAttentionNames()),
                                  "attention");
  }
  if (const auto cursor = nonEmptyQuery(request, "cursor", fleet::kMaxCursorLength)) {
    filter.after_id = decodeCursor(*cursor);
    if (!filter.after_id) {
      throw ApiError::badRequest("invalid_cursor",
                                 "cursor is not one this server issued; use nextCursor as given",
                                 "cursor");
    }
  }
  auto page = context_.instances.list(filter);
  context_.webhooks.fillStatus(page.items);
  Poco::JSON::Array::Ptr items = new Poco::JSON::Array;
  for (const auto& row : page.items) items->add(instanceToJson(row));
  auto root = orderedObject();
  root->set("items", items);
  root->set("nextCursor", page.next_after_id ? Poco::Dynamic::Var(encodeCursor(*page.next_after_id))
                                             : Poco::Dynamic::Var());
  root->set("total", static_cast<Poco::Int64>(page.total));
  return ApiResponse::json(200, *root);
}

ApiResponse InstanceHandlers::get(ApiRequest& request) {
  request.allowQuery({});
  const auto id = request.instanceId();
  auto row = context_.instances.get(id);
  if (!row) throw ApiError::notFound(fmt::format("no instance {}", id));
  context_.webhooks.fillStatus(*row);
  const auto anchor = context_.poller.anchor();
  if (const auto live = context_.poller.view(id)) {
    return ApiResponse::json(200, *instanceToJson(*row, &*live, &anchor));
  }
  return ApiResponse::json(200, *instanceToJson(*row));
}

namespace {
// Scheme, host and port: where a request (and the token in its path) would go.
bool sameOrigin(const std::string& a, const std::string& b) {
  try {
    const Poco::URI ua(a), ub(b);
    return Poco::icompare(ua.getScheme(), ub.getScheme()) == 0 &&
           Poco::icompare(ua.getHost(), ub.getHost()) == 0 && ua.getPort() == ub.getPort();
  } catch (const Poco::Exception&) {
    return false;
  }
}
}  // namespace

ApiResponse InstanceHandlers::update(ApiRequest& request) {
  request.allowQuery({});
  const auto id = request.instanceId();
  const auto patch = instancePatchFromJson(parseJsonBody(request.body), context_.allowed_hosts);
  if (patch.api_url && !patch.token) {
    // The stored token would follow the instance to the new host: only its owner may send it
    // there, by sending it along.
    const auto current = context_.instances.get(id);
    if (!current) throw ApiError::notFound(fmt::format("no instance {}", id));
    if (!sameOrigin(current->instance.api_url, *patch.api_url)) {
      throw ApiError::unprocessable(
          "changing the host of apiUrl needs the instance's token in the same request", "apiUrl");
    }
  }
  auto row = context_.instances.update(id, patch);
  if (!row) throw ApiError::notFound(fmt::format("no instance {}", id));
  context_.webhooks.fillStatus(*row);
  context_.observer.instanceUpserted(row->instance);
  return ApiResponse::json(200, *instanceToJson(*row));
}

ApiResponse InstanceHandlers::remove(ApiRequest& request) {
  request.allowQuery({});
  const auto id = request.instanceId();
  if (!context_.instances.remove(id)) throw ApiError::notFound(fmt::format("no instance {}", id));
  context_.observer.instanceRemoved(id);
  return ApiResponse::noContent();
}

}  // namespace greenfleet::api
