#pragma once
// Test-side QR checks without an external decoder: reads a PNG (libpng), recovers the QR module
// grid from the pixels (finder pattern → module size → sample each module's centre) and compares
// it with libqrencode's encoding of an expected payload. Since QR encoding is deterministic for a
// given payload, version and level, an exact grid match proves the image encodes that payload.
// decodeWithZbar() also does a real decode with `zbarimg` (Debian package zbar-tools), which the
// tests require.
// Free functions; thread-safe.

#include <optional>
#include <string>
#include <vector>

namespace greenfleet::testing {

struct GrayImage {
  int width = 0;
  int height = 0;
  std::vector<unsigned char> pixels;  // row-major, 0 = black
};

// nullopt when the bytes are not a PNG libpng can read.
std::optional<GrayImage> readPng(const std::string& png_bytes);
// Module grid (true = dark) recovered from the image; empty when no QR shape is found.
std::vector<std::vector<bool>> qrModules(const GrayImage& image);
// True when the PNG is exactly the QR code (level M, 8-bit mode) of `payload`.
bool pngEncodesPayload(const std::string& png_bytes, const std::string& payload);
std::string base64Decode(const std::string& text);
// The payload `tool` decodes ("" when it finds no QR code); throws std::runtime_error when the
// tool is not installed, so a missing decoder fails the test instead of skipping the check.
std::string decodeWithZbar(const std::string& png_bytes, const std::string& tool = "zbarimg");

}  // namespace greenfleet::testing
