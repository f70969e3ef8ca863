#include "fleet/qr_kind.hpp"

namespace greenfleet::fleet {

QrKind classifyQrType(std::string_view type) {
  if (type == "qrCode") return QrKind::qrCode;
  if (type == "alreadyLogged") return QrKind::alreadyLogged;
  if (type == "error") return QrKind::error;
  // The WhatsApp spelling of the passkey type is unconfirmed (green-api.md §12); accept both seen.
  if (type == "passkeyRequired" || type == "PassKeyRequire") return QrKind::passkeyRequired;
  return QrKind::other;
}

std::string_view qrKindName(QrKind kind) {
  switch (kind) {
    case QrKind::qrCode:
      return "qrCode";
    case QrKind::alreadyLogged:
      return "alreadyLogged";
    case QrKind::error:
      return "error";
    case QrKind::passkeyRequired:
      return "passkeyRequired";
    case QrKind::other:
      return "other";
  }
  return "other";
}

}  // namespace greenfleet::fleet
