#pragma once
// QrKind: the `type` of a Green API `qr` answer (green-api.md §2). Unknown types classify as
// other; the caller keeps the raw text. Value type.

#include <string_view>

namespace greenfleet::fleet {

enum class QrKind {
  qrCode,           // message = base64 PNG; the instance is waiting for a scan
  alreadyLogged,    // authorized already: ends a scan session
  error,            // e.g. "Instance has auth. You need to make log out"
  passkeyRequired,  // release 5.44.37.12; spelling unconfirmed
  other,
};

// What a passkeyRequired answer asks of the phone holder, for the API and alerts.
inline constexpr std::string_view kPasskeyRequiredMessage =
    "the account asks for a passkey on the phone: open WhatsApp there and confirm the link with "
    "the passkey (there is no QR to scan)";

QrKind classifyQrType(std::string_view type);
std::string_view qrKindName(QrKind kind);

}  // namespace greenfleet::fleet
