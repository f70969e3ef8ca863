#pragma once
// QR code rendering: a payload string → a 256×256 8-bit grayscale PNG (libqrencode + libpng),
// the shape Green API's qr method returns base64-encoded. Pure functions; thread-safe.

#include <string>
#include <string_view>

namespace greenfleet::fleet {

// PNG bytes of the QR code of `payload` (error correction M, 4-module quiet zone). Throws
// std::runtime_error if libqrencode or libpng fail (out of memory, payload too long).
std::string renderQrPng(std::string_view payload);

std::string base64Encode(std::string_view bytes);

}  // namespace greenfleet::fleet
