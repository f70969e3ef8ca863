#include "fleet/qr_png.hpp"

#include <memory>
#include <sstream>
#include <stdexcept>
#include <vector>

#include <Poco/Base64Encoder.h>
#include <png.h>
#include <qrencode.h>

namespace greenfleet::fleet {

namespace {

constexpr int kImageSize = 256;
constexpr int kQuietModules = 4;

void appendToString(png_structp png, png_bytep data, png_size_t length) {
  auto* out = static_cast<std::string*>(png_get_io_ptr(png));
  out->append(reinterpret_cast<const char*>(data), length);
}

void noFlush(png_structp) {}

// libpng reports errors by longjmp, so the jump target lives in a frame that holds only
// pointers (no object with a destructor, no local a longjmp could clobber). False on error.
bool writeGrayPng(png_structp png, png_infop info, std::string* out, png_bytepp rows,
                  png_uint_32 size) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_set_write_fn(png, out, appendToString, noFlush);
  png_set_IHDR(png, info, size, size, 8, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_set_rows(png, info, rows);
  png_write_png(png, info, PNG_TRANSFORM_IDENTITY, nullptr);
  return true;
}

}  // namespace

std::string renderQrPng(std::string_view payload) {
  const std::string text(payload);
  std::unique_ptr<QRcode, decltype(&QRcode_free)> qr(
      QRcode_encodeString(text.c_str(), 0, QR_ECLEVEL_M, QR_MODE_8, 1), &QRcode_free);
  if (!qr) throw std::runtime_error("QRcode_encodeString failed");
  const int modules = qr->width;
  const int scale = std::max(1, kImageSize / (modules + 2 * kQuietModules));
  const int size = std::max(kImageSize, (modules + 2 * kQuietModules) * scale);
  const int offset = (size - modules * scale) / 2;

  std::vector<png_byte> pixels(static_cast<std::size_t>(size) * static_cast<std::size_t>(size),
                               255);
  for (int y = 0; y < modules; ++y) {
    for (int x = 0; x < modules; ++x) {
      if ((qr->data[y * modules + x] & 1) == 0) continue;
      for (int dy = 0; dy < scale; ++dy) {
        png_byte* row = &pixels[static_cast<std::size_t>(offset + y * scale + dy) * size];
        for (int dx = 0; dx < scale; ++dx) row[offset + x * scale + dx] = 0;
      }
    }
  }

  std::string out;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  if (png == nullptr) throw std::runtime_error("png_create_write_struct failed");
  png_infop info = png_create_info_struct(png);
  if (info == nullptr) {
    png_destroy_write_struct(&png, nullptr);
    throw std::runtime_error("png_create_info_struct failed");
  }
  std::vector<png_bytep> rows(static_cast<std::size_t>(size));
  for (int y = 0; y < size; ++y) rows[y] = &pixels[static_cast<std::size_t>(y) * size];
  const bool written = writeGrayPng(png, info, &out, rows.data(), static_cast<png_uint_32>(size));
  png_destroy_write_struct(&png, &info);
  if (!written) throw std::runtime_error("libpng failed to write the QR image");
  return out;
}

std::string base64Encode(std::string_view bytes) {
  std::ostringstream s;
  Poco::Base64Encoder enc(s);
  enc.rdbuf()->setLineLength(0);
  enc.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  enc.close();
  return s.str();
}

}  // namespace greenfleet::fleet
