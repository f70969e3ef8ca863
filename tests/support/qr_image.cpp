#include "support/qr_image.hpp"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>

#include <Poco/Base64Decoder.h>
#include <png.h>
#include <qrencode.h>

#include "support/temp_dir.hpp"

namespace greenfleet::testing {

namespace {

struct ReadCursor {
  const std::string* bytes;
  std::size_t offset = 0;
};

void readFromString(png_structp png, png_bytep out, png_size_t length) {
  auto* cur = static_cast<ReadCursor*>(png_get_io_ptr(png));
  if (cur->offset + length > cur->bytes->size()) png_error(png, "truncated");
  std::copy_n(cur->bytes->data() + cur->offset, length, reinterpret_cast<char*>(out));
  cur->offset += length;
}

}  // namespace

std::optional<GrayImage> readPng(const std::string& png_bytes) {
  if (png_bytes.size() < 8 ||
      png_sig_cmp(reinterpret_cast<png_const_bytep>(png_bytes.data()), 0, 8) != 0) {
    return std::nullopt;
  }
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png_create_info_struct(png);
  ReadCursor cursor{&png_bytes, 0};
  GrayImage* image = new GrayImage;
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_read_struct(&png, &info, nullptr);
    delete image;
    return std::nullopt;
  }
  png_set_read_fn(png, &cursor, readFromString);
  png_read_info(png, info);
  png_set_strip_16(png);
  png_set_expand(png);
  if (png_get_color_type(png, info) & PNG_COLOR_MASK_COLOR) png_set_rgb_to_gray(png, 1, -1, -1);
  png_set_strip_alpha(png);
  png_read_update_info(png, info);
  image->width = static_cast<int>(png_get_image_width(png, info));
  image->height = static_cast<int>(png_get_image_height(png, info));
  image->pixels.resize(static_cast<std::size_t>(image->width) * image->height);
  for (int y = 0; y < image->height; ++y) {
    png_read_row(png, image->pixels.data() + static_cast<std::size_t>(y) * image->width, nullptr);
  }
  png_read_end(png, nullptr);
  png_destroy_read_struct(&png, &info, nullptr);
  GrayImage out = std::move(*image);
  delete image;
  return out;
}

std::vector<std::vector<bool>> qrModules(const GrayImage& img) {
  auto dark = [&](int x, int y) {
    return img.pixels[static_cast<std::size_t>(y) * img.width + x] < 128;
  };
  int top = -1, left = img.width, right = -1, bottom = -1;
  for (int y = 0; y < img.height; ++y) {
    for (int x = 0; x < img.width; ++x) {
      if (!dark(x, y)) continue;
      if (top < 0) top = y;
      bottom = y;
      left = std::min(left, x);
      right = std::max(right, x);
    }
  }
  if (top < 0) return {};
  // The top-left finder pattern starts with a 7-module dark run.
  int run = 0;
  while (left + run <= right && dark(left + run, top)) ++run;
  if (run < 7 || run % 7 != 0) return {};
  const int module = run / 7;
  const int size = (right - left + 1) / module;
  if (size < 21 || (bottom - top + 1) / module != size) return {};
  std::vector<std::vector<bool>> grid(static_cast<std::size_t>(size), std::vector<bool>(size));
  for (int y = 0; y < size; ++y) {
    for (int x = 0; x < size; ++x) {
      grid[y][x] = dark(left + x * module + module / 2, top + y * module + module / 2);
    }
  }
  return grid;
}

bool pngEncodesPayload(const std::string& png_bytes, const std::string& payload) {
  const auto image = readPng(png_bytes);
  if (!image) return false;
  const auto grid = qrModules(*image);
  std::unique_ptr<QRcode, decltype(&QRcode_free)> qr(
      QRcode_encodeString(payload.c_str(), 0, QR_ECLEVEL_M, QR_MODE_8, 1), &QRcode_free);
  if (!qr || grid.size() != static_cast<std::size_t>(qr->width)) return false;
  for (int y = 0; y < qr->width; ++y) {
    for (int x = 0; x < qr->width; ++x) {
      if (grid[y][x] != ((qr->data[y * qr->width + x] & 1) != 0)) return false;
    }
  }
  return true;
}

std::string base64Decode(const std::string& text) {
  std::istringstream in(text);
  Poco::Base64Decoder dec(in);
  std::ostringstream out;
  out << dec.rdbuf();
  return out.str();
}

std::string decodeWithZbar(const std::string& png_bytes, const std::string& tool) {
  // A missing decoder must fail the test, not skip the check: scripts/test installs zbar-tools.
  if (std::system(("command -v '" + tool + "' >/dev/null 2>&1").c_str()) != 0) {
    throw std::runtime_error(tool + " not found: install zbar-tools (scripts/test does)");
  }
  TempDir dir;
  const std::string path = dir.file("qr.png");
  std::ofstream(path, std::ios::binary) << png_bytes;
  const std::string cmd = "'" + tool + "' --quiet --raw " + path + " 2>/dev/null";
  std::unique_ptr<FILE, decltype(&pclose)> pipe(popen(cmd.c_str(), "r"), &pclose);
  if (!pipe) throw std::runtime_error("cannot run " + tool);
  std::string out;
  char buf[256];
  while (std::fgets(buf, sizeof buf, pipe.get()) != nullptr) out += buf;
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

}  // namespace greenfleet::testing
