#pragma once
// The JSON shape of an instance, both ways: fromJson() validates a create or patch body (every
// field checked for presence, type and range, errors naming the field), toJson() renders a
// stored row — with tokenHint, never the token.

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <Poco/Dynamic/Var.h>
#include <Poco/JSON/Object.h>

#include "api/instance_batch_reader.hpp"
#include "base/time_anchor.hpp"
#include "fleet/registered_instance.hpp"
#include "greenapi/upstream_host_policy.hpp"
#include "scheduler/fleet_poller.hpp"
#include "store/instance_repository.hpp"

namespace greenfleet::api {

// `prefix` names the item in a batch ("[3]."), empty for a single object. An apiUrl outside
// `allowed_hosts` is a 422 on apiUrl; a stored apiUrl is always the normalised one.
fleet::RegisteredInstance instanceFromJson(const Poco::Dynamic::Var& json,
                                           const std::string& prefix,
                                           const std::string& default_api_url,
                                           const greenapi::UpstreamHostPolicy& allowed_hosts);
// The apiUrl check over a batch, whose items mostly share one apiUrl: the same input is parsed,
// normalised and checked against upstream.allowed_hosts once (checkedApiUrl).
class ApiUrlAdmission {
 public:
  explicit ApiUrlAdmission(const greenapi::UpstreamHostPolicy& hosts) : hosts_(hosts) {}
  const std::string& admit(const std::string& url, const std::string& field);

 private:
  const greenapi::UpstreamHostPolicy& hosts_;
  std::optional<std::pair<std::string, std::string>> last_;  // input → normalised
};

// The same checks and errors for one item of the streaming batch reader (field names "[i].id");
// consumes the item's strings.
fleet::RegisteredInstance instanceFromBatchItem(BatchItem& item, std::size_t index,
                                                const std::string& default_api_url,
                                                ApiUrlAdmission& admission);
store::InstancePatch instancePatchFromJson(const Poco::Dynamic::Var& json,
                                           const greenapi::UpstreamHostPolicy& allowed_hosts);
// With `live`, the status fields come from the running scheduler (fresher than the stored row,
// which lags by up to one status batch).
Poco::JSON::Object::Ptr instanceToJson(const store::InstanceRow& row,
                                       const scheduler::InstanceView* live = nullptr,
                                       const base::TimeAnchor* anchor = nullptr);
// Appends exactly the text toJsonText(*instanceToJson(row)) gives, without building the Poco
// object tree (a 10,000-row import answer spent more time there than in SQLite).
void appendInstanceJson(std::string& out, const store::InstanceRow& row);
// Tags as every registry write takes them: validated (errors name `field`[i]), duplicates folded.
std::vector<std::string> checkedTags(const std::vector<std::string>& tags,
                                     const std::string& field);
// An apiUrl `allowed_hosts` admits, normalised; otherwise a 422 naming `field`.
std::string checkedApiUrl(const std::string& url, const std::string& field,
                          const greenapi::UpstreamHostPolicy& allowed_hosts);
// RFC 3339 of a steady time, through the anchor.
std::string wallText(base::SteadyTime t, const base::TimeAnchor& anchor);

}  // namespace greenfleet::api
