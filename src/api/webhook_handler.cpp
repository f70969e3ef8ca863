#include "api/webhook_handler.hpp"

#include "api/api_error.hpp"
#include "api/json_fields.hpp"
#include "base/log.hpp"
#include "fleet/input_limits.hpp"
#include "store/webhook_repository.hpp"

namespace greenfleet::api {

namespace {
const base::Log kLog{"webhook"};

// Comparison time independent of where the strings differ.
bool sameSecret(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

ApiResponse accepted(const char* what) {
  auto o = orderedObject();
  o->set("status", std::string(what));
  return ApiResponse::json(200, *o);
}
}  // namespace

// The idInstance a notification names, read leniently (nullopt for anything else): only to find
// the instance's own token; handle() reads the body strictly once it is authenticated.
static std::optional<std::int64_t> namedInstance(const std::string& body) {
  try {
    const auto o = parseJsonBody(body).extract<Poco::JSON::Object::Ptr>();
    const auto data = o->getObject("instanceData");
    if (!data || !data->has("idInstance") || !data->get("idInstance").isInteger()) {
      return std::nullopt;
    }
    const auto id = data->getValue<Poco::Int64>("idInstance");
    return id > 0 ? std::optional<std::int64_t>(id) : std::nullopt;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

void WebhookHandler::authenticate(const ApiRequest& request) {
  // Green API sends webhookUrlToken in Authorization; official receivers accept it with
  // "Bearer " or "Basic " in front, or bare (green-api.md section 8).
  std::string token = request.header("authorization");
  for (const char* scheme : {"Bearer ", "bearer ", "Basic ", "basic "}) {
    if (token.rfind(scheme, 0) == 0) {
      token = token.substr(std::string(scheme).size());
      break;
    }
  }
  const bool global = !context_.webhook_token.empty();
  if (global && sameSecret(token, context_.webhook_token)) return;
  // An instance's own token (set by configure-webhook) vouches for notifications about that
  // instance only.
  std::optional<std::string> own;
  try {
    if (const auto id = namedInstance(request.body)) own = context_.webhooks.token(*id);
  } catch (const store::SecretsError& e) {
    kLog.warn("event=webhook_token_unreadable error=\"{}\"", e.what());
  }
  if (own && !token.empty() && sameSecret(token, *own)) return;
  if (!global && !own) {
    throw ApiError(ErrorKind::forbidden, "webhooks_disabled",
                   "webhooks are disabled: set webhooks.token and use it as the instance's "
                   "webhookUrlToken, or set the instance up with configure-webhook");
  }
  ++counters_.rejected;
  ApiError e(ErrorKind::unauthorized, "unauthorized", "missing or wrong webhook token");
  e.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"greenfleet-webhooks\"");
  throw e;
}

ApiResponse WebhookHandler::handle(ApiRequest& request) {
  request.allowQuery({});
  authenticate(request);
  const auto body = parseJsonBody(request.body);
  if (body.type() != typeid(Poco::JSON::Object::Ptr)) {
    throw ApiError::badRequest("invalid_type", "a notification is a JSON object");
  }
  const auto object = body.extract<Poco::JSON::Object::Ptr>();
  const auto type_var = object->get("typeWebhook");
  if (!type_var.isString()) {
    throw ApiError::badRequest("missing_field", "typeWebhook is required", "typeWebhook");
  }
  const std::string type = type_var.extract<std::string>();
  requireMaxLength(type, fleet::kMaxTypeLength, "typeWebhook");
  if (type != "stateInstanceChanged") {
    ++counters_.other_types;
    return accepted("ignored");
  }
  const auto data_var = object->get("instanceData");
  if (data_var.type() != typeid(Poco::JSON::Object::Ptr)) {
    throw ApiError::badRequest("missing_field", "instanceData is required", "instanceData");
  }
  JsonFields data(data_var, "instanceData.");
  const auto id = data.optInt64("idInstance");
  if (!id || *id <= 0) {
    throw ApiError::badRequest("missing_field", "instanceData.idInstance is required",
                               "instanceData.idInstance");
  }
  // Read only to be checked: Green API's wid is "<phone>@c.us"; it is not stored.
  data.optString("wid", fleet::kMaxWidLength);
  const auto state_var = object->get("stateInstance");
  std::optional<std::string> state;
  if (state_var.isString()) {
    state = state_var.extract<std::string>();
    // Green API's states are short words; anything longer is not one, and is not stored.
    requireMaxLength(*state, fleet::kMaxStateLength, "stateInstance");
  } else if (!state_var.isEmpty()) {
    throw ApiError::badRequest("invalid_type", "stateInstance must be a string", "stateInstance");
  }
  if (!context_.poller.applyWebhookState(*id, state)) {
    ++counters_.unknown_instances;
    kLog.info("event=webhook_unknown_instance id={}", *id);
    return accepted("unknown_instance");
  }
  ++counters_.state_changes;
  // Trust, then verify: the webhook moves the instance now, a probe confirms it.
  context_.poller.requestSweepProbe(*id);
  kLog.info("event=webhook_state id={} state={}", *id, state.value_or("null"));
  return accepted("applied");
}

}  // namespace greenfleet::api
