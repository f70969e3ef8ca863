#include "greenapi/partner_reply.hpp"

#include <type_traits>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <fmt/format.h>

#include "greenapi/wire_format.hpp"

namespace greenfleet::greenapi {

namespace {
constexpr std::size_t kMaxListingBytes = 64 * 1024 * 1024;

// A field of an item, type-checked: Poco would convert silently.
template <typename T>
bool read(const Poco::JSON::Object& o, const std::string& name, T& out) {
  if (!o.has(name)) return false;
  const Poco::Dynamic::Var v = o.get(name);
  if constexpr (std::is_same_v<T, bool>) {
    if (!v.isBoolean()) return false;
  } else if constexpr (std::is_same_v<T, std::string>) {
    if (!v.isString()) return false;
  } else {
    if (!v.isInteger()) return false;
  }
  out = v.convert<T>();
  return true;
}

// Fills `out` or returns why the body is not a listing (without echoing the body).
std::string parseListing(const Poco::Dynamic::Var& body, std::vector<fleet::PartnerInstance>& out) {
  const auto arr = body.extract<Poco::JSON::Array::Ptr>();
  out.reserve(arr->size());
  for (std::size_t i = 0; i < arr->size(); ++i) {
    const auto obj = arr->getObject(static_cast<unsigned>(i));
    if (!obj) return fmt::format("item {} is not an object", i);
    fleet::PartnerInstance item;
    if (!read(*obj, "idInstance", item.id)) return fmt::format("item {}: idInstance missing", i);
    if (!read(*obj, "apiTokenInstance", item.token)) {
      return fmt::format("item {} (instance {}): apiTokenInstance missing", i, item.id);
    }
    read(*obj, "name", item.name);
    if (!read(*obj, "typeInstance", item.type)) item.type = fleet::kPolledInstanceType;
    read(*obj, "deleted", item.deleted);
    read(*obj, "isExpired", item.expired);
    out.push_back(std::move(item));
  }
  return {};
}
}  // namespace

std::string buildPartnerUrl(std::string_view partner_api_url, std::string_view method,
                            std::string_view partner_token) {
  while (!partner_api_url.empty() && partner_api_url.back() == '/')
    partner_api_url.remove_suffix(1);
  return fmt::format("{}/partner/{}/{}", partner_api_url, method, partner_token);
}

TransferEngine::Request partnerInstancesRequest(std::string_view partner_api_url,
                                                const std::string& partner_token,
                                                TransferEngine::Completion done) {
  TransferEngine::Request r;
  r.credentials.apiUrl = std::string(partner_api_url);
  r.credentials.apiTokenInstance = partner_token;
  r.method = "getInstances";
  r.partner = true;
  r.maxBodyBytes = kMaxListingBytes;
  r.done = std::move(done);
  return r;
}

CallResult<std::vector<fleet::PartnerInstance>> partnerInstancesReply(
    RawReply&& raw, std::string_view partner_token) {
  CallResult<std::vector<fleet::PartnerInstance>> result;
  result.outcome = std::move(raw.outcome);
  if (!result.outcome.ok()) return result;
  Poco::Dynamic::Var body;
  try {
    body = Poco::JSON::Parser().parse(raw.body);
  } catch (const Poco::Exception&) {
    result.outcome.kind = OutcomeKind::malformedBody;
    result.outcome.message = "partner API answer is not JSON";
    return result;
  }
  if (body.type() == typeid(Poco::JSON::Object::Ptr)) {
    const auto obj = body.extract<Poco::JSON::Object::Ptr>();
    Poco::Int64 code = 0;
    if (read(*obj, "code", code)) {
      std::string description;
      read(*obj, "description", description);
      result.outcome.kind = code == 401   ? OutcomeKind::unauthorized
                            : code == 404 ? OutcomeKind::notFound
                                          : OutcomeKind::unexpectedStatus;
      result.outcome.message =
          scrubSecrets(fmt::format("partner API error {}: {}", code, description), partner_token);
      return result;
    }
  }
  if (body.type() != typeid(Poco::JSON::Array::Ptr)) {
    result.outcome.kind = OutcomeKind::malformedBody;
    result.outcome.message = "partner API answer is neither a list of instances nor an error";
    return result;
  }
  std::vector<fleet::PartnerInstance> items;
  if (auto problem = parseListing(body, items); !problem.empty()) {
    result.outcome.kind = OutcomeKind::malformedBody;
    result.outcome.message = "partner API listing: " + problem;
    return result;
  }
  result.value = std::move(items);
  return result;
}

}  // namespace greenfleet::greenapi
