#include "api/meta_handler.hpp"

#include <Poco/JSON/Array.h>

#include "fleet/attention.hpp"
#include "fleet/instance_state.hpp"

namespace greenfleet::api {

ApiResponse metaResponse(ApiRequest& request) {
  request.allowQuery({});
  Poco::JSON::Array attention;
  for (std::size_t a = 0; a < fleet::kAttentionCount; ++a) {
    attention.add(std::string(fleet::attentionName(static_cast<fleet::Attention>(a))));
  }
  // Every StateKind but `other` (declared last): a value greenfleet does not know has no name.
  Poco::JSON::Array states;
  for (int k = 0; k < static_cast<int>(fleet::StateKind::other); ++k) {
    states.add(std::string(fleet::stateKindName(static_cast<fleet::StateKind>(k))));
  }
  auto o = orderedObject();
  o->set("attention", attention);
  o->set("states", states);
  return ApiResponse::json(200, *o);
}

}  // namespace greenfleet::api
