#pragma once
// The Partner API's getInstances on the wire: its URL and the typed reading of its reply.
// Partner methods report errors as HTTP 200 with {"code":401|404,"description":…} (reference
// §7): such a body is an error here (unauthorized, notFound, or unexpectedStatus for other
// codes), never an empty listing. Pure; thread-safe.

#include <string>
#include <string_view>
#include <vector>

#include "fleet/partner_instance.hpp"
#include "greenapi/call_outcome.hpp"
#include "greenapi/transfer_engine.hpp"

namespace greenfleet::greenapi {

// {partnerApiUrl}/partner/getInstances/{partnerToken}; a trailing '/' on the URL is dropped.
std::string buildPartnerUrl(std::string_view partner_api_url, std::string_view method,
                            std::string_view partner_token);

// An engine request for getInstances (body cap raised: a listing of thousands of instances
// runs to megabytes).
TransferEngine::Request partnerInstancesRequest(std::string_view partner_api_url,
                                                const std::string& partner_token,
                                                TransferEngine::Completion done);

// The listing, or the outcome that says why not. Messages never hold the partner token or an
// instance token.
CallResult<std::vector<fleet::PartnerInstance>> partnerInstancesReply(
    RawReply&& raw, std::string_view partner_token);

}  // namespace greenfleet::greenapi
