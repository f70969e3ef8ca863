#pragma once
// ScanLinkHandlers: public scan links, so that the person holding the phone can link it without
// an API key. Admin routes create (POST /api/v1/instances/{id}/scan-links → the URL, shown once),
// list (live links: id and hint, never the token) and revoke (DELETE …/scan-links/{linkId}).
// Public routes, on the public listener when there is one: the page /s/{token} (embedded from
// ui/link/, strict CSP), its JSON state /s/{token}/state (which starts or extends the instance's
// QR scan session, so the scheduler's limits apply), the QR image /s/{token}/qr.png, the phone
// number pairing /s/{token}/pairing-code and the page's script and style /s/assets/{file}.
// A link ends when it expires, is revoked, or its instance is seen authorized (now, or in the
// event log since the link was made). Unknown links answer 404 and ended ones 410, with one
// neutral text that says nothing else. Every public request is rate-limited per client address
// and per link (429 with Retry-After). Creation, first open and completion are events.
// Thread-safe.

#include <memory>
#include <optional>
#include <string>

#include "api/api_context.hpp"
#include "api/dashboard_handler.hpp"
#include "api/keyed_rate_limiter.hpp"
#include "api/router.hpp"
#include "store/scan_link_repository.hpp"

namespace greenfleet::api {

class PairingCodeHandler;

class ScanLinkHandlers {
 public:
  ScanLinkHandlers(ApiContext& context, std::shared_ptr<PairingCodeHandler> pairing,
                   const EmbeddedFiles& files = embeddedDashboard());

  ApiResponse create(ApiRequest& request);
  ApiResponse list(ApiRequest& request);
  ApiResponse revoke(ApiRequest& request);

  ApiResponse page(ApiRequest& request);
  ApiResponse state(ApiRequest& request);
  ApiResponse qrImage(ApiRequest& request);
  ApiResponse pairingCode(ApiRequest& request);
  ApiResponse asset(ApiRequest& request) const;

 private:
  enum class LinkStatus { unknown, gone, connected, live };
  struct Resolved {
    LinkStatus status = LinkStatus::unknown;
    std::optional<store::ScanLink> link;
  };
  // Rate limits, lookup, and the end of a link whose instance is authorized.
  Resolved resolve(ApiRequest& request);
  // Ends the instance's live links once it is authorized; true when it is.
  bool settleAuthorized(std::int64_t instance_id, const store::ScanLink* link);
  std::string linkUrl(const ApiRequest& request, const std::string& token) const;
  std::string instanceName(std::int64_t id);
  ApiResponse neutralPage(LinkStatus status) const;
  std::string file(const std::string& name) const;
  void record(std::int64_t id, const std::string& what, const store::ScanLink& link,
              const std::string& actor);

  ApiContext& context_;
  std::shared_ptr<PairingCodeHandler> pairing_;
  const EmbeddedFiles& files_;
  KeyedRateLimiter by_client_;
  KeyedRateLimiter by_link_;
};

}  // namespace greenfleet::api
