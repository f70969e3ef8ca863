#pragma once
// ScanHandlers: what operators use to get accounts re-linked — GET /api/v1/needs-scan (from the
// running scheduler, never stale by a batch), GET /api/v1/instances/{id}/qr (JSON or PNG; starts
// or extends a scan session) and POST /api/v1/instances/{id}/actions/{action}
// (poll|logout|reboot|scan-session, rate-limited like every upstream call). Thread-safe.

#include "api/api_context.hpp"
#include "api/router.hpp"
#include "api/snapshot_body_cache.hpp"

namespace greenfleet::api {

// The PNG bytes of a qrCode answer (Green API sends them base64-encoded).
std::string qrImageBytes(const scheduler::QrSnapshot& qr);

class ScanHandlers {
 public:
  explicit ScanHandlers(ApiContext& context) : context_(context) {}

  ApiResponse needsScan(ApiRequest& request);
  // The needs-scan body already rendered for the current snapshot, without waiting.
  std::optional<ApiResponse> needsScanFast(ApiRequest& request);
  ApiResponse qr(ApiRequest& request);
  ApiResponse action(ApiRequest& request);

 private:
  ApiContext& context_;
  SnapshotBodyCache bodies_{context_.clock};  // needs-scan answers per snapshot and query
};

}  // namespace greenfleet::api
